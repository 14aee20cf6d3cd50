import { ALLOC_BLOCKHDRSZ, SIZEOF_ASET_CONTEXT } from "@mmgr/aset";
import { Heap, InvalidStateError, MmgrError, NotSupportedError, type Ptr } from "@mmgr/heap";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ALLOCSET_DEFAULT_SIZES,
  ALLOCSET_SMALL_SIZES,
  AllocSetContextCreate,
  CurrentMemoryContext,
  ErrorContext,
  GetMemoryChunkContext,
  GetMemoryChunkSpace,
  type MemoryContext,
  MemoryContextAlloc,
  MemoryContextCheck,
  MemoryContextDelete,
  MemoryContextInit,
  MemoryContextReset,
  MemoryContextSetParent,
  MemoryContextSwitchTo,
  MemoryContextTeardown,
  NgxPoolContextCreate,
  palloc,
  pfree,
  repalloc,
  TopMemoryContext,
} from "../src/index.js";

// A shadow model of the tree and of every live chunk. After each step: no
// two chunks overlap, each is 8-aligned inside the heap, its bytes are the
// pattern written, GetMemoryChunkContext names its context, the tree has
// the model's shape, CurrentMemoryContext is the model's, and
// MemoryContextCheck(TopMemoryContext) passes. Deleting (or resetting the
// parent of) ErrorContext or CurrentMemoryContext must throw PostgreSQL's
// guard's text and change nothing.

interface Ctx {
  readonly ctx: MemoryContext;
  parent: Ctx | null;
  readonly ngx: boolean;
}
interface Chunk {
  ptr: Ptr;
  size: number;
  readonly owner: Ctx;
  readonly fill: number;
}
interface Model {
  contexts: Ctx[]; // live ones; [0] is Top, [1] ErrorContext
  chunks: Chunk[];
  nextFill: number;
  current: Ctx;
}
interface Real {
  heap: Heap;
}

const KINDS = ["default", "small", "custom", "ngx"] as const;
type Kind = (typeof KINDS)[number];

function inSubtree(c: Ctx, root: Ctx): boolean {
  for (let a: Ctx | null = c; a !== null; a = a.parent) if (a === root) return true;
  return false;
}

function fillChunk(heap: Heap, c: Chunk): void {
  heap.u8.fill(c.fill, c.ptr, c.ptr + c.size);
}

function verify(m: Model, r: Real): void {
  const heap = r.heap;
  const sorted = [...m.chunks].sort((a, b) => a.ptr - b.ptr);
  for (let i = 0; i < sorted.length; i++) {
    const c = sorted[i];
    expect(c.ptr % 8).toBe(0);
    expect(c.ptr + c.size).toBeLessThanOrEqual(heap.size);
    if (i + 1 < sorted.length) expect(c.ptr + c.size).toBeLessThanOrEqual(sorted[i + 1].ptr);
    for (let k = c.ptr; k < c.ptr + c.size; k++) {
      if (heap.u8[k] !== c.fill) expect(`byte ${k} of chunk ${c.ptr}`).toBe(`fill ${c.fill}`);
    }
    expect(GetMemoryChunkContext(c.ptr)).toBe(c.owner.ctx);
  }
  for (const c of m.contexts) {
    expect(c.ctx.parent).toBe(c.parent === null ? null : c.parent.ctx);
    if (c.ngx) continue;
    // An AllocSet uses its header, a header per block and exactly the model's
    // chunks: a chunk pfree did not give back, or lost, shows here.
    const s = c.ctx.methods.stats(c.ctx);
    let chunks = 0;
    for (const k of m.chunks) if (k.owner === c) chunks += GetMemoryChunkSpace(k.ptr);
    expect(s.totalspace - s.freespace).toBe(
      SIZEOF_ASET_CONTEXT + s.nblocks * ALLOC_BLOCKHDRSZ + chunks,
    );
  }
  expect(CurrentMemoryContext).toBe(m.current.ctx);
  MemoryContextCheck(TopMemoryContext!);
}

/**
 * The text of mcxt's guard when deleting `c` (or, `self` false, its children)
 * would take ErrorContext or CurrentMemoryContext with it; null when allowed.
 * The guard looks at TopMemoryContext, ErrorContext, CurrentMemoryContext in
 * that order; the commands never delete Top itself.
 */
