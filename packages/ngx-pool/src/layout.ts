/*-------------------------------------------------------------------------
 *
 * layout.ts
 *	  Where every byte of an nginx pool lives: ngx_pool_t at the start of
 *	  the first block, ngx_pool_data_t at the start of every further block,
 *	  and the ngx_pool_large_t links and ngx_pool_cleanup_t records that
 *	  are themselves allocated from the pool.
 *
 * The sizes are nginx's on LP64 (ngx_pool_t 80 bytes, ngx_pool_data_t 32,
 * ngx_pool_large_t 16, ngx_pool_cleanup_t 24; ORIGINALS.md §2.2), so every
 * offset nginx computes (the first allocation at pool + 80, a new block's
 * at block + 32, max = size - 80, NGX_MIN_POOL_SIZE = 112) is ours too.
 * Every C pointer, size_t or ngx_uint_t keeps its 8-byte slot: the value
 * (a heap offset or a size, always below 2^31) sits in the low 32-bit
 * word, the high word is 0 except where noted below.
 *
 * Slot constants are indexes of 32-bit words from the start of the struct:
 * read a field as `i32[(ptr >> 2) + SLOT]`. Every struct starts 8-aligned
 * (blocks 16-aligned, links and cleanup records by palloc's NGX_ALIGNMENT).
 *
 *-------------------------------------------------------------------------
 */

/** ngx_config.h: NGX_ALIGNMENT = sizeof(uintptr_t), the alignment of palloc (not pnalloc). */
export const NGX_ALIGNMENT = 8;
export const NGX_ALIGNMENT_MASK = NGX_ALIGNMENT - 1;
/** ngx_palloc.h: NGX_POOL_ALIGNMENT, the alignment of every pool block. */
export const NGX_POOL_ALIGNMENT = 16;

// ┌──────────── ngx_pool_t (80 bytes) ─ pool = first block, 16-aligned ────────────┐
// │ ngx_pool_data_t d:                                                             │
// │   +0  d.last    next free byte of this block                                   │
// │   +8  d.end     one past the block's last byte                                 │
// │   +16 d.next    next block (0 ends the list)                                   │
// │   +24 d.failed  how often a small request found no room here (ngx_uint_t)      │
// │ +32 max       largest small request: min(size - 80, NGX_MAX_ALLOC_FROM_POOL)   │
// │ +40 current   first block palloc tries                                         │
// │ +48 chain     free ngx_chain_t links (ngx_buf.c; kept 0 here)                   │
// │ +56 large     head of the ngx_pool_large_t list                                │
// │ +64 cleanup   head of the ngx_pool_cleanup_t list; hi = ours: resets so far    │
// │ +72 log       ours: lo = NGX_POOL_MAGIC, hi = serial (no ngx_log_t here)       │
// ╞════════════════════════════════════════════════════════════════════════════════╡
// │ small allocations ... ◄─ d.last                       (free) ... │ ◄─ d.end     │
// └────────────────────────────────────────────────────────────────────────────────┘
//
// ┌──── ngx_pool_data_t (32 bytes) ─ every further block, same size as the first ──┐
// │ +0 last │ +8 end │ +16 next │ +24 failed                                       │
// ╞════════════════════════════════════════════════════════════════════════════════╡
// │ small allocations from block + 32 (block + 80 after a reset, as nginx) ...     │
// └────────────────────────────────────────────────────────────────────────────────┘

/** sizeof(ngx_pool_t) on LP64: the first block's header; its first allocation is at pool + 80. */
export const SIZEOF_NGX_POOL_T = 80;
/** sizeof(ngx_pool_data_t) on LP64: the header of every further block. */
export const SIZEOF_NGX_POOL_DATA_T = 32;

