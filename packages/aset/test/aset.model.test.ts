import { Heap } from "@mmgr/heap";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ALLOCSET_DEFAULT_SIZES,
  ALLOCSET_SMALL_SIZES,
  ALLOCSET_START_SMALL_SIZES,
  AllocSet,
  type AllocSetSizes,
} from "../src/index.js";

// Several sets on one heap, driven by random alloc / realloc / free / reset /
// delete-and-create sequences against a shadow model of the live chunks.
// After every step: chunks are 8-aligned, disjoint (headers included) and
// inside the arena; every byte written is still there; each chunk is found
// in its own set by contextOf; check() passes for every set and the heap;
// memAllocated is exactly what the heap holds for the set's blocks.

const SIZES: AllocSetSizes[] = [
  ALLOCSET_DEFAULT_SIZES,
  ALLOCSET_SMALL_SIZES,
  ALLOCSET_START_SMALL_SIZES,
  { minContextSize: 4096, initBlockSize: 1024, maxBlockSize: 16384 },
];

interface Live {
  set: number;
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
  sets: AllocSet[];
}

const fillOf = (model: Model) => (model.next++ * 37 + 11) & 0xff;

function intact(heap: Heap, a: Live, length = a.size): void {
  const u8 = heap.u8;
  for (let i = a.ptr; i < a.ptr + length; i++) {
    if (u8[i] !== a.fill)
      throw new Error(`byte ${i} of chunk ${a.ptr} is ${u8[i]}, wrote ${a.fill}`);
  }
}

function verify(model: Model, { heap, sets }: Real): void {
  const spans = model.live.map((a) => {
    const set = sets[a.set];
    expect(a.ptr % 8).toBe(0);
    expect(AllocSet.contextOf(heap, a.ptr)).toBe(set.offset);
    if (heap.checking) expect(set.usableSize(a.ptr)).toBe(a.size);
    else expect(set.usableSize(a.ptr)).toBeGreaterThanOrEqual(a.size);
    intact(heap, a);
    const start = a.ptr - set.chunkHeaderSize;
    return [start, start + set.getChunkSpace(a.ptr)] as const;
  });
  spans.sort((x, y) => x[0] - y[0]);
  for (let i = 1; i < spans.length; i++)
    expect(spans[i][0]).toBeGreaterThanOrEqual(spans[i - 1][1]);
  if (spans.length > 0) expect(spans[spans.length - 1][1]).toBeLessThanOrEqual(heap.size);
  let heapBlocks = 0;
  for (const set of sets) {
    set.check();
    const blocks = set.blocks();
    heapBlocks += blocks.length - 1; // the keeper shares the context's heap block
    heapBlocks += 1;
    const held = blocks.reduce((n, b) => n + heap.usableSize(b.heapPtr), 0);
    if (heap.checking) expect(held).toBe(set.memAllocated);
    else expect(held).toBeGreaterThanOrEqual(set.memAllocated);
    expect(set.stats().totalspace).toBe(set.memAllocated);
    if (model.live.some((a) => sets[a.set] === set)) expect(set.isEmpty()).toBe(false);
  }
  const cached = AllocSet.cachedContexts(heap);
  expect(heap.stats().allocations).toBe(heapBlocks + cached.default + cached.small);
  heap.check();
}

class Alloc implements fc.Command<Model, Real> {
  constructor(
    readonly set: number,
    readonly size: number,
  ) {}
  check = () => true;
  run(model: Model, real: Real): void {
    const ptr = real.sets[this.set].alloc(this.size);
    expect(ptr).not.toBe(0);
    const a = { set: this.set, ptr, size: this.size, fill: fillOf(model) };
    real.heap.u8.fill(a.fill, ptr, ptr + a.size);
    model.live.push(a);
    verify(model, real);
  }
  toString = () => `alloc(${this.set}, ${this.size})`;
}

/** Picks one of the live chunks of a set by a random number. */
function pick(model: Model, set: number, n: number): number {
  const mine = model.live.map((a, i) => [a, i] as const).filter(([a]) => a.set === set);
  return mine.length === 0 ? -1 : mine[n % mine.length][1];
}

