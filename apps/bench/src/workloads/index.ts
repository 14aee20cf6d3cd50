/*-------------------------------------------------------------------------
 *
 * index.ts
 *	  The plan: every workload variant of issue 7, in table order.
 *
 *-------------------------------------------------------------------------
 */

import { churnVariants } from "./churn.js";
import { growVariants } from "./grow.js";
import { mixedVariants } from "./mixed.js";
import { nodesVariants } from "./nodes.js";
import { queryVariants } from "./query.js";
import { requestVariants } from "./request.js";
import type { PlanConfig, Variant } from "./types.js";

export type { Job, PlanConfig, Probe, Variant } from "./types.js";

/** What one operation is, per workload: the unit of ns/op. */
export const OPERATION: Record<Variant["workload"], string> = {
  churn: "one alloc or one free (a batch of 1,000 is 2,000 operations)",
  query:
    "one allocation; the frees, per-row resets and context deletes that give it back are part of its cost",
  request:
    "one allocation or the cleanup registration (53 per request); the frees or the pool destroy are part of their cost",
  nodes: "one alloc or one free (a step frees a random node and allocates one: 2 operations)",
  mixed: "one malloc, free or realloc (a step is free + malloc, or, every third step, one realloc)",
  grow: "one malloc, realloc or free (18 per vector: 16 B, 16 doublings to 1 MiB, free)",
};

/** Every variant, in the order of the table. */
export function plan(cfg: PlanConfig, workloads?: readonly string[]): Variant[] {
  const all = [
    ...churnVariants(cfg),
    ...queryVariants(cfg),
    ...requestVariants(cfg),
    ...nodesVariants(cfg),
    ...mixedVariants(cfg),
    ...growVariants(cfg),
  ];
  return workloads === undefined ? all : all.filter((v) => workloads.includes(v.workload));
}
