import { createHash } from "node:crypto";
import type { Heap } from "@mmgr/heap";
import type { DefaultAlloc } from "../src/index.js";

export const KiB = 1024;

/** A fixed-size heap: it never grows, so malloc returns 0 once it is full. */
export const FIXED = (size: number, checking = false) => ({
  initialSize: size,
  maxSize: size,
  checking,
});

/**
 * Mallocs from `heap` until it has no free block left at all; returns the
 * hogs, so a test can free one to make room.
 */
export function exhaust(heap: Heap): number[] {
  const hogs: number[] = [];
  let n = heap.stats().largestFree;
  while (n >= 0) {
    const p = heap.malloc(n);
    if (p !== 0) {
      hogs.push(p);
      n = heap.stats().largestFree;
    } else {
      n -= 8;
    }
  }
  return hogs;
}

/** Everything a bad call must leave alone: the pool's and the heap's counters and every byte. */
export function snapshot(heap: Heap, pool?: DefaultAlloc) {
  const bytes = createHash("sha256").update(heap.u8).digest("hex");
  return { pool: pool?.stats(), heap: heap.stats(), bytes };
}

/** Free-list lengths with the given non-zero entries: lists({ 0: 19, 1: 9 }). */
export function lists(entries: Record<number, number>): number[] {
  const out = new Array<number>(16).fill(0);
  for (const [k, v] of Object.entries(entries)) out[Number(k)] = v;
  return out;
}
