/**
 * A worker of heap.shared.test.ts: random malloc/realloc/free on a shared
 * heap, every block filled with the worker's id and verified before it is
 * freed; some blocks are handed to the next worker through a mailbox and
 * freed there. Reports the first overlap it sees, or none.
 */
import { parentPort, workerData } from "node:worker_threads";
import { Mailbox, seededRandom } from "@mmgr/testing";
import { Heap } from "../../src/index.js";

interface Job {
  buffer: SharedArrayBuffer;
  id: number;
  ops: number;
  seed: number;
  /** Mailboxes: this worker's is `boxes[id]`; it posts to `boxes[(id + 1) % n]`. */
  boxes: SharedArrayBuffer[];
  /** Counts workers done posting, so that every mailbox is drained to the end. */
  done: SharedArrayBuffer;
}

const job = workerData as Job;
const heap = Heap.attach(job.buffer);
const inbox = new Mailbox(job.boxes[job.id]);
const outbox = new Mailbox(job.boxes[(job.id + 1) % job.boxes.length]);
const done = new Int32Array(job.done);
const rand = seededRandom(job.seed);
const tag = job.id + 1;
const live: number[] = [];
const sizes: number[] = [];
let failure = "";

function fill(p: number, n: number, value: number): void {
  heap.u8.fill(value, p, p + n);
}

/** The first byte of a block that is not `value`, or -1. */
function damaged(p: number, n: number, value: number): number {
  heap.refresh();
  const u8 = heap.u8;
  for (let i = 0; i < n; i++) if (u8[p + i] !== value) return i;
  return -1;
}

function verify(p: number, n: number, value: number, what: string): void {
  const at = damaged(p, n, value);
  if (at >= 0 && failure === "") {
    failure = `worker ${job.id}: ${what} block ${p} (${n} bytes) reads ${heap.u8[p + at]} at byte ${at}, not ${value}`;
  }
}

function size(): number {
  // Mostly small (the cache's sizes), sometimes large (the lock and growth).
  return rand(50) === 0 ? 2048 + rand(30000) : 1 + rand(rand(4) === 0 ? 1024 : 128);
}

const sender = ((job.id + job.boxes.length - 1) % job.boxes.length) + 1;

function receive(): void {
  for (let p = inbox.take(); p !== 0; p = inbox.take()) {
    heap.refresh();
    verify(p, 1, sender, "received");
    verify(p + 8, heap.i32[(p >> 2) + 1], sender, "received");
    heap.free(p);
  }
}

for (let op = 0; op < job.ops && failure === ""; op++) {
  const r = rand(100);
  if (live.length === 0 || (r < 45 && live.length < 500)) {
    const n = size();
    const p = heap.malloc(n);
    if (p === 0) throw new Error(`worker ${job.id}: out of memory`);
    fill(p, n, tag);
    live.push(p);
    sizes.push(n);
  } else if (r < 55) {
    const k = rand(live.length);
    const n = size();
    verify(live[k], sizes[k], tag, "realloc");
    const p = heap.realloc(live[k], n);
    if (p === 0) throw new Error(`worker ${job.id}: out of memory in realloc`);
    verify(p, Math.min(n, sizes[k]), tag, "moved");
    fill(p, n, tag);
    live[k] = p;
    sizes[k] = n;
  } else if (r < 60) {
    // Hand a block to the next worker: [tag, 0..][length] header, then the bytes.
    const n = rand(200);
    const p = heap.malloc(n + 8);
    heap.u8[p] = tag;
    heap.i32[(p >> 2) + 1] = n;
    fill(p + 8, n, tag);
    if (!outbox.put(p)) heap.free(p);
  } else {
    const k = rand(live.length);
    verify(live[k], sizes[k], tag, "freed");
    heap.free(live[k]);
    live[k] = live[live.length - 1];
    sizes[k] = sizes[sizes.length - 1];
    live.pop();
    sizes.pop();
  }
  if ((op & 63) === 0) receive();
  // The whole heap, under the lock, while the other workers go on.
  if (op % 20_000 === 0) heap.check();
}
for (let k = 0; k < live.length; k++) {
  verify(live[k], sizes[k], tag, "final");
  heap.free(live[k]);
}
Atomics.add(done, 0, 1);
while (Atomics.load(done, 0) < job.boxes.length) receive();
receive();
heap.check();
heap.releaseCache();
if (heap.stats().cached !== 0) failure = `worker ${job.id}: cache not empty after releaseCache`;
parentPort?.postMessage({ failure });
