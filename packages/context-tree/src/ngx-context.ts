/*-------------------------------------------------------------------------
 *
 * ngx-context.ts
 *	  An nginx pool as a context type of the tree, the way PostgreSQL 17
 *	  added its Bump context: palloc bumps from the pool's blocks, reset and
 *	  delete work, single chunks cannot be freed or resized.
 *
 * The pool (@mmgr/ngx-pool) keeps ngx_pool_t at the start of its first
 * block, as nginx does, so the context's MemoryContextData header is 80
 * bytes of its own from the heap (PG's BumpContext also sits in front of
 * its blocks). Its chunks have no header at all, as Bump's in production
 * builds. PostgreSQL then reads whatever precedes the pointer and may call
 * an unrelated type's pfree; only its checking builds add a header to catch
 * it.
 *
 * We find the context of such a pointer by its address instead: the tree
 * keeps a sorted index of the address ranges of every nginx-pool block and
 * large allocation (a few entries per context, updated when a pool gets a
 * new block or a large allocation, and at reset and delete). pfree,
 * repalloc and GetMemoryChunkContext consult it before reading a chunk
 * header (a binary search), so pfree of an nginx-pool pointer is always a
 * NotSupportedError naming the context, never a misread header, and
 * GetMemoryChunkContext works for these pointers too (it does not for
 * PostgreSQL's Bump).
 *
 *-------------------------------------------------------------------------
 */

import { HeapCorruptionError, MAX_ALLOC_SIZE, NotSupportedError, type Ptr } from "@mmgr/heap";
import { NGX_DEFAULT_POOL_SIZE, NgxPool, POOL_LARGE } from "@mmgr/ngx-pool";
import type { MemoryContextCounters, MemoryContextMethods } from "./api.js";
import {
  linkContext,
  type MemoryContext,
  outOfMemoryCreating,
  type TreeState,
  tree,
  validateCreate,
} from "./context.js";
import {
  MCTX_BUMP_ID,
  MCXT_IS_RESET_BYTE,
  MCXT_METHODS,
  SIZEOF_MEMORY_CONTEXT_DATA,
} from "./layout.js";

/** The tree's index of nginx-pool address ranges, sorted by start; ranges never overlap. */
interface NgxIndex {
  readonly starts: number[];
  readonly ends: number[];
  readonly owners: MemoryContext<NgxPool>[];
}

const INDEX_KEY = "ngx-pool";

function indexOf(t: TreeState): NgxIndex {
  let index = t.extra.get(INDEX_KEY) as NgxIndex | undefined;
  if (index === undefined) {
    const idx: NgxIndex = { starts: [], ends: [], owners: [] };
    index = idx;
    t.extra.set(INDEX_KEY, idx);
    t.addressLookups.push((ptr) => lookup(idx, ptr));
  }
  return index;
}

