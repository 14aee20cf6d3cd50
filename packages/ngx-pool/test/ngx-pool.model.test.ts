import { Heap } from "@mmgr/heap";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  LARGE_NEXT,
  NGX_ALIGNMENT,
  NGX_DECLINED,
  NGX_MIN_POOL_SIZE,
  NGX_OK,
  NgxPool,
  POOL_LARGE,
  SIZEOF_NGX_POOL_CLEANUP_T,
  SIZEOF_NGX_POOL_DATA_T,
  SIZEOF_NGX_POOL_LARGE_T,
  SIZEOF_NGX_POOL_T,
} from "../src/index.js";

/** A live allocation as the model knows it. */
interface Live {
  ptr: number;
  size: number;
  fill: number;
  align: number;
  large: boolean;
}

interface Model {
  live: Live[];
  /** Cleanup records on the list (offsets), oldest first. */
  records: number[];
  /** Ids of the records that have a handler, oldest first. */
  handlers: number[];
  max: number;
  next: number;
}

interface Real {
  heap: Heap;
  pool: NgxPool;
  /** Ids pushed by cleanup handlers as they run. */
  ran: number[];
}

const fillOf = (model: Model) => (model.next++ * 37 + 11) & 0xff;

function add(model: Model, heap: Heap, ptr: number, size: number, align: number, large: boolean) {
  const a = { ptr, size, fill: fillOf(model), align, large };
  heap.u8.fill(a.fill, ptr, ptr + size);
  model.live.push(a);
}

/** A snapshot of what must not change when a call returns 0. */
function counters({ heap, pool }: Real) {
  const h = heap.stats();
  return { pool: pool.stats(), used: h.used, allocations: h.allocations };
}

/**
 * After every step: alignment, no overlap between live allocations and the
 * pool's own structs, small ones inside the blocks' used bytes and large ones
 * outside every block, contents intact, counters, pool.check(), heap.check().
 */
function verify(model: Model, { heap, pool }: Real): void {
  const blocks = pool.blocks();
  const psize = pool.blockSize;
  const i32 = heap.i32;
  const regions: Array<[number, number, string]> = [];
  for (const b of blocks) {
    const hdr = b === pool.offset ? SIZEOF_NGX_POOL_T : SIZEOF_NGX_POOL_DATA_T;
    regions.push([b, b + hdr, "block header"]);
  }
  for (let l = i32[(pool.offset >> 2) + POOL_LARGE]; l !== 0; l = i32[(l >> 2) + LARGE_NEXT]) {
    regions.push([l, l + SIZEOF_NGX_POOL_LARGE_T, "large link"]);
  }
  for (const c of model.records) regions.push([c, c + SIZEOF_NGX_POOL_CLEANUP_T, "cleanup"]);
  let large = 0;
  let largeBytes = 0;
  for (const a of model.live) {
    expect(a.ptr % a.align).toBe(0);
    // palloc(0) may return the very end of a block (d.last === d.end).
    const inBlock = blocks.find(
      (b) => a.ptr >= b && a.ptr + a.size <= b + psize && a.ptr <= b + psize,
    );
    if (a.large) {
      large++;
      largeBytes += a.size;
      expect(inBlock).toBeUndefined();
      if (heap.checking)
        expect(heap.usableSize(a.ptr)).toBe(a.size); // exact in checking mode
      else expect(heap.usableSize(a.ptr)).toBeGreaterThanOrEqual(a.size);
    } else {
      expect(inBlock).toBeDefined();
      expect(a.ptr + a.size).toBeLessThanOrEqual(i32[(inBlock! >> 2) + 0]); // d.last
    }
    if (a.size > 0) regions.push([a.ptr, a.ptr + a.size, `allocation ${a.ptr}`]);
    const bytes = heap.u8.subarray(a.ptr, a.ptr + a.size);
    for (let i = 0; i < bytes.length; i++) {
      if (bytes[i] !== a.fill) {
        throw new Error(`byte ${a.ptr + i} of allocation ${a.ptr} is ${bytes[i]}, wrote ${a.fill}`);
      }
    }
  }
  regions.sort((x, y) => x[0] - y[0]);
  for (let i = 1; i < regions.length; i++) {
    if (regions[i][0] < regions[i - 1][1]) {
      throw new Error(`${regions[i][2]} at ${regions[i][0]} overlaps ${regions[i - 1][2]}`);
    }
  }
  const s = pool.stats();
  expect(s.large).toBe(large);
  expect(s.largeBytes).toBe(largeBytes);
  expect(s.cleanups).toBe(model.records.length);
  expect(s.memAllocated).toBe(blocks.length * psize + largeBytes);
  expect(heap.stats().allocations).toBe(blocks.length + large);
  pool.check();
  heap.check();
}

