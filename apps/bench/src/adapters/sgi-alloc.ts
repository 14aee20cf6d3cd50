/*-------------------------------------------------------------------------
 *
 * sgi-alloc.ts
 *	  Adapter for @mmgr/sgi-alloc: the SGI STL pool (`DefaultAlloc`).
 *
 * `allocate(n)` / `deallocate(p, n)` / `reallocate(p, old, new)` on one
 * DefaultAlloc over a fresh heap: up to 128 bytes from the 16 freelists,
 * above that through malloc_alloc (heap.malloc). It has no scopes, so the
 * query and request workloads deallocate every allocation themselves.
 *
 *-------------------------------------------------------------------------
 */

import type { Heap } from "@mmgr/heap";
import { HeapBacked } from "./heap.js";
import {
  type AdapterFactory,
  type AdapterModule,
  type AllocatorOptions,
  importPackage,
} from "./types.js";

/** What the bench uses of a DefaultAlloc. */
interface DefaultAllocLike {
  allocate(n: number): number;
  deallocate(ptr: number, n: number): void;
  reallocate(ptr: number, oldSize: number, newSize: number): number;
}

type DefaultAllocClass = new (heap: Heap) => DefaultAllocLike;

class SgiAllocator extends HeapBacked {
  private readonly alloc_: DefaultAllocLike;

  constructor(cls: DefaultAllocClass, options: AllocatorOptions) {
    super(options);
    this.alloc_ = new cls(this.heap);
  }

  alloc(slot: number, size: number): void {
    const p = this.alloc_.allocate(size);
    this.keep(slot, p, "DefaultAlloc.allocate", size);
  }

  free(slot: number, size: number): void {
    this.alloc_.deallocate(this.ptrs[slot], size);
  }

  realloc(slot: number, oldSize: number, newSize: number): void {
    const p = this.alloc_.reallocate(this.ptrs[slot], oldSize, newSize);
    this.keep(slot, p, "DefaultAlloc.reallocate", newSize);
  }

  discard(count: number, sizes: Int32Array): void {
    for (let i = count - 1; i >= 0; i--) this.alloc_.deallocate(this.ptrs[i], sizes[i]);
  }
}

/** @mmgr/sgi-alloc: the SGI STL two-level allocator's pool. */
export const sgiAdapter: AdapterModule = {
  id: "sgi",
  label: "@mmgr/sgi-alloc",
  note: "`DefaultAlloc` (≤ 128 B from the 16 freelists, larger through malloc_alloc); no scopes, so query/request deallocate each allocation in allocation order; memory = peak of the heap's `used`",
  memory: "tracked",
  load: async (): Promise<AdapterFactory | string> => {
    const mod = await importPackage("@mmgr/sgi-alloc");
    if (typeof mod === "string") return mod;
    const cls = mod.DefaultAlloc as DefaultAllocClass | undefined;
    if (typeof cls !== "function")
      return "skipped: @mmgr/sgi-alloc does not export DefaultAlloc yet";
    return {
      serves: () => true,
      cap: () => undefined,
      create: (options) => new SgiAllocator(cls, options),
    };
  },
};
