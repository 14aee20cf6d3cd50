import { describe, expect, it } from "vitest";
import {
  CONTROL_SIZE,
  Heap,
  InvalidPointerError,
  InvalidSizeError,
  InvalidStateError,
  type MemoryLike,
  OutOfMemoryError,
} from "../src/index.js";

const PAGE = 65536;

/** The WebAssembly JS API, typed only as far as these tests use it (the DOM lib is not in this package's types). */
const WebAssembly = (
  globalThis as unknown as {
    WebAssembly: {
      Memory: new (d: { initial: number; maximum?: number; shared?: boolean }) => MemoryLike;
    };
  }
).WebAssembly;

describe("Heap.fromMemory", () => {
  it("puts the control struct at base and hands out addresses above it, leaving the bytes below alone", () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 16 });
    new Uint8Array(memory.buffer).fill(0xab, 0, 1024);
    const heap = Heap.fromMemory(memory, { base: 1024 });
    expect(heap.base).toBe(1024);
    expect(heap.size).toBe(PAGE - 1024);
    expect(heap.buffer).toBe(memory.buffer);
    const ptrs = Array.from({ length: 100 }, (_, i) => heap.malloc(8 + i * 40));
    for (const p of ptrs) expect(p).toBeGreaterThanOrEqual(1024 + CONTROL_SIZE);
    for (const p of ptrs) heap.free(p);
    expect(new Uint8Array(memory.buffer, 0, 1024).every((b) => b === 0xab)).toBe(true);
    heap.check();
  });

  it("grows the memory in pages and replaces its detached views", () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 64 });
    const heap = Heap.fromMemory(memory, { base: 256 });
    const old = memory.buffer;
    const small = heap.malloc(100);
    heap.u8.fill(5, small, small + 100);
    const big = heap.malloc(3 * PAGE);
    expect(big).not.toBe(0);
    expect(old.byteLength).toBe(0); // detached by memory.grow
    expect(memory.buffer.byteLength).toBeGreaterThanOrEqual(4 * PAGE);
    // The arena runs to the memory's end: no part of a page is left out.
    expect(heap.end).toBe(memory.buffer.byteLength);
    expect(heap.buffer).toBe(memory.buffer);
    expect(heap.u8.buffer).toBe(memory.buffer);
    expect(heap.bytes(small, 100).every((b) => b === 5)).toBe(true);
    heap.u8.fill(6, big, big + 3 * PAGE);
    heap.check();
  });

  it("returns 0 when the memory's maximum is reached", () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 2 });
    const heap = Heap.fromMemory(memory, { base: 0 });
    expect(heap.malloc(3 * PAGE)).toBe(0);
    const p = heap.malloc(PAGE);
    expect(p).not.toBe(0);
    expect(memory.buffer.byteLength).toBe(2 * PAGE);
    heap.check();
  });

  it("notices a memory.grow by the module at its next call, or at refresh()", () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 8 });
    const heap = Heap.fromMemory(memory, { base: 512 });
    const p = heap.malloc(64);
    memory.grow(1); // the module grows the memory itself: the heap's views are detached
    heap.free(p); // still validated and freed, through fresh views
    expect(heap.u8.buffer).toBe(memory.buffer);
    const q = heap.malloc(64);
    expect(q).toBe(p);
    memory.grow(1);
    expect(heap.refresh()).toBe(true);
    expect(heap.refresh()).toBe(false);
    heap.free(q);
    heap.check();
  });

  it("grows the memory at creation to initialSize", () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 8 });
    const heap = Heap.fromMemory(memory, { base: 1024, initialSize: 3 * PAGE });
    expect(memory.buffer.byteLength).toBe(4 * PAGE);
    expect(heap.size).toBe(3 * PAGE);
    heap.check(); // the heap does not own the rest of the last page
  });

  it("re-opens with attach(memory, { base }), and a shared memory makes a shared heap", () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 8 });
    const heap = Heap.fromMemory(memory, { base: 2048 });
    const p = heap.malloc(10);
    const again = Heap.attach(memory, { base: 2048 });
    again.free(p);
    expect(() => heap.free(p)).toThrow(InvalidPointerError);
    expect(() => Heap.attach(memory, { base: 1024 })).toThrow(InvalidStateError);
    const shared = new WebAssembly.Memory({ initial: 1, maximum: 8, shared: true });
    const sh = Heap.fromMemory(shared, { base: 64 });
    expect(sh.shared).toBe(true);
    const q = sh.malloc(2 * PAGE);
    expect(shared.buffer.byteLength).toBeGreaterThan(2 * PAGE);
    const other = Heap.attach(shared, { base: 64 });
    other.free(q);
    sh.check();
  });

  it("refuses a base that is not a multiple of 8 inside the memory, and sizes out of range", () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 2 });
    expect(() => Heap.fromMemory(memory, { base: 3 })).toThrow(InvalidSizeError);
    expect(() => Heap.fromMemory(memory, { base: -8 })).toThrow(InvalidSizeError);
    expect(() => Heap.fromMemory(memory, { base: 2 * PAGE })).toThrow(InvalidSizeError);
    expect(() => Heap.fromMemory(memory, { base: PAGE - 64 })).toThrow(/initialSize/);
    expect(() => Heap.fromMemory(memory, { initialSize: 2 * PAGE, maxSize: PAGE })).toThrow(
      /above maxSize/,
    );
    expect(() => Heap.fromMemory(memory, { initialSize: 4 * PAGE })).toThrow(OutOfMemoryError);
  });
});
