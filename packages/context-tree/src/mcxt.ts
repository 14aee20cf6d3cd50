/*-------------------------------------------------------------------------
 *
 * mcxt.ts
 *	  PostgreSQL's mcxt.c and palloc.h: the process-wide contexts, the
 *	  palloc family, and the operations on the tree that do not depend on
 *	  the type of context.
 *
 * There is one tree per JS realm, as there is one per PostgreSQL backend.
 * MemoryContextInit makes TopMemoryContext (an AllocSet, the root) and
 * ErrorContext (its child, which keeps 8 KB in reserve) on one heap, and
 * every context of the tree allocates from that heap. CurrentMemoryContext
 * is where palloc allocates; MemoryContextSwitchTo changes it. The three
 * are ESM live bindings: importers always see the current value.
 *
 * pfree, repalloc, GetMemoryChunkContext and GetMemoryChunkSpace find the
 * owning context from the chunk (see context.ts), never from
 * CurrentMemoryContext. Size checks and error texts are PostgreSQL's:
 * "invalid memory alloc request size N", "out of memory" with the detail
 * `Failed on request of size N in memory context "NAME".`.
 *
 * Differences from mcxt.c (see README): what PostgreSQL asserts (deleting
 * CurrentMemoryContext or an ancestor of it, TopMemoryContext, a cycle in
 * MemoryContextSetParent) throws a typed error and changes nothing;
 * MemoryContextCheck throws on the first problem instead of printing
 * WARNINGs; MemoryContextStats returns its text and prints only on request,
 * and an out-of-memory error does not dump it to stderr; the tree can be
 * torn down (MemoryContextTeardown, or MemoryContextInit again).
 *
 *-------------------------------------------------------------------------
 */

import { AllocSet, type AllocSetSizes } from "@mmgr/aset";
import {
  Heap,
  HeapCorruptionError,
  InvalidSizeError,
  InvalidStateError,
  MmgrError,
  OutOfMemoryError,
  type Ptr,
} from "@mmgr/heap";
import type { MemoryContextCallback, MemoryContextCounters, MemoryContextStatsRow } from "./api.js";
import { AllocSetContextCreate } from "./aset-context.js";
import {
  chunkContext,
  fmt,
  handleAt,
  link,
  MemoryContext,
  requireLive,
  requireTree,
  setDeleteHook,
  setTree,
  type TreeState,
  tree,
  unlink,
} from "./context.js";
import {
  MCXT_FIRSTCHILD,
  MCXT_IS_RESET_BYTE,
  MCXT_NEXTCHILD,
  MCXT_PARENT,
  MCXT_PREVCHILD,
  MCXT_RESET_CBS,
  MCXT_SERIAL,
} from "./layout.js";

// ---------------------------------------------------------------------------
// Constants (palloc.h, memutils.h)
// ---------------------------------------------------------------------------

/** palloc.h: MCXT_ALLOC_HUGE, allow sizes up to MaxAllocHugeSize. */
export const MCXT_ALLOC_HUGE = 0x01;
/** palloc.h: MCXT_ALLOC_NO_OOM, return 0 instead of throwing when out of memory. */
export const MCXT_ALLOC_NO_OOM = 0x02;
/** palloc.h: MCXT_ALLOC_ZERO, zero the memory. */
export const MCXT_ALLOC_ZERO = 0x04;
const MCXT_ALLOC_FLAGS = MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM | MCXT_ALLOC_ZERO;

/** memutils.h: MaxAllocSize (1 GB - 1), the largest request without MCXT_ALLOC_HUGE. */
export const MaxAllocSize = 0x3fffffff;
/**
 * memutils.h: MaxAllocHugeSize is SIZE_MAX / 2; ours is the largest integer
 * a number holds exactly (2^53 - 1). The arena itself stops below 2 GB.
 */
export const MaxAllocHugeSize = Number.MAX_SAFE_INTEGER;

/** memutils.h: AllocSizeIsValid, an integer size from 0 to MaxAllocSize. */
export function AllocSizeIsValid(size: number): boolean {
  return size >>> 0 === size && size <= MaxAllocSize;
}

/** memutils.h: AllocHugeSizeIsValid, an integer size from 0 to MaxAllocHugeSize. */
export function AllocHugeSizeIsValid(size: number): boolean {
  return Number.isSafeInteger(size) && size >= 0;
}

/** mcxt.c MemoryContextInit: ErrorContext's sizes, so 8 KB stay in reserve for errors. */
const ERROR_CONTEXT_SIZES: AllocSetSizes = Object.freeze({
  minContextSize: 8 * 1024,
  initBlockSize: 8 * 1024,
  maxBlockSize: 8 * 1024,
});
/** memutils.h ALLOCSET_DEFAULT_SIZES, TopMemoryContext's. */
const TOP_CONTEXT_SIZES: AllocSetSizes = Object.freeze({
  minContextSize: 0,
  initBlockSize: 8 * 1024,
  maxBlockSize: 8 * 1024 * 1024,
});

/** mcxt.c MemoryContextStats: the hard-wired max_level and max_children. */
export const MEMORY_CONTEXT_STATS_MAX_LEVEL = 100;
export const MEMORY_CONTEXT_STATS_MAX_CHILDREN = 100;
/** mcxt.c MemoryContextStatsPrint: idents are cut at 100 bytes (then "..."). */
export const MEMORY_CONTEXT_STATS_IDENT_BYTES = 100;
/** mcxtfuncs.c: MEMORY_CONTEXT_IDENT_DISPLAY_SIZE, idents in the view keep < 1024 bytes. */
export const MEMORY_CONTEXT_IDENT_DISPLAY_SIZE = 1024;

// ---------------------------------------------------------------------------
// The globals
// ---------------------------------------------------------------------------

/**
 * The root of the tree, an AllocSet named "TopMemoryContext"; never reset
 * or deleted. null before {@link MemoryContextInit}. A live binding.
 */
export let TopMemoryContext: MemoryContext<AllocSet> | null = null;
/**
 * A child of TopMemoryContext that always keeps 8 KB, for error recovery.
 * null before {@link MemoryContextInit}. A live binding.
 */
