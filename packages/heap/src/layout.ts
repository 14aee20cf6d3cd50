/*-------------------------------------------------------------------------
 *
 * layout.ts
 *	  Where every byte of a heap lives: the control struct at offset 0, the
 *	  block header in front of every allocation, and the TLSF index.
 *
 * All state is in the arena (DESIGN.md, "state lives in the bytes"): a Heap
 * object is only a handle holding views and immutable configuration, so a
 * checker can walk everything and a byte copy of the arena is a snapshot.
 *
 * Words are 32 bits and read through an Int32Array: offsets and sizes stay
 * below 2^31, which keeps every value a small integer for the JIT.
 *
 *-------------------------------------------------------------------------
 */

/** MAXALIGN: every block and every pointer is 8-aligned (PostgreSQL's MAXIMUM_ALIGNOF on LP64). */
export const ALIGN_BITS = 3;
export const ALIGN = 1 << ALIGN_BITS;
export const ALIGN_MASK = ALIGN - 1;

// ┌──────────── block header (8 bytes) ─────────────┐
// │ size | flags : i32   │ check : i32              │ ◄─ block = ptr - 8
// ╞══════════════════════╧══════════════════════════╡
// │ payload (size - 8 bytes) ...                    │ ◄─ ptr (8-aligned)
// └─────────────────────────────────────────────────┘
//
// used block: check = tag ^ ptr (tag is random per heap, odd), so a pointer
//             that is not the start of a live block of this heap is caught
//             in O(1); free() zeroes it, so a stale header never passes.
//             In checking mode the last word holds the requested size and
//             the bytes between the payload and that word are sentinels.
//
// ┌─────────────────── free block ──────────────────┐
// │ size | FREE : i32    │ next free : i32          │
// │ prev free : i32      │ ... (unused) ...         │
// │                  ... │ size (boundary tag) : i32│ ◄─ block + size - 4
// └─────────────────────────────────────────────────┘
//
// A block's PREV_FREE flag says its left neighbour is free; only then is the
// word in front of the header that neighbour's boundary tag. No two free
// blocks are ever adjacent (immediate coalescing).

/** Bytes of the header in front of every allocation. */
export const BLOCK_HDR_SIZE = 8;
/** Word 0 of a block: its size in bytes (header included) with the flags in the low bits. */
export const BLOCK_SIZE = 0;
/** Word 1 of a used block: `tag ^ ptr`. */
export const BLOCK_CHECK = 1;
/** Word 1 of a free block: the next block on its free list (0 ends it). */
export const BLOCK_NEXT = 1;
/** Word 2 of a free block: the previous block on its free list (0 at the head). */
export const BLOCK_PREV = 2;
/** The block is on a free list. */
export const FLAG_FREE = 1;
/** The block to the left is free, and the word before this header is its size. */
export const FLAG_PREV_FREE = 2;
export const FLAGS_MASK = ALIGN_MASK;
export const SIZE_MASK = ~FLAGS_MASK;
/** The smallest block: header, next, prev and boundary tag. */
export const MIN_BLOCK_SIZE = 16;

// The end of the arena is marked by an 8-byte header of size 0 that is never
// free: coalescing stops there, and growth turns it into the new free space.
/** Bytes of the end marker at the top of the arena. */
export const END_SIZE = 8;
/** Word 1 of the end marker. */
export const END_CHECK = 0x454e4421; // "END!"

// Checking mode (MEMORY_CONTEXT_CHECKING / CLOBBER_FREED_MEMORY in PostgreSQL).
/** The requested size, kept in the last word of a used block in checking mode. */
export const TRAILER_SIZE = 4;
/** Bytes between the requested size and the trailer; mcxt.c's sentinel value. */
export const SENTINEL_BYTE = 0x7e;
/** Freed memory is wiped with this byte, as CLOBBER_FREED_MEMORY (wipe_mem) does. */
export const WIPE_BYTE = 0x7f;

// TLSF: two-level segregated fit (Masmano et al., 2004). The first level
// splits sizes by powers of two, the second splits each power into SL_COUNT
// equal ranges; one bit per list in two bitmaps finds a fitting non-empty
// list with two find-first-set operations, whatever the number of blocks.
/** log2 of the second-level lists per power of two (the TLSF paper's SLI = 5). */
export const SL_BITS = 5;
export const SL_COUNT = 1 << SL_BITS;
/** Sizes below SMALL_BLOCK_SIZE share first-level list 0, in steps of ALIGN. */
export const FL_SHIFT = SL_BITS + ALIGN_BITS;
export const SMALL_BLOCK_SIZE = 1 << FL_SHIFT;
/** First-level lists: sizes up to 2^31 (block sizes are i32). */
export const FL_COUNT = 31 - FL_SHIFT + 1;

