import {
  Heap,
  HeapCorruptionError,
  InvalidPointerError,
  InvalidSizeError,
  InvalidStateError,
  MmgrError,
} from "@mmgr/heap";
import { describe, expect, it } from "vitest";
import {
  ALLOC_CHUNK_LIMIT,
  ALLOCSET_DEFAULT_SIZES,
  ALLOCSET_SMALL_SIZES,
  AllocSet,
  type AllocSetSizes,
  allocSetFreeIndex,
  MAX_ALLOC_SIZE,
} from "../src/index.js";

type ErrorClass = new (...args: never[]) => Error;

/**
 * Runs `fn`, expects it to throw `cls` with a message matching `message`,
 * and expects every byte of the arena (so every set and the heap itself)
 * to be as it was.
 */
function rejects(heap: Heap, fn: () => unknown, cls: ErrorClass, message: RegExp | string): void {
  const before = heap.u8.slice();
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(cls);
  expect(error).toBeInstanceOf(MmgrError);
  if (typeof message === "string") expect((error as Error).message).toBe(message);
  else expect((error as Error).message).toMatch(message);
  const now = heap.u8;
  expect(now.length).toBe(before.length);
  let diff = -1;
  for (let i = 0; i < now.length; i++) {
    if (now[i] !== before[i]) {
      diff = i;
      break;
    }
  }
  expect(diff).toBe(-1);
}

function setup(checking = false) {
  const heap = Heap.create({ initialSize: 128 * 1024, maxSize: 128 * 1024, checking });
  const set = AllocSet.create(heap, "victim", ALLOCSET_DEFAULT_SIZES);
  const other = AllocSet.create(heap, "other", ALLOCSET_SMALL_SIZES);
  const small = set.alloc(64);
  const large = set.alloc(20000);
  heap.u8.fill(0, small, small + 64);
  return { heap, set, other, small, large };
}

const BAD_SIZES: [unknown, string][] = [
  [-1, "-1"],
  [1.5, "1.5"],
  [Number.NaN, "NaN"],
  [Number.POSITIVE_INFINITY, "Infinity"],
  [MAX_ALLOC_SIZE + 1, "1073741824"],
  ["8", '"8"'],
  [undefined, "undefined"],
];

describe("AllocSet.alloc with a bad size", () => {
  for (const [size, shown] of BAD_SIZES) {
    it(`throws InvalidSizeError for ${shown}`, () => {
      const { heap, set } = setup();
      rejects(
        heap,
        () => set.alloc(size as number),
        InvalidSizeError,
        `alloc(): invalid memory alloc request size ${shown} in memory context "victim"`,
      );
    });
  }
});

describe("AllocSet.realloc with a bad size", () => {
  for (const [size, shown] of BAD_SIZES) {
    it(`throws InvalidSizeError for ${shown}`, () => {
      const { heap, set, small, large } = setup();
      for (const p of [small, large]) {
        rejects(
          heap,
          () => set.realloc(p, size as number),
          InvalidSizeError,
          `realloc(): invalid memory alloc request size ${shown} in memory context "victim"`,
        );
      }
    });
  }
});

