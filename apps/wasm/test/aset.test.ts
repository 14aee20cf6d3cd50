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
  expectComputableAcrossGrowth,
  expectIntact,
  expectReversedAndHex,
  expectSums,
  random,
  randomBytes,
  read,
  reversed,
  setup,
  withAllocator,
} from "./setup.js";

describe("AllocSet in a WebAssembly memory", () => {
  it("holds the module's input and output", async () => {
    const env = await setup();
    const { heap } = env;
    const set = AllocSet.create(heap, "wasm", ALLOCSET_SMALL_SIZES);
    const alloc = (size: number) => set.alloc(size);
    const next = random(11);
    for (const n of [1, 5, 64, 300]) {
      const [pi, pd] = expectSums(env, alloc, next, n);
      const blocks = [pi, pd, ...expectReversedAndHex(env, alloc, next, n)];
      for (const p of blocks) expect(AllocSet.contextOf(heap, p)).toBe(set.offset);
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
    const { heap } = env;
    const set = AllocSet.create(heap, "growing", ALLOCSET_DEFAULT_SIZES);
    // 4 pages are a dedicated block: the heap grows the memory for it.
    expectComputableAcrossGrowth(env, (size) => set.alloc(size), random(13), 100);
    set.check();
    set.reset();
    set.delete();
    AllocSet.releaseCachedContexts(heap);
    expect(heap.used).toBe(0);
    expectIntact(env);
  });
});
