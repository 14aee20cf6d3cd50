import { describe, expect, it } from "vitest";
import {
  BLOCK_HDR_SIZE,
  CONTROL_SIZE,
  END_SIZE,
  FIRST_BLOCK,
  HEAP_MAX_SIZE,
  HEAP_MIN_SIZE,
  Heap,
  HeapCorruptionError,
  InvalidAlignmentError,
  InvalidPointerError,
  InvalidSizeError,
  MAX_ALIGNMENT,
  MAX_ALLOC_SIZE,
  MIN_BLOCK_SIZE,
  MmgrError,
  NULL,
  SENTINEL_BYTE,
  TRAILER_SIZE,
  WIPE_BYTE,
} from "../src/index.js";

const KiB = 1024;
const MiB = 1024 * KiB;

/** The block size malloc(n) takes without checking mode. */
const block = (n: number) => Math.max(MIN_BLOCK_SIZE, (n + BLOCK_HDR_SIZE + 7) & ~7);

describe("Heap.create", () => {
  it("formats an arena whose free space is everything but the control struct and end marker", () => {
    const heap = Heap.create({ initialSize: 64 * KiB, maxSize: 64 * KiB });
    expect(heap.size).toBe(64 * KiB);
    expect(heap.buffer.byteLength).toBe(64 * KiB);
    expect(heap.stats()).toEqual({
      size: 64 * KiB,
      used: 0,
      free: 64 * KiB - CONTROL_SIZE - END_SIZE,
      largestFree: 64 * KiB - CONTROL_SIZE - END_SIZE - BLOCK_HDR_SIZE,
      freeBlocks: 1,
      allocations: 0,
      peakUsed: 0,
      cached: 0,
    });
    heap.check();
  });

  it("uses a plain ArrayBuffer when the heap cannot grow and a resizable one when it can", () => {
    expect(
      (Heap.create({ initialSize: 64 * KiB, maxSize: 64 * KiB }).buffer as ArrayBuffer).resizable,
    ).toBe(false);
    const growable = Heap.create({ initialSize: 64 * KiB, maxSize: 4 * MiB });
    expect((growable.buffer as ArrayBuffer).resizable).toBe(true);
    expect(growable.buffer.maxByteLength).toBe(4 * MiB);
    expect(growable.maxSize).toBe(4 * MiB);
  });

  it("defaults to 1 MiB growing to 256 MiB, without checking", () => {
    const heap = Heap.create();
    expect(heap.size).toBe(MiB);
    expect(heap.maxSize).toBe(256 * MiB);
    expect(heap.checking).toBe(false);
  });

  it("rounds initialSize up to a multiple of 8", () => {
    expect(Heap.create({ initialSize: 64 * KiB + 1, maxSize: 128 * KiB }).size).toBe(64 * KiB + 8);
  });

  it.each([
    [{ initialSize: -1 }, "initialSize -1"],
    [{ initialSize: 1.5 }, "initialSize 1.5"],
    [{ initialSize: Number.NaN }, "initialSize NaN"],
    [{ initialSize: HEAP_MIN_SIZE - 1 }, `initialSize ${HEAP_MIN_SIZE - 1}`],
    [{ maxSize: HEAP_MAX_SIZE + 1 }, `maxSize ${HEAP_MAX_SIZE + 1}`],
    [{ initialSize: 2 * MiB, maxSize: MiB }, "initialSize 2097152 is above maxSize 1048576"],
  ])("rejects %o with InvalidSizeError", (options, text) => {
    expect(() => Heap.create(options)).toThrow(InvalidSizeError);
    expect(() => Heap.create(options)).toThrow(text);
  });
});

