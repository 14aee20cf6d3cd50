/*-------------------------------------------------------------------------
 *
 * ngx-pool.ts
 *	  nginx's memory pool (src/core/ngx_palloc.c) on an @mmgr/heap arena.
 *
 * A pool is a list of equal-sized blocks got from the heap with
 * memalign(16, size), where ngx_palloc.c calls ngx_memalign. Requests up to
 * `max` (at most a page less one byte) are bumped from `d.last` of the
 * block `current` or one after it; when none has room a block of the first
 * block's size is appended, and every block from `current` on that had no
 * room ages by one, `current` moving past a block on its sixth failure.
 * Small allocations are never freed one by one. Larger requests go straight
 * to the heap and are recorded on the large list, whose links are
 * themselves allocated from the pool; pfree gives one back and leaves its
 * link for reuse. Cleanup records, also allocated from the pool, name
 * handlers run when the pool is destroyed. reset keeps the blocks and
 * forgets everything in them; destroy gives everything back.
 *
 * Everything is in the arena, where ngx_palloc.c puts it (see layout.ts):
 * ngx_pool_t at the start of the first block, ngx_pool_data_t at the start
 * of every further one, the links and cleanup records inside the blocks,
 * with nginx's LP64 sizes so that every offset nginx computes is ours. The
 * JS NgxPool object is a handle: the heap, the pool's offset and the serial
 * number of the incarnation it belongs to. Only the cleanup handlers, being
 * JS functions, live in a side table, shared by every handle on the pool
 * made through one heap handle.
 *
 * A pool belongs to one worker at a time, as it belongs to one request in
 * one nginx worker process: another worker takes it over with attach on its
 * own handle of a shared heap, after a synchronizing hand-over. Handlers do
 * not cross: a reset or destroy in a worker runs the handlers set there and
 * takes the other records off the list unrun. The reset count in the bytes
 * tells every worker's side table and record handles that a reset happened
 * elsewhere. Blocks got in another worker may lie past this handle's views;
 * attach and the calls that walk the pool refresh them, and palloc does
 * when a block it tries lies past them.
 *
 * Differences from ngx_palloc.c (see README): misuse throws typed errors and
 * changes nothing (C has no checks at all); reset runs and drops the cleanup
 * handlers instead of leaving the list dangling into reused memory; a
 * handler that throws does not stop the others nor the freeing; create
 * checks the size as nginx's configuration parser does; the `log` slot
 * holds a magic and a serial, so a destroyed pool is caught in O(1).
 *
 *-------------------------------------------------------------------------
 */

import {
  formatValue,
  type Heap,
  HeapCorruptionError,
  InvalidAlignmentError,
  InvalidPointerError,
  InvalidSizeError,
  InvalidStateError,
  isAlignment,
  isAllocSize,
  MAX_ALIGNMENT,
  MAX_ALLOC_SIZE,
  MmgrError,
  type Ptr,
} from "@mmgr/heap";
import type { NgxPoolCleanupHandler, NgxPoolStats } from "./api.js";
import {
  CLEANUP_DATA,
  CLEANUP_HANDLER,
  CLEANUP_HANDLER_JS,
  CLEANUP_NEXT,
  D_END,
  D_FAILED,
  D_LAST,
  D_NEXT,
  DATA_WORDS,
  LARGE_ALLOC,
  LARGE_NEXT,
  LARGE_SIZE,
  NGX_ALIGNMENT,
  NGX_ALIGNMENT_MASK,
  NGX_POOL_ALIGNMENT,
  NGX_POOL_MAGIC,
  POOL_CHAIN,
  POOL_CLEANUP,
  POOL_CURRENT,
  POOL_EPOCH,
  POOL_LARGE,
  POOL_MAGIC,
  POOL_MAX,
  POOL_SERIAL,
  POOL_WORDS,
  SIZEOF_NGX_POOL_CLEANUP_T,
  SIZEOF_NGX_POOL_DATA_T,
  SIZEOF_NGX_POOL_LARGE_T,
  SIZEOF_NGX_POOL_T,
  WIPE_BYTE,
} from "./layout.js";

// ---------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------

/** ngx_os_init: ngx_pagesize = getpagesize(), 4096 on x86-64 Linux; fixed here. */
export const NGX_PAGESIZE = 4096;
/** ngx_palloc.h: NGX_MAX_ALLOC_FROM_POOL = ngx_pagesize - 1, the upper bound of `max`. */
export const NGX_MAX_ALLOC_FROM_POOL = NGX_PAGESIZE - 1;
/** ngx_palloc.h: NGX_DEFAULT_POOL_SIZE (16 KB). */
export const NGX_DEFAULT_POOL_SIZE = 16 * 1024;
/**
 * ngx_palloc.h: NGX_MIN_POOL_SIZE = ngx_align(sizeof(ngx_pool_t) + 2 * sizeof(ngx_pool_large_t),
 * NGX_POOL_ALIGNMENT) = 112: room for the header and large links.
 */
export const NGX_MIN_POOL_SIZE =
  (SIZEOF_NGX_POOL_T + 2 * SIZEOF_NGX_POOL_LARGE_T + NGX_POOL_ALIGNMENT - 1) &
  ~(NGX_POOL_ALIGNMENT - 1);
/** ngx_core.h: NGX_OK, what pfree returns when it freed a large allocation. */
export const NGX_OK = 0;
/** ngx_core.h: NGX_DECLINED, what pfree returns for anything else. */
export const NGX_DECLINED = -5;
/**
 * ngx_palloc_block: `if (p->d.failed++ > 4) pool->current = p->d.next;` a block
 * is skipped once its failed counter had already passed this value, i.e. on its
 * sixth failure.
 */
export const NGX_POOL_FAILED_LIMIT = 4;
/**
 * ngx_palloc_large: `if (n++ > 3) break;` after each link that is in use, so
 * at most the first 5 links are examined for a free (pfree'd) slot.
 */
