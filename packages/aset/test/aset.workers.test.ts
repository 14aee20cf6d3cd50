import { Heap, InvalidStateError } from "@mmgr/heap";
import { type Chunk, fillChunk, firstBadByte, nextMessage, spawnWorker } from "@mmgr/testing";
import { describe, expect, it } from "vitest";
import {
  ALLOC_BLOCKHDRSZ,
  ALLOC_CHUNKHDRSZ,
  ALLOCSET_DEFAULT_SIZES,
  AllocSet,
  type AllocSetCounters,
} from "../src/index.js";

const KiB = 1024;
const MiB = 1024 * KiB;

/** A growable shared heap that starts small, so that a worker makes it grow. */
const sharedHeap = () => Heap.create({ shared: true, initialSize: 256 * KiB, maxSize: 16 * MiB });

/** Allocates `size` bytes from `set` and writes the pattern of `seed` into them. */
function alloc(set: AllocSet, size: number, seed: number): Chunk {
  const c = { ptr: set.alloc(size), size, seed };
  expect(c.ptr).not.toBe(0);
  fillChunk(set.heap.u8, c);
  return c;
}

interface Report {
  heapModule: string;
  name: string;
  bad: number[];
  badGrown: number[];
  sizeAtAttach: number;
  peak: { heapSize: number; blocks: number; memAllocated: number };
  heapSize: number;
  stats: AllocSetCounters;
  statsString: string;
  memAllocated: number;
  nextBlockSize: number;
  chunks: Chunk[];
}

/** Runs test/workers/hand-over.ts on the TypeScript sources; resolves with its report. */
const handOver = (job: object) =>
  nextMessage<Report>(spawnWorker(new URL("./workers/hand-over.ts", import.meta.url), job));

describe("AllocSet handed to a worker and back", () => {
  it("is used there through Heap.attach and AllocSet.attach, then again here", async () => {
    const heap = sharedHeap();
    const size0 = heap.size;
    const used0 = heap.used;
    const set = AllocSet.create(heap, "HandOver", ALLOCSET_DEFAULT_SIZES);
    const mine = [0, 7, 100, 500, 4000, 8192, 20_000].map((n, i) => alloc(set, n, 100 + i));

    const report = await handOver({ buffer: heap.buffer, offset: set.offset, chunks: mine });

    // The worker ran on the sources, saw every byte written here, and made the heap grow.
    expect(report.heapModule).toMatch(/\/packages\/heap\/src\/index\.ts$/);
    expect(report.bad).toEqual([]);
    expect(report.badGrown).toEqual([]);
    expect(report.name).toBe(""); // names stay with the handle that set them
    expect(report.sizeAtAttach).toBe(size0);
    expect(report.peak.heapSize).toBeGreaterThan(size0);
    expect(report.peak.blocks).toBeGreaterThan(5);
    expect(report.heapSize).toBeGreaterThanOrEqual(report.peak.heapSize);
    expect(report.chunks.some((c) => c.ptr + c.size > size0)).toBe(true);

    // This handle's views still end where the heap did; the walking calls catch up.
    expect(heap.u8.length).toBe(size0);
    expect(set.stats()).toEqual(report.stats);
    expect(set.statsString()).toBe(report.statsString);
    expect(set.memAllocated).toBe(report.memAllocated);
    expect(set.nextBlockSize).toBe(report.nextBlockSize);
    expect(set.name).toBe("HandOver");
    heap.refresh();
    expect(heap.size).toBe(report.heapSize);
    for (const c of report.chunks) expect(firstBadByte(heap.u8, c)).toBe(-1);
    set.check();
    heap.check();

    // And the set goes on here: frees, a realloc that moves, new chunks.
    const moved = report.chunks[3];
    const np = set.realloc(moved.ptr, 3000);
    expect(np).not.toBe(moved.ptr);
    expect(firstBadByte(heap.u8, { ...moved, ptr: np })).toBe(-1);
    set.free(report.chunks[0].ptr);
    set.free(report.chunks[report.chunks.length - 1].ptr); // a dedicated block
    const more = [alloc(set, 1500, 7), alloc(set, 50_000, 8)];
    for (const c of [...report.chunks.slice(4, -1), ...more])
      expect(firstBadByte(heap.u8, c)).toBe(-1);
    set.check();
    heap.check();

    set.delete(); // a default-sized set: kept on this handle's context freelist
    expect(AllocSet.cachedContexts(heap)).toEqual({ default: 1, small: 0 });
    expect(AllocSet.releaseCachedContexts(heap)).toBe(1);
    heap.releaseCache();
    heap.check();
    expect(heap.used).toBe(used0);
  });
});

