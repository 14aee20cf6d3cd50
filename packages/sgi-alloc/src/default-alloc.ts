/*-------------------------------------------------------------------------
 *
 * default-alloc.ts
 *	  The second level of SGI STL 3.3's allocator: __default_alloc_template,
 *	  a pool of 16 free lists of small objects (8, 16, ..., 128 bytes) carved
 *	  from large chunks the pool gets from the first level and never returns.
 *
 * allocate(n) above MAX_BYTES goes to the first level (malloc). Smaller
 * requests pop the head of free list freelistIndex(n); an empty list is
 * refilled by _S_refill with 20 objects of roundUp(n) bytes, which
 * _S_chunk_alloc cuts from the pool space [start_free, end_free): all 20 if
 * the space holds them, else as many as fit, else the leftover goes to the
 * free list its size maps to and the pool gets 2 * total + roundUp(heap_size
 * >> 4) new bytes from the heap. When the heap has none, one object of the
 * same or a larger class is taken off its list to serve as pool space
 * (scavenging); only when there is none either does the first level's
 * malloc-handler loop run, ending in bad_alloc. deallocate(p, n) pushes p on
 * the list of n: the link lives in the object's first word (union _Obj), an
 * object has no header, and chunks are never given back.
 *
 * The original's static members are words of a control struct malloc'd from
 * the heap by the constructor (layout.ts), one pool per DefaultAlloc; a
 * second handle on the same pool (another worker's, on a shared heap) is
 * made by DefaultAlloc.attach from the struct's offset. With threads: true,
 * every free-list operation holds a lock on a word of that struct, as the
 * __threads parameter's _Lock does: a compare-and-swap that spins a while,
 * then sleeps in Atomics.wait where the agent may block. The class is then
 * LockedDefaultAlloc, chosen once when the handle is made, so a pool made
 * without threads runs no lock code at all.
 *
 * A growable shared heap's views in one worker may end before chunks
 * another worker has obtained since: a call re-acquires them (heap
 * .refresh()) before it reads pool memory past their end, the locked pool
 * after taking the lock, since that is when another worker's carving
 * becomes visible. allocate checks the object it pops against the views'
 * length; a refill and checking mode refresh them outright.
 *
 * Differences from stl_alloc.h: see the README. In short: one pool per
 * instance; sizes and (in checking mode) pointers are validated; before
 * falling back to the first level both start_free and end_free are cleared
 * (as libstdc++'s __pool_alloc does) so that a bad_alloc leaves the pool
 * consistent; in checking mode every chunk carries a record and a shadow
 * byte per object, so wrong sizes and double frees are caught.
 *
 *-------------------------------------------------------------------------
 */

import {
  CAN_WAIT,
  formatValue,
  type Heap,
  HeapCorruptionError,
  InvalidPointerError,
  InvalidSizeError,
  InvalidStateError,
  MAX_ALLOC_SIZE,
  OutOfMemoryError,
  type Ptr,
  WIPE_BYTE,
} from "@mmgr/heap";
import type { Allocator, DefaultAllocOptions, PoolStats } from "./api.js";
import { isSize, rethrow } from "./errors.js";
import {
  ALIGN,
  ALIGN_BITS,
  ALIGN_MASK,
  CHUNK_END,
  CHUNK_NEXT,
  CHUNK_RECORD_SIZE,
  CHUNK_START,
  MAX_BYTES,
  NFREELISTS,
  NOBJS,
  POOL_CHUNKS,
  POOL_CUR_CHUNK,
  POOL_END_FREE,
  POOL_FLAG_CHECKING,
  POOL_FLAG_THREADS,
  POOL_FLAGS,
  POOL_FREE_LIST,
  POOL_HEAP_SIZE,
  POOL_LOCK,
  POOL_MAGIC,
  POOL_MAGIC_VALUE,
  POOL_SIZE,
  POOL_START_FREE,
  POOL_WORDS,
  roundUp,
  SHADOW_CLASS_MASK,
  SHADOW_FREE,
  SHADOW_LIVE,
} from "./layout.js";
import { MallocAlloc } from "./malloc-alloc.js";

/** Bytes of size class `cls` (free list index). */
const classBytes = (cls: number) => (cls + 1) << ALIGN_BITS;

/** {@link DefaultAlloc.exclusive}'s checks: the pointer is not a pooled object / is a live one. */
const NOT_POOLED = 0;
const LIVE = 1;

/** The options' key under which {@link DefaultAlloc.attach} hands the constructor an existing control struct. */
const ATTACH = Symbol("attach");

/** The constructor's options as {@link DefaultAlloc.attach} passes them. */
interface ConstructorOptions extends DefaultAllocOptions {
  [ATTACH]?: Ptr;
}

/**
 * `__default_alloc_template` (typedef `alloc`): the SGI STL pool of 16
 * free lists on a heap. Objects up to {@link MAX_BYTES} come from the pool,
 * larger ones from the first level; `deallocate` must be given the size the
 * object was allocated with.
 *
 * @example
 * ```ts
 * const pool = new DefaultAlloc(heap);
 * const p = pool.allocate(24); // refills free list 2 with 20 objects of 24 bytes
 * pool.deallocate(p, 24); // back on free list 2
 * pool.stats(); // { heapSize: 960, bytesLeft: 480, freeListLengths: [0, 0, 20, ...] }
 * ```
 */
