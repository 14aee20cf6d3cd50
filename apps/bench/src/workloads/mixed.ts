/*-------------------------------------------------------------------------
 *
 * mixed.ts
 *	  Workload 5, general purpose: random malloc/free/realloc at a steady
 *	  live count, sizes log-uniform. Sizes 8 B..64 KiB at 10,000 live; and
 *	  the series 8..4,096 B at 1,000, 10,000 and 100,000 live, which shows
 *	  how the cost per operation moves as the live count grows.
 *
 * Each step picks a random live slot and, every third step, reallocs it
 * to a new size (1 operation), else frees it and allocates a new size into
 * it (2 operations). One operation is one malloc, free or realloc.
 *
 *-------------------------------------------------------------------------
 */

import { Rng } from "../rng.js";
import { type SteadyStream, steadyJob } from "./steady.js";
import type { Job, PlanConfig, Variant } from "./types.js";

/** Every REALLOC_EVERY-th step is a realloc (steady.ts relies on 3). */
const REALLOC_EVERY = 3;

function variant(cfg: PlanConfig, maxSize: number, live: number, steps: number): Variant {
  const key = `mixed/${maxSize}/${live}`;
  let stream: SteadyStream | undefined;
  const sizeLabel = maxSize === 65536 ? "8 B..64 KiB" : `8..${maxSize.toLocaleString("en-US")} B`;
  return {
    workload: "mixed",
    key,
    label: `${sizeLabel} @ ${live.toLocaleString("en-US")} live`,
    unitName: "steps",
    units: steps,
    live,
    job(n: number): Job {
      if (stream === undefined) {
        const rng = new Rng(cfg.seed, key);
        const prefill = new Int32Array(live);
        for (let i = 0; i < live; i++) prefill[i] = rng.logUniform(8, maxSize);
        const slot = new Int32Array(steps);
        const size = new Int32Array(steps);
        const realloc = new Uint8Array(steps);
        for (let i = 0; i < steps; i++) {
          slot[i] = rng.int(0, live - 1);
          size[i] = rng.logUniform(8, maxSize);
          realloc[i] = i % REALLOC_EVERY === REALLOC_EVERY - 1 ? 1 : 0;
        }
        stream = { prefill, slot, size, realloc };
      }
      return steadyJob(stream, n);
    },
  };
}

/** The mixed workload: 64 KiB at 10,000 live, and the 4 KiB series (live counts / 10 with `--quick`). */
export function mixedVariants(cfg: PlanConfig): Variant[] {
  const d = cfg.quick ? 10 : 1;
  const steps = cfg.quick ? 5000 : 100_000;
  return [
    variant(cfg, 65536, 10_000 / d, steps),
    variant(cfg, 4096, 1000 / d, steps),
    variant(cfg, 4096, 10_000 / d, steps),
    variant(cfg, 4096, 100_000 / d, steps),
  ];
}
