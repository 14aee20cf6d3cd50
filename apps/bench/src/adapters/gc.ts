/*-------------------------------------------------------------------------
 *
 * gc.ts
 *	  Adapters for what a user would do without an arena: `new
 *	  Uint8Array(n)` and `Buffer.allocUnsafe(n)`, leaving "free" to the
 *	  garbage collector.
 *
 * Each live allocation is an object in a preallocated JS array of slots;
 * free drops it (the slot gets a shared empty array, so the array stays
 * packed and monomorphic); realloc allocates the new size and copies. The
 * garbage collector's work lands wherever it runs, inside the timed
 * samples like any allocator's cost.
 *
 * Memory is approximate: the growth of the process's `arrayBuffers`
 * (off-heap backing stores) plus `heapUsed` (the array objects, and the
 * backing stores of small typed arrays that V8 keeps on the JS heap),
 * sampled at the workload's points of most live memory in an untimed pass
 * after a full GC. Garbage not yet collected counts: it is memory the
 * process holds.
 *
 *-------------------------------------------------------------------------
 */

import {
  type AdapterFactory,
  type AdapterModule,
  type AllocatorOptions,
  UnscopedAllocator,
  type VariantInfo,
} from "./types.js";

/** Bytes the process holds in ArrayBuffers and on the JS heap. */
export function processBytes(): number {
  const m = process.memoryUsage();
  return m.arrayBuffers + m.heapUsed;
}

const EMPTY_U8 = new Uint8Array(0);

/** `new Uint8Array(n)`; realloc is a new array and `set`. */
class Uint8ArrayAllocator extends UnscopedAllocator {
  private readonly slots: Uint8Array[];

  constructor(options: AllocatorOptions) {
    super();
    this.slots = new Array<Uint8Array>(options.slots).fill(EMPTY_U8);
  }

  alloc(slot: number, size: number): void {
    this.slots[slot] = new Uint8Array(size);
  }

  free(slot: number, _size: number): void {
    this.slots[slot] = EMPTY_U8;
  }

  realloc(slot: number, oldSize: number, newSize: number): void {
    const old = this.slots[slot];
    const next = new Uint8Array(newSize);
    next.set(oldSize <= newSize ? old : old.subarray(0, newSize));
    this.slots[slot] = next;
  }

  discard(count: number, _sizes: Int32Array): void {
    this.slots.fill(EMPTY_U8, 0, count);
  }

  taken(): number {
    return processBytes();
  }

  peak(): number {
    return -1;
  }

  dispose(): void {
    this.slots.fill(EMPTY_U8);
  }
}

const EMPTY_BUF = Buffer.alloc(0);

/** `Buffer.allocUnsafe(n)` (Node's 8 KiB pool below 4 KiB); realloc is a new buffer and `copy`. */
class BufferAllocator extends UnscopedAllocator {
  private readonly slots: Buffer[];

  constructor(options: AllocatorOptions) {
    super();
    this.slots = new Array<Buffer>(options.slots).fill(EMPTY_BUF);
  }

  alloc(slot: number, size: number): void {
    this.slots[slot] = Buffer.allocUnsafe(size);
  }

  free(slot: number, _size: number): void {
    this.slots[slot] = EMPTY_BUF;
  }

  realloc(slot: number, oldSize: number, newSize: number): void {
    const old = this.slots[slot];
    const next = Buffer.allocUnsafe(newSize);
    old.copy(next, 0, 0, Math.min(oldSize, newSize));
    this.slots[slot] = next;
  }

  discard(count: number, _sizes: Int32Array): void {
    this.slots.fill(EMPTY_BUF, 0, count);
  }

  taken(): number {
    return processBytes();
  }

  peak(): number {
    return -1;
  }

  dispose(): void {
    this.slots.fill(EMPTY_BUF);
  }
}

/** Units per sample for the GC peers where a full sample would take seconds. */
function cap(v: VariantInfo, quick: boolean): number | undefined {
  if (quick) return undefined;
  if (v.workload === "query" || v.workload === "request") return Math.ceil(v.units / 10);
  if (v.workload === "grow") return Math.ceil(v.units / 10);
  return undefined;
}

/** `new Uint8Array(n)`: the garbage collector as allocator. */
export const uint8ArrayAdapter: AdapterModule = {
  id: "u8",
  label: "new Uint8Array",
  note: "`new Uint8Array(n)` per allocation, free = drop the reference (GC); memory ≈ sampled growth of arrayBuffers + heapUsed",
  memory: "sampled",
  load: async (): Promise<AdapterFactory> => ({
    serves: () => true,
    cap,
    create: (options) => new Uint8ArrayAllocator(options),
  }),
};

/** `Buffer.allocUnsafe(n)`: Node's pooled allocator. */
export const bufferAdapter: AdapterModule = {
  id: "buffer",
  label: "Buffer.allocUnsafe",
  note: "`Buffer.allocUnsafe(n)` (slices of Node's 8 KiB pool below 4 KiB), free = drop the reference (GC); memory ≈ sampled growth of arrayBuffers + heapUsed",
  memory: "sampled",
  load: async (): Promise<AdapterFactory> => ({
    serves: () => true,
    cap,
    create: (options) => new BufferAllocator(options),
  }),
};