export class DefaultAlloc implements Allocator {
  /** The heap the pool's chunks and control struct come from. */
  readonly heap!: Heap;
  /**
   * Offset of the pool's control struct in the arena: what
   * {@link DefaultAlloc.attach} takes to make another handle on the pool.
   */
  readonly offset!: Ptr;
  /** The same as {@link DefaultAlloc.offset}. */
  readonly control!: Ptr;
  /** Whether free-list operations take the pool's lock (`__threads`). */
  readonly threads!: boolean;
  /** Whether the pool keeps chunk records and shadow bytes: the heap's checking mode. */
  readonly checking!: boolean;
  /** The first level: requests above {@link MAX_BYTES} and the last resort of `_S_chunk_alloc`. */
  readonly firstLevel!: MallocAlloc;
  /** `control >> 2`: the control struct's first word in the heap's Int32Array. */
  protected readonly base!: number;

  /**
   * Makes a pool: mallocs its {@link POOL_SIZE}-byte control struct from
   * `heap`, all lists empty and no pool space, as the original's statics start.
   * @throws OutOfMemoryError when the heap cannot give the control struct.
   * @throws InvalidStateError when `options.firstLevel` is on another heap.
   */
  constructor(heap: Heap, options: DefaultAllocOptions = {}) {
    const threads = options.threads === true;
    if (threads && new.target === DefaultAlloc) {
      // biome-ignore lint/correctness/noConstructorReturn: the locked variant is chosen here, once
      return new LockedDefaultAlloc(heap, options);
    }
    const firstLevel = options.firstLevel ?? new MallocAlloc(heap);
    if (firstLevel.heap !== heap) {
      throw new InvalidStateError(
        "DefaultAlloc(): options.firstLevel is a MallocAlloc on another heap than the pool's",
      );
    }
    const attached = (options as ConstructorOptions)[ATTACH];
    const control = attached ?? heap.malloc(POOL_SIZE);
    if (control === 0) {
      throw new OutOfMemoryError(
        `DefaultAlloc(): out of memory: the heap cannot give the pool's ${POOL_SIZE}-byte control struct`,
        POOL_SIZE,
      );
    }
    this.heap = heap;
    this.offset = control;
    this.control = control;
    this.threads = threads;
    this.checking = heap.checking;
    this.firstLevel = firstLevel;
    this.base = control >> 2;
    if (attached !== undefined) return;
    const i32 = heap.i32;
    i32.fill(0, this.base, this.base + POOL_WORDS);
    i32[this.base + POOL_MAGIC] = POOL_MAGIC_VALUE;
    i32[this.base + POOL_FLAGS] =
      (threads ? POOL_FLAG_THREADS : 0) | (this.checking ? POOL_FLAG_CHECKING : 0);
  }

  /**
   * Another handle on the pool whose control struct is at `offset` in
   * `heap` (its {@link DefaultAlloc.offset}): how a worker uses a pool made
   * with `threads: true` on a shared heap it has attached with
   * `Heap.attach(buffer)`. The handle shares every list and byte of the pool
   * with the others; it is locked when the pool was made with `threads`,
   * plain otherwise (such a pool belongs to one worker at a time). Nothing
   * in the arena is written.
   * @param options.firstLevel a `MallocAlloc` on `heap` to use as the first
   *   level (its malloc handler is this handle's own); by default a new one.
   * @throws InvalidStateError when there is no pool at `offset`: not an
   *   8-aligned offset of a live heap block of at least {@link POOL_SIZE}
   *   bytes, no pool magic, unknown flags, or another checking mode than
   *   the heap's; also when `options.firstLevel` is on another heap.
   */
  static attach(
    heap: Heap,
    offset: Ptr,
    options: Omit<DefaultAllocOptions, "threads"> = {},
  ): DefaultAlloc {
    heap.refresh();
    const found = DefaultAlloc.inspect(heap, offset);
    if (found !== "") {
      throw new InvalidStateError(
        `DefaultAlloc.attach(): no pool at offset ${formatValue(offset)}: ${found}`,
      );
    }
    const flags = heap.i32[(offset >> 2) + POOL_FLAGS];
    const attach: ConstructorOptions = {
      threads: (flags & POOL_FLAG_THREADS) !== 0,
      [ATTACH]: offset,
    };
    if (options.firstLevel !== undefined) attach.firstLevel = options.firstLevel;
    return new DefaultAlloc(heap, attach);
  }

