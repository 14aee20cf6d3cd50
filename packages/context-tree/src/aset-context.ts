/*-------------------------------------------------------------------------
 *
 * aset-context.ts
 *	  AllocSet as a context type of the tree: its method table and
 *	  AllocSetContextCreate, the default kind of context.
 *
 * The AllocSet's own header is the context's MemoryContextData: @mmgr/aset
 * lays out AllocSetContext with the generic 80-byte header first and leaves
 * the tree's slots to us, so the tree links live in the set's first block,
 * where PostgreSQL keeps them. A chunk's owner is found in O(1) from its
 * header (method id 3, block offset, the block's `aset` word) by
 * AllocSet.contextOf.
 *
 *-------------------------------------------------------------------------
 */

import {
  ALLOCSET_DEFAULT_SIZES,
  AllocSet,
  type AllocSetSizes,
  CHUNK_EXTERNAL_LO,
  CHUNK_FREE_BIT,
  CHUNK_HDR_LO,
  MAX_ALLOC_SIZE,
} from "@mmgr/aset";
import { type Heap, InvalidPointerError, type Ptr } from "@mmgr/heap";
import type { MemoryContextCounters, MemoryContextMethods } from "./api.js";
import {
  linkContext,
  type MemoryContext,
  registerBuiltinMethods,
  validateCreate,
} from "./context.js";
import { MCTX_ASET_ID } from "./layout.js";

/**
 * aset.c: AllocSetMethods, the method table of AllocSet contexts
 * (method id 3). Requests above MaxAllocSize, which only MCXT_ALLOC_HUGE
 * lets through, are more than an AllocSet of @mmgr/aset serves: they fail
 * as out of memory.
 */
export const AllocSetMethods: MemoryContextMethods<AllocSet> = Object.freeze({
  type: "AllocSet",
  methodId: MCTX_ASET_ID,
  alloc(ctx: MemoryContext<AllocSet>, size: number): Ptr {
    return size > MAX_ALLOC_SIZE ? 0 : ctx.impl.alloc(size);
  },
  free(ctx: MemoryContext<AllocSet>, ptr: Ptr): void {
    ctx.impl.free(ptr);
  },
  realloc(ctx: MemoryContext<AllocSet>, ptr: Ptr, size: number): Ptr {
    return size > MAX_ALLOC_SIZE ? 0 : ctx.impl.realloc(ptr, size);
  },
  reset(ctx: MemoryContext<AllocSet>): void {
    ctx.impl.reset();
  },
  delete(ctx: MemoryContext<AllocSet>): void {
    ctx.impl.delete();
  },
  getChunkContext(heap: Heap, ptr: Ptr): Ptr {
    const ctx = AllocSet.contextOf(heap, ptr);
    // contextOf answers for a chunk on a freelist too; GetMemoryChunkContext should not.
    const lo = heap.i32[(ptr >> 2) + CHUNK_HDR_LO];
    if (lo !== CHUNK_EXTERNAL_LO && (lo & CHUNK_FREE_BIT) !== 0) {
      throw new InvalidPointerError(`pointer ${ptr} was already freed (double free)`, ptr);
    }
    return ctx;
  },
  getChunkSpace(ctx: MemoryContext<AllocSet>, ptr: Ptr): number {
    return ctx.impl.getChunkSpace(ptr);
  },
  isEmpty(ctx: MemoryContext<AllocSet>): boolean {
    return ctx.impl.isEmpty();
  },
  stats(ctx: MemoryContext<AllocSet>): MemoryContextCounters {
    return ctx.impl.stats();
  },
  check(ctx: MemoryContext<AllocSet>): void {
    ctx.impl.check();
  },
  memAllocated(ctx: MemoryContext<AllocSet>): number {
    return ctx.impl.memAllocated;
  },
});

registerBuiltinMethods(AllocSetMethods as MemoryContextMethods<never>);

/**
 * memutils.h: AllocSetContextCreate. A new AllocSet context, the first
 * child of `parent` (or a root when `parent` is null), on the tree's heap.
 * A set with default or small sizes may reuse a deleted one (aset.c's
 * context freelists).
 * @param sizes block sizing: {@link ALLOCSET_DEFAULT_SIZES}, ALLOCSET_SMALL_SIZES ...
 * @defaultValue sizes: ALLOCSET_DEFAULT_SIZES
 * @throws InvalidStateError before MemoryContextInit, or when `parent` was deleted.
 * @throws MmgrError when `parent` is not a context or `name` not a string.
 * @throws InvalidSizeError when `sizes` break aset.c's rules.
 * @throws OutOfMemoryError "out of memory" / `Failed while creating memory
 *   context "NAME".` when the heap cannot supply the first block.
 */
export function AllocSetContextCreate(
  parent: MemoryContext | null,
  name: string,
  sizes: AllocSetSizes = ALLOCSET_DEFAULT_SIZES,
): MemoryContext<AllocSet> {
  const t = validateCreate("AllocSetContextCreate", parent, name);
  const set = AllocSet.create(t.heap, name, sizes);
  return linkContext(t, AllocSetMethods, parent, name, set, set.offset);
}
