/*-------------------------------------------------------------------------
 *
 * main.ts
 *	  `pnpm bench`: compares every mmgr allocator, and what a user would
 *	  pick instead, on the workloads of issue 7.
 *
 * Runs each cell in a child process of its own (runner.ts), variant by
 * variant (with `--quick`, one process per allocator), with the same
 * execArgv (so `--expose-gc`, `--import tsx` and a
 * `--conditions=@mmgr/source` carry over), shows their progress lines on
 * stderr as they come, then adds the ratios and writes latest.json,
 * latest.md and latest.svg, and prints the table on stdout.
 *
 * Usage: node --expose-gc --import tsx src/main.ts [--quick] [--out <dir>]
 *          [--only <id,id>] [--workloads <name,name>] [--seed <n>]
 *
 * `--only` names allocator ids, and `workers` for the workers section;
 * `--workloads` names workloads (churn, query, ...), and `workers` too.
 *
 *-------------------------------------------------------------------------
 */

import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { ADAPTERS, THING_ID, U8_ID } from "./adapters/index.js";
import { runCells } from "./cells.js";
import { renderChart } from "./chart.js";
import { DEFAULT_SEED, FULL_TIMING, QUICK_TIMING } from "./measure.js";
import { addRatios, allocatorInfos, type BenchResults, renderMarkdown } from "./report.js";
import { runThreads, THREADS_OPERATION } from "./threads/run.js";
import { OPERATION, plan } from "./workloads/index.js";

const DEFAULT_OUT = fileURLToPath(new URL("../results", import.meta.url));

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      out: { type: "string" },
      only: { type: "string" },
      workloads: { type: "string" },
      seed: { type: "string" },
    },
  });
  const quick = values.quick ?? false;
  const out = resolve(values.out ?? DEFAULT_OUT);
  const seed = values.seed === undefined ? DEFAULT_SEED : Number(values.seed);
  const only = values.only?.split(",");
  const adapters = only === undefined ? ADAPTERS : ADAPTERS.filter((a) => only.includes(a.id));
  const workloads = values.workloads?.split(",");
  const variants = plan({ quick, seed }, workloads);
  const t0 = performance.now();
  process.stderr.write(
    `mmgr bench${quick ? " --quick" : ""}: ${variants.length} workload variants x ${adapters.length} allocators, one process per ${quick ? "allocator" : "cell"}\n`,
  );

  const cells = await runCells(adapters, variants, quick, seed);
  addRatios(cells, THING_ID, U8_ID);
  // The workers section runs unless --only or --workloads leaves it out (name it "workers" to keep it).
  const threads =
    (only === undefined || only.includes("workers")) &&
    (workloads === undefined || workloads.includes("workers"))
      ? await runThreads(quick, seed, quick ? QUICK_TIMING : FULL_TIMING, (line) =>
          process.stderr.write(`${line}\n`),
        )
      : [];

  const results: BenchResults = {
    meta: {
      date: new Date().toISOString(),
      node: process.version,
      cpu: cpus()[0]?.model ?? "unknown",
      cpus: cpus().length,
      platform: `${process.platform} ${process.arch}`,
      quick,
      seed,
      durationSec: (performance.now() - t0) / 1000,
      harness: "tinybench 6.2.3",
    },
    operations: { ...OPERATION, workers: THREADS_OPERATION },
    allocators: allocatorInfos(adapters),
    cells,
    threads,
  };
  const md = renderMarkdown(results);
  const svg = await renderChart(results);
  mkdirSync(out, { recursive: true });
  writeFileSync(resolve(out, "latest.json"), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(resolve(out, "latest.md"), `# mmgr bench: latest results\n\n${md}`);
  writeFileSync(resolve(out, "latest.svg"), svg);
  process.stdout.write(`${md}\n`);
  process.stderr.write(
    `wrote latest.json, latest.md, latest.svg to ${out} in ${results.meta.durationSec.toFixed(0)} s\n`,
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