function guard(m: Model, fn: string, c: Ctx, self: boolean): string | null {
  const what = self
    ? `cannot delete memory context "${c.ctx.name}"`
    : `cannot delete the children of memory context "${c.ctx.name}"`;
  for (const [g, label] of [
    [m.contexts[1], "ErrorContext"],
    [m.current, "CurrentMemoryContext"],
  ] as const) {
    if (g === c) {
      if (!self) continue;
      if (label === "CurrentMemoryContext") {
        return `${fn}(): cannot delete memory context "${c.ctx.name}": it is CurrentMemoryContext; switch to another context first`;
      }
      return `${fn}(): cannot delete ErrorContext: it lives until MemoryContextTeardown() or the next MemoryContextInit()`;
    }
    if (g.parent !== null && inSubtree(g.parent, c)) {
      return `${fn}(): ${what}: ${label} ("${g.ctx.name}") is among its descendants`;
    }
  }
  return null;
}

/** Expects `fn` to throw InvalidStateError with `message` and change nothing the model sees. */
function refused(m: Model, r: Real, fn: () => unknown, message: string): void {
  const used = r.heap.stats().used;
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(InvalidStateError);
  expect((caught as Error).message).toBe(message);
  expect(r.heap.stats().used).toBe(used);
  verify(m, r);
}

function pick<T>(list: T[], n: number): T {
  return list[n % list.length];
}

class CreateCmd implements fc.Command<Model, Real> {
  constructor(
    readonly parent: number,
    readonly kind: Kind,
  ) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    if (m.contexts.length > 12) return;
    const parent = pick(m.contexts, this.parent);
    let ctx: MemoryContext;
    if (this.kind === "ngx") ctx = NgxPoolContextCreate(parent.ctx, "ngx", 1024);
    else if (this.kind === "default")
      ctx = AllocSetContextCreate(parent.ctx, "default", ALLOCSET_DEFAULT_SIZES);
    else if (this.kind === "small")
      ctx = AllocSetContextCreate(parent.ctx, "small", ALLOCSET_SMALL_SIZES);
    else
      ctx = AllocSetContextCreate(parent.ctx, "custom", {
        minContextSize: 0,
        initBlockSize: 2048,
        maxBlockSize: 16384,
      });
    m.contexts.push({ ctx, parent, ngx: this.kind === "ngx" });
    verify(m, r);
  }
  toString(): string {
    return `create(${this.parent}, ${this.kind})`;
  }
}

class AllocCmd implements fc.Command<Model, Real> {
  constructor(
    readonly where: number,
    readonly size: number,
  ) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    const owner = pick(m.contexts, this.where);
    const ptr = MemoryContextAlloc(owner.ctx, this.size);
    const c: Chunk = { ptr, size: this.size, owner, fill: (m.nextFill++ % 255) + 1 };
    fillChunk(r.heap, c);
    m.chunks.push(c);
    verify(m, r);
  }
  toString(): string {
    return `alloc(${this.where}, ${this.size})`;
  }
}

/** MemoryContextSwitchTo(ctx), palloc(size), and maybe switch back. */
class SwitchAllocCmd implements fc.Command<Model, Real> {
  constructor(
    readonly where: number,
    readonly size: number,
    readonly back: boolean,
  ) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    const owner = pick(m.contexts, this.where);
    const old = MemoryContextSwitchTo(owner.ctx);
    expect(old).toBe(m.current.ctx);
    m.current = owner;
    const ptr = palloc(this.size);
    const c: Chunk = { ptr, size: this.size, owner, fill: (m.nextFill++ % 255) + 1 };
    fillChunk(r.heap, c);
    m.chunks.push(c);
    if (this.back) {
      expect(MemoryContextSwitchTo(old)).toBe(owner.ctx);
      m.current = m.contexts.find((x) => x.ctx === old)!;
    }
    verify(m, r);
  }
  toString(): string {
    return `switchTo(${this.where}) palloc(${this.size})${this.back ? " switchBack" : ""}`;
  }
}

class FreeCmd implements fc.Command<Model, Real> {
  constructor(readonly which: number) {}
  check(m: Readonly<Model>): boolean {
    return m.chunks.length > 0;
  }
  run(m: Model, r: Real): void {
    const i = this.which % m.chunks.length;
    const c = m.chunks[i];
    if (c.owner.ngx) {
      expect(() => pfree(c.ptr)).toThrow(NotSupportedError);
    } else {
      pfree(c.ptr);
      m.chunks.splice(i, 1);
    }
    verify(m, r);
  }
  toString(): string {
    return `pfree(${this.which})`;
  }
}

class ReallocCmd implements fc.Command<Model, Real> {
  constructor(
    readonly which: number,
    readonly size: number,
  ) {}
  check(m: Readonly<Model>): boolean {
    return m.chunks.length > 0;
  }
  run(m: Model, r: Real): void {
    const c = m.chunks[this.which % m.chunks.length];
    if (c.owner.ngx) {
      expect(() => repalloc(c.ptr, this.size)).toThrow(NotSupportedError);
    } else {
      const np = repalloc(c.ptr, this.size);
      const kept = Math.min(c.size, this.size);
      for (let k = 0; k < kept; k++) expect(r.heap.u8[np + k]).toBe(c.fill);
      c.ptr = np;
      c.size = this.size;
      fillChunk(r.heap, c);
    }
    verify(m, r);
  }
  toString(): string {
    return `repalloc(${this.which}, ${this.size})`;
  }
}

