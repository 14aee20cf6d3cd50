/*-------------------------------------------------------------------------
 *
 * heap.ts
 *	  The byte arena and its general-purpose allocator: malloc, free,
 *	  realloc and memalign in O(1) by two-level segregated fit.
 *
 * Every other @mmgr allocator gets its blocks here, exactly where its C
 * original calls malloc(3) and free(3), so all of them share one address
 * space and can be mixed, measured and drawn together.
 *
 * The design is TLSF (Masmano, Ripoll, Crespo, Real: "TLSF: a new dynamic
 * memory allocator for real-time systems", ECRTS 2004): free blocks sit on
 * size-segregated lists indexed by two bitmaps, blocks carry boundary tags
 * and are coalesced with their free neighbours as soon as they are freed.
 * malloc rounds the request up to the next list boundary so that the head
 * of any non-empty list at or above it fits: a good fit, never a scan.
 *
 * The control struct, the lists and every header live in the arena (see
 * layout.ts). A growable heap sits on a resizable ArrayBuffer that grows in
 * place, so every view, including the ones users keep, stays valid.
 *
 *-------------------------------------------------------------------------
 */

import type { HeapOptions, HeapStats, MemoryHeapOptions, MemoryLike, Ptr } from "./api.js";
import {
  formatValue,
  HeapCorruptionError,
  InvalidAlignmentError,
  InvalidPointerError,
  InvalidSizeError,
  InvalidStateError,
  isAlignment,
  isAllocSize,
  NotSupportedError,
  OutOfMemoryError,
} from "./errors.js";
import {
  ALIGN,
  ALIGN_BITS,
  ALIGN_MASK,
  BLOCK_CHECK,
  BLOCK_HDR_SIZE,
  BLOCK_NEXT,
  BLOCK_PREV,
  BLOCK_SIZE,
  CACHE_BIN_BYTES,
  CACHE_BINS,
  CACHE_BUDGET_MIN,
  CACHE_BUDGET_SHIFT,
  CACHE_MAX_BLOCK,
  CACHE_NEXT,
  CONTROL_SIZE,
  CTL_ALLOCATIONS,
  CTL_BASE,
  CTL_FL_BITMAP,
  CTL_FLAGS,
  CTL_HEADS,
  CTL_LOCK,
  CTL_MAGIC,
  CTL_MAX_SIZE,
  CTL_PEAK_USED,
  CTL_SIZE,
  CTL_SL_BITMAP,
  CTL_TAG,
  CTL_USED,
  CTL_VERSION,
  CTL_WORDS,
  END_CHECK,
  END_SIZE,
  FIRST_BLOCK,
  FL_COUNT,
  FL_SHIFT,
  FLAG_FREE,
  FLAG_PREV_FREE,
  GROW_GRANULE,
  HEAP_FLAG_CHECKING,
  HEAP_FLAG_SHARED,
  HEAP_MAGIC,
  HEAP_MAX_SIZE,
  HEAP_MIN_SIZE,
  HEAP_VERSION,
  MAX_ALIGNMENT,
  MAX_ALLOC_SIZE,
  MEMORY_MAX_BYTES,
  MIN_BLOCK_SIZE,
  SENTINEL_BYTE,
  SIZE_MASK,
  SL_BITS,
  SL_COUNT,
  SMALL_BLOCK_SIZE,
  TRAILER_SIZE,
  WIPE_BYTE,
} from "./layout.js";

/** Four WIPE_BYTEs: what a word of freed memory reads in checking mode. */
const WIPE_WORD = WIPE_BYTE * 0x01010101;
const DEFAULT_INITIAL_SIZE = 1 << 20;
const DEFAULT_MAX_SIZE = 256 << 20;
/** Rounds of polling a held lock before sleeping on it. */
const LOCK_SPINS = 64;

/** An odd random number below 2^31: the heap's tag (tag ^ ptr is then never 0, what free() leaves). */
function newTag(): number {
  return ((Math.random() * 0x100000000) | 1) & 0x7fffffff;
}

function checkSize(fn: string, key: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < HEAP_MIN_SIZE || value > max) {
    throw new InvalidSizeError(
      `${fn}(): ${key} ${formatValue(value)} is not an integer from ${HEAP_MIN_SIZE} to ${max}`,
      value,
    );
  }
}

/** Blocks each cache list holds, by block size / 8: CACHE_BIN_BYTES' worth, from 8 to 255. */
const CACHE_LIMITS = Uint8Array.from({ length: CACHE_BINS }, (_, bin) =>
  bin === 0 ? 0 : Math.min(255, Math.max(8, (CACHE_BIN_BYTES / (bin << ALIGN_BITS)) | 0)),
);

function isMemory(x: unknown): x is MemoryLike {
  return (
    typeof x === "object" &&
    x !== null &&
    typeof (x as MemoryLike).grow === "function" &&
    "buffer" in (x as object)
  );
}

/** Index of the lowest set bit of a non-zero 32-bit integer. */
function ctz(x: number): number {
  return 31 - Math.clz32(x & -x);
}

/** The list (fl * SL_COUNT + sl) a free block of `size` belongs on: TLSF's mapping_insert. */
function mapping(size: number): number {
  if (size < SMALL_BLOCK_SIZE) return size >>> ALIGN_BITS;
  const fls = 31 - Math.clz32(size);
  return (fls - FL_SHIFT + 1) * SL_COUNT + ((size >>> (fls - SL_BITS)) ^ SL_COUNT);
}

/**
 * Whether this agent may block in `Atomics.wait` (not on a browser's main
 * thread): locks on shared memory sleep where it may, and spin elsewhere.
 */
export const CAN_WAIT: boolean = (() => {
  if (typeof SharedArrayBuffer !== "function") return false;
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
})();

/**
 * A byte arena and its allocator. Pointers are byte offsets into
 * {@link Heap.buffer}; read and write them through the views.
 *
 * @example
 * ```ts
 * const heap = Heap.create({ initialSize: 1 << 20 });
 * const p = heap.malloc(16);
 * heap.f64[p >> 3] = Math.PI;
 * heap.free(p);
 * ```
 */
export class Heap {
  /** Bytes the arena may grow to. */
  readonly maxSize: number;
  /** Whether checking mode is on: sentinels, wiped frees, stricter validation. */
  readonly checking: boolean;
  /**
   * Whether the heap is on shared memory and may be used from several
   * workers at once: every call that touches the free lists takes the lock
   * in the control struct, and small blocks go through this handle's cache.
   */
  readonly shared: boolean;
  /** Where the control struct starts in the buffer; 0 unless the heap is in a WebAssembly memory above `base`. */
  readonly base: number;

  /**
   * Byte view over the whole buffer. On an unshared heap always current,
   * also after growth; on a shared or WebAssembly heap it is replaced when
   * the arena grows, and may lag behind another worker's growth until this
   * handle takes the lock or calls {@link Heap.refresh}.
   */
  u8!: Uint8Array;
  /** Signed byte view over the whole buffer. */
  i8!: Int8Array;
  /** 16-bit view over the whole buffer (index with `ptr >> 1`). */
  u16!: Uint16Array;
  /** Signed 16-bit view over the whole buffer (index with `ptr >> 1`). */
  i16!: Int16Array;
  /** 32-bit view over the whole buffer (index with `ptr >> 2`). */
  u32!: Uint32Array;
  /** Signed 32-bit view over the whole buffer (index with `ptr >> 2`). */
  i32!: Int32Array;
  /** Float32 view over the whole buffer (index with `ptr >> 2`). */
  f32!: Float32Array;
  /** Float64 view over the whole buffer (index with `ptr >> 3`). */
  f64!: Float64Array;
  /** DataView over the whole buffer, for unaligned and endian-explicit access. */
  dv!: DataView;