describe("AllocSet between handles of one shared heap, in one thread", () => {
  it("alloc through a handle whose views lag takes the set's new memory into view", () => {
    const a = sharedHeap();
    const size0 = a.size;
    const set = AllocSet.create(a, "Lagging", ALLOCSET_DEFAULT_SIZES);
    const c = Heap.attach(a.buffer);
    const sc = AllocSet.attach(c, set.offset);
    const b = Heap.attach(a.buffer);
    const sb = AllocSet.attach(b, set.offset);
    const chunks: Chunk[] = [];
    for (let i = 0; i < 600; i++) chunks.push(alloc(sb, 1000, i));
    const active = sb.blocks()[0];
    expect(active.block + active.size).toBeGreaterThan(size0);

    // The active block: past a's views.
    expect(a.u8.length).toBe(size0);
    const p = alloc(set, 1000, 600);
    expect(p.ptr).toBeGreaterThan(active.block);
    expect(p.ptr + p.size).toBeLessThanOrEqual(active.block + active.size);
    expect(a.u8.length).toBeGreaterThanOrEqual(p.ptr + p.size);
    expect(firstBadByte(b.u8, p)).toBe(-1);

    // A freelist head: past c's views.
    const far = chunks.find((ch) => ch.ptr > size0)!;
    sb.free(far.ptr);
    expect(c.u8.length).toBe(size0);
    expect(sc.alloc(1000)).toBe(far.ptr);
    sb.check();
    for (const ch of chunks) if (ch !== far) expect(firstBadByte(b.u8, ch)).toBe(-1);
  });

  it("alloc links a dedicated block from the handle's cache under an active block past its views", () => {
    const a = sharedHeap();
    const size0 = a.size;
    const set = AllocSet.create(a, "Tiny", {
      minContextSize: 0,
      initBlockSize: 1024,
      maxBlockSize: 1024,
    });
    expect(set.allocChunkLimit).toBe(128);
    set.free(set.alloc(200)); // its dedicated block goes into a's cache of small blocks
    const b = Heap.attach(a.buffer);
    const sb = AllocSet.attach(b, set.offset);
    for (let i = 0; i < 2500; i++) sb.alloc(128);
    expect(sb.blocks()[0].block).toBeGreaterThan(size0);
    expect(a.u8.length).toBe(size0);
    const p = set.alloc(200); // heap.malloc serves it from the cache, without a refresh
    expect(sb.blocks()[1]).toMatchObject({
      block: p - ALLOC_BLOCKHDRSZ - ALLOC_CHUNKHDRSZ,
      dedicated: true,
    });
    sb.check();
  });

  it("attach finds a set whose header lies past the heap handle's views", () => {
    const a = sharedHeap();
    const size0 = a.size;
    const b = Heap.attach(a.buffer);
    const big = AllocSet.create(b, "Big", {
      minContextSize: 0,
      initBlockSize: 512 * KiB,
      maxBlockSize: 8 * MiB,
    });
    const p = alloc(big, 300, 1);
    expect(big.offset + 512 * KiB).toBeGreaterThan(size0);
    expect(a.u8.length).toBe(size0);
    const there = AllocSet.attach(a, big.offset);
    expect(there.memAllocated).toBe(512 * KiB);
    expect(firstBadByte(a.u8, p)).toBe(-1);
    there.free(p.ptr);
    there.check();
  });

  it("keeps names, idents and context freelists with the heap handle", () => {
    const a = sharedHeap();
    const used0 = a.used;
    const set = AllocSet.create(a, "Mine", ALLOCSET_DEFAULT_SIZES);
    set.ident = "relation 16384";
    const b = Heap.attach(a.buffer);
    const sb = AllocSet.attach(b, set.offset);
    expect(sb).not.toBe(set);
    expect(AllocSet.attach(b, set.offset)).toBe(sb);
    expect(AllocSet.attach(a, set.offset)).toBe(set);
    expect(sb.name).toBe("");
    expect(sb.ident).toBeUndefined();
    sb.alloc(100);

    sb.delete(); // onto b's context freelist, not a's
    expect(set.deleted).toBe(true);
    expect(() => set.alloc(8)).toThrow(
      new InvalidStateError(
        `alloc(): memory context "Mine" (AllocSet at ${set.offset}) has been deleted`,
      ),
    );
    expect(AllocSet.cachedContexts(b)).toEqual({ default: 1, small: 0 });
    expect(AllocSet.cachedContexts(a)).toEqual({ default: 0, small: 0 });
    const other = AllocSet.create(a, "Other", ALLOCSET_DEFAULT_SIZES);
    expect(other.offset).not.toBe(set.offset);
    const reused = AllocSet.create(b, "Reused", ALLOCSET_DEFAULT_SIZES);
    expect(reused.offset).toBe(set.offset);
    expect(() => set.alloc(8)).toThrow(InvalidStateError); // a new incarnation, not a's set

    reused.delete();
    other.delete();
    expect(AllocSet.releaseCachedContexts(b)).toBe(1);
    expect(AllocSet.releaseCachedContexts(a)).toBe(1);
    a.releaseCache();
    b.releaseCache();
    a.check();
    expect(a.used).toBe(used0);
  });
});