export let ErrorContext: MemoryContext<AllocSet> | null = null;
/**
 * Where palloc allocates; change it with {@link MemoryContextSwitchTo}.
 * null before {@link MemoryContextInit}. A live binding.
 */
export let CurrentMemoryContext: MemoryContext | null = null;

/**
 * mcxt.c: MemoryContextInit. Makes the tree: TopMemoryContext (an AllocSet
 * with ALLOCSET_DEFAULT_SIZES), ErrorContext as its child (8 KB / 8 KB /
 * 8 KB), and CurrentMemoryContext = TopMemoryContext. Called again, it first
 * tears the existing tree down ({@link MemoryContextTeardown}): that is how
 * tests start over.
 * @param heap the heap of every context of the tree
 * @defaultValue heap: `Heap.create()` (1 MiB, growing to 256 MiB)
 * @returns the tree's heap
 * @throws OutOfMemoryError when the heap cannot hold the two contexts.
 */
export function MemoryContextInit(heap?: Heap): Heap {
  if (tree !== null) MemoryContextTeardown();
  if (heap !== undefined && !(heap instanceof Heap)) {
    throw new MmgrError(`MemoryContextInit(): ${fmt(heap)} is not a Heap`);
  }
  const h = heap ?? Heap.create();
  const t: TreeState = {
    heap: h,
    contexts: new Map(),
    idents: new Map(),
    callbacks: new Map(),
    addressLookups: [],
    extra: new Map(),
  };
  setTree(t);
  try {
    TopMemoryContext = AllocSetContextCreate(null, "TopMemoryContext", TOP_CONTEXT_SIZES);
    CurrentMemoryContext = TopMemoryContext;
    ErrorContext = AllocSetContextCreate(TopMemoryContext, "ErrorContext", ERROR_CONTEXT_SIZES);
  } catch (e) {
    MemoryContextTeardown();
    throw e;
  }
  return h;
}

/**
 * Not in PostgreSQL (a backend's tree lives as long as the process): deletes
 * every context of the tree, roots other than TopMemoryContext included,
 * running their reset callbacks, gives the AllocSets kept for reuse back
 * to the heap, and sets TopMemoryContext, ErrorContext and
 * CurrentMemoryContext to null. The heap is then as it was before
 * MemoryContextInit. Every handle and pointer of the old tree is dead. Does
 * nothing when there is no tree.
 * @throws the error of a reset callback that threw (an AggregateError when
 *   several did), after the whole tree is gone.
 */
export function MemoryContextTeardown(): void {
  const t = tree;
  if (t === null) return;
  const errors: unknown[] = [];
  const i32 = () => t.heap.i32;
  for (;;) {
    let root: MemoryContext | undefined;
    for (const c of t.contexts.values()) {
      if (i32()[(c.node >> 2) + MCXT_PARENT] === 0) {
        root = c;
        break;
      }
    }
    if (root === undefined) break;
    deleteTree(t, root, errors);
  }
  AllocSet.releaseCachedContexts(t.heap);
  setTree(null);
  TopMemoryContext = null;
  ErrorContext = null;
  CurrentMemoryContext = null;
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) {
    throw new AggregateError(errors, "MemoryContextTeardown(): reset callbacks threw");
  }
}

/**
 * palloc.h: MemoryContextSwitchTo. Makes `ctx` CurrentMemoryContext.
 * @returns the previous CurrentMemoryContext
 * @throws InvalidStateError before MemoryContextInit, or when `ctx` was deleted.
 * @throws MmgrError when `ctx` is not a MemoryContext.
 */
export function MemoryContextSwitchTo(ctx: MemoryContext): MemoryContext {
  requireLive(ctx, "MemoryContextSwitchTo");
  const old = CurrentMemoryContext!;
  CurrentMemoryContext = ctx;
  return old;
}

/**
 * Not in PostgreSQL (which pairs MemoryContextSwitchTo calls by hand):
 * switches to `ctx`, runs `fn`, and switches back even when `fn` throws.
 * For synchronous `fn` only: an async function would be back in the old
 * context at its first `await`. If `fn` deleted the old context, the
 * switch goes to TopMemoryContext and (unless `fn` threw) an
 * InvalidStateError is thrown.
 * @returns what `fn` returns
 * @throws InvalidStateError / MmgrError as {@link MemoryContextSwitchTo};
 *   whatever `fn` throws.
 */
export function withMemoryContext<R>(ctx: MemoryContext, fn: () => R): R {
  const old = MemoryContextSwitchTo(ctx);
  let ok = false;
  try {
    const r = fn();
    ok = true;
    return r;
  } finally {
    if (!old.deleted) {
      CurrentMemoryContext = old;
    } else {
      CurrentMemoryContext = TopMemoryContext;
      if (ok) {
        // biome-ignore lint/correctness/noUnsafeFinally: reporting the lost context is the point
        throw new InvalidStateError(
          `withMemoryContext(): memory context "${old.name}" to switch back to was deleted; switched to TopMemoryContext`,
        );
      }
    }
  }
}

// ---------------------------------------------------------------------------
// palloc and friends
// ---------------------------------------------------------------------------

function isLive(ctx: MemoryContext): boolean {
  return (
    ctx instanceof MemoryContext &&
    tree !== null &&
    tree.heap === ctx.heap &&
    ctx.heap.i32[(ctx.node >> 2) + MCXT_SERIAL] === ctx.serial
  );
}

/** mcxt.c: MemoryContextSizeFailure. */
function sizeFailure(size: unknown): never {
  throw new InvalidSizeError(`invalid memory alloc request size ${fmt(size)}`, size);
}

/** mcxt.c: MemoryContextAllocationFailure, without NO_OOM. */
function allocationFailure(ctx: MemoryContext, size: number): never {
  throw new OutOfMemoryError(
    "out of memory",
    size,
    `Failed on request of size ${size} in memory context "${ctx.name}".`,
  );
}

function badFlags(fn: string, flags: unknown): never {
  throw new MmgrError(
    `${fn}(): flags ${fmt(flags)} are not a combination of MCXT_ALLOC_HUGE, MCXT_ALLOC_NO_OOM and MCXT_ALLOC_ZERO`,
  );
}

