import { Heap, OutOfMemoryError } from "@mmgr/heap";
import { describe, expect, it } from "vitest";
import {
  ALLOC_BLOCKHDRSZ,
  ALLOC_CHUNK_FRACTION,
  ALLOC_CHUNK_LIMIT,
  ALLOC_CHUNKHDRSZ,
  ALLOC_CHUNKHDRSZ_CHECKING,
  ALLOCSET_DEFAULT_SIZES,
  ALLOCSET_NUM_FREELISTS,
  ALLOCSET_SEPARATE_THRESHOLD,
  ALLOCSET_SMALL_SIZES,
  ALLOCSET_START_SMALL_SIZES,
  AllocSet,
  ASET_MAGIC,
  allocSetFreeIndex,
  CTX_METHODS,
  CTX_TYPE,
  MAX_FREE_CONTEXTS,
  MCTX_ASET_ID,
  SENTINEL_BYTE,
  SIZEOF_ASET_CONTEXT,
  WIPE_BYTE,
} from "../src/index.js";

const HDRS = SIZEOF_ASET_CONTEXT + ALLOC_BLOCKHDRSZ; // 240: header + keeper block header
const MB = 1024 * 1024;

/** The first offset where the arena differs from `before`, or -1. */
function firstDiff(before: Uint8Array, heap: Heap): number {
  const now = heap.u8;
  if (now.length !== before.length) return Math.min(now.length, before.length);
  for (let i = 0; i < now.length; i++) if (now[i] !== before[i]) return i;
  return -1;
}

/** Heap bytes each block of the set really holds (exact in checking mode). */
function heldBytes(heap: Heap, set: AllocSet): number {
  return set.blocks().reduce((n, b) => n + heap.usableSize(b.heapPtr), 0);
}

describe("constants", () => {
  it("are aset.c's and memutils.h's", () => {
    expect(ALLOCSET_NUM_FREELISTS).toBe(11);
    expect(ALLOC_CHUNK_LIMIT).toBe(8192);
    expect(ALLOCSET_SEPARATE_THRESHOLD).toBe(ALLOC_CHUNK_LIMIT);
    expect(ALLOC_CHUNK_FRACTION).toBe(4);
    expect(ALLOCSET_DEFAULT_SIZES).toEqual({
      minContextSize: 0,
      initBlockSize: 8192,
      maxBlockSize: 8 * MB,
    });
    expect(ALLOCSET_SMALL_SIZES).toEqual({
      minContextSize: 0,
      initBlockSize: 1024,
      maxBlockSize: 8192,
    });
    expect(ALLOCSET_START_SMALL_SIZES).toEqual({
      minContextSize: 0,
      initBlockSize: 1024,
      maxBlockSize: 8 * MB,
    });
    expect(MAX_FREE_CONTEXTS).toBe(100);
  });
});

describe("allocSetFreeIndex", () => {
  it("maps 0..8 to 0, 9..16 to 1, ..., 4097..8192 to 10", () => {
    expect(allocSetFreeIndex(0)).toBe(0);
    expect(allocSetFreeIndex(8)).toBe(0);
    for (let k = 1; k < ALLOCSET_NUM_FREELISTS; k++) {
      expect(allocSetFreeIndex((8 << (k - 1)) + 1)).toBe(k);
      expect(allocSetFreeIndex(8 << k)).toBe(k);
    }
    expect(allocSetFreeIndex(ALLOC_CHUNK_LIMIT)).toBe(ALLOCSET_NUM_FREELISTS - 1);
  });
});