export const NGX_POOL_LARGE_SCAN = 5;

/** What {@link NgxPool.create} accepts for `size`, at most. */
const MAX_POOL_SIZE = MAX_ALLOC_SIZE & ~(NGX_POOL_ALIGNMENT - 1);

// ---------------------------------------------------------------------------
// The JS side of each pool, shared by every handle on it: per heap handle
// (each worker has its own), by the offset of its ngx_pool_t.
// ---------------------------------------------------------------------------

interface PoolShared {
  /** The serial of the incarnation this entry belongs to (the `log` slot's high word). */
  readonly serial: number;
  /** The handle create or attach gave out, so that attach returns the same one. */
  handle: NgxPool | undefined;
  /**
   * ngx_pool_cleanup_t.handler as JS functions, by the record's offset: the
   * handlers set through this heap handle in reset count {@link PoolShared.epoch}.
   */
  readonly handlers: Map<number, NgxPoolCleanupHandler>;
  /** The pool's reset count ({@link POOL_EPOCH}) that `handlers` belong to. */
  epoch: number;
}

interface HeapState {
  /** The serial given to the last pool created on this heap (never 0). */
  serial: number;
  readonly pools: Map<number, PoolShared>;
}

const heapStates = new WeakMap<Heap, HeapState>();

function stateOf(heap: Heap): HeapState {
  let state = heapStates.get(heap);
  if (state === undefined) {
    state = { serial: (Math.random() * 0x7fffffff) | 0, pools: new Map() };
    heapStates.set(heap, state);
  }
  return state;
}

function nextSerial(state: HeapState): number {
  let s = (state.serial + 0x9e3779b9) | 0;
  if (s === 0) s = 1;
  state.serial = s;
  return s;
}

/**
 * The pool's handlers set through this heap handle, brought up to the reset
 * count in the bytes: after a reset in another worker, the records of every
 * handler kept here are gone (taken off the list unrun, their memory
 * reused), so the handlers are dropped.
 */
function handlersOf(
  shared: PoolShared,
  i32: Int32Array,
  pool: Ptr,
): Map<number, NgxPoolCleanupHandler> {
  const epoch = i32[(pool >> 2) + POOL_EPOCH];
  if (shared.epoch !== epoch) {
    if (shared.handlers.size !== 0) shared.handlers.clear();
    shared.epoch = epoch;
  }
  return shared.handlers;
}

function rethrow(fn: string, errors: unknown[] | undefined): void {
  if (errors === undefined) return;
  if (errors.length === 1) throw errors[0];
  throw new AggregateError(errors, `NgxPool.${fn}(): ${errors.length} cleanup handlers threw`);
}

// ---------------------------------------------------------------------------
// Cleanup records
// ---------------------------------------------------------------------------

/**
 * A handle on an ngx_pool_cleanup_t in the pool, as {@link NgxPool.cleanupAdd}
 * returns it: set {@link NgxPoolCleanup.handler} (and, if you like,
 * {@link NgxPoolCleanup.data}) afterwards, as nginx callers set `c->handler`.
 */
export class NgxPoolCleanup {
  /** The pool the record belongs to. */
  readonly pool: NgxPool;
  /** Offset of the ngx_pool_cleanup_t record in the arena. */
  readonly offset: Ptr;
  private readonly shared: PoolShared;
  private readonly epoch: number;

  /** @internal Made by {@link NgxPool.cleanupAdd}. */
  constructor(pool: NgxPool, offset: Ptr, shared: PoolShared) {
    this.pool = pool;
    this.offset = offset;
    this.shared = shared;
    this.epoch = shared.epoch;
  }

  /**
   * `data`: the pointer handed to the handler; the `size` bytes cleanupAdd
   * allocated, or 0 when it was called with size 0.
   * @throws InvalidStateError when the pool was destroyed, or reset since.
   * @throws InvalidPointerError (set) when the value is not an integer offset inside the heap.
   */
  get data(): Ptr {
    this.live("data");
    return this.pool.heap.i32[(this.offset >> 2) + CLEANUP_DATA];
  }

  set data(ptr: Ptr) {
    this.live("data");
    const heap = this.pool.heap;
    if (typeof ptr !== "number" || ptr >>> 0 !== ptr || ptr >= heap.end) {
      throw new InvalidPointerError(
        `NgxPoolCleanup.data: ${formatValue(ptr)} is not an offset inside the heap (record ${this.offset} of pool at ${this.pool.offset})`,
        ptr,
      );
    }
    heap.i32[(this.offset >> 2) + CLEANUP_DATA] = ptr;
  }

  /**
   * `handler`: called with {@link NgxPoolCleanup.data} when the pool is
   * destroyed or reset, newest record first; `null` for none. Only a reset
   * or destroy through the same heap handle (in the same worker) calls it;
   * one in another worker takes the record off the list without calling it.
   * @defaultValue null
   * @throws InvalidStateError when the pool was destroyed, or reset since.
   * @throws MmgrError (set) when the value is neither a function nor null.
   */
  get handler(): NgxPoolCleanupHandler | null {
    this.live("handler");
    return this.handlers().get(this.offset) ?? null;
  }

  set handler(fn: NgxPoolCleanupHandler | null) {
    this.live("handler");
    if (fn !== null && typeof fn !== "function") {
      throw new MmgrError(
        `NgxPoolCleanup.handler: ${formatValue(fn)} is neither a function nor null (record ${this.offset} of pool at ${this.pool.offset})`,
      );
    }
    const i32 = this.pool.heap.i32;
    if (fn === null) {
      this.handlers().delete(this.offset);
      i32[(this.offset >> 2) + CLEANUP_HANDLER] = 0;
    } else {
      this.handlers().set(this.offset, fn);
      i32[(this.offset >> 2) + CLEANUP_HANDLER] = CLEANUP_HANDLER_JS;
    }
  }