function noCurrent(fn: string): never {
  throw new InvalidStateError(`${fn}(): no CurrentMemoryContext: call MemoryContextInit() first`);
}

/** The allocation every palloc variant ends in; arguments not yet checked. */
function allocIn(fn: string, ctx: MemoryContext, size: number, flags: number): Ptr {
  if (!isLive(ctx)) requireLive(ctx, fn);
  if (size >>> 0 !== size || size > MaxAllocSize) {
    if ((flags & MCXT_ALLOC_HUGE) === 0 || !AllocHugeSizeIsValid(size)) sizeFailure(size);
  }
  const heap = ctx.heap;
  heap.u8[ctx.node + MCXT_IS_RESET_BYTE] = 0;
  const p = ctx.methods.alloc(ctx, size, flags);
  if (p === 0) {
    if ((flags & MCXT_ALLOC_NO_OOM) !== 0) return 0;
    allocationFailure(ctx, size);
  }
  if ((flags & MCXT_ALLOC_ZERO) !== 0) heap.u8.fill(0, p, p + size);
  return p;
}

function checkFlags(fn: string, flags: number): void {
  if (flags >>> 0 !== flags || (flags & ~MCXT_ALLOC_FLAGS) !== 0) badFlags(fn, flags);
}

/**
 * mcxt.c: MemoryContextAlloc. `size` bytes in `ctx`, MAXALIGNed; 0 bytes
 * is a valid request.
 * @returns the pointer (never 0)
 * @throws InvalidSizeError "invalid memory alloc request size N" when
 *   `size` is not an integer from 0 to MaxAllocSize.
 * @throws OutOfMemoryError "out of memory" / `Failed on request of size N
 *   in memory context "NAME".` when the heap cannot supply it.
 * @throws InvalidStateError when `ctx` was deleted or there is no tree.
 * @throws NotSupportedError never (every type can allocate).
 */
export function MemoryContextAlloc(ctx: MemoryContext, size: number): Ptr {
  return allocIn("MemoryContextAlloc", ctx, size, 0);
}

/**
 * mcxt.c: MemoryContextAllocZero. As {@link MemoryContextAlloc}, zeroed.
 * @throws as MemoryContextAlloc.
 */
export function MemoryContextAllocZero(ctx: MemoryContext, size: number): Ptr {
  return allocIn("MemoryContextAllocZero", ctx, size, MCXT_ALLOC_ZERO);
}

/**
 * mcxt.c: MemoryContextAllocExtended. As {@link MemoryContextAlloc} with
 * flags: MCXT_ALLOC_HUGE (sizes up to MaxAllocHugeSize), MCXT_ALLOC_NO_OOM
 * (0 instead of OutOfMemoryError), MCXT_ALLOC_ZERO (zeroed).
 * @returns the pointer, or 0 with MCXT_ALLOC_NO_OOM when out of memory
 * @throws MmgrError when `flags` has other bits.
 * @throws as MemoryContextAlloc.
 */
export function MemoryContextAllocExtended(ctx: MemoryContext, size: number, flags: number): Ptr {
  checkFlags("MemoryContextAllocExtended", flags);
  return allocIn("MemoryContextAllocExtended", ctx, size, flags);
}

/**
 * mcxt.c: MemoryContextAllocHuge. As {@link MemoryContextAlloc} with
 * sizes up to MaxAllocHugeSize (an AllocSet serves at most MaxAllocSize:
 * larger requests fail as out of memory).
 * @throws as MemoryContextAlloc.
 */
export function MemoryContextAllocHuge(ctx: MemoryContext, size: number): Ptr {
  return allocIn("MemoryContextAllocHuge", ctx, size, MCXT_ALLOC_HUGE);
}

/**
 * mcxt.c: palloc. `size` bytes in CurrentMemoryContext.
 * @returns the pointer (never 0)
 * @throws InvalidStateError before MemoryContextInit.
 * @throws as {@link MemoryContextAlloc}.
 */
export function palloc(size: number): Ptr {
  const ctx = CurrentMemoryContext;
  if (ctx === null) noCurrent("palloc");
  return allocIn("palloc", ctx, size, 0);
}

/**
 * mcxt.c: palloc0. As {@link palloc}, zeroed.
 * @throws as palloc.
 */
export function palloc0(size: number): Ptr {
  const ctx = CurrentMemoryContext;
  if (ctx === null) noCurrent("palloc0");
  return allocIn("palloc0", ctx, size, MCXT_ALLOC_ZERO);
}

/**
 * mcxt.c: palloc_extended. As {@link MemoryContextAllocExtended} in
 * CurrentMemoryContext.
 * @returns the pointer, or 0 with MCXT_ALLOC_NO_OOM when out of memory
 * @throws as MemoryContextAllocExtended; InvalidStateError before MemoryContextInit.
 */
export function palloc_extended(size: number, flags: number): Ptr {
  const ctx = CurrentMemoryContext;
  if (ctx === null) noCurrent("palloc_extended");
  checkFlags("palloc_extended", flags);
  return allocIn("palloc_extended", ctx, size, flags);
}

/**
 * mcxt.c: pfree. Frees a chunk, in whatever context it was allocated (found
 * from the chunk, not from CurrentMemoryContext). `pfree(0)` is an error,
 * as in PostgreSQL.
 * @throws InvalidPointerError when `ptr` is not a live chunk of a context
 *   of the tree: NULL, never allocated, already freed, or freed with its context.
 * @throws NotSupportedError when the context's type cannot free single
 *   chunks (an nginx-pool context).
 * @throws HeapCorruptionError in checking mode when the chunk's sentinel was overwritten.
 * @throws InvalidStateError before MemoryContextInit.
 */
export function pfree(ptr: Ptr): void {
  const ctx = chunkContext("pfree", ptr);
  ctx.methods.free(ctx, ptr);
}

/** repalloc_extended with the name of the calling function. */
function reallocIn(fn: string, ptr: Ptr, size: number, flags: number): Ptr {
  const ctx = chunkContext(fn, ptr);
  if (size >>> 0 !== size || size > MaxAllocSize) {
    if ((flags & MCXT_ALLOC_HUGE) === 0 || !AllocHugeSizeIsValid(size)) sizeFailure(size);
  }
  const np = ctx.methods.realloc(ctx, ptr, size, flags);
  if (np === 0) {
    if ((flags & MCXT_ALLOC_NO_OOM) !== 0) return 0;
    allocationFailure(ctx, size);
  }
  return np;
}

