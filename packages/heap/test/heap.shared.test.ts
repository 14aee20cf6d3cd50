import { Mailbox, nextMessage, spawnWorker } from "@mmgr/testing";
import { describe, expect, it } from "vitest";
import {
  BLOCK_HDR_SIZE,
  CACHE_MAX_BLOCK,
  Heap,
  HeapCorruptionError,
  InvalidPointerError,
  InvalidStateError,
  MIN_BLOCK_SIZE,
} from "../src/index.js";

const KiB = 1024;
const MiB = 1024 * KiB;
const block = (n: number) => Math.max(MIN_BLOCK_SIZE, (n + BLOCK_HDR_SIZE + 7) & ~7);

/** Runs test/workers/<name>.ts in a worker, on the TypeScript sources. */
const spawn = (name: string, data: object) =>
  spawnWorker(new URL(`./workers/${name}.ts`, import.meta.url), data);

describe("a shared heap in one thread", () => {
  it("sits on a SharedArrayBuffer, growable unless its size is fixed", () => {
    const fixed = Heap.create({ shared: true, initialSize: 64 * KiB, maxSize: 64 * KiB });
    expect(fixed.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect((fixed.buffer as SharedArrayBuffer).growable).toBe(false);
    expect(fixed.shared).toBe(true);
    const growable = Heap.create({ shared: true, initialSize: 64 * KiB, maxSize: 4 * MiB });
    expect((growable.buffer as SharedArrayBuffer).growable).toBe(true);
    expect(Heap.create().shared).toBe(false);
  });

  it("keeps freed small blocks in the handle's cache, counted as used, until releaseCache", () => {
    const heap = Heap.create({ shared: true, initialSize: 256 * KiB });
    const p = heap.malloc(40);
    const after = heap.stats();
    expect(after.used).toBeGreaterThanOrEqual(block(40));
    heap.free(p);
    const cached = heap.stats();
    expect(cached.used).toBe(after.used);
    expect(cached.cached).toBe(after.used);
    // The next malloc of that size takes the same block back.
    expect(heap.malloc(40)).toBe(p);
    heap.free(p);
    heap.check();
    heap.releaseCache();
    expect(heap.stats()).toMatchObject({ used: 0, allocations: 0, cached: 0 });
    heap.check();
  });

  it("takes a batch of blocks under one lock on a cache miss", () => {
    const heap = Heap.create({ shared: true, initialSize: 256 * KiB });
    const p = heap.malloc(24);
    const { allocations, cached } = heap.stats();
    expect(allocations).toBeGreaterThan(1);
    expect(cached).toBe((allocations - 1) * block(24));
    const q = heap.malloc(24);
    expect(heap.stats().allocations).toBe(allocations);
    heap.free(p);
    heap.free(q);
    heap.releaseCache();
    expect(heap.used).toBe(0);
  });

  it("gives its cache back before it fails a malloc for want of memory", () => {
    const heap = Heap.create({ shared: true, initialSize: 8 * KiB, maxSize: 8 * KiB });
    const ptrs: number[] = [];
    for (let p = heap.malloc(96); p !== 0; p = heap.malloc(96)) ptrs.push(p);
    for (const p of ptrs) heap.free(p); // all into this handle's cache
    expect(heap.stats().cached).toBeGreaterThan(4 * KiB); // nearly the whole arena
    const q = heap.malloc(320);
    expect(q).not.toBe(0);
    expect(heap.stats().cached).toBeLessThan(1 * KiB);
    heap.free(q);
    heap.check();
  });

  it("fills a cache list from free memory only, and with at most 1/16 of it", () => {
    const heap = Heap.create({ shared: true, initialSize: 64 * KiB, maxSize: 1 * MiB });
    const free = heap.stats().free;
    const p = heap.malloc(1000);
    expect(heap.size).toBe(64 * KiB); // no growth for the cache
    expect(heap.stats().cached).toBeGreaterThan(0);
    expect(heap.stats().cached).toBeLessThanOrEqual(free / 16);
    heap.free(p);
    heap.releaseCache();
    const big = heap.malloc(heap.stats().largestFree); // all that is left
    expect(big).not.toBe(0);
    const q = heap.malloc(1000);
    expect(q).not.toBe(0);
    expect(heap.size).toBeGreaterThan(64 * KiB); // grown for the caller
    heap.free(q);
    heap.free(big);
    heap.releaseCache();
    expect(heap.used).toBe(0);
  });

  it("serves blocks above the cache's sizes under the lock, at once", () => {
    const heap = Heap.create({ shared: true, initialSize: 256 * KiB });
    const p = heap.malloc(CACHE_MAX_BLOCK);
    expect(heap.stats()).toMatchObject({ allocations: 1, cached: 0 });
    heap.free(p);
    expect(heap.stats()).toMatchObject({ used: 0, allocations: 0 });
  });

  it("catches a double free of a cached block, naming the cache", () => {
    const heap = Heap.create({ shared: true });
    const p = heap.malloc(8);
    heap.free(p);
    expect(() => heap.free(p)).toThrow(InvalidPointerError);
    expect(() => heap.free(p)).toThrow(/double free: the block is in a worker's cache/);
    expect(() => heap.realloc(p, 100)).toThrow(InvalidPointerError);
    heap.check();
  });

  it("gives a cache list back by halves when it is full", () => {
    const heap = Heap.create({ shared: true, initialSize: 1 * MiB });
    const ptrs = Array.from({ length: 2000 }, () => heap.malloc(64));
    for (const p of ptrs) heap.free(p);
    const { cached, used } = heap.stats();
    // The list holds at most CACHE_BIN_BYTES of 72-byte blocks; the rest went back.
    expect(cached).toBeLessThanOrEqual(16 * KiB);
    expect(used).toBe(cached);
    heap.check();
  });

  it("shares the heap with a second handle made by attach", () => {
    const heap = Heap.create({ shared: true, initialSize: 64 * KiB, maxSize: 8 * MiB });
    const other = Heap.attach(heap.buffer);
    expect(other.shared).toBe(true);
    expect(other.maxSize).toBe(heap.maxSize);
    const p = heap.malloc(100);
    heap.u8.fill(7, p, p + 100);
    expect(other.bytes(p, 100).every((b) => b === 7)).toBe(true);
    other.free(p); // freed through the other handle: it lands in that handle's cache
    expect(other.stats().cached).toBeGreaterThan(0);
    // The other handle grows the arena; the first sees the new blocks.
    const big = other.malloc(1 * MiB);
    expect(heap.size).toBeGreaterThan(1 * MiB);
    heap.u8.fill(1, big, big + 10);
    heap.free(big);
    heap.releaseCache();
    other.releaseCache();
    expect(heap.used).toBe(0);
    heap.check();
    other.check();
  });

  it("a handle caches a block that another handle carved past its views only after refreshing them", () => {
    const heap = Heap.create({ shared: true, initialSize: 64 * KiB, maxSize: 1 * MiB });
    const other = Heap.attach(heap.buffer);
    const seen = other.u8.byteLength;
    let x = 0;
    while (x === 0) {
      const p = heap.malloc(1000);
      if (p - BLOCK_HDR_SIZE < seen && p + 1000 > seen) x = p;
    }
    other.free(x);
    expect(other.malloc(1000)).toBe(x);
    // The whole block can be written through the handle's own views.
    expect(other.u8.byteLength).toBeGreaterThanOrEqual(x + 1000);
    other.u8.fill(3, x, x + 1000);
    expect(heap.bytes(x, 1000).every((b) => b === 3)).toBe(true);
    other.check();
  });

  it("reach() refreshes the views up to an offset another handle carved, and refuses one past the heap", () => {
    const heap = Heap.create({ shared: true, initialSize: 64 * KiB, maxSize: 4 * MiB });
    const other = Heap.attach(heap.buffer);
    const big = heap.malloc(1 * MiB); // grows the arena past other's views
    expect(big + 1 * MiB > other.viewEnd).toBe(true);
    const i32 = other.reach(big, "block");
    expect(i32.length * 4).toBeGreaterThanOrEqual(big + 1 * MiB);
    expect(other.viewEnd).toBeGreaterThanOrEqual(big + 1 * MiB);
    expect(() => other.reach(heap.end + 64, "a stray link")).toThrow(HeapCorruptionError);
    expect(() => other.reach(heap.end + 64, "a stray link")).toThrow(
      `a stray link lies past the end of the heap (${heap.end})`,
    );
  });

  it("checking mode on a shared heap keeps no cache: a freed block goes back at once", () => {
    const heap = Heap.create({ shared: true, checking: true });
    const p = heap.malloc(10);
    heap.free(p);
    expect(heap.stats()).toMatchObject({ used: 0, cached: 0 });
    expect(() => heap.free(p)).toThrow(InvalidPointerError);
  });
});

describe("Heap.attach", () => {
  it("re-opens a heap from a byte copy of an unshared arena", () => {
    const heap = Heap.create({ initialSize: 64 * KiB, maxSize: 64 * KiB });
    const p = heap.malloc(32);
    heap.u8.fill(9, p, p + 32);
    const copy = (heap.buffer as ArrayBuffer).slice(0);
    const reopened = Heap.attach(copy);
    expect(reopened.shared).toBe(false);
    expect(reopened.bytes(p, 32).every((b) => b === 9)).toBe(true);
    reopened.free(p);
    expect(reopened.used).toBe(0);
    expect(heap.used).toBe(block(32)); // the original is untouched
    reopened.check();
  });

  it("refuses a buffer with no heap, a wrong base, or a shared heap on an unshared copy", () => {
    expect(() => Heap.attach(new ArrayBuffer(64 * KiB))).toThrow(InvalidStateError);
    expect(() => Heap.attach(new ArrayBuffer(64 * KiB))).toThrow(/no heap magic/);
    const heap = Heap.create({ initialSize: 64 * KiB, maxSize: 64 * KiB });
    expect(() => Heap.attach(heap.buffer, { base: 8 })).toThrow(InvalidStateError);
    expect(() => Heap.attach(heap.buffer, { base: 3 })).toThrow(/base 3/);
    expect(() => Heap.attach(new ArrayBuffer(16))).toThrow(/does not leave room/);
    const shared = Heap.create({ shared: true, initialSize: 64 * KiB, maxSize: 64 * KiB });
    const bytes = new Uint8Array(new ArrayBuffer(64 * KiB));
    bytes.set(new Uint8Array(shared.buffer));
    expect(() => Heap.attach(bytes.buffer)).toThrow(/made shared, but the buffer is not shared/);
  });
});

describe("many workers on one shared heap", () => {
  it("4 workers doing 100,000 random malloc/realloc/free each never overlap, and leave the heap as they found it", async () => {
    const heap = Heap.create({ shared: true, initialSize: 256 * KiB, maxSize: 64 * MiB });
    const keep = heap.malloc(100); // something live from the start
    const start = heap.used;
    const boxes = Array.from({ length: 4 }, () => Mailbox.create());
    const done = new SharedArrayBuffer(4);
    const workers = boxes.map((_, id) =>
      spawn("churn", { buffer: heap.buffer, id, ops: 100_000, seed: 0x9e3779b9 + id, boxes, done }),
    );
    const reports = await Promise.all(workers.map((w) => nextMessage<{ failure: string }>(w)));
    await Promise.all(workers.map((w) => w.terminate()));
    for (const r of reports) expect(r.failure).toBe("");
    heap.refresh();
    heap.check();
    expect(heap.size).toBeGreaterThan(256 * KiB); // the workers grew it
    expect(heap.used).toBe(start);
    heap.free(keep);
    heap.releaseCache();
    expect(heap.stats()).toMatchObject({ used: 0, allocations: 0 });
  });

  it("a worker terminated between two calls while others churn leaves the heap usable, its cache the only loss", async () => {
    const heap = Heap.create({ shared: true, initialSize: 256 * KiB, maxSize: 64 * MiB });
    const start = heap.used;
    const stop = new SharedArrayBuffer(4);
    const victim = spawn("victim", { buffer: heap.buffer, stop });
    const boxes = Array.from({ length: 2 }, () => Mailbox.create());
    const done = new SharedArrayBuffer(4);
    await nextMessage(victim); // "running"
    const churners = boxes.map((_, id) =>
      spawn("churn", { buffer: heap.buffer, id, ops: 50_000, seed: 77 + id, boxes, done }),
    );
    Atomics.store(new Int32Array(stop), 0, 1);
    const { live, cached } = await nextMessage<{ live: number[]; cached: number }>(victim);
    await victim.terminate(); // the others are still churning
    for (const p of live) heap.free(p); // what it held can be freed by another worker
    const reports = await Promise.all(churners.map((w) => nextMessage<{ failure: string }>(w)));
    await Promise.all(churners.map((w) => w.terminate()));
    for (const r of reports) expect(r.failure).toBe("");
    heap.check();
    heap.releaseCache();
    // Exactly the dead worker's cache is lost, and it is bounded.
    expect(heap.used - start).toBe(cached);
    expect(cached).toBeLessThanOrEqual(129 * 16 * KiB);
  });

  it("a worker terminated while holding no lock leaves the heap usable", async () => {
    const heap = Heap.create({ shared: true, initialSize: 1 * MiB });
    const worker = spawn("idle", { buffer: heap.buffer });
    const { kept } = await nextMessage<{ kept: number[] }>(worker);
    await worker.terminate();
    heap.check(); // its cached blocks are still used blocks, marked cached
    for (const p of kept) heap.free(p); // what it left allocated can be freed here
    const ptrs = Array.from({ length: 1000 }, (_, i) => heap.malloc(16 + (i % 300)));
    expect(ptrs.every((p) => p !== 0)).toBe(true);
    for (const p of ptrs) heap.free(p);
    heap.releaseCache();
    heap.check();
    // Only the dead worker's cache stays taken: bounded by its lists' limits.
    expect(heap.stats().used).toBeGreaterThan(0);
    expect(heap.stats().used).toBeLessThanOrEqual(200 * 16 * KiB);
  });
});
