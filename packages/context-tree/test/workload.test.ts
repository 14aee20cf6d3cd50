import { AllocSet, type AllocSetSizes } from "@mmgr/aset";
import {
  BLOCK_HDR_SIZE,
  Heap,
  type Heap as HeapType,
  InvalidPointerError,
  type Ptr,
} from "@mmgr/heap";
import { beforeEach, describe, expect, it } from "vitest";
import {
  ALLOCSET_DEFAULT_SIZES,
  AllocSetContextCreate,
  CurrentMemoryContext,
  GetMemoryChunkContext,
  MCTX_FIRST_USER_ID,
  type MemoryContext,
  MemoryContextAlloc,
  MemoryContextCheck,
  type MemoryContextCounters,
  MemoryContextCreate,
  MemoryContextDelete,
  MemoryContextInit,
  MemoryContextMemAllocated,
  type MemoryContextMethods,
  MemoryContextRegisterResetCallback,
  MemoryContextReset,
  MemoryContextSetIdentifier,
  MemoryContextStats,
  MemoryContextSwitchTo,
  NgxPoolContextCreate,
  palloc,
  pfree,
  pstrdup,
  repalloc,
  TopMemoryContext,
  withMemoryContext,
} from "../src/index.js";

const ROWS = 10_000;

/**
 * A query: per-query context (ExecutorState), a per-tuple context reset at
 * the start of every row, a sort context deleted mid-way, an nginx-pool
 * context for a hash table, errors thrown through withMemoryContext.
 */
function runQuery(sizes: AllocSetSizes = ALLOCSET_DEFAULT_SIZES): {
  kept: number;
  perTupleMax: number;
  firstBlocks: Ptr[];
} {
  const query = AllocSetContextCreate(TopMemoryContext, "ExecutorState", sizes);
  const firstBlocks = [query.node];
  MemoryContextSetIdentifier(query, "SELECT * FROM t ORDER BY x");
  let kept = 0;
  let perTupleMax = 0;
  let callbacks = 0;
  withMemoryContext(query, () => {
    const perTuple = AllocSetContextCreate(query, "ExprContext", sizes);
    firstBlocks.push(perTuple.node);
    let sort: MemoryContext | null = AllocSetContextCreate(query, "TupleSort main", {
      minContextSize: 0,
      initBlockSize: 32 * 1024,
      maxBlockSize: 1024 * 1024,
    });
    const hash = NgxPoolContextCreate(query, "HashAgg", 8192);
    MemoryContextRegisterResetCallback(query, { func: () => callbacks++ });
    let capacity = 16;
    let results: Ptr = palloc(8 * capacity);
    let nresults = 0;
    const heap = query.heap;
    for (let i = 0; i < ROWS; i++) {
      MemoryContextReset(perTuple); // ExprContext: reset at the start of each tuple cycle
      const value = withMemoryContext(perTuple, () => {
        const t = palloc(16 + (i % 300));
        heap.u8.fill(i & 0xff, t, t + 16);
        const s = pstrdup(`row ${i}`);
        pfree(s);
        return heap.u8[t + 15];
      });
      expect(value).toBe(i & 0xff);
      perTupleMax = Math.max(perTupleMax, MemoryContextMemAllocated(perTuple, false));
      if (sort !== null) {
        const tup = MemoryContextAlloc(sort, 40);
        heap.i32[tup >> 2] = i;
      }
      if (i % 7 === 0) MemoryContextAlloc(hash, 24);
      if (i === ROWS / 2) {
        MemoryContextDelete(sort!); // the sort is done: its child goes mid-query
        sort = null;
      }
      if (i % 100 === 0) {
        if (nresults === capacity) {
          capacity *= 2;
          results = repalloc(results, 8 * capacity); // grows in the query context, not perTuple
        }
        heap.f64[(results >> 3) + nresults++] = i;
        kept++;
      }
      if (i % 1000 === 999) {
        expect(() =>
          withMemoryContext(perTuple, () => {
            palloc(100);
            throw new Error(`division by zero at row ${i}`);
          }),
        ).toThrow(`division by zero at row ${i}`);
        expect(CurrentMemoryContext).toBe(query);
      }
    }
    for (let k = 0; k < nresults; k++) expect(heap.f64[(results >> 3) + k]).toBe(k * 100);
    expect(GetMemoryChunkContext(results)).toBe(query);
    MemoryContextCheck(query);
  });
  expect(CurrentMemoryContext).toBe(TopMemoryContext);
  expect(MemoryContextStats(query).split("\n")[0]).toMatch(
    /^ExecutorState: \d+ total in \d+ blocks; \d+ free \(\d+ chunks\); \d+ used: SELECT \* FROM t ORDER BY x$/,
  );
  MemoryContextDelete(query);
  expect(callbacks).toBe(1);
  return { kept, perTupleMax, firstBlocks };
}

