import { describe, expect, it } from "vitest";
import {
  BLOCK_HDR_SIZE,
  CACHE_BUDGET_MIN,
  CACHE_MAX_BLOCK,
  Heap,
  HeapCorruptionError,
  InvalidPointerError,
  type MemoryLike,
  MIN_BLOCK_SIZE,
} from "../src/index.js";

const KiB = 1024;
const MiB = 1024 * KiB;
/** The block size malloc(n) takes without checking mode. */
const block = (n: number) => Math.max(MIN_BLOCK_SIZE, (n + BLOCK_HDR_SIZE + 7) & ~7);

const WebAssembly = (
  globalThis as unknown as {
    WebAssembly: { Memory: new (d: { initial: number; maximum?: number }) => MemoryLike };
  }
).WebAssembly;

describe("an unshared heap with cache: true", () => {
  it("keeps a freed small block for the next malloc of its size, counted as used, until releaseCache", () => {
    const heap = Heap.create({ initialSize: 256 * KiB, cache: true });
    expect(heap.shared).toBe(false);
    const p = heap.malloc(40);
    heap.free(p);
    expect(heap.stats()).toMatchObject({ used: block(40), allocations: 1, cached: block(40) });
    expect(heap.malloc(40)).toBe(p);
    expect(heap.stats()).toMatchObject({ used: block(40), allocations: 1, cached: 0 });
    // Another size is not served from that list.
    heap.free(p);
    const q = heap.malloc(48);
    expect(q).not.toBe(p);
    heap.check();
    heap.free(q);
    heap.releaseCache();
    expect(heap.stats()).toMatchObject({ used: 0, allocations: 0, cached: 0, freeBlocks: 1 });
    heap.check();
  });

  it("serves a batch of one size back from the cache, last freed first", () => {
    const heap = Heap.create({ initialSize: 1 * MiB, cache: true });
    const ptrs = Array.from({ length: 1000 }, () => heap.malloc(16));
    for (let i = ptrs.length - 1; i >= 0; i--) heap.free(ptrs[i]);
    expect(heap.stats().cached).toBe(1000 * block(16));
    const again = Array.from({ length: 1000 }, () => heap.malloc(16));
    expect(again).toEqual(ptrs);
    expect(heap.stats().cached).toBe(0);
    heap.check();
  });

  it("holds at most CACHE_BUDGET_MIN bytes, or 1/8 of used when that is more; the rest is released", () => {
    const heap = Heap.create({ initialSize: 16 * MiB, cache: true });
    const small = Array.from({ length: 5000 }, () => heap.malloc(16));
    for (const p of small) heap.free(p);
    const { cached, used } = heap.stats();
    expect(cached).toBeLessThanOrEqual(CACHE_BUDGET_MIN);
    expect(cached).toBeGreaterThan(CACHE_BUDGET_MIN - block(16));
    expect(used).toBe(cached); // the blocks that did not fit went back
    heap.releaseCache();
    // With 4 MiB live, a free keeps its block while the cache then holds at most 1/8 of used.
    const live = Array.from({ length: 2048 }, () => heap.malloc(2 * KiB - BLOCK_HDR_SIZE));
    const more = Array.from({ length: 40000 }, () => heap.malloc(16));
    const before = heap.used;
    for (const p of more) heap.free(p);
    const s = heap.stats();
    expect(s.cached).toBeGreaterThan(CACHE_BUDGET_MIN);
    expect(s.cached).toBeLessThanOrEqual(before / 8);
    expect(s.cached).toBeGreaterThan(s.used / 8 - block(16)); // full: the later frees were released
    for (const p of live) heap.free(p);
    heap.releaseCache();
    expect(heap.used).toBe(0);
    heap.check();
  });

  it("keeps a block that brings the cache to exactly CACHE_BUDGET_MIN, and releases the next", () => {
    const heap = Heap.create({ initialSize: 1 * MiB, maxSize: 1 * MiB, cache: true });
    expect(block(24)).toBe(32); // 2,048 of them are exactly the minimum budget
    const n = CACHE_BUDGET_MIN / 32;
    const ptrs = Array.from({ length: n + 1 }, () => heap.malloc(24));
    for (const p of ptrs) heap.free(p);
    expect(heap.stats()).toMatchObject({ cached: CACHE_BUDGET_MIN, used: CACHE_BUDGET_MIN });
  });

  it("releases blocks above CACHE_MAX_BLOCK at once", () => {
    const heap = Heap.create({ initialSize: 256 * KiB, cache: true });
    const fits = heap.malloc(CACHE_MAX_BLOCK - BLOCK_HDR_SIZE);
    const above = heap.malloc(CACHE_MAX_BLOCK - BLOCK_HDR_SIZE + 1);
    heap.free(above);
    expect(heap.stats()).toMatchObject({ allocations: 1, cached: 0 });
    heap.free(fits);
    expect(heap.stats()).toMatchObject({ allocations: 1, cached: CACHE_MAX_BLOCK });
  });

  it("catches a double free of a cached block, naming the cache, and refuses it to realloc", () => {
    const heap = Heap.create({ cache: true });
    const p = heap.malloc(8);
    heap.free(p);
    expect(() => heap.free(p)).toThrow(InvalidPointerError);
    expect(() => heap.free(p)).toThrow(/double free: the block is in the heap's cache/);
    expect(() => heap.realloc(p, 100)).toThrow(InvalidPointerError);
    expect(() => heap.usableSize(p)).toThrow(InvalidPointerError);
    heap.check();
  });

  it("check() finds a cache list damaged by a write to a freed block", () => {
    const heap = Heap.create({ initialSize: 256 * KiB, cache: true });
    const p = heap.malloc(32);
    heap.free(p);
    heap.i32[p >> 2] = 3; // use after free: the word that links the cache list
    expect(() => heap.check()).toThrow(HeapCorruptionError);
    expect(() => heap.check()).toThrow(/cache list \d+ link out of range/);
  });

  it("gives its cache back before it fails a malloc for want of memory", () => {
    const heap = Heap.create({ initialSize: 8 * KiB, maxSize: 8 * KiB, cache: true });
    const ptrs: number[] = [];
    for (let p = heap.malloc(96); p !== 0; p = heap.malloc(96)) ptrs.push(p);
    for (const p of ptrs) heap.free(p); // all into the cache: the budget's minimum is above 8 KiB
    expect(heap.stats().cached).toBe(ptrs.length * block(96));
    const q = heap.malloc(320);
    expect(q).not.toBe(0);
    expect(heap.stats().cached).toBe(0);
    heap.free(q);
    heap.check();
  });

  it("check() finds the cache's byte count out of step with its lists", () => {
    const heap = Heap.create({ initialSize: 256 * KiB, cache: true });
    heap.free(heap.malloc(32));
    heap.check();
    (heap as unknown as { cachedBytes: number }).cachedBytes += 8;
    expect(() => heap.check()).toThrow(/cache lists hold 40 bytes, counted 48/);
  });

  it("on a growable heap, gives its cache back before the arena grows", () => {
    const heap = Heap.create({ initialSize: 64 * KiB, maxSize: 1 * MiB, cache: true });
    const ptrs: number[] = [];
    while (heap.stats().largestFree > 2 * KiB) ptrs.push(heap.malloc(1000));
    for (const p of ptrs) heap.free(p);
    expect(heap.stats().cached).toBe(ptrs.length * block(1000));
    const big = heap.malloc(16 * KiB); // fits once the cached blocks coalesce
    expect(big).not.toBe(0);
    expect(heap.size).toBe(64 * KiB);
    expect(heap.stats().cached).toBe(0);
    heap.check();
  });

  it("is off in checking mode: a freed block goes back at once", () => {
    const heap = Heap.create({ checking: true, cache: true });
    heap.free(heap.malloc(40));
    expect(heap.stats()).toMatchObject({ used: 0, allocations: 0, cached: 0 });
  });

  it("works in a WebAssembly memory whose module grows it, detaching the views", () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 16 });
    const heap = Heap.fromMemory(memory, { base: 1024, cache: true });
    const p = heap.malloc(100);
    heap.free(p);
    memory.grow(1); // the module's own growth: the heap's views are now detached
    expect(heap.malloc(100)).toBe(p);
    heap.u8.fill(7, p, p + 100);
    expect(heap.bytes(p, 100).every((b) => b === 7)).toBe(true);
    heap.free(p); // taken through the new views: marked live again, so it frees
    expect(heap.stats().cached).toBe(block(100));
    heap.check();
  });

  it("gives its blocks back in a WebAssembly memory whose module grew it since they were cached", () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 16 });
    const heap = Heap.fromMemory(memory, { base: 1024, cache: true });
    const p = heap.malloc(100);
    const q = heap.malloc(100);
    heap.free(p);
    memory.grow(1); // detaches the views the list is linked through
    heap.free(q); // onto the list, linked to p through the new views
    expect(heap.malloc(100)).toBe(q);
    heap.free(q);
    memory.grow(1);
    heap.releaseCache();
    expect(heap.stats()).toMatchObject({ used: 0, allocations: 0, cached: 0 });
    heap.check();
  });

  it("leaves cached blocks used in a byte copy, where check() accepts them; attach can give a copy a cache", () => {
    const heap = Heap.create({ initialSize: 64 * KiB, maxSize: 64 * KiB, cache: true });
    const keep = heap.malloc(200);
    heap.free(heap.malloc(24));
    const copy = Heap.attach(heap.buffer.slice(0), { cache: true });
    copy.check();
    expect(copy.stats()).toMatchObject({ allocations: 2, cached: 0 });
    copy.free(keep);
    expect(copy.stats().cached).toBe(block(200));
    copy.check();
    // Without a cache the copy still accepts them, and refuses to free them.
    const plain = Heap.attach(heap.buffer.slice(0));
    plain.check();
    expect(plain.stats()).toMatchObject({ allocations: 2, cached: 0 });
    const cachedPtr = heap.malloc(24); // the block the original had cached
    expect(() => plain.free(cachedPtr)).toThrow(InvalidPointerError);
  });
});
