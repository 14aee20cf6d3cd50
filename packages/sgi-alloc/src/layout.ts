/*-------------------------------------------------------------------------
 *
 * layout.ts
 *	  The constants of SGI STL 3.3's stl_alloc.h and where every byte of a
 *	  DefaultAlloc pool lives: its control struct, the free-list links inside
 *	  free objects, and (in checking mode only) the chunk records and shadow
 *	  bytes that remember what each object is.
 *
 * The original keeps its pool in static members of __default_alloc_template
 * (_S_free_list[16], _S_start_free, _S_end_free, _S_heap_size and a mutex).
 * Here they are words of a 96-byte control struct malloc'd from the heap when
 * the pool is made, so that the pool is bytes in the arena (DESIGN.md,
 * principle 3) and another worker can share it (DefaultAlloc.attach) through
 * the lock word.
 *
 * Words are 32 bits, read through the heap's Int32Array with `>> 2` indexing.
 *
 *-------------------------------------------------------------------------
 */

/** log2 of {@link ALIGN}. */
export const ALIGN_BITS = 3;
/** Requests are rounded up to a multiple of this. */
export const ALIGN = 1 << ALIGN_BITS; // stl_alloc.h: _ALIGN
export const ALIGN_MASK = ALIGN - 1;
/** Larger requests bypass the pool and go to the first level (malloc). */
export const MAX_BYTES = 128; // stl_alloc.h: _MAX_BYTES
/** One free list per size class 8, 16, ..., 128. */
export const NFREELISTS = MAX_BYTES / ALIGN; // stl_alloc.h: _NFREELISTS = _MAX_BYTES/_ALIGN
/** Objects `_S_refill` asks `_S_chunk_alloc` for when a free list is empty. */
export const NOBJS = 20; // stl_alloc.h: _S_refill, int __nobjs = 20

/**
 * `_S_round_up`: `bytes` rounded up to a multiple of {@link ALIGN}.
 * @param bytes an integer from 0 to the heap's MAX_ALLOC_SIZE (not checked)
 */
export function roundUp(bytes: number): number {
  return (bytes + ALIGN_MASK) & ~ALIGN_MASK;
}

/**
 * `_S_freelist_index`: the free list of objects of `bytes`:
 * 0 for 1..8, 1 for 9..16, ..., 15 for 121..128.
 * @param bytes an integer from 1 to {@link MAX_BYTES} (not checked; 0 gives -1
 *   as the original's size_t arithmetic wraps)
 */
export function freelistIndex(bytes: number): number {
  return ((bytes + ALIGN_MASK) >>> ALIGN_BITS) - 1;
}

// ┌──────────────── pool control struct (96 bytes, heap.malloc'd) ───────────────┐
// │ magic "SGIP" │ lock         │ start_free   │ end_free     │  words 0-3
// │ heap_size    │ flags        │ chunks       │ cur_chunk    │  words 4-7
// │ free_list[0] (8 B) │ free_list[1] (16 B) │ ... │ free_list[15] (128 B) │  words 8-23
// └──────────────────────────────────────────────────────────────────────────────┘
//
// lock:      0 = free, else the token of the thread holding it (threads: true),
//            with the sign bit set when a handle may sleep on the word
// chunks:    checking mode only: the newest chunk record (0 = none)
// cur_chunk: checking mode only: the record of the chunk start_free points into
//
// A free object (union _Obj): its first word is the link to the next free
// object of its list (0 ends it); a handed-out object has no header at all.
//
// ┌──────────── free object ────────────┐      ┌──────── live object ────────┐
// │ next : i32 │ (client data, 0x7F in  │      │ client data                 │
// │            │  checking mode) ...    │      │ ...                         │
// └─────────────────────────────────────┘      └─────────────────────────────┘

/** "SGIP": marks a pool control struct. */
export const POOL_MAGIC_VALUE = 0x53474950;
export const POOL_MAGIC = 0;
/** The lock word `Atomics.compareExchange` works on (`_S_node_allocator_lock`). */
export const POOL_LOCK = 1;
export const POOL_START_FREE = 2; // stl_alloc.h: _S_start_free
export const POOL_END_FREE = 3; // stl_alloc.h: _S_end_free
export const POOL_HEAP_SIZE = 4; // stl_alloc.h: _S_heap_size
export const POOL_FLAGS = 5;
export const POOL_CHUNKS = 6;
export const POOL_CUR_CHUNK = 7;
export const POOL_FREE_LIST = 8; // stl_alloc.h: _S_free_list[_NFREELISTS]
export const POOL_WORDS = POOL_FREE_LIST + NFREELISTS;
/** Bytes of the control struct. */
export const POOL_SIZE = POOL_WORDS * 4;

/** POOL_FLAGS bit: made with `threads: true`. */
export const POOL_FLAG_THREADS = 1;
/** POOL_FLAGS bit: made on a heap in checking mode (chunk records and shadow bytes kept). */
export const POOL_FLAG_CHECKING = 2;

// Checking mode. The original stores nothing per object, so a wrong size or
// a double free in deallocate silently corrupts a free list. In checking mode
// every chunk the pool obtains is followed, in the same heap block, by a
// record and a shadow: one byte per 8-byte granule of the chunk that says
// whether an object starts there, whether it is live or on a free list, and
// its size class. The chunk bytes themselves are laid out exactly as without
// checking, so every figure (heapSize, bytesLeft, list lengths) is the same.
//
// ┌── heap block ──────────────────────────────────────────────────────────┐
// │ chunk: bytes_to_get bytes, carved as usual │ record (16) │ shadow       │
// │                                            │ next │ start │ end │ 0 │ (bytes_to_get / 8) │
// └────────────────────────────────────────────────────────────────────────┘
//
// shadow byte of the granule at `p`:  0              no object starts here
//                                     FREE | class   on free list `class`
//                                     LIVE | class   handed out, class `class`

/** Bytes of a chunk record. */
export const CHUNK_RECORD_SIZE = 16;
export const CHUNK_NEXT = 0;
export const CHUNK_START = 1;
export const CHUNK_END = 2;
/** Shadow byte: an object on a free list starts in this granule. */
export const SHADOW_FREE = 0x40;
/** Shadow byte: a handed-out object starts in this granule. */
export const SHADOW_LIVE = 0x80;
/** Shadow byte: the size class (free list index) of the object. */
export const SHADOW_CLASS_MASK = 0x0f;