describe("a query-shaped workload", () => {
  let heap: HeapType;
  beforeEach(() => {
    heap = MemoryContextInit(Heap.create({ initialSize: 1 << 20, maxSize: 1 << 25 }));
  });

  it("keeps the default-sized first blocks cached after the delete, then gives every byte back", () => {
    const start = heap.stats().used;
    expect(AllocSet.cachedContexts(heap)).toEqual({ default: 0, small: 0 });
    const { kept, perTupleMax, firstBlocks } = runQuery();
    expect(kept).toBe(ROWS / 100);
    // Reset every row, the per-tuple context never grows past its keeper block.
    expect(perTupleMax).toBe(ALLOCSET_DEFAULT_SIZES.initBlockSize);
    // Right after MemoryContextDelete(query): ExecutorState and ExprContext,
    // default-sized, went to aset.c's context freelist with their first
    // blocks (still heap blocks); everything else went back to the heap.
    expect(AllocSet.cachedContexts(heap)).toEqual({ default: 2, small: 0 });
    let cachedBytes = 0;
    for (const b of firstBlocks) {
      expect(heap.usableSize(b)).toBe(ALLOCSET_DEFAULT_SIZES.initBlockSize);
      cachedBytes += heap.usableSize(b) + BLOCK_HDR_SIZE;
    }
    expect(heap.stats().used).toBe(start + cachedBytes);
    // A second query reuses them (same first blocks) and ends at the same place,
    expect(runQuery().firstBlocks).toEqual(firstBlocks);
    expect(heap.stats().used).toBe(start + cachedBytes);
    // and once they are released, the heap is back at its start.
    expect(AllocSet.releaseCachedContexts(heap)).toBe(2);
    expect(heap.stats().used).toBe(start);
    MemoryContextCheck(TopMemoryContext!);
  });

  it("gives every byte back at the delete when the contexts have sizes aset.c does not cache", () => {
    const sizes: AllocSetSizes = {
      minContextSize: 0,
      initBlockSize: 4096,
      maxBlockSize: ALLOCSET_DEFAULT_SIZES.maxBlockSize,
    };
    const start = heap.stats().used;
    const { kept, perTupleMax } = runQuery(sizes);
    expect(kept).toBe(ROWS / 100);
    expect(perTupleMax).toBe(sizes.initBlockSize);
    expect(AllocSet.cachedContexts(heap)).toEqual({ default: 0, small: 0 });
    expect(heap.stats().used).toBe(start);
    expect(AllocSet.releaseCachedContexts(heap)).toBe(0);
    MemoryContextCheck(TopMemoryContext!);
  });
});

// ---------------------------------------------------------------------------
// A context type of one's own: every chunk a heap block with an 8-byte header
// (method id, owning node), as PG's MemoryChunk. Shows the method table is open.
// ---------------------------------------------------------------------------

interface MallocState {
  readonly live: Set<Ptr>;
}

const MALLOC_ID = MCTX_FIRST_USER_ID;