  /** Why there is no pool control struct at `offset` in `heap`, or "" when there is one. */
  private static inspect(heap: Heap, offset: unknown): string {
    const end = heap.end;
    if (
      typeof offset !== "number" ||
      offset !== (offset | 0) ||
      offset <= 0 ||
      (offset & ALIGN_MASK) !== 0 ||
      offset + POOL_SIZE > end
    ) {
      return `not an 8-aligned offset of a ${POOL_SIZE}-byte struct inside the arena (which ends at ${end})`;
    }
    let usable = 0;
    try {
      usable = heap.usableSize(offset);
    } catch {
      usable = -1;
    }
    if (usable < POOL_SIZE) {
      return `not a live heap block of at least ${POOL_SIZE} bytes`;
    }
    const i32 = heap.i32;
    const w = offset >> 2;
    const magic = i32[w + POOL_MAGIC];
    if (magic !== POOL_MAGIC_VALUE) {
      return `no pool magic (the first word reads 0x${(magic >>> 0).toString(16)}, not 0x${POOL_MAGIC_VALUE.toString(16)})`;
    }
    const flags = i32[w + POOL_FLAGS];
    if ((flags & ~(POOL_FLAG_THREADS | POOL_FLAG_CHECKING)) !== 0) {
      return `its flags word reads ${flags}, which has bits no pool sets`;
    }
    if (((flags & POOL_FLAG_CHECKING) !== 0) !== heap.checking) {
      return heap.checking
        ? "the pool was made without checking mode, but the heap is in checking mode"
        : "the pool was made in checking mode, but the heap is not in checking mode";
    }
    // Nothing else is read: the other words may be changing in another worker.
    return "";
  }

  // ---------------------------------------------------------------------
  // The public calls
  // ---------------------------------------------------------------------

  /**
   * `allocate(n)`: above {@link MAX_BYTES}, the first level's `allocate`;
   * else the head of free list `freelistIndex(n)`, refilled when empty.
   * The object has `roundUp(n)` usable bytes and is 8-aligned.
   * @throws InvalidSizeError when `n` is not an integer from 1 to the heap's
   *   MAX_ALLOC_SIZE (the original requires `n > 0`).
   * @throws OutOfMemoryError (bad_alloc) when neither the heap, the larger
   *   free lists nor the malloc handler can provide the memory.
   * @throws HeapCorruptionError in checking mode when the free list is damaged.
   */
  allocate(n: number): Ptr {
    if (!isSize(n, 1)) this.badSize("allocate", n);
    if (n > MAX_BYTES) return this.firstLevel.allocate(n);
    return this.allocSmall(n);
  }

  /**
   * `deallocate(p, n)`: above {@link MAX_BYTES}, the heap's `free`; else `p`
   * goes on the head of free list `freelistIndex(n)`. `n` must be of the
   * size class `p` was allocated with: only checking mode can tell.
   * @throws InvalidSizeError when `n` is not an integer from 1 to the heap's MAX_ALLOC_SIZE.
   * @throws InvalidPointerError when `ptr` is 0, not 8-aligned or outside the
   *   arena; in checking mode also when the pool never handed it out, it is
   *   already on a free list (double free), or `n` is of another size class
   *   than it was allocated with; above MAX_BYTES, when the heap refuses it.
   */
  deallocate(ptr: Ptr, n: number): void {
    if (!isSize(n, 1)) this.badSize("deallocate", n);
    if (ptr !== (ptr | 0) || ptr <= 0 || (ptr & ALIGN_MASK) !== 0 || ptr >= this.heap.end) {
      this.badPointer("deallocate", ptr, n, "is not an 8-aligned offset inside the arena");
    }
    if (n > MAX_BYTES) {
      if (this.checking) this.exclusive(NOT_POOLED, "deallocate", ptr, n);
      try {
        this.heap.free(ptr);
      } catch (err) {
        rethrow(err, "DefaultAlloc.deallocate()");
      }
      return;
    }
    this.freeSmall(ptr, n);
  }

  /**
   * `reallocate(p, oldSize, newSize)` as the original: both sizes above
   * {@link MAX_BYTES}, the heap's `realloc` (which, as in stl_alloc.h, does not
   * run the malloc handler and returns 0 on failure, `ptr` intact); the same
   * rounded size, `ptr` itself; else `allocate(newSize)`, copy
   * `min(oldSize, newSize)` bytes, `deallocate(ptr, oldSize)`.
   * @returns the object, or 0 only when the heap's realloc of two large sizes fails.
   * @throws InvalidSizeError when a size is not an integer from 1 to the heap's MAX_ALLOC_SIZE.
   * @throws InvalidPointerError as {@link DefaultAlloc.deallocate}, before anything is changed.
   * @throws OutOfMemoryError as {@link DefaultAlloc.allocate}, `ptr` then intact.
   */
  reallocate(ptr: Ptr, oldSize: number, newSize: number): Ptr {
    if (!isSize(oldSize, 1)) this.badSize("reallocate", oldSize);
    if (!isSize(newSize, 1)) this.badSize("reallocate", newSize);
    if (ptr !== (ptr | 0) || ptr <= 0 || (ptr & ALIGN_MASK) !== 0 || ptr >= this.heap.end) {
      this.badPointer("reallocate", ptr, oldSize, "is not an 8-aligned offset inside the arena");
    }
    const heap = this.heap;
    if (oldSize > MAX_BYTES && newSize > MAX_BYTES) {
      if (this.checking) this.exclusive(NOT_POOLED, "reallocate", ptr, oldSize);
      try {
        return heap.realloc(ptr, newSize);
      } catch (err) {
        rethrow(err, "DefaultAlloc.reallocate()");
      }
    }
    // Validate ptr first, so that a bad one changes nothing.
    if (oldSize > MAX_BYTES) {
      if (this.checking) this.exclusive(NOT_POOLED, "reallocate", ptr, oldSize);
      try {
        heap.usableSize(ptr);
      } catch (err) {
        rethrow(err, "DefaultAlloc.reallocate()");
      }
    } else if (this.checking) {
      this.exclusive(LIVE, "reallocate", ptr, oldSize);
    }
    if (((oldSize + ALIGN_MASK) & ~ALIGN_MASK) === ((newSize + ALIGN_MASK) & ~ALIGN_MASK)) {
      return ptr;
    }
    const result = this.allocate(newSize);
    heap.u8.copyWithin(result, ptr, ptr + Math.min(newSize, oldSize));
    this.deallocate(ptr, oldSize);
    return result;
  }