describe("AllocSet.create", () => {
  it("puts the header at the start of the first block and the keeper right after it", () => {
    const heap = Heap.create();
    const set = AllocSet.create(heap, "ctx", ALLOCSET_DEFAULT_SIZES);
    expect(heap.usableSize(set.offset)).toBeGreaterThanOrEqual(8192);
    const [keeper] = set.blocks();
    expect(keeper).toEqual({
      block: set.offset + SIZEOF_ASET_CONTEXT,
      heapPtr: set.offset,
      size: 8192,
      used: 0,
      keeper: true,
      dedicated: false,
    });
    expect(set.alloc(8)).toBe(set.offset + HDRS + ALLOC_CHUNKHDRSZ);
    expect(heap.i32[(set.offset >> 2) + CTX_TYPE]).toBe(ASET_MAGIC);
    expect(heap.i32[(set.offset >> 2) + CTX_METHODS]).toBe(MCTX_ASET_ID);
  });

  it("makes the first block max(header sizes, minContextSize or initBlockSize)", () => {
    const heap = Heap.create();
    const a = AllocSet.create(heap, "a", {
      minContextSize: 0,
      initBlockSize: 1024,
      maxBlockSize: 8192,
    });
    expect(a.memAllocated).toBe(1024);
    const b = AllocSet.create(heap, "b", {
      minContextSize: 4096,
      initBlockSize: 1024,
      maxBlockSize: 8192,
    });
    expect(b.memAllocated).toBe(4096);
    expect(b.stats()).toEqual({
      nblocks: 1,
      freechunks: 0,
      totalspace: 4096,
      freespace: 4096 - HDRS,
    });
    // the next block is initBlockSize: the keeper does not advance nextBlockSize
    expect(b.nextBlockSize).toBe(1024);
    expect(b.sizes).toEqual({ minContextSize: 4096, initBlockSize: 1024, maxBlockSize: 8192 });
  });

  it("halves allocChunkLimit while limit + header > (maxBlockSize - 40) / 4", () => {
    const heap = Heap.create();
    const limits: [number, number][] = [
      [1024, 128],
      [8 * 1024, 1024],
      [16 * 1024, 2048],
      [32 * 1024, 4096],
      [64 * 1024, 8192],
      [8 * MB, 8192],
    ];
    for (const [maxBlockSize, limit] of limits) {
      const set = AllocSet.create(heap, "l", {
        minContextSize: 0,
        initBlockSize: 1024,
        maxBlockSize,
      });
      expect(set.allocChunkLimit).toBe(limit);
      expect(limit + ALLOC_CHUNKHDRSZ).toBeLessThanOrEqual((maxBlockSize - ALLOC_BLOCKHDRSZ) / 4);
    }
  });
});

