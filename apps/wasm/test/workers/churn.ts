/*-------------------------------------------------------------------------
 *
 * churn.ts
 *	  A worker of workers.test.ts: attaches to the heap in a shared
 *	  WebAssembly.Memory and runs random malloc/realloc/free on it while
 *	  other workers do the same, with the module computing on its blocks.
 *
 * Every block holds the worker's tag (its id + 1) in every byte and is
 * verified before it is reallocated or freed. Now and then the module,
 * instantiated here on the same memory with malloc and free bound to this
 * worker's handle, sums a block (sum_i32) or copies it into a block it
 * allocates itself (reversed_copy), which then joins the worker's blocks.
 * Some blocks are large, so the heap grows the memory from inside the
 * workers while the others run. Each worker frees only its own blocks,
 * frees them all at the end, and gives its cache back. Reports the first
 * failure it sees, or none.
 *
 *-------------------------------------------------------------------------
 */

import { parentPort, workerData } from "node:worker_threads";
import { BLOCK_HDR_SIZE, CACHE_MAX_BLOCK, Heap } from "@mmgr/heap";
import { seededRandom } from "@mmgr/testing";
import { heapAllocator, instantiateKernels } from "../../src/kernels.js";

const KiB = 1024;

/** What the test hands each worker. */
export interface Job {
  memory: WebAssembly.Memory;
  base: number;
  id: number;
  ops: number;
  seed: number;
}

/** What each worker reports when it is done. */
export interface Report {
  /** The first thing that went wrong, or "". */
  failure: string;
  /** Where `@mmgr/heap` resolved in the worker. */
  heapModule: string;
  /** Calls into the module that were checked: sums and copies. */
  sums: number;
  copies: number;
  /** Allocations of 64 KiB or more. */
  large: number;
  /** The memory's length when the worker attached and when it was done. */
  bytesAtStart: number;
  bytesAtEnd: number;
}

const job = workerData as Job;
const { memory, id } = job;
const heap = Heap.attach(memory, { base: job.base });
const wasm = await instantiateKernels(memory, heapAllocator(heap));
const tag = id + 1;
const tagWord = tag * 0x01010101; // an i32 whose four bytes are the tag
const live: number[] = [];
const sizes: number[] = [];
const report: Report = {
  failure: "",
  heapModule: import.meta.resolve("@mmgr/heap"),
  sums: 0,
  copies: 0,
  large: 0,
  bytesAtStart: memory.buffer.byteLength,
  bytesAtEnd: 0,
};

const rand = seededRandom(job.seed);

function fail(message: string): void {
  if (report.failure === "") report.failure = `worker ${id}: ${message}`;
}

function size(): number {
  const r = rand(1000);
  if (r < 4) return 64 * KiB + rand(448 * KiB); // large: the heap must grow the memory
  if (r < 80) return CACHE_MAX_BLOCK + rand(4 * KiB); // above the cache's sizes: under the lock
  return 1 + rand(rand(4) === 0 ? CACHE_MAX_BLOCK - BLOCK_HDR_SIZE : 128); // the cache's sizes
}

function malloc(n: number): number {
  const p = heap.malloc(n);
  if (p === 0) throw new Error(`malloc(${n}) returned 0`);
  if (n >= 64 * KiB) report.large++;
  return p;
}

function fill(p: number, n: number): void {
  heap.u8.fill(tag, p, p + n);
}

/** Checks that the `n` bytes at `p` all hold the tag, through a view bytes() makes of the live block. */
function verify(p: number, n: number, what: string): void {
  const bytes = heap.bytes(p, n);
  for (let i = 0; i < n; i++) {
    if (bytes[i] !== tag) {
      fail(`${what} block ${p} (${n} bytes) reads ${bytes[i]} at byte ${i}, not ${tag}`);
      return;
    }
  }
}

function remove(k: number): void {
  live[k] = live[live.length - 1];
  sizes[k] = sizes[sizes.length - 1];
  live.pop();
  sizes.pop();
}

try {
  for (let op = 0; op < job.ops && report.failure === ""; op++) {
    const r = rand(100);
    if (live.length === 0 || (r < 45 && live.length < 300)) {
      const n = size();
      const p = malloc(n);
      fill(p, n);
      live.push(p);
      sizes.push(n);
    } else if (r < 55) {
      const k = rand(live.length);
      const n = size();
      verify(live[k], sizes[k], "realloc");
      const p = heap.realloc(live[k], n);
      if (p === 0) throw new Error(`realloc(${live[k]}, ${n}) returned 0`);
      verify(p, Math.min(n, sizes[k]), "moved");
      fill(p, n);
      live[k] = p;
      sizes[k] = n;
    } else if (r < 58) {
      // The module sums the block's whole words in place.
      const k = rand(live.length);
      const words = sizes[k] >>> 2;
      const sum = wasm.sum_i32(live[k], words);
      const expected = Math.imul(words, tagWord);
      if (sum !== expected) fail(`sum_i32 of block ${live[k]} is ${sum}, not ${expected}`);
      report.sums++;
    } else if (r < 60 && live.length < 300) {
      // The module allocates a copy itself, through this worker's handle.
      const k = rand(live.length);
      const n = sizes[k];
      const q = wasm.reversed_copy(live[k], n);
      if (q === 0) throw new Error(`reversed_copy of ${n} bytes returned 0`);
      verify(q, n, "copied");
      live.push(q);
      sizes.push(n);
      report.copies++;
    } else {
      const k = rand(live.length);
      verify(live[k], sizes[k], "freed");
      heap.free(live[k]);
      remove(k);
    }
    // The whole heap, under the lock, while the other workers go on.
    if (op % 10_000 === 0) heap.check();
  }
  while (live.length > 0) {
    const k = live.length - 1;
    verify(live[k], sizes[k], "final");
    if (rand(2) === 0) heap.free(live[k]);
    else wasm.free_buffer(live[k]); // the module frees it, through the same handle
    remove(k);
  }
  heap.check();
  heap.releaseCache();
  if (heap.stats().cached !== 0) fail("the cache is not empty after releaseCache");
} catch (e) {
  fail(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
}
report.bytesAtEnd = memory.buffer.byteLength;
parentPort?.postMessage(report);
