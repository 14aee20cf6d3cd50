/*-------------------------------------------------------------------------
 *
 * workers.test.ts
 *	  A shared WebAssembly.Memory as one heap for real workers: each
 *	  attaches to it, allocates, grows the memory and runs the module on
 *	  its blocks while the others do the same.
 *
 * The memory is posted to the workers in workerData (a shared memory can
 * be); they run test/workers/churn.ts on the TypeScript sources, through
 * test/workers/boot.mjs and the `@mmgr/source` condition.
 *
 *-------------------------------------------------------------------------
 */

import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { Heap } from "@mmgr/heap";
import { describe, expect, it } from "vitest";
import { HEAP_BASE, heapAllocator, instantiateKernels } from "../src/kernels.js";
import { WASM_PAGE } from "./setup.js";
import type { Job, Report } from "./workers/churn.js";

const WORKERS = 4;

/** Runs test/workers/churn.ts on the sources; resolves with its report once it has ended. */
function churn(job: Job): Promise<Report> {
  const worker = new Worker(fileURLToPath(new URL("./workers/boot.mjs", import.meta.url)), {
    workerData: { ...job, script: new URL("./workers/churn.ts", import.meta.url).href },
    execArgv: ["--conditions=@mmgr/source"],
  });
  return new Promise((resolve, reject) => {
    let report: Report | undefined;
    worker.on("message", (m: Report) => {
      report = m;
    });
    worker.once("error", reject);
    worker.once("exit", (code) => {
      if (code === 0 && report !== undefined) resolve(report);
      else reject(new Error(`worker exited with ${code}${report ? "" : " before reporting"}`));
    });
  });
}

describe("a shared memory in many workers", () => {
  it(`${WORKERS} workers malloc, realloc, free and grow the memory at once, and leave the heap as they found it`, async () => {
    const memory = new WebAssembly.Memory({ initial: 2, maximum: 1024, shared: true });
    const heap = Heap.fromMemory(memory, { base: HEAP_BASE });
    const wasm = await instantiateKernels(memory, heapAllocator(heap));
    const below = new Uint8Array(memory.buffer, 0, HEAP_BASE).slice();
    const keep = heap.malloc(4 * 1000); // live across the whole run
    heap.i32.fill(7, keep >> 2, (keep >> 2) + 1000);
    const start = heap.used;
    const length = memory.buffer.byteLength;
    expect(length).toBe(2 * WASM_PAGE);

    const reports = await Promise.all(
      Array.from({ length: WORKERS }, (_, id) =>
        churn({ memory, base: HEAP_BASE, id, ops: 30_000, seed: 0x9e3779b9 + id * 7919 }),
      ),
    );

    for (const r of reports) {
      expect(r.failure).toBe("");
      // The worker ran the heap's TypeScript sources, not a build.
      expect(r.heapModule).toMatch(/\/packages\/heap\/src\/index\.ts$/);
      expect(r.large).toBeGreaterThan(0);
      expect(r.sums).toBeGreaterThan(0);
      expect(r.copies).toBeGreaterThan(0);
      expect(r.bytesAtEnd).toBeGreaterThan(r.bytesAtStart);
    }
    // Nothing here allocated while they ran: the workers grew the memory.
    expect(memory.buffer.byteLength).toBeGreaterThan(length);
    expect(memory.buffer.byteLength).toBe(Math.max(...reports.map((r) => r.bytesAtEnd)));
    expect(heap.u8.byteLength).toBe(length); // this handle's views lag until refresh()
    expect(heap.refresh()).toBe(true);
    expect(heap.u8.byteLength).toBe(memory.buffer.byteLength);
    expect(HEAP_BASE + heap.size).toBe(memory.buffer.byteLength);
    heap.check();
    expect(heap.used).toBe(start);
    expect(new Uint8Array(memory.buffer, 0, HEAP_BASE)).toEqual(below);
    expect(wasm.sum_i32(keep, 1000)).toBe(7000);

    // The grown memory serves this thread too.
    const big = heap.malloc(memory.buffer.byteLength / 2);
    expect(big).not.toBe(0);
    heap.free(big);
    heap.free(keep);
    heap.releaseCache();
    expect(heap.stats()).toMatchObject({ used: 0, allocations: 0 });
    heap.check();
  });
});