describe("AllocSet.alloc", () => {
  it("rounds requests up to power-of-two chunks of 8..8192 bytes", () => {
    const heap = Heap.create();
    const set = AllocSet.create(heap, "pow2", ALLOCSET_DEFAULT_SIZES);
    for (const [size, chunk] of [
      [0, 8],
      [1, 8],
      [9, 16],
      [33, 64],
      [129, 256],
      [1000, 1024],
      [4097, 8192],
      [8192, 8192],
    ]) {
      const p = set.alloc(size);
      expect(p % 8).toBe(0);
      expect(set.getChunkSpace(p)).toBe(chunk + ALLOC_CHUNKHDRSZ);
      expect(set.usableSize(p)).toBe(chunk);
    }
  });

  it("gives a freed chunk back to the next request of its class, last freed first", () => {
    const heap = Heap.create();
    const set = AllocSet.create(heap, "lifo", ALLOCSET_DEFAULT_SIZES);
    const a = set.alloc(100);
    const b = set.alloc(100);
    const c = set.alloc(20);
    set.free(a);
    set.free(b);
    set.free(c);
    expect(set.stats().freechunks).toBe(3);
    expect(set.stats().freespace).toBe(8192 - HDRS - 2 * 136 - 40 + 2 * 136 + 40);
    expect(set.alloc(120)).toBe(b);
    expect(set.alloc(65)).toBe(a);
    expect(set.alloc(17)).toBe(c);
    expect(set.stats().freechunks).toBe(0);
  });

  it("makes blocks of initBlockSize, doubling up to maxBlockSize", () => {
    const heap = Heap.create();
    const def = AllocSet.create(heap, "def", ALLOCSET_DEFAULT_SIZES);
    while (def.blocks().length < 5) def.alloc(4096);
    expect(
      def
        .blocks()
        .map((b) => b.size)
        .reverse(),
    ).toEqual([8192, 8192, 16384, 32768, 65536]);
    expect(def.nextBlockSize).toBe(131072);

    const capped = AllocSet.create(heap, "cap", {
      minContextSize: 0,
      initBlockSize: 1024,
      maxBlockSize: 4096,
    });
    expect(capped.allocChunkLimit).toBe(512);
    while (capped.blocks().length < 6) capped.alloc(512);
    expect(
      capped
        .blocks()
        .map((b) => b.size)
        .reverse(),
    ).toEqual([1024, 1024, 2048, 4096, 4096, 4096]);
    expect(capped.memAllocated).toBe(1024 + 1024 + 2048 + 3 * 4096);
  });

  it("makes a block larger than nextBlockSize when one chunk needs it", () => {
    const heap = Heap.create();
    const set = AllocSet.create(heap, "big", {
      minContextSize: 0,
      initBlockSize: 1024,
      maxBlockSize: MB,
    });
    set.alloc(8192); // 8192 + 40 + 8 does not fit 1024: doubled to 16384
    expect(set.blocks()[0].size).toBe(16384);
    expect(set.nextBlockSize).toBe(2048);
  });

  it("carves the active block's rest into freelist chunks before making a new block", () => {
    const heap = Heap.create();
    const set = AllocSet.create(heap, "carve", ALLOCSET_DEFAULT_SIZES);
    for (let i = 0; i < 7; i++) set.alloc(1024);
    const rest = set.offset + 8192 - 728; // the keeper's freeptr
    set.alloc(1024);
    // 728 = (512 + 8) + (128 + 8) + (64 + 8), carved in that order
    expect(set.alloc(512)).toBe(rest + ALLOC_CHUNKHDRSZ);
    expect(set.alloc(128)).toBe(rest + 520 + ALLOC_CHUNKHDRSZ);
    expect(set.alloc(64)).toBe(rest + 520 + 136 + ALLOC_CHUNKHDRSZ);
    expect(set.blocks()[1].used).toBe(8192 - HDRS);
  });

  it("gives requests above allocChunkLimit a dedicated block, linked under the active one", () => {
    const heap = Heap.create({ checking: true });
    const set = AllocSet.create(heap, "large", ALLOCSET_DEFAULT_SIZES);
    const usedBefore = heap.stats().used;
    const p = set.alloc(ALLOC_CHUNK_LIMIT + 1);
    // checking mode: MAXALIGN(size + 1) so a sentinel always fits
    const blksize = 8200 + ALLOC_BLOCKHDRSZ + ALLOC_CHUNKHDRSZ_CHECKING;
    expect(set.memAllocated).toBe(8192 + blksize);
    expect(set.blocks()[1]).toMatchObject({ block: p - 56, size: blksize, dedicated: true });
    expect(heap.usableSize(p - 56)).toBe(blksize);
    expect(set.getChunkSpace(p)).toBe(8200 + ALLOC_CHUNKHDRSZ_CHECKING);
    expect(heap.u8[p + 8193]).toBe(SENTINEL_BYTE);
    // the active block stays the head: small requests still come from the keeper
    expect(set.alloc(8)).toBe(set.offset + HDRS + ALLOC_CHUNKHDRSZ_CHECKING);
    set.free(p);
    expect(set.memAllocated).toBe(8192);
    expect(heap.stats().used).toBe(usedBefore);
  });

  it("marks the set non-empty; only reset makes it empty again", () => {
    const heap = Heap.create();
    const set = AllocSet.create(heap, "empty", ALLOCSET_DEFAULT_SIZES);
    expect(set.isEmpty()).toBe(true);
    const p = set.alloc(10);
    expect(set.isEmpty()).toBe(false);
    set.free(p);
    expect(set.isEmpty()).toBe(false);
    set.reset();
    expect(set.isEmpty()).toBe(true);
  });
});

