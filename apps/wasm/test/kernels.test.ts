/*-------------------------------------------------------------------------
 *
 * kernels.test.ts
 *	  The module on its own: its data below the heap, its exports, and
 *	  the two variants of its memory import.
 *
 *-------------------------------------------------------------------------
 */

import { describe, expect, it } from "vitest";
import {
  compileKernels,
  DATA_END,
  HEAP_BASE,
  HEX_DIGITS_ADDR,
  instantiateKernels,
  kernelsText,
  NAME_ADDR,
} from "../src/kernels.js";
import { read, setup } from "./setup.js";

const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe("kernels.wat", () => {
  it("exports where its data ends and the heap may start", async () => {
    const { wasm } = await setup();
    expect(wasm.__heap_base.value).toBe(HEAP_BASE);
    expect(wasm.__data_end.value).toBe(DATA_END);
    expect(wasm.name.value).toBe(NAME_ADDR);
    expect(DATA_END).toBeLessThanOrEqual(HEAP_BASE);
  });

  it("writes its data segments below the heap at instantiation", async () => {
    const { memory, below } = await setup();
    expect(decode(read(memory, HEX_DIGITS_ADDR, 16))).toBe("0123456789abcdef");
    expect(decode(read(memory, NAME_ADDR, 18))).toBe("mmgr wasm kernels\0");
    expect(below.subarray(0, HEX_DIGITS_ADDR).every((b) => b === 0)).toBe(true);
    expect(below.subarray(DATA_END).every((b) => b === 0)).toBe(true);
  });

  it("imports an unshared memory, or a shared one in its shared variant", async () => {
    expect(kernelsText(false)).toContain('(import "env" "memory" (memory 1))');
    expect(kernelsText(true)).toContain('(import "env" "memory" (memory 1 65536 shared))');
    const plain = WebAssembly.Module.imports(await compileKernels(false));
    expect(plain.map((i) => `${i.module}.${i.name}:${i.kind}`)).toEqual([
      "env.memory:memory",
      "env.malloc:function",
      "env.free:function",
    ]);
    expect(await compileKernels(true)).not.toBe(await compileKernels(false));
    expect(await compileKernels(true)).toBe(await compileKernels(true));
  });

  it("refuses a memory whose sharedness its import does not declare", async () => {
    const shared = new WebAssembly.Memory({ initial: 1, maximum: 4, shared: true });
    const env = { memory: shared, malloc: () => 0, free: () => {} };
    await expect(WebAssembly.instantiate(await compileKernels(false), { env })).rejects.toThrow(
      WebAssembly.LinkError,
    );
    // instantiateKernels picks the variant from the memory.
    const wasm = await instantiateKernels(shared, { malloc: () => 0, free: () => {} });
    expect(wasm.reversed_copy(HEAP_BASE, 8)).toBe(0);
  });

  it("reports the imported malloc's 0 as its own 0, and lengths as unsigned sizes", async () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const asked: number[] = [];
    const wasm = await instantiateKernels(memory, {
      malloc: (size) => {
        asked.push(size);
        return 0;
      },
      free: () => {},
    });
    expect(wasm.reversed_copy(HEAP_BASE, 100)).toBe(0);
    expect(wasm.reversed_copy(HEAP_BASE, -1)).toBe(0);
    expect(asked).toEqual([100, 0xffffffff]);
  });

  it("grows its memory itself with memory.grow", async () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 2 });
    const wasm = await instantiateKernels(memory, { malloc: () => 0, free: () => {} });
    expect(wasm.grow_memory(1)).toBe(1);
    expect(memory.buffer.byteLength).toBe(2 * 65536);
    expect(wasm.grow_memory(1)).toBe(-1);
  });
});
