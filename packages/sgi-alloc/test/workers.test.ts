import { setTimeout as delay } from "node:timers/promises";
import { BLOCK_HDR_SIZE, Heap } from "@mmgr/heap";
import { Mailbox, messages, nextMessage, spawnWorker } from "@mmgr/testing";
import { describe, expect, it } from "vitest";
import { DefaultAlloc, NFREELISTS } from "../src/index.js";
import {
  CHUNK_END,
  CHUNK_NEXT,
  CHUNK_START,
  POOL_CHUNKS,
  POOL_LOCK,
  POOL_SIZE,
} from "../src/layout.js";
import { KiB, lists } from "./helpers.js";
import type { ChurnReport } from "./workers/churn.js";

const MiB = 1024 * KiB;
/** The lock word's waiters bit (its sign bit). */
const WAITERS = 1 << 31;

/** Runs test/workers/<name>.ts in a worker, on the TypeScript sources, `@mmgr/heap` included. */
const spawn = (name: string, data: object) =>
  spawnWorker(new URL(`./workers/${name}.ts`, import.meta.url), data);

/** Bytes on the free lists: every free object's class size. */
function freeBytes(lengths: number[]): number {
  let sum = 0;
  for (let cls = 0; cls < NFREELISTS; cls++) sum += lengths[cls] * (cls + 1) * 8;
  return sum;
}

/** Runs `n` churn workers on one threads pool; returns their reports. */
async function churn(heap: Heap, pool: DefaultAlloc, n: number, ops: number) {
  const boxes = Array.from({ length: n }, () => Mailbox.create());
  const sync = new SharedArrayBuffer(8);
  const workers = boxes.map((_, id) =>
    spawn("churn", {
      buffer: heap.buffer,
      pool: pool.offset,
      id,
      ops,
      seed: 0x9e3779b9 + id * 7919,
      boxes,
      sync,
    }),
  );
  try {
    return await Promise.all(workers.map((w) => nextMessage<ChurnReport>(w)));
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

describe("a threads pool shared by many workers", () => {
  it("4 workers doing 100,000 random calls each on a growable shared heap never overlap, and every byte the pool carved is accounted for", async () => {
    const heap = Heap.create({ shared: true, initialSize: 64 * KiB, maxSize: 64 * MiB });
    const startUsed = heap.used;
    const pool = new DefaultAlloc(heap, { threads: true });
    const keep = pool.allocate(40); // live from the start to the end
    heap.u8.fill(0xee, keep, keep + 40);
    const size = heap.size;
    const reports = await churn(heap, pool, 4, 100_000);
    for (const r of reports) {
      expect(r.failure).toBe("");
      // The worker ran on @mmgr/heap's TypeScript source, not a build.
      expect(r.heapModule).toMatch(/\/packages\/heap\/src\/index\.ts$/);
      expect(r.small).toBeGreaterThan(20_000);
      expect(r.large).toBeGreaterThan(500);
      expect(r.received).toBeGreaterThan(100);
    }
    heap.refresh();
    expect(heap.size).toBeGreaterThan(size); // the workers grew the arena
    expect(heap.bytes(keep, 40).every((b) => b === 0xee)).toBe(true);
    heap.check();
    pool.check();
    pool.deallocate(keep, 40);
    const { heapSize, bytesLeft, freeListLengths } = pool.stats();
    expect(heapSize).toBeGreaterThan(size);
    // Nothing is live: every byte of every chunk is on a free list or pool space.
    expect(freeBytes(freeListLengths) + bytesLeft).toBe(heapSize);
    pool.check();
    expect(Atomics.load(heap.i32, (pool.offset >> 2) + POOL_LOCK)).toBe(0);
    // The heap holds the control struct and the chunks, nothing else: every
    // object above 128 bytes went back, and each handle's cache was given back.
    heap.releaseCache();
    const { used, allocations } = heap.stats();
    const chunks = allocations - 1;
    expect(chunks).toBeGreaterThan(0);
    expect(used - startUsed).toBe(POOL_SIZE + BLOCK_HDR_SIZE + heapSize + chunks * BLOCK_HDR_SIZE);
  });

  it("in checking mode, 4 workers leave every object recorded on its list, and the heap holds nothing but the pool", async () => {
    const heap = Heap.create({
      shared: true,
      checking: true,
      initialSize: 64 * KiB,
      maxSize: 64 * MiB,
    });
    const pool = new DefaultAlloc(heap, { threads: true });
    const reports = await churn(heap, pool, 4, 10_000);
    for (const r of reports) expect(r.failure).toBe("");
    heap.refresh();
    heap.check();
    pool.check(); // every shadow byte against the lists, the chunk records against heapSize
    const { heapSize, bytesLeft, freeListLengths } = pool.stats();
    expect(freeBytes(freeListLengths) + bytesLeft).toBe(heapSize);
    // The heap's blocks: the control struct and one per chunk; every large object went back.
    let chunks = 0;
    let bytes = 0;
    for (let rec = heap.i32[(pool.offset >> 2) + POOL_CHUNKS]; rec !== 0; ) {
      chunks++;
      bytes += heap.i32[(rec >> 2) + CHUNK_END] - heap.i32[(rec >> 2) + CHUNK_START];
      rec = heap.i32[(rec >> 2) + CHUNK_NEXT];
    }
    expect(bytes).toBe(heapSize);
    expect(heap.stats().allocations).toBe(1 + chunks);
  });

  it("a worker that finds the lock held spins, then sleeps with the waiters bit set, and wakes when it is released", async () => {
    const heap = Heap.create({ shared: true, initialSize: 256 * KiB, maxSize: 4 * MiB });
    const pool = new DefaultAlloc(heap, { threads: true });
    const w = (pool.offset >> 2) + POOL_LOCK;
    const other = 0x2468ace1; // the token of a thread holding the lock
    Atomics.store(heap.i32, w, other);
    const worker = spawn("waiter", { buffer: heap.buffer, pool: pool.offset });
    const [attached, allocated] = messages<{ threads?: boolean; p?: number }>(worker, 2);
    expect((await attached).threads).toBe(true);
    for (let i = 0; i < 5000 && Atomics.load(heap.i32, w) !== (other | WAITERS); i++) {
      await delay(2);
    }
    expect(Atomics.load(heap.i32, w)).toBe(other | WAITERS);
    // Released as the holder's unlock does: the bit says someone sleeps.
    expect(Atomics.exchange(heap.i32, w, 0)).toBe(other | WAITERS);
    Atomics.notify(heap.i32, w, 1);
    const { p } = await allocated;
    await worker.terminate();
    expect(typeof p).toBe("number");
    const ptr = p as number;
    expect(heap.bytes(ptr, 24).every((b) => b === 0x5a)).toBe(true);
    expect(Atomics.load(heap.i32, w)).toBe(0);
    expect(pool.stats().freeListLengths).toEqual(lists({ 2: 19 }));
    pool.deallocate(ptr, 24);
    pool.check();
  });
});
