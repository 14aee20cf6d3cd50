/*
 * The order in which a run starts its runner processes: the full run one
 * per cell, variant by variant, every allocator in turn; --quick one per
 * allocator. Either way the cells come back in table order (variant, then
 * allocator). A fake runner records the calls instead of starting processes.
 */

import { describe, expect, it } from "vitest";
import { ADAPTERS } from "../src/adapters/index.js";
import { type RunChild, runCells } from "../src/cells.js";
import { emptyCell } from "../src/measure.js";
import { plan } from "../src/workloads/index.js";

const adapters = ADAPTERS.filter((a) => ["heap", "aset", "thing"].includes(a.id));
const variants = plan({ quick: true, seed: 1 }, ["query", "request", "grow"]);

/** A runner that starts nothing: it records each call and answers with one ok cell per variant, in their order. */
function fakeRunner(): { run: RunChild; calls: { id: string; keys: string[]; args: string[] }[] } {
  const calls: { id: string; keys: string[]; args: string[] }[] = [];
  const run: RunChild = async (adapter, vs, args) => {
    calls.push({ id: adapter.id, keys: vs.map((v) => v.key), args });
    return vs.map((v) => emptyCell(v, adapter, "ok", ""));
  };
  return { run, calls };
}

/** The table order: variant, then allocator. */
const tableOrder = variants.flatMap((v) => adapters.map((a) => `${v.key} ${a.id}`));

describe("runCells", () => {
  it("full run: a process per cell, variant by variant, every allocator in turn", async () => {
    const { run, calls } = fakeRunner();
    const cells = await runCells(adapters, variants, false, 42, run);
    expect(calls.map((c) => `${c.keys.join(",")} ${c.id}`)).toEqual(tableOrder);
    for (const c of calls) {
      expect(c.args).toContain("--variants");
      expect(c.args).not.toContain("--quick");
      expect(c.args.slice(c.args.indexOf("--seed"), c.args.indexOf("--seed") + 2)).toEqual([
        "--seed",
        "42",
      ]);
    }
    expect(cells.map((c) => `${c.key} ${c.allocatorId}`)).toEqual(tableOrder);
  });

  it("--quick: a process per allocator with all its variants, cells still in table order", async () => {
    const { run, calls } = fakeRunner();
    const cells = await runCells(adapters, variants, true, 42, run);
    expect(calls.map((c) => c.id)).toEqual(adapters.map((a) => a.id));
    for (const c of calls) {
      expect(c.keys).toEqual(variants.map((v) => v.key));
      expect(c.args).toContain("--quick");
      expect(c.args[c.args.indexOf("--variants") + 1]).toBe(variants.map((v) => v.key).join(","));
    }
    expect(cells.map((c) => `${c.key} ${c.allocatorId}`)).toEqual(tableOrder);
  });
});