describe("Heap.malloc", () => {
  it("carves blocks in address order from the first block, header in front", () => {
    const heap = Heap.create({ initialSize: 64 * KiB });
    const a = heap.malloc(1);
    const b = heap.malloc(24);
    const c = heap.malloc(100);
    expect(a).toBe(FIRST_BLOCK + BLOCK_HDR_SIZE);
    expect(b).toBe(a + block(1));
    expect(c).toBe(b + block(24));
    expect(heap.stats().used).toBe(block(1) + block(24) + block(100));
    expect(heap.used).toBe(heap.stats().used);
    expect(heap.stats().allocations).toBe(3);
  });

  it("returns 8-aligned, non-NULL pointers, also for malloc(0)", () => {
    const heap = Heap.create({ initialSize: 64 * KiB });
    const zero = heap.malloc(0);
    expect(zero).not.toBe(NULL);
    expect(heap.malloc(0)).not.toBe(zero);
    for (let n = 0; n < 300; n += 7) expect(heap.malloc(n) % 8).toBe(0);
  });

  it("gives a usable size of at least the request: the block minus its header", () => {
    const heap = Heap.create({ initialSize: 64 * KiB });
    for (const n of [0, 1, 8, 9, 100, 1000]) {
      const p = heap.malloc(n);
      expect(heap.usableSize(p)).toBe(block(n) - BLOCK_HDR_SIZE);
      expect(heap.usableSize(p)).toBeGreaterThanOrEqual(n);
    }
  });

  it("hands a freed block back to the next request of its size", () => {
    const heap = Heap.create({ initialSize: 64 * KiB });
    const a = heap.malloc(40);
    heap.malloc(40); // keeps a from merging with the free space after it
    heap.free(a);
    expect(heap.malloc(40)).toBe(a);
  });

  it("returns NULL past maxSize and leaves every live block as it was", () => {
    const heap = Heap.create({ initialSize: 64 * KiB, maxSize: 128 * KiB });
    const p = heap.malloc(1000);
    heap.u8.fill(0xab, p, p + 1000);
    const before = heap.stats();
    expect(heap.malloc(200 * KiB)).toBe(NULL);
    expect(heap.stats()).toEqual(before);
    expect(heap.u8.subarray(p, p + 1000).every((x) => x === 0xab)).toBe(true);
    heap.check();
  });

  it("fills a fixed heap to the last byte, then returns NULL", () => {
    const heap = Heap.create({ initialSize: 16 * KiB, maxSize: 16 * KiB });
    const { largestFree } = heap.stats();
    const p = heap.malloc(largestFree);
    expect(p).toBe(FIRST_BLOCK + BLOCK_HDR_SIZE);
    expect(heap.stats().free).toBe(0);
    expect(heap.malloc(0)).toBe(NULL);
    heap.free(p);
    expect(heap.stats().free).toBe(largestFree + BLOCK_HDR_SIZE);
  });
});

describe("Heap growth", () => {
  it("grows the arena on demand in place, keeping every view and every byte", () => {
    const heap = Heap.create({ initialSize: 64 * KiB, maxSize: 64 * MiB });
    const u8 = heap.u8;
    const f64 = heap.f64;
    const ptrs: number[] = [];
    for (let i = 0; i < 200; i++) {
      const p = heap.malloc(16 * KiB + i * 8);
      expect(p).not.toBe(NULL);
      u8.fill(i & 0xff, p, p + 16 * KiB + i * 8);
      ptrs.push(p);
    }
    expect(heap.size).toBeGreaterThan(200 * 16 * KiB);
    expect(heap.buffer.byteLength).toBe(heap.size);
    // Views taken before the growth track the new length.
    expect(u8.length).toBe(heap.size);
    expect(f64.length).toBe(heap.size / 8);
    ptrs.forEach((p, i) => {
      expect(u8[p]).toBe(i & 0xff);
      expect(u8[p + 16 * KiB + i * 8 - 1]).toBe(i & 0xff);
    });
    heap.check();
  });

  it("grows in whole 64 KiB pages and by at least half its size", () => {
    const heap = Heap.create({ initialSize: 64 * KiB, maxSize: 64 * MiB });
    heap.malloc(60 * KiB);
    heap.malloc(10 * KiB);
    expect(heap.size).toBe(128 * KiB);
    expect(heap.size % (64 * KiB)).toBe(0);
  });

  it("merges the new space with a free block at the old end", () => {
    const heap = Heap.create({ initialSize: 64 * KiB, maxSize: MiB });
    heap.malloc(1000);
    heap.malloc(100 * KiB);
    const s = heap.stats();
    expect(s.freeBlocks).toBe(1);
    expect(s.free).toBe(s.size - CONTROL_SIZE - END_SIZE - s.used);
    heap.check();
  });

  it("stops at maxSize exactly", () => {
    const heap = Heap.create({ initialSize: 64 * KiB, maxSize: 200 * KiB });
    expect(heap.malloc(150 * KiB)).not.toBe(NULL);
    expect(heap.size).toBe(192 * KiB);
    expect(heap.malloc(60 * KiB)).toBe(NULL);
    expect(heap.size).toBe(192 * KiB);
    expect(heap.malloc(45 * KiB)).not.toBe(NULL);
    expect(heap.size).toBe(200 * KiB);
    heap.check();
  });
});