  /**
   * The pool's counters: `_S_heap_size`, `_S_end_free - _S_start_free` and
   * the length of each free list. Walks the lists (not for hot paths).
   * @throws HeapCorruptionError when a free list leaves the arena or loops.
   */
  stats(): PoolStats {
    this.heap.refresh();
    const i32 = this.heap.i32;
    const b = this.base;
    const freeListLengths: number[] = [];
    for (let cls = 0; cls < NFREELISTS; cls++) {
      freeListLengths.push(this.walkList(cls, "stats", null));
    }
    return {
      heapSize: i32[b + POOL_HEAP_SIZE],
      bytesLeft: i32[b + POOL_END_FREE] - i32[b + POOL_START_FREE],
      freeListLengths,
    };
  }

  /**
   * Verifies the pool: the control struct, the pool space, and every free
   * list (links 8-aligned, inside the arena, no loop); in checking mode also
   * that every free object is recorded as free of its list's class, still
   * wiped, that no free object is missing from its list, and that the chunk
   * records add up to `heapSize`. Does not walk the heap: call `heap.check()`.
   * @throws HeapCorruptionError naming the offset of the first damage found.
   */
  check(): void {
    this.heap.refresh();
    const i32 = this.heap.i32;
    const b = this.base;
    if (i32[b + POOL_MAGIC] !== POOL_MAGIC_VALUE) {
      this.corrupt(this.control, "check(): control struct magic overwritten");
    }
    const start = i32[b + POOL_START_FREE];
    const end = i32[b + POOL_END_FREE];
    if (start > end || ((end - start) & ALIGN_MASK) !== 0 || (start & ALIGN_MASK) !== 0) {
      this.corrupt(
        this.control + POOL_START_FREE * 4,
        `check(): pool space ${start}..${end} is not valid`,
      );
    }
    const counts = this.checking ? new Array<number>(NFREELISTS).fill(0) : null;
    for (let cls = 0; cls < NFREELISTS; cls++) this.walkList(cls, "check", counts);
    if (!this.checking || counts === null) return;
    // Every free object in the shadow must have been met on its list.
    const u8 = this.heap.u8;
    let total = 0;
    const seen = new Array<number>(NFREELISTS).fill(0);
    for (let rec = i32[b + POOL_CHUNKS]; rec !== 0; rec = i32[(rec >> 2) + CHUNK_NEXT]) {
      const cstart = i32[(rec >> 2) + CHUNK_START];
      const cend = i32[(rec >> 2) + CHUNK_END];
      total += cend - cstart;
      const shadow = rec + CHUNK_RECORD_SIZE;
      for (let g = 0; g < (cend - cstart) >> ALIGN_BITS; g++) {
        const s = u8[shadow + g];
        if (s & SHADOW_FREE) seen[s & SHADOW_CLASS_MASK]++;
        if (s !== 0 && cstart + (g << ALIGN_BITS) >= start && cstart + (g << ALIGN_BITS) < end) {
          this.corrupt(
            cstart + (g << ALIGN_BITS),
            "check(): the pool space holds a recorded object",
          );
        }
      }
    }
    for (let cls = 0; cls < NFREELISTS; cls++) {
      if (seen[cls] !== counts[cls]) {
        this.corrupt(
          this.control + (POOL_FREE_LIST + cls) * 4,
          `check(): free list ${cls} holds ${counts[cls]} objects, but ${seen[cls]} are recorded as on it`,
        );
      }
    }
    if (total !== i32[b + POOL_HEAP_SIZE]) {
      this.corrupt(
        this.control + POOL_HEAP_SIZE * 4,
        `check(): heap_size ${i32[b + POOL_HEAP_SIZE]}, the chunks hold ${total}`,
      );
    }
  }

  // ---------------------------------------------------------------------
  // The free lists (LockedDefaultAlloc takes its lock in the first three)
  // ---------------------------------------------------------------------

  /** @internal {@link DefaultAlloc.pop}, under the lock in LockedDefaultAlloc. */
  protected allocSmall(n: number): Ptr {
    return this.pop(n);
  }

