/*-------------------------------------------------------------------------
 *
 * types.ts
 *	  What a workload is: variants, each with a pre-generated operation
 *	  stream, turned into a job of untimed setup, timed samples and
 *	  untimed teardown.
 *
 *-------------------------------------------------------------------------
 */

import type { Allocator, WorkloadName } from "../adapters/types.js";

/** Called by a sample at its points of most live memory, in the untimed memory pass only. */
export type Probe = () => void;

/** One cell's work for one allocator, built from a variant's stream. */
export interface Job {
  /** Operations one sample performs: the unit of ns/op (see the README). */
  readonly opsPerSample: number;
  /** Peak bytes the stream keeps live (setup and every sample), computed from the stream. */
  readonly peakLiveBytes: number;
  /** Slots the stream names. */
  readonly slots: number;
  /** How many times one sample calls its probe. */
  readonly probes: number;
  /** Untimed, before the samples of a phase (warm-up, run): fills the steady state. */
  setup(a: Allocator): void;
  /** One timed sample. Replayable: leaves the allocator in a state the next sample can start from. */
  sample(a: Allocator, probe: Probe | null): void;
  /** Untimed, after the samples of a phase: frees what setup and the samples left live. */
  teardown(a: Allocator): void;
}

/** One variant of a workload: the rows of the table. */
export interface Variant {
  /** The workload. */
  readonly workload: WorkloadName;
  /** Stable key, e.g. `churn/shuffled/64`. */
  readonly key: string;
  /** What the table shows, e.g. `shuffled 64 B`. */
  readonly label: string;
  /** What a unit of the sample is: `batches`, `rows` ... */
  readonly unitName: string;
  /** Units in one full sample. */
  readonly units: number;
  /** Live allocations in the steady state (0 where there is none). */
  readonly live: number;
  /** The job running the first `units` units of the stream per sample. */
  job(units: number): Job;
}

/** Run sizes: the full run, or the reduced `--quick` one. */
export interface PlanConfig {
  /** Whether this is the `--quick` run. */
  readonly quick: boolean;
  /** The base seed every stream derives from. */
  readonly seed: number;
}

/** Peak of a running sum: the live bytes after each delta, at most. */
export class PeakCounter {
  /** Live bytes now. */
  live = 0;
  /** The most seen. */
  peak = 0;

  /** Adds `delta` bytes (negative for a free). */
  add(delta: number): void {
    this.live += delta;
    if (this.live > this.peak) this.peak = this.live;
  }
}
