/*
 * The bench works: a quick run in a child process (on the packages'
 * sources, writing to a temporary directory so the committed results stay
 * untouched) writes well-formed latest.json, latest.md and latest.svg with
 * every workload x allocator cell. It never checks how fast anything is.
 */

import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BenchResults } from "../src/report.js";

const APP = fileURLToPath(new URL("..", import.meta.url));
const run = promisify(execFile);

/** `bench --quick` with `args`, in a child process, on the packages' sources. */
function quickBench(args: string[]) {
  return run(
    process.execPath,
    [
      "--expose-gc",
      "--conditions=@mmgr/source",
      "--import",
      "tsx",
      "src/main.ts",
      "--quick",
      ...args,
    ],
    { cwd: APP, maxBuffer: 64 << 20 },
  );
}

let out = "";
let stdout = "";
let stderr = "";
let results: BenchResults;

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), "mmgr-bench-"));
  const child = await quickBench(["--out", out]);
  stdout = child.stdout;
  stderr = child.stderr;
  results = JSON.parse(readFileSync(join(out, "latest.json"), "utf8")) as BenchResults;
}, 240_000);

afterAll(() => {
  if (out !== "") rmSync(out, { recursive: true, force: true });
});

describe("bench --quick", () => {
  it("records the run in latest.json's meta", () => {
    expect(results.meta.quick).toBe(true);
    expect(results.meta.node).toBe(process.version);
    expect(results.meta.cpu.length).toBeGreaterThan(0);
    expect(Number.isNaN(Date.parse(results.meta.date))).toBe(false);
    expect(Object.keys(results.operations).sort()).toEqual([
      "churn",
      "grow",
      "mixed",
      "nodes",
      "query",
      "request",
      "workers",
    ]);
  });

  it("has exactly one cell per workload variant and allocator", () => {
    const keys = [...new Set(results.cells.map((c) => c.key))];
    const ids = results.allocators.map((a) => a.id);
    expect(ids).toEqual([
      "heap",
      "heap-cache",
      "heap-grow",
      "aset",
      "mcxt",
      "sgi",
      "ngx",
      "thing",
      "u8",
      "buffer",
    ]);
    expect(keys.length).toBe(16);
    expect(results.cells.length).toBe(keys.length * ids.length);
    for (const k of keys) {
      for (const id of ids) {
        expect(results.cells.filter((c) => c.key === k && c.allocatorId === id)).toHaveLength(1);
      }
    }
  });

  it("gives every cell numbers > 0 or a reason", () => {
    for (const c of results.cells) {
      if (c.status === "ok") {
        expect(c.nsPerOp?.median).toBeGreaterThan(0);
        expect(c.nsPerOp?.min).toBeGreaterThan(0);
        expect(c.nsPerOp?.max).toBeGreaterThanOrEqual(c.nsPerOp?.median ?? 0);
        expect(c.opsPerSec).toBeGreaterThan(0);
        expect(c.memoryOverhead).toBeGreaterThan(0);
        expect(c.samples).toBeGreaterThanOrEqual(10);
        expect(c.opsPerSample).toBeGreaterThan(0);
      } else {
        expect(c.reason).toMatch(/^(n\/a|skipped|error): /);
      }
    }
  });

  it("has no cell that failed: every allocator serves its workloads or says why not", () => {
    const failed = results.cells.filter((c) => c.status !== "ok" && c.status !== "n/a");
    expect(failed.map((c) => `${c.allocatorId} ${c.key}: ${c.status} ${c.reason}`)).toEqual([]);
  });

  it("runs the baselines and the heap on every workload", () => {
    for (const id of ["heap", "thing", "u8", "buffer"]) {
      const bad = results.cells.filter((c) => c.allocatorId === id && c.status !== "ok");
      expect(bad.map((c) => `${c.key}: ${c.reason}`)).toEqual([]);
    }
  });

  it("serves nginx pools only the scoped workloads", () => {
    const ngx = results.cells.filter((c) => c.allocatorId === "ngx");
    for (const c of ngx) {
      if (c.workload === "query" || c.workload === "request") expect(c.status).not.toBe("n/a");
      else expect(c.status).toBe("n/a");
    }
  });

  it("writes the table to latest.md and stdout, and a progress line per cell to stderr", () => {
    const md = readFileSync(join(out, "latest.md"), "utf8");
    expect(md).toContain("### ns per operation");
    for (const a of results.allocators) expect(md).toContain(a.label);
    expect(stdout).toContain("### ns per operation");
    const progress = stderr.split("\n").filter((l) => /^\[[\w-]+ +\d+\/\d+\]/.test(l));
    expect(progress).toHaveLength(results.cells.length);
  });

  it("measures the workers section: unshared heaps, one shared heap and one SGI pool with 1, 2 and 4 workers", () => {
    expect(results.threads.map((c) => `${c.kind} x${c.workers}`)).toEqual([
      "heap x1",
      "heap x2",
      "shared x1",
      "shared x2",
      "shared x4",
      "sgi x1",
      "sgi x2",
      "sgi x4",
    ]);
    for (const c of results.threads) {
      expect(c.opsPerSec).toBeGreaterThan(0);
      expect(c.nsPerOp.max).toBeGreaterThanOrEqual(c.nsPerOp.median);
      expect(c.samples).toBeGreaterThanOrEqual(10);
      expect(c.opsPerSample).toBe(c.workers * results.threads[0].opsPerSample);
      expect(c.speedup).toBeGreaterThan(0);
    }
    const md = readFileSync(join(out, "latest.md"), "utf8");
    expect(md).toContain("### workers: one shared heap or pool, many workers at once");
    expect(stderr.split("\n").filter((l) => l.startsWith("[workers]"))).toHaveLength(8);
  });

  it("writes an SVG chart with a bar per measured cell", () => {
    const svg = readFileSync(join(out, "latest.svg"), "utf8");
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
    expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
    const bars = svg.match(/<path[^>]*d="M[^"]*h[^"]*v[^"]*Z"[^>]*fill="#/g) ?? [];
    const ok = results.cells.filter((c) => c.status === "ok").length;
    expect(bars.length).toBeGreaterThanOrEqual(ok);
    const open = (svg.match(/<g[\s>]/g) ?? []).length;
    const close = (svg.match(/<\/g>/g) ?? []).length;
    expect(open).toBe(close);
  });
});

describe("bench --quick --only --workloads", () => {
  it("runs only the named allocators on the named workloads, without the workers section", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mmgr-bench-"));
    try {
      const child = await quickBench([
        "--only",
        "ngx,thing",
        "--workloads",
        "query,grow",
        "--out",
        dir,
      ]);
      const partial = JSON.parse(readFileSync(join(dir, "latest.json"), "utf8")) as BenchResults;
      const cells = partial.cells.map((c) => `${c.allocatorId} ${c.workload} ${c.status}`);
      expect(cells).toEqual(["ngx query ok", "thing query ok", "ngx grow n/a", "thing grow ok"]);
      expect(partial.threads).toEqual([]);
      expect(child.stderr).not.toContain("[workers]");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