describe("Heap.calloc", () => {
  it("zeroes memory that was used before", () => {
    const heap = Heap.create({ initialSize: 64 * KiB });
    const p = heap.malloc(256);
    heap.malloc(8);
    heap.u8.fill(0xff, p, p + 256);
    heap.free(p);
    const q = heap.calloc(256);
    expect(q).toBe(p);
    expect(heap.u8.subarray(q, q + 256).every((x) => x === 0)).toBe(true);
  });
});

describe("Heap.memalign", () => {
  it.each([8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096])("aligns to %i", (alignment) => {
    const heap = Heap.create({ initialSize: 64 * KiB, checking: true });
    heap.malloc(24); // put the next free address off any large alignment
    for (const n of [1, 100, 5000]) {
      const p = heap.memalign(alignment, n);
      expect(p % alignment).toBe(0);
      expect(heap.usableSize(p)).toBe(n);
      heap.u8.fill(0x55, p, p + n);
    }
    heap.check();
  });

  it("gives the skipped space in front back as a free block at once", () => {
    const heap = Heap.create({ initialSize: 64 * KiB });
    heap.malloc(24);
    const before = heap.stats();
    const p = heap.memalign(4096, 100);
    const after = heap.stats();
    expect(after.used - before.used).toBe(block(100));
    expect(after.peakUsed).toBe(after.used);
    expect(after.allocations).toBe(before.allocations + 1);
    // The gap in front is a free block: a small request lands in it.
    const q = heap.malloc(8);
    expect(q).toBeLessThan(p);
    heap.check();
  });

  it("accepts alignments up to MAX_ALIGNMENT and behaves as malloc below 8", () => {
    const heap = Heap.create({ initialSize: 64 * KiB, maxSize: 64 * MiB });
    expect(heap.memalign(MAX_ALIGNMENT, 8) % MAX_ALIGNMENT).toBe(0);
    expect(heap.memalign(1, 8) % 8).toBe(0);
    heap.check();
  });

  it.each([0, 3, 12, -8, 1.5, Number.NaN, MAX_ALIGNMENT * 2])(
    "rejects alignment %s",
    (alignment) => {
      const heap = Heap.create({ initialSize: 64 * KiB });
      const before = heap.stats();
      expect(() => heap.memalign(alignment, 8)).toThrow(InvalidAlignmentError);
      expect(() => heap.memalign(alignment, 8)).toThrow(
        `memalign(): alignment ${alignment} is not a power of two`,
      );
      expect(heap.stats()).toEqual(before);
    },
  );
});

