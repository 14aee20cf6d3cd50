import {
  ALLOC_BLOCKHDRSZ,
  ALLOC_CHUNKHDRSZ_CHECKING,
  ALLOC_MIN_BLOCK_SIZE,
  ALLOCSET_DEFAULT_INITSIZE,
  AllocSet,
  MEMORYCHUNK_MAX_BLOCKOFFSET,
  SIZEOF_ASET_CONTEXT,
} from "@mmgr/aset";
import {
  MAX_ALLOC_SIZE as HEAP_MAX_ALLOC_SIZE,
  Heap,
  HeapCorruptionError,
  InvalidPointerError,
  InvalidSizeError,
  InvalidStateError,
  MmgrError,
  OutOfMemoryError,
} from "@mmgr/heap";
import { NGX_MIN_POOL_SIZE, NGX_POOL_ALIGNMENT } from "@mmgr/ngx-pool";
import { beforeEach, describe, expect, it } from "vitest";
import {
  ALLOCSET_DEFAULT_SIZES,
  AllocSetContextCreate,
  AllocSetMethods,
  CurrentMemoryContext,
  ErrorContext,
  GetMemoryChunkContext,
  GetMemoryChunkSpace,
  MaxAllocSize,
  MCTX_FIRST_USER_ID,
  MCTX_LAST_USER_ID,
  MCXT_ALLOC_HUGE,
  type MemoryContext,
  MemoryContextAlloc,
  MemoryContextAllocExtended,
  MemoryContextCheck,
  MemoryContextCreate,
  MemoryContextDelete,
  MemoryContextDeleteChildren,
  MemoryContextInit,
  MemoryContextRegisterResetCallback,
  MemoryContextReset,
  MemoryContextSetIdentifier,
  MemoryContextSetParent,
  MemoryContextStats,
  MemoryContextSwitchTo,
  MemoryContextTeardown,
  NgxPoolContextCreate,
  palloc,
  palloc_extended,
  pfree,
  repalloc,
  repalloc0,
  TopMemoryContext,
} from "../src/index.js";
import { MCXT_IS_RESET_BYTE } from "../src/layout.js";

let heap: Heap;
beforeEach(() => {
  heap = MemoryContextInit(Heap.create({ initialSize: 1 << 20, maxSize: 1 << 22, checking: true }));
});

/** Everything a bad call must leave alone: the tree's text, the heap's counters, every byte. */
function snapshot() {
  return {
    stats: MemoryContextStats(TopMemoryContext!),
    heap: heap.stats(),
    current: CurrentMemoryContext,
    bytes: heap.u8.slice(),
  };
}

/** Expects the state to be `before`: the first differing byte is named, not 4 MB of diff. */
function expectSame(before: ReturnType<typeof snapshot>): void {
  const { bytes, ...rest } = snapshot();
  const { bytes: was, ...wasRest } = before;
  expect(rest).toEqual(wasRest);
  expect(bytes.length).toBe(was.length);
  let diff = -1;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== was[i]) {
      diff = i;
      break;
    }
  }
  expect(diff).toBe(-1);
}