describe("AllocSet.alloc when the heap runs out", () => {
  it("returns 0 for a dedicated block the heap cannot supply, changing nothing", () => {
    const heap = Heap.create({ initialSize: 64 * 1024, maxSize: 64 * 1024 });
    const set = AllocSet.create(heap, "oom", ALLOCSET_DEFAULT_SIZES);
    set.alloc(8); // isReset is cleared before the attempt, as mcxt.c does
    const before = heap.u8.slice();
    expect(set.alloc(100000)).toBe(0);
    expect(firstDiff(before, heap)).toBe(-1);
  });

  it("returns 0 when no new block can be had", () => {
    const heap = Heap.create({ initialSize: 64 * 1024, maxSize: 64 * 1024 });
    const set = AllocSet.create(heap, "oom", ALLOCSET_DEFAULT_SIZES);
    let n = 0;
    while (set.alloc(4096) !== 0) n++;
    expect(set.memAllocated).toBe(8192 + 8192 + 16384);
    expect(n).toBe(1 + 1 + 3);
    set.check();
    heap.check();
  });

  it("halves a failed block request above 1 MB and retries (aset.c)", () => {
    const heap = Heap.create({ initialSize: 3.5 * MB, maxSize: 3.5 * MB });
    const set = AllocSet.create(heap, "retry", {
      minContextSize: 0,
      initBlockSize: MB,
      maxBlockSize: 8 * MB,
    });
    while (set.memAllocated === MB) set.alloc(8192);
    expect(set.memAllocated).toBe(2 * MB);
    expect(set.nextBlockSize).toBe(2 * MB);
    while (set.memAllocated === 2 * MB) expect(set.alloc(8192)).not.toBe(0);
    // 2 MB did not fit; 1 MB did
    expect(set.memAllocated).toBe(3 * MB);
    expect(set.blocks()[0].size).toBe(MB);
    expect(set.nextBlockSize).toBe(4 * MB);
    let p = 1;
    while (p !== 0) p = set.alloc(8192);
    // 4 MB, 2 MB and 1 MB all failed; 1 MB is the floor
    expect(set.memAllocated).toBe(3 * MB);
    set.check();
  });

  it("create throws OutOfMemoryError with PostgreSQL's detail", () => {
    const heap = Heap.create({ initialSize: 8 * 1024, maxSize: 8 * 1024 });
    const before = heap.u8.slice();
    expect(() => AllocSet.create(heap, "Big", ALLOCSET_DEFAULT_SIZES)).toThrow(OutOfMemoryError);
    expect(() => AllocSet.create(heap, "Big", ALLOCSET_DEFAULT_SIZES)).toThrow(
      'out of memory\nDETAIL:  Failed while creating memory context "Big".',
    );
    expect(firstDiff(before, heap)).toBe(-1);
  });
});