  /** @internal {@link DefaultAlloc.push}, under the lock in LockedDefaultAlloc. */
  protected freeSmall(ptr: Ptr, n: number): void {
    this.push(ptr, n);
  }

  /**
   * @internal Checking mode: a check that reads pool memory outside a
   * free-list operation (`what`: {@link NOT_POOLED} or {@link LIVE}), with
   * the views refreshed (and, in LockedDefaultAlloc, under the lock). No
   * closure: a function that makes one pays for its context on every call.
   */
  protected exclusive(what: number, fn: string, ptr: Ptr, n: number): void {
    this.heap.refresh();
    this.runCheck(what, fn, ptr, n);
  }

  /** @internal The check {@link DefaultAlloc.exclusive} runs. */
  protected runCheck(what: number, fn: string, ptr: Ptr, n: number): void {
    if (what === NOT_POOLED) this.assertNotPooled(fn, ptr, n);
    else this.assertLive(fn, ptr, n);
  }

  /**
   * @internal Pops the head of the list of `n` (1..128), refilling it when
   * empty. The object may lie past the end of the heap's views, carved by
   * another worker from memory the arena gained since they were made (or
   * the views may be detached, a WebAssembly memory its module grew): then
   * they are re-acquired first.
   */
  protected pop(n: number): Ptr {
    let i32 = this.heap.i32;
    const cls = ((n + ALIGN_MASK) >>> ALIGN_BITS) - 1;
    const slot = this.base + POOL_FREE_LIST + cls;
    let result = i32[slot];
    // Negated, so that a read of detached views (undefined) refreshes too.
    if (!(result + classBytes(cls) <= this.heap.viewEnd) || this.checking) {
      this.heap.refresh();
      i32 = this.heap.i32;
      result = i32[slot];
    }
    if (result === 0) return this.refill(classBytes(cls));
    if (this.checking) this.takeFree("allocate", result, cls, SHADOW_LIVE);
    i32[slot] = i32[result >> 2];
    return result;
  }

  /**
   * @internal Pushes `ptr` on the list of `n` (1..128). `deallocate` checked
   * `ptr` against `heap.end`, which re-acquires lagging views, so the
   * object's first word is inside them.
   */
  protected push(ptr: Ptr, n: number): void {
    const cls = ((n + ALIGN_MASK) >>> ALIGN_BITS) - 1;
    if (this.checking) {
      this.heap.refresh(); // the chunk records of other workers' chunks
      const at = this.assertLive("deallocate", ptr, n);
      this.heap.u8[at] = SHADOW_FREE | cls;
      this.heap.u8.fill(WIPE_BYTE, ptr + 4, ptr + classBytes(cls));
    }
    const i32 = this.heap.i32;
    const slot = this.base + POOL_FREE_LIST + cls;
    i32[ptr >> 2] = i32[slot];
    i32[slot] = ptr;
  }

  // ---------------------------------------------------------------------
  // Refill and chunk allocation
  // ---------------------------------------------------------------------

  /**
   * `_S_refill(n)`: gets up to NOBJS objects of `n` (rounded) bytes, returns
   * the first and threads the others onto the empty list of `n` in address
   * order.
   */
  private refill(n: number): Ptr {
    // The pool space may lie past the views' end: another worker's chunk.
    this.heap.refresh();
    const nobjs = this.chunkAlloc(n, NOBJS);
    const i32 = this.heap.i32; // chunkAlloc may have grown the heap
    const chunk = i32[this.base + POOL_START_FREE] - nobjs * n;
    const cls = (n >>> ALIGN_BITS) - 1;
    if (this.checking) this.recordCarved(chunk, n, nobjs, cls, SHADOW_LIVE);
    if (nobjs === 1) return chunk;
    let next = chunk + n;
    i32[this.base + POOL_FREE_LIST + cls] = next;
    for (let i = 2; i < nobjs; i++) {
      i32[next >> 2] = next + n;
      next += n;
    }
    i32[next >> 2] = 0;
    return chunk;
  }

