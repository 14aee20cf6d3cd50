/*-------------------------------------------------------------------------
 *
 * layout.ts
 *	  Where every byte of an AllocSet lives: the context header at the start
 *	  of its first heap block, the keeper block right after it, the header
 *	  of every other block, and the chunk header in front of every pointer.
 *
 * The sizes are PostgreSQL 17's on LP64 (AllocSetContext 200 bytes,
 * AllocBlockData 40, MemoryChunk 8, or 16 with MEMORY_CONTEXT_CHECKING), so
 * the addresses and counters PostgreSQL prints are the ones we compute.
 * Every C pointer or Size field keeps its 8-byte slot: the offset (or size)
 * sits in the low 32-bit word, the high word is 0. Heap offsets and sizes
 * stay below 2^31, so one Int32Array word holds each of them.
 *
 * Slot constants are indexes of 32-bit words from the start of the struct:
 * read a field as `i32[(ptr >> 2) + SLOT]`.
 *
 *-------------------------------------------------------------------------
 */

/** MAXALIGN: every block, chunk and pointer is 8-aligned (MAXIMUM_ALIGNOF on LP64). */
export const MAXALIGN_BITS = 3;
/** 8 bytes. */
export const MAXALIGN = 1 << MAXALIGN_BITS;
/** `(n + MAXALIGN_MASK) & ~MAXALIGN_MASK` rounds n up to MAXALIGN. */
export const MAXALIGN_MASK = MAXALIGN - 1;

// ┌─────────────── AllocSetContext (200 bytes) ─ ctx = first heap block ───────────────┐
// │ MemoryContextData header (80 bytes, memnodes.h):                                    │
// │   +0  type:i32 = ASET_MAGIC  │ +4 isReset:u8 │ +5 allowInCritSection:u8 │ pad:u16    │
// │   +8  mem_allocated (Size)                                                          │
// │   +16 methods: MCTX_ASET_ID  │ +24 parent │ +32 firstchild │ +40 prevchild          │
// │   +48 nextchild (context freelist link) │ +56 name │ +64 ident │ +72 reset_cbs       │
// │ AllocSetContext fields (aset.c):                                                    │
// │   +80 blocks: head of the block list (the active block)                             │
// │   +88 freelist[11]: chunk headers, 8-byte slots, sizes 8 << k                       │
// │   +176 initBlockSize:u32 │ +180 maxBlockSize:u32 │ +184 nextBlockSize:u32           │
// │   +188 allocChunkLimit:u32 │ +192 freeListIndex:i32 │ +196 serial:u32 (C's padding) │
// ╞════════════════════ keeper block: AllocBlockData at ctx + 200 ══════════════════════╡
// │ chunks ...                                                                          │
// └─────────────────────────────────────────────────────────── endptr = ctx + firstBlockSize
//
// parent, firstchild, prevchild, name, ident and reset_cbs are kept for
// mcxt.c (@mmgr/context-tree), which owns them; AllocSet zeroes them at
// create and never reads them. name and ident are JS strings kept in a side
// table, so their slots stay 0. serial is not in PostgreSQL: it sits in the
// struct's 4 bytes of tail padding and changes with every create, so a handle
// on a deleted (or deleted and recycled) set is caught in O(1).

/** Bytes of AllocSetContext, MAXALIGNed: MAXALIGN(sizeof(AllocSetContext)) on PG 17. */
export const SIZEOF_ASET_CONTEXT = 200;
/** Bytes of MemoryContextData, the generic header every context type starts with. */
export const SIZEOF_CONTEXT_HEADER = 80;

