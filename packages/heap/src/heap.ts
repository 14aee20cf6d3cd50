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

import type { HeapOptions, HeapStats, Ptr } from "./api.js";
import {
  formatValue,
  HeapCorruptionError,
  InvalidAlignmentError,
  InvalidPointerError,
  InvalidSizeError,
  isAlignment,
  isAllocSize,
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
  CONTROL_SIZE,
  CTL_ALLOCATIONS,
  CTL_FL_BITMAP,
  CTL_FLAGS,
  CTL_HEADS,
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
  HEAP_MAGIC,
  HEAP_MAX_SIZE,
  HEAP_MIN_SIZE,
  HEAP_VERSION,
  MAX_ALIGNMENT,
  MAX_ALLOC_SIZE,
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
  /** The backing store. Resizable (and grown in place) unless the heap has a fixed size. */
  readonly buffer: ArrayBuffer;
  /** Bytes the arena may grow to. */
  readonly maxSize: number;
  /** Whether checking mode is on: sentinels, wiped frees, stricter validation. */
  readonly checking: boolean;

  /** Byte view over the whole arena; always current, also after growth. */
  u8!: Uint8Array;
  /** Signed byte view over the whole arena. */
  i8!: Int8Array;
  /** 16-bit view over the whole arena (index with `ptr >> 1`). */
  u16!: Uint16Array;
  /** Signed 16-bit view over the whole arena (index with `ptr >> 1`). */
  i16!: Int16Array;
  /** 32-bit view over the whole arena (index with `ptr >> 2`). */
  u32!: Uint32Array;
  /** Signed 32-bit view over the whole arena (index with `ptr >> 2`). */
  i32!: Int32Array;
  /** Float32 view over the whole arena (index with `ptr >> 2`). */
  f32!: Float32Array;
  /** Float64 view over the whole arena (index with `ptr >> 3`). */
  f64!: Float64Array;
  /** DataView over the whole arena, for unaligned and endian-explicit access. */
  dv!: DataView;

  /** The per-heap odd random number every used block's check word is xored with. */
  private readonly tag: number;

  private constructor(buffer: ArrayBuffer, maxSize: number, checking: boolean, tag: number) {
    this.buffer = buffer;
    this.maxSize = maxSize;
    this.checking = checking;
    this.tag = tag;
    this.refreshViews();
  }

  /**
   * Makes a heap on a new `ArrayBuffer`.
   * @throws InvalidSizeError when a size is not an integer, is below
   *   {@link HEAP_MIN_SIZE} or above {@link HEAP_MAX_SIZE}, or when
   *   `initialSize > maxSize`.
   */
  static create(options: HeapOptions = {}): Heap {
    const initial = options.initialSize ?? DEFAULT_INITIAL_SIZE;
    const requestedMax = options.maxSize ?? Math.max(initial, DEFAULT_MAX_SIZE);
    for (const [key, value] of [
      ["initialSize", initial],
      ["maxSize", requestedMax],
    ] as const) {
      if (!Number.isInteger(value) || value < HEAP_MIN_SIZE || value > HEAP_MAX_SIZE) {
        throw new InvalidSizeError(
          `Heap.create(): ${key} ${formatValue(value)} is not an integer from ${HEAP_MIN_SIZE} to ${HEAP_MAX_SIZE}`,
          value,
        );
      }
    }
    if (initial > requestedMax) {
      throw new InvalidSizeError(
        `Heap.create(): initialSize ${initial} is above maxSize ${requestedMax}`,
        initial,
      );
    }
    const size = (initial + ALIGN_MASK) & ~ALIGN_MASK;
    const maxSize = Math.max(size, requestedMax & ~ALIGN_MASK);
    const buffer =
      size === maxSize ? new ArrayBuffer(size) : new ArrayBuffer(size, { maxByteLength: maxSize });
    const checking = options.checking ?? false;
    // Odd, so that tag ^ ptr (ptr 8-aligned) is never 0, the value free() leaves.
    const tag = ((Math.random() * 0x100000000) | 1) & 0x7fffffff;
    const heap = new Heap(buffer, maxSize, checking, tag);
    heap.format(size);
    return heap;
  }

  /** Writes an empty heap into the arena: the control struct, one free block, the end marker. */
  private format(size: number): void {
    const i32 = this.i32;
    i32.fill(0, 0, CTL_WORDS);
    i32[CTL_MAGIC] = HEAP_MAGIC;
    i32[CTL_VERSION] = HEAP_VERSION;
    i32[CTL_SIZE] = size;
    i32[CTL_MAX_SIZE] = this.maxSize;
    i32[CTL_FLAGS] = this.checking ? HEAP_FLAG_CHECKING : 0;
    i32[CTL_TAG] = this.tag;
    const free = size - FIRST_BLOCK - END_SIZE;
    this.writeEnd(size, FLAG_PREV_FREE);
    if (this.checking) this.u8.fill(WIPE_BYTE, FIRST_BLOCK, size - END_SIZE);
    this.linkFree(FIRST_BLOCK, free);
  }

  private refreshViews(): void {
    const b = this.buffer;
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

  /** The arena's current size in bytes. */
  get size(): number {
    return this.i32[CTL_SIZE];
  }

  /** Bytes of the blocks in use, headers included: `stats().used` in O(1). */
  get used(): number {
    return this.i32[CTL_USED];
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
    const b = this.take(this.blockSizeFor(size));
    if (b === 0) return 0;
    if (this.checking) this.setRequested(b, size);
    return b + BLOCK_HDR_SIZE;
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
    const need = this.blockSizeFor(size);
    // Room to slide the pointer forward by up to alignment, leaving a gap
    // in front big enough to be a free block of its own.
    const padded = need + alignment + MIN_BLOCK_SIZE;
    if (padded > MAX_ALLOC_SIZE) return 0;
    const peak = this.i32[CTL_PEAK_USED];
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
    i32[CTL_PEAK_USED] = Math.max(peak, i32[CTL_USED]);
    if (this.checking) this.setRequested(b, size);
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
    const i32 = this.i32;
    const need = this.blockSizeFor(size);
    const bsize = i32[b >> 2] & SIZE_MASK;
    if (need > bsize) {
      const right = b + bsize;
      const rhdr = i32[right >> 2];
      const rsize = rhdr & SIZE_MASK;
      if ((rhdr & FLAG_FREE) === 0 || bsize + rsize < need) {
        const moved = this.malloc(size);
        if (moved === 0) return 0;
        const keep = this.usable(b);
        this.u8.copyWithin(moved, ptr, ptr + Math.min(keep, size));
        this.release(b);
        this.i32[CTL_ALLOCATIONS]--; // malloc may have grown the arena: a view read before it may be stale
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

  /**
   * Frees an allocation. `free(0)` does nothing.
   * @throws InvalidPointerError when `ptr` is not a live allocation of this
   *   heap: never allocated, already freed, inside a block, another heap's.
   * @throws HeapCorruptionError in checking mode when the bytes past the
   *   requested size were overwritten.
   */
  free(ptr: Ptr): void {
    if (ptr === 0) return;
    this.release(this.validate("free", ptr));
    this.i32[CTL_ALLOCATIONS]--;
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
    return new Uint8Array(this.buffer, ptr, n);
  }

  /** Counts of the arena. Walks the free lists (not for hot paths). */
  stats(): HeapStats {
    const i32 = this.i32;
    const size = i32[CTL_SIZE];
    const used = i32[CTL_USED];
    let largest = 0;
    let freeBlocks = 0;
    // No arena holds more free blocks than this: a longer walk is a cycle.
    const limit = (size - FIRST_BLOCK) / MIN_BLOCK_SIZE;
    for (let list = 0; list < FL_COUNT * SL_COUNT; list++) {
      for (let b = i32[CTL_HEADS + list]; b !== 0; b = i32[(b >> 2) + BLOCK_NEXT]) {
        if (++freeBlocks > limit || b < FIRST_BLOCK || b >= size) {
          throw new HeapCorruptionError(
            `heap stats: free list ${list} is damaged at offset ${b}`,
            b,
          );
        }
        const s = i32[b >> 2] & SIZE_MASK;
        if (s > largest) largest = s;
      }
    }
    return {
      size,
      used,
      free: size - CONTROL_SIZE - END_SIZE - used,
      largestFree: largest === 0 ? 0 : largest - BLOCK_HDR_SIZE,
      freeBlocks,
      allocations: i32[CTL_ALLOCATIONS],
      peakUsed: i32[CTL_PEAK_USED],
    };
  }

  /**
   * Walks every block and every free list and verifies them: sizes, flags,
   * boundary tags, check words, no adjacent free blocks, list links, the
   * bitmaps and the counters; in checking mode also each sentinel.
   * @throws HeapCorruptionError naming the offset of the first damage found.
   */
  check(): void {
    const i32 = this.i32;
    const size = i32[CTL_SIZE];
    const corrupt = (offset: number, what: string): never => {
      throw new HeapCorruptionError(`heap check: ${what} at offset ${offset}`, offset);
    };
    if (i32[CTL_MAGIC] !== HEAP_MAGIC) corrupt(0, "control struct magic overwritten");
    if (size !== this.buffer.byteLength) {
      corrupt(
        CTL_SIZE * 4,
        `arena size ${size} differs from the buffer's ${this.buffer.byteLength}`,
      );
    }
    const end = size - END_SIZE;
    let used = 0;
    let allocations = 0;
    const freeSet = new Set<number>();
    let prevFree = false;
    let b = FIRST_BLOCK;
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
        if (i32[(b >> 2) + BLOCK_CHECK] !== (this.tag ^ (b + BLOCK_HDR_SIZE))) {
          corrupt(b, "check word of used block overwritten");
        }
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
    if (used !== i32[CTL_USED])
      corrupt(CTL_USED * 4, `used counter ${i32[CTL_USED]}, blocks say ${used}`);
    if (allocations !== i32[CTL_ALLOCATIONS]) {
      corrupt(
        CTL_ALLOCATIONS * 4,
        `allocation counter ${i32[CTL_ALLOCATIONS]}, blocks say ${allocations}`,
      );
    }
    // The lists: every member a free block of the walk, on the list its size
    // maps to, linked both ways, and a bit set exactly for the non-empty lists.
    const flMap = i32[CTL_FL_BITMAP];
    for (let fl = 0; fl < FL_COUNT; fl++) {
      const slMap = i32[CTL_SL_BITMAP + fl];
      if (((flMap >>> fl) & 1) !== (slMap !== 0 ? 1 : 0))
        corrupt(CTL_FL_BITMAP * 4, `first-level bit ${fl}`);
      for (let sl = 0; sl < SL_COUNT; sl++) {
        const list = fl * SL_COUNT + sl;
        const head = i32[CTL_HEADS + list];
        if (((slMap >>> sl) & 1) !== (head !== 0 ? 1 : 0)) {
          corrupt((CTL_SL_BITMAP + fl) * 4, `second-level bit ${sl} of list ${fl}`);
        }
        let prev = 0;
        for (let f = head; f !== 0; f = i32[(f >> 2) + BLOCK_NEXT]) {
          if (f < FIRST_BLOCK || f >= end || (f & ALIGN_MASK) !== 0)
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
  }

  // ---------------------------------------------------------------------
  // Internals
  // ---------------------------------------------------------------------

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
  private take(need: number): number {
    let b = this.search(need);
    if (b === 0) {
      if (!this.grow(need)) return 0;
      b = this.search(need);
      if (b === 0) return 0;
    }
    const i32 = this.i32;
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
    i32[CTL_ALLOCATIONS]++;
    return b;
  }

  /** The head of the first non-empty list whose every block holds `need`: mapping_search + find_suitable_block. */
  private search(need: number): number {
    const i32 = this.i32;
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
    let slMap = i32[CTL_SL_BITMAP + fl] & (-1 << sl);
    if (slMap === 0) {
      const flMap = i32[CTL_FL_BITMAP] & (-1 << (fl + 1));
      if (flMap === 0) {
        // Nothing above: the head of need's own list may still be big enough
        // (the round-up skips it). Looking at the head alone keeps this O(1).
        const head = i32[CTL_HEADS + mapping(need)];
        return head !== 0 && (i32[head >> 2] & SIZE_MASK) >= need ? head : 0;
      }
      fl = ctz(flMap);
      slMap = i32[CTL_SL_BITMAP + fl];
    }
    return i32[CTL_HEADS + fl * SL_COUNT + ctz(slMap)];
  }

  /** Puts a free block on the head of its list and marks it free with its boundary tag. */
  private linkFree(b: number, bsize: number): void {
    const i32 = this.i32;
    const w = b >> 2;
    i32[w + BLOCK_SIZE] = bsize | FLAG_FREE;
    i32[((b + bsize) >> 2) - 1] = bsize;
    const list = mapping(bsize);
    const head = i32[CTL_HEADS + list];
    i32[w + BLOCK_NEXT] = head;
    i32[w + BLOCK_PREV] = 0;
    if (head !== 0) i32[(head >> 2) + BLOCK_PREV] = b;
    i32[CTL_HEADS + list] = b;
    const fl = list >>> SL_BITS;
    i32[CTL_FL_BITMAP] |= 1 << fl;
    i32[CTL_SL_BITMAP + fl] |= 1 << (list & (SL_COUNT - 1));
  }

  /** Takes a free block off its list. */
  private unlinkFree(b: number, bsize: number): void {
    const i32 = this.i32;
    const next = i32[(b >> 2) + BLOCK_NEXT];
    const prev = i32[(b >> 2) + BLOCK_PREV];
    if (next !== 0) i32[(next >> 2) + BLOCK_PREV] = prev;
    if (prev !== 0) {
      i32[(prev >> 2) + BLOCK_NEXT] = next;
    } else {
      const list = mapping(bsize);
      i32[CTL_HEADS + list] = next;
      if (next === 0) {
        const fl = list >>> SL_BITS;
        const slMap = i32[CTL_SL_BITMAP + fl] & ~(1 << (list & (SL_COUNT - 1)));
        i32[CTL_SL_BITMAP + fl] = slMap;
        if (slMap === 0) i32[CTL_FL_BITMAP] &= ~(1 << fl);
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
    const next = i32[(from >> 2) + BLOCK_NEXT];
    const prev = i32[(from >> 2) + BLOCK_PREV];
    const w = to >> 2;
    i32[w + BLOCK_SIZE] = toSize | FLAG_FREE;
    i32[w + BLOCK_NEXT] = next;
    i32[w + BLOCK_PREV] = prev;
    i32[((to + toSize) >> 2) - 1] = toSize;
    if (next !== 0) i32[(next >> 2) + BLOCK_PREV] = to;
    if (prev !== 0) i32[(prev >> 2) + BLOCK_NEXT] = to;
    else i32[CTL_HEADS + list] = to;
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
    const i32 = this.i32;
    const used = i32[CTL_USED] + delta;
    i32[CTL_USED] = used;
    if (used > i32[CTL_PEAK_USED]) i32[CTL_PEAK_USED] = used;
  }

  /**
   * Grows the arena so that a free block of at least `need` bytes exists:
   * by half its size or by what is needed, whichever is more, in whole
   * 64 KiB pages, up to maxSize.
   */
  private grow(need: number): boolean {
    const i32 = this.i32;
    const old = i32[CTL_SIZE];
    // The new space merges with a free block at the old end; the merged block
    // goes to the head of its list, where search() looks last.
    const endHdr = i32[(old - END_SIZE) >> 2];
    const tail = endHdr & FLAG_PREV_FREE ? i32[((old - END_SIZE) >> 2) - 1] : 0;
    const least = old + need - tail;
    if (least > this.maxSize) return false;
    let target = Math.max(least, old + (old >>> 1));
    target = Math.min(this.maxSize, Math.ceil(target / GROW_GRANULE) * GROW_GRANULE);
    try {
      this.buffer.resize(target);
    } catch {
      return false; // the process could not reserve the memory: as malloc's ENOMEM
    }
    this.refreshViews();
    const oldEnd = old - END_SIZE;
    let b = oldEnd;
    let bsize = target - old;
    if (this.checking) this.u8.fill(WIPE_BYTE, oldEnd, target - END_SIZE);
    if (tail !== 0) {
      b = oldEnd - tail;
      this.unlinkFree(b, tail);
      bsize += tail;
    }
    this.i32[CTL_SIZE] = target;
    this.writeEnd(target, FLAG_PREV_FREE);
    this.linkFree(b, bsize);
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
      b < FIRST_BLOCK ||
      ptr > i32[CTL_SIZE] - END_SIZE - MIN_BLOCK_SIZE + BLOCK_HDR_SIZE ||
      i32[(b >> 2) + BLOCK_CHECK] !== (this.tag ^ ptr)
    ) {
      this.badPointer(fn, ptr);
    }
    if (this.checking) {
      const hdr = i32[b >> 2];
      const bsize = hdr & SIZE_MASK;
      if (
        (hdr & FLAG_FREE) !== 0 ||
        bsize < MIN_BLOCK_SIZE ||
        b + bsize > i32[CTL_SIZE] - END_SIZE
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
    else if (ptr < FIRST_BLOCK + BLOCK_HDR_SIZE || ptr >= this.i32[CTL_SIZE]) {
      why = `is outside the arena's allocations (${FIRST_BLOCK + BLOCK_HDR_SIZE}..${this.i32[CTL_SIZE]})`;
    } else {
      const b = ptr - BLOCK_HDR_SIZE;
      const hdr = this.i32[b >> 2];
      const bsize = hdr & SIZE_MASK;
      if (
        (hdr & FLAG_FREE) !== 0 &&
        bsize >= MIN_BLOCK_SIZE &&
        b + bsize <= this.i32[CTL_SIZE] - END_SIZE &&
        this.i32[((b + bsize) >> 2) - 1] === bsize
      ) {
        why = "was already freed (double free)";
      } else if (this.i32[(b >> 2) + BLOCK_CHECK] === 0 && bsize >= MIN_BLOCK_SIZE) {
        why = "was already freed (double free)";
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
