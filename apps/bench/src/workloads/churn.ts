/*-------------------------------------------------------------------------
 *
 * churn.ts
 *	  Workload 1: alloc+free of one fixed size in batches of 1,000, freed
 *	  in reverse order (LIFO) or in a shuffled order.
 *
 * A batch allocates 1,000 blocks of the size into slots 0..999, then frees
 * them all: last first (LIFO), or in a permutation drawn per batch from
 * the seed (shuffled). One operation is one alloc or one free, so a batch
 * is 2,000 operations. Peak live: 1,000 x size.
 *
 *-------------------------------------------------------------------------
 */

import type { Allocator } from "../adapters/types.js";
import { Rng } from "../rng.js";
import type { Job, PlanConfig, Probe, Variant } from "./types.js";

/** Blocks per batch (issue 7). */
export const CHURN_BATCH = 1000;
/** The sizes of issue 7. */
export const CHURN_SIZES = [16, 64, 256, 1024] as const;

/** A churn job: `order` null frees each batch last first, else in the batch's permutation from `order`. */
function churnJob(size: number, units: number, order: Int32Array | null): Job {
  return {
    opsPerSample: units * 2 * CHURN_BATCH,
    peakLiveBytes: CHURN_BATCH * size,
    slots: CHURN_BATCH,
    probes: units,
    setup() {},
    teardown() {},
    sample(a: Allocator, probe: Probe | null) {
      for (let b = 0; b < units; b++) {
        for (let i = 0; i < CHURN_BATCH; i++) a.alloc(i, size);
        if (probe !== null) probe();
        if (order === null) {
          for (let i = CHURN_BATCH - 1; i >= 0; i--) a.free(i, size);
        } else {
          const base = b * CHURN_BATCH;
          for (let i = 0; i < CHURN_BATCH; i++) a.free(order[base + i], size);
        }
      }
    },
  };
}

/** The eight churn variants: LIFO and shuffled, at each size. */
export function churnVariants(cfg: PlanConfig): Variant[] {
  const units = cfg.quick ? 2 : 20;
  const variants: Variant[] = [];
  for (const order of ["LIFO", "shuffled"] as const) {
    for (const size of CHURN_SIZES) {
      const key = `churn/${order.toLowerCase()}/${size}`;
      let stream: Int32Array | undefined;
      variants.push({
        workload: "churn",
        key,
        label: `${order} ${size} B`,
        unitName: "batches",
        units,
        live: 0,
        job(n: number): Job {
          if (order === "LIFO") return churnJob(size, n, null);
          if (stream === undefined) {
            const rng = new Rng(cfg.seed, key);
            stream = new Int32Array(units * CHURN_BATCH);
            for (let b = 0; b < units; b++) {
              const base = b * CHURN_BATCH;
              for (let i = 0; i < CHURN_BATCH; i++) stream[base + i] = i;
              rng.shuffle(stream, base, CHURN_BATCH);
            }
          }
          return churnJob(size, n, stream);
        },
      });
    }
  }
  return variants;
}