class Alloc implements fc.Command<Model, Real> {
  constructor(
    readonly fn: "palloc" | "pnalloc" | "pcalloc",
    readonly size: number,
  ) {}
  check = () => true;
  run(model: Model, real: Real): void {
    const { heap, pool } = real;
    const before = counters(real);
    if (this.fn === "pcalloc") {
      // Garbage where the allocation will most likely land, to see the zeroing.
      // pnalloc(0) is the current block's d.last: what follows is free up to its end.
      const p = pool.pnalloc(0);
      const b = pool.blocks().find((x) => p >= x && p <= x + pool.blockSize)!;
      heap.u8.fill(0xee, p, Math.min(p + this.size + 8, b + pool.blockSize));
    }
    const ptr = pool[this.fn](this.size);
    if (ptr === 0) {
      expect(counters(real)).toEqual(before);
    } else {
      if (this.fn === "pcalloc") {
        expect(heap.u8.subarray(ptr, ptr + this.size).every((b) => b === 0)).toBe(true);
      }
      const align = this.fn === "pnalloc" ? 1 : NGX_ALIGNMENT;
      add(model, heap, ptr, this.size, align, this.size > model.max);
    }
    verify(model, real);
  }
  toString = () => `${this.fn}(${this.size})`;
}

class Pmemalign implements fc.Command<Model, Real> {
  constructor(
    readonly size: number,
    readonly alignment: number,
  ) {}
  check = () => true;
  run(model: Model, real: Real): void {
    const before = counters(real);
    const ptr = real.pool.pmemalign(this.size, this.alignment);
    if (ptr === 0) expect(counters(real)).toEqual(before);
    else add(model, real.heap, ptr, this.size, this.alignment, true);
    verify(model, real);
  }
  toString = () => `pmemalign(${this.size}, ${this.alignment})`;
}

class Pfree implements fc.Command<Model, Real> {
  constructor(readonly pick: number) {}
  check = (model: Readonly<Model>) => model.live.length > 0;
  run(model: Model, real: Real): void {
    const i = this.pick % model.live.length;
    const a = model.live[i];
    if (a.large) {
      expect(real.pool.pfree(a.ptr)).toBe(NGX_OK);
      model.live.splice(i, 1);
      expect(real.pool.pfree(a.ptr)).toBe(NGX_DECLINED); // already given back
    } else {
      const before = counters(real);
      expect(real.pool.pfree(a.ptr)).toBe(NGX_DECLINED);
      expect(counters(real)).toEqual(before);
    }
    verify(model, real);
  }
  toString = () => `pfree(#${this.pick})`;
}

class CleanupAdd implements fc.Command<Model, Real> {
  constructor(
    readonly size: number,
    readonly withHandler: boolean,
  ) {}
  check = () => true;
  run(model: Model, real: Real): void {
    const { heap, pool, ran } = real;
    const c = pool.cleanupAdd(this.size);
    if (c !== null) {
      model.records.push(c.offset);
      if (this.size > 0) add(model, heap, c.data, this.size, NGX_ALIGNMENT, this.size > model.max);
      else expect(c.data).toBe(0);
      if (this.withHandler) {
        const id = c.offset;
        const data = c.data;
        c.handler = (d) => {
          expect(d).toBe(data);
          ran.push(id);
        };
        model.handlers.push(id);
      }
    }
    verify(model, real);
  }
  toString = () => `cleanupAdd(${this.size}${this.withHandler ? ", handler" : ""})`;
}

class Reset implements fc.Command<Model, Real> {
  check = () => true;
  run(model: Model, real: Real): void {
    const blocks = real.pool.blocks();
    real.ran.length = 0;
    real.pool.reset();
    expect(real.ran).toEqual([...model.handlers].reverse());
    expect(real.pool.blocks()).toEqual(blocks);
    model.live = [];
    model.records = [];
    model.handlers = [];
    verify(model, real);
    expect(real.heap.stats().allocations).toBe(blocks.length);
  }
  toString = () => "reset()";
}

describe("NgxPool (model)", () => {
  it("keeps live allocations disjoint, aligned and intact, and the heap sound", () => {
    const size = fc.oneof(
      fc.integer({ min: 0, max: 64 }),
      fc.integer({ min: 0, max: 1200 }),
      fc.integer({ min: 1000, max: 6000 }),
    );
    const commands = [
      fc
        .tuple(fc.constantFrom("palloc", "pnalloc", "pcalloc" as const), size)
        .map(([fn, n]) => new Alloc(fn as "palloc" | "pnalloc" | "pcalloc", n)),
      fc
        .tuple(fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 0, max: 12 }))
        .map(([n, k]) => new Pmemalign(n, 1 << k)),
      fc.nat().map((k) => new Pfree(k)),
      fc
        .tuple(fc.integer({ min: 0, max: 2000 }), fc.boolean())
        .map(([n, h]) => new CleanupAdd(n, h)),
      fc.constant(new Reset()),
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(NGX_MIN_POOL_SIZE, 256, 1024, 4096),
        fc.boolean(),
        // size "max": without it fast-check keeps sequences to about 5 commands.
        fc.commands(commands, { maxCommands: 80, size: "max" }),
        (poolSize, checking, cmds) => {
          const heap = Heap.create({ initialSize: 1 << 17, maxSize: 1 << 17, checking });
          const pool = NgxPool.create(heap, poolSize)!;
          const real: Real = { heap, pool, ran: [] };
          const model: Model = { live: [], records: [], handlers: [], max: pool.max, next: 0 };
          fc.modelRun(() => ({ model, real }), cmds);
          real.ran.length = 0;
          pool.destroy();
          expect(real.ran).toEqual([...model.handlers].reverse());
          expect(heap.stats().used).toBe(0);
          expect(heap.stats().allocations).toBe(0);
          heap.check();
        },
      ),
      { numRuns: 500 },
    );
  });
});