  /**
   * `_S_chunk_alloc(size, nobjs)`: carves `nobjs` objects of `size` bytes
   * (fewer if only fewer fit) from the pool space, getting more space when
   * it cannot give even one. Returns how many it carved; they end at the new
   * start_free.
   */
  private chunkAlloc(size: number, nobjs: number): number {
    const b = this.base;
    let i32 = this.heap.i32;
    const total = size * nobjs;
    const start = i32[b + POOL_START_FREE];
    const left = i32[b + POOL_END_FREE] - start;
    if (left >= total) {
      i32[b + POOL_START_FREE] = start + total;
      return nobjs;
    }
    if (left >= size) {
      const fit = (left / size) | 0;
      i32[b + POOL_START_FREE] = start + size * fit;
      return fit;
    }
    const bytesToGet = 2 * total + roundUp(i32[b + POOL_HEAP_SIZE] >>> 4);
    if (left > 0) {
      // Make use of the left-over piece: it is a multiple of 8 below size.
      const cls = ((left + ALIGN_MASK) >>> ALIGN_BITS) - 1;
      if (this.checking) this.recordCarved(start, left, 1, cls, SHADOW_FREE);
      i32[start >> 2] = i32[b + POOL_FREE_LIST + cls];
      i32[b + POOL_FREE_LIST + cls] = start;
    }
    // Both ends cleared (libstdc++'s fix): a bad_alloc below leaves an empty pool.
    i32[b + POOL_START_FREE] = 0;
    i32[b + POOL_END_FREE] = 0;
    const extra = this.checking ? CHUNK_RECORD_SIZE + (bytesToGet >>> ALIGN_BITS) : 0;
    let chunk = this.heap.malloc(bytesToGet + extra);
    i32 = this.heap.i32;
    if (chunk === 0) {
      // Try what we have: an object of this or a larger class becomes the
      // pool space. Smaller ones are never tried ("tends to result in
      // disaster on multi-process machines").
      for (let i = size; i <= MAX_BYTES; i += ALIGN) {
        const slot = b + POOL_FREE_LIST + (i >>> ALIGN_BITS) - 1;
        const p = i32[slot];
        if (p !== 0) {
          if (this.checking) {
            this.takeFree("allocate", p, (i >>> ALIGN_BITS) - 1, 0);
            i32[b + POOL_CUR_CHUNK] = this.findChunk(p);
          }
          i32[slot] = i32[p >> 2];
          i32[b + POOL_START_FREE] = p;
          i32[b + POOL_END_FREE] = p + i;
          return this.chunkAlloc(size, nobjs);
        }
      }
      // The malloc-handler loop; throws bad_alloc when it gives up.
      chunk = this.firstLevel.allocate(bytesToGet + extra);
      i32 = this.heap.i32;
    }
    if (this.checking) this.recordChunk(chunk, bytesToGet);
    i32[b + POOL_HEAP_SIZE] += bytesToGet;
    i32[b + POOL_START_FREE] = chunk;
    i32[b + POOL_END_FREE] = chunk + bytesToGet;
    return this.chunkAlloc(size, nobjs);
  }

  // ---------------------------------------------------------------------
  // Checking mode: chunk records and shadow bytes
  // ---------------------------------------------------------------------

  /** Checking mode: writes the record and a zeroed shadow after a new chunk; it becomes cur_chunk. */
  private recordChunk(chunk: number, bytes: number): void {
    const i32 = this.heap.i32;
    const rec = chunk + bytes;
    const w = rec >> 2;
    i32[w + CHUNK_NEXT] = i32[this.base + POOL_CHUNKS];
    i32[w + CHUNK_START] = chunk;
    i32[w + CHUNK_END] = chunk + bytes;
    i32[w + 3] = 0;
    const shadow = rec + CHUNK_RECORD_SIZE;
    this.heap.u8.fill(0, shadow, shadow + (bytes >>> ALIGN_BITS));
    i32[this.base + POOL_CHUNKS] = rec;
    i32[this.base + POOL_CUR_CHUNK] = rec;
  }

  /**
   * Checking mode: records `count` objects of `size` bytes carved at `first`
   * from the pool space (which lies in cur_chunk): the first as `firstState`
   * (live for refill, free for the leftover piece), the others free; free
   * ones are wiped.
   */
  private recordCarved(
    first: number,
    size: number,
    count: number,
    cls: number,
    firstState: number,
  ): void {
    const i32 = this.heap.i32;
    const u8 = this.heap.u8;
    const rec = i32[this.base + POOL_CUR_CHUNK];
    const at = rec + CHUNK_RECORD_SIZE - (i32[(rec >> 2) + CHUNK_START] >> ALIGN_BITS);
    u8[at + (first >> ALIGN_BITS)] = firstState | cls;
    if (firstState === SHADOW_FREE) u8.fill(WIPE_BYTE, first + 4, first + size);
    for (let i = 1, p = first + size; i < count; i++, p += size) {
      u8[at + (p >> ALIGN_BITS)] = SHADOW_FREE | cls;
      u8.fill(WIPE_BYTE, p + 4, p + size);
    }
  }

  /** Checking mode: the record of the chunk holding `p`, or 0. O(chunks). */
  private findChunk(p: number): number {
    const i32 = this.heap.i32;
    for (let rec = i32[this.base + POOL_CHUNKS]; rec !== 0; rec = i32[(rec >> 2) + CHUNK_NEXT]) {
      if (p >= i32[(rec >> 2) + CHUNK_START] && p < i32[(rec >> 2) + CHUNK_END]) return rec;
    }
    return 0;
  }

  /** Checking mode: the shadow byte's offset for `p` in the chunk `rec`. */
  private shadowOf(rec: number, p: number): number {
    return rec + CHUNK_RECORD_SIZE + ((p - this.heap.i32[(rec >> 2) + CHUNK_START]) >> ALIGN_BITS);
  }

