/*-------------------------------------------------------------------------
 *
 * run.ts
 *	  The workers section of the bench: throughput of one shared heap, and
 *	  of one SGI pool with `threads: true`, with 1, 2 and 4 workers, next
 *	  to an unshared heap in one worker.
 *
 * Every worker runs the same churn (worker.ts) on its own stream; a sample
 * is one round of every worker at once: post "go" to each, wait for each
 * to answer. tinybench times the samples (median, min, max); throughput
 * is the operations of all workers in a sample (each allocation and each
 * free is one) divided by its median time.
 *
 *-------------------------------------------------------------------------
 */

import { Worker } from "node:worker_threads";
import { Heap } from "@mmgr/heap";
import { DefaultAlloc } from "@mmgr/sgi-alloc";
import { Bench } from "tinybench";
import type { TimingOptions } from "../measure.js";
import { BATCH, MAX_SIZE, MIN_SIZE, type WorkerSetup } from "./setup.js";

/** One row of the workers table. */
export interface ThreadCell {
  /** `heap`, `shared` or `sgi`. */
  kind: WorkerSetup["kind"];
  /** What the table shows. */
  allocator: string;
  /** Workers running at once. */
  workers: number;
  /** Median, min and max ns per operation of the whole (wall time / all workers' operations). */
  nsPerOp: { median: number; min: number; max: number };
  /** All workers' operations per second at the median. */
  opsPerSec: number;
  /** Operations per sample, all workers together. */
  opsPerSample: number;
  /** Timed samples. */
  samples: number;
  /** Operations per second of each run of this configuration (the full run makes three, interleaved; the cell is the median one). */
  runs?: number[];
  /** Throughput over the same allocator's with one worker. */
  speedup?: number;
  /** Throughput over the unshared heap's in one worker. */
  vsUnshared?: number;
}

/** What one operation is in this section. */
export const THREADS_OPERATION = `one allocation or one free of ${MIN_SIZE}..${MAX_SIZE} bytes (batches of ${BATCH}, freed in a shuffled order)`;

const LABELS: Record<WorkerSetup["kind"], string> = {
  heap: "@mmgr/heap (unshared, one per worker)",
  shared: "@mmgr/heap (shared: true)",
  sgi: "@mmgr/sgi-alloc (threads: true)",
};

function message(worker: Worker): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    worker.once("error", onError);
    worker.once("message", (m) => {
      worker.off("error", onError);
      resolve(m);
    });
  });
}

async function measure(
  kind: WorkerSetup["kind"],
  n: number,
  batches: number,
  seed: number,
  timing: TimingOptions,
): Promise<ThreadCell> {
  let buffer: SharedArrayBuffer | null = null;
  let pool = 0;
  if (kind !== "heap") {
    const heap = Heap.create({ shared: true, initialSize: 16 << 20, maxSize: 256 << 20 });
    buffer = heap.buffer as SharedArrayBuffer;
    if (kind === "sgi") pool = new DefaultAlloc(heap, { threads: true }).control;
  }
  const url = new URL("./boot.mjs", import.meta.url);
  const workers: Worker[] = [];
  for (let id = 0; id < n; id++) {
    const setup: WorkerSetup = { kind, buffer, pool, batches, seed: seed + id, id };
    workers.push(new Worker(url, { workerData: setup }));
  }
  try {
    await Promise.all(workers.map(message)); // "ready"
    let bad = 0;
    const bench = new Bench({ ...timing, throws: true });
    bench.add(`${kind} x${n}`, async () => {
      const answers = workers.map(message);
      for (const w of workers) w.postMessage("go");
      for (const a of await Promise.all(answers)) bad += a as number;
    });
    await bench.run();
    if (bad !== 0) throw new Error(`${LABELS[kind]}: ${bad} objects read back another worker's id`);
    const result = bench.tasks[0].result;
    if (result.state !== "completed") {
      const why = result.state === "errored" ? result.error.message : result.state;
      throw new Error(`${LABELS[kind]} x ${n}: ${why}`);
    }
    const lat = result.latency;
    const ops = n * batches * BATCH * 2;
    const ns = (ms: number) => (ms * 1e6) / ops;
    return {
      kind,
      allocator: LABELS[kind],
      workers: n,
      nsPerOp: { median: ns(lat.p50), min: ns(lat.min), max: ns(lat.max) },
      opsPerSec: ops / (lat.p50 / 1000),
      opsPerSample: ops,
      samples: lat.samplesCount,
    };
  } finally {
    for (const w of workers) w.postMessage("stop");
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/**
 * Runs the section: unshared heaps (one per worker) with 1 and 2 workers,
 * what the machine gives to work that shares nothing; then one shared heap
 * and one SGI pool with 1, 2 and 4 workers.
 */
export async function runThreads(
  quick: boolean,
  seed: number,
  timing: TimingOptions,
  progress: (line: string) => void,
): Promise<ThreadCell[]> {
  const batches = quick ? 500 : 10000;
  const plan: [WorkerSetup["kind"], number][] = [
    ["heap", 1],
    ["heap", 2],
    ["shared", 1],
    ["shared", 2],
    ["shared", 4],
    ["sgi", 1],
    ["sgi", 2],
    ["sgi", 4],
  ];
  // Runs of one configuration minutes apart differ more on a shared 2-CPU
  // machine than samples within a run: the full run measures the plan
  // three times over, interleaved, and keeps each configuration's median run.
  const reps = quick ? 1 : 3;
  const runs: ThreadCell[][] = plan.map(() => []);
  for (let rep = 0; rep < reps; rep++) {
    for (let i = 0; i < plan.length; i++) {
      const [kind, n] = plan[i];
      const t0 = performance.now();
      const cell = await measure(kind, n, batches, seed, timing);
      runs[i].push(cell);
      progress(
        `[workers] ${rep * plan.length + i + 1}/${reps * plan.length} ${cell.allocator} x ${n}: ${(cell.opsPerSec / 1e6).toFixed(1)} M ops/s, ${((performance.now() - t0) / 1000).toFixed(1)} s`,
      );
    }
  }
  const cells = runs.map((r) => {
    const sorted = [...r].sort((a, b) => a.opsPerSec - b.opsPerSec);
    const mid = sorted[(sorted.length - 1) >> 1];
    return { ...mid, runs: r.map((c) => c.opsPerSec) };
  });
  const unshared = cells.find((c) => c.kind === "heap" && c.workers === 1)?.opsPerSec ?? 0;
  for (const c of cells) {
    const one = cells.find((x) => x.kind === c.kind && x.workers === 1)?.opsPerSec ?? 0;
    c.speedup = c.opsPerSec / one;
    c.vsUnshared = c.opsPerSec / unshared;
  }
  return cells;
}