/** Runs `fn` twice, expects `cls` with exactly `message` and nothing changed each time. */
function unchanged(fn: () => unknown, cls: new (...a: never[]) => Error, message: string) {
  const before = snapshot();
  for (let run = 0; run < 2; run++) {
    let caught: unknown;
    try {
      fn();
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(cls);
    expect(caught).toBeInstanceOf(MmgrError);
    expect((caught as Error).message).toBe(message);
    expectSame(before); // after each run: a write undone by the second would hide
  }
}

describe("before MemoryContextInit", () => {
  it("every call says to call MemoryContextInit", () => {
    MemoryContextTeardown();
    expect(() => palloc(8)).toThrow(
      new InvalidStateError("palloc(): no CurrentMemoryContext: call MemoryContextInit() first"),
    );
    expect(() => AllocSetContextCreate(null, "x")).toThrow(
      new InvalidStateError(
        "AllocSetContextCreate(): no memory-context tree: call MemoryContextInit() first",
      ),
    );
    expect(() => pfree(64)).toThrow(
      new InvalidStateError("pfree(): no memory-context tree: call MemoryContextInit() first"),
    );
  });

  it("MemoryContextInit refuses what is not a Heap", () => {
    expect(() => MemoryContextInit({} as Heap)).toThrow(
      new MmgrError("MemoryContextInit(): [object Object] is not a Heap"),
    );
  });
});

describe("sizes", () => {
  for (const bad of [-1, 1.5, Number.NaN, MaxAllocSize + 1, 2 ** 32, "8"]) {
    it(`palloc(${String(bad)}) is an invalid memory alloc request size`, () => {
      const shown = typeof bad === "string" ? JSON.stringify(bad) : String(bad);
      unchanged(
        () => palloc(bad as number),
        InvalidSizeError,
        `invalid memory alloc request size ${shown}`,
      );
    });
  }

  it("HUGE does not admit negative or fractional sizes", () => {
    unchanged(
      () => palloc_extended(-5, MCXT_ALLOC_HUGE),
      InvalidSizeError,
      "invalid memory alloc request size -5",
    );
  });

  it("repalloc checks the size after finding the chunk", () => {
    const p = palloc(10);
    unchanged(
      () => repalloc(p, MaxAllocSize + 1),
      InvalidSizeError,
      `invalid memory alloc request size ${MaxAllocSize + 1}`,
    );
    unchanged(
      () => repalloc0(p, 10, 5),
      InvalidSizeError,
      "invalid repalloc0 call: oldsize 10, new size 5",
    );
  });

  it("flags other than the three MCXT_ALLOC bits are refused", () => {
    unchanged(
      () => palloc_extended(8, 8),
      MmgrError,
      "palloc_extended(): flags 8 are not a combination of MCXT_ALLOC_HUGE, MCXT_ALLOC_NO_OOM and MCXT_ALLOC_ZERO",
    );
    unchanged(
      () => MemoryContextAllocExtended(TopMemoryContext!, 8, -1),
      MmgrError,
      "MemoryContextAllocExtended(): flags -1 are not a combination of MCXT_ALLOC_HUGE, MCXT_ALLOC_NO_OOM and MCXT_ALLOC_ZERO",
    );
  });
});

describe("out of memory", () => {
  it("palloc throws PostgreSQL's text with the size and the context, and changes nothing", () => {
    heap = MemoryContextInit(
      Heap.create({ initialSize: 64 * 1024, maxSize: 64 * 1024, checking: true }),
    );
    const q = AllocSetContextCreate(TopMemoryContext, "ExprContext");
    MemoryContextSwitchTo(q);
    const before = snapshot();
    let err: OutOfMemoryError | undefined;
    try {
      palloc(838860804);
    } catch (e) {
      err = e as OutOfMemoryError;
    }
    expect(err).toBeInstanceOf(OutOfMemoryError);
    expect(err!.message).toBe(
      'out of memory\nDETAIL:  Failed on request of size 838860804 in memory context "ExprContext".',
    );
    expect(err!.detail).toBe(
      'Failed on request of size 838860804 in memory context "ExprContext".',
    );
    expect(err!.size).toBe(838860804);
    // mcxt.c's MemoryContextAlloc clears isReset before asking the context,
    // so a failed request leaves it cleared (as in PostgreSQL); nothing else moves.
    expect(before.bytes[q.node + MCXT_IS_RESET_BYTE]).toBe(1);
    expect(heap.u8[q.node + MCXT_IS_RESET_BYTE]).toBe(0);
    before.bytes[q.node + MCXT_IS_RESET_BYTE] = 0;
    expectSame(before);
  });

  it("repalloc keeps the old chunk when the heap is full", () => {
    heap = MemoryContextInit(
      Heap.create({ initialSize: 64 * 1024, maxSize: 64 * 1024, checking: true }),
    );
    const p = palloc(100);
    heap.u8.fill(5, p, p + 100);
    unchanged(
      () => repalloc(p, 100000),
      OutOfMemoryError,
      'out of memory\nDETAIL:  Failed on request of size 100000 in memory context "TopMemoryContext".',
    );
    expect([...heap.u8.subarray(p, p + 100)].every((b) => b === 5)).toBe(true);
  });

  it("creating a context on a full heap fails as AllocSetContextCreate does", () => {
    heap = MemoryContextInit(
      Heap.create({ initialSize: 32 * 1024, maxSize: 32 * 1024, checking: true }),
    );
    while (heap.malloc(4096) !== 0);
    unchanged(
      () =>
        AllocSetContextCreate(TopMemoryContext, "late", {
          minContextSize: 0,
          initBlockSize: 4096,
          maxBlockSize: 8192,
        }),
      OutOfMemoryError,
      'out of memory\nDETAIL:  Failed while creating memory context "late".',
    );
    unchanged(
      () => NgxPoolContextCreate(TopMemoryContext, "late pool", 4096),
      OutOfMemoryError,
      'out of memory\nDETAIL:  Failed while creating memory context "late pool".',
    );
  });
});

describe("pointers", () => {
  it("pfree(0) and pointers outside the heap are refused", () => {
    unchanged(() => pfree(0), InvalidPointerError, "pfree called with NULL pointer");
    unchanged(
      () => pfree(13),
      InvalidPointerError,
      "pfree called with invalid pointer 13: not an 8-aligned offset inside the heap",
    );
    unchanged(
      () => GetMemoryChunkSpace(heap.size + 8),
      InvalidPointerError,
      `GetMemoryChunkSpace called with invalid pointer ${heap.size + 8}: not an 8-aligned offset inside the heap`,
    );
  });

  it("a double free is caught", () => {
    const p = palloc(40);
    pfree(p);
    unchanged(
      () => pfree(p),
      InvalidPointerError,
      `pfree called with invalid pointer ${p}: pointer ${p} was already freed (double free)`,
    );
    unchanged(
      () => GetMemoryChunkContext(p),
      InvalidPointerError,
      `GetMemoryChunkContext called with invalid pointer ${p}: pointer ${p} was already freed (double free)`,
    );
    const big = palloc(20000);
    pfree(big);
    // A large chunk's block went back to the heap, which wiped it (checking mode).
    unchanged(
      () => pfree(big),
      InvalidPointerError,
      `pfree called with invalid pointer ${big} (header 0x7f7f7f7f7f7f7f7f)`,
    );
  });

  it("an interior pointer, a heap block and a foreign AllocSet's chunk are refused", () => {
    const p = palloc(64);
    // In checking mode a fresh chunk's bytes are 0x7F, so that is the "header" read.
    unchanged(
      () => pfree(p + 16),
      InvalidPointerError,
      `pfree called with invalid pointer ${p + 16} (header 0x7f7f7f7f7f7f7f7f)`,
    );
    const h = heap.malloc(64);
    heap.u8.fill(0, h - 8, h);
    unchanged(
      () => GetMemoryChunkContext(h),
      InvalidPointerError,
      `GetMemoryChunkContext called with invalid pointer ${h} (header 0x0000000000000000)`,
    );
    const alone = AllocSet.create(heap, "standalone", ALLOCSET_DEFAULT_SIZES);
    const q = alone.alloc(32);
    unchanged(
      () => pfree(q),
      InvalidPointerError,
      `pfree called with invalid pointer ${q}: it belongs to an AllocSet at ${alone.offset} that is not a context of the memory-context tree`,
    );
  });

  it("pointers of a deleted context are refused", () => {
    const c = AllocSetContextCreate(TopMemoryContext, "gone", {
      minContextSize: 0,
      initBlockSize: 2048,
      maxBlockSize: 8192,
    });
    const p = MemoryContextAlloc(c, 100);
    MemoryContextDelete(c);
    unchanged(
      () => repalloc(p, 200),
      InvalidPointerError,
      `repalloc called with invalid pointer ${p} (header 0x7f7f7f7f7f7f7f7f)`,
    );
  });

  // aset.c keeps a deleted default- or small-sized set on its context
  // freelist, and a reset set its keeper block: the next context of those
  // sizes, or the next palloc after the reset, gets the same address back.
  // A stale pointer is refused until then; afterwards it is the new chunk's
  // pointer, and pfree frees the new chunk (PostgreSQL does not catch it either).
  for (const checking of [false, true]) {
    const wiped = (p: number) =>
      `pfree called with invalid pointer ${p} (header 0x7f7f7f7f7f7f7f7f)`;
    const doubleFree = (p: number) =>
      `pfree called with invalid pointer ${p}: pointer ${p} was already freed (double free)`;
    // A default-sized context whose one chunk is on its freelist.
    const oneFreeChunk = (name: string) =>
      `${name}: ${ALLOCSET_DEFAULT_INITSIZE} total in 1 blocks; ` +
      `${ALLOCSET_DEFAULT_INITSIZE - SIZEOF_ASET_CONTEXT - ALLOC_BLOCKHDRSZ} free (1 chunks); ` +
      `${SIZEOF_ASET_CONTEXT + ALLOC_BLOCKHDRSZ} used`;

    it(`a pointer of a deleted context is refused only until its memory is reused (checking ${checking})`, () => {
      heap = MemoryContextInit(Heap.create({ initialSize: 1 << 20, maxSize: 1 << 22, checking }));
      const q = AllocSetContextCreate(TopMemoryContext, "q", ALLOCSET_DEFAULT_SIZES);
      const p = MemoryContextAlloc(q, 100);
      MemoryContextDelete(q);
      expect(AllocSet.cachedContexts(heap)).toEqual({ default: 1, small: 0 });
      // Caught right after the delete ...
      unchanged(
        () => pfree(p),
        InvalidPointerError,
        checking
          ? wiped(p)
          : `pfree called with invalid pointer ${p}: AllocSet.contextOf(): pointer ${p} is not a chunk of a live AllocSet of this heap`,
      );
      // ... not once a new context of the same sizes took the cached set.
      const q2 = AllocSetContextCreate(TopMemoryContext, "q2", ALLOCSET_DEFAULT_SIZES);
      expect(q2.node).toBe(q.node);
      const p2 = MemoryContextAlloc(q2, 100);
      expect(p2).toBe(p);
      expect(GetMemoryChunkContext(p)).toBe(q2);
      pfree(p); // the stale pointer frees q2's live chunk, silently
      expect(MemoryContextStats(q2).split("\n")[0]).toBe(oneFreeChunk("q2"));
      unchanged(() => pfree(p2), InvalidPointerError, doubleFree(p2));
    });

    it(`a pointer of a reset context is refused only until its memory is reused (checking ${checking})`, () => {
      heap = MemoryContextInit(Heap.create({ initialSize: 1 << 20, maxSize: 1 << 22, checking }));
      const r = AllocSetContextCreate(TopMemoryContext, "r", ALLOCSET_DEFAULT_SIZES);
      const p = MemoryContextAlloc(r, 100);
      MemoryContextReset(r);
      unchanged(
        () => pfree(p),
        InvalidPointerError,
        checking
          ? wiped(p)
          : `free(): pointer ${p} lies beyond the chunks carved from block ${r.node + SIZEOF_ASET_CONTEXT} (stale after reset?) (memory context "r")`,
      );
      const p2 = MemoryContextAlloc(r, 100);
      expect(p2).toBe(p);
      pfree(p); // frees the new chunk
      expect(MemoryContextStats(r).split("\n")[0]).toBe(oneFreeChunk("r"));
      unchanged(() => pfree(p2), InvalidPointerError, doubleFree(p2));
    });
  }

  it("checking mode: a write past the chunk end is caught by pfree and by MemoryContextCheck", () => {
    const p = palloc(5);
    heap.u8[p + 5] = 0; // the sentinel
    const damaged = `problem in alloc set TopMemoryContext: detected write past chunk end in block ${TopMemoryContext!.node + SIZEOF_ASET_CONTEXT}, chunk ${p - ALLOC_CHUNKHDRSZ_CHECKING}`;
    expect(() => MemoryContextCheck(TopMemoryContext!)).toThrow(
      new HeapCorruptionError(damaged, p + 5),
    );
    expect(() => MemoryContextCheck(TopMemoryContext!)).toThrow(HeapCorruptionError);
    expect(() => pfree(p)).toThrow(
      new HeapCorruptionError(
        `free(): detected write past chunk end in TopMemoryContext ${p - ALLOC_CHUNKHDRSZ_CHECKING} (pointer ${p}, requested size 5)`,
        p + 5,
      ),
    );
    expect(() => pfree(p)).toThrow(HeapCorruptionError);
    heap.u8[p + 5] = 0x7e;
    pfree(p);
    MemoryContextCheck(TopMemoryContext!);
  });

  it("MemoryContextCheck finds a damaged child link", () => {
    const a = AllocSetContextCreate(TopMemoryContext, "a");
    heap.i32[(a.node >> 2) + 10] = 8; // prevchild of the first child
    expect(() => MemoryContextCheck(TopMemoryContext!)).toThrow(
      new HeapCorruptionError(
        `problem in memory context "TopMemoryContext": child list link at node ${a.node} is damaged`,
        a.node,
      ),
    );
    heap.i32[(a.node >> 2) + 10] = 0;
    MemoryContextCheck(TopMemoryContext!);
  });
});

describe("contexts", () => {
  it("a deleted context cannot be used", () => {
    const c = AllocSetContextCreate(TopMemoryContext, "old");
    MemoryContextDelete(c);
    unchanged(
      () => MemoryContextAlloc(c, 8),
      InvalidStateError,
      'MemoryContextAlloc(): memory context "old" has been deleted',
    );
    unchanged(
      () => MemoryContextSwitchTo(c),
      InvalidStateError,
      'MemoryContextSwitchTo(): memory context "old" has been deleted',
    );
    unchanged(
      () => MemoryContextDelete(c),
      InvalidStateError,
      'MemoryContextDelete(): memory context "old" has been deleted',
    );
    unchanged(
      () => MemoryContextStats(c),
      InvalidStateError,
      'MemoryContextStatsDetail(): memory context "old" has been deleted',
    );
    unchanged(
      () => AllocSetContextCreate(c, "kid"),
      InvalidStateError,
      'AllocSetContextCreate(): memory context "old" has been deleted',
    );
    unchanged(
      () => c.children,
      InvalidStateError,
      'children(): memory context "old" has been deleted',
    );
  });

  it("what is not a context is refused", () => {
    unchanged(
      () => MemoryContextAlloc({} as MemoryContext, 8),
      MmgrError,
      "MemoryContextAlloc(): [object Object] is not a MemoryContext",
    );
    unchanged(
      () => MemoryContextReset(null as unknown as MemoryContext),
      MmgrError,
      "MemoryContextReset(): null is not a MemoryContext",
    );
    unchanged(
      () => AllocSetContextCreate(TopMemoryContext, 42 as unknown as string),
      MmgrError,
      "AllocSetContextCreate(): name 42 is not a string",
    );
  });

  it("bad block sizes are AllocSet's InvalidSizeError", () => {
    unchanged(
      () =>
        AllocSetContextCreate(TopMemoryContext, "x", {
          minContextSize: 0,
          initBlockSize: 100,
          maxBlockSize: 8192,
        }),
      InvalidSizeError,
      `AllocSet.create(): initBlockSize 100 is not a multiple of 8 from ${ALLOC_MIN_BLOCK_SIZE} to ${MEMORYCHUNK_MAX_BLOCKOFFSET}`,
    );
    unchanged(
      () => NgxPoolContextCreate(TopMemoryContext, "p", 100),
      InvalidSizeError,
      `NgxPool.create(): size 100 is not a multiple of ${NGX_POOL_ALIGNMENT} from ${NGX_MIN_POOL_SIZE} to ${HEAP_MAX_ALLOC_SIZE & ~(NGX_POOL_ALIGNMENT - 1)}`,
    );
  });

  it("CurrentMemoryContext and its ancestors cannot be deleted", () => {
    const q = AllocSetContextCreate(TopMemoryContext, "query");
    const t = AllocSetContextCreate(q, "tuple");
    MemoryContextSwitchTo(t);
    unchanged(
      () => MemoryContextDelete(t),
      InvalidStateError,
      'MemoryContextDelete(): cannot delete memory context "tuple": it is CurrentMemoryContext; switch to another context first',
    );
    unchanged(
      () => MemoryContextDelete(q),
      InvalidStateError,
      'MemoryContextDelete(): cannot delete memory context "query": CurrentMemoryContext ("tuple") is among its descendants',
    );
    unchanged(
      () => MemoryContextReset(q),
      InvalidStateError,
      'MemoryContextReset(): cannot delete the children of memory context "query": CurrentMemoryContext ("tuple") is among its descendants',
    );
    unchanged(
      () => MemoryContextDeleteChildren(q),
      InvalidStateError,
      'MemoryContextDeleteChildren(): cannot delete the children of memory context "query": CurrentMemoryContext ("tuple") is among its descendants',
    );
    expect(t.deleted).toBe(false);
  });

  it("TopMemoryContext and ErrorContext live until teardown", () => {
    unchanged(
      () => MemoryContextDelete(TopMemoryContext!),
      InvalidStateError,
      "MemoryContextDelete(): cannot delete TopMemoryContext: it lives until MemoryContextTeardown() or the next MemoryContextInit()",
    );
    unchanged(
      () => MemoryContextDelete(ErrorContext!),
      InvalidStateError,
      "MemoryContextDelete(): cannot delete ErrorContext: it lives until MemoryContextTeardown() or the next MemoryContextInit()",
    );
    unchanged(
      () => MemoryContextReset(TopMemoryContext!),
      InvalidStateError,
      'MemoryContextReset(): cannot delete the children of memory context "TopMemoryContext": ErrorContext ("ErrorContext") is among its descendants',
    );
  });

  it("SetParent refuses a cycle", () => {
    const a = AllocSetContextCreate(TopMemoryContext, "a");
    const b = AllocSetContextCreate(a, "b");
    unchanged(
      () => MemoryContextSetParent(a, b),
      MmgrError,
      'MemoryContextSetParent(): memory context "b" is "a" or one of its descendants: that would make a cycle',
    );
    unchanged(
      () => MemoryContextSetParent(a, a),
      MmgrError,
      'MemoryContextSetParent(): memory context "a" is "a" or one of its descendants: that would make a cycle',
    );
  });

  it("bad identifiers and callbacks are refused", () => {
    unchanged(
      () => MemoryContextSetIdentifier(TopMemoryContext!, 5 as unknown as string),
      MmgrError,
      "MemoryContextSetIdentifier(): identifier 5 is not a string",
    );
    unchanged(
      () => MemoryContextRegisterResetCallback(TopMemoryContext!, { func: 1 } as never),
      MmgrError,
      "MemoryContextRegisterResetCallback(): [object Object] is not a MemoryContextCallback ({ func, arg })",
    );
  });

  it("a context type cannot take a reserved or used method id", () => {
    const set = AllocSet.create(heap, "x", ALLOCSET_DEFAULT_SIZES);
    for (const methodId of [1, 3, 15, 16]) {
      unchanged(
        () => MemoryContextCreate({ ...AllocSetMethods, methodId }, TopMemoryContext, "x", set, 0),
        MmgrError,
        methodId === 3
          ? 'MemoryContextCreate(): method id 3 is already taken by context type "AllocSet"'
          : `MemoryContextCreate(): method id ${methodId} is reserved; use 0 (no chunk headers) or ${MCTX_FIRST_USER_ID}..${MCTX_LAST_USER_ID}`,
      );
    }
    expect(() =>
      MemoryContextCreate({ ...AllocSetMethods, methodId: 3 }, TopMemoryContext, "x", set, 0),
    ).toThrow('MemoryContextCreate(): method id 3 is already taken by context type "AllocSet"');
    set.delete();
  });
});