  /**
   * Checking mode: `p`, the head of list `cls` about to be taken off it, must
   * be recorded free of that class, still wiped, and link to such an object
   * or 0. Then its shadow byte becomes `state | cls` (0: pool space).
   */
  private takeFree(fn: string, p: number, cls: number, state: number): void {
    const u8 = this.heap.u8;
    const size = classBytes(cls);
    const rec = this.findChunk(p);
    const at = rec === 0 ? 0 : this.shadowOf(rec, p);
    if (rec === 0 || u8[at] !== (SHADOW_FREE | cls)) {
      this.corrupt(
        p,
        `${fn}(): free list ${cls} holds ${p}, which is not a free ${size}-byte object of this pool (a free-list link was overwritten)`,
      );
    }
    for (let i = p + 4; i < p + size; i++) {
      if (u8[i] !== WIPE_BYTE) {
        this.corrupt(
          i,
          `${fn}(): free ${size}-byte object ${p} was written after it was freed, at offset ${i}`,
        );
      }
    }
    const next = this.heap.i32[p >> 2];
    if (next !== 0) {
      const nrec = (next & ALIGN_MASK) === 0 ? this.findChunk(next) : 0;
      if (nrec === 0 || u8[this.shadowOf(nrec, next)] !== (SHADOW_FREE | cls)) {
        this.corrupt(
          p,
          `${fn}(): the link of free ${size}-byte object ${p} reads ${next}, not a free object of its list (written after it was freed?)`,
        );
      }
    }
    u8[at] = state === 0 ? 0 : state | cls;
  }

  /**
   * Checking mode: `p` must be a live pool object of the class of `n`.
   * Returns the offset of its shadow byte.
   */
  private assertLive(fn: string, p: number, n: number): number {
    const cls = ((n + ALIGN_MASK) >>> ALIGN_BITS) - 1;
    const rec = this.findChunk(p);
    if (rec === 0) {
      this.badPointer(
        fn,
        p,
        n,
        "was never handed out by this pool (it lies in none of the pool's chunks)",
      );
    }
    const at = this.shadowOf(rec, p);
    const s = this.heap.u8[at];
    if (s === 0) {
      this.badPointer(
        fn,
        p,
        n,
        "is not the start of an object of this pool (an interior pointer, or pool space not handed out)",
      );
    }
    if (s & SHADOW_FREE) {
      this.badPointer(fn, p, n, `is already on free list ${s & SHADOW_CLASS_MASK} (double free)`);
    }
    const was = s & SHADOW_CLASS_MASK;
    if (was !== cls) {
      this.badPointer(
        fn,
        p,
        n,
        `was allocated with a size of ${was * ALIGN + 1}..${classBytes(was)} bytes (free list ${was}), not of size class ${cls}`,
      );
    }
    return at;
  }

  /** Checking mode: a pointer passed with a size above MAX_BYTES must not be a pool object. */
  private assertNotPooled(fn: string, p: number, n: number): void {
    if (this.findChunk(p) !== 0) {
      this.badPointer(
        fn,
        p,
        n,
        `lies in a chunk of this pool (an object of at most ${MAX_BYTES} bytes), but a size above ${MAX_BYTES} would hand it to the heap's free`,
      );
    }
  }

  /**
   * Counts list `cls`, checking each link; in checking mode (`counts` given)
   * also each object's record and wipe.
   */
  private walkList(cls: number, fn: string, counts: number[] | null): number {
    const i32 = this.heap.i32;
    const u8 = this.heap.u8;
    const size = this.heap.end;
    const limit = (i32[this.base + POOL_HEAP_SIZE] >>> ALIGN_BITS) + 1;
    const bytes = classBytes(cls);
    let count = 0;
    let prev = this.control + (POOL_FREE_LIST + cls) * 4;
    for (let p = i32[this.base + POOL_FREE_LIST + cls]; p !== 0; p = i32[p >> 2]) {
      if ((p & ALIGN_MASK) !== 0 || p <= 0 || p + bytes > size) {
        this.corrupt(prev, `${fn}(): free list ${cls} links to ${p}, outside the arena`);
      }
      if (++count > limit) this.corrupt(p, `${fn}(): free list ${cls} loops`);
      if (counts !== null) {
        const rec = this.findChunk(p);
        if (rec === 0 || u8[this.shadowOf(rec, p)] !== (SHADOW_FREE | cls)) {
          this.corrupt(p, `${fn}(): free list ${cls} holds ${p}, not a free ${bytes}-byte object`);
        }
        for (let i = p + 4; i < p + bytes; i++) {
          if (u8[i] !== WIPE_BYTE) {
            this.corrupt(i, `${fn}(): free object ${p} was written after it was freed, at ${i}`);
          }
        }
      }
      prev = p;
    }
    if (counts !== null) counts[cls] = count;
    return count;
  }

  private corrupt(offset: number, what: string): never {
    throw new HeapCorruptionError(`DefaultAlloc.${what}`, offset);
  }

  private badSize(fn: string, n: unknown): never {
    throw new InvalidSizeError(
      `DefaultAlloc.${fn}(): invalid size ${formatValue(n)}: not an integer from 1 to ${MAX_ALLOC_SIZE}`,
      n,
    );
  }

  private badPointer(fn: string, p: unknown, n: number, why: string): never {
    throw new InvalidPointerError(
      `DefaultAlloc.${fn}(): pointer ${formatValue(p)} (size ${n}) ${why}`,
      p,
    );
  }
}