  private handlers(): Map<number, NgxPoolCleanupHandler> {
    return handlersOf(this.shared, this.pool.heap.i32, this.pool.offset);
  }

  private live(what: string): void {
    if (this.pool.destroyed) {
      throw new InvalidStateError(
        `NgxPoolCleanup.${what}: pool at ${this.pool.offset} was destroyed (record ${this.offset})`,
      );
    }
    if (this.pool.heap.i32[(this.pool.offset >> 2) + POOL_EPOCH] !== this.epoch) {
      throw new InvalidStateError(
        `NgxPoolCleanup.${what}: pool at ${this.pool.offset} was reset since record ${this.offset} was added; its memory is reused (its handler ran, unless the reset was in another worker)`,
      );
    }
  }
}

// ---------------------------------------------------------------------------
// The pool
// ---------------------------------------------------------------------------

/**
 * nginx's memory pool (ngx_palloc.c) on a {@link Heap}: bump allocation from
 * equal-sized blocks, a large list, cleanup handlers, reset and destroy. The
 * object is a handle on the ngx_pool_t at the start of the first block.
 *
 * @example
 * ```ts
 * const heap = Heap.create();
 * const pool = NgxPool.create(heap, NGX_DEFAULT_POOL_SIZE)!;
 * const a = pool.palloc(100); // 8-aligned, bumped from the first block
 * const big = pool.palloc(10_000); // above max: a heap allocation on the large list
 * pool.pfree(big); // NGX_OK
 * pool.destroy();
 * ```
 */
export class NgxPool {
  /** The heap the pool gets its blocks and large allocations from. */
  readonly heap: Heap;
  /** Offset of ngx_pool_t (the first block) in the arena: the pool's identity. */
  readonly offset: Ptr;
  /** Checking mode (the heap's): check() before reset and destroy, memory released by reset wiped. */
  readonly checking: boolean;
  /** The incarnation this handle belongs to; the `log` slot's high word must match. */
  private readonly serial: number;
  private readonly shared: PoolShared;

  private constructor(heap: Heap, offset: Ptr, serial: number, shared: PoolShared) {
    this.heap = heap;
    this.offset = offset;
    this.checking = heap.checking;
    this.serial = serial;
    this.shared = shared;
    shared.handle = this;
  }

  // -------------------------------------------------------------------------
  // Creation, lookup
  // -------------------------------------------------------------------------

  /**
   * ngx_create_pool: gets the first block with `heap.memalign(16, size)` and
   * writes ngx_pool_t at its start; the first small allocation comes at
   * `offset + 80`, `max` is `min(size - 80, NGX_MAX_ALLOC_FROM_POOL)`.
   * @param size bytes of the first block and of every further one: a multiple
   *   of {@link NGX_POOL_ALIGNMENT}, at least {@link NGX_MIN_POOL_SIZE} (the
   *   rules nginx's configuration parser enforces for every pool size).
   * @defaultValue size: {@link NGX_DEFAULT_POOL_SIZE}
   * @returns the pool, or null when the heap cannot supply the block, as
   *   ngx_create_pool returns NULL.
   * @throws InvalidSizeError when `size` breaks those rules.
   */
  static create(heap: Heap, size: number = NGX_DEFAULT_POOL_SIZE): NgxPool | null {
    if (
      size !== (size | 0) ||
      size < NGX_MIN_POOL_SIZE ||
      size > MAX_POOL_SIZE ||
      (size & (NGX_POOL_ALIGNMENT - 1)) !== 0
    ) {
      throw new InvalidSizeError(
        `NgxPool.create(): size ${formatValue(size)} is not a multiple of ${NGX_POOL_ALIGNMENT} from ${NGX_MIN_POOL_SIZE} to ${MAX_POOL_SIZE}`,
        size,
      );
    }
    const p = heap.memalign(NGX_POOL_ALIGNMENT, size);
    if (p === 0) return null;
    const state = stateOf(heap);
    const serial = nextSerial(state);
    const i32 = heap.i32;
    const w = p >> 2;
    i32.fill(0, w, w + POOL_WORDS);
    i32[w + D_LAST] = p + SIZEOF_NGX_POOL_T;
    i32[w + D_END] = p + size;
    i32[w + POOL_MAX] = Math.min(size - SIZEOF_NGX_POOL_T, NGX_MAX_ALLOC_FROM_POOL);
    i32[w + POOL_CURRENT] = p;
    i32[w + POOL_MAGIC] = NGX_POOL_MAGIC;
    i32[w + POOL_SERIAL] = serial;
    const shared: PoolShared = { serial, handle: undefined, handlers: new Map(), epoch: 0 };
    state.pools.set(p, shared);
    return new NgxPool(heap, p, serial, shared);
  }

  /**
   * A handle on the live pool whose ngx_pool_t is at `offset` (its
   * {@link NgxPool.offset}). Everything the pool needs is read from the
   * bytes, so `heap` may be another worker's handle of a shared heap
   * (`Heap.attach(buffer)`): that is how a pool is handed over. The heap's
   * views are refreshed first, for a pool whose blocks another worker got
   * past them. Within one heap handle, attach returns the same handle each
   * time, and every handle shares the cleanup handlers set through it; the
   * handlers set through another heap handle (another worker) are not seen.
   * @throws InvalidPointerError when no live pool of this heap is there.
   */
  static attach(heap: Heap, offset: Ptr): NgxPool {
    heap.refresh();
    const serial = NgxPool.serialAt(heap, offset);
    if (serial === 0) {
      throw new InvalidPointerError(
        `NgxPool.attach(): offset ${formatValue(offset)} is not the ngx_pool_t of a live pool of this heap`,
        offset,
      );
    }
    const state = stateOf(heap);
    let shared = state.pools.get(offset);
    if (shared === undefined || shared.serial !== serial) {
      // A pool made through another heap handle (another worker's) or another
      // copy of this module: its handlers are not ours to see.
      const epoch = heap.i32[(offset >> 2) + POOL_EPOCH];
      shared = { serial, handle: undefined, handlers: new Map(), epoch };
      state.pools.set(offset, shared);
    }
    return shared.handle ?? new NgxPool(heap, offset, serial, shared);
  }

