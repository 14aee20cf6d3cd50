import { Heap, HeapCorruptionError, InvalidStateError } from "@mmgr/heap";
import { describe, expect, it } from "vitest";
import {
  CLEANUP_DATA,
  CLEANUP_HANDLER,
  CLEANUP_HANDLER_JS,
  CLEANUP_NEXT,
  D_END,
  D_FAILED,
  D_LAST,
  D_NEXT,
  LARGE_ALLOC,
  LARGE_SIZE,
  NGX_ALIGNMENT,
  NGX_DECLINED,
  NGX_DEFAULT_POOL_SIZE,
  NGX_MAX_ALLOC_FROM_POOL,
  NGX_MIN_POOL_SIZE,
  NGX_OK,
  NGX_PAGESIZE,
  NGX_POOL_ALIGNMENT,
  NGX_POOL_FAILED_LIMIT,
  NGX_POOL_LARGE_SCAN,
  NGX_POOL_MAGIC,
  NgxPool,
  NgxPoolCleanup,
  POOL_CHAIN,
  POOL_CLEANUP,
  POOL_CURRENT,
  POOL_LARGE,
  POOL_MAGIC,
  POOL_SERIAL,
  SIZEOF_NGX_POOL_CLEANUP_T,
  SIZEOF_NGX_POOL_DATA_T,
  SIZEOF_NGX_POOL_LARGE_T,
  SIZEOF_NGX_POOL_T,
  WIPE_BYTE,
} from "../src/index.js";

const SIZE = 1024;
const MAX = SIZE - SIZEOF_NGX_POOL_T; // 944

function word(heap: Heap, struct: number, slot: number): number {
  return heap.i32[(struct >> 2) + slot];
}

function setup(checking = true, size = SIZE) {
  const heap = Heap.create({ initialSize: 1 << 20, checking });
  const before = heap.stats().used;
  const pool = NgxPool.create(heap, size)!;
  return { heap, pool, before };
}

describe("constants", () => {
  it("are nginx's (LP64, 4 KB pages)", () => {
    expect(NGX_PAGESIZE).toBe(4096);
    expect(NGX_MAX_ALLOC_FROM_POOL).toBe(NGX_PAGESIZE - 1);
    expect(NGX_DEFAULT_POOL_SIZE).toBe(16 * 1024);
    expect(NGX_POOL_ALIGNMENT).toBe(16);
    expect(NGX_ALIGNMENT).toBe(8);
    expect(NGX_MIN_POOL_SIZE).toBe(
      Math.ceil((SIZEOF_NGX_POOL_T + 2 * SIZEOF_NGX_POOL_LARGE_T) / NGX_POOL_ALIGNMENT) *
        NGX_POOL_ALIGNMENT,
    );
    expect(NGX_OK).toBe(0);
    expect(NGX_DECLINED).toBe(-5);
    expect(NGX_POOL_FAILED_LIMIT).toBe(4);
    expect(NGX_POOL_LARGE_SCAN).toBe(5);
  });

  it("keeps nginx's LP64 struct sizes", () => {
    expect(SIZEOF_NGX_POOL_T).toBe(80);
    expect(SIZEOF_NGX_POOL_DATA_T).toBe(32);
    expect(SIZEOF_NGX_POOL_LARGE_T).toBe(16);
    expect(SIZEOF_NGX_POOL_CLEANUP_T).toBe(24);
  });
});