describe.each(["free", "realloc", "getChunkSpace", "usableSize"] as const)(
  "AllocSet.%s with a bad pointer",
  (fn) => {
    const call = (set: AllocSet, p: number) =>
      fn === "realloc" ? set.realloc(p, 16) : (set[fn] as (p: number) => unknown)(p);

    it("throws for 0 (pfree(NULL) is not allowed)", () => {
      const { heap, set } = setup();
      rejects(
        heap,
        () => call(set, 0),
        InvalidPointerError,
        `${fn}(): pointer 0 is NULL (memory context "victim")`,
      );
    });

    it("throws for an unaligned pointer, one outside the heap or below its first chunk, or not a number", () => {
      const { heap, set, small } = setup();
      for (const p of [small + 3, heap.size + 64, -8, 8, 16, 48, 1.5, "64"]) {
        rejects(
          heap,
          () => call(set, p as number),
          InvalidPointerError,
          /is not an 8-aligned offset inside the heap/,
        );
      }
    });

    it("throws for another set's pointer, naming that set", () => {
      const { heap, set, other } = setup();
      const theirs = other.alloc(10);
      const theirsLarge = other.alloc(5000);
      for (const p of [theirs, theirsLarge]) {
        rejects(
          heap,
          () => call(set, p),
          InvalidPointerError,
          `${fn}(): pointer ${p} belongs to memory context "other" (AllocSet at ${other.offset}) (memory context "victim")`,
        );
      }
    });

    it("throws for an interior pointer", () => {
      const { heap, set, small, large } = setup();
      for (const p of [small + 8, small + 16, large + 64]) {
        rejects(
          heap,
          () => call(set, p),
          InvalidPointerError,
          /is not the start of an AllocSet chunk/,
        );
      }
    });

    it("throws for a pointer from heap.malloc", () => {
      const { heap, set } = setup();
      const p = heap.malloc(32);
      heap.u8.fill(0, p - 8, p); // whatever the heap keeps there, not an AllocSet header
      rejects(
        heap,
        () => call(set, p),
        InvalidPointerError,
        /is not the start of an AllocSet chunk/,
      );
    });

    it("throws for a freed chunk (double free), small or dedicated", () => {
      const { heap, set, small, large } = setup();
      set.free(small);
      set.free(large);
      for (const p of [small, large]) {
        rejects(heap, () => call(set, p), InvalidPointerError, /was already freed \(double free\)/);
      }
    });

    it("throws for a pointer made stale by reset", () => {
      const { heap, set } = setup();
      const inKeeper = set.alloc(100);
      for (let i = 0; i < 10; i++) set.alloc(4000);
      const inBlock = set.alloc(100);
      set.reset();
      rejects(
        heap,
        () => call(set, inKeeper),
        InvalidPointerError,
        /lies beyond the chunks carved from block/,
      );
      rejects(heap, () => call(set, inBlock), InvalidPointerError, /./);
    });

    it("throws in checking mode when the sentinel was overwritten", () => {
      const { heap, set } = setup(true);
      const p = set.alloc(5);
      heap.u8[p + 5] = 0;
      rejects(
        heap,
        () => call(set, p),
        HeapCorruptionError,
        new RegExp(`^${fn}\\(\\): detected write past chunk end in victim`),
      );
      const q = set.alloc(20000);
      heap.u8[q + 20000] = 1;
      rejects(heap, () => call(set, q), HeapCorruptionError, /detected write past chunk end/);
    });

    it("throws in checking mode for a pointer into a freed heap block", () => {
      const { heap, set, large } = setup(true);
      set.free(large);
      rejects(heap, () => call(set, large), InvalidPointerError, /lies in freed memory/);
    });
  },
);