// ┌──────────────── control struct (offset 0, 3216 bytes) ────────────────┐
// │ magic │ version │ size │ maxSize │ flags │ tag │ used │ allocations │  words 0-7
// │ peakUsed │ lock │ base │ flBitmap │                                   words 8-11
// │ slBitmap[FL_COUNT]                                                    words 12-35
// │ heads[FL_COUNT][SL_COUNT]  (offset of the first free block, 0 = none) words 36-803
// └───────────────────────────────────────────────────────────────────────┘
// The first block starts right after it, so no allocation is ever at 0.
// A heap in a WebAssembly memory has it at `base` instead of 0, and every
// offset (pointers, list heads, links) is an address in the whole memory.
/** "MMGR": marks a formatted heap. */
export const HEAP_MAGIC = 0x4d4d4752;
export const HEAP_VERSION = 1;
export const CTL_MAGIC = 0;
export const CTL_VERSION = 1;
/** Bytes of the arena, control struct and end marker included. */
export const CTL_SIZE = 2;
export const CTL_MAX_SIZE = 3;
export const CTL_FLAGS = 4;
export const CTL_TAG = 5;
/** Bytes of all used blocks, headers included. */
export const CTL_USED = 6;
/** Live allocations. */
export const CTL_ALLOCATIONS = 7;
export const CTL_PEAK_USED = 8;
/** The lock of a shared heap: 0 free, 1 held, 2 held with waiters. */
export const CTL_LOCK = 9;
/** Where the control struct is in its buffer (a heap in a WebAssembly memory starts at `base`). */
export const CTL_BASE = 10;
export const CTL_FL_BITMAP = 11;
export const CTL_SL_BITMAP = 12;
export const CTL_HEADS = CTL_SL_BITMAP + FL_COUNT;
export const CTL_WORDS = CTL_HEADS + FL_COUNT * SL_COUNT;
/** Bytes of the control struct; the first block starts here. */
export const CONTROL_SIZE = (CTL_WORDS * 4 + ALIGN_MASK) & ~ALIGN_MASK;
export const FIRST_BLOCK = CONTROL_SIZE;

/** CTL_FLAGS bit: the heap was formatted in checking mode. */
export const HEAP_FLAG_CHECKING = 1;
/** CTL_FLAGS bit: the heap is on shared memory; its calls take the lock. */
export const HEAP_FLAG_SHARED = 2;

// The per-handle cache of a shared heap (glibc's tcache: a thread's own
// lists of free small chunks, taken and given without the arena lock).
// A cached block stays a used block of the heap, its check word set to
// ~(tag ^ ptr), and links to the next one of its size through word 2.
/** Largest block size the cache holds: glibc's tcache stops at 1032 bytes on LP64. */
export const CACHE_MAX_BLOCK = 1024;
/** Cache lists, one per block size in steps of ALIGN. */
export const CACHE_BINS = (CACHE_MAX_BLOCK >>> ALIGN_BITS) + 1;
/**
 * Bytes a cache list holds (at least 8 and at most 255 blocks) before half
 * of them go back under one lock; a miss takes half a list under one lock.
 * mimalloc-style batching: glibc's 7 blocks per list would take the lock
 * every few calls of a batch workload.
 */
export const CACHE_BIN_BYTES = 16384;
/**
 * An unshared heap's cache (`cache: true`) keeps a freed block while it holds
 * at most this many bytes, or 1/8 of the heap's `used` (CACHE_BUDGET_SHIFT),
 * whichever is more: enough for a batch of small blocks to come back from
 * it, and a small share of the memory when it is checked (at each free: once
 * `used` falls, the cache may hold more, until a malloc takes its blocks or
 * they are given back). Its lists have no length limit.
 */
export const CACHE_BUDGET_MIN = 65536;
/** `used >>> CACHE_BUDGET_SHIFT`: the share of `used` an unshared heap's cache may hold. */
export const CACHE_BUDGET_SHIFT = 3;
/** Word of a cached block that links to the next of its size. */
export const CACHE_NEXT = 2;
/** A WebAssembly memory's largest size: 65536 pages of 64 KiB. */
export const MEMORY_MAX_BYTES = 65536 * 65536;

/** The largest arena: offsets and sizes stay positive 32-bit integers. */
export const HEAP_MAX_SIZE = 0x7fff0000;
/** The smallest arena: the control struct, one minimal block and the end marker. */
export const HEAP_MIN_SIZE = CONTROL_SIZE + MIN_BLOCK_SIZE + END_SIZE;
/** The largest size malloc accepts; anything larger is an InvalidSizeError. */
export const MAX_ALLOC_SIZE = HEAP_MAX_SIZE - HEAP_MIN_SIZE;
/** The largest alignment memalign accepts. */
export const MAX_ALIGNMENT = 1 << 24;
/** Growth is rounded up to whole WebAssembly pages. */
export const GROW_GRANULE = 1 << 16;