/** Word of `d.last`: where the next small allocation of the block starts. */
export const D_LAST = 0;
/** Word of `d.end`: one past the block's last byte. */
export const D_END = 2;
/** Word of `d.next`: the next block, 0 for the last. */
export const D_NEXT = 4;
/** Word of `d.failed`: small requests that found no room in this block and in the ones after it. */
export const D_FAILED = 6;
/** Word of `max`: requests up to this size are small. */
export const POOL_MAX = 8;
/** Word of `current`: the first block a small request tries. */
export const POOL_CURRENT = 10;
/** Word of `chain` (ngx_alloc_chain_link's free list; always 0 here, cleared by reset). */
export const POOL_CHAIN = 12;
/** Word of `large`: the head of the large list. */
export const POOL_LARGE = 14;
/** Word of `cleanup`: the head of the cleanup list, the newest record first. */
export const POOL_CLEANUP = 16;
/**
 * Word 17 (the high half of `cleanup`, ours): how many times the pool was
 * reset, mod 2^32. Cleanup record handles and the handler side tables of
 * every heap handle (every worker) compare it with the count they saw.
 */
export const POOL_EPOCH = 17;
/** Word of `log`'s low half: {@link NGX_POOL_MAGIC} while the pool lives, 0 once destroyed. */
export const POOL_MAGIC = 18;
/** Word of `log`'s high half: the serial number of this incarnation of the pool. */
export const POOL_SERIAL = 19;
/** Words of ngx_pool_t. */
export const POOL_WORDS = SIZEOF_NGX_POOL_T >> 2;
/** Words of ngx_pool_data_t. */
export const DATA_WORDS = SIZEOF_NGX_POOL_DATA_T >> 2;

/** Ours: the `log` slot's low word of a live pool, "NGXP" in little-endian bytes. */
export const NGX_POOL_MAGIC = 0x5058474e;

// ┌──── ngx_pool_large_t (16 bytes) ─ palloc'ed from the pool, newest first ────┐
// │ +0 next                      │ +8 alloc lo │ +12 ours: requested size        │
// └──────────────────────────────────────────────────────────────────────────────┘
//   alloc: the heap allocation, 0 once pfree'd (the link stays on the list and
//   the next large request may reuse it, if it is among the first 5 links).
//   The high word of alloc (0 in nginx, whose pointers are 64-bit) holds the
//   requested size of the allocation, for memAllocated.

/** sizeof(ngx_pool_large_t) on LP64. */
export const SIZEOF_NGX_POOL_LARGE_T = 16;
/** Word of `next` in the large list. */
export const LARGE_NEXT = 0;
/** Word of `alloc`: the large allocation, 0 when the link is free. */
export const LARGE_ALLOC = 2;
/** Word 3 (the high half of `alloc`): the requested size of the allocation (ours). */
export const LARGE_SIZE = 3;

// ┌──── ngx_pool_cleanup_t (24 bytes) ─ palloc'ed from the pool, newest first ───┐
// │ +0 handler                   │ +8 data                │ +16 next               │
// └───────────────────────────────────────────────────────────────────────────────┘
//   handler: 0 for none, else CLEANUP_HANDLER_JS: the function itself is a JS
//   value, kept in a side table under (heap handle, pool offset, record
//   offset): only the worker that set it can call it.
//   data: 0, or `size` bytes palloc'ed right after the record.

/** sizeof(ngx_pool_cleanup_t) on LP64. */
export const SIZEOF_NGX_POOL_CLEANUP_T = 24;
/** Word of `handler`: 0 (none) or {@link CLEANUP_HANDLER_JS}. */
export const CLEANUP_HANDLER = 0;
/** Word of `data`: the pointer handed to the handler. */
export const CLEANUP_DATA = 2;
/** Word of `next` in the cleanup list. */
export const CLEANUP_NEXT = 4;
/** Ours: the `handler` word of a record whose handler is a JS function in the side table. */
export const CLEANUP_HANDLER_JS = 1;

/** memdebug.h: wipe_mem's byte (CLOBBER_FREED_MEMORY); reset wipes the bytes it releases in checking mode. */
export const WIPE_BYTE = 0x7f;
