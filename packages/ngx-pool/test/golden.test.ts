// The verified vectors of ORIGINALS.md §2.5: what nginx's own ngx_palloc.c
// printed when driven by a small program (pagesize 4096, LP64). Every
// number here is an offset from the pool or a block, so it must match.

import { Heap } from "@mmgr/heap";
import { describe, expect, it } from "vitest";
import {
  D_END,
  D_FAILED,
  D_LAST,
  D_NEXT,
  NGX_DEFAULT_POOL_SIZE,
  NGX_MAX_ALLOC_FROM_POOL,
  NGX_MIN_POOL_SIZE,
  NGX_POOL_FAILED_LIMIT,
  NgxPool,
  POOL_CHAIN,
  POOL_CLEANUP,
  POOL_CURRENT,
  POOL_LARGE,
  POOL_MAX,
  SIZEOF_NGX_POOL_DATA_T,
  SIZEOF_NGX_POOL_LARGE_T,
  SIZEOF_NGX_POOL_T,
} from "../src/index.js";

function word(heap: Heap, struct: number, slot: number): number {
  return heap.i32[(struct >> 2) + slot];
}

describe.each([false, true])("nginx's verified vectors (checking %s)", (checking) => {
  const fresh = () => Heap.create({ initialSize: 1 << 20, checking });

  it("ngx_create_pool(1024): max 944, d.last at +80, d.end at +1024", () => {
    const heap = fresh();
    const pool = NgxPool.create(heap, 1024)!;
    const b0 = pool.offset;
    expect(pool.max).toBe(944);
    expect(pool.max).toBe(1024 - SIZEOF_NGX_POOL_T);
    expect(word(heap, b0, D_LAST)).toBe(b0 + 80);
    expect(word(heap, b0, D_END)).toBe(b0 + 1024);
    expect(word(heap, b0, D_NEXT)).toBe(0);
    expect(word(heap, b0, D_FAILED)).toBe(0);
    expect(word(heap, b0, POOL_MAX)).toBe(944);
    expect(word(heap, b0, POOL_CURRENT)).toBe(b0);
    expect(word(heap, b0, POOL_CHAIN)).toBe(0);
    expect(word(heap, b0, POOL_LARGE)).toBe(0);
    expect(word(heap, b0, POOL_CLEANUP)).toBe(0);
  });

  it("palloc(100) +80, pnalloc(3) +180, palloc(8) +184, d.last +192", () => {
    const heap = fresh();
    const pool = NgxPool.create(heap, 1024)!;
    const b0 = pool.offset;
    expect(pool.palloc(100)).toBe(b0 + 80);
    expect(pool.pnalloc(3)).toBe(b0 + 180);
    expect(pool.palloc(8)).toBe(b0 + 184); // aligned up from 183
    expect(word(heap, b0, D_LAST)).toBe(b0 + 192);
  });

  it("palloc(900) that does not fit the 832 left makes block b1 and returns b1 + 32", () => {
    const heap = fresh();
    const pool = NgxPool.create(heap, 1024)!;
    pool.palloc(100);
    pool.pnalloc(3);
    pool.palloc(8);
    const p = pool.palloc(900);
    const [b0, b1] = pool.blocks();
    expect(b0).toBe(pool.offset);
    expect(p).toBe(b1 + SIZEOF_NGX_POOL_DATA_T);
    expect(word(heap, b1, D_LAST)).toBe(b1 + 932);
    expect(word(heap, b1, D_END)).toBe(b1 + 1024);
    expect(word(heap, b0, D_NEXT)).toBe(b1);
    expect(word(heap, b0, D_LAST)).toBe(b0 + 192); // the 832 bytes stay
  });

  it("repeated palloc(940): after the 5th b0.failed is 5 and current is b0; the 6th moves current to b1, the 7th to b2", () => {
    const heap = fresh();
    const pool = NgxPool.create(heap, 1024)!;
    pool.palloc(100);
    pool.pnalloc(3);
    pool.palloc(8);
    pool.palloc(900);
    for (let i = 1; i <= NGX_POOL_FAILED_LIMIT + 1; i++) pool.palloc(940);
    let blocks = pool.blocks();
    expect(word(heap, blocks[0], D_FAILED)).toBe(5);
    expect(word(heap, pool.offset, POOL_CURRENT)).toBe(blocks[0]);
    expect(pool.stats().currentBlock).toBe(0);

    pool.palloc(940); // the 6th
    blocks = pool.blocks();
    expect(word(heap, blocks[0], D_FAILED)).toBe(6);
    expect(word(heap, pool.offset, POOL_CURRENT)).toBe(blocks[1]);

    pool.palloc(940); // the 7th
    blocks = pool.blocks();
    expect(word(heap, blocks[1], D_FAILED)).toBe(6);
    expect(word(heap, pool.offset, POOL_CURRENT)).toBe(blocks[2]);
    expect(pool.stats().failed).toEqual([6, 6, 5, 4, 3, 2, 1, 0, 0]);
  });

  it("palloc(944) = max is small; palloc(945) is large, its 16-byte link carved from the current block", () => {
    const heap = fresh();
    const pool = NgxPool.create(heap, 1024)!;
    const small = pool.palloc(944);
    expect(small).toBe(pool.offset + 80);
    expect(pool.stats().blocks).toBe(1);
    const big = pool.palloc(945);
    const blocks = pool.blocks();
    for (const b of blocks) expect(big >= b && big < b + 1024).toBe(false);
    expect(heap.usableSize(big)).toBeGreaterThanOrEqual(945);
    // b0 is full (last = end), so the link is the first allocation of a new block b1.
    expect(blocks).toHaveLength(2);
    const link = word(heap, pool.offset, POOL_LARGE);
    expect(link).toBe(blocks[1] + SIZEOF_NGX_POOL_DATA_T);
    expect(word(heap, blocks[1], D_LAST)).toBe(link + SIZEOF_NGX_POOL_LARGE_T);
    expect(pool.largeList()).toEqual([big]);
  });

  it("8 large, pfree of the newest and the oldest: the next large reuses the head link, the one after cannot see the oldest and pushes a new link", () => {
    const heap = fresh();
    const pool = NgxPool.create(heap, 1024)!;
    const big: number[] = [];
    for (let i = 0; i < 8; i++) big.push(pool.palloc(2000));
    expect(pool.largeList()).toEqual([...big].reverse());
    expect(pool.pfree(big[7])).toBe(0); // newest, at the head
    expect(pool.pfree(big[0])).toBe(0); // oldest, 8th link
    expect(pool.largeList()).toEqual([0, big[6], big[5], big[4], big[3], big[2], big[1], 0]);
    const x = pool.palloc(2000);
    expect(pool.largeList()).toEqual([x, big[6], big[5], big[4], big[3], big[2], big[1], 0]);
    const y = pool.palloc(2000);
    expect(pool.largeList()).toEqual([y, x, big[6], big[5], big[4], big[3], big[2], big[1], 0]);
  });

  it("ngx_reset_pool: every block d.last = block + 80, failed 0, current b0, large list empty", () => {
    const heap = fresh();
    const pool = NgxPool.create(heap, 1024)!;
    pool.palloc(100);
    pool.pnalloc(3);
    pool.palloc(8);
    pool.palloc(900);
    for (let i = 0; i < 9; i++) pool.palloc(940);
    pool.palloc(5000);
    const blocks = pool.blocks();
    expect(blocks).toHaveLength(11);
    pool.reset();
    expect(pool.blocks()).toEqual(blocks);
    for (const b of blocks) {
      expect(word(heap, b, D_LAST)).toBe(b + SIZEOF_NGX_POOL_T);
      expect(word(heap, b, D_FAILED)).toBe(0);
    }
    expect(word(heap, pool.offset, POOL_CURRENT)).toBe(pool.offset);
    expect(word(heap, pool.offset, POOL_LARGE)).toBe(0);
    expect(pool.largeList()).toEqual([]);
  });

  it("ngx_destroy_pool runs the cleanup added second before the one added first", () => {
    const heap = fresh();
    const pool = NgxPool.create(heap, 1024)!;
    const ran: string[] = [];
    pool.cleanupAdd(0)!.handler = () => ran.push("first");
    pool.cleanupAdd(0)!.handler = () => ran.push("second");
    pool.destroy();
    expect(ran).toEqual(["second", "first"]);
  });

  it("ngx_create_pool(NGX_MIN_POOL_SIZE = 112): max 32; 16 KB: max 4095", () => {
    const heap = fresh();
    expect(NGX_MIN_POOL_SIZE).toBe(112);
    expect(NgxPool.create(heap, NGX_MIN_POOL_SIZE)!.max).toBe(32);
    expect(NgxPool.create(heap, NGX_DEFAULT_POOL_SIZE)!.max).toBe(NGX_MAX_ALLOC_FROM_POOL);
    expect(NGX_MAX_ALLOC_FROM_POOL).toBe(4095);
  });
});