describe("AllocSet.realloc", () => {
  it("keeps the pointer when the new size fits the chunk", () => {
    const heap = Heap.create();
    const set = AllocSet.create(heap, "r", ALLOCSET_DEFAULT_SIZES);
    const p = set.alloc(20);
    expect(set.realloc(p, 30)).toBe(p);
    expect(set.realloc(p, 32)).toBe(p);
    expect(set.realloc(p, 0)).toBe(p);
    expect(set.getChunkSpace(p)).toBe(32 + ALLOC_CHUNKHDRSZ);
  });

  it("moves to a larger chunk, copies, and puts the old one on its freelist", () => {
    const heap = Heap.create();
    const set = AllocSet.create(heap, "r", ALLOCSET_DEFAULT_SIZES);
    const p = set.alloc(20);
    for (let i = 0; i < 32; i++) heap.u8[p + i] = i + 1;
    const q = set.realloc(p, 100);
    expect(q).not.toBe(p);
    expect(set.getChunkSpace(q)).toBe(128 + ALLOC_CHUNKHDRSZ);
    for (let i = 0; i < 32; i++) expect(heap.u8[q + i]).toBe(i + 1);
    expect(set.stats().freechunks).toBe(1);
    expect(set.alloc(17)).toBe(p);
  });

  it("moves a chunk to a dedicated block when it outgrows allocChunkLimit", () => {
    const heap = Heap.create();
    const set = AllocSet.create(heap, "r", ALLOCSET_DEFAULT_SIZES);
    const p = set.alloc(100);
    heap.u8.fill(9, p, p + 100);
    const q = set.realloc(p, 20000);
    expect(set.blocks()[1].dedicated).toBe(true);
    expect(set.getChunkSpace(q)).toBe(20000 + ALLOC_CHUNKHDRSZ);
    expect(heap.u8.subarray(q, q + 100).every((b) => b === 9)).toBe(true);
  });

  it("reallocates a dedicated block, which stays dedicated when shrunk (space 112 for 100)", () => {
    const heap = Heap.create({ checking: true });
    const set = AllocSet.create(heap, "r", ALLOCSET_DEFAULT_SIZES);
    const p = set.alloc(20000);
    for (let i = 0; i < 20000; i++) heap.u8[p + i] = i & 0xff;
    const q = set.realloc(p, 40000);
    expect(set.memAllocated).toBe(8192 + 40008 + ALLOC_BLOCKHDRSZ + ALLOC_CHUNKHDRSZ_CHECKING);
    for (let i = 0; i < 20000; i++) expect(heap.u8[q + i]).toBe(i & 0xff);
    expect(heap.u8[q + 40000]).toBe(SENTINEL_BYTE);
    const r = set.realloc(q, 100);
    expect(set.blocks()[1].dedicated).toBe(true);
    expect(set.getChunkSpace(r)).toBe(104 + ALLOC_CHUNKHDRSZ_CHECKING);
    expect(set.memAllocated).toBe(8192 + 104 + ALLOC_BLOCKHDRSZ + ALLOC_CHUNKHDRSZ_CHECKING);
    expect(heldBytes(heap, set)).toBe(set.memAllocated);
    for (let i = 0; i < 100; i++) expect(heap.u8[r + i]).toBe(i & 0xff);
    set.check();
  });

  it("returns 0 and leaves the chunk intact when the heap cannot supply the memory", () => {
    const heap = Heap.create({ initialSize: 64 * 1024, maxSize: 64 * 1024 });
    const set = AllocSet.create(heap, "r", ALLOCSET_DEFAULT_SIZES);
    const big = set.alloc(20000);
    heap.u8.fill(5, big, big + 20000);
    const before = heap.u8.slice();
    expect(set.realloc(big, 60000)).toBe(0);
    expect(firstDiff(before, heap)).toBe(-1);
    const small = set.alloc(100);
    const snap = heap.u8.slice();
    expect(set.realloc(small, 60000)).toBe(0);
    expect(firstDiff(snap, heap)).toBe(-1);
  });
});

describe("AllocSet.reset", () => {
  it("keeps the keeper block, frees the rest, empties the freelists", () => {
    const heap = Heap.create();
    const used0 = heap.stats().used;
    const set = AllocSet.create(heap, "reset", ALLOCSET_DEFAULT_SIZES);
    const used1 = heap.stats().used;
    const first = set.alloc(10);
    for (let i = 0; i < 20; i++) set.free(set.alloc(1000 + i * 300));
    set.alloc(50000);
    expect(set.stats().nblocks).toBeGreaterThan(2);
    set.reset();
    expect(set.statsString()).toBe("8192 total in 1 blocks; 7952 free (0 chunks); 240 used");
    expect(set.memAllocated).toBe(8192);
    expect(set.nextBlockSize).toBe(8192);
    expect(heap.stats().used).toBe(used1);
    expect(used1).toBeGreaterThan(used0);
    expect(set.alloc(10)).toBe(first);
  });

  it("wipes the keeper's used space with 0x7F in checking mode", () => {
    const heap = Heap.create({ checking: true });
    const set = AllocSet.create(heap, "wipe", ALLOCSET_DEFAULT_SIZES);
    const p = set.alloc(64);
    heap.u8.fill(1, p, p + 64);
    set.reset();
    expect(heap.u8.subarray(set.offset + HDRS, p + 64).every((b) => b === WIPE_BYTE)).toBe(true);
  });
});