/**
 * mcxt.c: repalloc. Resizes a chunk in the context it belongs to (not
 * CurrentMemoryContext); it may move. The old contents are kept up to the
 * smaller size.
 * @returns the (possibly moved) pointer
 * @throws InvalidPointerError / NotSupportedError as {@link pfree}.
 * @throws InvalidSizeError as {@link MemoryContextAlloc}.
 * @throws OutOfMemoryError as MemoryContextAlloc; the old chunk is then intact.
 */
export function repalloc(ptr: Ptr, size: number): Ptr {
  return reallocIn("repalloc", ptr, size, 0);
}

/**
 * mcxt.c: repalloc_extended. As {@link repalloc} with MCXT_ALLOC_HUGE and
 * MCXT_ALLOC_NO_OOM (MCXT_ALLOC_ZERO is ignored, as in PostgreSQL).
 * @returns the pointer, or 0 with MCXT_ALLOC_NO_OOM when out of memory
 *   (the old chunk then intact)
 * @throws MmgrError when `flags` has other bits.
 * @throws as repalloc.
 */
export function repalloc_extended(ptr: Ptr, size: number, flags: number): Ptr {
  checkFlags("repalloc_extended", flags);
  return reallocIn("repalloc_extended", ptr, size, flags);
}

/**
 * mcxt.c: repalloc_huge. As {@link repalloc} with sizes up to MaxAllocHugeSize.
 * @throws as repalloc.
 */
export function repalloc_huge(ptr: Ptr, size: number): Ptr {
  return reallocIn("repalloc_huge", ptr, size, MCXT_ALLOC_HUGE);
}

/**
 * mcxt.c: repalloc0. As {@link repalloc}, then zeroes the bytes from
 * `oldsize` to `size`.
 * @throws InvalidSizeError "invalid repalloc0 call: oldsize N, new size M"
 *   when `oldsize > size` (nothing changed).
 * @throws as repalloc.
 */
export function repalloc0(ptr: Ptr, oldsize: number, size: number): Ptr {
  if (!(oldsize >>> 0 === oldsize) || oldsize > size) {
    throw new InvalidSizeError(
      `invalid repalloc0 call: oldsize ${fmt(oldsize)}, new size ${fmt(size)}`,
      oldsize,
    );
  }
  const np = reallocIn("repalloc0", ptr, size, 0);
  const heap = tree!.heap;
  heap.u8.fill(0, np + oldsize, np + size);
  return np;
}

const encoder = new TextEncoder();

/**
 * mcxt.c: MemoryContextStrdup. Copies `s` into `ctx` as a NUL-terminated
 * UTF-8 string.
 * @returns the pointer
 * @throws as {@link MemoryContextAlloc}; MmgrError when `s` is not a string.
 */
export function MemoryContextStrdup(ctx: MemoryContext, s: string): Ptr {
  if (typeof s !== "string")
    throw new MmgrError(`MemoryContextStrdup(): ${fmt(s)} is not a string`);
  const bytes = encoder.encode(s);
  const p = allocIn("MemoryContextStrdup", ctx, bytes.length + 1, 0);
  const u8 = ctx.heap.u8;
  u8.set(bytes, p);
  u8[p + bytes.length] = 0;
  return p;
}

/**
 * mcxt.c: pstrdup. {@link MemoryContextStrdup} in CurrentMemoryContext.
 * @throws as MemoryContextStrdup; InvalidStateError before MemoryContextInit.
 */
export function pstrdup(s: string): Ptr {
  const ctx = CurrentMemoryContext;
  if (ctx === null) noCurrent("pstrdup");
  return MemoryContextStrdup(ctx, s);
}

/**
 * mcxt.c: GetMemoryChunkContext. The context a chunk was allocated in,
 * found from the chunk itself.
 * @throws InvalidPointerError as {@link pfree}.
 */
export function GetMemoryChunkContext(ptr: Ptr): MemoryContext {
  return chunkContext("GetMemoryChunkContext", ptr);
}

/**
 * mcxt.c: GetMemoryChunkSpace. The bytes a chunk takes in its context, its
 * header and rounding included (AllocSet: `(8 << fidx) + header`).
 * @throws InvalidPointerError as {@link pfree}.
 * @throws NotSupportedError for an nginx-pool chunk (it has no header that
 *   records its size).
 */
export function GetMemoryChunkSpace(ptr: Ptr): number {
  const ctx = chunkContext("GetMemoryChunkSpace", ptr);
  return ctx.methods.getChunkSpace(ctx, ptr);
}

// ---------------------------------------------------------------------------
// Reset, delete, the shape of the tree
// ---------------------------------------------------------------------------

/** The node of each protected context and why it may not go. */
function protectedContexts(): [MemoryContext | null, string][] {
  return [
    [TopMemoryContext, "TopMemoryContext"],
    [ErrorContext, "ErrorContext"],
    [CurrentMemoryContext, "CurrentMemoryContext"],
  ];
}

/**
 * Refuses to delete `ctx` (with `self`) or its descendants (without) when
 * CurrentMemoryContext, ErrorContext or TopMemoryContext is among them.
 */
function checkDeletable(t: TreeState, fn: string, ctx: MemoryContext, self: boolean): void {
  const i32 = t.heap.i32;
  for (const [g, label] of protectedContexts()) {
    if (g === null || g.deleted) continue;
    if (g === ctx) {
      if (!self) continue;
      if (label === "CurrentMemoryContext") {
        throw new InvalidStateError(
          `${fn}(): cannot delete memory context "${ctx.name}": it is CurrentMemoryContext; switch to another context first`,
        );
      }
      throw new InvalidStateError(
        `${fn}(): cannot delete ${label}: it lives until MemoryContextTeardown() or the next MemoryContextInit()`,
      );
    }
    for (let a = i32[(g.node >> 2) + MCXT_PARENT]; a !== 0; a = i32[(a >> 2) + MCXT_PARENT]) {
      if (a === ctx.node) {
        const what = self
          ? `cannot delete memory context "${ctx.name}"`
          : `cannot delete the children of memory context "${ctx.name}"`;
        throw new InvalidStateError(
          `${fn}(): ${what}: ${label} ("${g.name}") is among its descendants`,
        );
      }
    }
  }
}

