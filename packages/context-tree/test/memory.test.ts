import { Heap, type MemoryLike } from "@mmgr/heap";
import { afterEach, describe, expect, it } from "vitest";
import {
  ALLOCSET_DEFAULT_SIZES,
  AllocSetContextCreate,
  MemoryContextCheck,
  MemoryContextDelete,
  MemoryContextInit,
  MemoryContextTeardown,
  palloc,
  pfree,
  TopMemoryContext,
  withMemoryContext,
} from "../src/index.js";

/** The WebAssembly JS API, typed as far as this test uses it. */
const { Memory } = (
  globalThis as unknown as {
    WebAssembly: { Memory: new (d: { initial: number; maximum: number }) => MemoryLike };
  }
).WebAssembly;

afterEach(() => MemoryContextTeardown());

describe("the context tree on a heap in a WebAssembly memory above base", () => {
  it("pallocs and pfrees chunks up to the arena's end, past `heap.size`", () => {
    const heap = MemoryContextInit(
      Heap.fromMemory(new Memory({ initial: 2, maximum: 64 }), { base: 65536 }),
    );
    const ctx = AllocSetContextCreate(TopMemoryContext!, "wasm", ALLOCSET_DEFAULT_SIZES);
    const ptrs = withMemoryContext(ctx, () => {
      const out: number[] = [];
      while (out.length === 0 || out[out.length - 1] < heap.size + 4096) out.push(palloc(1000));
      return out;
    });
    expect(ptrs.some((p) => p >= heap.size && p < heap.end)).toBe(true);
    for (const p of ptrs) pfree(p);
    MemoryContextCheck(TopMemoryContext!);
    MemoryContextDelete(ctx);
    heap.check();
  });

  it("keeps working after the module grows the memory itself, which detaches the heap's views", () => {
    const memory = new Memory({ initial: 2, maximum: 64 });
    const heap = MemoryContextInit(Heap.fromMemory(memory, { base: 1024 }));
    const ctx = AllocSetContextCreate(TopMemoryContext!, "before", ALLOCSET_DEFAULT_SIZES);
    const p = withMemoryContext(ctx, () => palloc(100));
    memory.grow(1); // as a module's own memory.grow would
    const q = withMemoryContext(ctx, () => palloc(100)); // no "has been deleted"
    expect(q).not.toBe(0);
    pfree(p);
    pfree(q);
    MemoryContextCheck(TopMemoryContext!);
    MemoryContextDelete(ctx);
    heap.check();
  });
});