/** The position of the last range starting at or before `ptr`, or -1. */
function search(index: NgxIndex, ptr: number): number {
  const starts = index.starts;
  let lo = 0;
  let hi = starts.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (starts[mid] <= ptr) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

function lookup(index: NgxIndex, ptr: number): MemoryContext<NgxPool> | undefined {
  const i = search(index, ptr);
  return i >= 0 && ptr < index.ends[i] ? index.owners[i] : undefined;
}

function insert(index: NgxIndex, start: number, end: number, owner: MemoryContext<NgxPool>): void {
  const i = search(index, start);
  if (i >= 0 && index.starts[i] === start) return; // known
  index.starts.splice(i + 1, 0, start);
  index.ends.splice(i + 1, 0, end);
  index.owners.splice(i + 1, 0, owner);
}

/** Drops every range of `owner`. */
function removeAll(index: NgxIndex, owner: MemoryContext<NgxPool>): void {
  let w = 0;
  for (let r = 0; r < index.starts.length; r++) {
    if (index.owners[r] === owner) continue;
    index.starts[w] = index.starts[r];
    index.ends[w] = index.ends[r];
    index.owners[w] = index.owners[r];
    w++;
  }
  index.starts.length = w;
  index.ends.length = w;
  index.owners.length = w;
}

/** Adds every block of the pool not yet in the index. */
function addBlocks(index: NgxIndex, ctx: MemoryContext<NgxPool>): void {
  const size = ctx.impl.blockSize;
  for (const b of ctx.impl.blocks()) insert(index, b, b + size, ctx);
}

function notSupported(what: string, ctx: MemoryContext, ptr: Ptr): never {
  throw new NotSupportedError(
    `${what} is not supported by this context type: pointer ${ptr} belongs to nginx pool memory context "${ctx.name}", whose chunks are freed only by reset or delete`,
  );
}

/**
 * The method table of nginx-pool contexts ("NgxPool"). Its chunks carry no
 * header (method id 0 in the table; the context's header records
 * MCTX_BUMP_ID, the slot of PostgreSQL's headerless Bump).
 */
export const NgxPoolMethods: MemoryContextMethods<NgxPool> = Object.freeze({
  type: "NgxPool",
  methodId: 0,
  alloc(ctx: MemoryContext<NgxPool>, size: number): Ptr {
    const pool = ctx.impl;
    const heap = ctx.heap;
    if (size > MAX_ALLOC_SIZE) return 0; // HUGE: more than the arena can ever hold
    const p = pool.palloc(size);
    if (p === 0) return 0;
    const index = indexOf(tree!);
    if (size > pool.max) {
      insert(index, p, p + size, ctx);
      // Its ngx_pool_large_t may have needed a new block.
      const link = heap.i32[(pool.offset >> 2) + POOL_LARGE];
      if (lookup(index, link) !== ctx) addBlocks(index, ctx);
    } else if (lookup(index, p) !== ctx) {
      addBlocks(index, ctx);
    }
    return p;
  },
  free(ctx: MemoryContext<NgxPool>, ptr: Ptr): void {
    notSupported("pfree", ctx, ptr);
  },
  realloc(ctx: MemoryContext<NgxPool>, ptr: Ptr): Ptr {
    notSupported("repalloc", ctx, ptr);
  },
  reset(ctx: MemoryContext<NgxPool>): void {
    const index = indexOf(tree!);
    try {
      ctx.impl.reset();
    } finally {
      // The large allocations are gone, the blocks stay.
      removeAll(index, ctx);
      if (!ctx.impl.destroyed) addBlocks(index, ctx);
    }
  },
  delete(ctx: MemoryContext<NgxPool>): void {
    ctx.impl.destroy();
    removeAll(indexOf(tree!), ctx);
  },
  getChunkSpace(ctx: MemoryContext<NgxPool>, ptr: Ptr): number {
    notSupported("GetMemoryChunkSpace", ctx, ptr);
  },
  isEmpty(ctx: MemoryContext<NgxPool>): boolean {
    return ctx.heap.u8[ctx.node + MCXT_IS_RESET_BYTE] !== 0;
  },
  stats(ctx: MemoryContext<NgxPool>): MemoryContextCounters {
    const s = ctx.impl.stats();
    const totalspace = s.blocks * ctx.impl.blockSize + s.largeBytes;
    return { nblocks: s.blocks + s.large, freechunks: 0, totalspace, freespace: s.smallFree };
  },
  statsString(c: MemoryContextCounters): string {
    // bump.c BumpStats: no free-chunk count
    return `${c.totalspace} total in ${c.nblocks} blocks; ${c.freespace} free; ${c.totalspace - c.freespace} used`;
  },
  check(ctx: MemoryContext<NgxPool>): void {
    ctx.impl.check();
    const index = indexOf(tree!);
    for (const b of ctx.impl.blocks()) {
      if (lookup(index, b) !== ctx) {
        throw new HeapCorruptionError(
          `problem in nginx pool ${ctx.name}: block ${b} is missing from the tree's address index`,
          b,
        );
      }
    }
  },
  memAllocated(ctx: MemoryContext<NgxPool>): number {
    return ctx.impl.memAllocated + SIZEOF_MEMORY_CONTEXT_DATA;
  },
});

/**
 * Not in PostgreSQL: a context that is an nginx pool (ngx_create_pool), the
 * first child of `parent` (or a root when null). palloc bumps from blocks
 * of `poolSize` bytes (requests above the pool's `max` are heap
 * allocations on its large list); reset (ngx_reset_pool) and delete
 * (ngx_destroy_pool) work; pfree, repalloc and GetMemoryChunkSpace of its
 * chunks throw NotSupportedError, as PostgreSQL's Bump context.
 * @param poolSize bytes of every block: a multiple of 16, at least 112
 * @defaultValue poolSize: NGX_DEFAULT_POOL_SIZE (16 KB)
 * @throws InvalidStateError before MemoryContextInit, or when `parent` was deleted.
 * @throws MmgrError when `parent` is not a context or `name` not a string.
 * @throws InvalidSizeError when `poolSize` breaks nginx's rules.
 * @throws OutOfMemoryError "out of memory" / `Failed while creating memory
 *   context "NAME".` when the heap cannot supply the first block.
 */
export function NgxPoolContextCreate(
  parent: MemoryContext | null,
  name: string,
  poolSize: number = NGX_DEFAULT_POOL_SIZE,
): MemoryContext<NgxPool> {
  const t = validateCreate("NgxPoolContextCreate", parent, name);
  const pool = NgxPool.create(t.heap, poolSize);
  if (pool === null) outOfMemoryCreating(name, poolSize);
  let ctx: MemoryContext<NgxPool>;
  try {
    ctx = linkContext(t, NgxPoolMethods, parent, name, pool, 0);
  } catch (e) {
    pool.destroy();
    throw e;
  }
  t.heap.i32[(ctx.node >> 2) + MCXT_METHODS] = MCTX_BUMP_ID;
  addBlocks(indexOf(t), ctx);
  return ctx;
}