/**
 * mcxt.c: MemoryContextCallResetCallbacks. Pops each callback before
 * calling it (so one that throws is not run again), newest first.
 */
function callResetCallbacks(t: TreeState, ctx: MemoryContext): void {
  const cbs = t.callbacks.get(ctx.node);
  if (cbs === undefined) return;
  while (cbs.length > 0) {
    const cb = cbs.pop()!;
    ctx.heap.i32[(ctx.node >> 2) + MCXT_RESET_CBS] = cbs.length;
    cb.func(cb.arg);
  }
  t.callbacks.delete(ctx.node);
}

/** mcxt.c: MemoryContextResetOnly proper. */
function resetOnly(t: TreeState, ctx: MemoryContext): void {
  if (ctx.heap.u8[ctx.node + MCXT_IS_RESET_BYTE] !== 0) return;
  callResetCallbacks(t, ctx);
  ctx.methods.reset(ctx);
  ctx.heap.u8[ctx.node + MCXT_IS_RESET_BYTE] = 1;
}

/** mcxt.c: MemoryContextDeleteOnly. Restores the context if the type's delete throws. */
function deleteOnly(t: TreeState, ctx: MemoryContext): void {
  callResetCallbacks(t, ctx);
  const heap = t.heap;
  const node = ctx.node;
  const parent = heap.i32[(node >> 2) + MCXT_PARENT];
  const ident = t.idents.get(node);
  // "Better a leak than a crash": unlink first, as MemoryContextSetParent(ctx, NULL).
  unlink(heap, node);
  heap.i32[(node >> 2) + MCXT_SERIAL] = 0;
  t.contexts.delete(node);
  t.idents.delete(node);
  try {
    ctx.methods.delete(ctx);
  } catch (e) {
    heap.i32[(node >> 2) + MCXT_SERIAL] = ctx.serial;
    t.contexts.set(node, ctx);
    if (ident !== undefined) t.idents.set(node, ident);
    link(heap, node, parent);
    throw e;
  }
  if (ctx.ownsNode) heap.free(node);
}

/**
 * mcxt.c: MemoryContextDelete's loop (PG 17): deletes the subtree
 * bottom-up without recursion. With `errors`, a callback that throws is
 * recorded and the deletion goes on (teardown); else it stops there.
 */
function deleteTree(t: TreeState, ctx: MemoryContext, errors?: unknown[]): void {
  const target = ctx.node;
  let cur = target;
  for (;;) {
    const i32 = t.heap.i32;
    for (
      let fc = i32[(cur >> 2) + MCXT_FIRSTCHILD];
      fc !== 0;
      fc = i32[(fc >> 2) + MCXT_FIRSTCHILD]
    ) {
      cur = fc;
    }
    const parent = i32[(cur >> 2) + MCXT_PARENT];
    const c = handleAt(t, cur)!;
    if (errors === undefined) {
      deleteOnly(t, c);
    } else {
      try {
        callResetCallbacks(t, c);
      } catch (e) {
        errors.push(e);
        continue; // run the rest of its callbacks
      }
      try {
        deleteOnly(t, c);
      } catch (e) {
        // The type refused (a damaged context in checking mode): drop it, leak its memory.
        errors.push(e);
        unlink(t.heap, cur);
        t.heap.i32[(cur >> 2) + MCXT_SERIAL] = 0;
        t.contexts.delete(cur);
        t.idents.delete(cur);
      }
    }
    if (cur === target) return;
    cur = parent;
  }
}

/**
 * mcxt.c: MemoryContextReset. Deletes the children of `ctx`, then, unless
 * nothing was allocated since the last reset, runs its reset callbacks
 * (newest first) and frees everything allocated in it. The context stays.
 * @throws InvalidStateError when a child to delete is, or is an ancestor of,
 *   CurrentMemoryContext (or is ErrorContext); nothing is changed then.
 * @throws InvalidStateError / MmgrError when `ctx` is deleted or not a context.
 * @throws whatever a reset callback throws (the callbacks popped so far do not run again).
 */
export function MemoryContextReset(ctx: MemoryContext): void {
  const t = requireLive(ctx, "MemoryContextReset");
  if (t.heap.i32[(ctx.node >> 2) + MCXT_FIRSTCHILD] !== 0) {
    checkDeletable(t, "MemoryContextReset", ctx, false);
    deleteChildren(t, ctx);
  }
  resetOnly(t, ctx);
}

/**
 * mcxt.c: MemoryContextResetOnly. Resets `ctx` alone (callbacks, then the
 * type's reset); its children are untouched.
 * @throws InvalidStateError / MmgrError when `ctx` is deleted or not a context.
 * @throws whatever a reset callback throws.
 */
export function MemoryContextResetOnly(ctx: MemoryContext): void {
  resetOnly(requireLive(ctx, "MemoryContextResetOnly"), ctx);
}

/**
 * mcxt.c: MemoryContextResetChildren. {@link MemoryContextResetOnly} on
 * every descendant of `ctx` (pre-order), not on `ctx`; all contexts stay.
 * @throws InvalidStateError / MmgrError when `ctx` is deleted or not a context.
 * @throws whatever a reset callback throws.
 */
export function MemoryContextResetChildren(ctx: MemoryContext): void {
  const t = requireLive(ctx, "MemoryContextResetChildren");
  for (const c of descendants(t, ctx)) resetOnly(t, c);
}

function deleteChildren(t: TreeState, ctx: MemoryContext): void {
  for (;;) {
    const first = t.heap.i32[(ctx.node >> 2) + MCXT_FIRSTCHILD];
    if (first === 0) return;
    deleteTree(t, handleAt(t, first)!);
  }
}

