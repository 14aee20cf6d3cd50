/*-------------------------------------------------------------------------
 *
 * report.ts
 *	  The results: ratios between cells, latest.json, and the Markdown
 *	  table (latest.md, stdout, the README).
 *
 *-------------------------------------------------------------------------
 */

import type { AdapterModule, MemoryMethod, WorkloadName } from "./adapters/index.js";
import type { CellResult } from "./measure.js";
import type { ThreadCell } from "./threads/run.js";

/** One allocator as the results describe it. */
export interface AllocatorInfo {
  /** Short id. */
  id: string;
  /** Column label. */
  label: string;
  /** How the bench uses it. */
  note: string;
  /** How its memory figure is obtained. */
  memory: MemoryMethod;
}

/** What latest.json holds. */
export interface BenchResults {
  /** The run. */
  meta: {
    /** ISO date of the run's end. */
    date: string;
    /** `process.version`. */
    node: string;
    /** `os.cpus()[0].model`. */
    cpu: string;
    /** Logical CPUs. */
    cpus: number;
    /** `process.platform` and `process.arch`. */
    platform: string;
    /** Whether this was the `--quick` run. */
    quick: boolean;
    /** The streams' seed. */
    seed: number;
    /** Wall time of the whole run, seconds. */
    durationSec: number;
    /** The harness. */
    harness: string;
  };
  /** What one operation is, per workload (and in the workers section). */
  operations: Record<WorkloadName | "workers", string>;
  /** The columns. */
  allocators: AllocatorInfo[];
  /** Every workload variant x allocator. */
  cells: CellResult[];
  /** The workers section: one shared heap or pool, 1, 2 and 4 workers (empty when left out). */
  threads: ThreadCell[];
}

/** ns with 3 significant digits: `4.21`, `42.1`, `421`, `4,210`. */
export function formatNs(ns: number): string {
  if (ns < 10) return ns.toFixed(2);
  if (ns < 100) return ns.toFixed(1);
  return Math.round(ns).toLocaleString("en-US");
}

/** A ratio as `1.53x`, `15.3x`, `153x`. */
export function formatRatio(r: number): string {
  if (r < 10) return `${r.toFixed(2)}x`;
  if (r < 100) return `${r.toFixed(1)}x`;
  return `${Math.round(r).toLocaleString("en-US")}x`;
}

function formatOps(opsPerSec: number): string {
  return (opsPerSec / 1e6).toFixed(opsPerSec < 1e6 ? 3 : 1);
}

/** Fills `vsThing` and `vsUint8Array`: the peer's median ns/op over this cell's (> 1 = faster). */
export function addRatios(cells: CellResult[], thingId: string, u8Id: string): void {
  const median = new Map<string, number>();
  for (const c of cells) {
    if (c.status === "ok" && c.nsPerOp !== undefined)
      median.set(`${c.key}|${c.allocatorId}`, c.nsPerOp.median);
  }
  for (const c of cells) {
    if (c.status !== "ok" || c.nsPerOp === undefined) continue;
    const t = median.get(`${c.key}|${thingId}`);
    const u = median.get(`${c.key}|${u8Id}`);
    if (t !== undefined) c.vsThing = t / c.nsPerOp.median;
    if (u !== undefined) c.vsUint8Array = u / c.nsPerOp.median;
  }
}

function shortStatus(c: CellResult): string {
  if (c.status === "n/a") return "n/a";
  if (c.status === "skipped") return "—";
  return "error";
}

function reduced(c: CellResult): boolean {
  return c.units !== undefined && c.unitsFull !== undefined && c.units < c.unitsFull;
}

function row(cells: string[]): string {
  return `| ${cells.join(" | ")} |`;
}

