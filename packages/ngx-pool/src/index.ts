/**
 * `@mmgr/ngx-pool`: nginx's memory pool (src/core/ngx_palloc.c) on an
 * `@mmgr/heap` arena: bump allocation from equal-sized blocks, a large list
 * for bigger requests, cleanup handlers, reset and destroy, with nginx's
 * LP64 struct layout in the arena.
 *
 * @packageDocumentation
 */

export type { NgxPoolCleanupHandler, NgxPoolStats } from "./api.js";
export {
  CLEANUP_DATA,
  CLEANUP_HANDLER,
  CLEANUP_HANDLER_JS,
  CLEANUP_NEXT,
  D_END,
  D_FAILED,
  D_LAST,
  D_NEXT,
  LARGE_ALLOC,
  LARGE_NEXT,
  LARGE_SIZE,
  NGX_ALIGNMENT,
  NGX_POOL_ALIGNMENT,
  NGX_POOL_MAGIC,
  POOL_CHAIN,
  POOL_CLEANUP,
  POOL_CURRENT,
  POOL_EPOCH,
  POOL_LARGE,
  POOL_MAGIC,
  POOL_MAX,
  POOL_SERIAL,
  SIZEOF_NGX_POOL_CLEANUP_T,
  SIZEOF_NGX_POOL_DATA_T,
  SIZEOF_NGX_POOL_LARGE_T,
  SIZEOF_NGX_POOL_T,
  WIPE_BYTE,
} from "./layout.js";
export {
  NGX_DECLINED,
  NGX_DEFAULT_POOL_SIZE,
  NGX_MAX_ALLOC_FROM_POOL,
  NGX_MIN_POOL_SIZE,
  NGX_OK,
  NGX_PAGESIZE,
  NGX_POOL_FAILED_LIMIT,
  NGX_POOL_LARGE_SCAN,
  NgxPool,
  NgxPoolCleanup,
} from "./ngx-pool.js";
