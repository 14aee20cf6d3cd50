/*-------------------------------------------------------------------------
 *
 * measure.ts
 *	  One cell: one allocator on one workload variant. Times it with
 *	  tinybench and finds its memory overhead.
 *
 * A sample is one call of the job's `sample`, a batch of operations long
 * enough to time (opsPerSample of them); tinybench warms up, then takes
 * at least 10 samples (more while the time budget lasts), and ns/op is its
 * median (and min, max) divided by opsPerSample. Setup and teardown (the
 * steady state's fill and release) run in beforeAll/afterAll, untimed.
 *
 * Memory is the peak bytes taken divided by the peak bytes the stream
 * keeps live, from an untimed memory pass (one setup, one sample, one
 * teardown) on an instance of its own before the timed one. The same
 * adapter class runs both passes, with a tracking flag, so that the
 * workload's call sites stay monomorphic.
 *
 *-------------------------------------------------------------------------
 */

import { Bench } from "tinybench";
import { processBytes } from "./adapters/gc.js";
import type { AdapterFactory, AdapterModule } from "./adapters/index.js";
import type { Allocator, MemoryMethod, WorkloadName } from "./adapters/types.js";
import type { Job, Variant } from "./workloads/index.js";

/** The outcome of one cell, as latest.json stores it. */
export interface CellResult {
  /** The workload. */
  workload: WorkloadName;
  /** Stable key of the variant. */
  key: string;
  /** The variant as the table shows it. */
  variant: string;
  /** The allocator's id. */
  allocatorId: string;
  /** The allocator as the table shows it. */
  allocator: string;
  /** `ok`; `n/a` (cannot serve it); `skipped` (package not ready); `error` (it failed). */
  status: "ok" | "n/a" | "skipped" | "error";
  /** Why there are no numbers, for every status but `ok`. */
  reason?: string;
  /** Nanoseconds per operation over the samples. */
  nsPerOp?: { median: number; min: number; max: number };
  /** Operations per second at the median. */
  opsPerSec?: number;
  /** Peak bytes taken / peak bytes live. */
  memoryOverhead?: number;
  /** Peak bytes taken from the arena (or by the process, for GC peers). */
  peakBytes?: number;
  /** Peak bytes the stream keeps live. */
  peakLiveBytes?: number;
  /** How the memory figure was obtained. */
  memoryMethod?: MemoryMethod;
  /** Timed samples taken. */
  samples?: number;
  /** Operations per sample. */
  opsPerSample?: number;
  /** Units per sample this allocator ran. */
  units?: number;
  /** Units in a full sample. */
  unitsFull?: number;
  /** What a unit is. */
  unitName?: string;
  /** This cell's median ns/op vs @thi.ng/malloc's: > 1 means faster. */
  vsThing?: number;
  /** This cell's median ns/op vs new Uint8Array's: > 1 means faster. */
  vsUint8Array?: number;
}

/** The prefix of a result line on a runner's stdout. */
export const CELL_PREFIX = "CELL ";

/** The seed every stream derives from unless `--seed` says otherwise. */
export const DEFAULT_SEED = 20240607;

/** tinybench settings of a run. */
export interface TimingOptions {
  /** Minimum timed samples. */
  iterations: number;
  /** Time budget per cell, ms. */
  time: number;
  /** Minimum warm-up samples. */
  warmupIterations: number;
  /** Warm-up budget per cell, ms. */
  warmupTime: number;
}

/** Full run: at least 10 samples and 400 ms per cell, after 3 warm-up samples. */
export const FULL_TIMING: TimingOptions = {
  iterations: 10,
  time: 400,
  warmupIterations: 3,
  warmupTime: 100,
};
/** `--quick`: 10 samples after 1 warm-up sample, no time budget. */
export const QUICK_TIMING: TimingOptions = {
  iterations: 10,
  time: 0,
  warmupIterations: 1,
  warmupTime: 0,
};

