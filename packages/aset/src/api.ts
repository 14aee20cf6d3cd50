/*-------------------------------------------------------------------------
 *
 * api.ts
 *	  The public types of @mmgr/aset: block sizing and the counters.
 *
 *-------------------------------------------------------------------------
 */

/**
 * How an AllocSet sizes its blocks: the three size arguments of
 * PostgreSQL's `AllocSetContextCreate`. All in bytes.
 */
export interface AllocSetSizes {
  /**
   * Size of the first block (context header and keeper block together);
   * 0 means "use `initBlockSize`". Else a multiple of 8, at least 1024 and at
   * most `maxBlockSize`.
   */
  readonly minContextSize: number;
  /** Size of the first block after the keeper; a multiple of 8, at least 1024. */
  readonly initBlockSize: number;
  /**
   * Blocks double from `initBlockSize` up to this size; a multiple of 8, at
   * least `initBlockSize`, at most MEMORYCHUNK_MAX_BLOCKOFFSET (0x3FFFFFFF).
   */
  readonly maxBlockSize: number;
}

/**
 * What {@link AllocSet.stats} reports: PostgreSQL's MemoryContextCounters,
 * filled as AllocSetStats does. All sizes in bytes.
 */
export interface AllocSetCounters {
  /** Blocks held, the keeper and dedicated blocks included. */
  nblocks: number;
  /** Chunks on the freelists. */
  freechunks: number;
  /** The context header plus every block's size. */
  totalspace: number;
  /** Unused tail space of every block plus the freelist chunks with their headers. */
  freespace: number;
}

/** One block of an AllocSet, as {@link AllocSet.blocks} lists it. */
export interface AllocSetBlockInfo {
  /** Offset of the block header (AllocBlockData). */
  block: number;
  /** Offset of the heap allocation holding it: the context for the keeper, else `block`. */
  heapPtr: number;
  /** Bytes of the heap allocation, `endptr - heapPtr`: the sizes of all blocks sum to memAllocated. */
  size: number;
  /** Bytes carved into chunks so far (`freeptr - block - ALLOC_BLOCKHDRSZ`). */
  used: number;
  /** Whether this is the keeper block, which lives in the context's first heap block. */
  keeper: boolean;
  /** Whether it is a dedicated block holding one chunk above allocChunkLimit. */
  dedicated: boolean;
}
