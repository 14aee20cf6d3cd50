/*-------------------------------------------------------------------------
 *
 * heap.ts
 *	  Adapter for @mmgr/heap: malloc/free/realloc on a growable arena.
 *
 * Also the arena every other @mmgr adapter builds on: each cell gets a
 * fresh heap. What a cell took from the arena is the peak of the heap's
 * `used` (bytes of blocks in use, headers included) above its value at
 * creation, tracked after every operation in the untimed memory pass.
 *
 *-------------------------------------------------------------------------
 */

import { Heap } from "@mmgr/heap";
import {
  type AdapterFactory,
  type AdapterModule,
  type AllocatorOptions,
  BenchOutOfMemory,
  UnscopedAllocator,
  type VariantInfo,
} from "./types.js";

/** Arena size at creation of a growable heap. */
export const HEAP_INITIAL_SIZE = 1 << 20;
/** How far a growable heap may grow. */
export const HEAP_MAX_SIZE = 1 << 30;
/** Room a fixed arena keeps above 4x the peak live bytes: AllocSet's 8 MiB blocks, pool blocks. */
const FIXED_HEADROOM = 64 << 20;

/**
 * A fresh heap for a cell and the bytes in use on it at creation. Fixed-size
 * by default, like @thi.ng/malloc's MemPool (which cannot grow), sized as its
 * pool is, from the workload's peak live bytes, with more headroom: a fixed
 * heap sits on a plain ArrayBuffer. `growable`: 1 MiB growing to 1 GiB on a
 * resizable ArrayBuffer, whose typed arrays Node 20's V8 reads more slowly.
 * `cache`: the heap's `cache: true` (a per-handle cache of small blocks).
 */
export function freshHeap(
  options: AllocatorOptions,
  growable = false,
  cache = false,
): { heap: Heap; base: number } {
  const fixed = Math.min(
    HEAP_MAX_SIZE,
    Math.ceil((4 * options.peakLiveBytes + FIXED_HEADROOM) / (1 << 16)) * (1 << 16),
  );
  const heap = growable
    ? Heap.create({ initialSize: HEAP_INITIAL_SIZE, maxSize: HEAP_MAX_SIZE, cache })
    : Heap.create({ initialSize: fixed, maxSize: fixed, cache });
  return { heap, base: heap.used };
}

/** Tracks the peak of a heap's `used` above `base`; the memory pass calls it after each operation. */
export class UsedPeak {
  /** The highest `used - base` seen. */
  peak = 0;

  constructor(
    private readonly heap: Heap,
    private readonly base: number,
  ) {}

  /** Reads `used` now. */
  track(): void {
    const u = this.heap.used - this.base;
    if (u > this.peak) this.peak = u;
  }
}

/** A tracker for the memory pass, none for the timed run. */
export function usedPeak(heap: Heap, base: number, tracking: boolean): UsedPeak | null {
  return tracking ? new UsedPeak(heap, base) : null;
}

/**
 * Base of every adapter on an @mmgr heap: a fresh heap, its `used` at
 * creation, the live pointers by slot, and the memory pass's tracker. The
 * scope methods throw until a scoped adapter overrides them.
 */
export abstract class HeapBacked extends UnscopedAllocator {
  protected readonly heap: Heap;
  protected readonly base: number;
  protected readonly ptrs: Int32Array;
  protected readonly tracker: UsedPeak | null;

  constructor(options: AllocatorOptions, growable = false, cache = false) {
    super();
    ({ heap: this.heap, base: this.base } = freshHeap(options, growable, cache));
    this.ptrs = new Int32Array(options.slots);
    this.tracker = usedPeak(this.heap, this.base, options.tracking);
  }

  /** Keeps `p` in `slot`; a 0 from the allocator (`what`, asked for `size`) ends the cell. */
  protected keep(slot: number, p: number, what: string, size: number): void {
    if (p === 0) throw new BenchOutOfMemory(what, size);
    this.ptrs[slot] = p;
    if (this.tracker !== null) this.tracker.track();
  }

  /** The memory pass: reads the heap's `used` now. */
  protected track(): void {
    if (this.tracker !== null) this.tracker.track();
  }

  taken(): number {
    return this.heap.used - this.base;
  }

  peak(): number {
    return this.tracker === null ? -1 : this.tracker.peak;
  }

  dispose(): void {}
}

/** `heap.malloc` per allocation, `heap.free` per free, `heap.realloc`. */
class HeapAllocator extends HeapBacked {
  alloc(slot: number, size: number): void {
    this.keep(slot, this.heap.malloc(size), "heap.malloc", size);
  }

  free(slot: number, _size: number): void {
    this.heap.free(this.ptrs[slot]);
  }

  realloc(slot: number, _oldSize: number, newSize: number): void {
    this.keep(slot, this.heap.realloc(this.ptrs[slot], newSize), "heap.realloc", newSize);
  }

  discard(count: number, _sizes: Int32Array): void {
    for (let i = count - 1; i >= 0; i--) this.heap.free(this.ptrs[i]);
  }
}

function factory(growable: boolean, cache: boolean): AdapterFactory {
  return {
    serves: () => true,
    cap: (_v: VariantInfo) => undefined,
    create: (options) => new HeapAllocator(options, growable, cache),
  };
}

/** @mmgr/heap: the TLSF arena's own malloc/free, on a fixed arena as the other arena allocators. */
export const heapAdapter: AdapterModule = {
  id: "heap",
  label: "@mmgr/heap",
  note: "`heap.malloc`/`free`/`realloc` on a fixed-size heap (plain ArrayBuffer) of 4x the peak live bytes + 64 MiB, as thi.ng's pool is sized; memory = peak of the heap's `used`",
  memory: "tracked",
  load: async () => factory(false, false),
};

/** @mmgr/heap again, on a growable heap: what growth in place costs on this runtime. */
export const heapGrowableAdapter: AdapterModule = {
  id: "heap-grow",
  label: "@mmgr/heap (growable)",
  note: "`heap.malloc`/`free`/`realloc` on a growable heap (1 MiB growing in place to 1 GiB on a resizable ArrayBuffer, whose typed arrays Node 20's V8 reads more slowly); memory = peak of the heap's `used`",
  memory: "tracked",
  load: async () => factory(true, false),
};

/** @mmgr/heap with `cache: true`: freed small blocks wait on per-size lists for the next malloc. */
export const heapCacheAdapter: AdapterModule = {
  id: "heap-cache",
  label: "@mmgr/heap (cache)",
  note: "`heap.malloc`/`free`/`realloc` on the same fixed heap made with `cache: true`: a freed block of up to 1,024 bytes waits on a list of its size for the next malloc of that size (at most 64 KiB or 1/8 of `used`); memory = peak of the heap's `used`, cached blocks included",
  memory: "tracked",
  load: async () => factory(false, true),
};