  /** The serial of the live pool at `offset`, or 0 when there is none. */
  private static serialAt(heap: Heap, offset: unknown): number {
    if (
      typeof offset !== "number" ||
      offset >>> 0 !== offset ||
      offset === 0 ||
      (offset & (NGX_POOL_ALIGNMENT - 1)) !== 0 ||
      offset + SIZEOF_NGX_POOL_T > heap.end
    ) {
      return 0;
    }
    const i32 = heap.i32;
    const w = offset >> 2;
    if (i32[w + POOL_MAGIC] !== NGX_POOL_MAGIC || i32[w + POOL_SERIAL] === 0) return 0;
    try {
      if (heap.usableSize(offset) < i32[w + D_END] - offset) return 0;
    } catch {
      return 0; // not a live heap allocation: stale bytes of a freed pool
    }
    return i32[w + POOL_SERIAL];
  }

  // -------------------------------------------------------------------------
  // Accessors
  // -------------------------------------------------------------------------

  /** Whether the pool was destroyed (then every other call throws InvalidStateError). */
  get destroyed(): boolean {
    const i32 = this.heap.i32;
    const w = this.offset >> 2;
    return i32[w + POOL_MAGIC] !== NGX_POOL_MAGIC || i32[w + POOL_SERIAL] !== this.serial;
  }

  /**
   * `pool->max`: requests up to this size are small (bumped from a block),
   * larger ones go to the heap. `min(size - 80, NGX_MAX_ALLOC_FROM_POOL)`.
   * @throws InvalidStateError when the pool was destroyed.
   */
  get max(): number {
    this.live("max");
    return this.heap.i32[(this.offset >> 2) + POOL_MAX];
  }

  /**
   * Bytes of every block: the size given to create (`d.end - pool`).
   * @throws InvalidStateError when the pool was destroyed.
   */
  get blockSize(): number {
    this.live("blockSize");
    return this.heap.i32[(this.offset >> 2) + D_END] - this.offset;
  }

  /**
   * Bytes the pool holds from the heap: every block's size plus the requested
   * size of each live large allocation (heap headers not counted). Walks the
   * block and large lists.
   * @throws InvalidStateError when the pool was destroyed.
   */
  get memAllocated(): number {
    this.liveWalk("memAllocated");
    const i32 = this.heap.i32;
    const pool = this.offset;
    const psize = i32[(pool >> 2) + D_END] - pool;
    let n = 0;
    for (let p = pool; p !== 0; p = i32[(p >> 2) + D_NEXT]) n += psize;
    for (let l = i32[(pool >> 2) + POOL_LARGE]; l !== 0; l = i32[(l >> 2) + LARGE_NEXT]) {
      if (i32[(l >> 2) + LARGE_ALLOC] !== 0) n += i32[(l >> 2) + LARGE_SIZE];
    }
    return n;
  }

  // -------------------------------------------------------------------------
  // Allocation
  // -------------------------------------------------------------------------

  /**
   * ngx_palloc: `size` bytes aligned to {@link NGX_ALIGNMENT}. Up to `max`,
   * bumped from `current` or a block after it (a new block when none has
   * room); above, a heap allocation recorded on the large list.
   * @returns the pointer, or 0 when the heap cannot supply a block, the large
   *   allocation or its link.
   * @throws InvalidStateError when the pool was destroyed.
   * @throws InvalidSizeError when `size` is not an integer from 0 to the heap's MAX_ALLOC_SIZE.
   */
  palloc(size: number): Ptr {
    const i32 = this.heap.i32;
    const pw = this.offset >> 2;
    if (i32[pw + POOL_MAGIC] !== NGX_POOL_MAGIC || i32[pw + POOL_SERIAL] !== this.serial) {
      this.gone("palloc");
    }
    if (!isAllocSize(size)) this.badSize("palloc", size);
    if (size > i32[pw + POOL_MAX]) return this.large(size);
    // ngx_palloc_small's first try, written for V8 to inline: the current
    // block has room (and lies inside the views). Else the general path.
    const p = i32[pw + POOL_CURRENT];
    const w = p >> 2;
    const m = (i32[w + D_LAST] + NGX_ALIGNMENT_MASK) & ~NGX_ALIGNMENT_MASK;
    const end = i32[w + D_END];
    // Also false when the block header lies past the views (undefined words).
    if (!(m + size <= end && end <= this.heap.viewEnd)) return this.small(size, true);
    i32[w + D_LAST] = m + size;
    return m;
  }

  /**
   * ngx_pnalloc: as {@link NgxPool.palloc}, but a small allocation is not
   * aligned (for strings); the first one in a new block still is.
   * @returns the pointer, or 0 as palloc.
   * @throws InvalidStateError when the pool was destroyed.
   * @throws InvalidSizeError as palloc.
   */
  pnalloc(size: number): Ptr {
    this.live("pnalloc");
    if (!isAllocSize(size)) this.badSize("pnalloc", size);
    if (size <= this.heap.i32[(this.offset >> 2) + POOL_MAX]) return this.small(size, false);
    return this.large(size);
  }

  /**
   * ngx_pcalloc: {@link NgxPool.palloc} and the bytes zeroed.
   * @returns the pointer, or 0 as palloc.
   * @throws InvalidStateError when the pool was destroyed.
   * @throws InvalidSizeError as palloc.
   */
  pcalloc(size: number): Ptr {
    this.live("pcalloc");
    if (!isAllocSize(size)) this.badSize("pcalloc", size);
    const p =
      size <= this.heap.i32[(this.offset >> 2) + POOL_MAX]
        ? this.small(size, true)
        : this.large(size);
    if (p !== 0) this.heap.u8.fill(0, p, p + size);
    return p;
  }