describe("Heap.realloc", () => {
  it("is malloc for NULL", () => {
    const heap = Heap.create({ initialSize: 64 * KiB });
    expect(heap.realloc(NULL, 10)).toBe(FIRST_BLOCK + BLOCK_HDR_SIZE);
  });

  it("shrinks in place and frees the tail", () => {
    const heap = Heap.create({ initialSize: 64 * KiB });
    const p = heap.malloc(1000);
    heap.u8.fill(7, p, p + 1000);
    const used = heap.stats().used;
    expect(heap.realloc(p, 100)).toBe(p);
    expect(heap.stats().used).toBe(used - block(1000) + block(100));
    expect(heap.u8.subarray(p, p + 100).every((x) => x === 7)).toBe(true);
    heap.check();
  });

  it("grows in place into a free right neighbour", () => {
    const heap = Heap.create({ initialSize: 64 * KiB });
    const p = heap.malloc(100);
    const q = heap.malloc(1000);
    heap.malloc(8);
    heap.u8.fill(9, p, p + 100);
    heap.free(q);
    const { used, peakUsed } = heap.stats();
    expect(heap.realloc(p, 900)).toBe(p);
    // Counted net: the peak grows by what the block grew, not by the neighbour's size.
    expect(heap.stats().used).toBe(used + block(900) - block(100));
    expect(heap.stats().peakUsed).toBe(Math.max(peakUsed, used + block(900) - block(100)));
    expect(heap.usableSize(p)).toBe(block(900) - BLOCK_HDR_SIZE);
    expect(heap.u8.subarray(p, p + 100).every((x) => x === 9)).toBe(true);
    heap.check();
  });

  it("moves when the neighbour is in use, copying the contents and freeing the old block", () => {
    const heap = Heap.create({ initialSize: 64 * KiB });
    const p = heap.malloc(100);
    heap.malloc(8);
    for (let i = 0; i < 100; i++) heap.u8[p + i] = i;
    const q = heap.realloc(p, 5000);
    expect(q).not.toBe(p);
    for (let i = 0; i < 100; i++) expect(heap.u8[q + i]).toBe(i);
    expect(heap.stats().allocations).toBe(2);
    expect(() => heap.free(p)).toThrow(InvalidPointerError);
    heap.check();
  });

  it("keeps a minimal block for size 0", () => {
    const heap = Heap.create({ initialSize: 64 * KiB });
    const p = heap.malloc(500);
    expect(heap.realloc(p, 0)).toBe(p);
    expect(heap.usableSize(p)).toBe(MIN_BLOCK_SIZE - BLOCK_HDR_SIZE);
  });

  it("returns NULL and leaves the old block intact when it cannot grow", () => {
    const heap = Heap.create({ initialSize: 64 * KiB, maxSize: 64 * KiB });
    const p = heap.malloc(1000);
    heap.malloc(8);
    heap.u8.fill(3, p, p + 1000);
    const before = heap.stats();
    expect(heap.realloc(p, 100 * KiB)).toBe(NULL);
    expect(heap.stats()).toEqual(before);
    expect(heap.usableSize(p)).toBe(block(1000) - BLOCK_HDR_SIZE);
    expect(heap.u8.subarray(p, p + 1000).every((x) => x === 3)).toBe(true);
    heap.check();
  });
});

describe("Heap.free", () => {
  it("ignores NULL", () => {
    const heap = Heap.create({ initialSize: 64 * KiB });
    heap.free(NULL);
    expect(heap.stats().allocations).toBe(0);
  });

  it("coalesces with both neighbours into one free block", () => {
    const heap = Heap.create({ initialSize: 64 * KiB, maxSize: 64 * KiB });
    const a = heap.malloc(100);
    const b = heap.malloc(200);
    const c = heap.malloc(300);
    heap.malloc(heap.stats().largestFree); // the rest of the arena
    heap.free(a);
    heap.free(c);
    expect(heap.stats().freeBlocks).toBe(2);
    heap.free(b);
    expect(heap.stats().freeBlocks).toBe(1);
    // The merged block is exactly the three blocks: a request of their payload fits at a.
    expect(heap.malloc(block(100) + block(200) + block(300) - BLOCK_HDR_SIZE)).toBe(a);
    heap.check();
  });

  it("brings used back to zero and the arena back to one free block", () => {
    const heap = Heap.create({ initialSize: 64 * KiB, maxSize: 8 * MiB });
    const ptrs = Array.from({ length: 500 }, (_, i) => heap.malloc((i * 97) % 3000));
    for (let i = 0; i < ptrs.length; i += 2) heap.free(ptrs[i]);
    for (let i = 1; i < ptrs.length; i += 2) heap.free(ptrs[i]);
    const s = heap.stats();
    expect(s.used).toBe(0);
    expect(s.allocations).toBe(0);
    expect(s.freeBlocks).toBe(1);
    expect(s.peakUsed).toBeGreaterThan(0);
    heap.check();
  });
});

describe("Heap.bytes", () => {
  it("views one allocation, of its usable size by default", () => {
    const heap = Heap.create({ initialSize: 64 * KiB });
    const p = heap.malloc(20);
    const view = heap.bytes(p, 20);
    view.fill(1);
    expect(view.byteOffset).toBe(p);
    expect(heap.u8[p + 19]).toBe(1);
    expect(heap.bytes(p).length).toBe(heap.usableSize(p));
  });

  it.each([-1, 1.5, 10_000])("rejects length %s", (length) => {
    const heap = Heap.create({ initialSize: 64 * KiB });
    const p = heap.malloc(20);
    expect(() => heap.bytes(p, length)).toThrow(InvalidSizeError);
    expect(() => heap.bytes(p, length)).toThrow(`bytes(): length ${length} is not an integer`);
  });
});