describe("a deleted AllocSet", () => {
  const calls: [string, (s: AllocSet, p: number) => unknown][] = [
    ["alloc", (s) => s.alloc(8)],
    ["free", (s, p) => s.free(p)],
    ["realloc", (s, p) => s.realloc(p, 8)],
    ["getChunkSpace", (s, p) => s.getChunkSpace(p)],
    ["usableSize", (s, p) => s.usableSize(p)],
    ["reset", (s) => s.reset()],
    ["delete", (s) => s.delete()],
    ["isEmpty", (s) => s.isEmpty()],
    ["stats", (s) => s.stats()],
    ["check", (s) => s.check()],
    ["blocks", (s) => s.blocks()],
    ["memAllocated", (s) => s.memAllocated],
    ["allocChunkLimit", (s) => s.allocChunkLimit],
    ["nextBlockSize", (s) => s.nextBlockSize],
    ["sizes", (s) => s.sizes],
    ["ident", (s) => s.ident],
  ];

  for (const sizes of [
    ALLOCSET_DEFAULT_SIZES,
    { minContextSize: 0, initBlockSize: 2048, maxBlockSize: 8192 },
  ]) {
    const cached = sizes === ALLOCSET_DEFAULT_SIZES;
    it(`throws InvalidStateError on every call (${cached ? "kept on the context freelist" : "freed"})`, () => {
      const heap = Heap.create({ initialSize: 128 * 1024, maxSize: 128 * 1024 });
      const set = AllocSet.create(heap, "gone", sizes);
      const p = set.alloc(10);
      set.delete();
      expect(set.deleted).toBe(true);
      for (const [name, call] of calls) {
        rejects(
          heap,
          () => call(set, p),
          InvalidStateError,
          `${name}(): memory context "gone" (AllocSet at ${set.offset}) has been deleted`,
        );
      }
      rejects(
        heap,
        () => AllocSet.attach(heap, set.offset),
        InvalidPointerError,
        /is not the header of a live AllocSet/,
      );
    });
  }

  it("throws even when a new set took over its address", () => {
    const heap = Heap.create();
    const old = AllocSet.create(heap, "old", ALLOCSET_DEFAULT_SIZES);
    old.delete();
    const reused = AllocSet.create(heap, "new", ALLOCSET_DEFAULT_SIZES);
    expect(reused.offset).toBe(old.offset);
    rejects(
      heap,
      () => old.alloc(8),
      InvalidStateError,
      /memory context "old" .* has been deleted/,
    );
    expect(reused.alloc(8)).not.toBe(0);
  });
});

describe("AllocSet.create with bad arguments", () => {
  const bad: [string, Partial<AllocSetSizes>, RegExp][] = [
    [
      "initBlockSize below 1024",
      { minContextSize: 0, initBlockSize: 1016, maxBlockSize: 8192 },
      /initBlockSize 1016 is not a multiple of 8 from 1024 to 1073741823/,
    ],
    [
      "initBlockSize not MAXALIGNed",
      { minContextSize: 0, initBlockSize: 1028, maxBlockSize: 8192 },
      /initBlockSize 1028/,
    ],
    [
      "maxBlockSize below initBlockSize",
      { minContextSize: 0, initBlockSize: 8192, maxBlockSize: 4096 },
      /maxBlockSize 4096 is not a multiple of 8 from 8192 to/,
    ],
    [
      "maxBlockSize above MEMORYCHUNK_MAX_BLOCKOFFSET",
      { minContextSize: 0, initBlockSize: 8192, maxBlockSize: 0x40000000 },
      /maxBlockSize 1073741824/,
    ],
    [
      "minContextSize below 1024",
      { minContextSize: 512, initBlockSize: 1024, maxBlockSize: 8192 },
      /minContextSize 512 is not a multiple of 8 from 1024 to 8192/,
    ],
    [
      "minContextSize above maxBlockSize",
      { minContextSize: 16384, initBlockSize: 1024, maxBlockSize: 8192 },
      /minContextSize 16384/,
    ],
    ["a missing size", { minContextSize: 0, initBlockSize: 1024 }, /maxBlockSize undefined/],
    [
      "a fractional size",
      { minContextSize: 0, initBlockSize: 1024.5, maxBlockSize: 8192 },
      /initBlockSize 1024.5/,
    ],
  ];
  for (const [what, sizes, message] of bad) {
    it(`throws InvalidSizeError for ${what}`, () => {
      const heap = Heap.create({ initialSize: 64 * 1024, maxSize: 64 * 1024 });
      rejects(
        heap,
        () => AllocSet.create(heap, "x", sizes as AllocSetSizes),
        InvalidSizeError,
        message,
      );
    });
  }

  it("throws for sizes that are not an object, and for a name that is not a string", () => {
    const heap = Heap.create({ initialSize: 64 * 1024, maxSize: 64 * 1024 });
    rejects(
      heap,
      () => AllocSet.create(heap, "x", null as never),
      InvalidSizeError,
      "AllocSet.create(): sizes null is not an object of block sizes",
    );
    rejects(
      heap,
      () => AllocSet.create(heap, 42 as never, ALLOCSET_DEFAULT_SIZES),
      MmgrError,
      "AllocSet.create(): name 42 is not a string",
    );
  });
});

