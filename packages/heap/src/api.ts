/**
 * A pointer: a byte offset into the heap's arena. `0` is NULL; the heap
 * never hands out offset 0.
 */
export type Ptr = number;

/** The null pointer. */
export const NULL: Ptr = 0;

/** Options of {@link Heap.create}. */
export interface HeapOptions {
  /**
   * Bytes of the arena at creation (rounded up to a multiple of 8).
   * @defaultValue 1 MiB
   */
  initialSize?: number;
  /**
   * Bytes the arena may grow to. Equal to `initialSize`, the heap never grows
   * and sits on a plain `ArrayBuffer`; larger, it sits on a resizable one.
   * @defaultValue the larger of `initialSize` and 256 MiB
   */
  maxSize?: number;
  /**
   * PostgreSQL's MEMORY_CONTEXT_CHECKING and CLOBBER_FREED_MEMORY for this heap
   * and every allocator on it: sentinels after each requested size, freed
   * memory wiped with 0x7F, stricter validation. Slower; meant for tests.
   * @defaultValue false
   */
  checking?: boolean;
  /**
   * Put the arena on a `SharedArrayBuffer` (growable unless `initialSize`
   * equals `maxSize`), so that other workers can {@link Heap.attach} to it
   * and call malloc/free/realloc at the same time. Calls then take a lock in
   * the arena, except for small blocks served by each handle's own cache.
   * @defaultValue false
   */
  shared?: boolean;
  /**
   * Give this handle a cache of free small blocks, as a shared heap's
   * handles have (glibc's tcache): a freed block of up to 1,024 bytes is
   * kept on a list of its size and handed straight to the next `malloc` of
   * that size, without the free lists. Cached blocks count in `used` and
   * `allocations` (and `stats().cached`) until a `malloc` takes them, or
   * {@link Heap.releaseCache} gives them back, or a `malloc` that finds no
   * free block gives them all back before the arena grows or the `malloc`
   * fails. A free keeps its block only while the cache then holds at most
   * 64 KiB or 1/8 of `used`, whichever is more; otherwise the block is
   * released. Faster for programs that
   * free and allocate small blocks of the same sizes; a block in the cache
   * does not coalesce. Shared heaps always have one; checking mode none.
   * @defaultValue false
   */
  cache?: boolean;
}

/**
 * What {@link Heap.fromMemory} needs of a `WebAssembly.Memory`: its current
 * buffer and `grow` in 64 KiB pages.
 */
export interface MemoryLike {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(delta: number): number;
}

/** Options of {@link Heap.fromMemory}. */
export interface MemoryHeapOptions {
  /**
   * Where the heap starts in the memory, a multiple of 8: below it are the
   * module's own data and stack, which the heap never touches.
   * @defaultValue 0
   */
  base?: number;
  /**
   * Bytes of the arena at creation; the memory grows if it is smaller.
   * @defaultValue the whole memory above `base`
   */
  initialSize?: number;
  /**
   * Bytes the arena may grow to. Growth beyond the memory's own maximum
   * fails as out of memory.
   * @defaultValue 4 GiB (the memory's limit), capped at the heap's 2 GiB
   *   limit, minus `base`
   */
  maxSize?: number;
  /** As {@link HeapOptions.checking}. */
  checking?: boolean;
  /** As {@link HeapOptions.cache}, for a memory that is not shared. */
  cache?: boolean;
}

/** What {@link Heap.stats} reports. All sizes in bytes. */
export interface HeapStats {
  /** The arena's current size, control struct included. */
  size: number;
  /** Bytes of the blocks in use, headers included. */
  used: number;
  /** Bytes of the free blocks, headers included. */
  free: number;
  /** Payload bytes of the largest free block (0 when there is none). */
  largestFree: number;
  /** Free blocks. */
  freeBlocks: number;
  /** Live allocations. */
  allocations: number;
  /** The highest `used` seen since the heap was created. */
  peakUsed: number;
  /** Bytes of the blocks in this handle's cache (shared heaps, or `cache: true`; counted in `used`). */
  cached: number;
}
