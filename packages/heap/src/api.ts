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
}