describe("AllocSet.delete", () => {
  it("returns every byte to the heap", () => {
    const heap = Heap.create({ checking: true });
    const before = heap.stats();
    const set = AllocSet.create(heap, "del", {
      minContextSize: 0,
      initBlockSize: 2048,
      maxBlockSize: 65536,
    });
    for (let i = 0; i < 100; i++) set.alloc((i * 97) % 3000);
    set.alloc(70000);
    set.delete();
    const after = heap.stats();
    expect(after.used).toBe(before.used);
    expect(after.allocations).toBe(before.allocations);
    heap.check();
  });

  it("keeps deleted default and small sets for reuse by the next create with those sizes", () => {
    const heap = Heap.create();
    const a = AllocSet.create(heap, "a", ALLOCSET_DEFAULT_SIZES);
    const s = AllocSet.create(heap, "s", ALLOCSET_SMALL_SIZES);
    const usedCreated = heap.stats().used;
    a.alloc(50000);
    a.alloc(5000);
    a.delete();
    s.delete();
    // a's extra blocks went back; its first block (and s's) stayed
    expect(heap.stats().used).toBe(usedCreated);
    expect(AllocSet.cachedContexts(heap)).toEqual({ default: 1, small: 1 });
    const usedKept = heap.stats().used;
    const b = AllocSet.create(heap, "b", ALLOCSET_DEFAULT_SIZES);
    expect(b.offset).toBe(a.offset);
    expect(b.name).toBe("b");
    expect(b.memAllocated).toBe(8192);
    expect(b.isEmpty()).toBe(true);
    expect(b.statsString()).toBe("8192 total in 1 blocks; 7952 free (0 chunks); 240 used");
    const t = AllocSet.create(heap, "t", ALLOCSET_START_SMALL_SIZES);
    expect(t.offset).toBe(s.offset);
    expect(heap.stats().used).toBe(usedKept);
    expect(AllocSet.cachedContexts(heap)).toEqual({ default: 0, small: 0 });
  });

  it("keeps allocChunkLimit of the recycled set, as aset.c does", () => {
    const heap = Heap.create();
    const big = AllocSet.create(heap, "start-small", ALLOCSET_START_SMALL_SIZES);
    expect(big.allocChunkLimit).toBe(8192);
    big.delete();
    const small = AllocSet.create(heap, "small", ALLOCSET_SMALL_SIZES);
    expect(small.offset).toBe(big.offset);
    expect(small.sizes.maxBlockSize).toBe(8192);
    expect(small.allocChunkLimit).toBe(8192);
  });

  it("keeps at most 100 per list: the 101st delete frees the 100 kept first", () => {
    const heap = Heap.create({ initialSize: 4 * MB });
    const sets = Array.from({ length: MAX_FREE_CONTEXTS + 1 }, (_, i) =>
      AllocSet.create(heap, `s${i}`, ALLOCSET_DEFAULT_SIZES),
    );
    const used = heap.stats().used;
    const perSet = used / sets.length; // every first block takes the same heap bytes
    for (const s of sets.slice(0, MAX_FREE_CONTEXTS)) s.delete();
    expect(heap.stats().used).toBe(used);
    expect(AllocSet.cachedContexts(heap).default).toBe(MAX_FREE_CONTEXTS);
    sets[MAX_FREE_CONTEXTS].delete();
    expect(AllocSet.cachedContexts(heap).default).toBe(1);
    expect(heap.stats().used).toBe(perSet);
    expect(AllocSet.releaseCachedContexts(heap)).toBe(1);
    expect(heap.stats().used).toBe(0);
  });

  it("does not cache sets of other sizes", () => {
    const heap = Heap.create();
    AllocSet.create(heap, "x", {
      minContextSize: 0,
      initBlockSize: 2048,
      maxBlockSize: 8192,
    }).delete();
    expect(AllocSet.cachedContexts(heap)).toEqual({ default: 0, small: 0 });
    expect(heap.stats().used).toBe(0);
  });
});