describe("NgxPool.create", () => {
  it("gets a 16-aligned heap block of the given size and writes ngx_pool_t at its start", () => {
    const { heap, pool, before } = setup();
    expect(pool.offset % NGX_POOL_ALIGNMENT).toBe(0);
    expect(heap.usableSize(pool.offset)).toBe(SIZE); // exact in checking mode
    expect(heap.stats().used).toBeGreaterThan(before + SIZE);
    expect(word(heap, pool.offset, POOL_MAGIC)).toBe(NGX_POOL_MAGIC);
    expect(word(heap, pool.offset, POOL_SERIAL)).not.toBe(0);
    expect(pool.blockSize).toBe(SIZE);
    expect(pool.memAllocated).toBe(SIZE);
    expect(pool.destroyed).toBe(false);
    expect(pool.checking).toBe(true);
    expect(pool.stats()).toEqual({
      blocks: 1,
      currentBlock: 0,
      failed: [0],
      large: 0,
      largeLinks: 0,
      largeBytes: 0,
      smallUsed: 0,
      smallFree: SIZE - SIZEOF_NGX_POOL_T,
      cleanups: 0,
      memAllocated: SIZE,
    });
  });

  it("defaults to NGX_DEFAULT_POOL_SIZE", () => {
    const heap = Heap.create();
    const pool = NgxPool.create(heap)!;
    expect(pool.blockSize).toBe(NGX_DEFAULT_POOL_SIZE);
    expect(pool.max).toBe(NGX_MAX_ALLOC_FROM_POOL);
  });

  it("returns null when the heap cannot supply the block, as ngx_create_pool returns NULL", () => {
    const heap = Heap.create({ initialSize: 8192, maxSize: 8192 });
    const used = heap.stats().used;
    expect(NgxPool.create(heap, 16 * 1024)).toBeNull();
    expect(heap.stats().used).toBe(used);
    heap.check();
  });

  it("gives two pools on one heap distinct blocks", () => {
    const heap = Heap.create();
    const a = NgxPool.create(heap, SIZE)!;
    const b = NgxPool.create(heap, SIZE)!;
    expect(Math.abs(a.offset - b.offset)).toBeGreaterThanOrEqual(SIZE);
    expect(a.palloc(8)).toBe(a.offset + SIZEOF_NGX_POOL_T);
    expect(b.palloc(8)).toBe(b.offset + SIZEOF_NGX_POOL_T);
  });
});