  /** The control struct's words. */
  private ctl!: Int32Array;
  /**
   * Bytes the views cover. Kept as a number: reading `length` of a view on
   * shared memory in every call costs scaling across workers on V8.
   */
  private viewBytes = 0;
  private buf: ArrayBuffer | SharedArrayBuffer;
  /** The WebAssembly memory the heap manages, or null. */
  private readonly memory: MemoryLike | null;
  /**
   * Whether the views may lag behind the arena: a WebAssembly memory (whose
   * buffer is replaced on growth) or a growable SharedArrayBuffer (viewed at
   * a fixed length, since V8 reads length-tracking views of one about 15x
   * slower). Such views are re-acquired on every path that could see growth.
   */
  private readonly lagging: boolean;
  /** The first block: right after the control struct. */
  private readonly first: number;
  /** The per-heap odd random number every used block's check word is xored with. */
  private readonly tag: number;
  /**
   * This handle's cache of free small blocks (shared heaps, and unshared
   * ones made with `cache: true`): the first block of each size, by block
   * size / 8, linked through their word 2. Null when there is no cache.
   */
  private readonly bins: Int32Array | null;
  /** Blocks on each list of {@link Heap.bins}. */
  private readonly counts: Int32Array;
  /** Bytes of the blocks on {@link Heap.bins}. */
  private cachedBytes = 0;

  private constructor(
    buffer: ArrayBuffer | SharedArrayBuffer,
    memory: MemoryLike | null,
    base: number,
    maxSize: number,
    flags: number,
    tag: number,
    cache: boolean,
  ) {
    this.buf = buffer;
    this.memory = memory;
    this.base = base;
    this.first = base + FIRST_BLOCK;
    this.maxSize = maxSize;
    this.checking = (flags & HEAP_FLAG_CHECKING) !== 0;
    this.shared = (flags & HEAP_FLAG_SHARED) !== 0;
    this.tag = tag;
    const cached = (this.shared || cache) && !this.checking;
    this.bins = cached ? new Int32Array(CACHE_BINS) : null;
    this.counts = new Int32Array(cached ? CACHE_BINS : 0);
    this.lagging =
      memory !== null || (this.shared && (buffer as SharedArrayBuffer).growable === true);
    this.refreshViews();
  }

  /**
   * Makes a heap on a new `ArrayBuffer`, or with `shared: true` on a new
   * `SharedArrayBuffer` that other workers attach to with {@link Heap.attach}.
   * @throws InvalidSizeError when a size is not an integer, is below
   *   {@link HEAP_MIN_SIZE} or above {@link HEAP_MAX_SIZE}, or when
   *   `initialSize > maxSize`.
   * @throws NotSupportedError for `shared: true` where `SharedArrayBuffer`
   *   is not available (a browser page that is not cross-origin isolated).
   */
  static create(options: HeapOptions = {}): Heap {
    const initial = options.initialSize ?? DEFAULT_INITIAL_SIZE;
    const requestedMax = options.maxSize ?? Math.max(initial, DEFAULT_MAX_SIZE);
    checkSize("Heap.create", "initialSize", initial, HEAP_MAX_SIZE);
    checkSize("Heap.create", "maxSize", requestedMax, HEAP_MAX_SIZE);
    if (initial > requestedMax) {
      throw new InvalidSizeError(
        `Heap.create(): initialSize ${initial} is above maxSize ${requestedMax}`,
        initial,
      );
    }
    const size = (initial + ALIGN_MASK) & ~ALIGN_MASK;
    const maxSize = Math.max(size, requestedMax & ~ALIGN_MASK);
    let buffer: ArrayBuffer | SharedArrayBuffer;
    if (options.shared === true) {
      if (typeof SharedArrayBuffer !== "function") {
        throw new NotSupportedError(
          "Heap.create(): shared: true needs SharedArrayBuffer, which this page does not have (it must be cross-origin isolated)",
        );
      }
      buffer =
        size === maxSize
          ? new SharedArrayBuffer(size)
          : new SharedArrayBuffer(size, { maxByteLength: maxSize });
    } else {
      buffer =
        size === maxSize
          ? new ArrayBuffer(size)
          : new ArrayBuffer(size, { maxByteLength: maxSize });
    }
    const flags =
      (options.checking === true ? HEAP_FLAG_CHECKING : 0) |
      (options.shared === true ? HEAP_FLAG_SHARED : 0);
    const heap = new Heap(buffer, null, 0, maxSize, flags, newTag(), options.cache === true);
    heap.format(size);
    return heap;
  }

  /**
   * Makes a heap in a `WebAssembly.Memory`, from `base` to the end of the
   * memory: below `base` are the module's own data and stack. The arena
   * grows with `memory.grow` in 64 KiB pages, and the views are re-acquired
   * after a grow replaces the memory's buffer. Pointers are addresses in the
   * memory, so the module reads and writes them directly. A shared memory
   * (`shared: true`) makes a shared heap.
   * @throws InvalidSizeError when `base` is not a multiple of 8 that leaves
   *   room for the smallest heap, or a size option is out of range.
   */
  static fromMemory(memory: MemoryLike, options: MemoryHeapOptions = {}): Heap {
    const base = options.base ?? 0;
    const length = memory.buffer.byteLength;
    if (!Number.isInteger(base) || base < 0 || (base & ALIGN_MASK) !== 0 || base > length) {
      throw new InvalidSizeError(
        `Heap.fromMemory(): base ${formatValue(base)} is not a multiple of ${ALIGN} inside the memory's ${length} bytes`,
        base,
      );
    }
    const limit = Math.min(HEAP_MAX_SIZE, MEMORY_MAX_BYTES) - base;
    const initial = options.initialSize ?? length - base;
    checkSize("Heap.fromMemory", "initialSize", initial, limit);
    const maxSize = (options.maxSize ?? limit) & ~ALIGN_MASK;
    checkSize("Heap.fromMemory", "maxSize", maxSize, limit);
    if (initial > maxSize) {
      throw new InvalidSizeError(
        `Heap.fromMemory(): initialSize ${initial} is above maxSize ${maxSize}`,
        initial,
      );
    }
    const shared =
      typeof SharedArrayBuffer === "function" && memory.buffer instanceof SharedArrayBuffer;
    const flags =
      (options.checking === true ? HEAP_FLAG_CHECKING : 0) | (shared ? HEAP_FLAG_SHARED : 0);
    if (base + initial > length) {
      try {
        memory.grow(Math.ceil((base + initial - length) / GROW_GRANULE));
      } catch (e) {
        throw new OutOfMemoryError(
          `Heap.fromMemory(): the memory cannot grow to ${base + initial} bytes (${(e as Error).message})`,
          initial,
        );
      }
    }
    const heap = new Heap(
      memory.buffer,
      memory,
      base,
      maxSize,
      flags,
      newTag(),
      options.cache === true,
    );
    heap.format((initial + ALIGN_MASK) & ~ALIGN_MASK);
    return heap;
  }

  /**
   * A new handle on a heap that is already in `buffer` (or in a
   * `WebAssembly.Memory`) at `base`: everything the heap needs is in its
   * bytes. This is how another worker uses a shared heap; each handle has
   * its own cache of small blocks. On a plain `ArrayBuffer` it re-opens a
   * heap from a byte copy; `cache: true` gives that handle a cache too
   * (see {@link HeapOptions.cache}).
   * @throws InvalidStateError when there is no heap of this format at `base`.
   */
  static attach(
    buffer: ArrayBuffer | SharedArrayBuffer | MemoryLike,
    options: { base?: number; cache?: boolean } = {},
  ): Heap {
    const memory = isMemory(buffer) ? buffer : null;
    const buf = memory === null ? (buffer as ArrayBuffer | SharedArrayBuffer) : memory.buffer;
    const base = options.base ?? 0;
    if (
      !Number.isInteger(base) ||
      base < 0 ||
      (base & ALIGN_MASK) !== 0 ||
      base + CONTROL_SIZE > buf.byteLength
    ) {
      throw new InvalidStateError(
        `Heap.attach(): base ${formatValue(base)} does not leave room for a heap in a buffer of ${buf.byteLength} bytes`,
      );
    }
    const ctl = new Int32Array(buf, base, CTL_WORDS);
    const found =
      ctl[CTL_MAGIC] !== HEAP_MAGIC
        ? "no heap magic"
        : ctl[CTL_VERSION] !== HEAP_VERSION
          ? `layout version ${ctl[CTL_VERSION]}, not ${HEAP_VERSION}`
          : ctl[CTL_BASE] !== base
            ? `a heap formatted at base ${ctl[CTL_BASE]}`
            : base + ctl[CTL_SIZE] > buf.byteLength
              ? `an arena of ${ctl[CTL_SIZE]} bytes that does not fit the buffer's ${buf.byteLength - base}`
              : "";
    if (found !== "") {
      throw new InvalidStateError(`Heap.attach(): no @mmgr heap at offset ${base}: ${found}`);
    }
    const flags = ctl[CTL_FLAGS];
    const isShared = typeof SharedArrayBuffer === "function" && buf instanceof SharedArrayBuffer;
    if (((flags & HEAP_FLAG_SHARED) !== 0) !== isShared) {
      throw new InvalidStateError(
        `Heap.attach(): the heap at offset ${base} was made ${isShared ? "unshared" : "shared"}, but the buffer is ${isShared ? "a SharedArrayBuffer" : "not shared"}`,
      );
    }
    return new Heap(
      buf,
      memory,
      base,
      ctl[CTL_MAX_SIZE],
      flags,
      ctl[CTL_TAG],
      options.cache === true,
    );
  }