/** The Markdown of the results: a summary matrix, a table per workload, and the notes. */
export function renderMarkdown(r: BenchResults): string {
  const { meta, allocators, cells } = r;
  const byKey = new Map<string, CellResult>();
  for (const c of cells) byKey.set(`${c.key}|${c.allocatorId}`, c);
  const keys: CellResult[] = [];
  const seen = new Set<string>();
  for (const c of cells) {
    if (!seen.has(c.key)) {
      seen.add(c.key);
      keys.push(c);
    }
  }
  const out: string[] = [];
  const mins = Math.floor(meta.durationSec / 60);
  const secs = Math.round(meta.durationSec % 60);
  out.push(
    `Run of ${meta.date.slice(0, 10)}: ${meta.quick ? "**quick run** (`--quick`, reduced sizes)" : "full run"}, ` +
      `Node ${meta.node}, ${meta.cpu} (${meta.cpus} logical CPUs), ${meta.platform}, ` +
      `${mins} min ${secs} s, seed ${meta.seed}, ${meta.harness}.`,
    "",
    "### ns per operation (median; lower is better)",
    "",
  );
  out.push(row(["workload", "variant", ...allocators.map((a) => a.label)]));
  out.push(row(["---", "---", ...allocators.map(() => "---:")]));
  for (const k of keys) {
    const line = [k.workload, k.variant];
    for (const a of allocators) {
      const c = byKey.get(`${k.key}|${a.id}`);
      if (c === undefined) line.push("?");
      else if (c.status !== "ok" || c.nsPerOp === undefined) line.push(shortStatus(c));
      else line.push(`${formatNs(c.nsPerOp.median)}${reduced(c) ? "†" : ""}`);
    }
    out.push(row(line));
  }
  out.push(
    "",
    "n/a: the allocator cannot serve the workload (see the notes); —: the package is not ready; " +
      "†: fewer operations per sample than the others (see the notes).",
    "",
  );

  const workloads = [...new Set(keys.map((k) => k.workload))];
  for (const w of workloads) {
    out.push(`### ${w}`, "", `One operation: ${r.operations[w]}.`, "");
    out.push(
      row([
        "variant",
        "allocator",
        "ns/op median",
        "min .. max",
        "M ops/s",
        "memory",
        "vs thi.ng",
        "vs Uint8Array",
        "samples x ops",
      ]),
    );
    out.push(row(["---", "---", "---:", "---:", "---:", "---:", "---:", "---:", "---:"]));
    for (const k of keys.filter((x) => x.workload === w)) {
      for (const a of allocators) {
        const c = byKey.get(`${k.key}|${a.id}`);
        if (c === undefined || c.status !== "ok" || c.nsPerOp === undefined) continue;
        out.push(
          row([
            k.variant,
            a.label,
            `${formatNs(c.nsPerOp.median)}${reduced(c) ? "†" : ""}`,
            `${formatNs(c.nsPerOp.min)} .. ${formatNs(c.nsPerOp.max)}`,
            formatOps(c.opsPerSec ?? 0),
            `${formatRatio(c.memoryOverhead ?? 0)}${c.memoryMethod === "sampled" ? " ≈" : ""}`,
            c.vsThing === undefined ? "" : formatRatio(c.vsThing),
            c.vsUint8Array === undefined ? "" : formatRatio(c.vsUint8Array),
            `${c.samples} x ${(c.opsPerSample ?? 0).toLocaleString("en-US")}`,
          ]),
        );
      }
    }
    out.push("");
  }

  if (r.threads.length > 0) {
    out.push(
      "### workers: one shared heap or pool, many workers at once",
      "",
      `One operation: ${r.operations.workers}. Every worker runs the same churn on its own stream at the same time; ` +
        "M ops/s counts all workers' operations over the wall time of a round (median of the samples). " +
        "speedup: over the same allocator with one worker; vs unshared: over an unshared heap (plain ArrayBuffer) in one worker. " +
        "A full run measures every configuration three times, interleaved, and shows its median run (runs: all of them, in order).",
      "",
    );
    out.push(
      row([
        "allocator",
        "workers",
        "M ops/s",
        "ns/op (wall / all ops)",
        "min .. max",
        "speedup",
        "vs unshared",
        "runs, M ops/s",
        "samples x ops",
      ]),
    );
    out.push(row(["---", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:"]));
    for (const c of r.threads) {
      out.push(
        row([
          c.allocator,
          String(c.workers),
          formatOps(c.opsPerSec),
          formatNs(c.nsPerOp.median),
          `${formatNs(c.nsPerOp.min)} .. ${formatNs(c.nsPerOp.max)}`,
          formatRatio(c.speedup ?? 0),
          formatRatio(c.vsUnshared ?? 0),
          (c.runs ?? [c.opsPerSec]).map(formatOps).join(" / "),
          `${c.samples} x ${c.opsPerSample.toLocaleString("en-US")}`,
        ]),
      );
    }
    out.push(
      "",
      `This machine has ${meta.cpus} logical CPUs: more workers than CPUs share them, so throughput cannot rise past ${meta.cpus} workers.`,
      "",
    );
  }

  out.push("### Notes", "");
  out.push(
    "- ns/op: tinybench's median (and min, max) time per sample, each sample a fixed batch of operations, " +
      "divided by the operations in it; at least 10 samples after warm-up. M ops/s = 1,000 / median ns.",
    "- vs thi.ng, vs Uint8Array: that peer's median ns/op divided by this one's, in the same run: " +
      "above 1x this allocator is faster.",
    "- memory: peak bytes the allocator took from its arena divided by the peak bytes the workload keeps live " +
      "(computed from the stream), in an untimed pass before the timed one. @mmgr allocators: the peak of the heap's " +
      "`used` (blocks in use, headers included) on a fresh heap per cell, read after every operation (not " +
      "`stats().peakUsed`, which a realloc growing in place overcounts); @thi.ng/malloc: the peak of its pools' `top`, " +
      "read after every operation; " +
      "≈: GC peers, the growth of the process's `arrayBuffers + heapUsed` sampled at the points of most live memory " +
      "in an untimed pass after a full GC: approximate, and garbage not yet collected counts.",
  );
  for (const a of allocators) out.push(`- ${a.label}: ${a.note}.`);
  const reasons = new Map<string, string[]>();
  for (const c of cells) {
    if (c.status === "ok") continue;
    const k = `${c.allocator}: ${c.reason}`;
    const list = reasons.get(k) ?? [];
    list.push(`${c.workload} ${c.variant}`);
    reasons.set(k, list);
  }
  for (const [k, list] of reasons)
    out.push(`- ${k} (${list.length === keys.length ? "every workload" : list.join("; ")})`);
  for (const c of cells) {
    if (c.status === "ok" && reduced(c)) {
      out.push(
        `- †${c.allocator}, ${c.workload} ${c.variant}: ${c.units?.toLocaleString("en-US")} of ` +
          `${c.unitsFull?.toLocaleString("en-US")} ${c.unitName} per sample (too slow for the full count).`,
      );
    }
  }
  out.push("");
  return out.join("\n");
}

/** The allocator infos of the registry. */
export function allocatorInfos(adapters: readonly AdapterModule[]): AllocatorInfo[] {
  return adapters.map((a) => ({ id: a.id, label: a.label, note: a.note, memory: a.memory }));
}
