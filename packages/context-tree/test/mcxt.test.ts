import { ALLOC_BLOCKHDRSZ, ALLOC_CHUNKHDRSZ, SIZEOF_ASET_CONTEXT } from "@mmgr/aset";
import { Heap, InvalidStateError } from "@mmgr/heap";
import { beforeEach, describe, expect, it } from "vitest";
import {
  ALLOCSET_DEFAULT_SIZES,
  ALLOCSET_SMALL_SIZES,
  AllocSetContextCreate,
  CurrentMemoryContext,
  ErrorContext,
  GetMemoryChunkContext,
  GetMemoryChunkSpace,
  MaxAllocHugeSize,
  MaxAllocSize,
  MCXT_ALLOC_HUGE,
  MCXT_ALLOC_NO_OOM,
  MCXT_ALLOC_ZERO,
  MemoryContextAlloc,
  MemoryContextAllocExtended,
  MemoryContextAllocZero,
  MemoryContextCheck,
  MemoryContextDelete,
  MemoryContextGetParent,
  MemoryContextInit,
  MemoryContextIsEmpty,
  MemoryContextMemAllocated,
  MemoryContextRegisterResetCallback,
  MemoryContextReset,
  MemoryContextResetChildren,
  MemoryContextResetOnly,
  MemoryContextSetIdentifier,
  MemoryContextSetParent,
  MemoryContextStats,
  MemoryContextSwitchTo,
  MemoryContextTeardown,
  palloc,
  palloc_extended,
  palloc0,
  pfree,
  repalloc,
  repalloc_huge,
  repalloc0,
  TopMemoryContext,
  withMemoryContext,
} from "../src/index.js";

/** What an empty default-sized AllocSet reports: its header plus the keeper block's header used. */
const EMPTY_USED = SIZEOF_ASET_CONTEXT + ALLOC_BLOCKHDRSZ; // 240
const EMPTY_LINE = `8192 total in 1 blocks; ${8192 - EMPTY_USED} free (0 chunks); ${EMPTY_USED} used`;

let heap: Heap;
beforeEach(() => {
  heap = MemoryContextInit(Heap.create({ initialSize: 1 << 20, maxSize: 1 << 24 }));
});

describe("MemoryContextInit", () => {
  it("makes TopMemoryContext, ErrorContext as its child, and CurrentMemoryContext = Top", () => {
    expect(TopMemoryContext).not.toBeNull();
    expect(TopMemoryContext!.name).toBe("TopMemoryContext");
    expect(TopMemoryContext!.type).toBe("AllocSet");
    expect(TopMemoryContext!.parent).toBeNull();
    expect(ErrorContext!.name).toBe("ErrorContext");
    expect(ErrorContext!.parent).toBe(TopMemoryContext);
    expect(TopMemoryContext!.children).toEqual([ErrorContext]);
    expect(CurrentMemoryContext).toBe(TopMemoryContext);
    expect(TopMemoryContext!.heap).toBe(heap);
  });

  it("prints PostgreSQL's stats for the fresh tree (240 used per empty context)", () => {
    expect(EMPTY_USED).toBe(240);
    expect(MemoryContextStats(TopMemoryContext!)).toBe(
      `TopMemoryContext: ${EMPTY_LINE}\n` +
        `  ErrorContext: ${EMPTY_LINE}\n` +
        `Grand total: 16384 bytes in 2 blocks; ${2 * (8192 - EMPTY_USED)} free (0 chunks); ${2 * EMPTY_USED} used\n`,
    );
  });

  it("makes a heap of its own when given none", () => {
    const h = MemoryContextInit();
    expect(h).toBeInstanceOf(Heap);
    expect(TopMemoryContext!.heap).toBe(h);
  });

  it("starts over when called again: old handles are dead, the old heap is back to empty", () => {
    const oldTop = TopMemoryContext!;
    const before = heap.stats().used;
    const child = AllocSetContextCreate(oldTop, "child", ALLOCSET_DEFAULT_SIZES);
    palloc(100);
    MemoryContextAlloc(child, 5000);
    const h2 = Heap.create();
    MemoryContextInit(h2);
    expect(oldTop.deleted).toBe(true);
    expect(child.deleted).toBe(true);
    expect(TopMemoryContext).not.toBe(oldTop);
    expect(TopMemoryContext!.heap).toBe(h2);
    expect(heap.stats().used).toBeLessThan(before);
    expect(heap.stats().allocations).toBe(0);
    expect(() => MemoryContextAlloc(child, 8)).toThrow(InvalidStateError);
    expect(() => MemoryContextAlloc(child, 8)).toThrow(
      'MemoryContextAlloc(): memory context "child" has been deleted',
    );
  });
});