  /** Writes an empty heap into the arena: the control struct, one free block, the end marker. */
  private format(size: number): void {
    const ctl = this.ctl;
    ctl.fill(0);
    ctl[CTL_MAGIC] = HEAP_MAGIC;
    ctl[CTL_VERSION] = HEAP_VERSION;
    ctl[CTL_SIZE] = size;
    ctl[CTL_MAX_SIZE] = this.maxSize;
    ctl[CTL_FLAGS] =
      (this.checking ? HEAP_FLAG_CHECKING : 0) | (this.shared ? HEAP_FLAG_SHARED : 0);
    ctl[CTL_TAG] = this.tag;
    ctl[CTL_BASE] = this.base;
    const end = this.base + size;
    this.writeEnd(end, FLAG_PREV_FREE);
    if (this.checking) this.u8.fill(WIPE_BYTE, this.first, end - END_SIZE);
    this.linkFree(this.first, end - END_SIZE - this.first);
  }

  private refreshViews(): void {
    const b = this.buf;
    if (this.lagging) {
      // Views of the length the buffer has now (see `lagging`).
      const n = b.byteLength;
      this.u8 = new Uint8Array(b, 0, n);
      this.i8 = new Int8Array(b, 0, n);
      this.u16 = new Uint16Array(b, 0, n >>> 1);
      this.i16 = new Int16Array(b, 0, n >>> 1);
      this.u32 = new Uint32Array(b, 0, n >>> 2);
      this.i32 = new Int32Array(b, 0, n >>> 2);
      this.f32 = new Float32Array(b, 0, n >>> 2);
      this.f64 = new Float64Array(b, 0, n >>> 3);
      this.dv = new DataView(b, 0, n);
    } else {
      this.u8 = new Uint8Array(b);
      this.i8 = new Int8Array(b);
      this.u16 = new Uint16Array(b);
      this.i16 = new Int16Array(b);
      this.u32 = new Uint32Array(b);
      this.i32 = new Int32Array(b);
      this.f32 = new Float32Array(b);
      this.f64 = new Float64Array(b);
      this.dv = new DataView(b);
    }
    this.ctl = new Int32Array(b, this.base, CTL_WORDS);
    this.viewBytes = this.u8.byteLength;
  }

  /**
   * Re-acquires the views if the arena has grown where this handle did not
   * see it: in another worker on a growable shared heap, or by the module
   * itself calling `memory.grow` on a heap in a WebAssembly memory. Every
   * heap call does this where it matters; call it before using the views on
   * a pointer another worker handed over. An unshared heap on an
   * `ArrayBuffer` never needs it: its views track the buffer.
   * @returns whether the views changed.
   */
  refresh(): boolean {
    if (!this.lagging) return false;
    const b = this.memory === null ? this.buf : this.memory.buffer;
    if (b === this.buf && this.viewBytes === b.byteLength) return false;
    this.buf = b;
    this.refreshViews();
    return true;
  }

  /**
   * Bytes the views cover now: a pointer `p` of `n` bytes can be read
   * through them when `p + n <= heap.viewEnd`; otherwise `refresh()` first.
   * Allocators on the heap check this in their fast paths. On an unshared
   * `ArrayBuffer` the views always cover the whole buffer, and it is
   * {@link HEAP_MAX_SIZE}; on shared memory a plain number (reading a view's
   * `length` in every call keeps workers from scaling on V8); in an
   * unshared WebAssembly memory the views' length (0 once the memory's
   * growth has detached them).
   */
  get viewEnd(): number {
    if (!this.lagging) return HEAP_MAX_SIZE;
    return this.shared ? this.viewBytes : this.u8.length;
  }

  /**
   * For allocators on the heap that meet an offset past {@link Heap.viewEnd}
   * (a block another worker carved after this handle's views were made):
   * the 32-bit view, refreshed.
   * @param what names the offset in the error, e.g. `problem in alloc set X: chunk 4096`
   * @throws HeapCorruptionError when the views were already current: then
   *   the offset lies outside the heap, and whatever led there is damaged.
   */
  reach(offset: number, what: string): Int32Array {
    if (!this.refresh()) {
      throw new HeapCorruptionError(
        `${what} lies past the end of the heap (${this.base + this.ctl[CTL_SIZE]})`,
        offset,
      );
    }
    return this.i32;
  }

  /** The backing store: an `ArrayBuffer` (resizable unless the heap has a fixed size), a `SharedArrayBuffer`, or the WebAssembly memory's current buffer. */
  get buffer(): ArrayBuffer | SharedArrayBuffer {
    if (this.lagging) this.refresh();
    return this.buf;
  }

  /** The arena's current size in bytes. */
  get size(): number {
    if (this.lagging) this.refresh();
    return this.ctl[CTL_SIZE];
  }

  /**
   * The offset just past the arena: `base + size`. Every pointer of the
   * heap lies in `[base + CONTROL_SIZE, end)`; allocators on the heap check
   * their offsets against it.
   */
  get end(): number {
    if (this.lagging) this.refresh();
    return this.base + this.ctl[CTL_SIZE];
  }

  /** Bytes of the blocks in use, headers included: `stats().used` in O(1). On a shared heap it counts the blocks in workers' caches. */
  get used(): number {
    if (this.lagging) this.refresh();
    return this.ctl[CTL_USED];
  }

  // ---------------------------------------------------------------------
  // The public calls
  // ---------------------------------------------------------------------

  /**
   * Allocates `size` bytes, 8-aligned. `malloc(0)` returns a unique pointer.
   * @returns the pointer, or 0 (NULL) when the arena cannot grow enough.
   * @throws InvalidSizeError when `size` is not an integer from 0 to {@link MAX_ALLOC_SIZE}.
   */
  malloc(size: number): Ptr {
    if (!isAllocSize(size)) this.badSize("malloc", size);
    if (this.shared) return this.sharedMalloc(size);
    if (this.bins !== null) return this.cachedMalloc(size);
    return this.alloc(size);
  }

  /**
   * Allocates `size` zeroed bytes.
   * @returns the pointer, or 0 when the arena cannot grow enough.
   * @throws InvalidSizeError as {@link Heap.malloc}.
   */
  calloc(size: number): Ptr {
    const ptr = this.malloc(size);
    if (ptr !== 0) this.u8.fill(0, ptr, ptr + size);
    return ptr;
  }

  /**
   * Allocates `size` bytes at an address that is a multiple of `alignment`.
   * The space skipped in front is given back as a free block at once.
   * @param alignment a power of two up to {@link MAX_ALIGNMENT}
   * @returns the pointer, or 0 when the arena cannot grow enough.
   * @throws InvalidAlignmentError when `alignment` is not such a power of two.
   * @throws InvalidSizeError as {@link Heap.malloc}.
   */
  memalign(alignment: number, size: number): Ptr {
    if (!isAlignment(alignment)) {
      throw new InvalidAlignmentError(
        `memalign(): alignment ${formatValue(alignment)} is not a power of two from 1 to ${MAX_ALIGNMENT}`,
        alignment,
      );
    }
    if (!isAllocSize(size)) this.badSize("memalign", size);
    if (alignment <= ALIGN) return this.malloc(size);
    if (!this.shared) {
      if (this.lagging) this.refresh();
      return this.alignedAlloc(alignment, size);
    }
    this.lock();
    const ptr = this.alignedAlloc(alignment, size);
    this.unlock();
    return ptr;
  }

