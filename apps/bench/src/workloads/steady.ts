/*-------------------------------------------------------------------------
 *
 * steady.ts
 *	  The steady-state machinery shared by the nodes and mixed workloads:
 *	  fill `live` slots, then replace or resize a random live one per step.
 *
 * Setup (untimed) allocates every slot from the `prefill` sizes. A step
 * either frees its slot and allocates a new size into it (2 operations)
 * or reallocs it to the new size (1 operation). Every slot is live before
 * and after each step, so a sample can replay the same steps again from
 * wherever the last one left the slots; teardown (untimed) frees them all.
 * The peak live bytes are simulated over setup and two replays (the
 * second and every later replay start from the same state).
 *
 *-------------------------------------------------------------------------
 */

import type { Allocator } from "../adapters/types.js";
import { type Job, PeakCounter, type Probe } from "./types.js";

/** A pre-generated steady-state stream. */
export interface SteadyStream {
  /** The size each slot gets at setup. */
  prefill: Int32Array;
  /** Per step, the slot it touches. */
  slot: Int32Array;
  /** Per step, the new size. */
  size: Int32Array;
  /**
   * Per step, 1 for realloc, 0 for free + alloc; null when every step is
   * free + alloc. Every third step (index 2 mod 3) is a realloc, so that
   * every run of `units` steps from a multiple of 3 counts the same
   * operations.
   */
  realloc: Uint8Array | null;
}

/** Steps between two memory probes. */
const PROBE_EVERY = 1024;

function replaceSample(
  s: SteadyStream,
  cur: Int32Array,
  from: number,
  to: number,
  a: Allocator,
  probe: Probe | null,
): void {
  const slots = s.slot;
  const sizes = s.size;
  for (let i = from; i < to; i++) {
    const slot = slots[i];
    const size = sizes[i];
    a.free(slot, cur[slot]);
    a.alloc(slot, size);
    cur[slot] = size;
    if (probe !== null && i % PROBE_EVERY === 0) probe();
  }
}

function mixedSample(
  s: SteadyStream,
  cur: Int32Array,
  from: number,
  to: number,
  a: Allocator,
  probe: Probe | null,
): void {
  const slots = s.slot;
  const sizes = s.size;
  const realloc = s.realloc as Uint8Array;
  for (let i = from; i < to; i++) {
    const slot = slots[i];
    const size = sizes[i];
    if (realloc[i] === 1) {
      a.realloc(slot, cur[slot], size);
    } else {
      a.free(slot, cur[slot]);
      a.alloc(slot, size);
    }
    cur[slot] = size;
    if (probe !== null && i % PROBE_EVERY === 0) probe();
  }
}

/**
 * The job running `steps` steps of `s` per sample (a multiple of 3 when
 * fewer than the stream holds).
 */
export function steadyJob(s: SteadyStream, steps: number): Job {
  const live = s.prefill.length;
  const total = s.slot.length;
  if (steps < total && s.realloc !== null && steps % 3 !== 0) {
    throw new Error(`steadyJob: a reduced sample of ${steps} steps is not a multiple of 3`);
  }
  const cur = new Int32Array(live);
  let pos = 0;
  // peak live bytes over setup and the first sample; a realloc that moves holds both sizes for a moment, not counted
  const sim = new Int32Array(s.prefill);
  const peak = new PeakCounter();
  for (let i = 0; i < live; i++) peak.add(sim[i]);
  for (let i = 0; i < steps; i++) {
    const slot = s.slot[i];
    const size = s.size[i];
    if (s.realloc === null || s.realloc[i] === 0) {
      peak.add(-sim[slot]);
      peak.add(size);
    } else {
      peak.add(size - sim[slot]);
    }
    sim[slot] = size;
  }
  let ops = 0;
  for (let i = 0; i < steps; i++) ops += s.realloc !== null && s.realloc[i] === 1 ? 1 : 2;
  return {
    opsPerSample: ops,
    peakLiveBytes: peak.peak,
    slots: live,
    probes: Math.ceil(steps / PROBE_EVERY),
    setup(a: Allocator) {
      cur.set(s.prefill);
      pos = 0;
      for (let i = 0; i < live; i++) a.alloc(i, cur[i]);
    },
    sample(a: Allocator, probe: Probe | null) {
      if (pos + steps > total) pos = 0;
      if (s.realloc === null) replaceSample(s, cur, pos, pos + steps, a, probe);
      else mixedSample(s, cur, pos, pos + steps, a, probe);
      pos += steps;
    },
    teardown(a: Allocator) {
      a.discard(live, cur);
    },
  };
}