/** Word 0: the NodeTag; ours is a magic that marks a live or cached AllocSet ("ASET", odd). */
export const CTX_TYPE = 0;
/** Byte offset of `isReset` (bool): no allocation since create or the last reset. */
export const CTX_IS_RESET_BYTE = 4;
/** Byte offset of `allowInCritSection` (bool), for mcxt.c. */
export const CTX_ALLOW_IN_CRIT_SECTION_BYTE = 5;
/** Word of `mem_allocated`: bytes of all blocks held, the keeper counted with the header. */
export const CTX_MEM_ALLOCATED = 2;
/** Word of `methods`: the method id (MCTX_ASET_ID) in place of the C method-table pointer. */
export const CTX_METHODS = 4;
/** Word of `parent` (mcxt.c). */
export const CTX_PARENT = 6;
/** Word of `firstchild` (mcxt.c). */
export const CTX_FIRSTCHILD = 8;
/** Word of `prevchild` (mcxt.c). */
export const CTX_PREVCHILD = 10;
/** Word of `nextchild` (mcxt.c); links a deleted set on its context freelist. */
export const CTX_NEXTCHILD = 12;
/** Word of `name` (0: names live in a JS side table). */
export const CTX_NAME = 14;
/** Word of `ident` (0: idents live in a JS side table). */
export const CTX_IDENT = 16;
/** Word of `reset_cbs` (mcxt.c). */
export const CTX_RESET_CBS = 18;
/** Word of `blocks`: the head of the block list, the block chunks are carved from. */
export const CTX_BLOCKS = 20;
/** Word of `freelist[0]`; `freelist[k]` is word `CTX_FREELIST + 2 * k`. */
export const CTX_FREELIST = 22;
/** Word of `initBlockSize`. */
export const CTX_INIT_BLOCK_SIZE = 44;
/** Word of `maxBlockSize`. */
export const CTX_MAX_BLOCK_SIZE = 45;
/** Word of `nextBlockSize`: the size of the next (non-dedicated) block. */
export const CTX_NEXT_BLOCK_SIZE = 46;
/** Word of `allocChunkLimit`: larger requests get a dedicated block. */
export const CTX_ALLOC_CHUNK_LIMIT = 47;
/** Word of `freeListIndex`: the context freelist a deleted set goes to, or -1. */
export const CTX_FREELIST_INDEX = 48;
/** Word 49 (padding in C): the serial number of the current incarnation, 0 once deleted. */
export const CTX_SERIAL = 49;
/** Words of the context header. */
export const CTX_WORDS = SIZEOF_ASET_CONTEXT >> 2;

/** The `type` word of an AllocSet: "ASET" in little-endian bytes. Odd, so never a heap offset. */
export const ASET_MAGIC = 0x54455341;

// ┌──────────────── AllocBlockData (40 bytes) ─ block ────────────────┐
// │ +0 aset  │ +8 prev │ +16 next │ +24 freeptr │ +32 endptr         │
// ╞═══════════════════════════════════════════════════════════════════╡
// │ chunk │ chunk │ ... │ (free: freeptr .. endptr)                    │
// └───────────────────────────────────────────────────────────────────┘ ◄─ endptr
// A dedicated block (a request above allocChunkLimit) holds one external
// chunk and has freeptr == endptr. Every other block except the keeper is a
// heap block of its own; the keeper lives inside the context's heap block.

/** Bytes of AllocBlockData: ALLOC_BLOCKHDRSZ. */
export const ALLOC_BLOCKHDRSZ = 40;
/** Word of `aset`: the owning context; 0 once the block is given back to the heap. */
export const BLK_ASET = 0;
/** Word of `prev` in the block list. */
export const BLK_PREV = 2;
/** Word of `next` in the block list. */
export const BLK_NEXT = 4;
/** Word of `freeptr`: where the next chunk is carved. */
export const BLK_FREEPTR = 6;
/** Word of `endptr`: one past the block's last byte. */
export const BLK_ENDPTR = 8;

// ┌──────────── MemoryChunk (8 bytes; 16 in checking mode) ────────────┐
// │ requested_size (Size; checking mode only, SIZE_MAX when free)       │ ◄─ ptr - 16
// │ hdrmask lo:u32                   │ hdrmask hi:u32                   │ ◄─ ptr - 8
// ╞══════════════════════════════════╧══════════════════════════════════╡
// │ payload: 8 << fidx bytes (free: next-free link in the first 8)      │ ◄─ ptr
// └─────────────────────────────────────────────────────────────────────┘
// hdrmask, PG 17 bit layout (memutils_memorychunk.h), as two 32-bit words:
//   bits 0-3 method id (3 = AllocSet) | bit 4 external | bits 5-34 value
//   (the freelist index) | bits 34-63 block offset (chunk header - block).
//   lo = MCTX_ASET_ID | fidx << 5,  hi = offset << 2.
//   External (dedicated-block) chunk: MEMORYCHUNK_MAGIC | 1 << 4 | 3,
//   lo = 0x8EB6EFB3, hi = 0xB1A8DB85; its block is chunk - 40.
//   Ours only: bit 31 of lo (value bit 26, never used by AllocSet, whose
//   values are 0..10) marks a chunk that is on a freelist; a freed dedicated
//   chunk gets hi = ~CHUNK_EXTERNAL_HI. So a double free is caught without
//   checking mode.

