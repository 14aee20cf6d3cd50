/**
 * A worker of aset.workers.test.ts: takes over an AllocSet made in the main
 * thread, by its offset on a shared heap. Checks the chunks the main thread
 * wrote, grows the set (new blocks, a larger heap), frees some chunks,
 * resets the set, allocates again, and reports what it left behind.
 */
import { parentPort, workerData } from "node:worker_threads";
import { Heap } from "@mmgr/heap";
import { type Chunk, fillChunk, firstBadByte } from "@mmgr/testing";
import { AllocSet } from "../../src/index.js";

interface Job {
  buffer: SharedArrayBuffer;
  offset: number;
  chunks: Chunk[];
}

const job = workerData as Job;
const heap = Heap.attach(job.buffer);
const set = AllocSet.attach(heap, job.offset);
const sizeAtAttach = heap.size;
const bad = job.chunks.filter((c) => firstBadByte(heap.u8, c) >= 0).map((c) => c.ptr);

/** Allocates `size` bytes from the set and writes the pattern of `seed` into them. */
function alloc(size: number, seed: number): Chunk {
  const ptr = set.alloc(size);
  if (ptr === 0) throw new Error(`alloc(${size}) returned 0`);
  const c = { ptr, size, seed };
  fillChunk(heap.u8, c);
  return c;
}

// Enough to take blocks of 8 KB up to 512 KB from the heap, and grow it.
const grown: Chunk[] = [];
for (let i = 0; i < 500; i++) grown.push(alloc(600 + (i % 7) * 50, i));
for (let i = 0; i < 4; i++) grown.push(alloc(30_000, 500 + i)); // dedicated blocks
const peak = { heapSize: heap.size, blocks: set.blocks().length, memAllocated: set.memAllocated };
const badGrown = grown.filter((c) => firstBadByte(heap.u8, c) >= 0).map((c) => c.ptr);
for (let i = 0; i < grown.length; i += 3) set.free(grown[i].ptr);
set.free(job.chunks[1].ptr); // one of the main thread's
set.check();
heap.check();

set.reset();
const after: Chunk[] = [];
for (let i = 0; i < 250; i++) after.push(alloc(1500, 1000 + i));
for (let i = 0; i < 2; i++) after.push(alloc(20_000, 2000 + i));
set.check();
heap.check();

heap.releaseCache();
AllocSet.releaseCachedContexts(heap);
parentPort?.postMessage({
  heapModule: import.meta.resolve("@mmgr/heap"),
  name: set.name,
  bad,
  badGrown,
  sizeAtAttach,
  peak,
  heapSize: heap.size,
  stats: set.stats(),
  statsString: set.statsString(),
  memAllocated: set.memAllocated,
  nextBlockSize: set.nextBlockSize,
  chunks: after,
});