  /**
   * Changes the size of an allocation, keeping its contents up to the smaller
   * of the two sizes. Shrinks in place, grows in place when the next block is
   * free and large enough, else moves. `realloc(0, n)` is `malloc(n)`;
   * `realloc(p, 0)` keeps a minimal block (it never frees).
   * @returns the (possibly moved) pointer, or 0 when it cannot be had, the
   *   old block then left intact.
   * @throws InvalidPointerError when `ptr` is not a live allocation of this heap.
   * @throws InvalidSizeError as {@link Heap.malloc}.
   */
  realloc(ptr: Ptr, size: number): Ptr {
    if (!isAllocSize(size)) this.badSize("realloc", size);
    if (ptr === 0) return this.malloc(size);
    const b = this.validate("realloc", ptr);
    if (!this.shared) return this.resize(b, size);
    this.lock();
    this.recheck("realloc", b);
    const moved = this.resize(b, size);
    this.unlock();
    return moved;
  }

  /**
   * Frees an allocation. `free(0)` does nothing.
   * @throws InvalidPointerError when `ptr` is not a live allocation of this
   *   heap: never allocated, already freed, inside a block, another heap's.
   * @throws HeapCorruptionError in checking mode when the bytes past the
   *   requested size were overwritten.
   */
  free(ptr: Ptr): void {
    if (ptr === 0) return;
    const b = this.validate("free", ptr);
    if (this.shared) {
      this.sharedFree(b);
      return;
    }
    if (this.bins !== null && this.cachedFree(b)) return;
    this.release(b);
    this.ctl[CTL_ALLOCATIONS]--;
  }

  /**
   * Bytes that may be used at `ptr`: at least what was asked for. In checking
   * mode exactly what was asked for, since the rest holds the sentinel.
   * @throws InvalidPointerError when `ptr` is not a live allocation of this heap.
   */
  usableSize(ptr: Ptr): number {
    return this.usable(this.validate("usableSize", ptr));
  }

  /**
   * A `Uint8Array` over one allocation.
   * @param length bytes to view, at most {@link Heap.usableSize}
   * @defaultValue length: the usable size
   * @throws InvalidPointerError when `ptr` is not a live allocation of this heap.
   * @throws InvalidSizeError when `length` is negative, not an integer or above the usable size.
   */
  bytes(ptr: Ptr, length?: number): Uint8Array {
    const usable = this.usable(this.validate("bytes", ptr));
    const n = length ?? usable;
    if (n !== (n | 0) || n < 0 || n > usable) {
      throw new InvalidSizeError(
        `bytes(): length ${formatValue(n)} is not an integer from 0 to the usable size ${usable} of pointer ${ptr}`,
        n,
      );
    }
    return new Uint8Array(this.buf, ptr, n);
  }

  /**
   * Gives every block in this handle's cache back to the heap's free lists,
   * where they coalesce. A worker calls it before it ends (as glibc empties
   * a thread's tcache when the thread exits); until then `used` and
   * `allocations` count the cached blocks. Does nothing on a heap without
   * a cache.
   */
  releaseCache(): void {
    if (this.bins === null) return;
    if (!this.shared) {
      // A module's memory.grow detaches the views the lists are walked through.
      if (this.lagging) this.refresh();
      this.flushCache();
      return;
    }
    this.lock();
    this.flushCache();
    this.unlock();
  }

  // ---------------------------------------------------------------------
  // Unshared heaps made with `cache: true`
  // ---------------------------------------------------------------------

  /** malloc on an unshared heap with a cache: a small block from its list if there is one. */
  private cachedMalloc(size: number): Ptr {
    const need = this.blockSizeFor(size);
    if (need <= CACHE_MAX_BLOCK) {
      // A module's memory.grow detaches the views, and a cached block's link is read through them.
      if (this.lagging) this.refresh();
      const bin = need >>> ALIGN_BITS;
      const b = (this.bins as Int32Array)[bin];
      if (b !== 0) return this.popCached(bin, b, need);
    }
    // alloc() without working `need` out again: a heap with a cache is never in checking mode.
    const b = this.take(need);
    return b === 0 ? 0 : b + BLOCK_HDR_SIZE;
  }

  /**
   * free on an unshared heap with a cache: keeps a small block on its list
   * while the cache holds at most CACHE_BUDGET_MIN bytes or 1/8 of `used`.
   * @returns false when the block must be released instead.
   */
  private cachedFree(b: number): boolean {
    const i32 = this.i32;
    const bsize = i32[b >> 2] & SIZE_MASK;
    const cached = this.cachedBytes + bsize;
    if (
      bsize > CACHE_MAX_BLOCK ||
      (cached > CACHE_BUDGET_MIN && cached > this.ctl[CTL_USED] >>> CACHE_BUDGET_SHIFT)
    ) {
      return false;
    }
    this.pushCached(b, bsize);
    return true;
  }

  /** Takes `b`, the head of cache list `bin` (blocks of `need` bytes), for the caller. */
  private popCached(bin: number, b: number, need: number): Ptr {
    const w = b >> 2;
    const i32 = this.i32;
    (this.bins as Int32Array)[bin] = i32[w + CACHE_NEXT];
    this.counts[bin]--;
    this.cachedBytes -= need;
    i32[w + BLOCK_CHECK] = this.tag ^ (b + BLOCK_HDR_SIZE);
    return b + BLOCK_HDR_SIZE;
  }

  /** Puts the used block `b` of `bsize` bytes on the head of its cache list, marked cached. */
  private pushCached(b: number, bsize: number): void {
    const bins = this.bins as Int32Array;
    const bin = bsize >>> ALIGN_BITS;
    const w = b >> 2;
    const i32 = this.i32;
    i32[w + BLOCK_CHECK] = ~(this.tag ^ (b + BLOCK_HDR_SIZE));
    i32[w + CACHE_NEXT] = bins[bin];
    bins[bin] = b;
    this.counts[bin]++;
    this.cachedBytes += bsize;
  }

  // ---------------------------------------------------------------------
  // Shared heaps: the lock and the per-handle cache
  // ---------------------------------------------------------------------

  /**
   * Takes the heap's lock: a futex-style mutex in the control struct (0 free,
   * 1 held, 2 held with waiters; Drepper, "Futexes Are Tricky", 2011). A
   * handle that cannot block (a browser's main thread) spins instead.
   */
  private lock(): void {
    const ctl = this.ctl;
    if (Atomics.compareExchange(ctl, CTL_LOCK, 0, 1) !== 0) this.lockSlow(ctl);
    // The arena may have grown in another worker; a WebAssembly memory's
    // views must then be re-acquired before anything is read past the old end.
    if (this.lagging && this.base + ctl[CTL_SIZE] > this.viewBytes) this.refresh();
  }

  private lockSlow(ctl: Int32Array): void {
    for (let spin = 0; spin < LOCK_SPINS; spin++) {
      if (Atomics.load(ctl, CTL_LOCK) === 0 && Atomics.compareExchange(ctl, CTL_LOCK, 0, 1) === 0) {
        return;
      }
    }
    if (!CAN_WAIT) {
      while (Atomics.compareExchange(ctl, CTL_LOCK, 0, 1) !== 0) {
        // A browser's main thread may not block; the lock is held for O(1) work.
      }
      return;
    }
    while (Atomics.exchange(ctl, CTL_LOCK, 2) !== 0) Atomics.wait(ctl, CTL_LOCK, 2);
  }

  private unlock(): void {
    const ctl = this.ctl;
    if (Atomics.sub(ctl, CTL_LOCK, 1) !== 1) {
      Atomics.store(ctl, CTL_LOCK, 0);
      Atomics.notify(ctl, CTL_LOCK, 1);
    }
  }

  /**
   * malloc on a shared heap. A small block comes from this handle's cache
   * without the lock; a miss takes the lock once and fills the cache with
   * a batch of blocks of the same size.
   */
  private sharedMalloc(size: number): Ptr {
    const need = this.blockSizeFor(size);
    const bins = this.bins;
    if (bins !== null && need <= CACHE_MAX_BLOCK) {
      const bin = need >>> ALIGN_BITS;
      const b = bins[bin];
      if (b !== 0) return this.popCached(bin, b, need);
      return this.refill(need, bin);
    }
    this.lock();
    const ptr = this.alloc(size);
    this.unlock();
    return ptr;
  }