describe("checking mode", () => {
  it("keeps the requested size in the chunk header and a sentinel after it", () => {
    const heap = Heap.create({ checking: true });
    const set = AllocSet.create(heap, "chk", ALLOCSET_DEFAULT_SIZES);
    const p = set.alloc(5);
    expect(heap.i32[(p >> 2) - 4]).toBe(5);
    expect(heap.u8[p + 5]).toBe(SENTINEL_BYTE);
    expect(set.usableSize(p)).toBe(5);
    expect(set.realloc(p, 7)).toBe(p);
    expect(heap.u8[p + 7]).toBe(SENTINEL_BYTE);
    expect(set.usableSize(p)).toBe(7);
    // an exact power of two has no room for one, as in aset.c
    const q = set.alloc(16);
    heap.u8.fill(0xaa, q, q + 16);
    set.free(q);
    set.check();
  });

  it("wipes a freed chunk with 0x7F after its freelist link", () => {
    const heap = Heap.create({ checking: true });
    const set = AllocSet.create(heap, "chk", ALLOCSET_DEFAULT_SIZES);
    const p = set.alloc(32);
    heap.u8.fill(1, p, p + 32);
    set.free(p);
    expect(heap.u8.subarray(p + 8, p + 32).every((b) => b === WIPE_BYTE)).toBe(true);
    expect(heap.i32[(p >> 2) - 4]).toBe(-1); // InvalidAllocSize
  });

  it("makes memAllocated equal to the heap bytes the blocks hold", () => {
    const heap = Heap.create({ checking: true });
    const set = AllocSet.create(heap, "chk", ALLOCSET_SMALL_SIZES);
    for (let i = 0; i < 200; i++) set.alloc((i * 53) % 1500);
    expect(heldBytes(heap, set)).toBe(set.memAllocated);
    expect(set.stats().totalspace).toBe(set.memAllocated);
  });
});

describe("AllocSet.contextOf and AllocSet.attach", () => {
  it("find the owning set of any chunk in O(1) from its header", () => {
    for (const checking of [false, true]) {
      const heap = Heap.create({ checking });
      const a = AllocSet.create(heap, "a", ALLOCSET_DEFAULT_SIZES);
      const b = AllocSet.create(heap, "b", ALLOCSET_SMALL_SIZES);
      const ptrs = [a.alloc(0), a.alloc(5000), a.alloc(9000), b.alloc(100), b.alloc(2000)];
      for (let i = 0; i < 40; i++) ptrs.push(b.alloc(900));
      expect(ptrs.slice(0, 3).map((p) => AllocSet.contextOf(heap, p))).toEqual([
        a.offset,
        a.offset,
        a.offset,
      ]);
      for (const p of ptrs.slice(3)) expect(AllocSet.contextOf(heap, p)).toBe(b.offset);
      expect(AllocSet.attach(heap, AllocSet.contextOf(heap, ptrs[1]))).toBe(a);
      expect(AllocSet.attach(heap, b.offset)).toBe(b);
    }
  });

  it("keep the name, and an ident that can be set", () => {
    const heap = Heap.create();
    const set = AllocSet.create(heap, "CacheMemoryContext", ALLOCSET_DEFAULT_SIZES);
    expect(set.name).toBe("CacheMemoryContext");
    expect(set.ident).toBeUndefined();
    set.ident = "pg_class_oid_index";
    expect(AllocSet.attach(heap, set.offset).ident).toBe("pg_class_oid_index");
    set.delete();
    expect(AllocSet.create(heap, "next", ALLOCSET_DEFAULT_SIZES).ident).toBeUndefined();
  });
});