/** A cell without numbers. */
export function emptyCell(
  variant: Variant,
  adapter: AdapterModule,
  status: CellResult["status"],
  reason: string,
): CellResult {
  return {
    workload: variant.workload,
    key: variant.key,
    variant: variant.label,
    allocatorId: adapter.id,
    allocator: adapter.label,
    status,
    reason,
  };
}

function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc !== undefined) gc();
}

/**
 * Full GCs, with pauses for V8 to finish freeing backing stores in the
 * background, until the process's memory stops falling (at most 10 rounds).
 */
async function settle(): Promise<void> {
  let last = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 10; round++) {
    collectGarbage();
    await new Promise((done) => setTimeout(done, 20));
    const now = processBytes();
    if (now > last * 0.99) return;
    last = now;
  }
}

/** Most memory probes one pass takes (each is a process.memoryUsage() call). */
const MAX_PROBES = 500;

/** The untimed memory pass: one setup, one sample, one teardown on a tracking instance. */
async function memoryPass(
  adapter: AdapterModule,
  factory: AdapterFactory,
  job: Job,
): Promise<number> {
  if (adapter.memory === "sampled") await settle();
  const a: Allocator = factory.create({
    slots: job.slots,
    peakLiveBytes: job.peakLiveBytes,
    tracking: true,
  });
  if (adapter.memory === "tracked") {
    job.setup(a);
    job.sample(a, null);
    const peak = a.peak();
    job.teardown(a);
    a.dispose();
    return peak;
  }
  const base = a.taken();
  let peak = 0;
  let calls = 0;
  const stride = Math.max(1, Math.ceil(job.probes / MAX_PROBES));
  const measure = () => {
    const t = a.taken() - base;
    if (t > peak) peak = t;
  };
  const probe = () => {
    if (++calls % stride === 0) measure();
  };
  job.setup(a);
  measure();
  job.sample(a, probe);
  measure();
  job.teardown(a);
  a.dispose();
  return peak;
}

/**
 * Runs one cell.
 * @param quick - the `--quick` run: smaller caps, shorter timing
 */
export async function runCell(
  adapter: AdapterModule,
  factory: AdapterFactory,
  variant: Variant,
  timing: TimingOptions,
  quick: boolean,
): Promise<CellResult> {
  const units = factory.cap(variant, quick) ?? variant.units;
  const job = variant.job(units);
  try {
    const peakBytes = await memoryPass(adapter, factory, job);
    await settle();
    const a = factory.create({
      slots: job.slots,
      peakLiveBytes: job.peakLiveBytes,
      tracking: false,
    });
    const bench = new Bench({ ...timing, throws: true });
    bench.add(`${adapter.id} ${variant.key}`, () => job.sample(a, null), {
      beforeAll: () => job.setup(a),
      afterAll: () => job.teardown(a),
    });
    bench.runSync();
    const result = bench.tasks[0].result;
    if (result.state !== "completed") {
      const why = result.state === "errored" ? result.error.message : result.state;
      return emptyCell(variant, adapter, "error", `error: ${why}`);
    }
    a.dispose();
    const perOp = 1e6 / job.opsPerSample; // ms per sample -> ns per op
    const median = result.latency.p50 * perOp;
    return {
      ...emptyCell(variant, adapter, "ok", ""),
      reason: undefined,
      nsPerOp: { median, min: result.latency.min * perOp, max: result.latency.max * perOp },
      opsPerSec: 1e9 / median,
      memoryOverhead: peakBytes / job.peakLiveBytes,
      peakBytes,
      peakLiveBytes: job.peakLiveBytes,
      memoryMethod: adapter.memory,
      samples: result.latency.samplesCount,
      opsPerSample: job.opsPerSample,
      units,
      unitsFull: variant.units,
      unitName: variant.unitName,
    };
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    return emptyCell(variant, adapter, "error", `error: ${msg}`);
  }
}
