import { Heap, type MemoryLike } from "@mmgr/heap";
import { describe, expect, it } from "vitest";
import { ALLOCSET_DEFAULT_SIZES, AllocSet } from "../src/index.js";

/** The WebAssembly JS API, typed as far as this test uses it. */
const { Memory } = (
  globalThis as unknown as {
    WebAssembly: { Memory: new (d: { initial: number; maximum: number }) => MemoryLike };
  }
).WebAssembly;

describe("an AllocSet on a heap in a WebAssembly memory above base", () => {
  it("allocates and frees chunks up to the arena's end, past `heap.size`", () => {
    const heap = Heap.fromMemory(new Memory({ initial: 2, maximum: 64 }), { base: 65536 });
    const set = AllocSet.create(heap, "wasm", ALLOCSET_DEFAULT_SIZES);
    expect(AllocSet.attach(heap, set.offset)).toBe(set);
    const ptrs: number[] = [];
    while (ptrs.length === 0 || ptrs[ptrs.length - 1] < heap.size + 4096) {
      ptrs.push(set.alloc(ptrs.length % 2 === 0 ? 1000 : 20000)); // small chunks and dedicated blocks
    }
    expect(ptrs.some((p) => p >= heap.size && p < heap.end)).toBe(true);
    for (const p of ptrs) expect(AllocSet.contextOf(heap, p)).toBe(set.offset);
    for (const p of ptrs) set.free(p);
    set.check();
    set.delete();
    heap.check();
  });
});
