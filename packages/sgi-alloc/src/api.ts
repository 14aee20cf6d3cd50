/*-------------------------------------------------------------------------
 *
 * api.ts
 *	  The public types of @mmgr/sgi-alloc: options, stats, the allocator
 *	  interface the typed layer works on, and the malloc handler.
 *
 *-------------------------------------------------------------------------
 */

import type { Ptr } from "@mmgr/heap";
import type { MallocAlloc } from "./malloc-alloc.js";

/**
 * The out-of-memory handler of the first level (`__malloc_alloc_oom_handler`):
 * called when the heap cannot give memory, before each retry. It should free
 * memory, install another handler (or `null`), or throw; one that does none of
 * these makes the retry loop spin forever, as in the original.
 */
export type MallocHandler = () => void;

/** What both levels offer: SGI's allocator interface (`allocate`/`deallocate`). */
export interface Allocator {
  /** `n` bytes, 8-aligned. */
  allocate(n: number): Ptr;
  /** Gives back `ptr`, which was allocated with size `n`. */
  deallocate(ptr: Ptr, n: number): void;
}

/** Options of {@link DefaultAlloc}'s constructor. */
export interface DefaultAllocOptions {
  /**
   * The `__threads` template parameter: take the pool's lock (a word of the
   * control struct, taken with `Atomics.compareExchange`; on a shared heap a
   * contended lock sleeps in `Atomics.wait` after a short spin) around every
   * free-list operation, so that handles in many workers can share the pool
   * (`DefaultAlloc.attach`). Without it no lock code runs, and the pool
   * belongs to one worker.
   * @defaultValue false
   */
  threads?: boolean;
  /**
   * The first level to use for requests above {@link MAX_BYTES} and as the
   * last resort of `_S_chunk_alloc`; pass one to share its malloc handler.
   * It must be on the same heap.
   * @defaultValue a new `MallocAlloc` on the pool's heap
   */
  firstLevel?: MallocAlloc;
}

/** What {@link DefaultAlloc.stats} reports. All sizes in bytes. */
export interface PoolStats {
  /** `_S_heap_size`: every byte `_S_chunk_alloc` has obtained, never given back. */
  heapSize: number;
  /** `_S_end_free - _S_start_free`: the uncarved rest of the current chunk. */
  bytesLeft: number;
  /** Objects on each of the {@link NFREELISTS} free lists (sizes 8, 16, ..., 128). */
  freeListLengths: number[];
}

/** The typed layer of {@link simpleAlloc}: `simple_alloc<T, Alloc>`. */
export interface SimpleAlloc {
  /** The allocator underneath. */
  readonly alloc: Allocator;
  /** `sizeof(T)`. */
  readonly bytesPerElement: number;
  /**
   * Room for `count` elements; `0` (NULL) for `count` 0, as `simple_alloc` does.
   * @defaultValue count: 1 (`simple_alloc::allocate(void)`)
   */
  allocate(count?: number): Ptr;
  /**
   * Gives back room for `count` elements; does nothing for `count` 0.
   * @defaultValue count: 1 (`simple_alloc::deallocate(T*)`)
   */
  deallocate(ptr: Ptr, count?: number): void;
}
