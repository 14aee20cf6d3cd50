/*-------------------------------------------------------------------------
 *
 * api.ts
 *	  The public types of @mmgr/ngx-pool: cleanup handlers and the counters.
 *
 *-------------------------------------------------------------------------
 */

import type { Ptr } from "@mmgr/heap";

/**
 * ngx_pool_cleanup_pt: called with the record's `data` pointer when the pool
 * is destroyed (or reset: see the README's "Differences from nginx").
 */
export type NgxPoolCleanupHandler = (data: Ptr) => void;

/** What {@link NgxPool.stats} reports. All sizes in bytes. */
export interface NgxPoolStats {
  /** Blocks in the block list, the first one (holding ngx_pool_t) included. */
  blocks: number;
  /** Index in the block list of `current`, the first block a small request tries. */
  currentBlock: number;
  /** Each block's `d.failed` counter, in list order. */
  failed: number[];
  /** Live large allocations (links whose `alloc` is not 0), pmemalign's included. */
  large: number;
  /** Links in the large list, free (pfree'd) ones included. */
  largeLinks: number;
  /** Requested bytes of the live large allocations. */
  largeBytes: number;
  /**
   * Bytes between each block's header and its `d.last`: handed out, lost to
   * alignment, or skipped by reset's `d.last = block + 80` on further blocks.
   */
  smallUsed: number;
  /** Bytes between each block's `d.last` and `d.end`, including those behind `current`. */
  smallFree: number;
  /** Records on the cleanup list. */
  cleanups: number;
  /** Bytes the pool holds from the heap: every block's size plus {@link NgxPoolStats.largeBytes}. */
  memAllocated: number;
}
