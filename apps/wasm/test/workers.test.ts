/*-------------------------------------------------------------------------
 *
 * workers.test.ts
 *	  A shared WebAssembly.Memory as one heap for real workers: each
 *	  attaches to it, allocates, grows the memory and runs the module on
 *	  its blocks while the others do the same.
 *
 * The memory is posted to the workers in workerData (a shared memory can
 * be); they run test/workers/churn.ts on the TypeScript sources, started
 * by spawnWorker of @mmgr/testing.
 *
 *-------------------------------------------------------------------------
 */

import { nextMessage, spawnWorker } from "@mmgr/testing";
import { describe, expect, it } from "vitest";
import { HEAP_BASE } from "../src/kernels.js";
import { expectIntact, setup, WASM_PAGE } from "./setup.js";
import type { Job, Report } from "./workers/churn.js";

const WORKERS = 4;

/** Runs test/workers/churn.ts on the sources; resolves with its report. */
const churn = (job: Job) =>
  nextMessage<Report>(spawnWorker(new URL("./workers/churn.ts", import.meta.url), job));

describe("a shared memory in many workers", () => {
  it(`${WORKERS} workers malloc, realloc, free and grow the memory at once, and leave the heap as they found it`, async () => {
    const env = await setup(2, 1024, true);
    const { memory, heap, wasm } = env;
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
    }
    // The memory grew while workers ran (a worker that starts late may find it grown already).
    expect(reports.some((r) => r.bytesAtEnd > r.bytesAtStart)).toBe(true);
    // Nothing here allocated while they ran: the workers grew the memory.
    expect(memory.buffer.byteLength).toBeGreaterThan(length);
    expect(memory.buffer.byteLength).toBe(Math.max(...reports.map((r) => r.bytesAtEnd)));
    expect(heap.u8.byteLength).toBe(length); // this handle's views lag until refresh()
    expect(heap.refresh()).toBe(true);
    expect(heap.u8.byteLength).toBe(memory.buffer.byteLength);
    expect(HEAP_BASE + heap.size).toBe(memory.buffer.byteLength);
    expectIntact(env); // the bytes below the heap, and heap.check()
    expect(heap.used).toBe(start);
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
