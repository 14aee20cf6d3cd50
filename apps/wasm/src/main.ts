/*-------------------------------------------------------------------------
 *
 * main.ts
 *	  `pnpm example`: a heap in a WebAssembly module's memory. JavaScript
 *	  allocates the module's input and output with the heap, an AllocSet
 *	  and an nginx pool, the module computes in place, and the module
 *	  allocates from the same heap through its imported malloc and free.
 *
 * runExample() is what the tests run; started as a script, it prints.
 *
 *-------------------------------------------------------------------------
 */

import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ALLOCSET_DEFAULT_SIZES, AllocSet } from "@mmgr/aset";
import { Heap } from "@mmgr/heap";
import { NgxPool } from "@mmgr/ngx-pool";
import { HEAP_BASE, heapAllocator, instantiateKernels } from "./kernels.js";

const WASM_PAGE = 65536;

/** Runs the example, handing each line of its report to `log`. */
export async function runExample(log: (line: string) => void = console.log): Promise<void> {
  // The module's data lies below 1024 (its __heap_base); the heap takes the rest.
  const memory = new WebAssembly.Memory({ initial: 2, maximum: 256 });
  const heap = Heap.fromMemory(memory, { base: HEAP_BASE });
  const wasm = await instantiateKernels(memory, heapAllocator(heap));
  log(
    `heap at ${heap.base}..${heap.base + heap.size} in a memory of ${memory.buffer.byteLength / WASM_PAGE} pages`,
  );

  // JS allocates and fills the input; the module reads it where it is.
  const n = 1000;
  const ints = heap.malloc(n * 4);
  for (let i = 0; i < n; i++) heap.i32[(ints >> 2) + i] = i + 1;
  log(`sum_i32(1..${n}) = ${wasm.sum_i32(ints, n)}`);

  // JS allocates the output too; the module writes into it.
  const text = new TextEncoder().encode("hello, wasm");
  const src = heap.malloc(text.length);
  const dst = heap.malloc(text.length);
  heap.u8.set(text, src);
  wasm.reverse_bytes(src, text.length, dst);
  log(`reverse_bytes: ${decode(heap.u8.subarray(dst, dst + text.length))}`);

  // The module allocates for itself through the imported malloc; JS frees it.
  const copy = wasm.reversed_copy(src, text.length);
  log(`reversed_copy: pointer ${copy}, ${heap.usableSize(copy)} usable bytes, a live heap block`);
  heap.free(copy);

  // An AllocSet on the same heap: per-query memory, gone at reset().
  const set = AllocSet.create(heap, "wasm query", ALLOCSET_DEFAULT_SIZES);
  const xs = set.alloc(4 * 8);
  heap.f64.set([0.5, 1.25, 2, 4], xs >> 3);
  const hex = set.alloc(2 * text.length);
  wasm.hex_encode(src, text.length, hex);
  log(
    `AllocSet: sum_f64 = ${wasm.sum_f64(xs, 4)}, hex_encode = ${decode(heap.u8.subarray(hex, hex + 2 * text.length))}`,
  );
  set.reset();

  // An nginx pool on the same heap: per-request memory, gone at destroy().
  const pool = NgxPool.create(heap, 4096)!;
  const body = pool.palloc(64 * 1024); // above the pool's max: a large allocation from the heap
  for (let i = 0; i < 16 * 1024; i++) heap.i32[(body >> 2) + i] = 3;
  log(`NgxPool: sum_i32 of a 64 KiB large allocation = ${wasm.sum_i32(body, 16 * 1024)}`);
  pool.destroy();

  // Growth: the heap calls memory.grow, the old buffer is detached and
  // heap.u8 & co. are views of the new one. Pointers stay valid.
  const before = memory.buffer;
  const big = heap.malloc(1 << 20);
  log(
    `malloc(1 MiB) grew the memory to ${memory.buffer.byteLength / WASM_PAGE} pages; the old buffer now has ${before.byteLength} bytes; sum_i32(1..${n}) still ${wasm.sum_i32(ints, n)}`,
  );

  // The module may grow the memory itself: refresh() re-acquires the views
  // before JS reads or writes through them, or through an allocator on the heap.
  wasm.grow_memory(1);
  heap.refresh();
  log(`after the module's memory.grow: heap.u8 has ${heap.u8.byteLength} bytes again`);

  for (const p of [big, ints, src, dst]) heap.free(p);
  set.delete();
  AllocSet.releaseCachedContexts(heap); // a deleted set's first block is kept for reuse until then
  heap.check();
  const { used, allocations, peakUsed } = heap.stats();
  log(`heap.check() passed: used ${used}, allocations ${allocations}, peak ${peakUsed}`);
}

function decode(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}

if (
  process.argv[1] !== undefined &&
  realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)
) {
  await runExample();
}
