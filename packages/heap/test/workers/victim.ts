/**
 * A worker of heap.shared.test.ts that churns until it is told to stop,
 * then, between two calls (holding no lock), reports what it still holds
 * and sleeps until it is terminated: its cache is never given back.
 */
import { parentPort, workerData } from "node:worker_threads";
import { seededRandom } from "@mmgr/testing";
import { Heap } from "../../src/index.js";

const heap = Heap.attach(workerData.buffer as SharedArrayBuffer);
const stop = new Int32Array(workerData.stop as SharedArrayBuffer);
const live: number[] = [];
const rand = seededRandom(12345);
let ops = 0;
while (Atomics.load(stop, 0) === 0) {
  if (live.length === 0 || (rand(2) === 0 && live.length < 300)) {
    const n = 1 + rand(rand(8) === 0 ? 4096 : 256);
    const p = heap.malloc(n);
    heap.u8.fill(7, p, p + n);
    live.push(p);
  } else {
    const k = rand(live.length);
    heap.free(live[k]);
    live[k] = live[live.length - 1];
    live.pop();
  }
  if (++ops === 10_000) parentPort?.postMessage("running");
}
parentPort?.postMessage({ live, cached: heap.stats().cached });
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