const MallocMethods: MemoryContextMethods<MallocState> = {
  type: "Malloc",
  methodId: MALLOC_ID,
  alloc(ctx, size) {
    const b = ctx.heap.malloc(size + 8);
    if (b === 0) return 0;
    ctx.heap.i32[b >> 2] = MALLOC_ID | 0x100;
    ctx.heap.i32[(b >> 2) + 1] = ctx.node;
    ctx.impl.live.add(b + 8);
    return b + 8;
  },
  free(ctx, ptr) {
    if (!ctx.impl.live.delete(ptr)) throw new InvalidPointerError(`not live: ${ptr}`, ptr);
    ctx.heap.i32[(ptr >> 2) - 2] = 0;
    ctx.heap.free(ptr - 8);
  },
  realloc(ctx, ptr, size) {
    const np = MallocMethods.alloc(ctx, size, 0);
    if (np === 0) return 0;
    ctx.heap.u8.copyWithin(np, ptr, ptr + Math.min(size, ctx.heap.usableSize(ptr - 8) - 8));
    MallocMethods.free(ctx, ptr);
    return np;
  },
  reset(ctx) {
    for (const p of [...ctx.impl.live]) MallocMethods.free(ctx, p);
  },
  delete(ctx) {
    MallocMethods.reset(ctx);
  },
  getChunkContext(heap: HeapType, ptr: Ptr) {
    if (heap.i32[(ptr >> 2) - 2] !== (MALLOC_ID | 0x100)) {
      throw new InvalidPointerError(`not a Malloc chunk: ${ptr}`, ptr);
    }
    return heap.i32[(ptr >> 2) - 1];
  },
  getChunkSpace(ctx, ptr) {
    return ctx.heap.usableSize(ptr - 8);
  },
  isEmpty(ctx) {
    return ctx.impl.live.size === 0;
  },
  stats(ctx): MemoryContextCounters {
    let total = 0;
    for (const p of ctx.impl.live) total += ctx.heap.usableSize(p - 8);
    return { nblocks: ctx.impl.live.size, freechunks: 0, totalspace: total, freespace: 0 };
  },
  check() {},
  memAllocated(ctx) {
    return MallocMethods.stats(ctx).totalspace;
  },
};

describe("MemoryContextCreate (a context type of one's own)", () => {
  it("plugs into palloc, pfree, repalloc, reset, delete and the stats", () => {
    const heap = MemoryContextInit(Heap.create());
    const start = heap.stats().used;
    const mine = MemoryContextCreate(MallocMethods, TopMemoryContext, "mine", { live: new Set() });
    expect(mine.type).toBe("Malloc");
    MemoryContextSwitchTo(mine);
    const a = palloc(100);
    const b = palloc(200);
    expect(GetMemoryChunkContext(a)).toBe(mine);
    heap.u8.fill(3, a, a + 100);
    const a2 = repalloc(a, 1000);
    expect(heap.u8[a2 + 99]).toBe(3);
    pfree(b);
    expect(() => pfree(b)).toThrow(InvalidPointerError);
    // free() cleared the low header word (the method id); the high one still names the node.
    expect(() => pfree(b)).toThrow(
      `pfree called with invalid pointer ${b} (header 0x${mine.node.toString(16).padStart(8, "0")}00000000)`,
    );
    expect(mine.impl.live.size).toBe(1);
    expect(MemoryContextStats(mine).split("\n")[0]).toMatch(
      /^mine: \d+ total in 1 blocks; 0 free \(0 chunks\); \d+ used$/,
    );
    MemoryContextSwitchTo(TopMemoryContext!);
    MemoryContextReset(mine);
    expect(mine.impl.live.size).toBe(0);
    palloc(8); // in Top
    MemoryContextAlloc(mine, 64);
    MemoryContextDelete(mine);
    expect(heap.stats().used).toBe(start); // palloc(8) came from Top's keeper block
  });
});
