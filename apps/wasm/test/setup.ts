/*-------------------------------------------------------------------------
 *
 * setup.ts
 *	  What the tests share: a memory with a heap at HEAP_BASE and the
 *	  module on it, the JS computations the module's results are checked
 *	  against, seeded random inputs, the check that the module's own
 *	  bytes below the heap came through untouched, and the checks that the
 *	  module computes in place on blocks from any of the allocators, before
 *	  and after the memory grows.
 *
 *-------------------------------------------------------------------------
 */

import { Heap, type Ptr } from "@mmgr/heap";
import { expect } from "vitest";
import {
  HEAP_BASE,
  heapAllocator,
  instantiateKernels,
  type Kernels,
  type WasmAllocator,
} from "../src/kernels.js";

export const WASM_PAGE = 65536;

export interface Env {
  memory: WebAssembly.Memory;
  heap: Heap;
  /** The module, its malloc and free bound to the heap. */
  wasm: Kernels;
  /** The bytes below the heap right after instantiation. */
  below: Uint8Array;
}

/** A memory of `initial` pages (at most `maximum`), a heap in it from HEAP_BASE, the module on it. */
export async function setup(initial = 2, maximum = 256, shared = false): Promise<Env> {
  const memory = new WebAssembly.Memory({ initial, maximum, shared });
  const heap = Heap.fromMemory(memory, { base: HEAP_BASE });
  const wasm = await instantiateKernels(memory, heapAllocator(heap));
  const below = new Uint8Array(memory.buffer, 0, HEAP_BASE).slice();
  return { memory, heap, wasm, below };
}

/** Another instance of the module on the env's memory, calling `allocator`. */
export function withAllocator(env: Env, allocator: WasmAllocator): Promise<Kernels> {
  return instantiateKernels(env.memory, allocator);
}

/** The bytes below the heap are what instantiation wrote, and the heap passes check(). */
export function expectIntact(env: Env): void {
  expect(new Uint8Array(env.memory.buffer, 0, HEAP_BASE)).toEqual(env.below);
  env.heap.check();
}

/** Allocates `size` bytes in the env's memory: heap.malloc, set.alloc, pool.palloc ... */
export type Alloc = (size: number) => Ptr;

/**
 * Writes `n` random i32s and then `n` random f64s into two blocks from
 * `alloc`, and expects the module's sums of them to be JS's. Returns the
 * two blocks.
 */
export function expectSums(env: Env, alloc: Alloc, next: () => number, n: number): [Ptr, Ptr] {
  const { heap, wasm } = env;
  const ints = randomInts(next, n);
  const pi = alloc(n * 4);
  heap.i32.set(ints, pi >> 2);
  expect(wasm.sum_i32(pi, n)).toBe(sumI32(ints));
  const doubles = randomDoubles(next, n);
  const pd = alloc(n * 8);
  heap.f64.set(doubles, pd >> 3);
  expect(wasm.sum_f64(pd, n)).toBe(sumF64(doubles));
  return [pi, pd];
}

/**
 * Writes `n` random bytes into a block from `alloc`, has the module reverse
 * them into a second block and hex-encode them into a third, and expects
 * JS's results there. Returns the three blocks.
 */
export function expectReversedAndHex(
  env: Env,
  alloc: Alloc,
  next: () => number,
  n: number,
): [Ptr, Ptr, Ptr] {
  const { heap, wasm, memory } = env;
  const bytes = randomBytes(next, n);
  const src = alloc(n);
  const dst = alloc(n);
  const hx = alloc(2 * n);
  heap.u8.set(bytes, src);
  wasm.reverse_bytes(src, n, dst);
  wasm.hex_encode(src, n, hx);
  expect(read(memory, dst, n)).toEqual(reversed(bytes));
  expect(new TextDecoder().decode(read(memory, hx, 2 * n))).toBe(hex(bytes));
  return [src, dst, hx];
}

/**
 * Blocks from `alloc` stay computable by JS and by the module across
 * growth: `earlyLength` i32s written before a block of 4 pages makes the
 * heap grow the memory (which detaches the old buffer) and the i32s
 * written into that block are summed by the module; then the module grows
 * the memory itself and, after refresh(), a new block and the early one
 * are summed again.
 */
export function expectComputableAcrossGrowth(
  env: Env,
  alloc: Alloc,
  next: () => number,
  earlyLength: number,
): void {
  const { heap, wasm, memory } = env;
  const early = randomInts(next, earlyLength);
  const pe = alloc(early.length * 4);
  heap.i32.set(early, pe >> 2);

  const old = memory.buffer;
  const big = alloc(4 * WASM_PAGE);
  expect(old.byteLength).toBe(0);
  expect(heap.i32.buffer).toBe(memory.buffer);
  const late = randomInts(next, WASM_PAGE);
  heap.i32.set(late, big >> 2);
  expect(wasm.sum_i32(pe, early.length)).toBe(sumI32(early));
  expect(wasm.sum_i32(big, late.length)).toBe(sumI32(late));

  // The module grows the memory; refresh() before the allocator is used again.
  wasm.grow_memory(1);
  heap.refresh();
  const small = alloc(16);
  heap.i32.set([5, 6, 7, 8], small >> 2);
  expect(wasm.sum_i32(small, 4)).toBe(26);
  expect(wasm.sum_i32(pe, early.length)).toBe(sumI32(early));
}

/** mulberry32: a seeded generator of 32-bit integers. */
export function random(seed: number): () => number {
  let s = seed | 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) | 0;
  };
}

/** `n` random i32s. */
export function randomInts(next: () => number, n: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = next();
  return a;
}

/** `n` random f64s of mixed magnitudes and signs, so that the order of the additions matters. */
export function randomDoubles(next: () => number, n: number): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = (next() / 0x80000000) * 2 ** ((next() & 31) - 10);
  return a;
}

/** `n` random bytes. */
export function randomBytes(next: () => number, n: number): Uint8Array {
  const a = new Uint8Array(n);
  for (let i = 0; i < n; i++) a[i] = next() & 0xff;
  return a;
}

/** What sum_i32 computes: wrapping 32-bit addition. */
export function sumI32(xs: ArrayLike<number>): number {
  let acc = 0;
  for (let i = 0; i < xs.length; i++) acc = (acc + xs[i]) | 0;
  return acc;
}

/** What sum_f64 computes: left to right. */
export function sumF64(xs: ArrayLike<number>): number {
  let acc = 0;
  for (let i = 0; i < xs.length; i++) acc += xs[i];
  return acc;
}

export function reversed(bytes: Uint8Array): Uint8Array {
  return bytes.slice().reverse();
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

/** The `len` bytes at `ptr`, copied out of the memory's current buffer. */
export function read(memory: WebAssembly.Memory, ptr: Ptr, len: number): Uint8Array {
  return new Uint8Array(memory.buffer, ptr, len).slice();
}

/** The bytes of an ASCII string. */
export function ascii(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}
