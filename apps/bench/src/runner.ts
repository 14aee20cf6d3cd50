/*-------------------------------------------------------------------------
 *
 * runner.ts
 *	  The child process main.ts starts for an allocator's cells: runs
 *	  them and prints each as a `CELL {json}` line on stdout, with a
 *	  progress line per cell on stderr.
 *
 * A process of its own keeps the comparison fair: the workload loops only
 * ever see one adapter class (their call sites stay monomorphic), and one
 * allocator's garbage or JIT state cannot slow the next one down. The full
 * run starts one per cell, as V8's feedback from one workload can change
 * how it compiles the allocator for the next (up to 1.6x on a cell).
 *
 * Usage: node --expose-gc --import tsx src/runner.ts <allocator-id> [--quick]
 *          [--seed N] [--variants <key,key>]
 *
 * `--variants` names the cells to run by key (`churn/lifo/16`); all by default.
 *
 *-------------------------------------------------------------------------
 */

import { parseArgs } from "node:util";
import { adapterById } from "./adapters/index.js";
import { cleanupCounter } from "./adapters/types.js";
import {
  CELL_PREFIX,
  type CellResult,
  DEFAULT_SEED,
  emptyCell,
  FULL_TIMING,
  QUICK_TIMING,
  runCell,
} from "./measure.js";
import { formatNs, formatRatio } from "./report.js";
import { plan } from "./workloads/index.js";

function progress(cell: CellResult, i: number, n: number, ms: number): string {
  const head = `[${cell.allocatorId} ${String(i + 1).padStart(2)}/${n}] ${cell.allocator} · ${cell.workload} ${cell.variant}`;
  if (cell.status !== "ok" || cell.nsPerOp === undefined) return `${head}: ${cell.reason}`;
  const ns = cell.nsPerOp;
  const reduced =
    cell.units !== cell.unitsFull ? ` (${cell.units} of ${cell.unitsFull} ${cell.unitName})` : "";
  return (
    `${head}: ${formatNs(ns.median)} ns/op [${formatNs(ns.min)}..${formatNs(ns.max)}], ` +
    `mem ${formatRatio(cell.memoryOverhead ?? 0)}, ${cell.samples} samples${reduced}, ${(ms / 1000).toFixed(1)} s`
  );
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      quick: { type: "boolean", default: false },
      seed: { type: "string" },
      variants: { type: "string" },
    },
  });
  const adapter = adapterById(positionals[0] ?? "");
  const quick = values.quick ?? false;
  const seed = values.seed === undefined ? DEFAULT_SEED : Number(values.seed);
  const keys = values.variants?.split(",");
  const all = plan({ quick, seed });
  const variants = keys === undefined ? all : all.filter((v) => keys.includes(v.key));
  const factory = await adapter.load();
  const timing = quick ? QUICK_TIMING : FULL_TIMING;
  for (let i = 0; i < variants.length; i++) {
    const v = variants[i];
    const t0 = performance.now();
    let cell: CellResult;
    if (typeof factory === "string") {
      cell = emptyCell(v, adapter, "skipped", factory);
    } else {
      const serves = factory.serves(v.workload);
      cell =
        serves === true
          ? await runCell(adapter, factory, v, timing, quick)
          : emptyCell(v, adapter, "n/a", serves);
    }
    process.stderr.write(`${progress(cell, all.indexOf(v), all.length, performance.now() - t0)}\n`);
    process.stdout.write(`${CELL_PREFIX}${JSON.stringify(cell)}\n`);
  }
  if (cleanupCounter.runs < 0) process.stderr.write("unreachable\n");
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
