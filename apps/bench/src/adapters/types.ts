/*-------------------------------------------------------------------------
 *
 * types.ts
 *	  What the bench asks of an allocator: slot-based alloc/free/realloc,
 *	  optional scopes (contexts, pools) with reset and destroy, and a way
 *	  to read the bytes it took.
 *
 * Workloads never see a pointer: they name a slot, and the adapter keeps
 * what its allocator returned there (an Int32Array of offsets for the
 * arena allocators, a preallocated JS array of objects for the GC peers).
 * So one workload loop drives every allocator with the same stream, and
 * each allocator runs in a process of its own (see runner.ts), where that
 * loop only ever sees one adapter class.
 *
 *-------------------------------------------------------------------------
 */

/** The six workloads of issue 7. */
export type WorkloadName = "churn" | "query" | "request" | "nodes" | "mixed" | "grow";

/** What a scope stands for: PostgreSQL's per-query and per-tuple contexts, nginx's request pool. */
export type ScopeKind = "query" | "tuple" | "request";

/**
 * How an adapter's memory figure is obtained, in an untimed memory pass:
 * `tracked`, exact, the peak of the bytes taken from its arena read after
 * every allocation; `sampled`, approximate, the process's ArrayBuffer and
 * JS heap growth sampled at the workload's points of most live memory.
 */
export type MemoryMethod = "tracked" | "sampled";

/** What a workload variant tells an adapter about itself, to decide on a reduced run. */
export interface VariantInfo {
  /** The workload. */
  workload: WorkloadName;
  /** Stable key of the variant, e.g. `churn/shuffled/64`. */
  key: string;
  /** Units (batches, rows, requests, steps, vectors) in one full sample. */
  units: number;
  /** Live allocations held in the steady state (0 where the workload has none). */
  live: number;
}

/** What an allocator instance is created with. */
export interface AllocatorOptions {
  /** Number of slots the workload uses (0 .. slots - 1). */
  slots: number;
  /** The peak bytes the workload keeps live, to size fixed-size pools. */
  peakLiveBytes: number;
  /**
   * Memory pass: track the peak exactly even where it costs time (this
   * instance is not timed).
   */
  tracking: boolean;
}

/**
 * One allocator instance driven by a workload. Sizes are passed back on
 * free and realloc because some allocators (SGI's `deallocate(p, n)`)
 * need them; the workload knows them from its stream.
 */
export interface Allocator {
  /**
   * Whether it has scopes freed in one call (reset/destroy). Workloads
   * with scopes then use the scope methods; else they free every
   * allocation of a scope themselves, in allocation order.
   */
  readonly scoped: boolean;
  /** Allocates `size` bytes into `slot`. @throws Error when out of memory. */
  alloc(slot: number, size: number): void;
  /** Frees what `slot` holds (`size` bytes). */
  free(slot: number, size: number): void;
  /** Resizes what `slot` holds from `oldSize` to `newSize`, keeping the contents. */
  realloc(slot: number, oldSize: number, newSize: number): void;
  /** Opens scope number `scope` (a context or pool). */
  scopeOpen(scope: number, kind: ScopeKind): void;
  /** Allocates `size` bytes in `scope` into `slot`. */
  scopeAlloc(scope: number, slot: number, size: number): void;
  /** Registers {@link cleanupHandler} to run when `scope` is reset or closed. */
  scopeCleanup(scope: number): void;
  /** Frees everything allocated in `scope`, keeping it open. */
  scopeReset(scope: number): void;
  /** Frees everything allocated in `scope` and closes it. */
  scopeClose(scope: number): void;
  /** Untimed teardown: frees slots `[0, count)`, whose sizes are `sizes`. */
  discard(count: number, sizes: Int32Array): void;
  /** Bytes taken from its arena (or by the process, for GC peers) right now. */
  taken(): number;
  /** Peak bytes taken since creation when tracked exactly, else -1. */
  peak(): number;
  /** Gives everything back. */
  dispose(): void;
}

/** A loaded adapter: says what it serves, and makes instances. */
export interface AdapterFactory {
  /** `true`, or the reason this workload cannot be served ("n/a: ..."). */
  serves(workload: WorkloadName): true | string;
  /**
   * Units per sample for this variant when this allocator is too slow for
   * the full count (the table marks it), or `undefined` for the full count.
   */
  cap(variant: VariantInfo, quick: boolean): number | undefined;
  /** A fresh instance (fresh heap or pool) for one cell. */
  create(options: AllocatorOptions): Allocator;
}

/** One allocator of the comparison, as the registry lists it. */
export interface AdapterModule {
  /** Short id, used on the command line and in file names: `heap`, `thing`. */
  id: string;
  /** What the table shows: `@mmgr/heap`, `new Uint8Array`. */
  label: string;
  /** How the bench uses it, for the notes under the table. */
  note: string;
  /** Where its memory figure comes from. */
  memory: MemoryMethod;
  /** Loads the package; a string is the reason it is skipped. */
  load(): Promise<AdapterFactory | string>;
}

/** Cleanups run so far; read it so the handler's work cannot be optimized away. */
export const cleanupCounter = { runs: 0 };

/** The cleanup every request registers: nginx's `cln->handler`. */
export function cleanupHandler(): void {
  cleanupCounter.runs++;
}

/** Thrown when an allocator returns NULL inside a workload. */
export class BenchOutOfMemory extends Error {
  constructor(who: string, size: number) {
    super(`${who}: out of memory allocating ${size} bytes`);
    this.name = "BenchOutOfMemory";
  }
}

/**
 * Imports a package by name at run time, so that an adapter whose package
 * is missing or not built is skipped with a reason instead of failing
 * the run (and the bench type-checks without it).
 * @returns the module namespace, or the skip reason
 */
export async function importPackage(specifier: string): Promise<Record<string, unknown> | string> {
  try {
    return (await import(specifier)) as Record<string, unknown>;
  } catch (e) {
    const msg = e instanceof Error ? e.message.split("\n")[0] : String(e);
    return `skipped: ${specifier} could not be loaded (not built or not ready: ${msg})`;
  }
}

/**
 * Base for adapters without scopes: the scope methods are never called
 * for them (workloads free each allocation instead), and throw if they are.
 */
export abstract class UnscopedAllocator implements Allocator {
  readonly scoped: boolean = false;
  abstract alloc(slot: number, size: number): void;
  abstract free(slot: number, size: number): void;
  abstract realloc(slot: number, oldSize: number, newSize: number): void;
  abstract discard(count: number, sizes: Int32Array): void;
  abstract taken(): number;
  abstract peak(): number;
  abstract dispose(): void;
  scopeOpen(_scope: number, _kind: ScopeKind): void {
    throw new Error("no scopes");
  }
  scopeAlloc(_scope: number, _slot: number, _size: number): void {
    throw new Error("no scopes");
  }
  scopeCleanup(_scope: number): void {
    throw new Error("no scopes");
  }
  scopeReset(_scope: number): void {
    throw new Error("no scopes");
  }
  scopeClose(_scope: number): void {
    throw new Error("no scopes");
  }
}
