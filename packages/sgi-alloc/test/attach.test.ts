import { BLOCK_HDR_SIZE, Heap, InvalidStateError } from "@mmgr/heap";
import { describe, expect, it } from "vitest";
import { DefaultAlloc, MallocAlloc, POOL_SIZE } from "../src/index.js";
import { POOL_FLAG_CHECKING, POOL_FLAGS, POOL_MAGIC, POOL_MAGIC_VALUE } from "../src/layout.js";
import { KiB, lists, snapshot } from "./helpers.js";

const MiB = 1024 * KiB;

/** Expects attach to refuse `offset` with `why`, writing nothing. */
function refuses(heap: Heap, offset: unknown, why: string): void {
  const before = snapshot(heap);
  const call = () => DefaultAlloc.attach(heap, offset as number);
  expect(call).toThrow(InvalidStateError);
  const shown = typeof offset === "string" ? JSON.stringify(offset) : String(offset);
  expect(call).toThrow(`DefaultAlloc.attach(): no pool at offset ${shown}: ${why}`);
  expect(snapshot(heap)).toEqual(before);
}

/** A heap block of `bytes` whose first words look like a pool's: the magic and `flags`. */
function fake(heap: Heap, bytes: number, flags: number): number {
  const p = heap.malloc(bytes);
  heap.u8.fill(0, p, p + bytes);
  heap.i32[(p >> 2) + POOL_MAGIC] = POOL_MAGIC_VALUE;
  heap.i32[(p >> 2) + POOL_FLAGS] = flags;
  return p;
}

