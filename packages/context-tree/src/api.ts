/*-------------------------------------------------------------------------
 *
 * api.ts
 *	  The public types of @mmgr/context-tree: the method table of a context
 *	  type, the counters, reset callbacks and the rows of the stats view.
 *
 *-------------------------------------------------------------------------
 */

import type { Heap, Ptr } from "@mmgr/heap";
import type { MemoryContext } from "./context.js";

/**
 * memnodes.h: MemoryContextCounters, what a context type's `stats` method
 * reports. All sizes in bytes.
 */
export interface MemoryContextCounters {
  /** Blocks the context holds. */
  nblocks: number;
  /** Free chunks (on freelists); 0 for types that have none. */
  freechunks: number;
  /** Bytes of all blocks (and, for AllocSet, the context header). */
  totalspace: number;
  /** Bytes not handed out: unused block tails and free chunks. */
  freespace: number;
}

/**
 * memnodes.h: MemoryContextCallback. `func(arg)` runs once, at the next
 * reset or the delete of the context it was registered with, newest first.
 */
export interface MemoryContextCallback {
  /** The function to call. */
  func: (arg: unknown) => void;
  /** What to pass it. @defaultValue undefined */
  arg?: unknown;
}

/**
 * memnodes.h: MemoryContextMethods, the table of a context type. Register a
 * type of your own by passing such a table to {@link MemoryContextCreate}.
 * Sizes passed in are already validated (an integer from 0 to the limit of
 * the flags); `alloc` and `realloc` return 0 when memory cannot be had (mcxt
 * turns that into OutOfMemoryError, or returns 0 with MCXT_ALLOC_NO_OOM) and
 * need not zero memory (mcxt does MCXT_ALLOC_ZERO).
 *
 * @typeParam T - the type's own handle, kept in {@link MemoryContext.impl}
 */
export interface MemoryContextMethods<T = unknown> {
  /** The type's name, as PG 18's pg_backend_memory_contexts `type` column: "AllocSet". */
  readonly type: string;
  /**
   * The MemoryContextMethodID the type writes in the low 4 bits of the word
   * before each chunk (3 for AllocSet; 8..14 for your own types), or 0 when
   * its chunks carry no header (then pfree and friends cannot find them).
   */
  readonly methodId: number;
  /** Allocates `size` bytes; 0 when out of memory. */
  alloc(ctx: MemoryContext<T>, size: number, flags: number): Ptr;
  /** Frees a chunk of this context. */
  free(ctx: MemoryContext<T>, ptr: Ptr): void;
  /** Resizes a chunk of this context; 0 when out of memory (the chunk then intact). */
  realloc(ctx: MemoryContext<T>, ptr: Ptr, size: number, flags: number): Ptr;
  /** Frees everything allocated in the context, keeping the context. */
  reset(ctx: MemoryContext<T>): void;
  /** Frees the context and everything in it (its header too, if the type owns it). */
  delete(ctx: MemoryContext<T>): void;
  /**
   * The node (header offset) of the context owning `ptr`, read from the
   * chunk itself; needed when `methodId` is not 0.
   * @throws InvalidPointerError when `ptr` is not a live chunk of the type.
   */
  getChunkContext?(heap: Heap, ptr: Ptr): Ptr;
  /** The bytes a chunk takes, its header included. */
  getChunkSpace(ctx: MemoryContext<T>, ptr: Ptr): number;
  /** Whether nothing is allocated in the context. */
  isEmpty(ctx: MemoryContext<T>): boolean;
  /** The counters of the context alone. */
  stats(ctx: MemoryContext<T>): MemoryContextCounters;
  /**
   * The stats text of one context; PostgreSQL lets each type print its own.
   * @defaultValue `"T total in B blocks; F free (C chunks); U used"` (AllocSet's)
   */
  statsString?(counters: MemoryContextCounters): string;
  /** Verifies the context; throws HeapCorruptionError on damage. */
  check(ctx: MemoryContext<T>): void;
  /** mem_allocated: bytes the context holds of the heap. */
  memAllocated(ctx: MemoryContext<T>): number;
}

/**
 * One row of PostgreSQL's `pg_backend_memory_contexts` view (PG 14-17
 * columns, plus PG 18's `type`), as {@link pg_backend_memory_contexts} returns.
 */
export interface MemoryContextStatsRow {
  /** The context's name. */
  name: string;
  /** Its identifier, clipped to 1023 bytes, or null. */
  ident: string | null;
  /** The parent's name, or null for the root. */
  parent: string | null;
  /** Depth below the context the listing started from (0 for it). */
  level: number;
  /** The context type (PG 18 column): "AllocSet", "NgxPool" ... */
  type: string;
  /** Bytes of the context's blocks. */
  total_bytes: number;
  /** Blocks. */
  total_nblocks: number;
  /** Free bytes. */
  free_bytes: number;
  /** Free chunks. */
  free_chunks: number;
  /** total_bytes - free_bytes. */
  used_bytes: number;
}
