import { Heap } from "@mmgr/heap";
import { describe, expect, it } from "vitest";
import { DefaultAlloc, MAX_BYTES, NOBJS, POOL_SIZE, roundUp, simpleAlloc } from "../src/index.js";
import { lists } from "./helpers.js";

const HDR = 8; // @mmgr/heap: BLOCK_HDR_SIZE, counted in heap.stats().used

describe("README example", () => {
  it("runs as shown and gives every figure it states", () => {
    const heap = Heap.create({ initialSize: 1 << 20 });
    const used0 = heap.stats().used;

    const pool = new DefaultAlloc(heap); // its state: 96 bytes malloc'd from the heap
    expect(POOL_SIZE).toBe(96);
    expect(heap.usableSize(pool.control)).toBe(96);
    expect(heap.stats().used).toBe(used0 + 96 + HDR);

    const p = pool.allocate(8); // list 0 empty: a 320-byte chunk, 20 objects of 8
    expect(2 * 8 * NOBJS + roundUp(0 >>> 4)).toBe(320); // 2 * total + roundUp(heap_size >> 4), heap_size 0
    expect(heap.stats().used).toBe(used0 + 96 + HDR + 320 + HDR);
    // { heapSize: 320, bytesLeft: 160, freeListLengths: [19, 0, ...] }
    expect(pool.stats()).toEqual({
      heapSize: 320,
      bytesLeft: 160,
      freeListLengths: lists({ 0: 19 }),
    });
    expect(19 + 1).toBe(NOBJS);

    const q = pool.allocate(16); // the 160 left: 10 objects of 16
    expect(q).toBe(p + 160);
    expect(pool.stats()).toEqual({
      heapSize: 320,
      bytesLeft: 0,
      freeListLengths: lists({ 0: 19, 1: 9 }),
    });
    heap.f64[q >> 3] = 2.5; // write through the heap's views

    pool.deallocate(p, 8); // back on list 0: pass the size you allocated with
    expect(pool.stats().freeListLengths).toEqual(lists({ 0: 20, 1: 9 }));
    expect(pool.allocate(8)).toBe(p); // the head of list 0
    pool.deallocate(p, 8);
    const usedPooled = heap.stats().used;

    const big = pool.allocate(1000); // above 128: straight to the heap (first level)
    expect(1000).toBeGreaterThan(MAX_BYTES);
    expect(heap.usableSize(big)).toBe(1000);
    expect(heap.stats().used).toBe(usedPooled + 1000 + HDR);
    expect(pool.stats()).toEqual({
      heapSize: 320,
      bytesLeft: 0,
      freeListLengths: lists({ 0: 20, 1: 9 }),
    });
    pool.deallocate(big, 1000);
    expect(heap.stats().used).toBe(usedPooled);

    const points = simpleAlloc(pool, 16); // simple_alloc<Point, alloc>
    const ps = points.allocate(3); // 48 bytes: a 1944-byte chunk, heapSize 2264
    expect(points.bytesPerElement * 3).toBe(48);
    expect(2 * 48 * NOBJS + roundUp(320 >>> 4)).toBe(1944); // heap_size 320
    expect(heap.stats().used).toBe(usedPooled + 1944 + HDR);
    expect(pool.stats()).toEqual({
      heapSize: 2264,
      bytesLeft: 1944 - 48 * NOBJS,
      freeListLengths: lists({ 0: 20, 1: 9, 5: 19 }),
    });
    expect(ps % 8).toBe(0);
    expect(heap.f64[q >> 3]).toBe(2.5);
    pool.check();
    heap.check();
  });
});