class Free implements fc.Command<Model, Real> {
  constructor(
    readonly set: number,
    readonly n: number,
  ) {}
  check = () => true;
  run(model: Model, real: Real): void {
    const i = pick(model, this.set, this.n);
    if (i < 0) return;
    real.sets[this.set].free(model.live[i].ptr);
    model.live.splice(i, 1);
    verify(model, real);
  }
  toString = () => `free(${this.set}, #${this.n})`;
}

class Realloc implements fc.Command<Model, Real> {
  constructor(
    readonly set: number,
    readonly n: number,
    readonly size: number,
  ) {}
  check = () => true;
  run(model: Model, real: Real): void {
    const i = pick(model, this.set, this.n);
    if (i < 0) return;
    const a = model.live[i];
    const set = real.sets[this.set];
    const space = set.getChunkSpace(a.ptr) - set.chunkHeaderSize;
    const ptr = set.realloc(a.ptr, this.size);
    expect(ptr).not.toBe(0);
    // in place exactly when it fits a freelist chunk (a dedicated one may move)
    if (this.size <= space && space <= set.allocChunkLimit) expect(ptr).toBe(a.ptr);
    const moved = { ...a, ptr };
    intact(real.heap, moved, Math.min(a.size, this.size));
    const b = { set: this.set, ptr, size: this.size, fill: fillOf(model) };
    real.heap.u8.fill(b.fill, ptr, ptr + b.size);
    model.live[i] = b;
    verify(model, real);
  }
  toString = () => `realloc(${this.set}, #${this.n}, ${this.size})`;
}

class Reset implements fc.Command<Model, Real> {
  constructor(readonly set: number) {}
  check = () => true;
  run(model: Model, real: Real): void {
    const set = real.sets[this.set];
    set.reset();
    model.live = model.live.filter((a) => a.set !== this.set);
    expect(set.memAllocated).toBe(set.blocks()[0].size);
    expect(set.stats().nblocks).toBe(1);
    expect(set.isEmpty()).toBe(true);
    verify(model, real);
  }
  toString = () => `reset(${this.set})`;
}

class Recreate implements fc.Command<Model, Real> {
  constructor(readonly set: number) {}
  check = () => true;
  run(model: Model, real: Real): void {
    real.sets[this.set].delete();
    real.sets[this.set] = AllocSet.create(real.heap, `set${this.set}`, SIZES[this.set]);
    model.live = model.live.filter((a) => a.set !== this.set);
    verify(model, real);
  }
  toString = () => `recreate(${this.set})`;
}

const setIndex = fc.integer({ min: 0, max: SIZES.length - 1 });
const size = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0, max: 300 }) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 9000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 8000, max: 40000 }) },
);
// Weights by repetition: allocations outnumber frees so that sets fill up,
// carve and grow to several blocks before a reset empties them.
const commands = [
  fc.tuple(setIndex, size).map(([s, n]) => new Alloc(s, n)),
  fc.tuple(setIndex, size).map(([s, n]) => new Alloc(s, n)),
  fc.tuple(setIndex, size).map(([s, n]) => new Alloc(s, n)),
  fc.tuple(setIndex, fc.nat()).map(([s, n]) => new Free(s, n)),
  fc.tuple(setIndex, fc.nat()).map(([s, n]) => new Free(s, n)),
  fc.tuple(setIndex, fc.nat(), size).map(([s, n, z]) => new Realloc(s, n, z)),
  setIndex.map((s) => new Reset(s)),
  setIndex.map((s) => new Recreate(s)),
];

function run(checking: boolean, numRuns: number): void {
  fc.assert(
    // size "max": without it fast-check keeps sequences to about 5 commands.
    fc.property(fc.commands(commands, { maxCommands: 100, size: "max" }), (cmds) => {
      const heap = Heap.create({ initialSize: 1 << 20, maxSize: 64 << 20, checking });
      const sets = SIZES.map((s, i) => AllocSet.create(heap, `set${i}`, s));
      fc.modelRun(() => ({ model: { live: [], next: 0 }, real: { heap, sets } }), cmds);
    }),
    { numRuns },
  );
}

describe("AllocSet (model)", () => {
  it("keeps chunks disjoint and intact, and memAllocated exact, in checking mode", () => {
    run(true, 300);
  });

  it("does the same without checking mode", () => {
    run(false, 200);
  });
});
