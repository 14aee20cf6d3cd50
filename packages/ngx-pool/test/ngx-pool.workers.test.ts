import { Heap, InvalidStateError } from "@mmgr/heap";
import { type Chunk, fillChunk, firstBadByte, nextMessage, spawnWorker } from "@mmgr/testing";
import { describe, expect, it } from "vitest";
import {
  CLEANUP_HANDLER,
  CLEANUP_HANDLER_JS,
  NGX_OK,
  NgxPool,
  type NgxPoolStats,
  POOL_EPOCH,
  SIZEOF_NGX_POOL_T,
} from "../src/index.js";

const KiB = 1024;
const MiB = 1024 * KiB;

/** A growable shared heap that starts small, so that a worker makes it grow. */
const sharedHeap = () => Heap.create({ shared: true, initialSize: 256 * KiB, maxSize: 16 * MiB });

/** Allocates `size` bytes from `pool` and writes the pattern of `seed` into them. */
function palloc(pool: NgxPool, size: number, seed: number): Chunk {
  const c = { ptr: pool.palloc(size), size, seed };
  expect(c.ptr).not.toBe(0);
  fillChunk(pool.heap.u8, c);
  return c;
}

interface Report {
  heapModule: string;
  bad: number[];
  badGrown: number[];
  seen: { cleanups: number; handlerWord: number };
  sizeAtAttach: number;
  peak: { heapSize: number; blocks: number; large: number };
  pfreed: boolean;
  firstData: number;
  ranInReset: number[];
  second: { offset: number; data: number };
  heapSize: number;
  stats: NgxPoolStats;
  memAllocated: number;
  chunks: Chunk[];
}

/** Runs test/workers/hand-over.ts on the TypeScript sources; resolves with its report. */
const handOver = (job: object) =>
  nextMessage<Report>(spawnWorker(new URL("./workers/hand-over.ts", import.meta.url), job));

describe("NgxPool handed to a worker and back", () => {
  it("is used there through Heap.attach and NgxPool.attach, then again here", async () => {
    const heap = sharedHeap();
    const size0 = heap.size;
    const used0 = heap.used;
    const pool = NgxPool.create(heap, 4096)!;
    const ran: number[] = [];
    const record = pool.cleanupAdd(16)!; // the pool's first allocation
    record.handler = (data) => ran.push(data);
    expect(record.offset).toBe(pool.offset + SIZEOF_NGX_POOL_T);
    const mine = [1, 100, 1000, 3000, 10_000, 50_000].map((n, i) => palloc(pool, n, 100 + i));
    const text = { ptr: pool.pnalloc(13), size: 13, seed: 106 };
    fillChunk(heap.u8, text);
    mine.push(text);

    const report = await handOver({
      buffer: heap.buffer,
      offset: pool.offset,
      chunks: mine,
      large: mine[4].ptr,
      record: record.offset,
    });

    // The worker ran on the sources, saw every byte written here, and made the heap grow.
    expect(report.heapModule).toMatch(/\/packages\/heap\/src\/index\.ts$/);
    expect(report.bad).toEqual([]);
    expect(report.badGrown).toEqual([]);
    expect(report.sizeAtAttach).toBe(size0);
    expect(report.peak.heapSize).toBeGreaterThan(size0);
    expect(report.peak.blocks).toBeGreaterThan(100);
    expect(report.peak.large).toBe(2 + 8);
    expect(report.pfreed).toBe(true);
    expect(report.chunks.some((c) => c.ptr + c.size > size0)).toBe(true);

    // Cleanups: the worker saw this thread's record, but only its own handler ran in its reset.
    expect(report.seen).toEqual({ cleanups: 1, handlerWord: CLEANUP_HANDLER_JS });
    expect(report.ranInReset).toEqual([report.firstData]);
    expect(ran).toEqual([]);
    // The worker's record after the reset took the place of this thread's.
    expect(report.second.offset).toBe(record.offset);
    expect(() => record.handler).toThrow(
      new InvalidStateError(
        `NgxPoolCleanup.handler: pool at ${pool.offset} was reset since record ${record.offset} was added; its memory is reused (its handler ran, unless the reset was in another worker)`,
      ),
    );

    // This handle's views still end where the heap did; the walking calls catch up.
    expect(heap.u8.length).toBe(size0);
    expect(pool.stats()).toEqual(report.stats);
    expect(pool.memAllocated).toBe(report.memAllocated);
    heap.refresh();
    expect(heap.size).toBe(report.heapSize);
    expect(heap.i32[(pool.offset >> 2) + POOL_EPOCH]).toBe(1);
    for (const c of report.chunks) expect(firstBadByte(heap.u8, c)).toBe(-1);
    pool.check();
    heap.check();

    // And the pool goes on here.
    const large = report.chunks[report.chunks.length - 1];
    expect(pool.pfree(large.ptr)).toBe(NGX_OK);
    const more = [palloc(pool, 500, 7), palloc(pool, 20_000, 8)];
    for (const c of [...report.chunks.slice(0, -1), ...more])
      expect(firstBadByte(heap.u8, c)).toBe(-1);
    expect(pool.stats().cleanups).toBe(1);
    pool.check();
    heap.check();

    // destroy cannot run the worker's handler, and must not run this thread's
    // old one, though its record's offset now holds a record with a handler.
    expect(heap.i32[(record.offset >> 2) + CLEANUP_HANDLER]).toBe(CLEANUP_HANDLER_JS);
    pool.destroy();
    expect(ran).toEqual([]);
    heap.releaseCache();
    heap.check();
    expect(heap.used).toBe(used0);
  });
});

