import {
  BLOCK_HDR_SIZE,
  Heap,
  InvalidPointerError,
  InvalidSizeError,
  InvalidStateError,
  MAX_ALLOC_SIZE,
  OutOfMemoryError,
} from "@mmgr/heap";
import { describe, expect, it } from "vitest";
import {
  ALIGN,
  DefaultAlloc,
  freelistIndex,
  MAX_BYTES,
  MallocAlloc,
  NFREELISTS,
  NOBJS,
  POOL_SIZE,
  roundUp,
} from "../src/index.js";
import { POOL_FREE_LIST, POOL_MAGIC, POOL_MAGIC_VALUE } from "../src/layout.js";
import { exhaust, FIXED, KiB, lists, snapshot } from "./helpers.js";

const MODES = [
  { checking: false, threads: false },
  { checking: true, threads: false },
  { checking: false, threads: true },
  { checking: true, threads: true },
];

/** `_S_chunk_alloc`'s growth: 2 * total + roundUp(heapSize >> 4). */
const bytesToGet = (size: number, heapSize: number) => 2 * size * NOBJS + roundUp(heapSize >> 4);

describe("DefaultAlloc", () => {
  it("mallocs its control struct from the heap, all lists empty and no pool space", () => {
    const heap = Heap.create();
    const before = heap.stats().used;
    const pool = new DefaultAlloc(heap);
    expect(heap.stats().used).toBe(before + POOL_SIZE + BLOCK_HDR_SIZE);
    expect(heap.i32[(pool.control >> 2) + POOL_MAGIC]).toBe(POOL_MAGIC_VALUE);
    expect(pool.stats()).toEqual({ heapSize: 0, bytesLeft: 0, freeListLengths: lists({}) });
    expect(pool.threads).toBe(false);
    expect(pool.checking).toBe(false);
    expect(pool.firstLevel).toBeInstanceOf(MallocAlloc);
    expect(pool.firstLevel.heap).toBe(heap);
  });

  it("is one pool per instance: two pools on a heap share nothing", () => {
    const heap = Heap.create();
    const a = new DefaultAlloc(heap);
    const b = new DefaultAlloc(heap);
    a.allocate(8);
    expect(a.stats().heapSize).toBe(320);
    expect(b.stats()).toEqual({ heapSize: 0, bytesLeft: 0, freeListLengths: lists({}) });
  });

  it("throws OutOfMemoryError when the heap cannot give the control struct", () => {
    const heap = Heap.create(FIXED(8 * KiB));
    exhaust(heap);
    const before = snapshot(heap);
    expect(() => new DefaultAlloc(heap)).toThrow(OutOfMemoryError);
    expect(() => new DefaultAlloc(heap)).toThrow(
      `DefaultAlloc(): out of memory: the heap cannot give the pool's ${POOL_SIZE}-byte control struct`,
    );
    expect(snapshot(heap)).toEqual(before);
  });

  it("refuses a first level on another heap with InvalidStateError", () => {
    const heap = Heap.create();
    const other = new MallocAlloc(Heap.create());
    const before = snapshot(heap);
    expect(() => new DefaultAlloc(heap, { firstLevel: other })).toThrow(InvalidStateError);
    expect(() => new DefaultAlloc(heap, { firstLevel: other })).toThrow(
      "DefaultAlloc(): options.firstLevel is a MallocAlloc on another heap than the pool's",
    );
    expect(snapshot(heap)).toEqual(before);
  });
});

