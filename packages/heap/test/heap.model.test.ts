import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BLOCK_HDR_SIZE, Heap, NULL } from "../src/index.js";

/** A live allocation as the model knows it. */
interface Live {
  ptr: number;
  size: number;
  fill: number;
  align: number;
}

interface Model {
  live: Live[];
  next: number;
}

interface Real {
  heap: Heap;
}

const fillOf = (model: Model) => (model.next++ * 37 + 11) & 0xff;

function write(heap: Heap, a: Live): void {
  heap.u8.fill(a.fill, a.ptr, a.ptr + a.size);
}

/** After every step: alignment, bounds, no overlap, contents intact, counters, check(). */
function verify(model: Model, heap: Heap): void {
  const sorted = [...model.live].sort((x, y) => x.ptr - y.ptr);
  let end = 0;
  for (const a of sorted) {
    expect(a.ptr % a.align).toBe(0);
    expect(a.ptr - BLOCK_HDR_SIZE).toBeGreaterThanOrEqual(end);
    const usable = heap.usableSize(a.ptr);
    expect(usable).toBeGreaterThanOrEqual(a.size);
    end = a.ptr + usable;
    expect(end).toBeLessThanOrEqual(heap.size);
    const bytes = heap.u8.subarray(a.ptr, a.ptr + a.size);
    for (let i = 0; i < bytes.length; i++) {
      if (bytes[i] !== a.fill)
        throw new Error(`byte ${a.ptr + i} of block ${a.ptr} is ${bytes[i]}, wrote ${a.fill}`);
    }
  }
  // A heap with a cache counts the blocks in it as used allocations too.
  const { allocations, cached, used } = heap.stats();
  if (cached === 0) expect(allocations).toBe(model.live.length);
  else expect(allocations).toBeGreaterThan(model.live.length);
  if (!heap.checking) {
    let blocks = 0;
    for (const a of model.live) blocks += heap.usableSize(a.ptr) + BLOCK_HDR_SIZE;
    expect(used - cached).toBe(blocks);
  }
  heap.check();
}

class Malloc implements fc.Command<Model, Real> {
  constructor(
    readonly size: number,
    readonly zero: boolean,
  ) {}
  check = () => true;
  run(model: Model, { heap }: Real): void {
    const ptr = this.zero ? heap.calloc(this.size) : heap.malloc(this.size);
    if (ptr !== NULL) {
      if (this.zero)
        expect(heap.u8.subarray(ptr, ptr + this.size).every((x) => x === 0)).toBe(true);
      const a = { ptr, size: this.size, fill: fillOf(model), align: 8 };
      write(heap, a);
      model.live.push(a);
    }
    verify(model, heap);
  }
  toString = () => `${this.zero ? "calloc" : "malloc"}(${this.size})`;
}

class Memalign implements fc.Command<Model, Real> {
  constructor(
    readonly align: number,
    readonly size: number,
  ) {}
  check = () => true;
  run(model: Model, { heap }: Real): void {
    const ptr = heap.memalign(this.align, this.size);
    if (ptr !== NULL) {
      const a = { ptr, size: this.size, fill: fillOf(model), align: this.align };
      write(heap, a);
      model.live.push(a);
    }
    verify(model, heap);
  }
  toString = () => `memalign(${this.align}, ${this.size})`;
}

class Realloc implements fc.Command<Model, Real> {
  constructor(
    readonly pick: number,
    readonly size: number,
  ) {}
  check = (model: Readonly<Model>) => model.live.length > 0;
  run(model: Model, { heap }: Real): void {
    const i = this.pick % model.live.length;
    const a = model.live[i];
    const ptr = heap.realloc(a.ptr, this.size);
    if (ptr !== NULL) {
      const kept = Math.min(a.size, this.size);
      expect(heap.u8.subarray(ptr, ptr + kept).every((x) => x === a.fill)).toBe(true);
      const moved = { ptr, size: this.size, fill: fillOf(model), align: 8 };
      write(heap, moved);
      model.live[i] = moved;
    }
    verify(model, heap);
  }
  toString = () => `realloc(#${this.pick}, ${this.size})`;
}

class Free implements fc.Command<Model, Real> {
  constructor(readonly pick: number) {}
  check = (model: Readonly<Model>) => model.live.length > 0;
  run(model: Model, { heap }: Real): void {
    const i = this.pick % model.live.length;
    heap.free(model.live[i].ptr);
    model.live.splice(i, 1);
    verify(model, heap);
  }
  toString = () => `free(#${this.pick})`;
}

/** Sizes log-uniform from 0 to 16 KiB, so small classes and the TLSF first levels all get traffic. */
const size = fc
  .integer({ min: 0, max: 14 })
  .chain((bits) => fc.integer({ min: 0, max: (1 << bits) + 7 }));

const commands = [
  fc.tuple(size, fc.boolean()).map(([n, zero]) => new Malloc(n, zero)),
  fc.tuple(fc.integer({ min: 3, max: 12 }), size).map(([bits, n]) => new Memalign(1 << bits, n)),
  fc.tuple(fc.nat(), size).map(([pick, n]) => new Realloc(pick, n)),
  fc.nat().map((pick) => new Free(pick)),
  fc.nat().map((pick) => new Free(pick)),
];

describe("Heap model", () => {
  for (const [label, options] of [
    ["growable", { initialSize: 16 * 1024, maxSize: 1 << 20 }],
    ["growable, checking", { initialSize: 16 * 1024, maxSize: 1 << 20, checking: true }],
    ["fixed and small, so that it runs out", { initialSize: 32 * 1024, maxSize: 32 * 1024 }],
    ["fixed and small, checking", { initialSize: 32 * 1024, maxSize: 32 * 1024, checking: true }],
    ["growable, with a cache", { initialSize: 16 * 1024, maxSize: 1 << 20, cache: true }],
    ["fixed and small, with a cache", { initialSize: 32 * 1024, maxSize: 32 * 1024, cache: true }],
  ] as const) {
    it(`keeps live blocks disjoint and intact, and check() passing (${label})`, () => {
      fc.assert(
        fc.property(fc.commands(commands, { maxCommands: 120, size: "max" }), (cmds) => {
          const heap = Heap.create(options);
          const model: Model = { live: [], next: 0 };
          fc.modelRun(() => ({ model, real: { heap } }), cmds);
          heap.releaseCache();
          expect(heap.stats()).toMatchObject({ allocations: model.live.length, cached: 0 });
          heap.check();
        }),
        { numRuns: 150 },
      );
    });
  }

  it("returns to an empty arena after everything is freed, whatever the order (and the cache given back)", () => {
    fc.assert(
      fc.property(
        fc.array(size, { minLength: 1, maxLength: 200 }),
        fc.nat(),
        fc.boolean(),
        (sizes, seed, cache) => {
          const heap = Heap.create({ initialSize: 16 * 1024, maxSize: 4 << 20, cache });
          const ptrs = sizes.map((n) => heap.malloc(n));
          // A seeded shuffle of the free order.
          let s = seed | 1;
          for (let i = ptrs.length - 1; i > 0; i--) {
            s = (s * 1103515245 + 12345) & 0x7fffffff;
            const j = s % (i + 1);
            [ptrs[i], ptrs[j]] = [ptrs[j], ptrs[i]];
          }
          for (const p of ptrs) heap.free(p);
          heap.releaseCache();
          const stats = heap.stats();
          expect(stats.used).toBe(0);
          expect(stats.freeBlocks).toBe(1);
          heap.check();
        },
      ),
      { numRuns: 200 },
    );
  });
});