describe("MemoryContextTeardown", () => {
  it("deletes every context, runs callbacks, and nulls the globals", () => {
    const ran: string[] = [];
    const c = AllocSetContextCreate(TopMemoryContext, "c", ALLOCSET_SMALL_SIZES);
    const root = AllocSetContextCreate(null, "other root", ALLOCSET_SMALL_SIZES);
    MemoryContextRegisterResetCallback(c, { func: (a) => ran.push(String(a)), arg: "c" });
    MemoryContextRegisterResetCallback(root, { func: (a) => ran.push(String(a)), arg: "root" });
    MemoryContextTeardown();
    expect(ran.sort()).toEqual(["c", "root"]);
    expect(TopMemoryContext).toBeNull();
    expect(ErrorContext).toBeNull();
    expect(CurrentMemoryContext).toBeNull();
    expect(heap.stats().allocations).toBe(0);
    expect(() => palloc(8)).toThrow(
      new InvalidStateError("palloc(): no CurrentMemoryContext: call MemoryContextInit() first"),
    );
    MemoryContextTeardown(); // nothing left: no-op
  });
});

describe("palloc", () => {
  it("allocates in CurrentMemoryContext at PostgreSQL's addresses", () => {
    const ctx = AllocSetContextCreate(TopMemoryContext, "carve", ALLOCSET_DEFAULT_SIZES);
    MemoryContextSwitchTo(ctx);
    const base = ctx.node;
    // ORIGINALS.md §1.5 verified run: first pointer at ctx + 248, then by chunk size + header
    const expected: [number, number, number][] = [
      [0, 248, 16],
      [1, 264, 16],
      [8, 280, 16],
      [9, 296, 24],
      [16, 320, 24],
      [17, 344, 40],
      [100, 384, 136],
      [1000, 520, 1032],
      [1024, 1552, 1032],
      [1025, 2584, 2056],
    ];
    for (const [size, at, space] of expected) {
      const p = palloc(size);
      expect(p - base).toBe(at);
      expect(GetMemoryChunkSpace(p)).toBe(space);
      expect(GetMemoryChunkContext(p)).toBe(ctx);
    }
    palloc(4096);
    palloc(8192);
    expect(MemoryContextStats(ctx)).toBe(
      "carve: 32768 total in 3 blocks; 15752 free (11 chunks); 17016 used\n" +
        "Grand total: 32768 bytes in 3 blocks; 15752 free (11 chunks); 17016 used\n",
    );
    const big = palloc(8193);
    expect(GetMemoryChunkSpace(big)).toBe(8208);
    expect(MemoryContextMemAllocated(ctx, false)).toBe(32768 + 8248);
    pfree(big);
    expect(MemoryContextMemAllocated(ctx, false)).toBe(32768);
    expect(ALLOC_CHUNKHDRSZ).toBe(8);
  });

  it("palloc0 and MCXT_ALLOC_ZERO zero the memory; palloc(0) is a usable chunk", () => {
    const p = palloc(64);
    heap.u8.fill(0xaa, p, p + 64);
    pfree(p);
    const z = palloc0(64);
    expect(z).toBe(p); // the freelist hands the same chunk back
    expect([...heap.u8.subarray(z, z + 64)].every((b) => b === 0)).toBe(true);
    pfree(z);
    heap.u8.fill(0xaa, z, z + 64);
    const z2 = palloc_extended(64, MCXT_ALLOC_ZERO);
    expect([...heap.u8.subarray(z2, z2 + 64)].every((b) => b === 0)).toBe(true);
    const z3 = MemoryContextAllocZero(TopMemoryContext!, 10);
    expect([...heap.u8.subarray(z3, z3 + 10)].every((b) => b === 0)).toBe(true);
    const e = palloc(0);
    expect(GetMemoryChunkSpace(e)).toBe(8 + ALLOC_CHUNKHDRSZ);
    const e2 = repalloc(e, 0);
    expect(e2).toBe(e);
    pfree(e2);
  });

  it("uses the context given to MemoryContextAlloc, not CurrentMemoryContext", () => {
    const a = AllocSetContextCreate(TopMemoryContext, "a");
    const p = MemoryContextAlloc(a, 32);
    expect(GetMemoryChunkContext(p)).toBe(a);
    expect(CurrentMemoryContext).toBe(TopMemoryContext);
  });

  it("allows MaxAllocSize with HUGE, and treats HUGE sizes above it as out of memory", () => {
    expect(MaxAllocSize).toBe(0x3fffffff);
    expect(MaxAllocHugeSize).toBe(Number.MAX_SAFE_INTEGER);
    expect(palloc_extended(MaxAllocSize + 1, MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM)).toBe(0);
    expect(() => palloc_extended(MaxAllocSize + 1, MCXT_ALLOC_HUGE)).toThrow(
      `out of memory\nDETAIL:  Failed on request of size ${MaxAllocSize + 1} in memory context "TopMemoryContext".`,
    );
  });
});

