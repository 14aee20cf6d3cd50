/*-------------------------------------------------------------------------
 *
 * grow.ts
 *	  Workload 6, vector-style: allocate 16 bytes, realloc to double the
 *	  size up to 1 MiB, free; 1,000 times.
 *
 * One operation is one malloc, realloc or free: 18 per vector (1 + 16 + 1).
 * Peak live: 1 MiB. The stream has no randomness.
 *
 *-------------------------------------------------------------------------
 */

import type { Allocator } from "../adapters/types.js";
import type { Job, PlanConfig, Probe, Variant } from "./types.js";

const FIRST = 16;
const LAST = 1 << 20;
const REALLOCS = Math.log2(LAST / FIRST);

/** The grow workload: 1,000 vectors per sample (50 with `--quick`). */
export function growVariants(cfg: PlanConfig): Variant[] {
  const vectors = cfg.quick ? 50 : 1000;
  return [
    {
      workload: "grow",
      key: "grow/vectors",
      label: "16 B → 1 MiB",
      unitName: "vectors",
      units: vectors,
      live: 0,
      job(n: number): Job {
        return {
          opsPerSample: n * (REALLOCS + 2),
          peakLiveBytes: LAST,
          slots: 1,
          probes: n,
          setup() {},
          teardown() {},
          sample(a: Allocator, probe: Probe | null) {
            for (let v = 0; v < n; v++) {
              a.alloc(0, FIRST);
              for (let size = FIRST; size < LAST; size *= 2) a.realloc(0, size, size * 2);
              if (probe !== null) probe();
              a.free(0, LAST);
            }
          },
        };
      },
    },
  ];
}