describe("AllocSet.contextOf and AllocSet.attach with bad input", () => {
  it("contextOf throws for anything that is not a live AllocSet chunk", () => {
    const { heap, set, large } = setup();
    const raw = heap.malloc(64);
    heap.i32[(raw >> 2) - 2] = 0x15; // method id 5 (Slab), not ours
    heap.i32[(raw >> 2) - 1] = 0;
    rejects(
      heap,
      () => AllocSet.contextOf(heap, 0),
      InvalidPointerError,
      "AllocSet.contextOf(): pointer 0 is not a chunk of a live AllocSet of this heap",
    );
    rejects(
      heap,
      () => AllocSet.contextOf(heap, 13),
      InvalidPointerError,
      /pointer 13 is not a chunk/,
    );
    rejects(
      heap,
      () => AllocSet.contextOf(heap, raw),
      InvalidPointerError,
      /has method id 5 in its chunk header, not AllocSet's 3/,
    );
    set.free(large);
    rejects(
      heap,
      () => AllocSet.contextOf(heap, large),
      InvalidPointerError,
      `AllocSet.contextOf(): pointer ${large} was already freed`,
    );
  });

  it("attach throws for an offset that is not a live set's header", () => {
    const { heap, set, small } = setup();
    for (const off of [0, 4, small, set.offset + 8, heap.size, -8, "x"]) {
      rejects(
        heap,
        () => AllocSet.attach(heap, off as number),
        InvalidPointerError,
        /is not the header of a live AllocSet of this heap/,
      );
    }
  });
});

describe("allocSetFreeIndex with a bad size", () => {
  it("throws InvalidSizeError outside 0..8192", () => {
    for (const size of [-1, ALLOC_CHUNK_LIMIT + 1, 1.5, Number.NaN]) {
      expect(() => allocSetFreeIndex(size)).toThrow(InvalidSizeError);
      expect(() => allocSetFreeIndex(size)).toThrow(
        `allocSetFreeIndex(): size ${size} is not an integer from 0 to 8192`,
      );
    }
  });
});

describe("AllocSet.check", () => {
  it("finds a damaged sentinel, a write to a freed chunk, a broken header and a bad freelist", () => {
    const { heap, set } = setup(true);
    const p = set.alloc(5);
    const q = set.alloc(64);
    set.check();
    heap.u8[p + 5] = 1;
    expect(() => set.check()).toThrow(
      new HeapCorruptionError(
        `problem in alloc set victim: detected write past chunk end in block ${set.offset + 200}, chunk ${p - 16}`,
        p + 5,
      ),
    );
    rejects(heap, () => set.reset(), HeapCorruptionError, /detected write past chunk end/);
    rejects(heap, () => set.delete(), HeapCorruptionError, /detected write past chunk end/);
    heap.u8[p + 5] = 0x7e;
    set.free(q);
    heap.u8[q + 20] = 1; // use after free
    expect(() => set.check()).toThrow(/detected write to freed chunk/);
    rejects(heap, () => set.reset(), HeapCorruptionError, /detected write to freed chunk/);
    heap.u8[q + 20] = 0x7f;
    set.check();
    heap.i32[q >> 2] = p - 16; // freelist link points at a live chunk
    expect(() => set.check()).toThrow(/freelist 3 holds .*which is not a free 64-byte chunk/);
    expect(set.alloc(64)).toBe(q);
    rejects(heap, () => set.alloc(64), HeapCorruptionError, /freelist 3 head \d+ is damaged/);
  });

  it("finds a damaged chunk header and a wrong mem_allocated without checking mode", () => {
    const { heap, set, small } = setup();
    set.check();
    const lo = heap.i32[(small >> 2) - 2];
    heap.i32[(small >> 2) - 2] = 0x7f7f7f7f;
    expect(() => set.check()).toThrow(/bad chunk size for chunk/);
    heap.i32[(small >> 2) - 2] = lo;
    heap.i32[(set.offset >> 2) + 2] += 8;
    expect(() => set.check()).toThrow(/mem_allocated is \d+ but the blocks hold \d+/);
  });
});
