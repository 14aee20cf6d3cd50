// Every bad input: the error class, its message, and that nothing changed
// (the whole arena byte for byte, the pool's and the heap's counters).

import {
  Heap,
  InvalidAlignmentError,
  InvalidPointerError,
  InvalidSizeError,
  InvalidStateError,
  MAX_ALIGNMENT,
  MAX_ALLOC_SIZE,
  MmgrError,
} from "@mmgr/heap";
import { describe, expect, it } from "vitest";
import {
  NGX_MIN_POOL_SIZE,
  NGX_POOL_ALIGNMENT,
  NgxPool,
  type NgxPoolCleanupHandler,
} from "../src/index.js";

const MAX_POOL_SIZE = MAX_ALLOC_SIZE & ~(NGX_POOL_ALIGNMENT - 1);

/** A pool with small allocations, a large one, a freed link and a cleanup. */
function busy() {
  const heap = Heap.create({ initialSize: 1 << 17, maxSize: 1 << 17, checking: true });
  const pool = NgxPool.create(heap, 1024)!;
  pool.palloc(100);
  pool.pnalloc(3);
  const big = pool.palloc(2000);
  pool.pfree(pool.palloc(3000));
  const cleanup = pool.cleanupAdd(16)!;
  cleanup.handler = () => {};
  for (let i = 0; i < 3; i++) pool.palloc(900);
  return { heap, pool, big, cleanup };
}

/** Asserts that `fn` throws `error` and leaves arena and counters exactly as they were. */
function rejects(heap: Heap, pool: NgxPool | null, fn: () => unknown, error: Error): void {
  const bytes = Uint8Array.from(heap.u8);
  const heapStats = heap.stats();
  const poolStats = pool !== null && !pool.destroyed ? pool.stats() : null;
  expect(fn).toThrow(error);
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(error.constructor);
    expect(e).toBeInstanceOf(MmgrError);
  }
  expect(heap.stats()).toEqual(heapStats);
  if (poolStats !== null) expect(pool!.stats()).toEqual(poolStats);
  expect(Buffer.compare(Buffer.from(heap.u8), Buffer.from(bytes))).toBe(0);
  heap.check();
}

const BAD_SIZES: unknown[] = [
  -1,
  -8,
  1.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  MAX_ALLOC_SIZE + 1,
  2 ** 32,
  "8",
  undefined,
  null,
];

function show(v: unknown): string {
  return typeof v === "string" ? JSON.stringify(v) : String(v);
}

describe("NgxPool.create with a bad size", () => {
  const bad: unknown[] = [
    0,
    16,
    NGX_MIN_POOL_SIZE - NGX_POOL_ALIGNMENT,
    NGX_MIN_POOL_SIZE + 8,
    1000,
    1.5,
    -1024,
    Number.NaN,
    "1024",
    MAX_POOL_SIZE + NGX_POOL_ALIGNMENT,
  ];
  it.each(bad)("throws InvalidSizeError for %s", (size) => {
    const heap = Heap.create({ initialSize: 1 << 16, maxSize: 1 << 16, checking: true });
    rejects(
      heap,
      null,
      () => NgxPool.create(heap, size as number),
      new InvalidSizeError(
        `NgxPool.create(): size ${show(size)} is not a multiple of ${NGX_POOL_ALIGNMENT} from ${NGX_MIN_POOL_SIZE} to ${MAX_POOL_SIZE}`,
        size,
      ),
    );
  });
});

describe.each(["palloc", "pnalloc", "pcalloc", "cleanupAdd"] as const)(
  "NgxPool.%s with a bad size",
  (fn) => {
    it.each(BAD_SIZES)("throws InvalidSizeError for %s and changes nothing", (size) => {
      const { heap, pool } = busy();
      rejects(
        heap,
        pool,
        () => pool[fn](size as number),
        new InvalidSizeError(
          `NgxPool.${fn}(): invalid size ${show(size)}: not an integer from 0 to ${MAX_ALLOC_SIZE} (pool at ${pool.offset})`,
          size,
        ),
      );
    });
  },
);

describe("NgxPool.pmemalign with bad arguments", () => {
  it.each(BAD_SIZES)("throws InvalidSizeError for size %s", (size) => {
    const { heap, pool } = busy();
    rejects(
      heap,
      pool,
      () => pool.pmemalign(size as number, 16),
      new InvalidSizeError(
        `NgxPool.pmemalign(): invalid size ${show(size)}: not an integer from 0 to ${MAX_ALLOC_SIZE} (pool at ${pool.offset})`,
        size,
      ),
    );
  });

  it.each([0, 3, 24, -16, 1.5, MAX_ALIGNMENT * 2, Number.NaN, "16", undefined] as unknown[])(
    "throws InvalidAlignmentError for alignment %s",
    (alignment) => {
      const { heap, pool } = busy();
      rejects(
        heap,
        pool,
        () => pool.pmemalign(64, alignment as number),
        new InvalidAlignmentError(
          `NgxPool.pmemalign(): alignment ${show(alignment)} is not a power of two from 1 to ${MAX_ALIGNMENT} (pool at ${pool.offset})`,
          alignment,
        ),
      );
    },
  );
});

