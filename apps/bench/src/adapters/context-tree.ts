/*-------------------------------------------------------------------------
 *
 * context-tree.ts
 *	  Placeholder for @mmgr/context-tree (issue 6): palloc/pfree through
 *	  CurrentMemoryContext. The package does not exist yet, so the column
 *	  is listed and every cell says why it is empty.
 *
 * To wire it in when the package lands:
 *
 * 1. Add `"@mmgr/context-tree": "workspace:^"` to this app's package.json
 *    dependencies and run the workspace install (a lockfile change, for
 *    whoever owns the root), so that `import("@mmgr/context-tree")`
 *    resolves from apps/bench.
 * 2. Replace `load` below with one like aset.ts's: `importPackage(...)`,
 *    check the exports, return a factory whose allocator (on `freshHeap()`)
 *    - creates the tree on the heap, and a child AllocSet context "bench"
 *      of TopMemoryContext that it makes CurrentMemoryContext;
 *    - alloc = `palloc(size)`, free = `pfree(ptr)`, realloc =
 *      `repalloc(ptr, size)`, all through CurrentMemoryContext;
 *    - `scoped = true`: scopeOpen = `AllocSetContextCreate(parent, name,
 *      ALLOCSET_DEFAULT_SIZES)` (the per-query context a child of
 *      TopMemoryContext, the per-tuple one a child of it, a request one a
 *      child of TopMemoryContext); scopeAlloc = `MemoryContextSwitchTo`
 *      that context when it is not already current, then `palloc`;
 *      scopeCleanup = `MemoryContextRegisterResetCallback` with
 *      `cleanupHandler`; scopeReset = `MemoryContextReset`; scopeClose =
 *      `MemoryContextDelete` (the parent's delete then also frees
 *      children, as mcxt.c does);
 *    - memory: "tracked", `heapPeak(heap, base)` as the other heap adapters.
 * 3. Nothing else changes: the registry (index.ts) already lists this
 *    adapter, and the report and chart pick up its column.
 *
 *-------------------------------------------------------------------------
 */

import type { AdapterFactory, AdapterModule } from "./types.js";

/** @mmgr/context-tree: PostgreSQL's palloc/pfree through CurrentMemoryContext (issue 6). */
export const contextTreeAdapter: AdapterModule = {
  id: "mcxt",
  label: "@mmgr/context-tree",
  note: "palloc/pfree through CurrentMemoryContext (issue 6): not in the workspace yet",
  memory: "tracked",
  load: async (): Promise<AdapterFactory | string> =>
    "skipped: @mmgr/context-tree (issue 6) is not in the workspace yet; see src/adapters/context-tree.ts",
};