/**
 * mcxt.c: MemoryContextDelete. Deletes `ctx` and all its descendants,
 * bottom-up, each after running its reset callbacks: their memory goes
 * back to the heap, and every later use of them or of their pointers throws.
 * @throws InvalidStateError when `ctx` is CurrentMemoryContext or an
 *   ancestor of it, TopMemoryContext, or ErrorContext or an ancestor of it
 *   (PostgreSQL asserts); nothing is changed then.
 * @throws InvalidStateError / MmgrError when `ctx` is deleted or not a context.
 * @throws whatever a reset callback throws (the contexts deleted so far stay deleted).
 */
export function MemoryContextDelete(ctx: MemoryContext): void {
  const t = requireLive(ctx, "MemoryContextDelete");
  checkDeletable(t, "MemoryContextDelete", ctx, true);
  deleteTree(t, ctx);
}

setDeleteHook(MemoryContextDelete);

/**
 * mcxt.c: MemoryContextDeleteChildren. Deletes every descendant of `ctx`.
 * @throws as {@link MemoryContextDelete}, for the children.
 */
export function MemoryContextDeleteChildren(ctx: MemoryContext): void {
  const t = requireLive(ctx, "MemoryContextDeleteChildren");
  if (t.heap.i32[(ctx.node >> 2) + MCXT_FIRSTCHILD] === 0) return;
  checkDeletable(t, "MemoryContextDeleteChildren", ctx, false);
  deleteChildren(t, ctx);
}

/**
 * mcxt.c: MemoryContextSetParent. Moves `ctx` (with its subtree) to be the
 * first child of `newParent`, or makes it a root when null. A no-op when
 * `newParent` already is the parent.
 * @throws MmgrError when `newParent` is `ctx` or one of its descendants
 *   (PostgreSQL asserts only the first); nothing is changed then.
 * @throws InvalidStateError / MmgrError when a context is deleted or not a context.
 */
export function MemoryContextSetParent(ctx: MemoryContext, newParent: MemoryContext | null): void {
  const t = requireLive(ctx, "MemoryContextSetParent");
  const heap = t.heap;
  let target = 0;
  if (newParent !== null) {
    requireLive(newParent, "MemoryContextSetParent");
    target = newParent.node;
    const i32 = heap.i32;
    for (let a = target; a !== 0; a = i32[(a >> 2) + MCXT_PARENT]) {
      if (a === ctx.node) {
        throw new MmgrError(
          `MemoryContextSetParent(): memory context "${newParent.name}" is "${ctx.name}" or one of its descendants: that would make a cycle`,
        );
      }
    }
  }
  if (heap.i32[(ctx.node >> 2) + MCXT_PARENT] === target) return;
  unlink(heap, ctx.node);
  link(heap, ctx.node, target);
}

/**
 * mcxt.c: MemoryContextGetParent.
 * @returns the parent, or null for a root
 * @throws InvalidStateError / MmgrError when `ctx` is deleted or not a context.
 */
export function MemoryContextGetParent(ctx: MemoryContext): MemoryContext | null {
  const t = requireLive(ctx, "MemoryContextGetParent");
  return handleAt(t, t.heap.i32[(ctx.node >> 2) + MCXT_PARENT]);
}

/**
 * mcxt.c: MemoryContextSetIdentifier. Text MemoryContextStats prints after
 * the name (a query, a relation name); null or undefined forgets it.
 * @throws MmgrError when `id` is neither a string nor null/undefined.
 * @throws InvalidStateError / MmgrError when `ctx` is deleted or not a context.
 */
export function MemoryContextSetIdentifier(
  ctx: MemoryContext,
  id: string | null | undefined,
): void {
  const t = requireLive(ctx, "MemoryContextSetIdentifier");
  if (id === null || id === undefined) {
    t.idents.delete(ctx.node);
    return;
  }
  if (typeof id !== "string") {
    throw new MmgrError(`MemoryContextSetIdentifier(): identifier ${fmt(id)} is not a string`);
  }
  t.idents.set(ctx.node, id);
}

/**
 * mcxt.c: MemoryContextRegisterResetCallback. `cb.func(cb.arg)` runs once,
 * at the next reset or the delete of `ctx`; callbacks run newest first.
 * Marks the context not reset (so the next reset runs it).
 * @throws MmgrError when `cb.func` is not a function.
 * @throws InvalidStateError / MmgrError when `ctx` is deleted or not a context.
 */
export function MemoryContextRegisterResetCallback(
  ctx: MemoryContext,
  cb: MemoryContextCallback,
): void {
  const t = requireLive(ctx, "MemoryContextRegisterResetCallback");
  if (cb === null || typeof cb !== "object" || typeof cb.func !== "function") {
    throw new MmgrError(
      `MemoryContextRegisterResetCallback(): ${fmt(cb)} is not a MemoryContextCallback ({ func, arg })`,
    );
  }
  let cbs = t.callbacks.get(ctx.node);
  if (cbs === undefined) {
    cbs = [];
    t.callbacks.set(ctx.node, cbs);
  }
  cbs.push({ func: cb.func, arg: cb.arg });
  const heap = t.heap;
  heap.i32[(ctx.node >> 2) + MCXT_RESET_CBS] = cbs.length;
  heap.u8[ctx.node + MCXT_IS_RESET_BYTE] = 0;
}

/**
 * mcxt.c: MemoryContextIsEmpty. False if `ctx` has children, else the
 * type's answer (AllocSet: nothing allocated since create or the last
 * reset; freeing everything does not make it empty).
 * @throws InvalidStateError / MmgrError when `ctx` is deleted or not a context.
 */
export function MemoryContextIsEmpty(ctx: MemoryContext): boolean {
  const t = requireLive(ctx, "MemoryContextIsEmpty");
  if (t.heap.i32[(ctx.node >> 2) + MCXT_FIRSTCHILD] !== 0) return false;
  return ctx.methods.isEmpty(ctx);
}

/** Pre-order descendants of `ctx`, not `ctx` (MemoryContextTraverseNext). */
function descendants(t: TreeState, ctx: MemoryContext): MemoryContext[] {
  const out: MemoryContext[] = [];
  const i32 = t.heap.i32;
  const top = ctx.node;
  let cur = i32[(top >> 2) + MCXT_FIRSTCHILD];
  while (cur !== 0) {
    out.push(handleAt(t, cur)!);
    cur = traverseNext(i32, cur, top);
  }
  return out;
}