describe("NgxPool.palloc / pnalloc / pcalloc (small)", () => {
  it("puts two pnalloc(3) 3 bytes apart and two palloc(100) 104 apart", () => {
    const { pool } = setup();
    const a = pool.pnalloc(3);
    const b = pool.pnalloc(3);
    expect(b - a).toBe(3);
    const c = pool.palloc(100);
    expect(c % NGX_ALIGNMENT).toBe(0);
    expect(c).toBe(pool.offset + SIZEOF_NGX_POOL_T + NGX_ALIGNMENT); // 86 aligned up to 88
    const d = pool.palloc(100);
    expect(d - c).toBe(Math.ceil(100 / NGX_ALIGNMENT) * NGX_ALIGNMENT);
    expect(d - c).toBe(104);
  });

  it("returns d.last aligned for palloc(0) and moves nothing else", () => {
    const { heap, pool } = setup();
    pool.pnalloc(5);
    const p = pool.palloc(0);
    expect(p).toBe(pool.offset + SIZEOF_NGX_POOL_T + NGX_ALIGNMENT);
    expect(word(heap, pool.offset, D_LAST)).toBe(p);
    expect(pool.pnalloc(0)).toBe(p);
  });

  it("fills the first block exactly: a request of all that is left fits, one byte more goes to a new block", () => {
    const { heap, pool } = setup();
    expect(pool.palloc(MAX)).toBe(pool.offset + SIZEOF_NGX_POOL_T);
    expect(word(heap, pool.offset, D_LAST)).toBe(pool.offset + SIZE);
    const p = pool.pnalloc(1);
    const [, b1] = pool.blocks();
    expect(p).toBe(b1 + SIZEOF_NGX_POOL_DATA_T);
  });

  it("aligns the first allocation of a new block even for pnalloc", () => {
    const { heap, pool } = setup();
    pool.palloc(MAX - 1);
    const p = pool.pnalloc(7);
    const b1 = pool.blocks()[1];
    expect(p).toBe(b1 + SIZEOF_NGX_POOL_DATA_T);
    expect(word(heap, b1, D_LAST)).toBe(b1 + SIZEOF_NGX_POOL_DATA_T + 7);
    expect(pool.pnalloc(3)).toBe(b1 + SIZEOF_NGX_POOL_DATA_T + 7); // and then unaligned
  });

  it("appends blocks of the first block's size, each 16-aligned, and counts them", () => {
    const { heap, pool } = setup();
    for (let i = 0; i < 4; i++) pool.palloc(MAX);
    const blocks = pool.blocks();
    expect(blocks).toHaveLength(4);
    for (const b of blocks) {
      expect(b % NGX_POOL_ALIGNMENT).toBe(0);
      expect(heap.usableSize(b)).toBe(SIZE);
      expect(word(heap, b, D_END)).toBe(b + SIZE);
    }
    expect(word(heap, blocks[3], D_NEXT)).toBe(0);
    expect(pool.memAllocated).toBe(4 * SIZE);
    const s = pool.stats();
    expect(s.blocks).toBe(4);
    // Each further block's allocation starts at +32, so it has 48 bytes more room than b0.
    expect(s.smallUsed).toBe(4 * MAX);
    expect(s.smallFree).toBe(3 * (SIZE - SIZEOF_NGX_POOL_DATA_T - MAX));
  });

  it("takes room from a block after current before making a new one, without aging anything", () => {
    const { heap, pool } = setup();
    pool.palloc(900); // b0: 44 left
    pool.palloc(900); // b1: 1024 - 32 - 900 = 92 left
    expect(pool.stats().blocks).toBe(2);
    const p = pool.palloc(80); // no room in b0, room in b1
    const [b0, b1] = pool.blocks();
    expect(p).toBe(b1 + SIZEOF_NGX_POOL_DATA_T + 904);
    expect(pool.stats().blocks).toBe(2);
    expect(word(heap, b0, D_FAILED)).toBe(0);
    expect(pool.palloc(40)).toBe(b0 + SIZEOF_NGX_POOL_T + 904); // b0 still tried first
  });

  it("ages only blocks that have a successor: the last block is not counted when a new one is appended", () => {
    const { pool } = setup();
    pool.palloc(MAX);
    expect(pool.stats().failed).toEqual([0]);
    pool.palloc(MAX); // b0 is the last block: appending b1 ages nothing
    expect(pool.stats().failed).toEqual([0, 0]);
    pool.palloc(MAX);
    expect(pool.stats().failed).toEqual([1, 0, 0]);
  });

  it("moves current past a block on its sixth failure (failed++ > 4), and never tries it again", () => {
    const { heap, pool } = setup();
    pool.palloc(800); // b0: 144 left
    pool.palloc(MAX); // b1
    for (let i = 1; i <= NGX_POOL_FAILED_LIMIT + 1; i++) {
      pool.palloc(MAX);
      expect(pool.stats().failed[0]).toBe(i);
      expect(pool.stats().currentBlock).toBe(0);
    }
    pool.palloc(MAX); // sixth failure of b0
    expect(pool.stats().failed[0]).toBe(NGX_POOL_FAILED_LIMIT + 2);
    expect(pool.stats().currentBlock).toBe(1);
    const b0 = pool.offset;
    const last = word(heap, b0, D_LAST);
    // 144 bytes are still free in b0, but a request of 8 no longer looks there.
    const p = pool.palloc(8);
    expect(p < b0 || p >= b0 + SIZE).toBe(true);
    expect(word(heap, b0, D_LAST)).toBe(last);
  });

  it("pcalloc zeroes the bytes it returns", () => {
    const { heap, pool } = setup(false);
    const p = pool.palloc(64);
    heap.u8.fill(0xab, p, p + 64);
    pool.reset();
    const q = pool.pcalloc(64);
    expect(q).toBe(p);
    expect([...heap.u8.subarray(q, q + 64)].every((b) => b === 0)).toBe(true);
    const big = pool.pcalloc(3000);
    expect([...heap.u8.subarray(big, big + 3000)].every((b) => b === 0)).toBe(true);
  });

  it("returns 0 and changes nothing when a new block cannot be had", () => {
    const heap = Heap.create({ initialSize: 8192, maxSize: 8192, checking: true });
    const pool = NgxPool.create(heap, 4096)!;
    pool.palloc(pool.max);
    const stats = pool.stats();
    const used = heap.stats().used;
    expect(pool.palloc(8)).toBe(0);
    expect(pool.pnalloc(8)).toBe(0);
    expect(pool.pcalloc(8)).toBe(0);
    expect(pool.stats()).toEqual(stats);
    expect(heap.stats().used).toBe(used);
  });

  it("keeps working when a block makes the heap grow", () => {
    const heap = Heap.create({ initialSize: 1 << 16, maxSize: 1 << 22, checking: true });
    const pool = NgxPool.create(heap, NGX_DEFAULT_POOL_SIZE)!;
    const ptrs: number[] = [];
    for (let i = 0; i < 40; i++) {
      const p = pool.palloc(4000);
      heap.u8.fill(i, p, p + 4000);
      ptrs.push(p);
    }
    expect(heap.size).toBeGreaterThan(1 << 16);
    ptrs.forEach((p, i) => {
      expect(heap.u8[p]).toBe(i);
      expect(heap.u8[p + 3999]).toBe(i);
    });
    pool.check();
    pool.destroy();
    heap.check();
  });
});

