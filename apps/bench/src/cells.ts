/*-------------------------------------------------------------------------
 *
 * cells.ts
 *	  Runs the cells of a bench run in runner processes (runner.ts) and
 *	  collects their CELL lines, in table order.
 *
 *-------------------------------------------------------------------------
 */

import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { AdapterModule } from "./adapters/index.js";
import { CELL_PREFIX, type CellResult, emptyCell } from "./measure.js";
import type { Variant } from "./workloads/index.js";

const RUNNER = fileURLToPath(new URL("./runner.ts", import.meta.url));

/** The runner's command line for `adapter`'s cells, without `--variants`. */
function runnerArgs(adapter: AdapterModule, quick: boolean, seed: number): string[] {
  const args = [...process.execArgv, RUNNER, adapter.id, "--seed", String(seed)];
  if (quick) args.push("--quick");
  return args;
}

/**
 * Runs every cell, in table order (variant, then allocator). The full run
 * starts a child process per cell, so that no cell runs on JIT feedback
 * another workload left, and goes variant by variant: the cells that a
 * ratio compares run seconds apart, not minutes, on a machine whose speed
 * drifts. `--quick` starts one process per allocator. A crash leaves error
 * cells.
 */
export async function runCells(
  adapters: readonly AdapterModule[],
  variants: Variant[],
  quick: boolean,
  seed: number,
  run: RunChild = runChild,
): Promise<CellResult[]> {
  const cells: CellResult[] = [];
  if (!quick) {
    for (const v of variants) {
      for (const a of adapters)
        cells.push(...(await run(a, [v], [...runnerArgs(a, quick, seed), "--variants", v.key])));
    }
    return cells;
  }
  const byAdapter: CellResult[][] = [];
  for (const a of adapters) {
    const keys = variants.map((v) => v.key).join(",");
    byAdapter.push(await run(a, variants, [...runnerArgs(a, quick, seed), "--variants", keys]));
  }
  for (let v = 0; v < variants.length; v++) for (const list of byAdapter) cells.push(list[v]);
  return cells;
}

/** Starts a runner process with `args` and gives its cells of `variants`, in their order. */
export type RunChild = (
  adapter: AdapterModule,
  variants: Variant[],
  args: string[],
) => Promise<CellResult[]>;

/** One runner process: the cells of `variants`, in their order. */
function runChild(
  adapter: AdapterModule,
  variants: Variant[],
  args: string[],
): Promise<CellResult[]> {
  return new Promise((done) => {
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
    let buffered = "";
    const cells: CellResult[] = [];
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      buffered += chunk;
      let nl = buffered.indexOf("\n");
      while (nl >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.startsWith(CELL_PREFIX))
          cells.push(JSON.parse(line.slice(CELL_PREFIX.length)) as CellResult);
        nl = buffered.indexOf("\n");
      }
    });
    child.on("close", (code, signal) => {
      const got = new Set(cells.map((c) => c.key));
      for (const v of variants) {
        if (!got.has(v.key)) {
          cells.push(
            emptyCell(
              v,
              adapter,
              "error",
              `error: the runner exited (${signal ?? `code ${code}`}) before this cell`,
            ),
          );
        }
      }
      const order = new Map(variants.map((v, i) => [v.key, i]));
      cells.sort((a, b) => (order.get(a.key) ?? 0) - (order.get(b.key) ?? 0));
      done(cells);
    });
  });
}
