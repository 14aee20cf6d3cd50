import { Heap, type MemoryLike } from "@mmgr/heap";
import { describe, expect, it } from "vitest";
import { DefaultAlloc } from "../src/index.js";

/** The WebAssembly JS API, typed as far as this test uses it. */
const { Memory } = (
  globalThis as unknown as {
    WebAssembly: { Memory: new (d: { initial: number; maximum: number }) => MemoryLike };
  }
).WebAssembly;

describe("a pool on a heap in a WebAssembly memory above base", () => {
  it("serves and takes back objects up to the arena's end, past `heap.size`", () => {
    const memory = new Memory({ initial: 2, maximum: 16 });
    const heap = Heap.fromMemory(memory, { base: 65536 });
    const pool = new DefaultAlloc(heap);
    expect(DefaultAlloc.attach(heap, pool.offset).offset).toBe(pool.offset);
    const ptrs: number[] = [];
    while (ptrs.length === 0 || ptrs[ptrs.length - 1] < heap.size + 4096)
      ptrs.push(pool.allocate(64));
    // Addresses above heap.size (the arena's length) are inside it: it starts at 64 KiB.
    expect(ptrs.some((p) => p >= heap.size && p < heap.end)).toBe(true);
    for (const p of ptrs) pool.deallocate(p, 64);
    pool.check();
    heap.check();
  });
});