describe("NgxPool large allocations", () => {
  it("sends sizes above max to the heap and records them on the large list", () => {
    const { heap, pool } = setup();
    const used = heap.stats().used;
    const p = pool.palloc(MAX + 1);
    expect(heap.usableSize(p)).toBe(MAX + 1);
    expect(pool.largeList()).toEqual([p]);
    const link = word(heap, pool.offset, POOL_LARGE);
    expect(link).toBe(pool.offset + SIZEOF_NGX_POOL_T); // from the small path
    expect(word(heap, link, LARGE_ALLOC)).toBe(p);
    expect(word(heap, link, LARGE_SIZE)).toBe(MAX + 1);
    expect(pool.stats()).toMatchObject({ large: 1, largeLinks: 1, largeBytes: MAX + 1 });
    expect(pool.memAllocated).toBe(SIZE + MAX + 1);
    expect(pool.pfree(p)).toBe(NGX_OK);
    expect(heap.stats().used).toBe(used);
    expect(pool.largeList()).toEqual([0]);
    expect(pool.stats()).toMatchObject({ large: 0, largeLinks: 1, largeBytes: 0 });
    expect(pool.memAllocated).toBe(SIZE);
  });

  it("pnalloc above max is large too", () => {
    const { pool } = setup();
    const p = pool.pnalloc(2000);
    expect(pool.largeList()).toEqual([p]);
  });

  it("pfree declines a small allocation, a pfree'd one and another pool's, and changes nothing", () => {
    const { heap, pool } = setup();
    const other = NgxPool.create(heap, SIZE)!;
    const small = pool.palloc(10);
    const big = pool.palloc(2000);
    const foreign = other.palloc(2000);
    expect(pool.pfree(small)).toBe(NGX_DECLINED);
    expect(pool.pfree(foreign)).toBe(NGX_DECLINED);
    expect(pool.pfree(big + 8)).toBe(NGX_DECLINED);
    expect(pool.pfree(big)).toBe(NGX_OK);
    const used = heap.stats().used;
    expect(pool.pfree(big)).toBe(NGX_DECLINED);
    expect(heap.stats().used).toBe(used);
    expect(other.largeList()).toEqual([foreign]);
  });

  it(`reuses a pfree'd link among the first ${NGX_POOL_LARGE_SCAN} (n++ > 3), not the ${NGX_POOL_LARGE_SCAN + 1}th`, () => {
    const { pool } = setup();
    const big: number[] = [];
    for (let i = 0; i < 7; i++) big.push(pool.palloc(2000));
    // list, head first: big6 big5 big4 big3 big2 big1 big0
    expect(pool.pfree(big[2])).toBe(NGX_OK); // link index 4: the 5th, still examined
    const x = pool.palloc(2000);
    expect(pool.largeList()).toEqual([big[6], big[5], big[4], big[3], x, big[1], big[0]]);
    expect(pool.stats().largeLinks).toBe(7);
    expect(pool.pfree(big[1])).toBe(NGX_OK); // link index 5: the 6th, beyond the scan
    const y = pool.palloc(2000);
    expect(pool.largeList()).toEqual([y, big[6], big[5], big[4], big[3], x, 0, big[0]]);
    expect(pool.stats().largeLinks).toBe(8);
  });

  it("frees the large memory and returns 0 when its link cannot be had", () => {
    const heap = Heap.create({ initialSize: 16384, maxSize: 16384, checking: true });
    const pool = NgxPool.create(heap, SIZE)!;
    pool.pnalloc(MAX); // b0 full: a link needs a new block
    const lf = heap.stats().largestFree;
    const filler = heap.malloc(lf - 1050); // leaves room for 1000 bytes, not for a 1024 block
    expect(filler).not.toBe(0);
    const stats = pool.stats();
    const { used, allocations } = heap.stats();
    expect(pool.palloc(1000)).toBe(0);
    expect(pool.pmemalign(1000, 16)).toBe(0);
    expect(pool.stats()).toEqual(stats);
    expect(heap.stats().used).toBe(used);
    expect(heap.stats().allocations).toBe(allocations);
    // The large allocation itself would have fitted: the link was what failed.
    const probe = heap.malloc(1000);
    expect(probe).not.toBe(0);
    heap.free(probe);
    heap.check();
  });

  it("returns 0 and changes nothing when the heap cannot supply the large allocation", () => {
    const heap = Heap.create({ initialSize: 16384, maxSize: 16384, checking: true });
    const pool = NgxPool.create(heap, SIZE)!;
    const stats = pool.stats();
    const used = heap.stats().used;
    expect(pool.palloc(20000)).toBe(0);
    expect(pool.pmemalign(20000, 64)).toBe(0);
    expect(pool.stats()).toEqual(stats);
    expect(heap.stats().used).toBe(used);
  });

  it("pmemalign aligns, always pushes a new link, whatever the size, and pfree gives it back", () => {
    const { heap, pool } = setup();
    const a = pool.palloc(2000);
    expect(pool.pfree(a)).toBe(NGX_OK); // a free link at the head
    const p = pool.pmemalign(10, 4096);
    expect(p % 4096).toBe(0);
    expect(heap.usableSize(p)).toBe(10);
    expect(pool.largeList()).toEqual([p, 0]);
    const q = pool.pmemalign(1, 1);
    expect(pool.largeList()).toEqual([q, p, 0]);
    expect(pool.stats()).toMatchObject({ large: 2, largeLinks: 3, largeBytes: 11 });
    expect(pool.pfree(p)).toBe(NGX_OK);
    expect(pool.largeList()).toEqual([q, 0, 0]);
  });
});