describe("Heap bad sizes", () => {
  const sizes: unknown[] = [
    -1,
    1.5,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    MAX_ALLOC_SIZE + 1,
    2 ** 32,
    "8",
  ];
  it.each(sizes)("rejects %s in malloc, calloc, realloc and memalign, changing nothing", (size) => {
    const heap = Heap.create({ initialSize: 64 * KiB });
    const p = heap.malloc(8);
    const before = heap.stats();
    const n = size as number;
    for (const call of [
      () => heap.malloc(n),
      () => heap.calloc(n),
      () => heap.realloc(p, n),
      () => heap.memalign(16, n),
    ]) {
      expect(call).toThrow(InvalidSizeError);
      expect(call).toThrow(/\(\): invalid size .*: not an integer from 0 to/);
    }
    expect(heap.stats()).toEqual(before);
    heap.check();
  });

  it("names the value and the function", () => {
    const heap = Heap.create({ initialSize: 64 * KiB });
    expect(() => heap.malloc(-5)).toThrow(
      `malloc(): invalid size -5: not an integer from 0 to ${MAX_ALLOC_SIZE}`,
    );
    const err = (() => {
      try {
        heap.malloc(-5);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(MmgrError);
    expect((err as InvalidSizeError).size).toBe(-5);
  });
});

describe("Heap bad pointers", () => {
  function setup(checking: boolean) {
    const heap = Heap.create({ initialSize: 64 * KiB, checking });
    const p = heap.malloc(64);
    const q = heap.malloc(64);
    heap.malloc(8);
    return { heap, p, q };
  }

  for (const checking of [false, true]) {
    describe(checking ? "in checking mode" : "without checking mode", () => {
      const cases: [string, (p: number, q: number) => unknown, RegExp][] = [
        ["unaligned", (p) => p + 3, /is not 8-aligned/],
        ["interior", (p) => p + 16, /is not the start of a live allocation|lies in freed memory/],
        ["below the first block", () => 8, /is outside the arena's allocations/],
        ["past the end", () => 1 << 20, /is outside the arena's allocations/],
        ["negative", () => -8, /is outside the arena's allocations/],
        ["not an integer", () => 24.5, /is not an integer offset/],
        ["a string", (p) => String(p), /is not an integer offset/],
      ];
      for (const [what, make, message] of cases) {
        it(`rejects a pointer that is ${what} in free, realloc, usableSize and bytes, changing nothing`, () => {
          const { heap, p, q } = setup(checking);
          const bad = make(p, q) as number;
          const before = heap.stats();
          const snapshot = heap.u8.slice();
          for (const [fn, call] of [
            ["free", () => heap.free(bad)],
            ["realloc", () => heap.realloc(bad, 8)],
            ["usableSize", () => heap.usableSize(bad)],
            ["bytes", () => heap.bytes(bad)],
          ] as const) {
            expect(call).toThrow(InvalidPointerError);
            expect(call).toThrow(`${fn}(): pointer ${typeof bad === "string" ? `"${bad}"` : bad}`);
            expect(call).toThrow(message);
          }
          expect(heap.stats()).toEqual(before);
          expect(heap.u8).toEqual(snapshot);
        });
      }

      it("rejects a double free, also after the block merged with its neighbours", () => {
        const { heap, p, q } = setup(checking);
        heap.free(q);
        heap.free(p); // p merges with q
        const before = heap.stats();
        for (const ptr of [p, q]) {
          expect(() => heap.free(ptr)).toThrow(InvalidPointerError);
          expect(() => heap.free(ptr)).toThrow(/already freed|freed memory/);
        }
        expect(heap.stats()).toEqual(before);
        heap.check();
      });

      it("rejects another heap's pointer", () => {
        const { heap, p } = setup(checking);
        const other = setup(checking);
        expect(other.p).toBe(p);
        const before = heap.stats();
        expect(() => heap.free(other.p + 0)).not.toThrow();
        // The same offset is live in both; after it is freed here, the other heap's copy is no longer valid here.
        expect(() => heap.free(p)).toThrow(InvalidPointerError);
        expect(heap.stats().allocations).toBe(before.allocations - 1);
        // A pointer live only in the other heap is refused.
        const r = other.heap.malloc(2000);
        expect(() => heap.free(r)).toThrow(InvalidPointerError);
      });
    });
  }
});

describe("Heap.check", () => {
  it("names the offset of an overwritten header", () => {
    const heap = Heap.create({ initialSize: 64 * KiB });
    const p = heap.malloc(64);
    heap.malloc(64);
    heap.i32[(p - BLOCK_HDR_SIZE) >> 2] = 4; // size 0
    expect(() => heap.check()).toThrow(HeapCorruptionError);
    expect(() => heap.check()).toThrow(`at offset ${p - BLOCK_HDR_SIZE}`);
  });

  it("finds a broken free list link", () => {
    const heap = Heap.create({ initialSize: 64 * KiB });
    const p = heap.malloc(64);
    heap.malloc(64);
    heap.free(p);
    heap.i32[(p - BLOCK_HDR_SIZE + 8) >> 2] = 4096; // prev link of the free block
    expect(() => heap.check()).toThrow(/free list back link/);
  });

  it("stats() refuses a free list that loops instead of walking it for ever", () => {
    const heap = Heap.create({ initialSize: 64 * KiB });
    const p = heap.malloc(64);
    heap.malloc(64);
    heap.free(p);
    heap.i32[(p - BLOCK_HDR_SIZE + 4) >> 2] = p - BLOCK_HDR_SIZE; // next link to itself
    expect(() => heap.stats()).toThrow(HeapCorruptionError);
    expect(() => heap.stats()).toThrow(/free list \d+ is damaged/);
    expect(() => heap.check()).toThrow(HeapCorruptionError);
  });

  it("finds a counter out of step with the blocks", () => {
    const heap = Heap.create({ initialSize: 64 * KiB });
    heap.malloc(64);
    heap.i32[6]++; // CTL_USED
    expect(() => heap.check()).toThrow(/used counter/);
  });
});

describe("Heap checking mode", () => {
  it("keeps the requested size as the usable size and a sentinel after it", () => {
    const heap = Heap.create({ initialSize: 64 * KiB, checking: true });
    const p = heap.malloc(10);
    expect(heap.usableSize(p)).toBe(10);
    expect(heap.u8[p + 10]).toBe(SENTINEL_BYTE);
    const blockSize = heap.i32[(p - BLOCK_HDR_SIZE) >> 2] & ~7;
    expect(heap.i32[(p - BLOCK_HDR_SIZE + blockSize - TRAILER_SIZE) >> 2]).toBe(10);
  });

  it("detects a write past the requested size on free, changing nothing", () => {
    const heap = Heap.create({ initialSize: 64 * KiB, checking: true });
    const p = heap.malloc(10);
    heap.u8[p + 10] = 0;
    const before = heap.stats();
    expect(() => heap.free(p)).toThrow(HeapCorruptionError);
    expect(() => heap.free(p)).toThrow(
      `free(): detected write past chunk end of pointer ${p} (requested size 10) at offset ${p + 10}`,
    );
    expect(() => heap.check()).toThrow(HeapCorruptionError);
    expect(heap.stats()).toEqual(before);
  });

  it("detects it on realloc too", () => {
    const heap = Heap.create({ initialSize: 64 * KiB, checking: true });
    const p = heap.malloc(10);
    heap.u8[p + 12] = 1;
    expect(() => heap.realloc(p, 20)).toThrow(/realloc\(\): detected write past chunk end/);
  });

  it("wipes freed memory with 0x7F", () => {
    const heap = Heap.create({ initialSize: 64 * KiB, checking: true });
    const p = heap.malloc(100);
    heap.malloc(8);
    heap.u8.fill(1, p, p + 100);
    heap.free(p);
    // Past the free-list links (next, prev) and before the boundary tag.
    expect(heap.u8.subarray(p + 4, p + 100).every((x) => x === WIPE_BYTE)).toBe(true);
  });

  it("keeps sentinels right through realloc in place, growth and shrink", () => {
    const heap = Heap.create({ initialSize: 64 * KiB, checking: true });
    const p = heap.malloc(100);
    const q = heap.malloc(1000);
    heap.malloc(8);
    heap.free(q);
    expect(heap.realloc(p, 500)).toBe(p);
    expect(heap.usableSize(p)).toBe(500);
    expect(heap.realloc(p, 3)).toBe(p);
    expect(heap.usableSize(p)).toBe(3);
    heap.check();
  });
});
