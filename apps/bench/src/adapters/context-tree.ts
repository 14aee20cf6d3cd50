/*-------------------------------------------------------------------------
 *
 * context-tree.ts
 *	  Adapter for @mmgr/context-tree (issue 6): PostgreSQL's palloc/pfree
 *	  through CurrentMemoryContext, AllocSet contexts in a tree.
 *
 * Each cell initializes a tree on a fresh heap (MemoryContextInit), makes
 * an AllocSet context "bench" under TopMemoryContext current, and uses
 * `palloc`/`pfree`/`repalloc`. Scoped workloads create AllocSet contexts
 * as PostgreSQL's executor does: the per-query context under
 * TopMemoryContext, the per-tuple one under it, a request context under
 * TopMemoryContext; `MemoryContextSwitchTo` before allocating in another
 * context than the current one, `MemoryContextRegisterResetCallback` for
 * the cleanup, `MemoryContextReset` per row, `MemoryContextDelete` at the
 * end.
 *
 * The package is not a dependency of apps/bench yet: until
 * `"@mmgr/context-tree": "workspace:^"` is added to this app's
 * package.json and the workspace installed (a lockfile change), the import
 * fails and the column says so. Nothing else needs to change then.
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

/** A MemoryContext handle: opaque to the bench. */
type Ctx = object;

/** What the bench uses of the package (mcxt.c's API). */
interface Mcxt {
  MemoryContextInit(heap: Heap): Heap;
  MemoryContextTeardown(): void;
  AllocSetContextCreate(parent: Ctx | null, name: string, sizes: unknown): Ctx;
  MemoryContextSwitchTo(ctx: Ctx): Ctx;
  palloc(size: number): number;
  pfree(ptr: number): void;
  repalloc(ptr: number, size: number): number;
  MemoryContextReset(ctx: Ctx): void;
  MemoryContextDelete(ctx: Ctx): void;
  MemoryContextRegisterResetCallback(
    ctx: Ctx,
    cb: { func: (arg: unknown) => void; arg: unknown },
  ): void;
  /** A live binding: set by MemoryContextInit. */
  readonly TopMemoryContext: Ctx | null;
  readonly ALLOCSET_DEFAULT_SIZES: unknown;
}

const MAX_SCOPES = 4;
/** The per-query scope's number in the query workload: the per-tuple context is its child. */
const QUERY_SCOPE = 0;
const SCOPE_NAMES: Record<ScopeKind, string> = {
  query: "ExecutorState",
  tuple: "ExprContext",
  request: "RequestContext",
};

class ContextTreeAllocator extends HeapBacked {
  override readonly scoped = true;
  private readonly top: Ctx;
  private readonly main: Ctx;
  private readonly scopes: (Ctx | null)[] = new Array(MAX_SCOPES).fill(null);
  private current: Ctx;
  private readonly callback = { func: cleanupHandler, arg: null };

  constructor(
    private readonly m: Mcxt,
    options: AllocatorOptions,
  ) {
    super(options);
    m.MemoryContextInit(this.heap);
    this.top = m.TopMemoryContext as Ctx;
    this.main = m.AllocSetContextCreate(this.top, "bench", m.ALLOCSET_DEFAULT_SIZES);
    m.MemoryContextSwitchTo(this.main);
    this.current = this.main;
  }

  alloc(slot: number, size: number): void {
    this.ptrs[slot] = this.m.palloc(size);
    this.track();
  }

  free(slot: number, _size: number): void {
    this.m.pfree(this.ptrs[slot]);
  }

  realloc(slot: number, _oldSize: number, newSize: number): void {
    const p = this.m.repalloc(this.ptrs[slot], newSize);
    this.keep(slot, p, "repalloc", newSize);
  }

  override scopeOpen(scope: number, kind: ScopeKind): void {
    const parent = kind === "tuple" ? (this.scopes[QUERY_SCOPE] ?? this.top) : this.top;
    this.scopes[scope] = this.m.AllocSetContextCreate(
      parent,
      SCOPE_NAMES[kind],
      this.m.ALLOCSET_DEFAULT_SIZES,
    );
    this.track();
  }

  override scopeAlloc(scope: number, slot: number, size: number): void {
    const ctx = this.scopes[scope] as Ctx;
    if (ctx !== this.current) {
      this.m.MemoryContextSwitchTo(ctx);
      this.current = ctx;
    }
    this.ptrs[slot] = this.m.palloc(size);
    this.track();
  }

  override scopeCleanup(scope: number): void {
    this.m.MemoryContextRegisterResetCallback(this.scopes[scope] as Ctx, this.callback);
  }

  override scopeReset(scope: number): void {
    this.m.MemoryContextReset(this.scopes[scope] as Ctx);
  }

  override scopeClose(scope: number): void {
    const ctx = this.scopes[scope] as Ctx;
    if (ctx === this.current) {
      this.m.MemoryContextSwitchTo(this.main);
      this.current = this.main;
    }
    this.m.MemoryContextDelete(ctx);
    this.scopes[scope] = null;
  }

  discard(_count: number, _sizes: Int32Array): void {
    this.m.MemoryContextReset(this.main);
  }

  override dispose(): void {
    this.m.MemoryContextTeardown();
  }
}

/** @mmgr/context-tree: palloc/pfree through CurrentMemoryContext. */
export const contextTreeAdapter: AdapterModule = {
  id: "mcxt",
  label: "@mmgr/context-tree",
  note: "`palloc`/`pfree`/`repalloc` through CurrentMemoryContext (an AllocSet context under TopMemoryContext); query/request: AllocSet contexts (per-tuple a child of per-query), `MemoryContextSwitchTo`, `MemoryContextRegisterResetCallback`, `MemoryContextReset` per row, `MemoryContextDelete`; memory = peak of the heap's `used`",
  memory: "tracked",
  load: async (): Promise<AdapterFactory | string> => {
    const mod = await importPackage("@mmgr/context-tree");
    if (typeof mod === "string") {
      return `${mod.replace(/\)$/, "")}; it is not a dependency of apps/bench yet: add it to package.json and install)`;
    }
    for (const name of [
      "MemoryContextInit",
      "AllocSetContextCreate",
      "palloc",
      "pfree",
      "repalloc",
    ]) {
      if (typeof mod[name] !== "function")
        return `skipped: @mmgr/context-tree does not export ${name} yet`;
    }
    const m = mod as unknown as Mcxt;
    return {
      serves: () => true,
      cap: () => undefined,
      create: (options) => new ContextTreeAllocator(m, options),
    };
  },
};
