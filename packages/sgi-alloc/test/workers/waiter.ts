/**
 * A worker of workers.test.ts: attaches the pool, allocates one object
 * (waiting for the lock if the test holds it), writes its id into it and
 * reports the object and its handle's kind.
 */
import { parentPort, workerData } from "node:worker_threads";
import { Heap } from "@mmgr/heap";
import { DefaultAlloc } from "../../src/index.js";

const heap = Heap.attach(workerData.buffer as SharedArrayBuffer);
const pool = DefaultAlloc.attach(heap, workerData.pool as number);
parentPort?.postMessage({ attached: true, threads: pool.threads });
const p = pool.allocate(24);
heap.u8.fill(0x5a, p, p + 24);
parentPort?.postMessage({ p });