  /** Takes a block of `need` bytes for the caller and up to half a cache list more, under one lock. */
  private refill(need: number, bin: number): Ptr {
    this.lock();
    const b = this.take(need);
    if (b !== 0) {
      const bins = this.bins as Int32Array;
      // Half a list, but never more than 1/16 of the free memory: a cache
      // must not starve the other workers (whose caches only they give back).
      const ctl = this.ctl;
      const free = ctl[CTL_SIZE] - CONTROL_SIZE - END_SIZE - ctl[CTL_USED];
      const batch = Math.min(CACHE_LIMITS[bin] >>> 1, (free / (need << 4)) | 0);
      // The list is built in address order, so that the blocks next to the
      // one returned are used first: the far end of the batch, next to what
      // another worker may take in its own refill, stays cold (no false
      // sharing of cache lines between workers' hot blocks).
      let last = 0;
      for (let n = 1; n < batch; n++) {
        const extra = this.take(need, false); // from free memory only: no growth for the cache
        if (extra === 0) break;
        const i32 = this.i32; // take may have grown the arena and replaced the views
        const w = extra >> 2;
        if ((i32[w] & SIZE_MASK) !== need) {
          // A remainder too small to split came along: not this bin's size.
          this.release(extra);
          this.ctl[CTL_ALLOCATIONS]--;
          break;
        }
        i32[w + BLOCK_CHECK] = ~(this.tag ^ (extra + BLOCK_HDR_SIZE));
        i32[w + CACHE_NEXT] = 0;
        if (last === 0) bins[bin] = extra;
        else i32[(last >> 2) + CACHE_NEXT] = extra;
        last = extra;
        this.counts[bin]++;
        this.cachedBytes += need;
      }
    }
    this.unlock();
    return b === 0 ? 0 : b + BLOCK_HDR_SIZE;
  }

  /** free on a shared heap: a small block goes to this handle's cache, a full cache list gives half back under one lock. */
  private sharedFree(b: number): void {
    const bsize = this.i32[b >> 2] & SIZE_MASK;
    if (this.bins !== null && bsize <= CACHE_MAX_BLOCK) {
      // Every block in the cache lies within this handle's views: a block
      // another worker carved past their end is seen only after a refresh.
      if (b + bsize > this.viewBytes) this.refresh();
      const bin = bsize >>> ALIGN_BITS;
      const limit = CACHE_LIMITS[bin];
      if (this.counts[bin] >= limit) this.drain(bin, limit >>> 1);
      this.pushCached(b, bsize);
      return;
    }
    this.lock();
    this.recheck("free", b);
    this.release(b);
    this.ctl[CTL_ALLOCATIONS]--;
    this.unlock();
  }

  /**
   * Under the lock, the block validated before it is still live: another
   * worker freeing the same pointer at the same time is caught, not
   * released twice.
   */
  private recheck(fn: string, b: number): void {
    const ptr = b + BLOCK_HDR_SIZE;
    if (this.i32[(b >> 2) + BLOCK_CHECK] !== (this.tag ^ ptr)) {
      this.unlock();
      this.badPointer(fn, ptr);
    }
  }

  /** Gives `n` blocks of a cache list back to the heap under one lock. */
  private drain(bin: number, n: number): void {
    this.lock();
    this.releaseCached(bin, n);
    this.unlock();
  }

  /** Gives `n` blocks of a cache list back to the heap (a shared heap's caller holds the lock). */
  private releaseCached(bin: number, n: number): void {
    const bins = this.bins as Int32Array;
    const i32 = this.i32;
    let b = bins[bin];
    let k = 0;
    for (; k < n && b !== 0; k++) {
      const next = i32[(b >> 2) + CACHE_NEXT];
      this.release(b);
      this.ctl[CTL_ALLOCATIONS]--;
      b = next;
    }
    bins[bin] = b;
    this.counts[bin] -= k;
    this.cachedBytes -= k * (bin << ALIGN_BITS);
  }

  /** Gives this handle's whole cache back (a shared heap's caller holds the lock). Returns whether it held anything. */
  private flushCache(): boolean {
    if (this.bins === null) return false;
    let any = false;
    for (let bin = 0; bin < CACHE_BINS; bin++) {
      if (this.counts[bin] !== 0) {
        this.releaseCached(bin, this.counts[bin]);
        any = true;
      }
    }
    return any;
  }

  /**
   * Counts of the arena. Walks the free lists (not for hot paths). On a
   * shared heap it takes the lock, and `used` and `allocations` include the
   * blocks in every worker's cache; `cached` is this handle's share.
   */
  stats(): HeapStats {
    if (this.lagging) this.refresh();
    if (!this.shared) return this.count();
    this.lock();
    try {
      return this.count();
    } finally {
      this.unlock();
    }
  }

  private count(): HeapStats {
    const i32 = this.i32;
    const ctl = this.ctl;
    const size = ctl[CTL_SIZE];
    const end = this.base + size;
    const used = ctl[CTL_USED];
    let largest = 0;
    let freeBlocks = 0;
    // No arena holds more free blocks than this: a longer walk is a cycle.
    const limit = (size - CONTROL_SIZE) / MIN_BLOCK_SIZE;
    for (let list = 0; list < FL_COUNT * SL_COUNT; list++) {
      for (let b = ctl[CTL_HEADS + list]; b !== 0; b = i32[(b >> 2) + BLOCK_NEXT]) {
        if (++freeBlocks > limit || b < this.first || b >= end) {
          throw new HeapCorruptionError(
            `heap stats: free list ${list} is damaged at offset ${b}`,
            b,
          );
        }
        const s = i32[b >> 2] & SIZE_MASK;
        if (s > largest) largest = s;
      }
    }
    const cached = this.cachedBytes;
    return {
      size,
      used,
      free: size - CONTROL_SIZE - END_SIZE - used,
      largestFree: largest === 0 ? 0 : largest - BLOCK_HDR_SIZE,
      freeBlocks,
      allocations: ctl[CTL_ALLOCATIONS],
      peakUsed: ctl[CTL_PEAK_USED],
      cached,
    };
  }

  /**
   * Walks every block and every free list and verifies them: sizes, flags,
   * boundary tags, check words, no adjacent free blocks, list links, the
   * bitmaps and the counters; in checking mode also each sentinel.
   * @throws HeapCorruptionError naming the offset of the first damage found.
   */
  check(): void {
    if (this.lagging) this.refresh();
    if (!this.shared) {
      this.verify();
      return;
    }
    this.lock();
    try {
      this.verify();
    } finally {
      this.unlock();
    }
  }

