/*-------------------------------------------------------------------------
 *
 * aset.test.ts
 *	  An AllocSet on the heap in the module's memory: JS allocates the
 *	  module's input and output from the set, the module computes in
 *	  place, and the module allocates from the set through malloc/free.
 *
 *-------------------------------------------------------------------------
 */

import { ALLOCSET_DEFAULT_SIZES, ALLOCSET_SMALL_SIZES, AllocSet } from "@mmgr/aset";
import { InvalidPointerError } from "@mmgr/heap";
import { describe, expect, it } from "vitest";
import {
  expectIntact,
  hex,
  random,
  randomBytes,
  randomDoubles,
  randomInts,
  read,
  reversed,
  setup,
  sumF64,
  sumI32,
  WASM_PAGE,
  withAllocator,
} from "./setup.js";

describe("AllocSet in a WebAssembly memory", () => {
  it("holds the module's input and output", async () => {
    const env = await setup();
    const { heap, wasm, memory } = env;
    const set = AllocSet.create(heap, "wasm", ALLOCSET_SMALL_SIZES);
    const next = random(11);
    for (const n of [1, 5, 64, 300]) {
      const ints = randomInts(next, n);
      const pi = set.alloc(n * 4);
      heap.i32.set(ints, pi >> 2);
      expect(wasm.sum_i32(pi, n)).toBe(sumI32(ints));

      const doubles = randomDoubles(next, n);
      const pd = set.alloc(n * 8);
      heap.f64.set(doubles, pd >> 3);
      expect(wasm.sum_f64(pd, n)).toBe(sumF64(doubles));

      const bytes = randomBytes(next, n);
      const src = set.alloc(n);
      const dst = set.alloc(n);
      const hx = set.alloc(2 * n);
      heap.u8.set(bytes, src);
      wasm.reverse_bytes(src, n, dst);
      wasm.hex_encode(src, n, hx);
      expect(read(memory, dst, n)).toEqual(reversed(bytes));
      expect(new TextDecoder().decode(read(memory, hx, 2 * n))).toBe(hex(bytes));
      for (const p of [pi, pd, src, dst, hx]) expect(AllocSet.contextOf(heap, p)).toBe(set.offset);
      set.free(pd);
    }
    set.check();
    set.reset();
    expect(set.isEmpty()).toBe(true);
    set.delete();
    AllocSet.releaseCachedContexts(heap);
    expect(heap.used).toBe(0);
    expectIntact(env);
  });

  it("is the module's malloc and free", async () => {
    const env = await setup();
    const { heap, memory } = env;
    const set = AllocSet.create(heap, "module", ALLOCSET_DEFAULT_SIZES);
    const wasm = await withAllocator(env, {
      malloc: (size) => set.alloc(size),
      free: (ptr) => set.free(ptr),
    });
    const bytes = randomBytes(random(12), 100);
    const src = set.alloc(bytes.length);
    heap.u8.set(bytes, src);

    const p = wasm.reversed_copy(src, bytes.length);
    expect(AllocSet.contextOf(heap, p)).toBe(set.offset);
    expect(set.usableSize(p)).toBe(128); // the power-of-two chunk
    expect(read(memory, p, bytes.length)).toEqual(reversed(bytes));
    wasm.free_buffer(p);
    expect(() => set.free(p)).toThrow(InvalidPointerError);
    expect(() => wasm.free_buffer(p)).toThrow(InvalidPointerError);
    // The freed chunk is the next one of its size.
    expect(wasm.reversed_copy(src, 90)).toBe(p);

    // Above the chunk limit: a dedicated block, straight from the heap.
    const large = set.alloc(20_000);
    heap.u8.fill(7, large, large + 20_000);
    const q = wasm.reversed_copy(large, 20_000);
    expect(
      set.blocks().find((b) => b.dedicated && q > b.block && q < b.block + b.size),
    ).toBeDefined();
    wasm.free_buffer(q);
    set.check();
    set.delete();
    AllocSet.releaseCachedContexts(heap);
    expect(heap.used).toBe(0);
    expectIntact(env);
  });

  it("keeps its chunks computable across growth, by JS and by the module", async () => {
    const env = await setup(2);
    const { heap, wasm, memory } = env;
    const set = AllocSet.create(heap, "growing", ALLOCSET_DEFAULT_SIZES);
    const next = random(13);
    const early = randomInts(next, 100);
    const pe = set.alloc(early.length * 4);
    heap.i32.set(early, pe >> 2);

    const old = memory.buffer;
    const big = set.alloc(4 * WASM_PAGE); // a dedicated block: the heap grows the memory
    expect(old.byteLength).toBe(0);
    expect(heap.i32.buffer).toBe(memory.buffer);
    const late = randomInts(next, WASM_PAGE);
    heap.i32.set(late, big >> 2);
    expect(wasm.sum_i32(pe, early.length)).toBe(sumI32(early));
    expect(wasm.sum_i32(big, late.length)).toBe(sumI32(late));

    // The module grows the memory; refresh() before the set is used again.
    wasm.grow_memory(1);
    heap.refresh();
    const small = set.alloc(16);
    heap.i32.set([1, 2, 3, 4], small >> 2);
    expect(wasm.sum_i32(small, 4)).toBe(10);
    expect(wasm.sum_i32(pe, early.length)).toBe(sumI32(early));
    set.check();
    set.reset();
    set.delete();
    AllocSet.releaseCachedContexts(heap);
    expect(heap.used).toBe(0);
    expectIntact(env);
  });
});
