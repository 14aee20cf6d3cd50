import { Heap, InvalidSizeError, MAX_ALLOC_SIZE } from "@mmgr/heap";
import { describe, expect, it } from "vitest";
import { DefaultAlloc, MallocAlloc, simpleAlloc } from "../src/index.js";
import { lists, snapshot } from "./helpers.js";

describe("simpleAlloc", () => {
  it("allocates count * bytesPerElement from the pool, as simple_alloc<T, Alloc>", () => {
    const heap = Heap.create();
    const pool = new DefaultAlloc(heap);
    const doubles = simpleAlloc(pool, 8);
    expect(doubles.alloc).toBe(pool);
    expect(doubles.bytesPerElement).toBe(8);
    const p = doubles.allocate(4); // 32 bytes: list 3
    expect(pool.stats().freeListLengths).toEqual(lists({ 3: 19 }));
    heap.f64[(p >> 3) + 3] = 1.5;
    doubles.deallocate(p, 4);
    expect(pool.stats().freeListLengths).toEqual(lists({ 3: 20 }));
  });

  it("returns 0 for count 0 and ignores deallocate of count 0, never reaching the pool", () => {
    const heap = Heap.create();
    const pool = new DefaultAlloc(heap);
    const ints = simpleAlloc(pool, 4);
    const before = snapshot(heap, pool);
    expect(ints.allocate(0)).toBe(0);
    ints.deallocate(0, 0);
    expect(snapshot(heap, pool)).toEqual(before);
  });

  it("defaults to one element, as allocate(void) and deallocate(T*)", () => {
    const heap = Heap.create();
    const pool = new DefaultAlloc(heap);
    const nodes = simpleAlloc(pool, 24);
    const p = nodes.allocate();
    expect(pool.stats().freeListLengths).toEqual(lists({ 2: 19 }));
    nodes.deallocate(p);
    expect(pool.stats().freeListLengths).toEqual(lists({ 2: 20 }));
  });

  it("works over the first level too", () => {
    const heap = Heap.create();
    const big = simpleAlloc(new MallocAlloc(heap), 1000);
    const allocations = heap.stats().allocations;
    const p = big.allocate(3);
    expect(heap.usableSize(p)).toBeGreaterThanOrEqual(3000);
    big.deallocate(p, 3);
    expect(heap.stats().allocations).toBe(allocations);
  });

  it.each([0, -1, 1.5, Number.NaN, MAX_ALLOC_SIZE + 1])(
    "refuses bytesPerElement %o with InvalidSizeError",
    (n) => {
      const pool = new DefaultAlloc(Heap.create());
      expect(() => simpleAlloc(pool, n)).toThrow(InvalidSizeError);
      expect(() => simpleAlloc(pool, n)).toThrow(
        `simpleAlloc(): bytesPerElement ${n} is not an integer from 1 to ${MAX_ALLOC_SIZE}`,
      );
    },
  );

  it.each([-1, 2.5, Number.NaN, Math.floor(MAX_ALLOC_SIZE / 16) + 1])(
    "refuses an element count %o with InvalidSizeError and changes nothing",
    (count) => {
      const heap = Heap.create();
      const pool = new DefaultAlloc(heap);
      const s = simpleAlloc(pool, 16);
      const p = s.allocate(1);
      const before = snapshot(heap, pool);
      const max = Math.floor(MAX_ALLOC_SIZE / 16);
      expect(() => s.allocate(count)).toThrow(InvalidSizeError);
      expect(() => s.allocate(count)).toThrow(
        `simpleAlloc(16).allocate(): invalid element count ${count}: not an integer from 0 to ${max}`,
      );
      expect(() => s.deallocate(p, count)).toThrow(
        `simpleAlloc(16).deallocate(): invalid element count ${count}`,
      );
      expect(snapshot(heap, pool)).toEqual(before);
    },
  );
});