/** mcxt.c: MemoryContextTraverseNext. The next node after `cur` in pre-order within `top`. */
function traverseNext(i32: Int32Array, cur: number, top: number): number {
  const fc = i32[(cur >> 2) + MCXT_FIRSTCHILD];
  if (fc !== 0) return fc;
  while (i32[(cur >> 2) + MCXT_NEXTCHILD] === 0) {
    cur = i32[(cur >> 2) + MCXT_PARENT];
    if (cur === top || cur === 0) return 0;
  }
  return i32[(cur >> 2) + MCXT_NEXTCHILD];
}

/**
 * mcxt.c: MemoryContextMemAllocated. Bytes `ctx` holds of the heap (its
 * blocks), and with `recurse` those of all its descendants too.
 * @defaultValue recurse: true
 * @throws InvalidStateError / MmgrError when `ctx` is deleted or not a context.
 */
export function MemoryContextMemAllocated(ctx: MemoryContext, recurse = true): number {
  const t = requireLive(ctx, "MemoryContextMemAllocated");
  let total = ctx.methods.memAllocated(ctx);
  if (recurse) for (const c of descendants(t, ctx)) total += c.methods.memAllocated(c);
  return total;
}

/**
 * mcxt.c: MemoryContextMemConsumed (PG 17). The stats counters of `ctx`
 * and all its descendants, summed, without printing.
 * @throws InvalidStateError / MmgrError when `ctx` is deleted or not a context.
 */
export function MemoryContextMemConsumed(ctx: MemoryContext): MemoryContextCounters {
  const t = requireLive(ctx, "MemoryContextMemConsumed");
  const totals = { nblocks: 0, freechunks: 0, totalspace: 0, freespace: 0 };
  addCounters(totals, ctx.methods.stats(ctx));
  for (const c of descendants(t, ctx)) addCounters(totals, c.methods.stats(c));
  return totals;
}

function addCounters(into: MemoryContextCounters, c: MemoryContextCounters): void {
  into.nblocks += c.nblocks;
  into.freechunks += c.freechunks;
  into.totalspace += c.totalspace;
  into.freespace += c.freespace;
}

/**
 * mcxt.c: MemoryContextCheck. Runs the type's check on `ctx` and every
 * descendant, and verifies the tree links (each child's parent and
 * prevchild). PostgreSQL prints WARNINGs; this throws on the first problem.
 * @throws HeapCorruptionError naming the context and the damage.
 * @throws InvalidStateError / MmgrError when `ctx` is deleted or not a context.
 */
export function MemoryContextCheck(ctx: MemoryContext): void {
  const t = requireLive(ctx, "MemoryContextCheck");
  for (const c of [ctx, ...descendants(t, ctx)]) {
    const i32 = t.heap.i32;
    let prev = 0;
    for (
      let k = i32[(c.node >> 2) + MCXT_FIRSTCHILD];
      k !== 0;
      k = i32[(k >> 2) + MCXT_NEXTCHILD]
    ) {
      if (i32[(k >> 2) + MCXT_PARENT] !== c.node || i32[(k >> 2) + MCXT_PREVCHILD] !== prev) {
        throw new HeapCorruptionError(
          `problem in memory context "${c.name}": child list link at node ${k} is damaged`,
          k,
        );
      }
      prev = k;
    }
    c.methods.check(c);
  }
}

// ---------------------------------------------------------------------------
// Statistics
// ---------------------------------------------------------------------------

/** The stats text of one context, as its type prints it. */
function statsString(ctx: MemoryContext, c: MemoryContextCounters): string {
  const custom = ctx.methods.statsString;
  if (custom !== undefined) return custom(c);
  return `${c.totalspace} total in ${c.nblocks} blocks; ${c.freespace} free (${c.freechunks} chunks); ${c.totalspace - c.freespace} used`;
}