describe.each(MODES)(
  "DefaultAlloc golden figures (checking $checking, threads $threads)",
  (mode) => {
    const make = () => {
      const heap = Heap.create({ checking: mode.checking });
      return { heap, pool: new DefaultAlloc(heap, { threads: mode.threads }) };
    };

    it("allocate(8) on a fresh pool: heapSize 320, 19 on list 0, 160 left; then allocate(16): 9 on list 1, 0 left", () => {
      const { pool } = make();
      const a = pool.allocate(8);
      expect(bytesToGet(8, 0)).toBe(320);
      expect(pool.stats()).toEqual({
        heapSize: 320,
        bytesLeft: 320 - NOBJS * 8,
        freeListLengths: lists({ 0: NOBJS - 1 }),
      });
      const b = pool.allocate(16);
      expect(b).toBe(a + NOBJS * 8); // the rest of the chunk, 10 objects of 16
      expect(pool.stats()).toEqual({
        heapSize: 320,
        bytesLeft: 0,
        freeListLengths: lists({ 0: 19, 1: 9 }),
      });
      pool.check();
    });

    it("threads the refill's objects in address order through their first word", () => {
      const { heap, pool } = make();
      const a = pool.allocate(8);
      const i32 = heap.i32;
      expect(i32[(pool.control >> 2) + POOL_FREE_LIST]).toBe(a + 8);
      for (let k = 1; k < NOBJS - 1; k++) expect(i32[(a + k * 8) >> 2]).toBe(a + (k + 1) * 8);
      expect(i32[(a + (NOBJS - 1) * 8) >> 2]).toBe(0);
      expect(pool.allocate(8)).toBe(a + 8);
      expect(pool.allocate(1)).toBe(a + 16);
    });

    it("follows libstdc++'s verified trace (ORIGINALS.md §3.4) figure by figure", () => {
      const { heap, pool } = make();
      const a1 = pool.allocate(8);
      expect(pool.allocate(8)).toBe(a1 + 8);
      expect(pool.allocate(16)).toBe(a1 + 160);
      expect(pool.stats()).toEqual({
        heapSize: 320,
        bytesLeft: 0,
        freeListLengths: lists({ 0: 18, 1: 9 }),
      });

      // allocate(32): the pool is empty, new chunk 2 * 640 + roundUp(320 >> 4) = 1304
      const c2 = pool.allocate(32);
      expect(bytesToGet(32, 320)).toBe(1304);
      expect(pool.stats()).toEqual({
        heapSize: 320 + 1304,
        bytesLeft: 1304 - 640,
        freeListLengths: lists({ 0: 18, 1: 9, 3: 19 }),
      });

      // allocate(128): 664 left holds 5 of them, 24 stay
      expect(pool.allocate(128)).toBe(c2 + 640);
      expect(pool.stats()).toEqual({
        heapSize: 1624,
        bytesLeft: 24,
        freeListLengths: lists({ 0: 18, 1: 9, 3: 19, 15: 4 }),
      });

      // allocate(129): the first level, the pool untouched
      const used = heap.stats().used;
      const big = pool.allocate(129);
      expect(heap.usableSize(big)).toBeGreaterThanOrEqual(129);
      expect(heap.stats().used).toBeGreaterThan(used);
      expect(pool.stats().heapSize).toBe(1624);

      // allocate(1): list 0
      expect(pool.allocate(1)).toBe(a1 + 16);

      // allocate(24) x 25: the 24 left are exactly one; then 2 * 480 + roundUp(1624 >> 4) = 1064
      expect(pool.allocate(24)).toBe(c2 + 1280);
      expect(pool.stats().bytesLeft).toBe(0);
      expect(pool.stats().freeListLengths[2]).toBe(0);
      const c3 = pool.allocate(24);
      expect(bytesToGet(24, 1624)).toBe(1064);
      expect(pool.stats()).toEqual({
        heapSize: 2688,
        bytesLeft: 1064 - 480,
        freeListLengths: lists({ 0: 17, 1: 9, 2: 19, 3: 19, 15: 4 }),
      });
      for (let i = 3; i <= 21; i++) pool.allocate(24);
      expect(pool.stats().freeListLengths[2]).toBe(0);
      expect(pool.allocate(24)).toBe(c3 + 480); // refill from the 584 left
      for (let i = 23; i <= 25; i++) pool.allocate(24);
      expect(pool.stats()).toEqual({
        heapSize: 2688,
        bytesLeft: 104,
        freeListLengths: lists({ 0: 17, 1: 9, 2: 16, 3: 19, 15: 4 }),
      });

      // allocate(64) x 30: 104 left is one; the 40 left go to list 4; 2 * 1280 + roundUp(2688 >> 4) = 2728
      expect(pool.allocate(64)).toBe(c3 + 960);
      expect(pool.stats().bytesLeft).toBe(40);
      const c4 = pool.allocate(64);
      expect(bytesToGet(64, 2688)).toBe(2728);
      expect(pool.stats()).toEqual({
        heapSize: 5416,
        bytesLeft: 2728 - 1280,
        freeListLengths: lists({ 0: 17, 1: 9, 2: 16, 3: 19, 4: 1, 7: 19, 15: 4 }),
      });
      for (let i = 3; i <= 30; i++) pool.allocate(64);
      expect(pool.stats()).toEqual({
        heapSize: 5416,
        bytesLeft: 168,
        freeListLengths: lists({ 0: 17, 1: 9, 2: 16, 3: 19, 4: 1, 7: 11, 15: 4 }),
      });
      expect(c4).toBeGreaterThan(0);

      // allocate(120) x 40: 168 left is one; 48 go to list 5; 2 * 2400 + roundUp(5416 >> 4) = 5144
      pool.allocate(120);
      expect(pool.stats().bytesLeft).toBe(48);
      pool.allocate(120);
      expect(bytesToGet(120, 5416)).toBe(5144);
      expect(pool.stats().heapSize).toBe(10560);
      for (let i = 3; i <= 40; i++) pool.allocate(120);
      expect(pool.stats()).toEqual({
        heapSize: 10560,
        bytesLeft: 344,
        freeListLengths: lists({ 0: 17, 1: 9, 2: 16, 3: 19, 4: 1, 5: 1, 7: 11, 14: 1, 15: 4 }),
      });

      // The 40-byte leftover is the head of list 4; deallocate(x, 40) then allocate(33) is x again
      const x = pool.allocate(40);
      expect(x).toBe(c3 + 1024);
      pool.deallocate(x, 40);
      expect(pool.allocate(33)).toBe(x);
      expect(pool.stats().freeListLengths).toEqual(
        lists({ 0: 17, 1: 9, 2: 16, 3: 19, 5: 1, 7: 11, 14: 1, 15: 4 }),
      );
      pool.check();
      heap.check();
    });

    it("pops what deallocate pushed, last in first out, and never gives a chunk back", () => {
      const { heap, pool } = make();
      const a = pool.allocate(40);
      const b = pool.allocate(40);
      const used = heap.stats().used;
      pool.deallocate(a, 40);
      pool.deallocate(b, 37); // same class as 40
      expect(pool.stats().freeListLengths[4]).toBe(NOBJS);
      expect(heap.stats().used).toBe(used);
      expect(pool.allocate(33)).toBe(b);
      expect(pool.allocate(40)).toBe(a);
    });

    it("sends allocate and deallocate above MAX_BYTES to the heap", () => {
      const { heap, pool } = make();
      const before = heap.stats();
      const p = pool.allocate(MAX_BYTES + 1);
      expect(heap.stats().allocations).toBe(before.allocations + 1);
      expect(pool.stats()).toEqual({ heapSize: 0, bytesLeft: 0, freeListLengths: lists({}) });
      pool.deallocate(p, MAX_BYTES + 1);
      expect(heap.stats()).toEqual({ ...before, peakUsed: heap.stats().peakUsed });
    });

    it("serves exactly MAX_BYTES from list 15", () => {
      const { pool } = make();
      pool.allocate(MAX_BYTES);
      expect(pool.stats().freeListLengths).toEqual(lists({ [NFREELISTS - 1]: NOBJS - 1 }));
      expect(pool.stats().heapSize).toBe(bytesToGet(MAX_BYTES, 0));
    });
  },
);

