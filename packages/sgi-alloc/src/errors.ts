/*-------------------------------------------------------------------------
 *
 * errors.ts
 *	  Formatting of error messages shared by both levels (not exported from
 *	  the package). The error classes themselves are @mmgr/heap's.
 *
 *-------------------------------------------------------------------------
 */

import { HeapCorruptionError, InvalidPointerError, isAllocSize } from "@mmgr/heap";

/** Whether `n` is an integer from `min` to the heap's MAX_ALLOC_SIZE. */
export function isSize(n: unknown, min: number): n is number {
  return isAllocSize(n) && n >= min;
}

/**
 * Rethrows an error of the heap with the name of the call that made it in
 * front, so a message says which allocator the bad pointer was handed to.
 */
export function rethrow(err: unknown, fn: string): never {
  if (err instanceof InvalidPointerError) {
    throw new InvalidPointerError(`${fn}: ${err.message}`, err.ptr);
  }
  if (err instanceof HeapCorruptionError) {
    throw new HeapCorruptionError(`${fn}: ${err.message}`, err.offset);
  }
  throw err;
}
