import { Heap, InvalidStateError } from "@mmgr/heap";
import { describe, expect, it } from "vitest";
import { DefaultAlloc } from "../src/index.js";
import { POOL_FLAG_THREADS, POOL_FLAGS, POOL_LOCK } from "../src/layout.js";
import { exhaust, FIXED, KiB, lists, snapshot } from "./helpers.js";

const lockWord = (heap: Heap, pool: DefaultAlloc) => heap.i32[(pool.control >> 2) + POOL_LOCK];

describe("DefaultAlloc threads", () => {
  it("chooses the implementation once: no lock code at all without threads", () => {
    const heap = Heap.create();
    const plain = new DefaultAlloc(heap);
    const locked = new DefaultAlloc(heap, { threads: true });
    expect(Object.getPrototypeOf(plain)).toBe(DefaultAlloc.prototype);
    expect(Object.getPrototypeOf(locked)).not.toBe(DefaultAlloc.prototype);
    expect(locked).toBeInstanceOf(DefaultAlloc);
    expect(locked.threads).toBe(true);
    expect(heap.i32[(locked.control >> 2) + POOL_FLAGS]).toBe(POOL_FLAG_THREADS);
  });

  it("without threads never reads the lock word", () => {
    const heap = Heap.create();
    const pool = new DefaultAlloc(heap);
    heap.i32[(pool.control >> 2) + POOL_LOCK] = 12345;
    const p = pool.allocate(8);
    pool.deallocate(p, 8);
    pool.check();
    expect(pool.stats().freeListLengths).toEqual(lists({ 0: 20 }));
    expect(lockWord(heap, pool)).toBe(12345);
  });

  it("takes and releases the lock around every free-list operation", () => {
    const heap = Heap.create();
    const pool = new DefaultAlloc(heap, { threads: true });
    const p = pool.allocate(8);
    expect(lockWord(heap, pool)).toBe(0);
    pool.deallocate(p, 8);
    expect(lockWord(heap, pool)).toBe(0);
    const q = pool.reallocate(pool.allocate(8), 8, 64);
    expect(lockWord(heap, pool)).toBe(0);
    pool.deallocate(q, 64);
    pool.stats();
    pool.check();
    expect(lockWord(heap, pool)).toBe(0);
  });

  it("holds the lock during a refill, also while the malloc handler runs (as SGI's _Lock)", () => {
    const heap = Heap.create(FIXED(8 * KiB));
    const pool = new DefaultAlloc(heap, { threads: true });
    const hogs = exhaust(heap);
    let seen = 0;
    pool.firstLevel.setMallocHandler(() => {
      seen = lockWord(heap, pool);
      heap.free(hogs[0]);
    });
    pool.allocate(8);
    expect(seen).not.toBe(0);
    expect(lockWord(heap, pool)).toBe(0);
  });

  /** A full 8 KiB heap whose pool space is empty: allocate(24) must reach the first level. */
  function drained(threads: boolean) {
    const heap = Heap.create(FIXED(8 * KiB));
    const pool = new DefaultAlloc(heap, { threads });
    const early = pool.allocate(200); // a first-level block
    const small = pool.allocate(8); // 320: 160 left
    pool.allocate(16); // the 160 left: 0 left
    const hogs = exhaust(heap);
    return { heap, pool, small, hogs, early };
  }

  it("throws InvalidStateError instead of deadlocking when the handler re-enters the pool, and releases the lock", () => {
    const { heap, pool, small, hogs, early } = drained(true);
    pool.firstLevel.setMallocHandler(() => pool.deallocate(small, 8));
    expect(() => pool.allocate(24)).toThrow(InvalidStateError);
    expect(() => pool.allocate(24)).toThrow(
      "DefaultAlloc: the pool's lock is held by this very thread: a call re-entered the pool during a free-list operation (from the malloc handler?), which would deadlock",
    );
    expect(lockWord(heap, pool)).toBe(0);
    expect(pool.stats().freeListLengths).toEqual(lists({ 0: 19, 1: 9 }));
    // Above MAX_BYTES deallocate goes to the heap and takes no lock.
    let calls = 0;
    pool.firstLevel.setMallocHandler(() => {
      calls++;
      if (calls === 1) pool.deallocate(early, 200);
      else heap.free(hogs[0]);
    });
    expect(pool.allocate(24)).toBeGreaterThan(0);
    expect(calls).toBe(2);
    expect(lockWord(heap, pool)).toBe(0);
  });

  it("on a shared heap, throws for a re-entered pool instead of waiting for ever, also through another handle of the thread", () => {
    const heap = Heap.create({ shared: true, initialSize: 64 * KiB, maxSize: 64 * KiB });
    const pool = new DefaultAlloc(heap, { threads: true });
    const other = DefaultAlloc.attach(Heap.attach(heap.buffer), pool.offset);
    const small = pool.allocate(8);
    pool.allocate(16); // the pool space is empty
    const hogs = exhaust(heap);
    for (const via of [pool, other]) {
      pool.firstLevel.setMallocHandler(() => via.deallocate(small, 8));
      expect(() => pool.allocate(24)).toThrow(
        /^DefaultAlloc: the pool's lock is held by this very thread: a call re-entered the pool/,
      );
      expect(lockWord(heap, pool)).toBe(0);
    }
    expect(pool.stats().freeListLengths).toEqual(lists({ 0: 19, 1: 9 }));
    pool.firstLevel.setMallocHandler(() => heap.free(hogs[0]));
    expect(pool.allocate(24)).toBeGreaterThan(0);
    other.deallocate(small, 8);
    other.check();
  });

  it("without threads, the handler may re-enter the pool", () => {
    const { heap, pool, small, hogs } = drained(false);
    pool.firstLevel.setMallocHandler(() => {
      pool.deallocate(small, 8);
      heap.free(hogs[0]);
    });
    pool.allocate(24);
    expect(pool.stats().freeListLengths).toEqual(lists({ 0: 20, 1: 9, 2: 19 }));
  });

  it("refuses to spin on a lock nobody can release on an unshared heap", () => {
    const heap = Heap.create();
    const pool = new DefaultAlloc(heap, { threads: true });
    const p = pool.allocate(8);
    heap.i32[(pool.control >> 2) + POOL_LOCK] = 12345;
    const before = snapshot(heap);
    expect(() => pool.allocate(8)).toThrow(InvalidStateError);
    expect(() => pool.deallocate(p, 8)).toThrow(
      "DefaultAlloc: the pool's lock word reads 12345, a lock no handle of this unshared heap holds: nobody could ever release it",
    );
    expect(snapshot(heap)).toEqual(before);
  });
});
