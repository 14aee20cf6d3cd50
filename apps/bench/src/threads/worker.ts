/*-------------------------------------------------------------------------
 *
 * worker.ts
 *	  One worker of the workers section (run.ts): churn on a heap or a pool
 *	  it shares with the other workers, one round per "go" message.
 *
 * A round is `batches` batches: allocate BATCH objects of the stream's
 * sizes, write the worker's id into the first word of each, then check
 * that word and free them in the stream's shuffled order; each batch has
 * sizes and an order of its own (STREAM of them, cycled through). The stream is
 * made from the worker's seed before the first round, so a round does
 * nothing but allocator calls and the two words each object is checked by.
 *
 *-------------------------------------------------------------------------
 */

import { parentPort, workerData } from "node:worker_threads";
import { Heap } from "@mmgr/heap";
import { DefaultAlloc } from "@mmgr/sgi-alloc";
import { Rng } from "../rng.js";
import { BATCH, MAX_SIZE, MIN_SIZE, STREAM, type WorkerSetup } from "./setup.js";

interface Churn {
  malloc(n: number): number;
  free(p: number, n: number): void;
}

const setup = workerData as WorkerSetup;
const port = parentPort;
if (port === null) throw new Error("threads/worker.ts runs as a worker only");

let heap: Heap;
let churn: Churn;
if (setup.kind === "heap") {
  heap = Heap.create({ initialSize: 16 << 20, maxSize: 16 << 20 });
  const h = heap;
  churn = { malloc: (n) => h.malloc(n), free: (p) => h.free(p) };
} else {
  heap = Heap.attach(setup.buffer as SharedArrayBuffer);
  const h = heap;
  if (setup.kind === "shared") {
    churn = { malloc: (n) => h.malloc(n), free: (p) => h.free(p) };
  } else {
    const pool = DefaultAlloc.attach(h, setup.pool);
    churn = { malloc: (n) => pool.allocate(n), free: (p, n) => pool.deallocate(p, n) };
  }
}

// STREAM batches of sizes and free orders, cycled through: the lists a batch
// uses, and how many blocks of each, change from one batch to the next.
const rng = new Rng(setup.seed, `workers/${setup.id}`);
const sizes = new Int32Array(BATCH * STREAM);
const order = new Int32Array(BATCH * STREAM);
for (let s = 0; s < STREAM; s++) {
  for (let i = 0; i < BATCH; i++) {
    sizes[s * BATCH + i] = rng.int(MIN_SIZE, MAX_SIZE);
    order[s * BATCH + i] = i;
  }
  rng.shuffle(order, s * BATCH, BATCH);
}
const ptrs = new Int32Array(BATCH);
let next = 0;

/** One round; returns how many objects read back another id (0 unless the allocator is broken). */
function round(): number {
  let bad = 0;
  const id = setup.id;
  for (let b = 0; b < setup.batches; b++) {
    const at = next * BATCH;
    next = next + 1 === STREAM ? 0 : next + 1;
    for (let i = 0; i < BATCH; i++) {
      const p = churn.malloc(sizes[at + i]);
      heap.i32[p >> 2] = id;
      ptrs[i] = p;
    }
    for (let k = 0; k < BATCH; k++) {
      const i = order[at + k];
      const p = ptrs[i];
      if (heap.i32[p >> 2] !== id) bad++;
      churn.free(p, sizes[at + i]);
    }
  }
  return bad;
}

port.on("message", (msg: string) => {
  if (msg === "go") {
    port.postMessage(round());
  } else {
    heap.releaseCache();
    port.close();
  }
});
port.postMessage("ready");