  /**
   * ngx_pmemalign: `heap.memalign(alignment, size)` recorded on the large
   * list, whatever the size; always a new link (no reuse of a free one).
   * @param alignment a power of two up to the heap's MAX_ALIGNMENT
   * @returns the pointer, or 0 when the heap cannot supply it or its link.
   * @throws InvalidStateError when the pool was destroyed.
   * @throws InvalidAlignmentError when `alignment` is not such a power of two.
   * @throws InvalidSizeError as palloc.
   */
  pmemalign(size: number, alignment: number): Ptr {
    this.live("pmemalign");
    if (!isAllocSize(size)) this.badSize("pmemalign", size);
    if (!isAlignment(alignment)) {
      throw new InvalidAlignmentError(
        `NgxPool.pmemalign(): alignment ${formatValue(alignment)} is not a power of two from 1 to ${MAX_ALIGNMENT} (pool at ${this.offset})`,
        alignment,
      );
    }
    const p = this.heap.memalign(alignment, size);
    if (p === 0) return 0;
    return this.link(p, size);
  }

  /**
   * ngx_pfree: gives a large allocation (palloc above `max`, or pmemalign)
   * back to the heap; its link stays on the list, free for reuse.
   * @returns {@link NGX_OK}, or {@link NGX_DECLINED} when `ptr` is not a live
   *   large allocation of this pool (a small allocation, one already pfree'd,
   *   another pool's): then nothing is done, as in nginx.
   * @throws InvalidStateError when the pool was destroyed.
   * @throws InvalidPointerError when `ptr` is 0 (NULL) or not an integer offset inside the heap.
   */
  pfree(ptr: Ptr): typeof NGX_OK | typeof NGX_DECLINED {
    this.live("pfree");
    if (typeof ptr !== "number" || ptr >>> 0 !== ptr || ptr === 0 || ptr >= this.heap.end) {
      throw new InvalidPointerError(
        `NgxPool.pfree(): pointer ${formatValue(ptr)} ${ptr === 0 ? "is NULL" : "is not an offset inside the heap"} (pool at ${this.offset})`,
        ptr,
      );
    }
    const i32 = this.heap.i32;
    for (let l = i32[(this.offset >> 2) + POOL_LARGE]; l !== 0; l = i32[(l >> 2) + LARGE_NEXT]) {
      if (i32[(l >> 2) + LARGE_ALLOC] === ptr) {
        this.heap.free(ptr);
        i32[(l >> 2) + LARGE_ALLOC] = 0;
        i32[(l >> 2) + LARGE_SIZE] = 0;
        return NGX_OK;
      }
    }
    return NGX_DECLINED;
  }

  /**
   * ngx_pool_cleanup_add: allocates an ngx_pool_cleanup_t from the pool and,
   * when `size` is not 0, `size` bytes for its data (palloc, so above `max`
   * a large allocation), and puts the record at the head of the cleanup list
   * with no handler. Set `handler` on the result.
   * @returns the record, or null when the pool cannot allocate it or its data
   *   (as nginx, a record whose data failed stays allocated and unlinked).
   * @throws InvalidStateError when the pool was destroyed.
   * @throws InvalidSizeError as palloc.
   */
  cleanupAdd(size: number): NgxPoolCleanup | null {
    this.live("cleanupAdd");
    if (!isAllocSize(size)) this.badSize("cleanupAdd", size);
    const c = this.alloc(SIZEOF_NGX_POOL_CLEANUP_T);
    if (c === 0) return null;
    let data = 0;
    if (size !== 0) {
      data = this.alloc(size);
      if (data === 0) return null;
    }
    const i32 = this.heap.i32;
    const cw = c >> 2;
    const pw = this.offset >> 2;
    i32.fill(0, cw, cw + (SIZEOF_NGX_POOL_CLEANUP_T >> 2));
    i32[cw + CLEANUP_DATA] = data;
    i32[cw + CLEANUP_NEXT] = i32[pw + POOL_CLEANUP];
    i32[pw + POOL_CLEANUP] = c;
    handlersOf(this.shared, i32, this.offset).delete(c);
    return new NgxPoolCleanup(this, c, this.shared);
  }

  // -------------------------------------------------------------------------
  // Reset, destroy
  // -------------------------------------------------------------------------

  /**
   * ngx_reset_pool, and better: first runs the cleanup handlers newest first
   * and empties the cleanup list (nginx leaves it pointing into memory about
   * to be reused); then frees every large allocation, sets every block's
   * `d.last` to `block + 80` and `d.failed` to 0 (every block, as nginx does,
   * though further blocks have a 32-byte header), `current` to the first
   * block and `chain` and `large` to 0. The blocks are kept. In checking
   * mode, check() runs first and the released bytes are wiped with 0x7F.
   * A handler that throws does not stop the reset: the error is rethrown at
   * the end (an AggregateError when several threw). Handlers set in another
   * worker are not called: their records are taken off the list unrun.
   * Bumps the reset count in the bytes ({@link POOL_EPOCH}).
   * @throws InvalidStateError when the pool was destroyed.
   * @throws HeapCorruptionError in checking mode when check() finds damage.
   */
  reset(): void {
    this.liveWalk("reset");
    if (this.checking) this.check();
    if (this.heap.i32[(this.offset >> 2) + POOL_CLEANUP] === 0) {
      this.resetBlocks();
      return;
    }
    const errors = this.runCleanups();
    if (!this.destroyed) this.resetBlocks(); // else a handler destroyed it
    rethrow("reset", errors);
  }