describe("DefaultAlloc.attach", () => {
  it("gives another handle on a threads pool: locked, sharing every list, writing nothing", () => {
    const heap = Heap.create();
    const pool = new DefaultAlloc(heap, { threads: true });
    expect(pool.offset).toBe(pool.control);
    const p = pool.allocate(8);
    const before = snapshot(heap, pool);
    const other = DefaultAlloc.attach(heap, pool.offset);
    expect(snapshot(heap, pool)).toEqual(before);
    expect(other).not.toBe(pool);
    expect(Object.getPrototypeOf(other)).toBe(Object.getPrototypeOf(pool));
    expect(Object.getPrototypeOf(other)).not.toBe(DefaultAlloc.prototype);
    expect(other.heap).toBe(heap);
    expect(other).toMatchObject({ offset: pool.offset, control: pool.offset, threads: true });
    expect(other.checking).toBe(false);
    expect(other.firstLevel).not.toBe(pool.firstLevel);
    expect(other.firstLevel.heap).toBe(heap);
    expect(other.stats()).toEqual(pool.stats());
    other.deallocate(p, 8); // freed through the other handle: back on the one list
    expect(pool.stats().freeListLengths).toEqual(lists({ 0: 20 }));
    expect(pool.allocate(8)).toBe(p);
    const q = other.allocate(16); // carved from the pool space both handles see
    expect(pool.stats()).toEqual({
      heapSize: 320,
      bytesLeft: 0,
      freeListLengths: lists({ 0: 19, 1: 9 }),
    });
    pool.deallocate(q, 16);
    other.check();
  });

  it("gives a plain handle on a pool made without threads", () => {
    const heap = Heap.create({ checking: true });
    const pool = new DefaultAlloc(heap);
    const p = pool.allocate(24);
    const other = DefaultAlloc.attach(heap, pool.offset);
    expect(Object.getPrototypeOf(other)).toBe(DefaultAlloc.prototype);
    expect(other).toMatchObject({ threads: false, checking: true, offset: pool.offset });
    other.deallocate(p, 24);
    expect(() => pool.deallocate(p, 24)).toThrow(/double free/);
    pool.check();
  });

  it("uses the first level it is given, which must be on the pool's heap", () => {
    const heap = Heap.create();
    const pool = new DefaultAlloc(heap, { threads: true });
    const firstLevel = new MallocAlloc(heap);
    expect(DefaultAlloc.attach(heap, pool.offset, { firstLevel }).firstLevel).toBe(firstLevel);
    const elsewhere = new MallocAlloc(Heap.create());
    expect(() => DefaultAlloc.attach(heap, pool.offset, { firstLevel: elsewhere })).toThrow(
      "DefaultAlloc(): options.firstLevel is a MallocAlloc on another heap than the pool's",
    );
  });

  it("shares a threads pool between two handles of one shared heap in one thread", () => {
    const heap = Heap.create({ shared: true, initialSize: 256 * KiB, maxSize: 4 * MiB });
    const pool = new DefaultAlloc(heap, { threads: true });
    const view = Heap.attach(heap.buffer);
    const other = DefaultAlloc.attach(view, pool.offset);
    expect(other.threads).toBe(true);
    const ptrs = Array.from({ length: 100 }, (_, i) => other.allocate(1 + (i % 128)));
    for (let i = 0; i < 100; i++) pool.deallocate(ptrs[i], 1 + (i % 128));
    const big = pool.allocate(1000); // the first level: the heap's malloc
    other.deallocate(big, 1000);
    const { heapSize, bytesLeft, freeListLengths } = other.stats();
    let free = 0;
    for (let cls = 0; cls < 16; cls++) free += freeListLengths[cls] * (cls + 1) * 8;
    expect(free + bytesLeft).toBe(heapSize);
    pool.check();
    other.check();
    heap.check();
  });

  it.each([true, false])(
    "threads %s: a handle whose views end before a chunk another handle obtained re-acquires them before it pops",
    (threads) => {
      const heap = Heap.create({ shared: true, initialSize: 64 * KiB, maxSize: 4 * MiB });
      const pool = new DefaultAlloc(heap, { threads });
      const view = Heap.attach(heap.buffer);
      const other = DefaultAlloc.attach(view, pool.offset);
      const seen = view.u8.byteLength;
      // The first handle refills list 1 until its objects lie past the other's views.
      let p = 0;
      do p = pool.allocate(16);
      while (p < seen);
      pool.deallocate(p, 16); // the head of list 1, linking to its neighbour
      expect(view.u8.byteLength).toBe(seen);
      const length = pool.stats().freeListLengths[1];
      expect(length).toBeGreaterThan(1);
      expect(other.allocate(16)).toBe(p);
      expect(pool.stats().freeListLengths[1]).toBe(length - 1);
      expect(other.allocate(16)).toBe(p + 16);
      expect(view.u8.byteLength).toBeGreaterThan(p);
      other.deallocate(p, 16);
      other.deallocate(p + 16, 16);
      expect(pool.stats().freeListLengths[1]).toBe(length);
      pool.check();
    },
  );

  it("a handle pops an object that straddles the end of its views only after re-acquiring them", () => {
    const heap = Heap.create({ shared: true, initialSize: 64 * KiB, maxSize: 4 * MiB });
    const pool = new DefaultAlloc(heap, { threads: true });
    const view = Heap.attach(heap.buffer);
    const other = DefaultAlloc.attach(view, pool.offset);
    const seen = view.u8.byteLength;
    let p = 0;
    do p = pool.allocate(128);
    while (p + 128 <= seen);
    expect(p).toBeLessThan(seen); // its first bytes inside the views, its last past them
    pool.deallocate(p, 128);
    expect(other.allocate(128)).toBe(p);
    expect(view.u8.byteLength).toBeGreaterThanOrEqual(p + 128);
    view.u8.fill(9, p, p + 128); // every byte reaches the arena
    expect(heap.u8.subarray(p, p + 128).every((b) => b === 9)).toBe(true);
    other.deallocate(p, 128);
    pool.check();
  });

  it("refuses an offset where no pool is, writing nothing", () => {
    const heap = Heap.create({ initialSize: 64 * KiB, maxSize: 64 * KiB });
    const pool = new DefaultAlloc(heap);
    const size = heap.size;
    const where = `not an 8-aligned offset of a ${POOL_SIZE}-byte struct inside the arena (which ends at ${size})`;
    for (const bad of [0, -8, pool.offset + 4, 1.5, Number.NaN, "16", size, size - 8]) {
      refuses(heap, bad, where);
    }
    const block = `not a live heap block of at least ${POOL_SIZE} bytes`;
    // Inside a pool chunk, in the middle of the control struct, a freed block, a small block.
    const obj = pool.allocate(64) + 64 * 2;
    heap.u8.fill(0, obj - BLOCK_HDR_SIZE, obj);
    refuses(heap, obj, block);
    refuses(heap, pool.offset + 8, block);
    const freed = fake(heap, POOL_SIZE, 0);
    heap.free(freed);
    refuses(heap, freed, block);
    refuses(heap, fake(heap, 16, 0), block);
    const empty = heap.malloc(POOL_SIZE);
    heap.u8.fill(0, empty, empty + POOL_SIZE);
    refuses(heap, empty, "no pool magic (the first word reads 0x0, not 0x53474950)");
    refuses(heap, fake(heap, POOL_SIZE, 4), "its flags word reads 4, which has bits no pool sets");
    refuses(
      heap,
      fake(heap, POOL_SIZE, POOL_FLAG_CHECKING),
      "the pool was made in checking mode, but the heap is not in checking mode",
    );
    const checked = Heap.create({ checking: true });
    refuses(
      checked,
      fake(checked, POOL_SIZE, 0),
      "the pool was made without checking mode, but the heap is in checking mode",
    );
    // A byte copy of the arena holds the pool too.
    const copy = Heap.attach((heap.buffer as ArrayBuffer).slice(0));
    expect(DefaultAlloc.attach(copy, pool.offset).stats()).toEqual(pool.stats());
  });
});
