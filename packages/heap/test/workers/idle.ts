/**
 * A worker of heap.shared.test.ts that allocates, fills its cache, says so,
 * and then sleeps holding no lock until it is terminated.
 */
import { parentPort, workerData } from "node:worker_threads";
import { Heap } from "../../src/index.js";

const heap = Heap.attach(workerData.buffer as SharedArrayBuffer);
const kept: number[] = [];
for (let i = 0; i < 1000; i++) kept.push(heap.malloc(16 + (i % 200)));
for (let i = 0; i < 500; i++) heap.free(kept[i]); // into this handle's cache
parentPort?.postMessage({ kept: kept.slice(500) });
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