  private verify(): void {
    const i32 = this.i32;
    const ctl = this.ctl;
    const base = this.base;
    const size = ctl[CTL_SIZE];
    const corrupt = (offset: number, what: string): never => {
      throw new HeapCorruptionError(`heap check: ${what} at offset ${offset}`, offset);
    };
    if (ctl[CTL_MAGIC] !== HEAP_MAGIC) corrupt(base, "control struct magic overwritten");
    const room = this.buf.byteLength - base;
    if (this.memory === null ? size !== room : size > room) {
      corrupt(base + CTL_SIZE * 4, `arena size ${size} differs from the buffer's ${room}`);
    }
    const end = base + size - END_SIZE;
    let used = 0;
    let allocations = 0;
    const freeSet = new Set<number>();
    const cachedSet = new Set<number>();
    let prevFree = false;
    let b = this.first;
    while (b < end) {
      const hdr = i32[b >> 2];
      const bsize = hdr & SIZE_MASK;
      if (bsize < MIN_BLOCK_SIZE || (bsize & ALIGN_MASK) !== 0 || b + bsize > end) {
        corrupt(b, `block size ${bsize} out of range`);
      }
      if (((hdr & FLAG_PREV_FREE) !== 0) !== prevFree) {
        corrupt(
          b,
          `PREV_FREE flag says ${!prevFree} but the left block is ${prevFree ? "free" : "used"}`,
        );
      }
      if (hdr & FLAG_FREE) {
        if (prevFree) corrupt(b, "two adjacent free blocks (missed coalescing)");
        if (i32[((b + bsize) >> 2) - 1] !== bsize)
          corrupt(b + bsize - 4, "boundary tag of free block");
        freeSet.add(b);
        prevFree = true;
      } else {
        const check = i32[(b >> 2) + BLOCK_CHECK];
        const live = this.tag ^ (b + BLOCK_HDR_SIZE);
        // A used block may sit in a cache, marked ~live: this handle's, a
        // worker's, or (in a byte copy of a heap) the original's.
        if (check === ~live) cachedSet.add(b);
        else if (check !== live) corrupt(b, "check word of used block overwritten");
        if (this.checking) this.verifySentinel("heap check", b);
        used += bsize;
        allocations++;
        prevFree = false;
      }
      b += bsize;
    }
    if (b !== end) corrupt(b, "blocks overrun the end marker");
    if ((i32[end >> 2] & SIZE_MASK) !== 0 || i32[(end >> 2) + 1] !== END_CHECK) {
      corrupt(end, "end marker overwritten");
    }
    if (((i32[end >> 2] & FLAG_PREV_FREE) !== 0) !== prevFree)
      corrupt(end, "end marker PREV_FREE flag");
    if (used !== ctl[CTL_USED])
      corrupt(base + CTL_USED * 4, `used counter ${ctl[CTL_USED]}, blocks say ${used}`);
    if (allocations !== ctl[CTL_ALLOCATIONS]) {
      corrupt(
        base + CTL_ALLOCATIONS * 4,
        `allocation counter ${ctl[CTL_ALLOCATIONS]}, blocks say ${allocations}`,
      );
    }
    // The lists: every member a free block of the walk, on the list its size
    // maps to, linked both ways, and a bit set exactly for the non-empty lists.
    const flMap = ctl[CTL_FL_BITMAP];
    for (let fl = 0; fl < FL_COUNT; fl++) {
      const slMap = ctl[CTL_SL_BITMAP + fl];
      if (((flMap >>> fl) & 1) !== (slMap !== 0 ? 1 : 0))
        corrupt(base + CTL_FL_BITMAP * 4, `first-level bit ${fl}`);
      for (let sl = 0; sl < SL_COUNT; sl++) {
        const list = fl * SL_COUNT + sl;
        const head = ctl[CTL_HEADS + list];
        if (((slMap >>> sl) & 1) !== (head !== 0 ? 1 : 0)) {
          corrupt(base + (CTL_SL_BITMAP + fl) * 4, `second-level bit ${sl} of list ${fl}`);
        }
        let prev = 0;
        for (let f = head; f !== 0; f = i32[(f >> 2) + BLOCK_NEXT]) {
          if (f < this.first || f >= end || (f & ALIGN_MASK) !== 0)
            corrupt(f, "free list link out of range");
          if ((i32[f >> 2] & FLAG_FREE) === 0) corrupt(f, "used block on a free list");
          if (i32[(f >> 2) + BLOCK_PREV] !== prev) corrupt(f, "free list back link");
          if (mapping(i32[f >> 2] & SIZE_MASK) !== list) corrupt(f, "free block on the wrong list");
          if (!freeSet.delete(f)) corrupt(f, "free list holds a stray block or a cycle");
          prev = f;
        }
      }
    }
    for (const f of freeSet) corrupt(f, "free block not on its free list");
    // This handle's cache: each entry a used block of its list's size, marked cached.
    const bins = this.bins;
    if (bins === null) return;
    let bytes = 0;
    for (let bin = 0; bin < CACHE_BINS; bin++) {
      let n = 0;
      for (let c = bins[bin]; c !== 0; c = i32[(c >> 2) + CACHE_NEXT]) {
        if (c < this.first || c >= end || (c & ALIGN_MASK) !== 0 || ++n > this.counts[bin]) {
          corrupt(c, `cache list ${bin} link out of range or too long`);
        }
        if (i32[c >> 2] & FLAG_FREE || (i32[c >> 2] & SIZE_MASK) !== bin << ALIGN_BITS) {
          corrupt(c, `block of ${i32[c >> 2] & SIZE_MASK} bytes on cache list ${bin}`);
        }
        if (!cachedSet.has(c)) corrupt(c, "cache list entry is not a block marked cached");
      }
      if (n !== this.counts[bin])
        corrupt(bins[bin], `cache list ${bin} holds ${n}, counted ${this.counts[bin]}`);
      bytes += n * (bin << ALIGN_BITS);
    }
    if (bytes !== this.cachedBytes)
      corrupt(base, `cache lists hold ${bytes} bytes, counted ${this.cachedBytes}`);
  }

  // ---------------------------------------------------------------------
  // Internals
  // ---------------------------------------------------------------------

  /** malloc without the argument check and the lock. */
  private alloc(size: number): Ptr {
    const b = this.take(this.blockSizeFor(size));
    if (b === 0) return 0;
    if (this.checking) this.setRequested(b, size);
    return b + BLOCK_HDR_SIZE;
  }

  /** memalign for an alignment above ALIGN, without the argument check and the lock. */
  private alignedAlloc(alignment: number, size: number): Ptr {
    const need = this.blockSizeFor(size);
    // Room to slide the pointer forward by up to alignment, leaving a gap
    // in front big enough to be a free block of its own.
    const padded = need + alignment + MIN_BLOCK_SIZE;
    if (padded > MAX_ALLOC_SIZE) return 0;
    const peak = this.ctl[CTL_PEAK_USED];
    let b = this.take(padded);
    if (b === 0) return 0;
    const i32 = this.i32;
    const first = b + BLOCK_HDR_SIZE;
    let ptr = (first + alignment - 1) & -alignment;
    if (ptr !== first && ptr - first < MIN_BLOCK_SIZE) ptr += alignment;
    let bsize = i32[b >> 2] & SIZE_MASK;
    if (ptr !== first) {
      const gap = ptr - first;
      const hdr = i32[b >> 2];
      i32[b >> 2] = gap | (hdr & FLAG_PREV_FREE);
      b = ptr - BLOCK_HDR_SIZE;
      bsize -= gap;
      i32[(b >> 2) + BLOCK_SIZE] = bsize;
      i32[(b >> 2) + BLOCK_CHECK] = this.tag ^ ptr;
      this.release(ptr - gap - BLOCK_HDR_SIZE); // the gap, merged with a free left neighbour
    }
    this.trim(b, bsize, need);
    // The padding was never the user's: keep it out of the peak.
    const ctl = this.ctl;
    ctl[CTL_PEAK_USED] = Math.max(peak, ctl[CTL_USED]);
    if (this.checking) this.setRequested(b, size);
    return ptr;
  }

  /** realloc of the validated used block at `b`, without the lock. */
  private resize(b: number, size: number): Ptr {
    const ptr = b + BLOCK_HDR_SIZE;
    const i32 = this.i32;
    const need = this.blockSizeFor(size);
    const bsize = i32[b >> 2] & SIZE_MASK;
    if (need > bsize) {
      const right = b + bsize;
      const rhdr = i32[right >> 2];
      const rsize = rhdr & SIZE_MASK;
      if ((rhdr & FLAG_FREE) === 0 || bsize + rsize < need) {
        const moved = this.alloc(size);
        if (moved === 0) return 0;
        const keep = this.usable(b);
        this.u8.copyWithin(moved, ptr, ptr + Math.min(keep, size));
        this.release(b);
        this.ctl[CTL_ALLOCATIONS]--; // alloc may have grown the arena: a view read before it may be stale
        return moved;
      }
      // Grow into the free right neighbour, handing back what is not needed
      // (counted net, so that peakUsed never sees the neighbour's whole size).
      const rest = bsize + rsize - need;
      const prevFree = i32[b >> 2] & FLAG_PREV_FREE;
      if (rest >= MIN_BLOCK_SIZE) {
        this.moveFree(right, rsize, b + need, rest);
        i32[b >> 2] = need | prevFree;
        this.addUsed(need - bsize);
      } else {
        this.unlinkFree(right, rsize);
        i32[b >> 2] = (bsize + rsize) | prevFree;
        i32[(right + rsize) >> 2] &= ~FLAG_PREV_FREE;
        this.addUsed(rsize);
      }
      if (this.checking) this.u8.fill(WIPE_BYTE, right, right + BLOCK_HDR_SIZE);
      if (this.checking) this.setRequested(b, size);
      return ptr;
    }
    this.trim(b, bsize, need);
    if (this.checking) this.setRequested(b, size);
    return ptr;
  }

  /** The block size that holds `size` bytes (plus sentinel and trailer in checking mode). */
  private blockSizeFor(size: number): number {
    const extra = this.checking ? BLOCK_HDR_SIZE + 1 + TRAILER_SIZE : BLOCK_HDR_SIZE;
    const need = (size + extra + ALIGN_MASK) & ~ALIGN_MASK;
    return Math.max(need, MIN_BLOCK_SIZE);
  }

  /** Usable bytes of the used block at `b`. */
  private usable(b: number): number {
    const bsize = this.i32[b >> 2] & SIZE_MASK;
    return this.checking ? this.i32[((b + bsize) >> 2) - 1] : bsize - BLOCK_HDR_SIZE;
  }