describe("DefaultAlloc.reallocate", () => {
  const make = () => {
    const heap = Heap.create({ checking: true });
    return { heap, pool: new DefaultAlloc(heap) };
  };

  it("returns the same pointer when both sizes round to the same class", () => {
    const { pool } = make();
    const p = pool.allocate(33);
    const stats = pool.stats();
    expect(pool.reallocate(p, 33, 40)).toBe(p);
    expect(pool.reallocate(p, 40, 34)).toBe(p);
    expect(pool.stats()).toEqual(stats);
  });

  it("moves between classes: allocate, copy min(old, new), deallocate", () => {
    const { heap, pool } = make();
    const p = pool.allocate(24);
    for (let i = 0; i < 24; i++) heap.u8[p + i] = i + 1;
    const q = pool.reallocate(p, 24, 100);
    expect(q).not.toBe(p);
    expect([...heap.u8.subarray(q, q + 24)]).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
    expect(pool.stats().freeListLengths[freelistIndex(24)]).toBe(NOBJS);
    expect(pool.allocate(24)).toBe(p); // p went back on its list
    const r = pool.reallocate(q, 100, 10);
    expect([...heap.u8.subarray(r, r + 10)]).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    pool.check();
  });

  it("crosses MAX_BYTES both ways through the first level", () => {
    const { heap, pool } = make();
    const p = pool.allocate(64);
    heap.u8.fill(0xab, p, p + 64);
    const allocations = heap.stats().allocations;
    const big = pool.reallocate(p, 64, 300);
    expect(heap.stats().allocations).toBe(allocations + 1);
    expect(heap.u8.subarray(big, big + 64).every((x) => x === 0xab)).toBe(true);
    expect(pool.stats().freeListLengths[7]).toBe(NOBJS);
    const small = pool.reallocate(big, 300, 16);
    expect(heap.stats().allocations).toBe(allocations);
    expect(heap.u8.subarray(small, small + 16).every((x) => x === 0xab)).toBe(true);
    heap.check();
    pool.check();
  });

  it("uses the heap's realloc when both sizes are above MAX_BYTES", () => {
    const { heap, pool } = make();
    const p = pool.allocate(200);
    heap.u8.fill(7, p, p + 200);
    const q = pool.reallocate(p, 200, 4000);
    expect(heap.usableSize(q)).toBe(4000);
    expect(heap.u8.subarray(q, q + 200).every((x) => x === 7)).toBe(true);
    expect(pool.stats().heapSize).toBe(0);
  });

  it("returns 0 without calling the malloc handler when that realloc fails, as stl_alloc.h", () => {
    const heap = Heap.create(FIXED(16 * KiB));
    const pool = new DefaultAlloc(heap);
    const p = pool.allocate(200);
    heap.u8.fill(9, p, p + 200);
    exhaust(heap);
    let calls = 0;
    pool.firstLevel.setMallocHandler(() => {
      calls++;
    });
    expect(pool.reallocate(p, 200, 8000)).toBe(0);
    expect(calls).toBe(0);
    expect(heap.u8.subarray(p, p + 200).every((x) => x === 9)).toBe(true);
    heap.check();
  });
});

