/*-------------------------------------------------------------------------
 *
 * heap.test.ts
 *	  A heap in the module's memory: JS allocates and fills, the module
 *	  computes in place; the module mallocs and frees through the heap;
 *	  the memory grows under both; the heap is re-opened with attach.
 *
 *-------------------------------------------------------------------------
 */

import { Heap, InvalidPointerError, InvalidSizeError, InvalidStateError } from "@mmgr/heap";
import { describe, expect, it } from "vitest";
import { HEAP_BASE, heapAllocator, instantiateKernels } from "../src/kernels.js";
import {
  expectIntact,
  expectSums,
  hex,
  random,
  randomBytes,
  randomInts,
  read,
  reversed,
  setup,
  sumI32,
  WASM_PAGE,
} from "./setup.js";

describe("Heap.fromMemory and the module", () => {
  it("puts the heap from base to the end of the memory", async () => {
    const env = await setup(2);
    const { heap, memory } = env;
    expect(heap.base).toBe(HEAP_BASE);
    expect(heap.size).toBe(2 * WASM_PAGE - HEAP_BASE);
    expect(heap.shared).toBe(false);
    expect(heap.buffer).toBe(memory.buffer);
    expect(heap.u8.buffer).toBe(memory.buffer);
    const p = heap.malloc(1);
    expect(p).toBeGreaterThan(HEAP_BASE);
    expectIntact(env);
  });

  it("sums i32s and f64s that JS allocated and wrote", async () => {
    const env = await setup();
    const { heap } = env;
    const next = random(1);
    for (const n of [0, 1, 7, 1000]) {
      const [pi, pd] = expectSums(env, (size) => heap.malloc(size), next, n);
      heap.free(pi);
      heap.free(pd);
    }
    expect(heap.stats().allocations).toBe(0);
    expectIntact(env);
  });

  it("reverses bytes into a destination JS allocated, and nothing past it", async () => {
    const env = await setup();
    const { heap, wasm, memory } = env;
    const next = random(2);
    for (const n of [0, 1, 2, 15, 16, 4097]) {
      const bytes = randomBytes(next, n);
      const src = heap.malloc(n);
      const dst = heap.malloc(n + 8);
      heap.u8.set(bytes, src);
      heap.u8.fill(0xaa, dst, dst + n + 8);
      wasm.reverse_bytes(src, n, dst);
      expect(read(memory, dst, n)).toEqual(reversed(bytes));
      expect(read(memory, dst + n, 8)).toEqual(new Uint8Array(8).fill(0xaa));
      expect(read(memory, src, n)).toEqual(bytes);
      heap.free(src);
      heap.free(dst);
    }
    expectIntact(env);
  });

  it("hex-encodes through the module's own table below the heap", async () => {
    const env = await setup();
    const { heap, wasm, memory } = env;
    const bytes = randomBytes(random(3), 300);
    const src = heap.malloc(bytes.length);
    const dst = heap.malloc(2 * bytes.length);
    heap.u8.set(bytes, src);
    wasm.hex_encode(src, bytes.length, dst);
    expect(new TextDecoder().decode(read(memory, dst, 2 * bytes.length))).toBe(hex(bytes));
    expectIntact(env);
  });

  it("gives the module's malloc a live heap block that JS frees, once", async () => {
    const env = await setup();
    const { heap, wasm, memory } = env;
    const bytes = randomBytes(random(4), 100);
    const src = heap.malloc(bytes.length);
    heap.u8.set(bytes, src);
    const p = wasm.reversed_copy(src, bytes.length);
    expect(p).toBeGreaterThan(HEAP_BASE);
    expect(heap.usableSize(p)).toBeGreaterThanOrEqual(bytes.length);
    expect(heap.stats().allocations).toBe(2);
    expect(read(memory, p, bytes.length)).toEqual(reversed(bytes));
    heap.free(p);
    expect(heap.stats().allocations).toBe(1);
    expect(() => heap.free(p)).toThrow(InvalidPointerError);
    expect(() => heap.free(p)).toThrow(`free(): pointer ${p} was already freed (double free)`);
    expect(() => heap.usableSize(p)).toThrow(InvalidPointerError);
    expectIntact(env);
  });

  it("lets the module free what JS allocated, and throws through it on a double free", async () => {
    const env = await setup();
    const { heap, wasm } = env;
    const p = heap.malloc(64);
    const used = heap.used;
    wasm.free_buffer(p);
    expect(heap.used).toBeLessThan(used);
    expect(heap.stats().allocations).toBe(0);
    expect(() => wasm.free_buffer(p)).toThrow(InvalidPointerError);
    expect(() => wasm.free_buffer(HEAP_BASE + 4)).toThrow(InvalidPointerError);
    expectIntact(env);
  });

  it("refuses the module's impossible sizes with InvalidSizeError", async () => {
    const env = await setup();
    const { heap, wasm } = env;
    const src = heap.malloc(8);
    const before = heap.stats();
    expect(() => wasm.reversed_copy(src, -1)).toThrow(InvalidSizeError);
    expect(() => wasm.reversed_copy(src, -1)).toThrow("invalid size 4294967295");
    expect(heap.stats()).toEqual(before);
    expectIntact(env);
  });

  it("returns 0 to the module when the memory is at its maximum", async () => {
    const env = await setup(2, 2);
    const { heap, wasm, memory } = env;
    const src = heap.malloc(8);
    expect(wasm.reversed_copy(src, 3 * WASM_PAGE)).toBe(0);
    expect(memory.buffer.byteLength).toBe(2 * WASM_PAGE);
    expect(heap.stats().allocations).toBe(1);
    expectIntact(env);
  });
});

