/*-------------------------------------------------------------------------
 *
 * simple-alloc.ts
 *	  simple_alloc<T, Alloc>: the typed layer SGI's containers allocate
 *	  through, counting elements instead of bytes.
 *
 * allocate(n) is n ? Alloc::allocate(n * sizeof(T)) : 0 and deallocate(p, n)
 * does nothing for n == 0, so a zero-length request never reaches the pool
 * (whose size classes start at 1 byte).
 *
 *-------------------------------------------------------------------------
 */

import { formatValue, InvalidSizeError, MAX_ALLOC_SIZE, type Ptr } from "@mmgr/heap";
import type { Allocator, SimpleAlloc } from "./api.js";

class SimpleAllocImpl implements SimpleAlloc {
  readonly alloc: Allocator;
  readonly bytesPerElement: number;
  /** The largest element count whose bytes stay within MAX_ALLOC_SIZE. */
  private readonly maxCount: number;

  constructor(alloc: Allocator, bytesPerElement: number) {
    this.alloc = alloc;
    this.bytesPerElement = bytesPerElement;
    this.maxCount = Math.floor(MAX_ALLOC_SIZE / bytesPerElement);
  }

  allocate(count = 1): Ptr {
    if (count !== (count | 0) || count < 0 || count > this.maxCount)
      this.badCount("allocate", count);
    return count === 0 ? 0 : this.alloc.allocate(count * this.bytesPerElement);
  }

  deallocate(ptr: Ptr, count = 1): void {
    if (count !== (count | 0) || count < 0 || count > this.maxCount) {
      this.badCount("deallocate", count);
    }
    if (count !== 0) this.alloc.deallocate(ptr, count * this.bytesPerElement);
  }

  private badCount(fn: string, count: unknown): never {
    throw new InvalidSizeError(
      `simpleAlloc(${this.bytesPerElement}).${fn}(): invalid element count ${formatValue(count)}: not an integer from 0 to ${this.maxCount}`,
      count,
    );
  }
}

/**
 * `simple_alloc<T, Alloc>`: `allocate(count)` / `deallocate(ptr, count)` in
 * elements of `bytesPerElement` bytes (`sizeof(T)`) over any allocator of this
 * package (a {@link DefaultAlloc} or a {@link MallocAlloc}).
 *
 * @example
 * ```ts
 * const doubles = simpleAlloc(pool, 8); // simple_alloc<double, alloc>
 * const p = doubles.allocate(4); // 32 bytes from free list 3
 * heap.f64[(p >> 3) + 3] = 1.5;
 * doubles.deallocate(p, 4);
 * ```
 * @throws InvalidSizeError when `bytesPerElement` is not an integer from 1 to
 *   the heap's MAX_ALLOC_SIZE; the methods throw it for an element count that
 *   is not an integer from 0 up to what fits in MAX_ALLOC_SIZE bytes.
 */
export function simpleAlloc(alloc: Allocator, bytesPerElement: number): SimpleAlloc {
  if (
    bytesPerElement !== (bytesPerElement | 0) ||
    bytesPerElement < 1 ||
    bytesPerElement > MAX_ALLOC_SIZE
  ) {
    throw new InvalidSizeError(
      `simpleAlloc(): bytesPerElement ${formatValue(bytesPerElement)} is not an integer from 1 to ${MAX_ALLOC_SIZE}`,
      bytesPerElement,
    );
  }
  return new SimpleAllocImpl(alloc, bytesPerElement);
}