describe("pfree / repalloc", () => {
  it("find the owning context from the chunk, whatever CurrentMemoryContext is", () => {
    const a = AllocSetContextCreate(TopMemoryContext, "a");
    const b = AllocSetContextCreate(TopMemoryContext, "b");
    const pa = MemoryContextAlloc(a, 100);
    MemoryContextSwitchTo(b);
    heap.u8.fill(7, pa, pa + 100);
    const pa2 = repalloc(pa, 1000);
    expect(GetMemoryChunkContext(pa2)).toBe(a);
    expect([...heap.u8.subarray(pa2, pa2 + 100)].every((x) => x === 7)).toBe(true);
    pfree(pa2);
    expect(MemoryContextStats(a)).toContain("(2 chunks)");
    expect(MemoryContextStats(b)).toContain("(0 chunks)");
  });

  it("repalloc keeps the pointer within the power of two and moves beyond it", () => {
    const p = palloc(20);
    expect(repalloc(p, 30)).toBe(p);
    const q = repalloc(p, 33);
    expect(q).not.toBe(p);
    expect(GetMemoryChunkSpace(q)).toBe(64 + ALLOC_CHUNKHDRSZ);
  });

  it("repalloc_huge and repalloc0 work as PostgreSQL's", () => {
    const p = palloc(10);
    heap.u8.fill(9, p, p + 10);
    const q = repalloc0(p, 10, 100);
    expect([...heap.u8.subarray(q, q + 10)].every((x) => x === 9)).toBe(true);
    expect([...heap.u8.subarray(q + 10, q + 100)].every((x) => x === 0)).toBe(true);
    const r = repalloc_huge(q, 20000);
    expect(GetMemoryChunkSpace(r)).toBe(20000 + ALLOC_CHUNKHDRSZ);
  });
});

