import {
  BLOCK_HDR_SIZE,
  Heap,
  HeapCorruptionError,
  InvalidPointerError,
  TRAILER_SIZE,
  WIPE_BYTE,
} from "@mmgr/heap";
import { describe, expect, it } from "vitest";
import { CHUNK_RECORD_SIZE, DefaultAlloc, NOBJS, roundUp } from "../src/index.js";
import { POOL_FLAG_CHECKING, POOL_FLAGS } from "../src/layout.js";
import { KiB, lists, snapshot } from "./helpers.js";

const make = () => {
  const heap = Heap.create({ initialSize: 64 * KiB, maxSize: 64 * KiB, checking: true });
  const pool = new DefaultAlloc(heap);
  return { heap, pool };
};

/** Expects `call` to throw `cls` with `message` and leave every byte and counter as it was. */
function refuses(
  heap: Heap,
  pool: DefaultAlloc | undefined,
  call: () => unknown,
  cls: typeof InvalidPointerError | typeof HeapCorruptionError,
  message: string,
): void {
  const before = snapshot(heap, pool);
  expect(call).toThrow(cls);
  expect(call).toThrow(message);
  expect(snapshot(heap, pool)).toEqual(before);
}

describe("DefaultAlloc in checking mode", () => {
  it("keeps the figures of the original and records each chunk after its bytes", () => {
    const { heap, pool } = make();
    expect(pool.checking).toBe(true);
    expect(heap.i32[(pool.control >> 2) + POOL_FLAGS]).toBe(POOL_FLAG_CHECKING);
    const used = heap.stats().used;
    pool.allocate(8);
    expect(pool.stats()).toEqual({
      heapSize: 320,
      bytesLeft: 160,
      freeListLengths: lists({ 0: 19 }),
    });
    // one heap block: 320 bytes of chunk, a 16-byte record, 320 / 8 shadow bytes (+ the heap's own checking trailer)
    const request = 320 + CHUNK_RECORD_SIZE + 320 / 8;
    expect(heap.stats().used - used).toBe(roundUp(request + BLOCK_HDR_SIZE + 1 + TRAILER_SIZE));
    pool.check();
    heap.check();
  });

  it("wipes freed objects with 0x7F, except the link word", () => {
    const { heap, pool } = make();
    const p = pool.allocate(32);
    heap.u8.fill(1, p, p + 32);
    pool.deallocate(p, 32);
    expect(heap.u8.subarray(p + 4, p + 32).every((x) => x === WIPE_BYTE)).toBe(true);
    const q = pool.allocate(32);
    expect(heap.u8.subarray(q + 4, q + 32).every((x) => x === WIPE_BYTE)).toBe(true);
  });

  it("refuses a pointer the pool never handed out", () => {
    const { heap, pool } = make();
    pool.allocate(8);
    const foreign = heap.malloc(8);
    refuses(
      heap,
      pool,
      () => pool.deallocate(foreign, 8),
      InvalidPointerError,
      `DefaultAlloc.deallocate(): pointer ${foreign} (size 8) was never handed out by this pool (it lies in none of the pool's chunks)`,
    );
    const big = pool.allocate(300); // first level: not a pool object either
    refuses(
      heap,
      pool,
      () => pool.deallocate(big, 16),
      InvalidPointerError,
      `pointer ${big} (size 16) was never handed out by this pool`,
    );
  });

  it("refuses an interior pointer and pool space not handed out yet", () => {
    const { heap, pool } = make();
    const p = pool.allocate(16); // 20 x 16 carved, 320 bytes of pool space left
    refuses(
      heap,
      pool,
      () => pool.deallocate(p + 8, 8),
      InvalidPointerError,
      `DefaultAlloc.deallocate(): pointer ${p + 8} (size 8) is not the start of an object of this pool (an interior pointer, or pool space not handed out)`,
    );
    const space = p + NOBJS * 16;
    refuses(
      heap,
      pool,
      () => pool.deallocate(space, 16),
      InvalidPointerError,
      `pointer ${space} (size 16) is not the start of an object of this pool`,
    );
  });

  it("refuses a double free", () => {
    const { heap, pool } = make();
    const p = pool.allocate(24);
    pool.deallocate(p, 24);
    refuses(
      heap,
      pool,
      () => pool.deallocate(p, 24),
      InvalidPointerError,
      `DefaultAlloc.deallocate(): pointer ${p} (size 24) is already on free list 2 (double free)`,
    );
    const q = pool.allocate(24); // an object never handed out, straight from the refill
    refuses(
      heap,
      pool,
      () => pool.deallocate(q + 24, 24),
      InvalidPointerError,
      "is already on free list 2 (double free)",
    );
  });

  it("refuses a size of another class, accepts any size of the same class", () => {
    const { heap, pool } = make();
    const p = pool.allocate(8);
    refuses(
      heap,
      pool,
      () => pool.deallocate(p, 16),
      InvalidPointerError,
      `DefaultAlloc.deallocate(): pointer ${p} (size 16) was allocated with a size of 1..8 bytes (free list 0), not of size class 1`,
    );
    const q = pool.allocate(41);
    refuses(
      heap,
      pool,
      () => pool.deallocate(q, 40),
      InvalidPointerError,
      "was allocated with a size of 41..48 bytes (free list 5), not of size class 4",
    );
    pool.deallocate(q, 48);
    pool.deallocate(p, 1);
    pool.check();
  });

  it("refuses a pool object passed with a size above MAX_BYTES, which would free() part of a chunk", () => {
    const { heap, pool } = make();
    const p = pool.allocate(8); // the very start of the chunk: heap.free would accept it
    refuses(
      heap,
      pool,
      () => pool.deallocate(p, 200),
      InvalidPointerError,
      `DefaultAlloc.deallocate(): pointer ${p} (size 200) lies in a chunk of this pool (an object of at most 128 bytes), but a size above 128 would hand it to the heap's free`,
    );
    refuses(
      heap,
      pool,
      () => pool.reallocate(p, 200, 300),
      InvalidPointerError,
      `DefaultAlloc.reallocate(): pointer ${p} (size 200) lies in a chunk of this pool`,
    );
    refuses(
      heap,
      pool,
      () => pool.reallocate(p, 200, 8),
      InvalidPointerError,
      "lies in a chunk of this pool",
    );
  });

  it("checks reallocate's pointer before it allocates anything", () => {
    const { heap, pool } = make();
    const p = pool.allocate(8);
    pool.deallocate(p, 8);
    refuses(
      heap,
      pool,
      () => pool.reallocate(p, 8, 100),
      InvalidPointerError,
      `DefaultAlloc.reallocate(): pointer ${p} (size 8) is already on free list 0 (double free)`,
    );
    const q = pool.allocate(8);
    refuses(
      heap,
      pool,
      () => pool.reallocate(q, 16, 100),
      InvalidPointerError,
      "was allocated with a size of 1..8 bytes (free list 0), not of size class 1",
    );
    refuses(
      heap,
      pool,
      () => pool.reallocate(q, 16, 9),
      InvalidPointerError,
      "not of size class 1",
    );
  });

  it("catches a write to a freed object when it is handed out again, and in check()", () => {
    const { heap, pool } = make();
    const p = pool.allocate(16);
    pool.deallocate(p, 16);
    heap.u8[p + 5] = 1;
    refuses(
      heap,
      pool,
      () => pool.allocate(16),
      HeapCorruptionError,
      `DefaultAlloc.allocate(): free 16-byte object ${p} was written after it was freed, at offset ${p + 5}`,
    );
    expect(() => pool.check()).toThrow(HeapCorruptionError);
    expect(() => pool.check()).toThrow(
      `free object ${p} was written after it was freed, at ${p + 5}`,
    );
  });

  it("catches an overwritten free-list link before following it", () => {
    const { heap, pool } = make();
    const p = pool.allocate(16);
    pool.deallocate(p, 16);
    heap.i32[p >> 2] = p + 8; // inside an object, not the start of a free one
    refuses(
      heap,
      undefined, // stats() would follow the bad link too
      () => pool.allocate(16),
      HeapCorruptionError,
      `DefaultAlloc.allocate(): the link of free 16-byte object ${p} reads ${p + 8}, not a free object of its list (written after it was freed?)`,
    );
  });

  it("check() finds an object lost from its list and a list that leaves the arena", () => {
    const { heap, pool } = make();
    const p = pool.allocate(16);
    pool.deallocate(p, 16);
    const head = (pool.control >> 2) + 8 + 1;
    heap.i32[head] = heap.i32[p >> 2]; // drop p from list 1
    expect(() => pool.check()).toThrow(
      "check(): free list 1 holds 19 objects, but 20 are recorded as on it",
    );
    heap.i32[head] = 1 << 30;
    expect(() => pool.check()).toThrow(
      `check(): free list 1 links to ${1 << 30}, outside the arena`,
    );
    expect(() => pool.stats()).toThrow(HeapCorruptionError);
  });

  it("check() finds a loop in a list, also without checking mode", () => {
    const heap = Heap.create();
    const pool = new DefaultAlloc(heap);
    const p = pool.allocate(16);
    pool.deallocate(p, 16);
    heap.i32[(p + 16) >> 2] = p; // the third object links back to the first
    expect(() => pool.check()).toThrow(HeapCorruptionError);
    expect(() => pool.check()).toThrow("check(): free list 1 loops");
  });
});