  /** Takes a free block of at least `need` bytes, growing the arena if needed; 0 if none. */
  private take(need: number, forCaller = true): number {
    let b = this.search(need);
    if (b === 0) {
      if (!forCaller) return 0; // a cache refill's extra blocks never grow the arena
      // A WebAssembly memory grown by the module leaves detached views, through which search found nothing.
      if (this.lagging && this.refresh()) b = this.search(need);
      // An unshared handle's cache goes back before the arena grows for want of it.
      if (b === 0 && !this.shared && this.flushCache()) b = this.search(need);
      if (b === 0 && !this.grow(need)) {
        // Out of memory: a shared heap's handle gives its cache back (under the lock it holds) and tries again.
        if (!this.flushCache()) return 0;
      }
      if (b === 0) b = this.search(need);
      if (b === 0) return 0;
    }
    const i32 = this.i32;
    const ctl = this.ctl;
    const bsize = i32[b >> 2] & SIZE_MASK;
    const rest = bsize - need;
    // A free block's left neighbour is never free, so there is no PREV_FREE to keep.
    if (rest >= MIN_BLOCK_SIZE) {
      this.moveFree(b, bsize, b + need, rest); // its right neighbour already says PREV_FREE
      i32[(b >> 2) + BLOCK_SIZE] = need;
      this.addUsed(need);
    } else {
      this.unlinkFree(b, bsize);
      i32[(b >> 2) + BLOCK_SIZE] = bsize;
      i32[(b + bsize) >> 2] &= ~FLAG_PREV_FREE;
      this.addUsed(bsize);
    }
    i32[(b >> 2) + BLOCK_CHECK] = this.tag ^ (b + BLOCK_HDR_SIZE);
    ctl[CTL_ALLOCATIONS]++;
    return b;
  }

  /** The head of the first non-empty list whose every block holds `need`: mapping_search + find_suitable_block. */
  private search(need: number): number {
    const i32 = this.i32;
    const ctl = this.ctl;
    let size = need;
    // Round up to the next list boundary so that any block on the list fits.
    if (size >= SMALL_BLOCK_SIZE) size += (1 << (31 - Math.clz32(size) - SL_BITS)) - 1;
    let fl: number;
    let sl: number;
    if (size < SMALL_BLOCK_SIZE) {
      fl = 0;
      sl = size >>> ALIGN_BITS;
    } else {
      const fls = 31 - Math.clz32(size);
      fl = fls - FL_SHIFT + 1;
      if (fl >= FL_COUNT) return 0;
      sl = (size >>> (fls - SL_BITS)) ^ SL_COUNT;
    }
    let slMap = ctl[CTL_SL_BITMAP + fl] & (-1 << sl);
    if (slMap === 0) {
      const flMap = ctl[CTL_FL_BITMAP] & (-1 << (fl + 1));
      if (flMap === 0) {
        // Nothing above: the head of need's own list may still be big enough
        // (the round-up skips it). Looking at the head alone keeps this O(1).
        const head = ctl[CTL_HEADS + mapping(need)];
        return head !== 0 && (i32[head >> 2] & SIZE_MASK) >= need ? head : 0;
      }
      fl = ctz(flMap);
      slMap = ctl[CTL_SL_BITMAP + fl];
    }
    return ctl[CTL_HEADS + fl * SL_COUNT + ctz(slMap)];
  }

  /** Puts a free block on the head of its list and marks it free with its boundary tag. */
  private linkFree(b: number, bsize: number): void {
    const i32 = this.i32;
    const ctl = this.ctl;
    const w = b >> 2;
    i32[w + BLOCK_SIZE] = bsize | FLAG_FREE;
    i32[((b + bsize) >> 2) - 1] = bsize;
    const list = mapping(bsize);
    const head = ctl[CTL_HEADS + list];
    i32[w + BLOCK_NEXT] = head;
    i32[w + BLOCK_PREV] = 0;
    if (head !== 0) i32[(head >> 2) + BLOCK_PREV] = b;
    ctl[CTL_HEADS + list] = b;
    const fl = list >>> SL_BITS;
    ctl[CTL_FL_BITMAP] |= 1 << fl;
    ctl[CTL_SL_BITMAP + fl] |= 1 << (list & (SL_COUNT - 1));
  }

  /** Takes a free block off its list. */
  private unlinkFree(b: number, bsize: number): void {
    const i32 = this.i32;
    const ctl = this.ctl;
    const next = i32[(b >> 2) + BLOCK_NEXT];
    const prev = i32[(b >> 2) + BLOCK_PREV];
    if (next !== 0) i32[(next >> 2) + BLOCK_PREV] = prev;
    if (prev !== 0) {
      i32[(prev >> 2) + BLOCK_NEXT] = next;
    } else {
      const list = mapping(bsize);
      ctl[CTL_HEADS + list] = next;
      if (next === 0) {
        const fl = list >>> SL_BITS;
        const slMap = ctl[CTL_SL_BITMAP + fl] & ~(1 << (list & (SL_COUNT - 1)));
        ctl[CTL_SL_BITMAP + fl] = slMap;
        if (slMap === 0) ctl[CTL_FL_BITMAP] &= ~(1 << fl);
      }
    }
  }

  /**
   * The free block `from` becomes the free block `to` of `toSize` (a split
   * or a merge). When both map to one list, `to` takes `from`'s place in it
   * and the bitmaps are left alone: the common case of carving from, and
   * merging back into, one large block.
   */
  private moveFree(from: number, fromSize: number, to: number, toSize: number): void {
    const list = mapping(toSize);
    if (list !== mapping(fromSize)) {
      this.unlinkFree(from, fromSize);
      this.linkFree(to, toSize);
      return;
    }
    const i32 = this.i32;
    const ctl = this.ctl;
    const next = i32[(from >> 2) + BLOCK_NEXT];
    const prev = i32[(from >> 2) + BLOCK_PREV];
    const w = to >> 2;
    i32[w + BLOCK_SIZE] = toSize | FLAG_FREE;
    i32[w + BLOCK_NEXT] = next;
    i32[w + BLOCK_PREV] = prev;
    i32[((to + toSize) >> 2) - 1] = toSize;
    if (next !== 0) i32[(next >> 2) + BLOCK_PREV] = to;
    if (prev !== 0) i32[(prev >> 2) + BLOCK_NEXT] = to;
    else ctl[CTL_HEADS + list] = to;
  }

  /** Cuts a used block of `bsize` at `b` down to `need`, freeing the tail if it can stand alone. */
  private trim(b: number, bsize: number, need: number): void {
    const rest = bsize - need;
    if (rest < MIN_BLOCK_SIZE) return;
    const i32 = this.i32;
    i32[(b >> 2) + BLOCK_SIZE] = need | (i32[b >> 2] & FLAG_PREV_FREE);
    this.addUsed(-rest);
    const tail = b + need;
    let tsize = rest;
    const right = b + bsize;
    const rhdr = i32[right >> 2];
    if (rhdr & FLAG_FREE) {
      const rsize = rhdr & SIZE_MASK;
      this.unlinkFree(right, rsize);
      tsize += rsize;
    } else {
      i32[right >> 2] = rhdr | FLAG_PREV_FREE;
    }
    if (this.checking) this.u8.fill(WIPE_BYTE, tail, tail + tsize);
    this.linkFree(tail, tsize);
  }

  /** Frees the used block at `b`, coalescing with free neighbours; counts all but `allocations`. */
  private release(b: number): void {
    const i32 = this.i32;
    const hdr = i32[b >> 2];
    const bsize = hdr & SIZE_MASK;
    this.addUsed(-bsize);
    i32[(b >> 2) + BLOCK_CHECK] = 0; // a stale header never passes validate() again
    if (this.checking) this.u8.fill(WIPE_BYTE, b + BLOCK_HDR_SIZE, b + bsize);
    const right = b + bsize;
    const rhdr = i32[right >> 2];
    const rsize = rhdr & FLAG_FREE ? rhdr & SIZE_MASK : 0;
    if (rsize === 0) i32[right >> 2] = rhdr | FLAG_PREV_FREE;
    if (hdr & FLAG_PREV_FREE) {
      const lsize = i32[(b >> 2) - 1];
      const left = b - lsize;
      if (rsize !== 0) this.unlinkFree(right, rsize);
      this.moveFree(left, lsize, left, lsize + bsize + rsize);
      if (this.checking) this.u8.fill(WIPE_BYTE, b - 4, b + BLOCK_HDR_SIZE);
    } else if (rsize !== 0) {
      this.moveFree(right, rsize, b, bsize + rsize);
    } else {
      this.linkFree(b, bsize);
    }
    // The headers swallowed by the merge, once their links have been read.
    if (rsize !== 0 && this.checking) this.u8.fill(WIPE_BYTE, right, right + BLOCK_HDR_SIZE + 4);
  }