describe("MemoryContextSwitchTo / withMemoryContext", () => {
  it("returns the previous context", () => {
    const a = AllocSetContextCreate(TopMemoryContext, "a");
    expect(MemoryContextSwitchTo(a)).toBe(TopMemoryContext);
    expect(CurrentMemoryContext).toBe(a);
    expect(MemoryContextSwitchTo(TopMemoryContext!)).toBe(a);
  });

  it("switches back after fn, also when it throws", () => {
    const a = AllocSetContextCreate(TopMemoryContext, "a");
    const p = withMemoryContext(a, () => palloc(16));
    expect(GetMemoryChunkContext(p)).toBe(a);
    expect(CurrentMemoryContext).toBe(TopMemoryContext);
    expect(() =>
      withMemoryContext(a, () => {
        palloc(16);
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(CurrentMemoryContext).toBe(TopMemoryContext);
  });

  it("falls back to TopMemoryContext when fn deleted the context to return to", () => {
    const a = AllocSetContextCreate(TopMemoryContext, "a");
    const b = AllocSetContextCreate(TopMemoryContext, "b");
    MemoryContextSwitchTo(a);
    expect(() => withMemoryContext(b, () => MemoryContextDelete(a))).toThrow(
      new InvalidStateError(
        'withMemoryContext(): memory context "a" to switch back to was deleted; switched to TopMemoryContext',
      ),
    );
    expect(CurrentMemoryContext).toBe(TopMemoryContext);
  });
});

describe("Symbol.dispose", () => {
  it("deletes the context at the end of a using block", () => {
    let ctx: ReturnType<typeof AllocSetContextCreate>;
    {
      using c = AllocSetContextCreate(TopMemoryContext, "scoped");
      ctx = c;
      MemoryContextAlloc(c, 100);
      expect(TopMemoryContext!.children).toContain(c);
    }
    expect(ctx.deleted).toBe(true);
    expect(TopMemoryContext!.children).toEqual([ErrorContext]);
  });
});

describe("the tree", () => {
  it("links children newest first and SetParent moves a subtree", () => {
    const a = AllocSetContextCreate(TopMemoryContext, "a");
    const b = AllocSetContextCreate(TopMemoryContext, "b");
    const c = AllocSetContextCreate(a, "c");
    expect(TopMemoryContext!.children).toEqual([b, a, ErrorContext]);
    MemoryContextSetParent(a, b);
    expect(TopMemoryContext!.children).toEqual([b, ErrorContext]);
    expect(b.children).toEqual([a]);
    expect(MemoryContextGetParent(c)).toBe(a);
    MemoryContextSetParent(a, b); // already: no-op
    expect(b.children).toEqual([a]);
    MemoryContextSetParent(a, null);
    expect(a.parent).toBeNull();
    expect(b.children).toEqual([]);
    MemoryContextCheck(TopMemoryContext!);
    MemoryContextCheck(a);
  });

  it("reset deletes the children, runs callbacks newest first, and frees the memory", () => {
    const ran: string[] = [];
    const q = AllocSetContextCreate(TopMemoryContext, "q");
    const k = AllocSetContextCreate(q, "kid");
    MemoryContextRegisterResetCallback(k, { func: () => ran.push("kid") });
    MemoryContextRegisterResetCallback(q, { func: (a) => ran.push(`q${a}`), arg: 1 });
    MemoryContextRegisterResetCallback(q, { func: (a) => ran.push(`q${a}`), arg: 2 });
    MemoryContextAlloc(q, 20000);
    MemoryContextAlloc(q, 100);
    expect(MemoryContextIsEmpty(q)).toBe(false);
    MemoryContextReset(q);
    expect(ran).toEqual(["kid", "q2", "q1"]);
    expect(k.deleted).toBe(true);
    expect(q.children).toEqual([]);
    expect(MemoryContextStats(q)).toBe(
      `q: ${EMPTY_LINE}\nGrand total: 8192 bytes in 1 blocks; ${8192 - EMPTY_USED} free (0 chunks); ${EMPTY_USED} used\n`,
    );
    expect(MemoryContextIsEmpty(q)).toBe(true);
    MemoryContextReset(q); // already reset: callbacks are gone, nothing runs
    expect(ran).toHaveLength(3);
  });

  it("a callback registered on a reset context still runs at the next reset", () => {
    const q = AllocSetContextCreate(TopMemoryContext, "q");
    let n = 0;
    MemoryContextRegisterResetCallback(q, { func: () => n++ });
    expect(q.isReset).toBe(false);
    MemoryContextResetOnly(q);
    expect(n).toBe(1);
    expect(q.isReset).toBe(true);
  });

  it("ResetOnly keeps the children; ResetChildren resets only the descendants", () => {
    const q = AllocSetContextCreate(TopMemoryContext, "q");
    const k = AllocSetContextCreate(q, "k");
    const g = AllocSetContextCreate(k, "g");
    MemoryContextAlloc(q, 10);
    MemoryContextAlloc(k, 10);
    MemoryContextAlloc(g, 10);
    MemoryContextResetOnly(q);
    expect(q.children).toEqual([k]);
    expect(q.isReset).toBe(true);
    expect(k.isReset).toBe(false);
    MemoryContextAlloc(q, 10);
    MemoryContextResetChildren(q);
    expect(q.isReset).toBe(false);
    expect(k.isReset).toBe(true);
    expect(g.isReset).toBe(true);
    expect(k.children).toEqual([g]);
  });

  it("delete is recursive, runs child callbacks before the parent's, and gives the heap back", () => {
    const ran: string[] = [];
    const before = heap.stats().used;
    const q = AllocSetContextCreate(TopMemoryContext, "q", {
      minContextSize: 0,
      initBlockSize: 2048,
      maxBlockSize: 65536,
    });
    const k = AllocSetContextCreate(q, "k", {
      minContextSize: 0,
      initBlockSize: 2048,
      maxBlockSize: 65536,
    });
    MemoryContextRegisterResetCallback(q, { func: () => ran.push("q") });
    MemoryContextRegisterResetCallback(k, { func: () => ran.push("k") });
    MemoryContextAlloc(k, 50000);
    MemoryContextAlloc(q, 500);
    MemoryContextDelete(q);
    expect(ran).toEqual(["k", "q"]);
    expect(q.deleted).toBe(true);
    expect(k.deleted).toBe(true);
    expect(heap.stats().used).toBe(before);
  });

  it("MemoryContextMemAllocated sums the subtree with recurse", () => {
    const q = AllocSetContextCreate(TopMemoryContext, "q");
    AllocSetContextCreate(q, "k", ALLOCSET_SMALL_SIZES);
    expect(MemoryContextMemAllocated(q, false)).toBe(8192);
    expect(MemoryContextMemAllocated(q, true)).toBe(8192 + 1024);
    expect(MemoryContextMemAllocated(q)).toBe(8192 + 1024);
  });

  it("IsEmpty is false with children, true for a fresh context", () => {
    const q = AllocSetContextCreate(TopMemoryContext, "q");
    expect(MemoryContextIsEmpty(q)).toBe(true);
    AllocSetContextCreate(q, "k");
    expect(MemoryContextIsEmpty(q)).toBe(false);
  });

  it("SetIdentifier shows in the stats", () => {
    const q = AllocSetContextCreate(TopMemoryContext, "q");
    MemoryContextSetIdentifier(q, "SELECT 1");
    expect(q.ident).toBe("SELECT 1");
    expect(MemoryContextStats(q).split("\n")[0]).toBe(`q: ${EMPTY_LINE}: SELECT 1`);
    MemoryContextSetIdentifier(q, null);
    expect(q.ident).toBeUndefined();
  });

  it("MemoryContextAllocExtended with NO_OOM returns 0 and changes nothing when the heap is full", () => {
    const small = MemoryContextInit(Heap.create({ initialSize: 64 * 1024, maxSize: 64 * 1024 }));
    const q = AllocSetContextCreate(TopMemoryContext, "q");
    const statsBefore = MemoryContextStats(q);
    const usedBefore = small.stats().used;
    expect(MemoryContextAllocExtended(q, 100000, MCXT_ALLOC_NO_OOM)).toBe(0);
    expect(MemoryContextStats(q)).toBe(statsBefore);
    expect(small.stats().used).toBe(usedBefore);
  });
});
