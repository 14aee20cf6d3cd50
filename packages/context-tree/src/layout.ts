/*-------------------------------------------------------------------------
 *
 * layout.ts
 *	  Where the tree lives in the arena: the MemoryContextData header at the
 *	  start of every context, and the slots mcxt.c owns in it.
 *
 * PostgreSQL puts MemoryContextData (memnodes.h, 80 bytes on LP64) at the
 * start of every context struct; the type-specific fields follow it. An
 * AllocSet's header is the first 80 bytes of its AllocSetContext (the same
 * slots @mmgr/aset declares and leaves to us: parent, firstchild,
 * prevchild, nextchild, name, ident, reset_cbs). A context type whose own
 * struct has no such header (an nginx pool: ngx_pool_t must stay at the
 * start of its first block) gets an 80-byte header of its own from the
 * heap, as PostgreSQL's Bump context has its BumpContext in front of its
 * blocks.
 *
 * Every C pointer or Size field keeps its 8-byte slot; the value sits in
 * the low 32-bit word. Slot constants are indexes of 32-bit words: read a
 * field as `i32[(node >> 2) + SLOT]`.
 *
 *-------------------------------------------------------------------------
 */

// ┌──────────────── MemoryContextData (80 bytes) ─ node ────────────────┐
// │ +0  type:i32 (NodeTag: ASET_MAGIC, or MCXT_MAGIC for our headers)    │
// │ +4  isReset:u8 │ +5 allowInCritSection:u8 │ +6 pad:u16                │
// │ +8  mem_allocated (Size; kept by the context type)                   │
// │ +16 methods: the 4-bit method id in place of the C table pointer     │
// │ +24 parent     │ +32 firstchild │ +40 prevchild │ +48 nextchild        │
// │ +56 name: ours holds the handle's serial (names live in JS)          │
// │ +64 ident (0: idents live in JS) │ +72 reset_cbs: callbacks pending  │
// ╞══════════════════════════════════════════════════════════════════════╡
// │ the type's own fields (AllocSetContext ...), or nothing              │
// └──────────────────────────────────────────────────────────────────────┘
// parent/firstchild/prevchild/nextchild hold node offsets (0 = NULL):
// children are a doubly-linked list, newest first, as in mcxt.c.

/** memnodes.h: sizeof(MemoryContextData) on LP64. */
export const SIZEOF_MEMORY_CONTEXT_DATA = 80;
/** Word of `type` (NodeTag). */
export const MCXT_TYPE = 0;
/** Byte offset of `isReset`: no allocation since create or the last reset. */
export const MCXT_IS_RESET_BYTE = 4;
/** Word of `mem_allocated` (kept by the context type, e.g. AllocSet). */
export const MCXT_MEM_ALLOCATED = 2;
/** Word of `methods`: the MemoryContextMethodID. */
export const MCXT_METHODS = 4;
/** Word of `parent`. */
export const MCXT_PARENT = 6;
/** Word of `firstchild`. */
export const MCXT_FIRSTCHILD = 8;
/** Word of `prevchild`. */
export const MCXT_PREVCHILD = 10;
/** Word of `nextchild`. */
export const MCXT_NEXTCHILD = 12;
/**
 * Word of `name`. Names are JS strings, so the slot holds the serial of the
 * context's handle instead: non-zero while the context is in the tree,
 * zeroed when it is deleted, so a stale handle is caught in O(1).
 */
export const MCXT_SERIAL = 14;
/** Word of `ident` (0: idents are JS strings in a side table). */
export const MCXT_IDENT = 16;
/** Word of `reset_cbs`: here the number of reset callbacks pending (they are JS functions). */
export const MCXT_RESET_CBS = 18;
/** Words of MemoryContextData. */
export const MCXT_WORDS = SIZEOF_MEMORY_CONTEXT_DATA >> 2;

/** The NodeTag word of a header that mcxt allocates itself ("MCXT" little-endian). */
export const MCXT_MAGIC = 0x5458434d;

/** memutils_memorychunk.h: MEMORY_CONTEXT_METHODID_BITS (PG 17). */
export const MEMORY_CONTEXT_METHODID_BITS = 4;
/** The low bits of the word before a chunk that hold its method id. */
export const MEMORY_CONTEXT_METHODID_MASK = (1 << MEMORY_CONTEXT_METHODID_BITS) - 1;
/** memutils_internal.h: MCTX_ASET_ID. */
export const MCTX_ASET_ID = 3;
/** memutils_internal.h: MCTX_GENERATION_ID (not ported; reserved). */
export const MCTX_GENERATION_ID = 4;
/** memutils_internal.h: MCTX_SLAB_ID (not ported; reserved). */
export const MCTX_SLAB_ID = 5;
/** memutils_internal.h: MCTX_ALIGNED_REDIRECT_ID (not ported; reserved). */
export const MCTX_ALIGNED_REDIRECT_ID = 6;
/** memutils_internal.h: MCTX_BUMP_ID; the nginx-pool type, headerless like Bump, takes its slot. */
export const MCTX_BUMP_ID = 7;
/** The first method id free for a user's own context type (8..14 are unused in PG 17). */
export const MCTX_FIRST_USER_ID = 8;
/** The last method id free for a user's own context type (15 is reserved: 0x7F wiped memory). */
export const MCTX_LAST_USER_ID = 14;
