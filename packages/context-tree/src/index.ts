/**
 * `@mmgr/context-tree`: PostgreSQL's memory-context tree (mcxt.c, palloc.h)
 * on an `@mmgr/heap` arena: TopMemoryContext, ErrorContext and
 * CurrentMemoryContext, palloc/pfree/repalloc that find a chunk's context
 * from the chunk, reset and delete of whole subtrees with reset callbacks,
 * MemoryContextStats in PostgreSQL's format, AllocSet contexts and nginx-pool
 * contexts, and an open method table for context types of your own.
 *
 * @packageDocumentation
 */

export {
  ALLOCSET_DEFAULT_SIZES,
  ALLOCSET_SMALL_SIZES,
  ALLOCSET_START_SMALL_SIZES,
  type AllocSet,
  type AllocSetSizes,
} from "@mmgr/aset";
export { NGX_DEFAULT_POOL_SIZE, type NgxPool } from "@mmgr/ngx-pool";
export type {
  MemoryContextCallback,
  MemoryContextCounters,
  MemoryContextMethods,
  MemoryContextStatsRow,
} from "./api.js";
export { AllocSetContextCreate, AllocSetMethods } from "./aset-context.js";
export { MemoryContext, MemoryContextCreate } from "./context.js";
export {
  MCTX_ASET_ID,
  MCTX_BUMP_ID,
  MCTX_FIRST_USER_ID,
  MCTX_LAST_USER_ID,
  MCXT_MAGIC,
  MEMORY_CONTEXT_METHODID_BITS,
  MEMORY_CONTEXT_METHODID_MASK,
  SIZEOF_MEMORY_CONTEXT_DATA,
} from "./layout.js";
export {
  AllocHugeSizeIsValid,
  AllocSizeIsValid,
  CurrentMemoryContext,
  ErrorContext,
  GetMemoryChunkContext,
  GetMemoryChunkSpace,
  MaxAllocHugeSize,
  MaxAllocSize,
  MCXT_ALLOC_HUGE,
  MCXT_ALLOC_NO_OOM,
  MCXT_ALLOC_ZERO,
  MEMORY_CONTEXT_IDENT_DISPLAY_SIZE,
  MEMORY_CONTEXT_STATS_IDENT_BYTES,
  MEMORY_CONTEXT_STATS_MAX_CHILDREN,
  MEMORY_CONTEXT_STATS_MAX_LEVEL,
  MemoryContextAlloc,
  MemoryContextAllocExtended,
  MemoryContextAllocHuge,
  MemoryContextAllocZero,
  MemoryContextCheck,
  MemoryContextDelete,
  MemoryContextDeleteChildren,
  MemoryContextGetParent,
  MemoryContextInit,
  MemoryContextIsEmpty,
  MemoryContextIsValid,
  MemoryContextMemAllocated,
  MemoryContextMemConsumed,
  MemoryContextRegisterResetCallback,
  MemoryContextReset,
  MemoryContextResetChildren,
  MemoryContextResetOnly,
  MemoryContextSetIdentifier,
  MemoryContextSetParent,
  MemoryContextStats,
  MemoryContextStatsDetail,
  MemoryContextStrdup,
  MemoryContextSwitchTo,
  MemoryContextTeardown,
  palloc,
  palloc_extended,
  palloc0,
  pfree,
  pg_backend_memory_contexts,
  pstrdup,
  repalloc,
  repalloc_extended,
  repalloc_huge,
  repalloc0,
  TopMemoryContext,
  withMemoryContext,
} from "./mcxt.js";
export { NgxPoolContextCreate, NgxPoolMethods } from "./ngx-context.js";