class ResetCmd implements fc.Command<Model, Real> {
  constructor(readonly which: number) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    const c = pick(m.contexts, this.which);
    const refusal = guard(m, "MemoryContextReset", c, false); // always for Top (ErrorContext)
    if (refusal !== null) {
      refused(m, r, () => MemoryContextReset(c.ctx), refusal);
      return;
    }
    MemoryContextReset(c.ctx);
    m.contexts = m.contexts.filter((x) => x === c || !inSubtree(x, c));
    m.chunks = m.chunks.filter((k) => !inSubtree(k.owner, c));
    verify(m, r);
  }
  toString(): string {
    return `reset(${this.which})`;
  }
}

class DeleteCmd implements fc.Command<Model, Real> {
  constructor(readonly which: number) {}
  check(m: Readonly<Model>): boolean {
    return m.contexts.length > 2;
  }
  run(m: Model, r: Real): void {
    const c = m.contexts[2 + (this.which % (m.contexts.length - 2))];
    const refusal = guard(m, "MemoryContextDelete", c, true);
    if (refusal !== null) {
      refused(m, r, () => MemoryContextDelete(c.ctx), refusal);
      return;
    }
    MemoryContextDelete(c.ctx);
    expect(c.ctx.deleted).toBe(true);
    m.contexts = m.contexts.filter((x) => !inSubtree(x, c));
    m.chunks = m.chunks.filter((k) => !inSubtree(k.owner, c));
    verify(m, r);
  }
  toString(): string {
    return `delete(${this.which})`;
  }
}

class SetParentCmd implements fc.Command<Model, Real> {
  constructor(
    readonly which: number,
    readonly to: number,
  ) {}
  check(m: Readonly<Model>): boolean {
    return m.contexts.length > 2;
  }
  run(m: Model, r: Real): void {
    const c = m.contexts[2 + (this.which % (m.contexts.length - 2))];
    const p = pick(m.contexts, this.to);
    if (inSubtree(p, c)) {
      expect(() => MemoryContextSetParent(c.ctx, p.ctx)).toThrow(MmgrError);
      return;
    }
    MemoryContextSetParent(c.ctx, p.ctx);
    c.parent = p;
    verify(m, r);
  }
  toString(): string {
    return `setParent(${this.which}, ${this.to})`;
  }
}

const size = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 300 }) },
  { weight: 2, arbitrary: fc.integer({ min: 301, max: 9000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 9001, max: 40000 }) },
);
const index = fc.nat({ max: 1000 });

const commands = fc.commands(
  [
    fc.tuple(index, fc.constantFrom(...KINDS)).map(([p, k]) => new CreateCmd(p, k)),
    fc.tuple(index, size).map(([w, s]) => new AllocCmd(w, s)),
    fc.tuple(index, size).map(([w, s]) => new AllocCmd(w, s)),
    fc.tuple(index, size, fc.boolean()).map(([w, s, b]) => new SwitchAllocCmd(w, s, b)),
    index.map((w) => new FreeCmd(w)),
    fc.tuple(index, size).map(([w, s]) => new ReallocCmd(w, s)),
    index.map((w) => new ResetCmd(w)),
    index.map((w) => new DeleteCmd(w)),
    fc.tuple(index, index).map(([w, t]) => new SetParentCmd(w, t)),
  ],
  { maxCommands: 70, size: "max" },
);

describe("the context tree against a model", () => {
  for (const checking of [false, true]) {
    it(`keeps chunks disjoint and intact, and the tree whole (checking ${checking})`, () => {
      fc.assert(
        fc.property(commands, (cmds) => {
          const heap = Heap.create({ initialSize: 1 << 20, maxSize: 1 << 25, checking });
          const empty = heap.stats().used;
          MemoryContextInit(heap);
          const model: Model = {
            contexts: [
              { ctx: TopMemoryContext!, parent: null, ngx: false },
              { ctx: ErrorContext!, parent: null, ngx: false },
            ],
            chunks: [],
            nextFill: 0,
            current: null as unknown as Ctx,
          };
          model.contexts[1].parent = model.contexts[0];
          model.current = model.contexts[0];
          fc.modelRun(() => ({ model, real: { heap } }), cmds);
          // Tearing the tree down gives every byte back.
          MemoryContextTeardown();
          expect(heap.stats().used).toBe(empty);
          expect(heap.stats().allocations).toBe(0);
          heap.check();
        }),
        { numRuns: 200 },
      );
    });
  }
});
