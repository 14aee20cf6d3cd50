/*-------------------------------------------------------------------------
 *
 * kernels.ts
 *	  Compiles kernels.wat with wabt and instantiates it on a given
 *	  WebAssembly.Memory, with malloc and free bound to a heap, an
 *	  AllocSet or an nginx pool.
 *
 * The module imports its memory, so one compiled module serves any memory
 * of at least one page; a shared memory needs the shared variant of the
 * import, which compileKernels() makes from the same text. Modules are
 * compiled once per variant and cached.
 *
 *-------------------------------------------------------------------------
 */

import { readFileSync } from "node:fs";
import type { Heap, Ptr } from "@mmgr/heap";
import wabtInit from "wabt";

/** Where the heap starts: the module's `__heap_base`. */
export const HEAP_BASE = 1024;
/** Where the module's data ends: its `__data_end`. */
export const DATA_END = 64;
/** The module's table of hex digits, "0123456789abcdef". */
export const HEX_DIGITS_ADDR = 16;
/** The module's name, "mmgr wasm kernels", NUL-terminated. */
export const NAME_ADDR = 32;

const MEMORY_IMPORT = '(import "env" "memory" (memory 1))';
const SHARED_MEMORY_IMPORT = '(import "env" "memory" (memory 1 65536 shared))';

/** What the module calls to allocate: malloc(3) and free(3) for wasm. */
export interface WasmAllocator {
  /** A pointer to `size` bytes, or 0. */
  malloc(size: number): Ptr;
  /** Gives back what malloc returned. */
  free(ptr: Ptr): void;
}

/** The module's exports. Pointers and lengths are i32s; lengths count elements. */
export interface Kernels {
  /** The sum of `len` i32s at `ptr`, wrapping. */
  sum_i32(ptr: Ptr, len: number): number;
  /** The sum of `len` f64s at `ptr`, left to right. */
  sum_f64(ptr: Ptr, len: number): number;
  /** The `len` bytes at `src` reversed into `dst` (not overlapping). */
  reverse_bytes(src: Ptr, len: number, dst: Ptr): void;
  /** A new buffer from the imported malloc holding the bytes at `src` reversed; 0 if malloc returns 0. */
  reversed_copy(src: Ptr, len: number): Ptr;
  /** Calls the imported free on `ptr`. */
  free_buffer(ptr: Ptr): void;
  /** The `len` bytes at `src` as `2 * len` hex digits at `dst`, from the module's own table. */
  hex_encode(src: Ptr, len: number, dst: Ptr): void;
  /** `memory.grow` from inside the module: the old size in pages, or -1. */
  grow_memory(pages: number): number;
  readonly __heap_base: WebAssembly.Global;
  readonly __data_end: WebAssembly.Global;
  readonly name: WebAssembly.Global;
}

const compiled = new Map<boolean, Promise<WebAssembly.Module>>();

/** The text of kernels.wat, with the memory import made shared if asked. */
export function kernelsText(shared = false): string {
  const text = readFileSync(new URL("./kernels.wat", import.meta.url), "utf8");
  if (!text.includes(MEMORY_IMPORT)) {
    throw new Error(`kernels.wat: the memory import ${MEMORY_IMPORT} is missing`);
  }
  return shared ? text.replace(MEMORY_IMPORT, SHARED_MEMORY_IMPORT) : text;
}

/** The compiled module, for an unshared or a shared memory; compiled once per variant. */
export function compileKernels(shared = false): Promise<WebAssembly.Module> {
  let module = compiled.get(shared);
  if (module === undefined) {
    module = (async () => {
      const wabt = await wabtInit();
      const parsed = wabt.parseWat("kernels.wat", kernelsText(shared), { threads: shared });
      try {
        // WebAssembly.compile validates; wabt's validate() would not know of threads.
        parsed.resolveNames();
        const binary = parsed.toBinary({}).buffer.slice(); // a copy on a plain ArrayBuffer
        return await WebAssembly.compile(binary);
      } finally {
        parsed.destroy();
      }
    })();
    compiled.set(shared, module);
  }
  return module;
}

/**
 * An instance of the module on `memory`, calling `allocator` for malloc
 * and free. Instantiation writes the module's data below {@link HEAP_BASE}
 * (again, for every instance: the same bytes).
 */
export async function instantiateKernels(
  memory: WebAssembly.Memory,
  allocator: WasmAllocator,
): Promise<Kernels> {
  const shared =
    typeof SharedArrayBuffer === "function" && memory.buffer instanceof SharedArrayBuffer;
  const module = await compileKernels(shared);
  const instance = await WebAssembly.instantiate(module, {
    env: {
      memory,
      malloc: (size: number) => allocator.malloc(size >>> 0),
      free: (ptr: number) => allocator.free(ptr),
    },
  });
  return instance.exports as unknown as Kernels;
}

/** malloc and free of a heap, for the module. */
export function heapAllocator(heap: Heap): WasmAllocator {
  return {
    malloc: (size) => heap.malloc(size),
    free: (ptr) => heap.free(ptr),
  };
}
