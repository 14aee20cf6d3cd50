/*-------------------------------------------------------------------------
 *
 * malloc-alloc.ts
 *	  The first level of SGI STL 3.3's allocator: __malloc_alloc_template,
 *	  malloc/free/realloc of the heap with an out-of-memory handler loop.
 *
 * allocate and reallocate call the heap's malloc and realloc; when the heap
 * gives 0 they enter _S_oom_malloc / _S_oom_realloc: with no handler set,
 * throw bad_alloc (here OutOfMemoryError); else call the handler and retry,
 * for as long as it takes. The handler is expected to free memory, install
 * another handler, or throw, as std::set_new_handler's contract says.
 *
 * The original keeps its handler in a static member, one per template
 * instance; here each MallocAlloc has its own, held in a JS field because a
 * callback cannot be bytes. It has no other state.
 *
 *-------------------------------------------------------------------------
 */

import {
  formatValue,
  type Heap,
  InvalidSizeError,
  MAX_ALLOC_SIZE,
  MmgrError,
  OutOfMemoryError,
  type Ptr,
} from "@mmgr/heap";
import type { Allocator, MallocHandler } from "./api.js";
import { isSize, rethrow } from "./errors.js";

/**
 * `__malloc_alloc_template` (typedef `malloc_alloc`): the heap's malloc,
 * free and realloc, plus the malloc handler loop that ends in bad_alloc.
 *
 * @example
 * ```ts
 * const first = new MallocAlloc(heap);
 * first.setMallocHandler(() => releaseSomeCache());
 * const p = first.allocate(1000); // retries after the handler; throws when none is left
 * first.deallocate(p, 1000);
 * ```
 */
export class MallocAlloc implements Allocator {
  /** The heap every block comes from. */
  readonly heap: Heap;
  /** `__malloc_alloc_oom_handler`: a callback, so it lives in JS, not in the arena. */
  private handler: MallocHandler | null = null;

  /** A first level on `heap`. It allocates nothing until asked. */
  constructor(heap: Heap) {
    this.heap = heap;
  }

  /**
   * `allocate(n)`: `malloc(n)`, and on failure `_S_oom_malloc`: call the
   * handler and retry until malloc succeeds. `allocate(0)` is `malloc(0)`.
   * @throws InvalidSizeError when `n` is not an integer from 0 to the heap's MAX_ALLOC_SIZE.
   * @throws OutOfMemoryError (bad_alloc) when the heap cannot give `n` bytes and no handler is set.
   */
  allocate(n: number): Ptr {
    if (!isSize(n, 0)) this.badSize("allocate", n);
    const result = this.heap.malloc(n);
    return result !== 0 ? result : this.oomMalloc(n);
  }

  /**
   * `deallocate(p, n)`: `free(p)`; `n` is checked but otherwise ignored, as in
   * the original. `deallocate(0, n)` does nothing, as `free(NULL)`.
   * @throws InvalidSizeError when `n` is not an integer from 0 to the heap's MAX_ALLOC_SIZE.
   * @throws InvalidPointerError when `ptr` is not a live allocation of the heap.
   */
  deallocate(ptr: Ptr, n: number): void {
    if (!isSize(n, 0)) this.badSize("deallocate", n);
    try {
      this.heap.free(ptr);
    } catch (err) {
      rethrow(err, "MallocAlloc.deallocate()");
    }
  }

  /**
   * `reallocate(p, oldSize, newSize)`: `realloc(p, newSize)`, and on failure
   * `_S_oom_realloc`: call the handler and retry. The contents up to the
   * smaller size are kept; on failure `ptr` is left intact. `oldSize` is
   * checked but otherwise ignored, as in the original.
   * @throws InvalidSizeError when a size is not an integer from 0 to the heap's MAX_ALLOC_SIZE.
   * @throws InvalidPointerError when `ptr` is neither 0 nor a live allocation of the heap.
   * @throws OutOfMemoryError (bad_alloc) when the heap cannot give the memory and no handler is set.
   */
  reallocate(ptr: Ptr, oldSize: number, newSize: number): Ptr {
    if (!isSize(oldSize, 0)) this.badSize("reallocate", oldSize);
    if (!isSize(newSize, 0)) this.badSize("reallocate", newSize);
    let result: Ptr;
    try {
      result = this.heap.realloc(ptr, newSize);
    } catch (err) {
      rethrow(err, "MallocAlloc.reallocate()");
    }
    return result !== 0 ? result : this.oomRealloc(ptr, newSize);
  }

  /**
   * `__set_malloc_handler(f)`: installs the out-of-memory handler (`null`
   * removes it) and returns the previous one.
   * @throws MmgrError when `handler` is neither a function nor null.
   */
  setMallocHandler(handler: MallocHandler | null): MallocHandler | null {
    if (handler !== null && typeof handler !== "function") {
      throw new MmgrError(
        `MallocAlloc.setMallocHandler(): handler ${formatValue(handler)} is neither a function nor null`,
      );
    }
    const old = this.handler;
    this.handler = handler;
    return old;
  }

  /** `_S_oom_malloc`: handler, retry, for ever; bad_alloc when there is no handler. */
  private oomMalloc(n: number): Ptr {
    for (;;) {
      const handler = this.handler;
      if (handler === null) {
        throw new OutOfMemoryError(
          `MallocAlloc.allocate(): out of memory (bad_alloc): the heap cannot give ${n} bytes and no malloc handler is set`,
          n,
        );
      }
      handler();
      const result = this.heap.malloc(n);
      if (result !== 0) return result;
    }
  }

  /** `_S_oom_realloc`: as oomMalloc, retrying realloc. */
  private oomRealloc(ptr: Ptr, n: number): Ptr {
    for (;;) {
      const handler = this.handler;
      if (handler === null) {
        throw new OutOfMemoryError(
          `MallocAlloc.reallocate(): out of memory (bad_alloc): the heap cannot resize pointer ${ptr} to ${n} bytes and no malloc handler is set`,
          n,
        );
      }
      handler();
      let result: Ptr;
      try {
        result = this.heap.realloc(ptr, n);
      } catch (err) {
        rethrow(err, "MallocAlloc.reallocate()"); // the handler freed ptr
      }
      if (result !== 0) return result;
    }
  }

  private badSize(fn: string, n: unknown): never {
    throw new InvalidSizeError(
      `MallocAlloc.${fn}(): invalid size ${formatValue(n)}: not an integer from 0 to ${MAX_ALLOC_SIZE}`,
      n,
    );
  }
}