describe("NgxPool between handles of one shared heap, in one thread", () => {
  it("palloc through a handle whose views lag takes the pool's new blocks into view", () => {
    const a = sharedHeap();
    const size0 = a.size;
    const pool = NgxPool.create(a, 4096)!;
    const b = Heap.attach(a.buffer);
    const pb = NgxPool.attach(b, pool.offset);
    const chunks: Chunk[] = [];
    for (let i = 0; i < 300; i++) chunks.push(palloc(pb, 2000, i));
    const blocks = pb.blocks();
    expect(blocks[blocks.length - 1]).toBeGreaterThan(size0);

    expect(a.u8.length).toBe(size0);
    const p = palloc(pool, 50, 300); // fits the room left in `current`, past a's views
    expect(p.ptr).toBeGreaterThan(size0);
    expect(a.u8.length).toBeGreaterThanOrEqual(p.ptr + p.size);
    expect(blocks.some((blk) => p.ptr > blk && p.ptr + p.size <= blk + 4096)).toBe(true);
    expect(firstBadByte(b.u8, p)).toBe(-1);
    pb.check();
    for (const c of chunks) expect(firstBadByte(b.u8, c)).toBe(-1);
  });

  it("runs a cleanup handler only through the heap handle that set it", () => {
    const a = sharedHeap();
    const used0 = a.used;
    const pool = NgxPool.create(a, 1024)!;
    const calls: string[] = [];
    const mine = pool.cleanupAdd(0)!;
    mine.handler = () => calls.push("a: mine");
    const b = Heap.attach(a.buffer);
    const pb = NgxPool.attach(b, pool.offset);
    expect(pb).not.toBe(pool);
    expect(NgxPool.attach(a, pool.offset)).toBe(pool);
    expect(pb.stats().cleanups).toBe(1);

    pb.reset(); // takes a's record off the list unrun
    expect(calls).toEqual([]);
    expect(pool.stats().cleanups).toBe(0);
    expect(() => mine.handler).toThrow(InvalidStateError);
    const theirs = pb.cleanupAdd(0)!;
    expect(theirs.offset).toBe(mine.offset);
    theirs.handler = () => calls.push("b: theirs");
    const again = pool.cleanupAdd(0)!;
    again.handler = () => calls.push("a: again");

    pool.reset(); // a runs its own, not b's, though b's is where a's old record was
    expect(calls).toEqual(["a: again"]);
    const last = pb.cleanupAdd(0)!;
    last.handler = () => calls.push("b: last");
    pb.destroy();
    expect(calls).toEqual(["a: again", "b: last"]);
    expect(pool.destroyed).toBe(true);
    a.releaseCache();
    b.releaseCache();
    expect(a.used).toBe(used0);
  });
});