  private addUsed(delta: number): void {
    const ctl = this.ctl;
    const used = ctl[CTL_USED] + delta;
    ctl[CTL_USED] = used;
    if (used > ctl[CTL_PEAK_USED]) ctl[CTL_PEAK_USED] = used;
  }

  /**
   * Grows the arena so that a free block of at least `need` bytes exists:
   * by half its size or by what is needed, whichever is more, in whole
   * 64 KiB pages, up to maxSize.
   */
  private grow(need: number): boolean {
    const i32 = this.i32;
    const old = this.ctl[CTL_SIZE];
    const oldEnd = this.base + old - END_SIZE;
    // The new space merges with a free block at the old end; the merged block
    // goes to the head of its list, where search() looks last.
    const endHdr = i32[oldEnd >> 2];
    const tail = endHdr & FLAG_PREV_FREE ? i32[(oldEnd >> 2) - 1] : 0;
    const least = old + need - tail;
    if (least > this.maxSize) return false;
    let target = Math.max(least, old + (old >>> 1));
    // Whole 64 KiB pages up to the arena's end (in a WebAssembly memory, the
    // memory's end: base + size), so that no part of a page is left out.
    const base = this.base;
    target = Math.min(
      this.maxSize,
      Math.ceil((base + target) / GROW_GRANULE) * GROW_GRANULE - base,
    );
    if (!this.extend(this.base + target)) return false;
    let b = oldEnd;
    let bsize = target - old;
    if (this.checking) this.u8.fill(WIPE_BYTE, oldEnd, this.base + target - END_SIZE);
    if (tail !== 0) {
      b = oldEnd - tail;
      this.unlinkFree(b, tail);
      bsize += tail;
    }
    this.ctl[CTL_SIZE] = target;
    this.writeEnd(this.base + target, FLAG_PREV_FREE);
    this.linkFree(b, bsize);
    return true;
  }

  /** Makes the buffer at least `end` bytes long and refreshes the views; false when it cannot. */
  private extend(end: number): boolean {
    const memory = this.memory;
    try {
      if (memory !== null) {
        const length = memory.buffer.byteLength;
        if (end > length) memory.grow(Math.ceil((end - length) / GROW_GRANULE));
        this.buf = memory.buffer;
      } else if (this.shared) {
        (this.buf as SharedArrayBuffer).grow(end);
      } else {
        (this.buf as ArrayBuffer).resize(end);
      }
    } catch {
      return false; // the memory could not be reserved (or the maximum is reached): as malloc's ENOMEM
    }
    this.refreshViews();
    return true;
  }

  private writeEnd(size: number, flags: number): void {
    const w = (size - END_SIZE) >> 2;
    this.i32[w + BLOCK_SIZE] = flags;
    this.i32[w + BLOCK_CHECK] = END_CHECK;
  }

  /**
   * The block of a pointer handed to free/realloc/usableSize/bytes, which must
   * be a live allocation of this heap: 8-aligned, inside the arena, and whose
   * header carries this heap's `tag ^ ptr`. O(1).
   */
  private validate(fn: string, ptr: Ptr): number {
    const b = ptr - BLOCK_HDR_SIZE;
    const i32 = this.i32;
    if (
      ptr !== (ptr | 0) ||
      (ptr & ALIGN_MASK) !== 0 ||
      b < this.first ||
      ptr > this.base + this.ctl[CTL_SIZE] - END_SIZE - MIN_BLOCK_SIZE + BLOCK_HDR_SIZE ||
      i32[(b >> 2) + BLOCK_CHECK] !== (this.tag ^ ptr)
    ) {
      // A WebAssembly memory may have a new buffer the views have not seen.
      if (this.lagging && this.refresh()) return this.validate(fn, ptr);
      this.badPointer(fn, ptr);
    }
    if (this.checking) {
      const hdr = i32[b >> 2];
      const bsize = hdr & SIZE_MASK;
      if (
        (hdr & FLAG_FREE) !== 0 ||
        bsize < MIN_BLOCK_SIZE ||
        b + bsize > this.base + this.ctl[CTL_SIZE] - END_SIZE
      ) {
        throw new HeapCorruptionError(
          `${fn}(): header of pointer ${ptr} is damaged (size word ${hdr})`,
          b,
        );
      }
      this.verifySentinel(fn, b);
    }
    return b;
  }

  /** Checking mode: records the requested size and writes the sentinel after it. */
  private setRequested(b: number, size: number): void {
    const bsize = this.i32[b >> 2] & SIZE_MASK;
    const trailer = b + bsize - TRAILER_SIZE;
    this.u8.fill(SENTINEL_BYTE, b + BLOCK_HDR_SIZE + size, trailer);
    this.i32[trailer >> 2] = size;
  }

  /** Checking mode: the requested size is plausible and every sentinel byte intact. */
  private verifySentinel(fn: string, b: number): void {
    const u8 = this.u8;
    const bsize = this.i32[b >> 2] & SIZE_MASK;
    const trailer = b + bsize - TRAILER_SIZE;
    const size = this.i32[trailer >> 2];
    const ptr = b + BLOCK_HDR_SIZE;
    if (size < 0 || ptr + size >= trailer) {
      throw new HeapCorruptionError(
        `${fn}(): requested-size word of pointer ${ptr} overwritten (reads ${size}, block of ${bsize} bytes)`,
        trailer,
      );
    }
    for (let i = ptr + size; i < trailer; i++) {
      if (u8[i] !== SENTINEL_BYTE) {
        throw new HeapCorruptionError(
          `${fn}(): detected write past chunk end of pointer ${ptr} (requested size ${size}) at offset ${i}`,
          i,
        );
      }
    }
  }

  private badSize(fn: string, size: unknown): never {
    throw new InvalidSizeError(
      `${fn}(): invalid size ${formatValue(size)}: not an integer from 0 to ${MAX_ALLOC_SIZE}`,
      size,
    );
  }

  private badPointer(fn: string, ptr: unknown): never {
    let why = "is not a live allocation of this heap";
    if (typeof ptr !== "number" || !Number.isInteger(ptr)) why = "is not an integer offset";
    else if ((ptr & ALIGN_MASK) !== 0) why = `is not ${ALIGN}-aligned, so not an allocation`;
    else if (ptr < this.first + BLOCK_HDR_SIZE || ptr >= this.base + this.ctl[CTL_SIZE]) {
      why = `is outside the arena's allocations (${this.first + BLOCK_HDR_SIZE}..${this.base + this.ctl[CTL_SIZE]})`;
    } else {
      const b = ptr - BLOCK_HDR_SIZE;
      const hdr = this.i32[b >> 2];
      const bsize = hdr & SIZE_MASK;
      if (
        (hdr & FLAG_FREE) !== 0 &&
        bsize >= MIN_BLOCK_SIZE &&
        b + bsize <= this.base + this.ctl[CTL_SIZE] - END_SIZE &&
        this.i32[((b + bsize) >> 2) - 1] === bsize
      ) {
        why = "was already freed (double free)";
      } else if (this.i32[(b >> 2) + BLOCK_CHECK] === 0 && bsize >= MIN_BLOCK_SIZE) {
        why = "was already freed (double free)";
      } else if (this.i32[(b >> 2) + BLOCK_CHECK] === ~(this.tag ^ ptr)) {
        why = this.shared
          ? "was already freed (double free: the block is in a worker's cache)"
          : "was already freed (double free: the block is in the heap's cache)";
      } else if (this.checking && this.i32[(b >> 2) + BLOCK_CHECK] === WIPE_WORD) {
        why = "lies in freed memory (double free, or a pointer into a freed block)";
      } else {
        why =
          "is not the start of a live allocation of this heap (never allocated, interior, or another allocator's)";
      }
    }
    throw new InvalidPointerError(`${fn}(): pointer ${formatValue(ptr)} ${why}`, ptr);
  }
}
