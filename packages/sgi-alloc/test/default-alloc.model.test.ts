import { Heap, OutOfMemoryError } from "@mmgr/heap";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ALIGN, DefaultAlloc, MAX_BYTES, NFREELISTS, roundUp } from "../src/index.js";
import { KiB } from "./helpers.js";

/** A live object as the model knows it. */
interface Live {
  ptr: number;
  size: number;
  fill: number;
}

interface Model {
  live: Live[];
  next: number;
}

interface Real {
  heap: Heap;
  pool: DefaultAlloc;
}

/** Bytes an object occupies: its class for the pool, its request for the first level. */
const extent = (size: number) => (size <= MAX_BYTES ? roundUp(size) : size);
const fillOf = (model: Model) => (model.next++ * 37 + 11) & 0xff;

function write(heap: Heap, a: Live): void {
  heap.u8.fill(a.fill, a.ptr, a.ptr + a.size);
}

/** After every step: alignment, no overlap, contents intact, the pool's byte balance, check(). */
function verify(model: Model, { heap, pool }: Real): void {
  const sorted = [...model.live].sort((x, y) => x.ptr - y.ptr);
  let end = 0;
  for (const a of sorted) {
    expect(a.ptr % ALIGN).toBe(0);
    expect(a.ptr).toBeGreaterThanOrEqual(end);
    end = a.ptr + extent(a.size);
    expect(end).toBeLessThanOrEqual(heap.size);
    const bytes = heap.u8.subarray(a.ptr, a.ptr + a.size);
    for (let i = 0; i < bytes.length; i++) {
      if (bytes[i] !== a.fill)
        throw new Error(`byte ${a.ptr + i} of object ${a.ptr} is ${bytes[i]}, wrote ${a.fill}`);
    }
  }
  // Every byte the pool ever obtained is in a live object, on a free list, or pool space.
  const stats = pool.stats();
  let listed = 0;
  for (let k = 0; k < NFREELISTS; k++) listed += stats.freeListLengths[k] * (k + 1) * ALIGN;
  const live = model.live.reduce((n, a) => n + (a.size <= MAX_BYTES ? roundUp(a.size) : 0), 0);
  expect(live + listed + stats.bytesLeft).toBe(stats.heapSize);
  pool.check();
  heap.check();
}

/** Runs `call`; an OutOfMemoryError (bad_alloc) is an allowed outcome on a small heap. */
function orOom<T>(call: () => T): T | undefined {
  try {
    return call();
  } catch (err) {
    if (err instanceof OutOfMemoryError) return undefined;
    throw err;
  }
}

class Allocate implements fc.Command<Model, Real> {
  constructor(readonly size: number) {}
  check = () => true;
  run(model: Model, real: Real): void {
    const ptr = orOom(() => real.pool.allocate(this.size));
    if (ptr !== undefined) {
      const a = { ptr, size: this.size, fill: fillOf(model) };
      write(real.heap, a);
      model.live.push(a);
    }
    verify(model, real);
  }
  toString = () => `allocate(${this.size})`;
}

class Deallocate implements fc.Command<Model, Real> {
  constructor(readonly pick: number) {}
  check = (model: Readonly<Model>) => model.live.length > 0;
  run(model: Model, real: Real): void {
    const [a] = model.live.splice(this.pick % model.live.length, 1);
    real.pool.deallocate(a.ptr, a.size);
    verify(model, real);
  }
  toString = () => `deallocate(#${this.pick})`;
}

class Reallocate implements fc.Command<Model, Real> {
  constructor(
    readonly pick: number,
    readonly size: number,
  ) {}
  check = (model: Readonly<Model>) => model.live.length > 0;
  run(model: Model, real: Real): void {
    const i = this.pick % model.live.length;
    const a = model.live[i];
    const ptr = orOom(() => real.pool.reallocate(a.ptr, a.size, this.size));
    if (ptr !== undefined && ptr !== 0) {
      const keep = Math.min(a.size, this.size);
      const head = real.heap.u8.subarray(ptr, ptr + keep);
      expect(head.every((x) => x === a.fill)).toBe(true);
      const b = { ptr, size: this.size, fill: fillOf(model) };
      write(real.heap, b);
      model.live[i] = b;
    }
    verify(model, real);
  }
  toString = () => `reallocate(#${this.pick}, ${this.size})`;
}

const size = fc.oneof(
  { arbitrary: fc.integer({ min: 1, max: MAX_BYTES }), weight: 5 },
  { arbitrary: fc.integer({ min: MAX_BYTES + 1, max: 700 }), weight: 1 },
);
const commands = [
  size.map((n) => new Allocate(n)),
  size.map((n) => new Allocate(n)),
  fc.nat().map((k) => new Deallocate(k)),
  fc.tuple(fc.nat(), size).map(([k, n]) => new Reallocate(k, n)),
];

describe.each([
  { checking: true, threads: false, size: 8 * KiB, fixed: true },
  { checking: false, threads: true, size: 8 * KiB, fixed: true },
  { checking: false, threads: false, size: 64 * KiB, fixed: false },
])("DefaultAlloc model (checking $checking, threads $threads, fixed $fixed)", (cfg) => {
  it("keeps objects disjoint, aligned and intact, every byte accounted for, check() passing", () => {
    fc.assert(
      // size "max": without it fast-check keeps sequences to about 5 commands.
      fc.property(fc.commands(commands, { maxCommands: 150, size: "max" }), (cmds) => {
        const heap = Heap.create({
          initialSize: cfg.size,
          maxSize: cfg.fixed ? cfg.size : 4 * cfg.size,
          checking: cfg.checking,
        });
        const pool = new DefaultAlloc(heap, { threads: cfg.threads });
        fc.modelRun(() => ({ model: { live: [], next: 0 }, real: { heap, pool } }), cmds);
      }),
      { numRuns: 100 },
    );
  });
});
