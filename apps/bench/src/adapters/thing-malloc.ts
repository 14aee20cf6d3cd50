/*-------------------------------------------------------------------------
 *
 * thing-malloc.ts
 *	  Adapter for @thi.ng/malloc's MemPool: the established ArrayBuffer
 *	  malloc on npm, and the bench's main yardstick.
 *
 * Unscoped workloads use one MemPool (malloc/free/realloc) on an
 * ArrayBuffer of 4x the workload's peak live bytes plus 1 MiB (it cannot
 * grow). Scoped workloads use one MemPool per context (query, per-tuple,
 * request) and `freeAll()` as its reset and destroy.
 *
 * MemPool's free searches its list of used blocks and compacts its free
 * list on every call, so it slows down as blocks stay live: from 1,000
 * live on a sample runs fewer steps (the table says how many).
 *
 * MemPool's realloc leaks the old block when it has to move it (it hands
 * the block's own address to free(), which expects a data address, so the
 * block stays on the used list); the adapter frees the old pointer after a
 * move, as a user of MemPool has to, and that free is part of the cost.
 *
 * Memory is the pool's `top` (the end of the bump region) above its
 * initial value, tracked after every malloc in an untimed memory pass.
 *
 *-------------------------------------------------------------------------
 */

import { MemPool } from "@thi.ng/malloc";
import {
  type AdapterFactory,
  type AdapterModule,
  type Allocator,
  type AllocatorOptions,
  BenchOutOfMemory,
  cleanupHandler,
  type ScopeKind,
  type VariantInfo,
} from "./types.js";

/** MemPool's state word holding `top` (pool.js: STATE_TOP). */
const STATE_TOP = 2;
const MAX_SCOPES = 4;
const MIB = 1 << 20;

/** The pool's control words: `stats()` walks both lists, so `top` is read here directly. */
function stateOf(pool: MemPool): Uint32Array {
  return (pool as unknown as { state: Uint32Array }).state;
}

class ThingAllocator implements Allocator {
  readonly scoped = true;
  private readonly main: MemPool;
  private readonly mainState: Uint32Array;
  private readonly initialTop: number;
  private readonly ptrs: Int32Array;
  private readonly pools: (MemPool | null)[] = new Array(MAX_SCOPES).fill(null);
  private readonly scopeStates: (Uint32Array | null)[] = new Array(MAX_SCOPES).fill(null);
  private readonly cleanups = new Int32Array(MAX_SCOPES);
  private readonly scopeSize: number;
  /** The memory pass tracks the peak of `top` after every allocation; the timed run does not. */
  private readonly tracking: boolean;
  private peakTaken = 0;

  constructor(options: AllocatorOptions) {
    this.tracking = options.tracking;
    this.main = new MemPool({ size: Math.ceil((4 * options.peakLiveBytes + MIB) / 8) * 8 });
    this.mainState = stateOf(this.main);
    this.initialTop = this.mainState[STATE_TOP];
    this.scopeSize = Math.ceil((2 * options.peakLiveBytes + MIB) / 8) * 8;
    this.ptrs = new Int32Array(options.slots);
  }

  alloc(slot: number, size: number): void {
    const p = this.main.malloc(size);
    if (p === 0) throw new BenchOutOfMemory("MemPool.malloc", size);
    this.ptrs[slot] = p;
    if (this.tracking) this.track();
  }

  free(slot: number, _size: number): void {
    if (!this.main.free(this.ptrs[slot])) throw new Error("MemPool.free refused a live pointer");
  }

  realloc(slot: number, _oldSize: number, newSize: number): void {
    const old = this.ptrs[slot];
    const p = this.main.realloc(old, newSize);
    if (p === 0) throw new BenchOutOfMemory("MemPool.realloc", newSize);
    // A moving realloc leaks the old block (pool.js reallocBlock passes the block
    // address to free(), which expects a data address); free it as a user must.
    if (p !== old) this.main.free(old);
    this.ptrs[slot] = p;
    if (this.tracking) this.track();
  }

  scopeOpen(scope: number, _kind: ScopeKind): void {
    if (this.pools[scope] === null) {
      const pool = new MemPool({ size: this.scopeSize });
      this.pools[scope] = pool;
      this.scopeStates[scope] = stateOf(pool);
    }
  }

  scopeAlloc(scope: number, slot: number, size: number): void {
    const p = (this.pools[scope] as MemPool).malloc(size);
    if (p === 0) throw new BenchOutOfMemory("MemPool.malloc", size);
    this.ptrs[slot] = p;
    if (this.tracking) this.track();
  }

  scopeCleanup(scope: number): void {
    this.cleanups[scope]++;
  }

  scopeReset(scope: number): void {
    for (let n = this.cleanups[scope]; n > 0; n--) cleanupHandler();
    this.cleanups[scope] = 0;
    (this.pools[scope] as MemPool).freeAll();
  }

  scopeClose(scope: number): void {
    this.scopeReset(scope);
  }

  discard(_count: number, _sizes: Int32Array): void {
    this.main.freeAll(); // freeing 100,000 blocks one by one would take minutes
  }

  taken(): number {
    let t = this.mainState[STATE_TOP] - this.initialTop;
    for (const s of this.scopeStates) if (s !== null) t += s[STATE_TOP] - this.initialTop;
    return t;
  }

  peak(): number {
    return this.peakTaken;
  }

  private track(): void {
    const t = this.taken();
    if (t > this.peakTaken) this.peakTaken = t;
  }

  dispose(): void {}
}

/**
 * Steps x live blocks per sample: a free walks about half the used list,
 * some 3 ns per block, so a sample stays near 100 ms (3,000 steps at
 * 10,000 live, 300 at 100,000).
 */
const STEP_LIVE_BUDGET = 3e7;

function cap(v: VariantInfo, quick: boolean): number | undefined {
  if ((v.workload === "nodes" || v.workload === "mixed") && v.live >= 1000) {
    const steps = Math.max(
      100,
      Math.round((quick ? STEP_LIVE_BUDGET / 10 : STEP_LIVE_BUDGET) / v.live),
    );
    return steps < v.units ? steps : undefined;
  }
  return undefined;
}

const factory: AdapterFactory = {
  serves: () => true,
  cap,
  create: (options) => new ThingAllocator(options),
};

/** @thi.ng/malloc's MemPool. */
export const thingAdapter: AdapterModule = {
  id: "thing",
  label: "@thi.ng/malloc",
  note: "MemPool 6.1 on a fixed ArrayBuffer (4x peak live + 1 MiB); query/request: one MemPool per context, `freeAll()` as reset and destroy; after a realloc that moves, the bench frees the old pointer (MemPool's realloc leaks it); memory = peak `top`",
  memory: "tracked",
  load: async () => factory,
};
