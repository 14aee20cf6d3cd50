/*-------------------------------------------------------------------------
 *
 * request.ts
 *	  Workload 3, nginx-shaped: per request 50 small allocations (log-
 *	  uniform 16..512 bytes), 2 large ones (log-uniform 8..64 KiB) at
 *	  positions drawn from the seed, and a cleanup handler; then the
 *	  request's pool is destroyed.
 *
 * An allocator with scopes opens one per request and closes it at the end
 * (which runs the cleanup); one without runs the cleanup itself and frees
 * the 52 allocations in allocation order.
 *
 * One operation is one allocation or the cleanup registration: 53 per
 * request; the frees or the destroy are part of their cost.
 *
 *-------------------------------------------------------------------------
 */

import { type Allocator, cleanupHandler } from "../adapters/types.js";
import { Rng } from "../rng.js";
import type { Job, PlanConfig, Probe, Variant } from "./types.js";

const SMALL = 50;
const LARGE = 2;
/** Allocations per request. */
export const PER_REQUEST = SMALL + LARGE;
const REQ = 0;

function generate(seed: number, key: string, requests: number): Int32Array {
  const rng = new Rng(seed, key);
  const sizes = new Int32Array(requests * PER_REQUEST);
  for (let r = 0; r < requests; r++) {
    const base = r * PER_REQUEST;
    for (let i = 0; i < SMALL; i++) sizes[base + i] = rng.logUniform(16, 512);
    for (let i = SMALL; i < PER_REQUEST; i++) sizes[base + i] = rng.logUniform(8 << 10, 64 << 10);
    // move the large ones to random positions
    for (let i = SMALL; i < PER_REQUEST; i++) {
      const j = rng.int(0, i);
      const t = sizes[base + i];
      sizes[base + i] = sizes[base + j];
      sizes[base + j] = t;
    }
  }
  return sizes;
}

function scopedSample(
  sizes: Int32Array,
  requests: number,
  a: Allocator,
  probe: Probe | null,
): void {
  for (let r = 0; r < requests; r++) {
    const base = r * PER_REQUEST;
    a.scopeOpen(REQ, "request");
    for (let i = 0; i < PER_REQUEST; i++) a.scopeAlloc(REQ, i, sizes[base + i]);
    a.scopeCleanup(REQ);
    if (probe !== null) probe();
    a.scopeClose(REQ);
  }
}

function unscopedSample(
  sizes: Int32Array,
  requests: number,
  a: Allocator,
  probe: Probe | null,
): void {
  for (let r = 0; r < requests; r++) {
    const base = r * PER_REQUEST;
    for (let i = 0; i < PER_REQUEST; i++) a.alloc(i, sizes[base + i]);
    if (probe !== null) probe();
    cleanupHandler();
    for (let i = 0; i < PER_REQUEST; i++) a.free(i, sizes[base + i]);
  }
}

/** The request workload: 100,000 requests (2,000 with `--quick`). */
export function requestVariants(cfg: PlanConfig): Variant[] {
  const requests = cfg.quick ? 2000 : 100_000;
  const key = "request/requests";
  let stream: Int32Array | undefined;
  return [
    {
      workload: "request",
      key,
      label: `${requests.toLocaleString("en-US")} requests`,
      unitName: "requests",
      units: requests,
      live: 0,
      job(n: number): Job {
        stream ??= generate(cfg.seed, key, requests);
        const sizes = stream;
        let peak = 0;
        for (let r = 0; r < n; r++) {
          let sum = 0;
          for (let i = 0; i < PER_REQUEST; i++) sum += sizes[r * PER_REQUEST + i];
          if (sum > peak) peak = sum;
        }
        return {
          opsPerSample: n * (PER_REQUEST + 1),
          peakLiveBytes: peak,
          slots: PER_REQUEST,
          probes: n,
          setup() {},
          teardown() {},
          sample(a: Allocator, probe: Probe | null) {
            if (a.scoped) scopedSample(sizes, n, a, probe);
            else unscopedSample(sizes, n, a, probe);
          },
        };
      },
    },
  ];
}
