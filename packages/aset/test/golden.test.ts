import { Heap } from "@mmgr/heap";
import { describe, expect, it } from "vitest";
import {
  ALLOC_BLOCKHDRSZ,
  ALLOC_CHUNKHDRSZ,
  ALLOC_CHUNKHDRSZ_CHECKING,
  ALLOCSET_DEFAULT_SIZES,
  ALLOCSET_SMALL_SIZES,
  AllocSet,
  CHUNK_EXTERNAL_HI,
  CHUNK_EXTERNAL_LO,
  SENTINEL_BYTE,
  SIZEOF_ASET_CONTEXT,
} from "../src/index.js";

// The verified vectors of ORIGINALS.md §1.3, §1.5 and §1.11: what PostgreSQL
// 17's aset.c printed and returned when driven by a small C program.

/** The 64-bit hdrmask in front of `ptr`, as PostgreSQL would print it. */
function hdrmask(heap: Heap, ptr: number): bigint {
  return heap.dv.getBigUint64(ptr - 8, true);
}

describe("AllocSet (PostgreSQL 17 golden vectors)", () => {
  it("an empty default set prints 8192 total in 1 blocks; 7952 free (0 chunks); 240 used", () => {
    const heap = Heap.create();
    const set = AllocSet.create(heap, "TopMemoryContext", ALLOCSET_DEFAULT_SIZES);
    expect(set.statsString()).toBe("8192 total in 1 blocks; 7952 free (0 chunks); 240 used");
    expect(SIZEOF_ASET_CONTEXT + ALLOC_BLOCKHDRSZ).toBe(240);
    expect(set.memAllocated).toBe(8192);
  });

  it("hands out palloc's addresses and chunk spaces, then carves into 11 chunks", () => {
    const heap = Heap.create();
    const set = AllocSet.create(heap, "carve", ALLOCSET_DEFAULT_SIZES);
    const ctx = set.offset;
    const expected: [number, number, number][] = [
      [0, 248, 16],
      [1, 264, 16],
      [8, 280, 16],
      [9, 296, 24],
      [16, 320, 24],
      [17, 344, 40],
      [100, 384, 136],
      [1000, 520, 1032],
      [1024, 1552, 1032],
      [1025, 2584, 2056],
    ];
    for (const [size, at, space] of expected) {
      const p = set.alloc(size);
      expect(p - ctx).toBe(at);
      expect(set.getChunkSpace(p)).toBe(space);
    }
    set.alloc(4096);
    set.alloc(8192);
    expect(set.statsString()).toBe("32768 total in 3 blocks; 15752 free (11 chunks); 17016 used");
    const big = set.alloc(8193);
    expect(set.getChunkSpace(big)).toBe(8208);
    expect(set.memAllocated).toBe(32768 + 8248);
    set.free(big);
    expect(set.memAllocated).toBe(32768);
    set.check();
  });

  it("writes PG 17's hdrmask bits: offset 40, freelist index, method id 3; external magic", () => {
    const heap = Heap.create();
    const set = AllocSet.create(heap, "bits", ALLOCSET_DEFAULT_SIZES);
    expect(hdrmask(heap, set.alloc(0))).toBe(0x000000a000000003n);
    expect(hdrmask(heap, set.alloc(9)) & 0xffffffffn).toBe(0x23n);
    expect(hdrmask(heap, set.alloc(17)) & 0xffffffffn).toBe(0x43n);
    const big = set.alloc(20000);
    expect(hdrmask(heap, big)).toBe(0xb1a8db858eb6efb3n);
    expect(heap.i32[(big >> 2) - 2]).toBe(CHUNK_EXTERNAL_LO);
    expect(heap.i32[(big >> 2) - 1]).toBe(CHUNK_EXTERNAL_HI);
  });

  it("carves 728 leftover bytes into 512, 128 and 64: 16384 total; 7848 free (3 chunks)", () => {
    const heap = Heap.create();
    const set = AllocSet.create(heap, "carve", ALLOCSET_DEFAULT_SIZES);
    for (let i = 0; i < 7; i++) set.alloc(1024);
    expect(set.stats().freespace).toBe(728);
    set.alloc(1024);
    expect(set.statsString()).toBe("16384 total in 2 blocks; 7848 free (3 chunks); 8536 used");
    expect(set.getChunkSpace(set.alloc(512))).toBe(512 + ALLOC_CHUNKHDRSZ);
    expect(set.getChunkSpace(set.alloc(128))).toBe(128 + ALLOC_CHUNKHDRSZ);
    expect(set.getChunkSpace(set.alloc(64))).toBe(64 + ALLOC_CHUNKHDRSZ);
    expect(set.stats().freechunks).toBe(0);
  });

  it("a small set prints 1024 total; 784 free; its limit 1024 makes 1025 a dedicated chunk", () => {
    const heap = Heap.create();
    const set = AllocSet.create(heap, "small", ALLOCSET_SMALL_SIZES);
    expect(set.statsString()).toBe("1024 total in 1 blocks; 784 free (0 chunks); 240 used");
    expect(set.allocChunkLimit).toBe(1024);
    const p = set.alloc(1025);
    expect(set.blocks()[1].dedicated).toBe(true);
    expect(set.getChunkSpace(p)).toBe(1032 + ALLOC_CHUNKHDRSZ);
  });

  it("in checking mode the first pointer is ctx + 256 and palloc(5) has the sentinel at p[5]", () => {
    const heap = Heap.create({ checking: true });
    const set = AllocSet.create(heap, "checking", ALLOCSET_DEFAULT_SIZES);
    const p = set.alloc(5);
    expect(p - set.offset).toBe(SIZEOF_ASET_CONTEXT + ALLOC_BLOCKHDRSZ + ALLOC_CHUNKHDRSZ_CHECKING);
    expect(p - set.offset).toBe(256);
    expect(heap.u8[p + 5]).toBe(SENTINEL_BYTE);
  });

  it("deleting a default set and creating another returns the same address", () => {
    const heap = Heap.create();
    const a = AllocSet.create(heap, "a", ALLOCSET_DEFAULT_SIZES);
    const at = a.offset;
    a.delete();
    expect(AllocSet.create(heap, "b", ALLOCSET_DEFAULT_SIZES).offset).toBe(at);
  });
});
