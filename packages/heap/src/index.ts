/**
 * `@mmgr/heap`: a byte arena on an `ArrayBuffer` and its O(1) general-purpose
 * allocator (TLSF). The malloc(3) under every other `@mmgr` allocator.
 *
 * @packageDocumentation
 */

export {
  type HeapOptions,
  type HeapStats,
  type MemoryHeapOptions,
  type MemoryLike,
  NULL,
  type Ptr,
} from "./api.js";
export {
  formatValue,
  HeapCorruptionError,
  InvalidAlignmentError,
  InvalidPointerError,
  InvalidSizeError,
  InvalidStateError,
  isAlignment,
  isAllocSize,
  MmgrError,
  NotSupportedError,
  OutOfMemoryError,
} from "./errors.js";
export { CAN_WAIT, Heap } from "./heap.js";
export {
  ALIGN,
  BLOCK_HDR_SIZE,
  CACHE_BIN_BYTES,
  CACHE_BUDGET_MIN,
  CACHE_MAX_BLOCK,
  CONTROL_SIZE,
  END_SIZE,
  FIRST_BLOCK,
  FL_COUNT,
  HEAP_MAX_SIZE,
  HEAP_MIN_SIZE,
  MAX_ALIGNMENT,
  MAX_ALLOC_SIZE,
  MIN_BLOCK_SIZE,
  SENTINEL_BYTE,
  SL_COUNT,
  TRAILER_SIZE,
  WIPE_BYTE,
} from "./layout.js";
