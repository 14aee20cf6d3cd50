/*-------------------------------------------------------------------------
 *
 * aset.ts
 *	  Adapter for @mmgr/aset: PostgreSQL's AllocSet on a fresh heap.
 *
 * Scoped workloads open one AllocSet per scope (the per-query and the
 * per-tuple context, or one per request) with ALLOCSET_DEFAULT_SIZES,
 * reset it with `reset()` and close it with `delete()` (which keeps it on
 * the heap's context freelist, as aset.c does). Unscoped workloads use one
 * set and `alloc`/`free`/`realloc`.
 *
 *-------------------------------------------------------------------------
 */

import type { Heap } from "@mmgr/heap";
import { HeapBacked } from "./heap.js";
import {
  type AdapterFactory,
  type AdapterModule,
  type AllocatorOptions,
  cleanupHandler,
  importPackage,
  type ScopeKind,
} from "./types.js";

/** What the bench uses of an AllocSet handle. */
interface AllocSetLike {
  alloc(size: number): number;
  free(ptr: number): void;
  realloc(ptr: number, size: number): number;
  reset(): void;
  delete(): void;
}

/** What the bench uses of the AllocSet class. */
interface AllocSetClass {
  create(heap: Heap, name: string, sizes: unknown): AllocSetLike;
}

/** Scopes the workloads use at most (query + tuple). */
const MAX_SCOPES = 4;
const SCOPE_NAMES: Record<ScopeKind, string> = {
  query: "ExecutorState",
  tuple: "ExprContext",
  request: "RequestContext",
};

class AsetAllocator extends HeapBacked {
  override readonly scoped = true;
  private readonly main: AllocSetLike;
  private readonly scopes: (AllocSetLike | null)[] = new Array(MAX_SCOPES).fill(null);
  /** AllocSet has no cleanup list (that is mcxt.c's reset callbacks): run them at reset/close. */
  private readonly cleanups = new Int32Array(MAX_SCOPES);

  constructor(
    private readonly cls: AllocSetClass,
    private readonly sizes: unknown,
    options: AllocatorOptions,
  ) {
    super(options);
    this.main = cls.create(this.heap, "bench", sizes);
  }

  alloc(slot: number, size: number): void {
    const p = this.main.alloc(size);
    this.keep(slot, p, "AllocSet.alloc", size);
  }

  free(slot: number, _size: number): void {
    this.main.free(this.ptrs[slot]);
  }

  realloc(slot: number, _oldSize: number, newSize: number): void {
    const p = this.main.realloc(this.ptrs[slot], newSize);
    this.keep(slot, p, "AllocSet.realloc", newSize);
  }

  override scopeOpen(scope: number, kind: ScopeKind): void {
    this.scopes[scope] = this.cls.create(this.heap, SCOPE_NAMES[kind], this.sizes);
    this.track();
  }

  override scopeAlloc(scope: number, slot: number, size: number): void {
    const p = (this.scopes[scope] as AllocSetLike).alloc(size);
    this.keep(slot, p, "AllocSet.alloc", size);
  }

  override scopeCleanup(scope: number): void {
    this.cleanups[scope]++;
  }

  override scopeReset(scope: number): void {
    this.runCleanups(scope);
    (this.scopes[scope] as AllocSetLike).reset();
  }

  override scopeClose(scope: number): void {
    this.runCleanups(scope);
    (this.scopes[scope] as AllocSetLike).delete();
    this.scopes[scope] = null;
  }

  private runCleanups(scope: number): void {
    for (let n = this.cleanups[scope]; n > 0; n--) cleanupHandler();
    this.cleanups[scope] = 0;
  }

  discard(_count: number, _sizes: Int32Array): void {
    this.main.reset();
  }
}

/** @mmgr/aset: PostgreSQL's AllocSet. */
export const asetAdapter: AdapterModule = {
  id: "aset",
  label: "@mmgr/aset",
  note: "AllocSet with ALLOCSET_DEFAULT_SIZES; query/request: one set per context (`reset()` per row, `delete()` at the end), cleanups run by the bench at reset/delete; memory = peak of the heap's `used`",
  memory: "tracked",
  load: async (): Promise<AdapterFactory | string> => {
    const mod = await importPackage("@mmgr/aset");
    if (typeof mod === "string") return mod;
    const cls = mod.AllocSet as AllocSetClass | undefined;
    const sizes = mod.ALLOCSET_DEFAULT_SIZES;
    if (typeof cls?.create !== "function" || sizes === undefined) {
      return "skipped: @mmgr/aset does not export AllocSet.create and ALLOCSET_DEFAULT_SIZES yet";
    }
    return {
      serves: () => true,
      cap: () => undefined,
      create: (options) => new AsetAllocator(cls, sizes, options),
    };
  },
};