/** Bytes of MemoryChunk without checking: ALLOC_CHUNKHDRSZ. */
export const ALLOC_CHUNKHDRSZ = 8;
/** Bytes of MemoryChunk with MEMORY_CONTEXT_CHECKING (requested_size in front). */
export const ALLOC_CHUNKHDRSZ_CHECKING = 16;
/** memutils_internal.h: MCTX_ASET_ID, the method id of AllocSet chunks. */
export const MCTX_ASET_ID = 3;
/** memutils_memorychunk.h: MEMORY_CONTEXT_METHODID_BITS (PG 17). */
export const MEMORY_CONTEXT_METHODID_BITS = 4;
/** The method id of any chunk is `heap.i32[(ptr >> 2) - 2] & MEMORY_CONTEXT_METHODID_MASK`. */
export const MEMORY_CONTEXT_METHODID_MASK = (1 << MEMORY_CONTEXT_METHODID_BITS) - 1;
/** memutils_memorychunk.h: MEMORYCHUNK_EXTERNAL_BASEBIT. */
export const MEMORYCHUNK_EXTERNAL_BASEBIT = MEMORY_CONTEXT_METHODID_BITS;
/** memutils_memorychunk.h: MEMORYCHUNK_VALUE_BASEBIT. */
export const MEMORYCHUNK_VALUE_BASEBIT = MEMORYCHUNK_EXTERNAL_BASEBIT + 1;
/** memutils_memorychunk.h: MEMORYCHUNK_BLOCKOFFSET_BASEBIT (34), so bit 2 of the high word. */
export const MEMORYCHUNK_BLOCKOFFSET_BASEBIT = 34;
/** memutils_memorychunk.h: MEMORYCHUNK_MAX_BLOCKOFFSET. */
export const MEMORYCHUNK_MAX_BLOCKOFFSET = 0x3fffffff;
/** memutils_memorychunk.h: MEMORYCHUNK_BLOCKOFFSET_MASK (bit 34 is shared with the value). */
export const MEMORYCHUNK_BLOCKOFFSET_MASK = 0x3ffffffe;
/** Low word of an external AllocSet chunk's hdrmask: MEMORYCHUNK_MAGIC | external | MCTX_ASET_ID. */
export const CHUNK_EXTERNAL_LO = 0x8eb6efb3 | 0;
/** High word of an external chunk's hdrmask: the top half of MEMORYCHUNK_MAGIC (0xB1A8DB858EB6EFBA). */
export const CHUNK_EXTERNAL_HI = 0xb1a8db85 | 0;
/** Ours: the high word of a freed dedicated chunk's header (not in PostgreSQL). */
export const CHUNK_EXTERNAL_FREED_HI = ~CHUNK_EXTERNAL_HI;
/** Ours: bit 31 of the low word set while a freelist chunk is free (not in PostgreSQL). */
export const CHUNK_FREE_BIT = 0x80000000 | 0;
/** Word of hdrmask's low half, counted back from the pointer: `i32[(ptr >> 2) - 2]`. */
export const CHUNK_HDR_LO = -2;
/** Word of hdrmask's high half: `i32[(ptr >> 2) - 1]`. */
export const CHUNK_HDR_HI = -1;
/** Word of requested_size (checking mode): `i32[(ptr >> 2) - 4]`; its high word is -3. */
export const CHUNK_REQUESTED_SIZE = -4;
/** memutils.h: InvalidAllocSize (SIZE_MAX), as both 32-bit words of requested_size. */
export const INVALID_ALLOC_SIZE_WORD = -1;

/** memdebug.c: set_sentinel's byte, written after the requested size in checking mode. */
export const SENTINEL_BYTE = 0x7e;
/** memdebug.h: wipe_mem's byte (CLOBBER_FREED_MEMORY). */
export const WIPE_BYTE = 0x7f;
