/**
 * A worker of workers.test.ts: random allocate/reallocate/deallocate on a
 * `threads: true` pool it attaches on a shared heap, every object filled
 * with the worker's id and verified before it goes back; some objects are
 * handed to the next worker through a mailbox and deallocated there.
 * Reports the first damage it sees (or none) and what it did.
 */
import { parentPort, workerData } from "node:worker_threads";
import { Heap } from "@mmgr/heap";
import { Mailbox, seededRandom } from "@mmgr/testing";
import { DefaultAlloc } from "../../src/index.js";

interface Job {
  buffer: SharedArrayBuffer;
  /** The pool's offset. */
  pool: number;
  id: number;
  ops: number;
  seed: number;
  /** Mailboxes: this worker's is `boxes[id]`; it posts to `boxes[(id + 1) % n]`. */
  boxes: SharedArrayBuffer[];
  /**
   * Word 0 counts workers ready to start, so that they all run at once;
   * word 1 those done posting, so that every mailbox is drained to the end.
   */
  sync: SharedArrayBuffer;
}

/** What a worker reports. */
export interface ChurnReport {
  failure: string;
  /** Where `@mmgr/heap` resolved in the worker. */
  heapModule: string;
  /** Objects it allocated, by kind. */
  small: number;
  large: number;
  /** Objects it deallocated that another worker allocated. */
  received: number;
}

const job = workerData as Job;
const heap = Heap.attach(job.buffer);
const pool = DefaultAlloc.attach(heap, job.pool);
const inbox = new Mailbox(job.boxes[job.id]);
const outbox = new Mailbox(job.boxes[(job.id + 1) % job.boxes.length]);
const sync = new Int32Array(job.sync);
const workers = job.boxes.length;
const rand = seededRandom(job.seed);
const tag = job.id + 1;
const sender = ((job.id + job.boxes.length - 1) % job.boxes.length) + 1;
const live: number[] = [];
const sizes: number[] = [];
let posted = false;
const report: ChurnReport = {
  failure: "",
  heapModule: import.meta.resolve("@mmgr/heap"),
  small: 0,
  large: 0,
  received: 0,
};

/** Mostly the pool's sizes, sometimes one above 128 (the first level). */
function size(): number {
  return rand(20) === 0 ? 129 + rand(400) : 1 + rand(128);
}

function allocate(n: number): number {
  const p = pool.allocate(n);
  if (n > 128) report.large++;
  else report.small++;
  return p;
}

function fill(p: number, n: number, value: number): void {
  heap.u8.fill(value, p, p + n);
}

function verify(p: number, from: number, n: number, value: number, what: string): void {
  const u8 = heap.u8;
  for (let i = from; i < n; i++) {
    if (u8[p + i] !== value) {
      if (report.failure === "") {
        report.failure = `worker ${job.id}: ${what} object ${p} (${n} bytes) reads ${u8[p + i]} at byte ${i}, not ${value}`;
      }
      return;
    }
  }
}

/** Deallocates what the previous worker handed over: [size][its id ...]. */
function receive(): void {
  for (let p = inbox.take(); p !== 0; p = inbox.take()) {
    heap.refresh(); // the object may lie where this handle's views do not reach yet
    const n = heap.i32[p >> 2];
    verify(p, 4, n, sender, "received");
    pool.deallocate(p, n);
    report.received++;
  }
}

/** Waits until every worker has attached (the tsx start-up of each takes a while). */
function start(): void {
  if (Atomics.add(sync, 0, 1) + 1 === workers) {
    Atomics.notify(sync, 0);
    return;
  }
  for (let n = Atomics.load(sync, 0); n < workers; n = Atomics.load(sync, 0)) {
    Atomics.wait(sync, 0, n);
  }
}

try {
  start();
  for (let op = 0; op < job.ops && report.failure === ""; op++) {
    const r = rand(100);
    if (live.length === 0 || (r < 45 && live.length < 400)) {
      const n = size();
      const p = allocate(n);
      fill(p, n, tag);
      live.push(p);
      sizes.push(n);
    } else if (r < 50) {
      const k = rand(live.length);
      const n = size();
      verify(live[k], 0, sizes[k], tag, "reallocated");
      const p = pool.reallocate(live[k], sizes[k], n);
      if (n > 128) report.large++;
      else report.small++;
      verify(p, 0, Math.min(n, sizes[k]), tag, "moved");
      fill(p, n, tag);
      live[k] = p;
      sizes[k] = n;
    } else if (r < 56) {
      // Hand an object to the next worker: its size in the first word, then the id.
      const n = rand(10) === 0 ? 129 + rand(200) : 8 + rand(121);
      const p = allocate(n);
      heap.i32[p >> 2] = n;
      fill(p + 4, n - 4, tag);
      if (!outbox.put(p)) pool.deallocate(p, n);
    } else {
      const k = rand(live.length);
      verify(live[k], 0, sizes[k], tag, "deallocated");
      pool.deallocate(live[k], sizes[k]);
      live[k] = live[live.length - 1];
      sizes[k] = sizes[sizes.length - 1];
      live.pop();
      sizes.pop();
    }
    if ((op & 63) === 0) receive();
    // The whole pool, under its lock, while the other workers go on.
    if (op % 20_000 === 10_000) pool.check();
  }
  for (let k = 0; k < live.length; k++) {
    verify(live[k], 0, sizes[k], tag, "last");
    pool.deallocate(live[k], sizes[k]);
  }
  Atomics.add(sync, 1, 1);
  posted = true;
  while (Atomics.load(sync, 1) < workers) receive();
  receive();
  pool.check();
  heap.releaseCache();
} catch (err) {
  report.failure = `worker ${job.id}: ${(err as Error).stack ?? err}`;
  if (!posted) Atomics.add(sync, 1, 1);
}
parentPort?.postMessage(report);