  /** ngx_reset_pool proper, once the cleanup list is empty. */
  private resetBlocks(): void {
    const heap = this.heap;
    const pool = this.offset;
    const pw = pool >> 2;
    const i32 = heap.i32;
    const epoch = (i32[pw + POOL_EPOCH] + 1) | 0;
    i32[pw + POOL_EPOCH] = epoch;
    this.shared.epoch = epoch;
    // Only stale entries can be left (the list is empty); Map.clear allocates, so only when there are some.
    if (this.shared.handlers.size !== 0) this.shared.handlers.clear();
    this.freeLarge();
    for (let p = pool; p !== 0; p = i32[(p >> 2) + D_NEXT]) {
      const w = p >> 2;
      if (this.checking) {
        const from = p + (p === pool ? SIZEOF_NGX_POOL_T : SIZEOF_NGX_POOL_DATA_T);
        heap.u8.fill(WIPE_BYTE, from, i32[w + D_END]);
      }
      i32[w + D_LAST] = p + SIZEOF_NGX_POOL_T;
      i32[w + D_FAILED] = 0;
    }
    i32[pw + POOL_CURRENT] = pool;
    i32[pw + POOL_CHAIN] = 0;
    i32[pw + POOL_LARGE] = 0;
    i32[pw + POOL_CLEANUP] = 0;
  }

  /**
   * ngx_destroy_pool: runs the cleanup handlers newest first, then frees
   * every large allocation, then every block, the first (holding ngx_pool_t)
   * first. Every handle on the pool is dead afterwards. In checking mode,
   * check() runs first. A handler that throws does not stop the others nor
   * the freeing: the error is rethrown at the end (an AggregateError when
   * several threw). Handlers set in another worker are not called.
   * @throws InvalidStateError when the pool was already destroyed.
   * @throws HeapCorruptionError in checking mode when check() finds damage.
   */
  destroy(): void {
    this.liveWalk("destroy");
    if (this.checking) this.check();
    const errors =
      this.heap.i32[(this.offset >> 2) + POOL_CLEANUP] === 0 ? undefined : this.runCleanups();
    if (this.destroyed) {
      rethrow("destroy", errors); // a handler destroyed it
      return;
    }
    const heap = this.heap;
    const pool = this.offset;
    const pw = pool >> 2;
    const i32 = heap.i32;
    this.freeLarge();
    i32[pw + POOL_MAGIC] = 0;
    i32[pw + POOL_SERIAL] = 0;
    for (let p = pool; p !== 0; ) {
      const n = i32[(p >> 2) + D_NEXT];
      heap.free(p);
      p = n;
    }
    const pools = stateOf(heap).pools;
    if (pools.get(pool) === this.shared) pools.delete(pool);
    this.shared.handle = undefined;
    rethrow("destroy", errors);
  }

  // -------------------------------------------------------------------------
  // Introspection
  // -------------------------------------------------------------------------

  /**
   * The counters of the pool: blocks, `current`, each block's `failed`, the
   * large list, the bytes used and free in the blocks, the cleanup records.
   * Walks the lists (not for hot paths).
   * @throws InvalidStateError when the pool was destroyed.
   */
  stats(): NgxPoolStats {
    this.liveWalk("stats");
    const i32 = this.heap.i32;
    const pool = this.offset;
    const pw = pool >> 2;
    const current = i32[pw + POOL_CURRENT];
    const psize = i32[pw + D_END] - pool;
    const failed: number[] = [];
    let blocks = 0;
    let currentBlock = -1;
    let smallUsed = 0;
    let smallFree = 0;
    for (let p = pool; p !== 0; p = i32[(p >> 2) + D_NEXT]) {
      const w = p >> 2;
      if (p === current) currentBlock = blocks;
      const start = p + (p === pool ? SIZEOF_NGX_POOL_T : SIZEOF_NGX_POOL_DATA_T);
      smallUsed += i32[w + D_LAST] - start;
      smallFree += i32[w + D_END] - i32[w + D_LAST];
      failed.push(i32[w + D_FAILED]);
      blocks++;
    }
    let large = 0;
    let largeLinks = 0;
    let largeBytes = 0;
    for (let l = i32[pw + POOL_LARGE]; l !== 0; l = i32[(l >> 2) + LARGE_NEXT]) {
      largeLinks++;
      if (i32[(l >> 2) + LARGE_ALLOC] !== 0) {
        large++;
        largeBytes += i32[(l >> 2) + LARGE_SIZE];
      }
    }
    let cleanups = 0;
    for (let c = i32[pw + POOL_CLEANUP]; c !== 0; c = i32[(c >> 2) + CLEANUP_NEXT]) cleanups++;
    return {
      blocks,
      currentBlock,
      failed,
      large,
      largeLinks,
      largeBytes,
      smallUsed,
      smallFree,
      cleanups,
      memAllocated: blocks * psize + largeBytes,
    };
  }

  /**
   * The offsets of the blocks, in list order; the first is the pool itself.
   * @throws InvalidStateError when the pool was destroyed.
   */
  blocks(): Ptr[] {
    this.liveWalk("blocks");
    const i32 = this.heap.i32;
    const out: Ptr[] = [];
    for (let p = this.offset; p !== 0; p = i32[(p >> 2) + D_NEXT]) out.push(p);
    return out;
  }

  /**
   * The `alloc` of every link of the large list, head (newest) first; 0 for
   * a link whose allocation was pfree'd.
   * @throws InvalidStateError when the pool was destroyed.
   */
  largeList(): Ptr[] {
    this.liveWalk("largeList");
    const i32 = this.heap.i32;
    const out: Ptr[] = [];
    for (let l = i32[(this.offset >> 2) + POOL_LARGE]; l !== 0; l = i32[(l >> 2) + LARGE_NEXT]) {
      out.push(i32[(l >> 2) + LARGE_ALLOC]);
    }
    return out;
  }

