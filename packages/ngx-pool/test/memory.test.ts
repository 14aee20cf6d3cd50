import { Heap, type MemoryLike } from "@mmgr/heap";
import { describe, expect, it } from "vitest";
import { NGX_OK, NgxPool } from "../src/index.js";

/** The WebAssembly JS API, typed as far as this test uses it. */
const { Memory } = (
  globalThis as unknown as {
    WebAssembly: { Memory: new (d: { initial: number; maximum: number }) => MemoryLike };
  }
).WebAssembly;

describe("an nginx pool on a heap in a WebAssembly memory above base", () => {
  it("pallocs and pfrees up to the arena's end, past `heap.size`", () => {
    const heap = Heap.fromMemory(new Memory({ initial: 2, maximum: 64 }), { base: 65536 });
    const pool = NgxPool.create(heap) as NgxPool;
    expect(NgxPool.attach(heap, pool.offset)).toBe(pool);
    const large: number[] = [];
    while (large.length === 0 || large[large.length - 1] < heap.size + 4096) {
      large.push(pool.palloc(20000)); // large allocations, each a heap block
      pool.palloc(500); // and small ones, from new pool blocks
    }
    expect(large.some((p) => p >= heap.size && p < heap.end)).toBe(true);
    for (const p of large) expect(pool.pfree(p)).toBe(NGX_OK);
    pool.check();
    pool.destroy();
    heap.check();
  });
});
