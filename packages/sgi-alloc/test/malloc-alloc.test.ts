import {
  Heap,
  InvalidPointerError,
  InvalidSizeError,
  MAX_ALLOC_SIZE,
  MmgrError,
  OutOfMemoryError,
} from "@mmgr/heap";
import { describe, expect, it } from "vitest";
import { MallocAlloc } from "../src/index.js";
import { exhaust, FIXED, KiB, snapshot } from "./helpers.js";

const full = () => {
  const heap = Heap.create(FIXED(8 * KiB));
  const first = new MallocAlloc(heap);
  const hogs = exhaust(heap);
  return { heap, first, hogs };
};

describe("MallocAlloc", () => {
  it("allocates, reallocates and deallocates with the heap's malloc, realloc and free", () => {
    const heap = Heap.create();
    const first = new MallocAlloc(heap);
    const base = heap.stats();
    const p = first.allocate(100);
    expect(heap.usableSize(p)).toBeGreaterThanOrEqual(100);
    heap.u8.fill(3, p, p + 100);
    const q = first.reallocate(p, 100, 5000);
    expect(heap.u8.subarray(q, q + 100).every((x) => x === 3)).toBe(true);
    first.deallocate(q, 5000);
    expect(heap.stats().used).toBe(base.used);
    expect(heap.stats().allocations).toBe(base.allocations);
  });

  it("allocate(0) is malloc(0): a unique pointer; deallocate(0, n) is free(NULL)", () => {
    const heap = Heap.create();
    const first = new MallocAlloc(heap);
    const a = first.allocate(0);
    const b = first.allocate(0);
    expect(a).not.toBe(b);
    const before = snapshot(heap);
    first.deallocate(0, 8);
    expect(snapshot(heap)).toEqual(before);
    expect(first.reallocate(0, 0, 16)).toBeGreaterThan(0); // realloc(NULL, n) = malloc(n)
  });
});

describe("MallocAlloc.setMallocHandler", () => {
  it("installs a handler and returns the previous one, null at first", () => {
    const first = new MallocAlloc(Heap.create());
    const f = () => {};
    const g = () => {};
    expect(first.setMallocHandler(f)).toBe(null);
    expect(first.setMallocHandler(g)).toBe(f);
    expect(first.setMallocHandler(null)).toBe(g);
    expect(first.setMallocHandler(null)).toBe(null);
  });

  it("refuses what is not a function with MmgrError, keeping the handler", () => {
    const first = new MallocAlloc(Heap.create());
    const handler = () => {};
    first.setMallocHandler(handler);
    expect(() => first.setMallocHandler("x" as never)).toThrow(MmgrError);
    expect(() => first.setMallocHandler("x" as never)).toThrow(
      'MallocAlloc.setMallocHandler(): handler "x" is neither a function nor null',
    );
    expect(first.setMallocHandler(null)).toBe(handler);
  });
});

describe("MallocAlloc out of memory (_S_oom_malloc, _S_oom_realloc)", () => {
  it("throws OutOfMemoryError (bad_alloc) when the heap is full and no handler is set", () => {
    const { heap, first } = full();
    const before = snapshot(heap);
    let caught: unknown;
    try {
      first.allocate(100);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(OutOfMemoryError);
    expect((caught as OutOfMemoryError).size).toBe(100);
    expect((caught as Error).message).toBe(
      "MallocAlloc.allocate(): out of memory (bad_alloc): the heap cannot give 100 bytes and no malloc handler is set",
    );
    expect(snapshot(heap)).toEqual(before);
  });

  it("calls the handler and retries until malloc succeeds", () => {
    const { heap, first, hogs } = full();
    let calls = 0;
    first.setMallocHandler(() => {
      calls++;
      if (calls === 4) heap.free(hogs[0]);
    });
    expect(first.allocate(100)).toBe(hogs[0]);
    expect(calls).toBe(4);
  });

  it("reads the handler anew each turn: one that removes itself ends in bad_alloc", () => {
    const { first } = full();
    let calls = 0;
    first.setMallocHandler(() => {
      calls++;
      first.setMallocHandler(null);
    });
    expect(() => first.allocate(100)).toThrow(OutOfMemoryError);
    expect(calls).toBe(1);
  });

  it("lets an error thrown by the handler through", () => {
    const { first } = full();
    first.setMallocHandler(() => {
      throw new RangeError("give up");
    });
    expect(() => first.allocate(100)).toThrow(RangeError);
  });

  it("runs the same loop for reallocate, the block intact until it succeeds", () => {
    const heap = Heap.create(FIXED(8 * KiB));
    const first = new MallocAlloc(heap);
    const p = first.allocate(64);
    heap.u8.fill(5, p, p + 64);
    const hogs = exhaust(heap);
    expect(() => first.reallocate(p, 64, 1000)).toThrow(
      `MallocAlloc.reallocate(): out of memory (bad_alloc): the heap cannot resize pointer ${p} to 1000 bytes and no malloc handler is set`,
    );
    expect(heap.u8.subarray(p, p + 64).every((x) => x === 5)).toBe(true);
    let calls = 0;
    first.setMallocHandler(() => {
      calls++;
      if (calls === 2) heap.free(hogs[0]);
    });
    const q = first.reallocate(p, 64, 1000);
    expect(calls).toBe(2);
    expect(heap.u8.subarray(q, q + 64).every((x) => x === 5)).toBe(true);
    heap.check();
  });
});

describe("MallocAlloc bad input", () => {
  const BAD = [-1, 1.5, Number.NaN, MAX_ALLOC_SIZE + 1, "8"];
  const text = (v: unknown) => (typeof v === "string" ? JSON.stringify(v) : String(v));

  it.each(BAD)("allocate, deallocate and reallocate refuse size %o and change nothing", (n) => {
    const heap = Heap.create(FIXED(64 * KiB));
    const first = new MallocAlloc(heap);
    const p = first.allocate(16);
    const before = snapshot(heap);
    const message = `invalid size ${text(n)}: not an integer from 0 to ${MAX_ALLOC_SIZE}`;
    expect(() => first.allocate(n as number)).toThrow(InvalidSizeError);
    expect(() => first.allocate(n as number)).toThrow(`MallocAlloc.allocate(): ${message}`);
    expect(() => first.deallocate(p, n as number)).toThrow(`MallocAlloc.deallocate(): ${message}`);
    expect(() => first.reallocate(p, n as number, 8)).toThrow(
      `MallocAlloc.reallocate(): ${message}`,
    );
    expect(() => first.reallocate(p, 8, n as number)).toThrow(
      `MallocAlloc.reallocate(): ${message}`,
    );
    expect(snapshot(heap)).toEqual(before);
  });

  it("refuses a pointer the heap did not hand out, naming itself, and changes nothing", () => {
    const heap = Heap.create(FIXED(64 * KiB));
    const first = new MallocAlloc(heap);
    const p = first.allocate(16);
    first.deallocate(p, 16);
    const before = snapshot(heap);
    expect(() => first.deallocate(p, 16)).toThrow(InvalidPointerError);
    expect(() => first.deallocate(p, 16)).toThrow(
      `MallocAlloc.deallocate(): free(): pointer ${p} was already freed (double free)`,
    );
    expect(() => first.reallocate(p + 4, 16, 32)).toThrow(
      `MallocAlloc.reallocate(): realloc(): pointer ${p + 4} is not 8-aligned`,
    );
    expect(snapshot(heap)).toEqual(before);
  });
});