function utf8Length(ch: string): number {
  const cp = ch.codePointAt(0)!;
  return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

/** pg_mbcliplen: the longest prefix of `s` of at most `limit` UTF-8 bytes, whole characters only. */
function clip(s: string, limit: number): { text: string; clipped: boolean } {
  let bytes = 0;
  let out = "";
  for (const ch of s) {
    const n = utf8Length(ch);
    if (bytes + n > limit) return { text: out, clipped: true };
    bytes += n;
    out += ch;
  }
  return { text: out, clipped: false };
}

/** mcxt.c MemoryContextStatsPrint: the name and ident as printed (dynahash rule, clipping). */
function printedNameIdent(t: TreeState, ctx: MemoryContext): { name: string; ident: string } {
  let name = ctx.name;
  let ident = t.idents.get(ctx.node);
  if (ident !== undefined && name === "dynahash") {
    name = ident;
    ident = undefined;
  }
  if (ident === undefined) return { name, ident: "" };
  const { text, clipped } = clip(ident, MEMORY_CONTEXT_STATS_IDENT_BYTES);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: PostgreSQL replaces exactly these
  const shown = text.replace(/[\x00-\x1f]/g, " ");
  return { name, ident: `: ${shown}${clipped ? "..." : ""}` };
}

function counterLine(c: MemoryContextCounters): string {
  return `${c.totalspace} total in ${c.nblocks} blocks; ${c.freespace} free (${c.freechunks} chunks); ${c.totalspace - c.freespace} used`;
}

/** mcxt.c: MemoryContextStatsInternal (PG 17). */
function statsInternal(
  t: TreeState,
  ctx: MemoryContext,
  level: number,
  maxLevel: number,
  maxChildren: number,
  totals: MemoryContextCounters,
  toStderr: boolean,
  lines: string[],
): void {
  const c = ctx.methods.stats(ctx);
  addCounters(totals, c);
  const { name, ident } = printedNameIdent(t, ctx);
  const text = `${name}: ${statsString(ctx, c)}${ident}`;
  lines.push(toStderr ? `${"  ".repeat(level)}${text}` : `level: ${level}; ${text}`);

  const i32 = t.heap.i32;
  let child = i32[(ctx.node >> 2) + MCXT_FIRSTCHILD];
  let ichild = 0;
  if (level < maxLevel) {
    for (; child !== 0 && ichild < maxChildren; ichild++) {
      statsInternal(
        t,
        handleAt(t, child)!,
        level + 1,
        maxLevel,
        maxChildren,
        totals,
        toStderr,
        lines,
      );
      child = t.heap.i32[(child >> 2) + MCXT_NEXTCHILD];
    }
  }
  if (child !== 0) {
    // Summarize the rest, their whole subtrees, without recursion.
    const local = { nblocks: 0, freechunks: 0, totalspace: 0, freespace: 0 };
    ichild = 0;
    while (child !== 0) {
      const h = handleAt(t, child)!;
      addCounters(local, h.methods.stats(h));
      ichild++;
      child = traverseNext(t.heap.i32, child, ctx.node);
    }
    const text = `${ichild} more child contexts containing ${counterLine(local)}`;
    lines.push(toStderr ? `${"  ".repeat(level + 1)}${text}` : `level: ${level}; ${text}`);
    addCounters(totals, local);
  }
}

/**
 * mcxt.c: MemoryContextStatsDetail (PG 17). The stats of `ctx` and its
 * descendants, one line per context (`NAME: T total in B blocks; F free
 * (C chunks); U used`, then `: IDENT` if set), children deeper than
 * `maxLevel` or beyond the first `maxChildren` of a parent summarised in a
 * `N more child contexts containing ...` line, and a closing `Grand total:
 * ...` line. Every line ends with "\n". Prints nothing.
 * @param printToStderr true: lines indented two spaces per level, as
 *   PostgreSQL writes them to stderr; false: prefixed `level: N; `, as it
 *   writes them to the server log (pg_log_backend_memory_contexts)
 * @defaultValue maxLevel: 100, maxChildren: 100, printToStderr: true
 * @throws InvalidStateError / MmgrError when `ctx` is deleted or not a context.
 */
export function MemoryContextStatsDetail(
  ctx: MemoryContext,
  maxLevel = MEMORY_CONTEXT_STATS_MAX_LEVEL,
  maxChildren = MEMORY_CONTEXT_STATS_MAX_CHILDREN,
  printToStderr = true,
): string {
  const t = requireLive(ctx, "MemoryContextStatsDetail");
  const totals = { nblocks: 0, freechunks: 0, totalspace: 0, freespace: 0 };
  const lines: string[] = [];
  statsInternal(t, ctx, 0, maxLevel, maxChildren, totals, printToStderr, lines);
  lines.push(
    `Grand total: ${totals.totalspace} bytes in ${totals.nblocks} blocks; ${totals.freespace} free (${totals.freechunks} chunks); ${totals.totalspace - totals.freespace} used`,
  );
  return `${lines.join("\n")}\n`;
}

/**
 * mcxt.c: MemoryContextStats. The text PostgreSQL prints to stderr for
 * `ctx` and its descendants ({@link MemoryContextStatsDetail} with 100
 * levels and 100 children); written to stderr too when `print` is true.
 * @defaultValue print: false
 * @throws InvalidStateError / MmgrError when `ctx` is deleted or not a context.
 */
export function MemoryContextStats(ctx: MemoryContext, print = false): string {
  const text = MemoryContextStatsDetail(
    ctx,
    MEMORY_CONTEXT_STATS_MAX_LEVEL,
    MEMORY_CONTEXT_STATS_MAX_CHILDREN,
    true,
  );
  if (print) writeStderr(text);
  return text;
}

function writeStderr(text: string): void {
  const proc = (globalThis as { process?: { stderr?: { write?: (s: string) => unknown } } })
    .process;
  if (proc?.stderr?.write !== undefined) proc.stderr.write(text);
  else console.error(text.slice(0, -1));
}

/**
 * mcxtfuncs.c: the rows of the `pg_backend_memory_contexts` view, one per
 * context, pre-order from `ctx` (the view starts at TopMemoryContext):
 * name, ident (clipped below 1024 bytes), parent name, level (0 for `ctx`),
 * the PG 18 `type`, and the stats counters.
 * @defaultValue ctx: TopMemoryContext
 * @throws InvalidStateError before MemoryContextInit, or when `ctx` is deleted.
 */
export function pg_backend_memory_contexts(
  ctx: MemoryContext | null = TopMemoryContext,
): MemoryContextStatsRow[] {
  if (ctx === null) requireTree("pg_backend_memory_contexts");
  const t = requireLive(ctx, "pg_backend_memory_contexts");
  const rows: MemoryContextStatsRow[] = [];
  const shownName = (c: MemoryContext): string => {
    const ident = t.idents.get(c.node);
    return ident !== undefined && c.name === "dynahash" ? ident : c.name;
  };
  const parentOf = (c: MemoryContext): string | null => {
    const p = handleAt(t, t.heap.i32[(c.node >> 2) + MCXT_PARENT]);
    return p === null ? null : shownName(p);
  };
  const stack: [MemoryContext, number][] = [[ctx!, 0]];
  while (stack.length > 0) {
    const [c, level] = stack.pop()!;
    let ident: string | null = t.idents.get(c.node) ?? null;
    if (ident !== null && c.name === "dynahash") ident = null;
    if (ident !== null) ident = clip(ident, MEMORY_CONTEXT_IDENT_DISPLAY_SIZE - 1).text;
    const s = c.methods.stats(c);
    rows.push({
      name: shownName(c),
      ident,
      parent: parentOf(c),
      level,
      type: c.methods.type,
      total_bytes: s.totalspace,
      total_nblocks: s.nblocks,
      free_bytes: s.freespace,
      free_chunks: s.freechunks,
      used_bytes: s.totalspace - s.freespace,
    });
    const kids = c.children;
    for (let i = kids.length - 1; i >= 0; i--) stack.push([kids[i], level + 1]);
  }
  return rows;
}

/**
 * Whether `ctx` is a live context of the current tree (PostgreSQL's
 * MemoryContextIsValid, which can only check the node tag).
 */
export function MemoryContextIsValid(ctx: unknown): ctx is MemoryContext {
  return ctx instanceof MemoryContext && isLive(ctx);
}
