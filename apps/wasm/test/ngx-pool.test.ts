/*-------------------------------------------------------------------------
 *
 * ngx-pool.test.ts
 *	  An nginx pool on the heap in the module's memory: JS allocates the
 *	  module's input and output from the pool, the module computes in
 *	  place, and the module allocates from the pool through malloc.
 *
 *-------------------------------------------------------------------------
 */

import { NGX_DECLINED, NGX_OK, NgxPool } from "@mmgr/ngx-pool";
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

describe("NgxPool in a WebAssembly memory", () => {
  it("holds the module's input and output, small and large", async () => {
    const env = await setup();
    const { heap, wasm, memory } = env;
    const pool = NgxPool.create(heap, 4096)!;
    const next = random(21);
    for (const n of [1, 9, 200, 2000]) {
      // 2000 i32s and f64s are above the pool's max: large allocations.
      const ints = randomInts(next, n);
      const pi = pool.palloc(n * 4);
      heap.i32.set(ints, pi >> 2);
      expect(wasm.sum_i32(pi, n)).toBe(sumI32(ints));

      const doubles = randomDoubles(next, n);
      const pd = pool.palloc(n * 8);
      heap.f64.set(doubles, pd >> 3);
      expect(wasm.sum_f64(pd, n)).toBe(sumF64(doubles));

      const bytes = randomBytes(next, n);
      const src = pool.pnalloc(n); // unaligned, as strings are
      const dst = pool.pnalloc(n);
      const hx = pool.pnalloc(2 * n);
      heap.u8.set(bytes, src);
      wasm.reverse_bytes(src, n, dst);
      wasm.hex_encode(src, n, hx);
      expect(read(memory, dst, n)).toEqual(reversed(bytes));
      expect(new TextDecoder().decode(read(memory, hx, 2 * n))).toBe(hex(bytes));
    }
    expect(pool.largeList().length).toBeGreaterThan(0);
    pool.check();
    pool.destroy();
    expect(heap.used).toBe(0);
    expectIntact(env);
  });

  it("is the module's malloc; free gives back large allocations only", async () => {
    const env = await setup();
    const { heap, memory } = env;
    const pool = NgxPool.create(heap, 4096)!;
    const freed: number[] = [];
    const wasm = await withAllocator(env, {
      malloc: (size) => pool.palloc(size),
      free: (ptr) => {
        freed.push(pool.pfree(ptr));
      },
    });
    const bytes = randomBytes(random(22), 6000);
    const src = pool.palloc(bytes.length);
    heap.u8.set(bytes, src);

    const small = wasm.reversed_copy(src, 100);
    const [first] = pool.blocks();
    expect(small).toBeGreaterThan(first);
    expect(small + 100).toBeLessThanOrEqual(first + 4096);
    expect(read(memory, small, 100)).toEqual(reversed(bytes.subarray(0, 100)));

    const large = wasm.reversed_copy(src, bytes.length);
    expect(pool.largeList()).toContain(large);
    expect(heap.usableSize(large)).toBeGreaterThanOrEqual(bytes.length);
    expect(read(memory, large, bytes.length)).toEqual(reversed(bytes));

    wasm.free_buffer(small);
    wasm.free_buffer(large);
    wasm.free_buffer(large);
    expect(freed).toEqual([NGX_DECLINED, NGX_OK, NGX_DECLINED]);
    expect(pool.largeList()).not.toContain(large);
    pool.check();
    pool.destroy();
    expect(heap.used).toBe(0);
    expectIntact(env);
  });

  it("keeps its allocations computable across growth, by JS and by the module", async () => {
    const env = await setup(2);
    const { heap, wasm, memory } = env;
    const pool = NgxPool.create(heap, 4096)!;
    const next = random(23);
    const early = randomInts(next, 200);
    const pe = pool.palloc(early.length * 4);
    heap.i32.set(early, pe >> 2);

    const old = memory.buffer;
    const big = pool.palloc(4 * WASM_PAGE); // large: the heap grows the memory
    expect(old.byteLength).toBe(0);
    expect(heap.i32.buffer).toBe(memory.buffer);
    const late = randomInts(next, WASM_PAGE);
    heap.i32.set(late, big >> 2);
    expect(wasm.sum_i32(pe, early.length)).toBe(sumI32(early));
    expect(wasm.sum_i32(big, late.length)).toBe(sumI32(late));

    // The module grows the memory; refresh() before the pool is used again.
    wasm.grow_memory(1);
    heap.refresh();
    const small = pool.palloc(16);
    heap.i32.set([5, 6, 7, 8], small >> 2);
    expect(wasm.sum_i32(small, 4)).toBe(26);
    pool.reset();
    expect(pool.largeList().every((p) => p === 0)).toBe(true);
    pool.destroy();
    expect(heap.used).toBe(0);
    expectIntact(env);
  });
});
