/**
 * `@mmgr/sgi-alloc`: the SGI STL 3.3 two-level allocator (`stl_alloc.h`) on an
 * `@mmgr/heap` arena. {@link MallocAlloc} is the first level
 * (`__malloc_alloc_template`: malloc/free/realloc with an out-of-memory
 * handler loop), {@link DefaultAlloc} the second (`__default_alloc_template`:
 * 16 free lists of 8..128-byte objects carved from chunks that are never
 * given back), {@link simpleAlloc} the typed layer (`simple_alloc<T, Alloc>`).
 *
 * @packageDocumentation
 */

export type {
  Allocator,
  DefaultAllocOptions,
  MallocHandler,
  PoolStats,
  SimpleAlloc,
} from "./api.js";
export { DefaultAlloc } from "./default-alloc.js";
export {
  ALIGN,
  CHUNK_RECORD_SIZE,
  freelistIndex,
  MAX_BYTES,
  NFREELISTS,
  NOBJS,
  POOL_SIZE,
  roundUp,
} from "./layout.js";
export { MallocAlloc } from "./malloc-alloc.js";
export { simpleAlloc } from "./simple-alloc.js";
