/*-------------------------------------------------------------------------
 *
 * ngx-pool.ts
 *	  Adapter for @mmgr/ngx-pool: nginx's request pool on a fresh heap.
 *
 * One pool per scope: a request pool of 4 KiB blocks (nginx's default
 * `request_pool_size`), query and per-tuple pools of NGX_DEFAULT_POOL_SIZE
 * (16 KiB). `palloc` per allocation (above `max`, i.e. 4095 bytes, it is a
 * large allocation from the heap), `cleanupAdd(0)` with a handler,
 * `reset()` per row, `destroy()` at the end of the scope.
 *
 * nginx pools free only large allocations (`ngx_pfree`); small ones live
 * until the pool is reset or destroyed, so the workloads that free single
 * allocations are not served.
 *
 *-------------------------------------------------------------------------
 */

import type { Heap } from "@mmgr/heap";
import { HeapBacked } from "./heap.js";
import {
  type AdapterFactory,
  type AdapterModule,
  type AllocatorOptions,
  BenchOutOfMemory,
  cleanupHandler,
  importPackage,
  type ScopeKind,
  type WorkloadName,
} from "./types.js";

/** What the bench uses of a cleanup record. */
interface NgxCleanupLike {
  handler: ((data: number) => void) | null;
}

/** What the bench uses of an NgxPool. */
interface NgxPoolLike {
  palloc(size: number): number;
  cleanupAdd(size: number): NgxCleanupLike | null;
  reset(): void;
  destroy(): void;
}

interface NgxPoolClass {
  create(heap: Heap, size: number): NgxPoolLike | null;
}

/** nginx's default request_pool_size (ngx_http_core_module.c). */
const REQUEST_POOL_SIZE = 4096;
/** ngx_palloc.h: NGX_DEFAULT_POOL_SIZE. */
const DEFAULT_POOL_SIZE = 16 * 1024;
const MAX_SCOPES = 4;

/** Why the workloads that free single small allocations are not served. */
export const NGX_NOT_SERVED =
  "n/a: nginx pools free only large allocations; small ones live until reset/destroy";

class NgxAllocator extends HeapBacked {
  override readonly scoped = true;
  private readonly pools: (NgxPoolLike | null)[] = new Array(MAX_SCOPES).fill(null);

  constructor(
    private readonly cls: NgxPoolClass,
    options: AllocatorOptions,
  ) {
    super(options);
  }

  alloc(_slot: number, _size: number): void {
    throw new Error(NGX_NOT_SERVED);
  }

  free(_slot: number, _size: number): void {
    throw new Error(NGX_NOT_SERVED);
  }

  realloc(_slot: number, _oldSize: number, _newSize: number): void {
    throw new Error(NGX_NOT_SERVED);
  }

  override scopeOpen(scope: number, kind: ScopeKind): void {
    const size = kind === "request" ? REQUEST_POOL_SIZE : DEFAULT_POOL_SIZE;
    const pool = this.cls.create(this.heap, size);
    if (pool === null) throw new BenchOutOfMemory("NgxPool.create", size);
    this.pools[scope] = pool;
    this.track();
  }

  override scopeAlloc(scope: number, slot: number, size: number): void {
    const p = (this.pools[scope] as NgxPoolLike).palloc(size);
    this.keep(slot, p, "NgxPool.palloc", size);
  }

  override scopeCleanup(scope: number): void {
    const c = (this.pools[scope] as NgxPoolLike).cleanupAdd(0);
    if (c === null) throw new BenchOutOfMemory("NgxPool.cleanupAdd", 0);
    c.handler = cleanupHandler;
    this.track();
  }

  override scopeReset(scope: number): void {
    (this.pools[scope] as NgxPoolLike).reset();
  }

  override scopeClose(scope: number): void {
    (this.pools[scope] as NgxPoolLike).destroy();
    this.pools[scope] = null;
  }

  discard(_count: number, _sizes: Int32Array): void {}
}

function serves(workload: WorkloadName): true | string {
  if (workload === "query" || workload === "request") return true;
  if (workload === "grow")
    return "n/a: nginx pools have no realloc, and free only large allocations";
  return NGX_NOT_SERVED;
}

/** @mmgr/ngx-pool: nginx's pool. */
export const ngxAdapter: AdapterModule = {
  id: "ngx",
  label: "@mmgr/ngx-pool",
  note: "one pool per context: requests 4 KiB blocks (nginx's `request_pool_size`), query/per-tuple 16 KiB; `palloc`, `cleanupAdd(0)`, `reset()` per row, `destroy()`; memory = peak of the heap's `used`",
  memory: "tracked",
  load: async (): Promise<AdapterFactory | string> => {
    const mod = await importPackage("@mmgr/ngx-pool");
    if (typeof mod === "string") return mod;
    const cls = mod.NgxPool as NgxPoolClass | undefined;
    if (typeof cls?.create !== "function")
      return "skipped: @mmgr/ngx-pool does not export NgxPool.create yet";
    return {
      serves,
      cap: () => undefined,
      create: (options) => new NgxAllocator(cls, options),
    };
  },
};
