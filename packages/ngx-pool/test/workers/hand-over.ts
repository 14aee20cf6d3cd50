/**
 * A worker of ngx-pool.workers.test.ts: takes over an nginx pool made in the
 * main thread, by its offset on a shared heap. Checks the bytes the main
 * thread wrote, grows the pool (new blocks, large allocations, a larger
 * heap), pfrees some, resets it (which runs only this worker's cleanup
 * handler), allocates again, and reports what it left behind.
 */
import { parentPort, workerData } from "node:worker_threads";
import { Heap } from "@mmgr/heap";
import { type Chunk, fillChunk, firstBadByte } from "@mmgr/testing";
import { CLEANUP_HANDLER, NGX_OK, NgxPool } from "../../src/index.js";

interface Job {
  buffer: SharedArrayBuffer;
  offset: number;
  chunks: Chunk[];
  /** A large allocation of the main thread's, for pfree. */
  large: number;
  /** The main thread's cleanup record. */
  record: number;
}

const job = workerData as Job;
const heap = Heap.attach(job.buffer);
const pool = NgxPool.attach(heap, job.offset);
const sizeAtAttach = heap.size;
const bad = job.chunks.filter((c) => firstBadByte(heap.u8, c) >= 0).map((c) => c.ptr);
const seen = {
  cleanups: pool.stats().cleanups,
  handlerWord: heap.i32[(job.record >> 2) + CLEANUP_HANDLER],
};

/** Allocates `size` bytes from the pool and writes the pattern of `seed` into them. */
function palloc(size: number, seed: number): Chunk {
  const ptr = pool.palloc(size);
  if (ptr === 0) throw new Error(`palloc(${size}) returned 0`);
  const c = { ptr, size, seed };
  fillChunk(heap.u8, c);
  return c;
}

const ran: number[] = [];
const first = pool.cleanupAdd(8)!;
first.handler = (data) => ran.push(data);
const firstData = first.data;

// Blocks of 4 KB and large allocations, enough to grow the heap.
const grown: Chunk[] = [];
for (let i = 0; i < 300; i++) grown.push(palloc(2000, i));
const larges: Chunk[] = [];
for (let i = 0; i < 8; i++) larges.push(palloc(60_000, 300 + i));
const peak = { heapSize: heap.size, blocks: pool.blocks().length, large: pool.stats().large };
const badGrown = [...grown, ...larges]
  .filter((c) => firstBadByte(heap.u8, c) >= 0)
  .map((c) => c.ptr);
const pfreed = [job.large, ...larges.slice(0, 4).map((c) => c.ptr)].map((p) => pool.pfree(p));
pool.check();
heap.check();

pool.reset(); // runs `first`'s handler; the main thread's cannot run here
const ranInReset = [...ran];
const second = pool.cleanupAdd(16)!; // where the main thread's record was
second.handler = (data) => ran.push(data);
const after: Chunk[] = [];
for (let i = 0; i < 150; i++) after.push(palloc(3000, 1000 + i));
for (let i = 0; i < 3; i++) after.push(palloc(70_000, 2000 + i));
pool.check();
heap.check();

heap.releaseCache();
parentPort?.postMessage({
  heapModule: import.meta.resolve("@mmgr/heap"),
  bad,
  badGrown,
  seen,
  sizeAtAttach,
  peak,
  pfreed: pfreed.every((r) => r === NGX_OK),
  firstData,
  ranInReset,
  second: { offset: second.offset, data: second.data },
  heapSize: heap.size,
  stats: pool.stats(),
  memAllocated: pool.memAllocated,
  chunks: after,
});
