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
  /** Per step, 1 for realloc, 0 for free + alloc; null when every step is free + alloc. */
  realloc: Uint8Array | null;
}

/** Steps between two memory probes. */
const PROBE_EVERY = 1024;

function replaceSample(
  s: SteadyStream,
  cur: Int32Array,
  steps: number,
  a: Allocator,
  probe: Probe | null,
): void {
  const slots = s.slot;
  const sizes = s.size;
  for (let i = 0; i < steps; i++) {
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
  steps: number,
  a: Allocator,
  probe: Probe | null,
): void {
  const slots = s.slot;
  const sizes = s.size;
  const realloc = s.realloc as Uint8Array;
  for (let i = 0; i < steps; i++) {
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

/** The job running the first `steps` steps of `s` per sample. */
export function steadyJob(s: SteadyStream, steps: number): Job {
  const live = s.prefill.length;
  const cur = new Int32Array(live);
  // peak live bytes over setup and two replays; a realloc that moves holds both sizes for a moment, not counted
  const sim = new Int32Array(s.prefill);
  const peak = new PeakCounter();
  for (let i = 0; i < live; i++) peak.add(sim[i]);
  for (let pass = 0; pass < 2; pass++) {
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
  }
  let ops = 0;
  for (let i = 0; i < steps; i++) ops += s.realloc !== null && s.realloc[i] === 1 ? 1 : 2;
  return {
    opsPerSample: ops,
    peakLiveBytes: peak.peak,
    slots: live,
    setup(a: Allocator) {
      cur.set(s.prefill);
      for (let i = 0; i < live; i++) a.alloc(i, cur[i]);
    },
    sample(a: Allocator, probe: Probe | null) {
      if (s.realloc === null) replaceSample(s, cur, steps, a, probe);
      else mixedSample(s, cur, steps, a, probe);
    },
    teardown(a: Allocator) {
      a.discard(live, cur);
    },
  };
}
