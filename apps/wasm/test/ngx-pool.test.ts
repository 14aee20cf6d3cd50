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

describe("NgxPool in a WebAssembly memory", () => {
  it("holds the module's input and output, small and large", async () => {
    const env = await setup();
    const { heap } = env;
    const pool = NgxPool.create(heap, 4096)!;
    const next = random(21);
    for (const n of [1, 9, 200, 2000]) {
      // 2000 i32s and f64s are above the pool's max: large allocations.
      expectSums(env, (size) => pool.palloc(size), next, n);
      // Bytes from pnalloc: unaligned, as strings are.
      expectReversedAndHex(env, (size) => pool.pnalloc(size), next, n);
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
    const { heap } = env;
    const pool = NgxPool.create(heap, 4096)!;
    // 4 pages are a large allocation: the heap grows the memory for it.
    expectComputableAcrossGrowth(env, (size) => pool.palloc(size), random(23), 200);
    pool.reset();
    expect(pool.largeList().every((p) => p === 0)).toBe(true);
    pool.destroy();
    expect(heap.used).toBe(0);
    expectIntact(env);
  });
});