/**
 * What the lock word holds while a handle of this agent (thread) has the
 * lock: odd, non-zero, below 2^31, random per agent. Every handle of one
 * thread holds the lock with the same token, so a call that finds its own
 * token there re-entered the pool through whichever handle.
 */
const TOKEN = (((Math.random() * 0x40000000) | 0) << 1) | 1;
/** The lock word's sign bit: a handle may sleep in `Atomics.wait`, so unlock must notify. */
const LOCK_WAITERS = 1 << 31;
/** Tries of a contended lock before a handle that may block goes to sleep. */
const LOCK_SPINS = 100;

/**
 * The pool with `threads: true`: every free-list operation (and `stats`,
 * `check`, checking mode's lookups) holds the pool's lock, a word of the
 * control struct taken with `Atomics.compareExchange`, as `_Lock` guards
 * them in the original. The word holds the token of the thread holding it
 * (0 when free), so a call that re-enters the pool while its thread holds
 * the lock (from a malloc handler run during a refill) throws instead of
 * waiting for ever. On a shared heap a contended lock is tried
 * {@link LOCK_SPINS} times, then the handle sets the word's waiters bit and
 * sleeps in `Atomics.wait`; unlock notifies one sleeper when the bit was
 * set (the futex mutex of Drepper's "Futexes Are Tricky", with the token in
 * place of 1 and the bit in place of 2). An agent that may not block spins.
 */
class LockedDefaultAlloc extends DefaultAlloc {
  /** Whether another agent can ever release the lock: the heap is on a SharedArrayBuffer. */
  private readonly shared = this.heap.shared;

  protected override allocSmall(n: number): Ptr {
    this.lock();
    try {
      return this.pop(n);
    } finally {
      this.unlock();
    }
  }

  protected override freeSmall(ptr: Ptr, n: number): void {
    this.lock();
    try {
      this.push(ptr, n);
    } finally {
      this.unlock();
    }
  }

  protected override exclusive(what: number, fn: string, ptr: Ptr, n: number): void {
    this.lock();
    try {
      this.heap.refresh(); // the chunk records of other workers' chunks
      this.runCheck(what, fn, ptr, n);
    } finally {
      this.unlock();
    }
  }

  override stats(): PoolStats {
    this.lock();
    try {
      return super.stats();
    } finally {
      this.unlock();
    }
  }

  override check(): void {
    this.lock();
    try {
      super.check();
    } finally {
      this.unlock();
    }
  }

  /**
   * `__NODE_ALLOCATOR_LOCK`: makes the lock word go from 0 to this thread's
   * token. What another worker carved while it held the lock is visible
   * from here on; `pop` and `refill` re-acquire the views if it lies past
   * their end.
   */
  private lock(): void {
    const heap = this.heap;
    const w = this.base + POOL_LOCK;
    if (!this.shared) {
      // A WebAssembly memory its module grew: the views are detached.
      if (heap.viewEnd <= w << 2) heap.refresh();
      const held = Atomics.compareExchange(heap.i32, w, 0, TOKEN);
      if (held !== 0) this.refuse(held);
      return;
    }
    // The struct lies inside the views: it existed when they were made.
    const i32 = heap.i32;
    const held = Atomics.compareExchange(i32, w, 0, TOKEN);
    if (held !== 0) this.lockSlow(i32, w, held);
  }

  /** A contended lock on a shared heap: spin, then sleep with the waiters bit set. */
  private lockSlow(i32: Int32Array, w: number, seen: number): void {
    let held = seen;
    for (let spin = 0; ; spin++) {
      if ((held & ~LOCK_WAITERS) === TOKEN) this.refuse(held);
      const sleepy = CAN_WAIT && spin >= LOCK_SPINS;
      if (held === 0) {
        // Once asleep, take it with the bit set: other sleepers may remain.
        held = Atomics.compareExchange(i32, w, 0, sleepy ? TOKEN | LOCK_WAITERS : TOKEN);
        if (held === 0) return;
        continue;
      }
      if (sleepy) {
        if ((held & LOCK_WAITERS) === 0) {
          const was = Atomics.compareExchange(i32, w, held, held | LOCK_WAITERS);
          if (was !== held) {
            held = was;
            continue;
          }
        }
        Atomics.wait(i32, w, held | LOCK_WAITERS);
      }
      held = Atomics.load(i32, w);
    }
  }

  /** Releases the lock; wakes one sleeper when the waiters bit was set. */
  private unlock(): void {
    const i32 = this.heap.i32;
    const w = this.base + POOL_LOCK;
    if ((Atomics.exchange(i32, w, 0) & LOCK_WAITERS) !== 0) Atomics.notify(i32, w, 1);
  }

  /** The lock is held where waiting for it cannot end. */
  private refuse(held: number): never {
    if ((held & ~LOCK_WAITERS) === TOKEN) {
      throw new InvalidStateError(
        "DefaultAlloc: the pool's lock is held by this very thread: a call re-entered the pool during a free-list operation (from the malloc handler?), which would deadlock",
      );
    }
    throw new InvalidStateError(
      `DefaultAlloc: the pool's lock word reads ${held}, a lock no handle of this unshared heap holds: nobody could ever release it`,
    );
  }
}
