/*-------------------------------------------------------------------------
 *
 * nodes.ts
 *	  Workload 4, container-shaped: nodes of 24..48 bytes (uniform),
 *	  100,000 live, each step freeing a random live node and allocating a
 *	  new one in its place.
 *
 * One operation is one alloc or one free: 2 per step.
 *
 *-------------------------------------------------------------------------
 */

import { Rng } from "../rng.js";
import { type SteadyStream, steadyJob } from "./steady.js";
import type { Job, PlanConfig, Variant } from "./types.js";

const MIN_NODE = 24;
const MAX_NODE = 48;

/** The nodes workload: 100,000 live, 100,000 steps per sample (10,000 and 5,000 with `--quick`). */
export function nodesVariants(cfg: PlanConfig): Variant[] {
  const live = cfg.quick ? 10_000 : 100_000;
  const steps = cfg.quick ? 5000 : 100_000;
  const key = "nodes/live";
  let stream: SteadyStream | undefined;
  return [
    {
      workload: "nodes",
      key,
      label: `${live.toLocaleString("en-US")} live`,
      unitName: "steps",
      units: steps,
      live,
      job(n: number): Job {
        if (stream === undefined) {
          const rng = new Rng(cfg.seed, key);
          const prefill = new Int32Array(live);
          for (let i = 0; i < live; i++) prefill[i] = rng.int(MIN_NODE, MAX_NODE);
          const slot = new Int32Array(steps);
          const size = new Int32Array(steps);
          for (let i = 0; i < steps; i++) {
            slot[i] = rng.int(0, live - 1);
            size[i] = rng.int(MIN_NODE, MAX_NODE);
          }
          stream = { prefill, slot, size, realloc: null };
        }
        return steadyJob(stream, n);
      },
    },
  ];
}