describe("NgxPool.pfree with a bad pointer", () => {
  it("throws InvalidPointerError for 0 (NULL) and changes nothing", () => {
    const { heap, pool } = busy();
    rejects(
      heap,
      pool,
      () => pool.pfree(0),
      new InvalidPointerError(`NgxPool.pfree(): pointer 0 is NULL (pool at ${pool.offset})`, 0),
    );
  });

  it.each([-8, 1.5, Number.NaN, "64", undefined, 2 ** 31] as unknown[])(
    "throws InvalidPointerError for %s and changes nothing",
    (ptr) => {
      const { heap, pool } = busy();
      rejects(
        heap,
        pool,
        () => pool.pfree(ptr as number),
        new InvalidPointerError(
          `NgxPool.pfree(): pointer ${show(ptr)} is not an offset inside the heap (pool at ${pool.offset})`,
          ptr,
        ),
      );
    },
  );

  it("throws for an offset at the heap's end", () => {
    const { heap, pool } = busy();
    rejects(
      heap,
      pool,
      () => pool.pfree(heap.size),
      new InvalidPointerError(
        `NgxPool.pfree(): pointer ${heap.size} is not an offset inside the heap (pool at ${pool.offset})`,
        heap.size,
      ),
    );
  });
});

describe("a destroyed pool", () => {
  const calls: Array<[string, (p: NgxPool) => unknown]> = [
    ["palloc", (p) => p.palloc(8)],
    ["pnalloc", (p) => p.pnalloc(8)],
    ["pcalloc", (p) => p.pcalloc(8)],
    ["pmemalign", (p) => p.pmemalign(8, 16)],
    ["pfree", (p) => p.pfree(64)],
    ["cleanupAdd", (p) => p.cleanupAdd(0)],
    ["reset", (p) => p.reset()],
    ["destroy", (p) => p.destroy()],
    ["stats", (p) => p.stats()],
    ["check", (p) => p.check()],
    ["blocks", (p) => p.blocks()],
    ["largeList", (p) => p.largeList()],
    ["max", (p) => p.max],
    ["blockSize", (p) => p.blockSize],
    ["memAllocated", (p) => p.memAllocated],
  ];
  it.each(calls)("throws InvalidStateError from %s and changes nothing", (name, call) => {
    const { heap, pool } = busy();
    pool.destroy();
    // Something else now lives where the pool was.
    const other = NgxPool.create(heap, 1024)!;
    other.palloc(10);
    rejects(
      heap,
      other,
      () => call(pool),
      new InvalidStateError(`NgxPool.${name}(): pool at ${pool.offset} was destroyed`),
    );
    expect(pool.destroyed).toBe(true);
  });

  it("makes its cleanup records dead too", () => {
    const { heap, pool, cleanup } = busy();
    pool.destroy();
    const msg = `pool at ${pool.offset} was destroyed (record ${cleanup.offset})`;
    rejects(
      heap,
      null,
      () => cleanup.handler,
      new InvalidStateError(`NgxPoolCleanup.handler: ${msg}`),
    );
    rejects(
      heap,
      null,
      () => {
        cleanup.handler = null;
      },
      new InvalidStateError(`NgxPoolCleanup.handler: ${msg}`),
    );
    rejects(heap, null, () => cleanup.data, new InvalidStateError(`NgxPoolCleanup.data: ${msg}`));
  });
});

describe("NgxPoolCleanup with bad values", () => {
  it.each([42, "fn", {}, undefined] as unknown[])("rejects handler %s", (value) => {
    const { heap, pool, cleanup } = busy();
    const before = cleanup.handler;
    rejects(
      heap,
      pool,
      () => {
        cleanup.handler = value as NgxPoolCleanupHandler;
      },
      new MmgrError(
        `NgxPoolCleanup.handler: ${show(value)} is neither a function nor null (record ${cleanup.offset} of pool at ${pool.offset})`,
      ),
    );
    expect(cleanup.handler).toBe(before);
  });

  it.each([-1, 1.5, "8", null, 1 << 30] as unknown[])("rejects data %s", (value) => {
    const { heap, pool, cleanup } = busy();
    rejects(
      heap,
      pool,
      () => {
        cleanup.data = value as number;
      },
      new InvalidPointerError(
        `NgxPoolCleanup.data: ${show(value)} is not an offset inside the heap (record ${cleanup.offset} of pool at ${pool.offset})`,
        value,
      ),
    );
  });
});

describe("NgxPool.attach with a bad offset", () => {
  it.each([0, 8, -16, 1.5, "16", undefined, 1 << 30] as unknown[])(
    "throws InvalidPointerError for %s",
    (offset) => {
      const { heap, pool } = busy();
      rejects(
        heap,
        pool,
        () => NgxPool.attach(heap, offset as number),
        new InvalidPointerError(
          `NgxPool.attach(): offset ${show(offset)} is not the ngx_pool_t of a live pool of this heap`,
          offset,
        ),
      );
    },
  );

  it("throws for a block that is not a pool, and for a destroyed pool", () => {
    const { heap, pool } = busy();
    const notPool = heap.memalign(16, 1024);
    const dead = NgxPool.create(heap, 1024)!;
    const offset = dead.offset;
    dead.destroy();
    for (const at of [notPool, pool.blocks()[1], offset]) {
      rejects(
        heap,
        pool,
        () => NgxPool.attach(heap, at),
        new InvalidPointerError(
          `NgxPool.attach(): offset ${at} is not the ngx_pool_t of a live pool of this heap`,
          at,
        ),
      );
    }
  });

  it("throws for a pool of another heap", () => {
    const { pool } = busy();
    const heap2 = Heap.create({ initialSize: 1 << 17, maxSize: 1 << 17 });
    rejects(
      heap2,
      null,
      () => NgxPool.attach(heap2, pool.offset),
      new InvalidPointerError(
        `NgxPool.attach(): offset ${pool.offset} is not the ngx_pool_t of a live pool of this heap`,
        pool.offset,
      ),
    );
  });
});