  /**
   * Walks the pool and verifies it: every block a live heap allocation of
   * the block size, 16-aligned, `d.end` and `d.last` in range, `current` on
   * the list, `max` as create set it, every large link and cleanup record
   * inside the used part of a block, every large allocation live in the heap.
   * @throws InvalidStateError when the pool was destroyed.
   * @throws HeapCorruptionError naming the offset of the first damage found.
   */
  check(): void {
    this.liveWalk("check");
    const heap = this.heap;
    const i32 = heap.i32;
    const pool = this.offset;
    const pw = pool >> 2;
    const corrupt = (offset: number, what: string): never => {
      throw new HeapCorruptionError(
        `NgxPool.check(): ${what} at offset ${offset} (pool at ${pool})`,
        offset,
      );
    };
    const psize = i32[pw + D_END] - pool;
    if (
      psize < NGX_MIN_POOL_SIZE ||
      (psize & (NGX_POOL_ALIGNMENT - 1)) !== 0 ||
      pool + psize > heap.end
    ) {
      corrupt(pool + D_END * 4, `block size ${psize} of the first block`);
    }
    if (i32[pw + POOL_MAX] !== Math.min(psize - SIZEOF_NGX_POOL_T, NGX_MAX_ALLOC_FROM_POOL)) {
      corrupt(pool + POOL_MAX * 4, `max ${i32[pw + POOL_MAX]} for block size ${psize}`);
    }
    const current = i32[pw + POOL_CURRENT];
    let sawCurrent = false;
    // [start, last) of each block: where links and records may lie.
    const used: number[] = [];
    const limit = Math.floor(heap.size / psize);
    for (let p = pool; p !== 0; p = i32[(p >> 2) + D_NEXT]) {
      if (used.length / 2 >= limit) corrupt(p, "block list has a cycle");
      if (p < 0 || (p & (NGX_POOL_ALIGNMENT - 1)) !== 0 || p + psize > heap.end) {
        corrupt(p, "block link out of range");
      }
      let usable = -1;
      try {
        usable = heap.usableSize(p);
      } catch {
        corrupt(p, "block is not a live heap allocation");
      }
      if (usable < psize) corrupt(p, `block of ${usable} usable bytes, not ${psize}`);
      const w = p >> 2;
      if (i32[w + D_END] !== p + psize) corrupt(p + D_END * 4, `d.end ${i32[w + D_END]}`);
      const start = p + (p === pool ? SIZEOF_NGX_POOL_T : SIZEOF_NGX_POOL_DATA_T);
      const last = i32[w + D_LAST];
      if (last < start || last > p + psize) corrupt(p + D_LAST * 4, `d.last ${last}`);
      if (i32[w + D_FAILED] < 0) corrupt(p + D_FAILED * 4, `d.failed ${i32[w + D_FAILED]}`);
      if (p === current) sawCurrent = true;
      used.push(start, last);
    }
    if (!sawCurrent) corrupt(pool + POOL_CURRENT * 4, `current ${current} is not a block`);
    const inside = (at: number, bytes: number): boolean => {
      if ((at & NGX_ALIGNMENT_MASK) !== 0) return false;
      for (let i = 0; i < used.length; i += 2) {
        if (at >= used[i] && at + bytes <= used[i + 1]) return true;
      }
      return false;
    };
    let n = 0;
    const linkLimit = Math.floor(((used.length / 2) * psize) / SIZEOF_NGX_POOL_LARGE_T);
    for (let l = i32[pw + POOL_LARGE]; l !== 0; l = i32[(l >> 2) + LARGE_NEXT]) {
      if (!inside(l, SIZEOF_NGX_POOL_LARGE_T))
        corrupt(l, "large link outside the pool's used bytes");
      if (++n > linkLimit) corrupt(l, "large list has a cycle");
      const alloc = i32[(l >> 2) + LARGE_ALLOC];
      if (alloc === 0) continue;
      let usable = -1;
      try {
        usable = heap.usableSize(alloc);
      } catch {
        corrupt(l + LARGE_ALLOC * 4, `large allocation ${alloc} is not live in the heap`);
      }
      if (usable < i32[(l >> 2) + LARGE_SIZE]) {
        corrupt(l + LARGE_SIZE * 4, `large allocation ${alloc} smaller than its recorded size`);
      }
    }
    n = 0;
    for (let c = i32[pw + POOL_CLEANUP]; c !== 0; c = i32[(c >> 2) + CLEANUP_NEXT]) {
      if (!inside(c, SIZEOF_NGX_POOL_CLEANUP_T)) {
        corrupt(c, "cleanup record outside the pool's used bytes");
      }
      if (++n > linkLimit) corrupt(c, "cleanup list has a cycle");
      const h = i32[(c >> 2) + CLEANUP_HANDLER];
      if (h !== 0 && h !== CLEANUP_HANDLER_JS) corrupt(c, `cleanup handler word ${h}`);
    }
  }

  // -------------------------------------------------------------------------
  // Internals
  // -------------------------------------------------------------------------

  /** ngx_palloc without the checks. */
  private alloc(size: number): Ptr {
    if (size <= this.heap.i32[(this.offset >> 2) + POOL_MAX]) return this.small(size, true);
    return this.large(size);
  }

  /** ngx_palloc_small(): bump from `current` or a block after it. */
  private small(size: number, align: boolean): Ptr {
    let i32 = this.heap.i32;
    let p = i32[(this.offset >> 2) + POOL_CURRENT];
    do {
      const w = p >> 2;
      let end = i32[w + D_END];
      // Also true when the header lies past the views (then end is undefined).
      if (!(end <= this.heap.viewEnd)) {
        i32 = this.unseen(p);
        end = i32[w + D_END];
      }
      let m = i32[w + D_LAST];
      if (align) m = (m + NGX_ALIGNMENT_MASK) & ~NGX_ALIGNMENT_MASK;
      if (end - m >= size) {
        i32[w + D_LAST] = m + size;
        return m;
      }
      p = i32[w + D_NEXT];
    } while (p !== 0);
    return this.block(size);
  }