describe("growth", () => {
  it("grows the memory when JS allocates more than it has; data before and after stays computable", async () => {
    const env = await setup(2);
    const { heap, wasm, memory } = env;
    const next = random(5);
    const early = randomInts(next, 1000);
    const pe = heap.malloc(early.length * 4);
    heap.i32.set(early, pe >> 2);
    const old = memory.buffer;
    const oldLength = old.byteLength;
    const oldU8 = heap.u8;

    const big = heap.malloc(3 * WASM_PAGE);
    expect(big).not.toBe(0);
    expect(memory.buffer).not.toBe(old);
    expect(old.byteLength).toBe(0); // detached by memory.grow
    expect(oldU8.byteLength).toBe(0);
    expect(memory.buffer.byteLength).toBeGreaterThan(oldLength);
    expect(heap.u8.buffer).toBe(memory.buffer);
    expect(heap.i32.buffer).toBe(memory.buffer);
    expect(heap.f64.buffer).toBe(memory.buffer);
    expect(heap.u8.byteLength).toBe(memory.buffer.byteLength);
    // The arena grows in whole pages from base, so it ends short of the memory's last page end.
    expect(HEAP_BASE + heap.size).toBeLessThanOrEqual(memory.buffer.byteLength);
    expect(memory.buffer.byteLength - (HEAP_BASE + heap.size)).toBeLessThan(WASM_PAGE);
    expect(big + 3 * WASM_PAGE).toBeGreaterThan(oldLength);

    // Written after the growth, partly past the old end.
    const late = randomInts(next, (3 * WASM_PAGE) / 4);
    heap.i32.set(late, big >> 2);
    expect(wasm.sum_i32(pe, early.length)).toBe(sumI32(early));
    expect(wasm.sum_i32(big, late.length)).toBe(sumI32(late));
    // From memory allocated before the growth into memory allocated after it.
    wasm.reverse_bytes(pe, early.length * 4, big);
    expect(read(memory, big, early.length * 4)).toEqual(reversed(new Uint8Array(early.buffer)));
    expectIntact(env);
  });

  it("grows the memory from inside the module's malloc call", async () => {
    const env = await setup(2);
    const { heap, wasm, memory } = env;
    const bytes = randomBytes(random(6), 100_000);
    const src = heap.malloc(bytes.length);
    heap.u8.set(bytes, src);
    const old = memory.buffer;
    const p = wasm.reversed_copy(src, bytes.length);
    expect(p).not.toBe(0);
    expect(old.byteLength).toBe(0);
    expect(heap.u8.buffer).toBe(memory.buffer);
    expect(heap.usableSize(p)).toBeGreaterThanOrEqual(bytes.length);
    expect(read(memory, p, bytes.length)).toEqual(reversed(bytes));
    heap.free(p);
    heap.free(src);
    expect(heap.stats().allocations).toBe(0);
    expectIntact(env);
  });

  it("re-acquires the views with refresh() after the module grows the memory itself", async () => {
    const env = await setup(2);
    const { heap, wasm, memory } = env;
    const ints = randomInts(random(7), 64);
    const p = heap.malloc(ints.length * 4);
    heap.i32.set(ints, p >> 2);
    const size = heap.size;

    expect(wasm.grow_memory(2)).toBe(2);
    expect(heap.u8.byteLength).toBe(0); // the views are of the detached buffer until refreshed
    expect(heap.refresh()).toBe(true);
    expect(heap.refresh()).toBe(false);
    expect(heap.u8.buffer).toBe(memory.buffer);
    expect(heap.u8.byteLength).toBe(4 * WASM_PAGE);
    expect(heap.i32.subarray(p >> 2, (p >> 2) + ints.length)).toEqual(ints);
    // The new pages are not the heap's until it grows.
    expect(heap.size).toBe(size);
    expect(wasm.sum_i32(p, ints.length)).toBe(sumI32(ints));
    expectIntact(env);
  });

  it("re-acquires the views in the next heap call after the module grows the memory", async () => {
    const env = await setup(2);
    const { heap, wasm, memory } = env;
    const p = heap.malloc(16);
    wasm.grow_memory(1);
    const q = heap.malloc(16);
    expect(heap.u8.buffer).toBe(memory.buffer);
    heap.i32[q >> 2] = 41;
    heap.i32[(q >> 2) + 1] = 1;
    expect(wasm.sum_i32(q, 2)).toBe(42);

    wasm.grow_memory(1);
    heap.free(p);
    expect(heap.u8.buffer).toBe(memory.buffer);

    wasm.grow_memory(1);
    expect(heap.usableSize(q)).toBeGreaterThanOrEqual(16);
    expect(heap.u8.buffer).toBe(memory.buffer);
    heap.free(q);
    expectIntact(env);
  });

  it("takes the pages the module grew when it next grows", async () => {
    const env = await setup(2);
    const { heap, wasm, memory } = env;
    const size = heap.size;
    wasm.grow_memory(2);
    const big = heap.malloc(2 * WASM_PAGE);
    expect(big).not.toBe(0);
    // The heap grew into the pages the module added; the memory did not grow again.
    expect(heap.size).toBeGreaterThan(size);
    expect(memory.buffer.byteLength).toBe(4 * WASM_PAGE);
    expect(big + 2 * WASM_PAGE).toBeGreaterThan(2 * WASM_PAGE);
    expectIntact(env);
  });
});