describe("DefaultAlloc scavenging and the first-level fallback", () => {
  /**
   * A 16 KiB heap with one 5120-byte chunk carved into 20 objects of 128 and
   * 40 of 64 (pool space 0, lists 15 and 7 holding 19 each), then filled.
   */
  function drained(checking = false) {
    const heap = Heap.create(FIXED(16 * KiB, checking));
    const pool = new DefaultAlloc(heap);
    const c = pool.allocate(128); // 2 * 2560 = 5120: 2560 carved
    for (let i = 0; i < 21; i++) pool.allocate(64); // 1280 + 1280 carved
    expect(pool.stats()).toEqual({
      heapSize: 5120,
      bytesLeft: 0,
      freeListLengths: lists({ 7: 19, 15: 19 }),
    });
    const hogs = exhaust(heap);
    return { heap, pool, c, hogs };
  }

  it.each([false, true])(
    "carves the first object of this or a larger class into the pool when the heap is full (checking %s)",
    (checking) => {
      const { heap, pool, c } = drained(checking);
      // allocate(8): malloc(2 * 160 + roundUp(5120 >> 4)) fails; list 7 is the first non-empty
      // from class 0 up; its head (object 2 of the second 64-byte refill) becomes 8 objects of 8.
      const head = c + 2560 + 1280 + 64;
      expect(pool.allocate(8)).toBe(head);
      expect(pool.stats()).toEqual({
        heapSize: 5120,
        bytesLeft: 0,
        freeListLengths: lists({ 0: 64 / 8 - 1, 7: 18, 15: 19 }),
      });
      // allocate(16): same again, 4 objects of 16
      expect(pool.allocate(16)).toBe(head + 64);
      expect(pool.stats().freeListLengths).toEqual(lists({ 0: 7, 1: 3, 7: 17, 15: 19 }));
      pool.check();
      heap.check();
    },
  );

  it("takes a larger class only when the smaller ones are empty", () => {
    const { pool, c } = drained();
    for (let i = 0; i < 19; i++) pool.allocate(64); // list 7 empty
    expect(pool.allocate(72)).toBe(c + 128); // list 15's head, 1 object of 72, 56 left
    expect(pool.stats()).toEqual({
      heapSize: 5120,
      bytesLeft: 56,
      freeListLengths: lists({ 15: 18 }),
    });
  });

  it("never scavenges a smaller class: with only list 0 free, bad_alloc", () => {
    const heap = Heap.create(FIXED(16 * KiB));
    const pool = new DefaultAlloc(heap);
    pool.allocate(8); // 320: list 0 holds 19, 160 left
    pool.allocate(16); // 160 left hold 10 of 16
    for (let i = 0; i < 9; i++) pool.allocate(16); // list 1 empty
    exhaust(heap);
    expect(() => pool.allocate(16)).toThrow(OutOfMemoryError);
    expect(pool.stats()).toEqual({
      heapSize: 320,
      bytesLeft: 0,
      freeListLengths: lists({ 0: 19 }),
    });
  });

  it("falls back to the first level: no handler, OutOfMemoryError (bad_alloc) and the pool unchanged", () => {
    const heap = Heap.create(FIXED(8 * KiB));
    const pool = new DefaultAlloc(heap);
    exhaust(heap);
    const before = snapshot(heap, pool);
    expect(() => pool.allocate(8)).toThrow(OutOfMemoryError);
    expect(() => pool.allocate(8)).toThrow(
      "MallocAlloc.allocate(): out of memory (bad_alloc): the heap cannot give 320 bytes and no malloc handler is set",
    );
    expect(snapshot(heap, pool)).toEqual(before);
  });

  it("puts the leftover on its list and leaves an empty, consistent pool when it throws", () => {
    const heap = Heap.create(FIXED(16 * KiB));
    const pool = new DefaultAlloc(heap);
    pool.allocate(120); // 4800: 2400 carved, 2400 left
    for (let i = 0; i < 19; i++) pool.allocate(120);
    pool.allocate(120); // refill: 2400 - 2400 = 0 left, list 14 holds 19 again
    pool.allocate(8); // 2 * 160 + roundUp(4800 >> 4) = 320 + 304 = 624: 464 left
    expect(pool.stats().bytesLeft).toBe(464);
    pool.allocate(128); // 464 holds 3 of 128: 80 left, list 15 holds 2
    pool.allocate(128);
    pool.allocate(128); // list 15 empty
    expect(pool.stats().bytesLeft).toBe(80);
    exhaust(heap);
    let caught: unknown;
    try {
      pool.allocate(128); // 80 < 128: 80 go to list 9; malloc fails; nothing to scavenge
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(OutOfMemoryError);
    expect((caught as OutOfMemoryError).size).toBe(2 * 128 * NOBJS + roundUp(5424 >> 4));
    expect(pool.stats()).toEqual({
      heapSize: 4800 + 624,
      bytesLeft: 0,
      freeListLengths: lists({ 0: 19, 9: 1, 14: 19 }),
    });
    pool.check();
    expect(pool.allocate(80)).toBeGreaterThan(0); // the leftover
  });

  it("runs the malloc handler loop and keeps going once it has freed memory", () => {
    const heap = Heap.create(FIXED(8 * KiB));
    const pool = new DefaultAlloc(heap);
    const hogs = exhaust(heap);
    let calls = 0;
    pool.firstLevel.setMallocHandler(() => {
      calls++;
      if (calls === 3) heap.free(hogs[0]);
    });
    const p = pool.allocate(8);
    expect(calls).toBe(3);
    expect(p).toBe(hogs[0]); // the chunk took the freed hog's place
    expect(pool.stats()).toEqual({
      heapSize: 320,
      bytesLeft: 160,
      freeListLengths: lists({ 0: 19 }),
    });
  });

  it("shares a first level (and its handler) passed in the options", () => {
    const heap = Heap.create(FIXED(8 * KiB));
    const first = new MallocAlloc(heap);
    const pool = new DefaultAlloc(heap, { firstLevel: first });
    expect(pool.firstLevel).toBe(first);
    const hogs = exhaust(heap);
    let calls = 0;
    first.setMallocHandler(() => {
      calls++;
      heap.free(hogs.pop()!);
    });
    pool.allocate(200);
    expect(calls).toBe(1);
  });
});

describe("DefaultAlloc bad input", () => {
  const make = () => {
    const heap = Heap.create(FIXED(64 * KiB));
    const pool = new DefaultAlloc(heap);
    const p = pool.allocate(16);
    return { heap, pool, p };
  };
  const BAD_SIZES = [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, MAX_ALLOC_SIZE + 1, "8"];
  const text = (v: unknown) => (typeof v === "string" ? JSON.stringify(v) : String(v));

  it.each(BAD_SIZES)("allocate(%o) throws InvalidSizeError and changes nothing", (n) => {
    const { heap, pool } = make();
    const before = snapshot(heap, pool);
    expect(() => pool.allocate(n as number)).toThrow(InvalidSizeError);
    expect(() => pool.allocate(n as number)).toThrow(
      `DefaultAlloc.allocate(): invalid size ${text(n)}: not an integer from 1 to ${MAX_ALLOC_SIZE}`,
    );
    expect(snapshot(heap, pool)).toEqual(before);
  });

  it.each(BAD_SIZES)("deallocate(p, %o) throws InvalidSizeError and changes nothing", (n) => {
    const { heap, pool, p } = make();
    const before = snapshot(heap, pool);
    expect(() => pool.deallocate(p, n as number)).toThrow(InvalidSizeError);
    expect(() => pool.deallocate(p, n as number)).toThrow(
      `DefaultAlloc.deallocate(): invalid size ${text(n)}`,
    );
    expect(snapshot(heap, pool)).toEqual(before);
  });

  it.each(BAD_SIZES)(
    "reallocate with a size %o throws InvalidSizeError and changes nothing",
    (n) => {
      const { heap, pool, p } = make();
      const before = snapshot(heap, pool);
      expect(() => pool.reallocate(p, n as number, 16)).toThrow(InvalidSizeError);
      expect(() => pool.reallocate(p, 16, n as number)).toThrow(
        `DefaultAlloc.reallocate(): invalid size ${text(n)}`,
      );
      expect(snapshot(heap, pool)).toEqual(before);
    },
  );

  it.each([0, -8, 3, 1.5, Number.NaN, 64 * KiB, "16"])(
    "deallocate and reallocate of pointer %o throw InvalidPointerError and change nothing",
    (ptr) => {
      const { heap, pool } = make();
      const before = snapshot(heap, pool);
      expect(() => pool.deallocate(ptr as number, 16)).toThrow(InvalidPointerError);
      expect(() => pool.deallocate(ptr as number, 16)).toThrow(
        `DefaultAlloc.deallocate(): pointer ${text(ptr)} (size 16) is not an 8-aligned offset inside the arena`,
      );
      expect(() => pool.deallocate(ptr as number, 500)).toThrow(InvalidPointerError);
      expect(() => pool.reallocate(ptr as number, 16, 32)).toThrow(
        `DefaultAlloc.reallocate(): pointer ${text(ptr)} (size 16) is not an 8-aligned offset inside the arena`,
      );
      expect(snapshot(heap, pool)).toEqual(before);
    },
  );

  it("refuses above MAX_BYTES what the heap refuses, naming the pool, without checking mode", () => {
    const { heap, pool, p } = make();
    const big = pool.allocate(200);
    pool.deallocate(big, 200);
    const before = snapshot(heap, pool);
    expect(() => pool.deallocate(big, 200)).toThrow(InvalidPointerError);
    expect(() => pool.deallocate(big, 200)).toThrow(
      `DefaultAlloc.deallocate(): free(): pointer ${big} was already freed (double free)`,
    );
    expect(() => pool.reallocate(p + 8, 200, 300)).toThrow(
      `DefaultAlloc.reallocate(): realloc(): pointer ${p + 8}`,
    );
    // large to small: the pointer is checked before anything is allocated
    expect(() => pool.reallocate(big, 200, 16)).toThrow(
      `DefaultAlloc.reallocate(): usableSize(): pointer ${big} was already freed (double free)`,
    );
    expect(snapshot(heap, pool)).toEqual(before);
  });

  it("has no per-object record without checking mode: a wrong size goes unnoticed (as the original)", () => {
    const { pool } = make();
    const a = pool.allocate(8);
    pool.deallocate(a, 16); // lands on list 1, which make() refilled
    expect(pool.stats().freeListLengths[1]).toBe(NOBJS - 1 + 1);
    expect(pool.allocate(16)).toBe(a);
  });

  it("keeps ALIGN-multiples: every pointer is 8-aligned", () => {
    const { pool } = make();
    for (let n = 1; n <= 300; n += 7) expect(pool.allocate(n) % ALIGN).toBe(0);
  });
});
