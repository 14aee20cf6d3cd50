/*-------------------------------------------------------------------------
 *
 * shared.test.ts
 *	  A shared WebAssembly.Memory makes a shared heap: the module's shared
 *	  variant computes on it, allocates from it, and the memory grows
 *	  without detaching the buffers other agents hold.
 *
 *-------------------------------------------------------------------------
 */

import { Heap, InvalidPointerError } from "@mmgr/heap";
import { describe, expect, it } from "vitest";
import { HEAP_BASE, heapAllocator, instantiateKernels } from "../src/kernels.js";
import {
  expectIntact,
  random,
  randomBytes,
  randomInts,
  read,
  reversed,
  setup,
  sumI32,
  WASM_PAGE,
} from "./setup.js";

describe("a shared memory", () => {
  it("is a shared heap the module computes on and allocates from", async () => {
    const env = await setup(2, 64, true);
    const { heap, wasm, memory } = env;
    expect(memory.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(heap.shared).toBe(true);
    expect(heap.buffer).toBeInstanceOf(SharedArrayBuffer);

    const next = random(31);
    const ints = randomInts(next, 500);
    const p = heap.malloc(ints.length * 4);
    heap.i32.set(ints, p >> 2);
    expect(wasm.sum_i32(p, ints.length)).toBe(sumI32(ints));

    const bytes = randomBytes(next, 200);
    const src = heap.malloc(bytes.length);
    heap.u8.set(bytes, src);
    const q = wasm.reversed_copy(src, bytes.length);
    expect(heap.usableSize(q)).toBeGreaterThanOrEqual(bytes.length);
    expect(read(memory, q, bytes.length)).toEqual(reversed(bytes));
    wasm.free_buffer(q);
    expect(() => heap.free(q)).toThrow(InvalidPointerError);
    heap.free(p);
    heap.free(src);
    heap.releaseCache();
    expect(heap.used).toBe(0);
    expectIntact(env);
  });

  it("grows without detaching: old buffers keep their length, the heap's views take the new one", async () => {
    const env = await setup(2, 64, true);
    const { heap, wasm, memory } = env;
    const ints = randomInts(random(32), 100);
    const p = heap.malloc(ints.length * 4);
    heap.i32.set(ints, p >> 2);
    const old = memory.buffer;

    const big = heap.malloc(4 * WASM_PAGE);
    expect(big).not.toBe(0);
    expect(old.byteLength).toBe(2 * WASM_PAGE); // a SharedArrayBuffer is never detached
    expect(memory.buffer.byteLength).toBeGreaterThan(old.byteLength);
    expect(heap.u8.byteLength).toBe(memory.buffer.byteLength);
    heap.i32.fill(3, big >> 2, (big >> 2) + WASM_PAGE);
    expect(wasm.sum_i32(big, WASM_PAGE)).toBe(3 * WASM_PAGE);
    expect(wasm.sum_i32(p, ints.length)).toBe(sumI32(ints));

    // Grown by the module: the views lag (still of the old length) until refresh().
    const length = memory.buffer.byteLength;
    wasm.grow_memory(1);
    expect(heap.u8.byteLength).toBe(length);
    expect(heap.refresh()).toBe(true);
    expect(heap.u8.byteLength).toBe(length + WASM_PAGE);
    expectIntact(env);
  });

  it("attaches a second handle, as another worker would", async () => {
    const env = await setup(2, 64, true);
    const { heap, memory } = env;
    const other = Heap.attach(memory, { base: HEAP_BASE });
    expect(other.shared).toBe(true);
    const wasm2 = await instantiateKernels(memory, heapAllocator(other));
    const src = heap.malloc(16);
    heap.u8.set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], src);
    const q = wasm2.reversed_copy(src, 16);
    expect([...read(memory, q, 4)]).toEqual([16, 15, 14, 13]);
    heap.free(q); // allocated through the other handle, freed through this one
    heap.free(src);
    heap.releaseCache();
    other.releaseCache();
    expect(heap.used).toBe(0);
    other.check();
    expectIntact(env);
  });
});