describe("Heap.attach", () => {
  it("re-opens the heap in the same memory", async () => {
    const env = await setup();
    const { heap, memory, wasm } = env;
    const p = heap.malloc(100);
    const other = Heap.attach(memory, { base: HEAP_BASE });
    expect(other.base).toBe(HEAP_BASE);
    expect(other.stats()).toEqual(heap.stats());
    expect(other.usableSize(p)).toBe(heap.usableSize(p));
    // Either handle frees what the other allocated; the module may use either.
    const q = other.malloc(4 * WASM_PAGE); // grows the memory through the second handle
    expect(q).not.toBe(0);
    expect(heap.usableSize(q)).toBe(other.usableSize(q));
    const wasm2 = await instantiateKernels(memory, heapAllocator(other));
    const r = wasm2.reversed_copy(p, 8);
    heap.free(r);
    other.free(p);
    wasm.free_buffer(q);
    expect(heap.stats().allocations).toBe(0);
    other.check();
    expectIntact(env);
  });

  it("finds no heap at another base", async () => {
    const { memory } = await setup();
    expect(() => Heap.attach(memory, { base: HEAP_BASE + 8 })).toThrow(InvalidStateError);
    expect(() => Heap.attach(memory, { base: 0 })).toThrow(
      "Heap.attach(): no @mmgr heap at offset 0: no heap magic",
    );
  });
});