describe("NgxPool.cleanupAdd", () => {
  it("allocates the record and its data from the pool, pushes it at the head, with no handler", () => {
    const { heap, pool } = setup();
    const c = pool.cleanupAdd(10)!;
    expect(c).toBeInstanceOf(NgxPoolCleanup);
    expect(c.offset).toBe(pool.offset + SIZEOF_NGX_POOL_T);
    expect(c.data).toBe(c.offset + SIZEOF_NGX_POOL_CLEANUP_T);
    expect(c.handler).toBeNull();
    expect(word(heap, pool.offset, POOL_CLEANUP)).toBe(c.offset);
    expect(word(heap, c.offset, CLEANUP_HANDLER)).toBe(0);
    expect(word(heap, c.offset, CLEANUP_DATA)).toBe(c.data);
    expect(word(heap, c.offset, CLEANUP_NEXT)).toBe(0);
    const d = pool.cleanupAdd(0)!;
    expect(d.offset).toBe(c.data + 16); // 10 bytes aligned up to 16
    expect(d.data).toBe(0);
    expect(word(heap, pool.offset, POOL_CLEANUP)).toBe(d.offset);
    expect(word(heap, d.offset, CLEANUP_NEXT)).toBe(c.offset);
    expect(pool.stats().cleanups).toBe(2);
  });

  it("marks the handler slot while a JS handler is set", () => {
    const { heap, pool } = setup();
    const c = pool.cleanupAdd(0)!;
    const fn = () => {};
    c.handler = fn;
    expect(c.handler).toBe(fn);
    expect(word(heap, c.offset, CLEANUP_HANDLER)).toBe(CLEANUP_HANDLER_JS);
    c.handler = null;
    expect(c.handler).toBeNull();
    expect(word(heap, c.offset, CLEANUP_HANDLER)).toBe(0);
  });

  it("gives data above max from the large path", () => {
    const { pool } = setup();
    const c = pool.cleanupAdd(3000)!;
    expect(pool.largeList()).toEqual([c.data]);
  });

  it("returns null when the record cannot be had, and when its data cannot", () => {
    const heap = Heap.create({ initialSize: 16384, maxSize: 16384, checking: true });
    const pool = NgxPool.create(heap, 4096)!;
    expect(pool.cleanupAdd(20000)).toBeNull(); // the record is allocated, its data is not
    expect(pool.stats().cleanups).toBe(0);
    // record at +80, 24 bytes: 3992 left; leave 104 of them
    pool.palloc(4096 - SIZEOF_NGX_POOL_T - SIZEOF_NGX_POOL_CLEANUP_T - 104);
    for (let n = 4096; n >= 16; n >>= 1) while (heap.malloc(n) !== 0);
    expect(pool.cleanupAdd(200)).toBeNull(); // data does not fit b0 and no block can be had
    expect(pool.stats().cleanups).toBe(0);
    expect(pool.stats().smallFree).toBe(104 - SIZEOF_NGX_POOL_CLEANUP_T);
    pool.palloc(104 - SIZEOF_NGX_POOL_CLEANUP_T - 16);
    expect(pool.cleanupAdd(0)).toBeNull(); // the record does not fit the 16 left
    expect(pool.stats().smallFree).toBe(16);
  });

  it("runs the handlers newest first with their data at destroy, skipping records without one", () => {
    const { pool } = setup();
    const ran: Array<[string, number]> = [];
    const a = pool.cleanupAdd(8)!;
    a.handler = (data) => ran.push(["a", data]);
    pool.cleanupAdd(8); // no handler
    const c = pool.cleanupAdd(0)!;
    c.handler = (data) => ran.push(["c", data]);
    c.data = 1234;
    pool.destroy();
    expect(ran).toEqual([
      ["c", 1234],
      ["a", a.offset + SIZEOF_NGX_POOL_CLEANUP_T],
    ]);
  });

  it("runs handlers before the large blocks and the blocks are freed", () => {
    const { heap, pool } = setup();
    const big = pool.palloc(3000);
    heap.u8.fill(42, big, big + 3000);
    const c = pool.cleanupAdd(16)!;
    heap.u8.fill(7, c.data, c.data + 16);
    let seen = [0, 0];
    c.handler = (data) => {
      seen = [heap.u8[data], heap.u8[big + 2999]];
      expect(pool.destroyed).toBe(false);
    };
    pool.destroy();
    expect(seen).toEqual([7, 42]);
  });
});