  /**
   * ngx_palloc_block(): appends a block of the first block's size and carves
   * `size` bytes at its start (block + 32, aligned); every block from
   * `current` to the one before the new block ages by one failure.
   */
  private block(size: number): Ptr {
    const heap = this.heap;
    const pool = this.offset;
    const pw = pool >> 2;
    const psize = heap.i32[pw + D_END] - pool;
    const m = heap.memalign(NGX_POOL_ALIGNMENT, psize);
    if (m === 0) return 0;
    const i32 = heap.i32; // memalign may have grown the heap
    const mw = m >> 2;
    i32.fill(0, mw, mw + DATA_WORDS);
    i32[mw + D_END] = m + psize;
    const r = (m + SIZEOF_NGX_POOL_DATA_T + NGX_ALIGNMENT_MASK) & ~NGX_ALIGNMENT_MASK;
    i32[mw + D_LAST] = r + size;
    let p = i32[pw + POOL_CURRENT];
    for (let next = i32[(p >> 2) + D_NEXT]; next !== 0; next = i32[(p >> 2) + D_NEXT]) {
      if (i32[(p >> 2) + D_FAILED]++ > NGX_POOL_FAILED_LIMIT) i32[pw + POOL_CURRENT] = next;
      p = next;
    }
    i32[(p >> 2) + D_NEXT] = m;
    return r;
  }

  /** ngx_palloc_large(): a heap allocation, on a free link among the first 5 or a new one. */
  private large(size: number): Ptr {
    const heap = this.heap;
    const p = heap.malloc(size);
    if (p === 0) return 0;
    heap.refresh(); // the links may lie in blocks got in another worker
    const i32 = heap.i32;
    let n = 0;
    for (let l = i32[(this.offset >> 2) + POOL_LARGE]; l !== 0; l = i32[(l >> 2) + LARGE_NEXT]) {
      if (i32[(l >> 2) + LARGE_ALLOC] === 0) {
        i32[(l >> 2) + LARGE_ALLOC] = p;
        i32[(l >> 2) + LARGE_SIZE] = size;
        return p;
      }
      if (++n === NGX_POOL_LARGE_SCAN) break; // nginx: if (n++ > 3) break;
    }
    return this.link(p, size);
  }

  /** Pushes a new ngx_pool_large_t for `p` on the large list; frees `p` if the link cannot be had. */
  private link(p: Ptr, size: number): Ptr {
    const l = this.small(SIZEOF_NGX_POOL_LARGE_T, true);
    if (l === 0) {
      this.heap.free(p);
      return 0;
    }
    const i32 = this.heap.i32;
    const lw = l >> 2;
    const pw = this.offset >> 2;
    i32[lw + LARGE_NEXT] = i32[pw + POOL_LARGE];
    i32[lw + LARGE_NEXT + 1] = 0;
    i32[lw + LARGE_ALLOC] = p;
    i32[lw + LARGE_SIZE] = size;
    i32[pw + POOL_LARGE] = l;
    return p;
  }

  /**
   * Pops every cleanup record, newest first, and calls its handler; stops
   * early if a handler destroyed the pool. Collects what handlers throw.
   */
  private runCleanups(): unknown[] | undefined {
    const pw = this.offset >> 2;
    let errors: unknown[] | undefined;
    while (!this.destroyed) {
      const i32 = this.heap.i32;
      const handlers = handlersOf(this.shared, i32, this.offset);
      const c = i32[pw + POOL_CLEANUP];
      if (c === 0) break;
      const cw = c >> 2;
      i32[pw + POOL_CLEANUP] = i32[cw + CLEANUP_NEXT];
      if (i32[cw + CLEANUP_HANDLER] === 0) continue;
      i32[cw + CLEANUP_HANDLER] = 0;
      const handler = handlers.get(c);
      handlers.delete(c);
      // Set in another worker (or through another copy of this module): it cannot be called here.
      if (handler === undefined) continue;
      try {
        handler(i32[cw + CLEANUP_DATA]);
      } catch (e) {
        if (errors === undefined) errors = [];
        errors.push(e);
      }
    }
    return errors;
  }

  /** Frees every large allocation still held (ngx_reset_pool's and ngx_destroy_pool's loop). */
  private freeLarge(): void {
    const heap = this.heap;
    const i32 = heap.i32;
    for (let l = i32[(this.offset >> 2) + POOL_LARGE]; l !== 0; l = i32[(l >> 2) + LARGE_NEXT]) {
      const alloc = i32[(l >> 2) + LARGE_ALLOC];
      if (alloc !== 0) heap.free(alloc);
    }
  }

  /**
   * {@link NgxPool.live} for the calls that walk the pool's lists: first
   * the heap's views are refreshed (cheap), for blocks another worker got.
   */
  private liveWalk(fn: string): void {
    this.heap.refresh();
    this.live(fn);
  }

  /**
   * The views, refreshed, when block `p` of the pool lies past them: a
   * block another worker's handle got while it held the pool, and this
   * handle took the pool back without attach or `heap.refresh()`.
   */
  private unseen(p: Ptr): Int32Array {
    return this.heap.reach(p, `NgxPool at ${this.offset}: block ${p}`);
  }

  private live(fn: string): void {
    const i32 = this.heap.i32;
    const w = this.offset >> 2;
    if (i32[w + POOL_MAGIC] !== NGX_POOL_MAGIC || i32[w + POOL_SERIAL] !== this.serial) {
      this.gone(fn);
    }
  }

  private gone(fn: string): never {
    throw new InvalidStateError(`NgxPool.${fn}(): pool at ${this.offset} was destroyed`);
  }

  private badSize(fn: string, size: unknown): never {
    throw new InvalidSizeError(
      `NgxPool.${fn}(): invalid size ${formatValue(size)}: not an integer from 0 to ${MAX_ALLOC_SIZE} (pool at ${this.offset})`,
      size,
    );
  }
}