describe("NgxPool.reset", () => {
  it("frees the large allocations, keeps the blocks, and brings heap used back to its value with those blocks", () => {
    const { heap, pool } = setup();
    for (let i = 0; i < 3; i++) pool.palloc(MAX);
    const used = heap.stats().used;
    const allocations = heap.stats().allocations;
    pool.palloc(5000);
    pool.pmemalign(100, 256);
    pool.cleanupAdd(5000);
    expect(heap.stats().used).toBeGreaterThan(used);
    pool.reset();
    expect(heap.stats().used).toBe(used);
    expect(heap.stats().allocations).toBe(allocations);
    expect(pool.stats()).toEqual({
      blocks: 3,
      currentBlock: 0,
      failed: [0, 0, 0],
      large: 0,
      largeLinks: 0,
      largeBytes: 0,
      // nginx's quirk: further blocks restart at block + 80, not + 32.
      smallUsed: 2 * (SIZEOF_NGX_POOL_T - SIZEOF_NGX_POOL_DATA_T),
      smallFree: 3 * (SIZE - SIZEOF_NGX_POOL_T),
      cleanups: 0,
      memAllocated: 3 * SIZE,
    });
    heap.check();
  });

  it("sets every block's d.last to block + 80, as nginx, so a further block's first allocation is at + 80", () => {
    const { heap, pool } = setup();
    pool.palloc(MAX);
    pool.palloc(MAX);
    pool.reset();
    const [b0, b1] = pool.blocks();
    expect(word(heap, b1, D_LAST)).toBe(b1 + SIZEOF_NGX_POOL_T);
    expect(pool.palloc(MAX)).toBe(b0 + SIZEOF_NGX_POOL_T);
    expect(pool.palloc(MAX)).toBe(b1 + SIZEOF_NGX_POOL_T);
    expect(pool.stats().blocks).toBe(2);
  });

  it("resets current, failed and chain", () => {
    const { heap, pool } = setup();
    for (let i = 0; i < 10; i++) pool.palloc(MAX);
    expect(pool.stats().currentBlock).toBeGreaterThan(0);
    heap.i32[(pool.offset >> 2) + POOL_CHAIN] = 0; // chain is never set by this port
    pool.reset();
    expect(word(heap, pool.offset, POOL_CURRENT)).toBe(pool.offset);
    expect(pool.stats().failed.every((f) => f === 0)).toBe(true);
    expect(word(heap, pool.offset, POOL_CHAIN)).toBe(0);
  });

  it("runs the cleanup handlers newest first and empties the list (nginx leaves it dangling)", () => {
    const { heap, pool } = setup();
    const ran: string[] = [];
    pool.cleanupAdd(0)!.handler = () => ran.push("first");
    const second = pool.cleanupAdd(0)!;
    second.handler = () => ran.push("second");
    pool.reset();
    expect(ran).toEqual(["second", "first"]);
    expect(word(heap, pool.offset, POOL_CLEANUP)).toBe(0);
    expect(pool.stats().cleanups).toBe(0);
    pool.destroy();
    expect(ran).toEqual(["second", "first"]); // not run twice
    expect(() => second.handler).toThrow(InvalidStateError);
  });

  it("makes record handles from before it stale", () => {
    const { pool } = setup();
    const c = pool.cleanupAdd(8)!;
    pool.reset();
    const d = pool.cleanupAdd(8)!;
    expect(d.offset).toBe(c.offset);
    expect(() => {
      c.handler = () => {};
    }).toThrow(
      new InvalidStateError(
        `NgxPoolCleanup.handler: pool at ${pool.offset} was reset since record ${c.offset} was added; its memory is reused (its handler ran, unless the reset was in another worker)`,
      ),
    );
    expect(() => c.data).toThrow(InvalidStateError);
    expect(d.handler).toBeNull();
  });

  it("wipes the bytes it releases with 0x7F in checking mode, headers kept", () => {
    const { heap, pool } = setup(true);
    const a = pool.palloc(MAX);
    const b = pool.palloc(MAX);
    heap.u8.fill(1, a, a + MAX);
    heap.u8.fill(2, b, b + MAX);
    pool.reset();
    const [b0, b1] = pool.blocks();
    for (let i = b0 + SIZEOF_NGX_POOL_T; i < b0 + SIZE; i++) expect(heap.u8[i]).toBe(WIPE_BYTE);
    for (let i = b1 + SIZEOF_NGX_POOL_DATA_T; i < b1 + SIZE; i++)
      expect(heap.u8[i]).toBe(WIPE_BYTE);
    expect(word(heap, b1, D_END)).toBe(b1 + SIZE);
    pool.check();
  });

  it("leaves the released bytes alone without checking mode", () => {
    const { heap, pool } = setup(false);
    const a = pool.palloc(16);
    heap.u8.fill(9, a, a + 16);
    pool.reset();
    expect(heap.u8[a]).toBe(9);
  });

  it("finishes and rethrows when a handler throws; several errors become an AggregateError", () => {
    const { heap, pool } = setup();
    pool.palloc(5000);
    const used = heap.stats().used;
    const ran: string[] = [];
    pool.cleanupAdd(0)!.handler = () => ran.push("a");
    pool.cleanupAdd(0)!.handler = () => {
      throw new Error("boom");
    };
    expect(() => pool.reset()).toThrow("boom");
    expect(ran).toEqual(["a"]);
    expect(pool.stats().large).toBe(0);
    expect(heap.stats().used).toBeLessThan(used);
    pool.cleanupAdd(0)!.handler = () => {
      throw new Error("x");
    };
    pool.cleanupAdd(0)!.handler = () => {
      throw new Error("y");
    };
    let caught: unknown;
    try {
      pool.reset();
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(AggregateError);
    expect((caught as AggregateError).errors.map((e: Error) => e.message)).toEqual(["y", "x"]);
    expect(pool.stats().cleanups).toBe(0);
  });

  it("stops when a handler destroys the pool", () => {
    const { heap, pool, before } = setup();
    pool.cleanupAdd(0)!.handler = () => pool.destroy();
    pool.reset();
    expect(pool.destroyed).toBe(true);
    expect(heap.stats().used).toBe(before);
    heap.check();
  });
});

describe("NgxPool.destroy", () => {
  it("brings heap used back to its value before create", () => {
    const { heap, pool, before } = setup();
    for (let i = 0; i < 5; i++) pool.palloc(MAX);
    for (let i = 0; i < 8; i++) pool.palloc(2000 + i);
    pool.pfree(pool.largeList()[3]);
    pool.pmemalign(64, 128);
    pool.cleanupAdd(3000);
    pool.destroy();
    expect(heap.stats().used).toBe(before);
    expect(heap.stats().allocations).toBe(0);
    expect(pool.destroyed).toBe(true);
    heap.check();
  });

  it("clears the pool's magic, so every handle on it is dead", () => {
    const { heap, pool } = setup();
    const other = NgxPool.attach(heap, pool.offset);
    other.destroy();
    expect(pool.destroyed).toBe(true);
    expect(word(heap, pool.offset, POOL_MAGIC)).not.toBe(NGX_POOL_MAGIC);
    expect(() => pool.palloc(8)).toThrow(InvalidStateError);
  });

  it("catches a stale handle when a new pool takes the same offset", () => {
    const heap = Heap.create({ checking: false });
    const a = NgxPool.create(heap, SIZE)!;
    const offset = a.offset;
    a.destroy();
    const b = NgxPool.create(heap, SIZE)!;
    expect(b.offset).toBe(offset);
    expect(a.destroyed).toBe(true);
    expect(() => a.palloc(8)).toThrow(InvalidStateError);
    expect(b.palloc(8)).toBe(offset + SIZEOF_NGX_POOL_T);
  });

  it("finishes and rethrows when a handler throws", () => {
    const { heap, pool, before } = setup();
    const ran: string[] = [];
    pool.cleanupAdd(0)!.handler = () => ran.push("first");
    pool.cleanupAdd(0)!.handler = () => {
      throw new Error("boom");
    };
    pool.palloc(5000);
    expect(() => pool.destroy()).toThrow("boom");
    expect(ran).toEqual(["first"]);
    expect(pool.destroyed).toBe(true);
    expect(heap.stats().used).toBe(before);
  });

  it("stops the outer call when a handler destroys the pool itself", () => {
    const { heap, pool, before } = setup();
    const ran: string[] = [];
    pool.cleanupAdd(0)!.handler = () => ran.push("oldest");
    pool.cleanupAdd(0)!.handler = () => pool.destroy();
    pool.palloc(5000);
    pool.destroy();
    expect(ran).toEqual(["oldest"]);
    expect(pool.destroyed).toBe(true);
    expect(heap.stats().used).toBe(before);
    heap.check();
  });

  it("lets a handler allocate from the pool while it is being destroyed", () => {
    const { heap, pool, before } = setup();
    let p = -1;
    pool.cleanupAdd(0)!.handler = () => {
      p = pool.palloc(3000);
    };
    pool.destroy();
    expect(p).toBeGreaterThan(0);
    expect(heap.stats().used).toBe(before);
  });
});

describe("NgxPool.attach", () => {
  it("returns the same handle for the pool's offset", () => {
    const { heap, pool } = setup();
    expect(NgxPool.attach(heap, pool.offset)).toBe(pool);
  });

  it("shares the cleanup handlers between handles", () => {
    const { heap, pool } = setup();
    const ran: number[] = [];
    pool.cleanupAdd(0)!.handler = () => ran.push(1);
    const again = NgxPool.attach(heap, pool.offset);
    again.cleanupAdd(0)!.handler = () => ran.push(2);
    again.destroy();
    expect(ran).toEqual([2, 1]);
  });

  it("works on a pool found by its offset in the arena", () => {
    const { heap, pool } = setup();
    const p = pool.palloc(16);
    heap.i32[p >> 2] = pool.offset; // e.g. a struct that records its pool
    const found = NgxPool.attach(heap, heap.i32[p >> 2]);
    expect(found.palloc(8)).toBe(p + 16);
  });
});

describe("NgxPool.check", () => {
  it("passes on a pool in use", () => {
    const { pool } = setup();
    pool.palloc(100);
    pool.palloc(5000);
    pool.cleanupAdd(10)!.handler = () => {};
    for (let i = 0; i < 8; i++) pool.palloc(MAX);
    expect(() => pool.check()).not.toThrow();
  });

  it("finds a d.last beyond d.end", () => {
    const { heap, pool } = setup();
    pool.palloc(MAX);
    pool.palloc(MAX);
    const b1 = pool.blocks()[1];
    heap.i32[(b1 >> 2) + D_LAST] = b1 + SIZE + 8;
    expect(() => pool.check()).toThrow(
      new HeapCorruptionError(
        `NgxPool.check(): d.last ${b1 + SIZE + 8} at offset ${b1 + D_LAST * 4} (pool at ${pool.offset})`,
        b1,
      ),
    );
  });

  it("finds a current that is not a block", () => {
    const { heap, pool } = setup();
    heap.i32[(pool.offset >> 2) + POOL_CURRENT] = pool.offset + 64;
    expect(() => pool.check()).toThrow(HeapCorruptionError);
  });

  it("finds a large allocation that is no longer live in the heap", () => {
    const { heap, pool } = setup();
    const p = pool.palloc(3000);
    heap.free(p); // behind the pool's back
    expect(() => pool.check()).toThrow(/large allocation \d+ is not live in the heap/);
  });

  it("finds a negative failed counter and a damaged cleanup handler word", () => {
    const { heap, pool } = setup();
    heap.i32[(pool.offset >> 2) + D_FAILED] = -1;
    expect(() => pool.check()).toThrow(/d\.failed -1/);
    heap.i32[(pool.offset >> 2) + D_FAILED] = 0;
    const c = pool.cleanupAdd(0)!;
    heap.i32[(c.offset >> 2) + CLEANUP_HANDLER] = 77;
    expect(() => pool.check()).toThrow(/cleanup handler word 77/);
  });

  it("runs before reset and destroy in checking mode, which then change nothing", () => {
    const { heap, pool } = setup(true);
    const p = pool.palloc(3000);
    pool.palloc(MAX);
    pool.palloc(MAX);
    const b1 = pool.blocks()[1];
    heap.i32[(b1 >> 2) + D_END] = b1 + 8;
    const used = heap.stats().used;
    expect(() => pool.reset()).toThrow(HeapCorruptionError);
    expect(() => pool.destroy()).toThrow(HeapCorruptionError);
    expect(heap.stats().used).toBe(used);
    expect(pool.largeList()).toEqual([p]);
    expect(pool.destroyed).toBe(false);
  });
});
