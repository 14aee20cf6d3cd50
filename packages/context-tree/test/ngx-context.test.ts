import { Heap, InvalidPointerError, NotSupportedError } from "@mmgr/heap";
import {
  NGX_MAX_ALLOC_FROM_POOL,
  SIZEOF_NGX_POOL_DATA_T,
  SIZEOF_NGX_POOL_LARGE_T,
  SIZEOF_NGX_POOL_T,
} from "@mmgr/ngx-pool";
import { beforeEach, describe, expect, it } from "vitest";
import {
  AllocSetContextCreate,
  GetMemoryChunkContext,
  GetMemoryChunkSpace,
  MCTX_BUMP_ID,
  MemoryContextAlloc,
  MemoryContextCheck,
  MemoryContextDelete,
  MemoryContextInit,
  MemoryContextIsEmpty,
  MemoryContextMemAllocated,
  MemoryContextRegisterResetCallback,
  MemoryContextReset,
  MemoryContextStats,
  MemoryContextSwitchTo,
  NGX_DEFAULT_POOL_SIZE,
  NgxPoolContextCreate,
  palloc,
  palloc0,
  pfree,
  pg_backend_memory_contexts,
  repalloc,
  SIZEOF_MEMORY_CONTEXT_DATA,
  TopMemoryContext,
} from "../src/index.js";

const POOL = 1024;
/** ngx_create_pool: max = min(size - sizeof(ngx_pool_t), NGX_MAX_ALLOC_FROM_POOL). */
const MAX = Math.min(POOL - SIZEOF_NGX_POOL_T, NGX_MAX_ALLOC_FROM_POOL); // 944

for (const checking of [false, true]) {
  describe(`NgxPoolContextCreate (checking ${checking})`, () => {
    let heap: Heap;
    beforeEach(() => {
      heap = MemoryContextInit(Heap.create({ initialSize: 1 << 20, maxSize: 1 << 24, checking }));
    });

    it("makes a child whose palloc bumps from the pool as nginx does", () => {
      const ctx = NgxPoolContextCreate(TopMemoryContext, "request", POOL);
      expect(ctx.type).toBe("NgxPool");
      expect(ctx.parent).toBe(TopMemoryContext);
      expect(heap.i32[(ctx.node >> 2) + 4]).toBe(MCTX_BUMP_ID);
      expect(MAX).toBe(944);
      const pool = ctx.impl.offset;
      MemoryContextSwitchTo(ctx);
      // ORIGINALS.md §2.5: palloc(100) -> +80; the next aligned palloc -> +184
      const a = palloc(100);
      expect(a).toBe(pool + SIZEOF_NGX_POOL_T);
      expect(palloc(3)).toBe(pool + 184);
      expect(GetMemoryChunkContext(a)).toBe(ctx);
      expect(MemoryContextStats(ctx).split("\n")[0]).toBe(
        `request: ${POOL} total in 1 blocks; ${POOL - 187} free; 187 used`,
      );
      expect(MemoryContextIsEmpty(ctx)).toBe(false);
    });

    it("finds the context of pointers in later blocks and large allocations", () => {
      const ctx = NgxPoolContextCreate(TopMemoryContext, "request", POOL);
      MemoryContextSwitchTo(ctx);
      palloc(100);
      const b = palloc(900); // does not fit the 844 left: a new block, at its start + 32
      const blocks = ctx.impl.blocks();
      expect(blocks).toHaveLength(2);
      expect(b).toBe(blocks[1] + SIZEOF_NGX_POOL_DATA_T);
      expect(GetMemoryChunkContext(b)).toBe(ctx);
      const big = palloc(MAX + 1); // large: a heap allocation of its own
      expect(blocks.some((k) => big >= k && big < k + POOL)).toBe(false);
      expect(GetMemoryChunkContext(big)).toBe(ctx);
      // every block, the large allocation and the header
      expect(MemoryContextMemAllocated(ctx, false)).toBe(
        2 * POOL + (MAX + 1) + SIZEOF_MEMORY_CONTEXT_DATA,
      );
      // b0: 100 bytes at +80, then the 16-byte large link at +184 (aligned); b1: 900 at +32
      const free = POOL - (184 + SIZEOF_NGX_POOL_LARGE_T) + (POOL - (SIZEOF_NGX_POOL_DATA_T + 900));
      const total = 2 * POOL + MAX + 1;
      expect(MemoryContextStats(ctx).split("\n")[0]).toBe(
        `request: ${total} total in 3 blocks; ${free} free; ${total - free} used`,
      );
      MemoryContextCheck(TopMemoryContext!);
    });

    it("pfree, repalloc and GetMemoryChunkSpace of its chunks throw NotSupportedError", () => {
      const ctx = NgxPoolContextCreate(TopMemoryContext, "bump-like", POOL);
      const small = MemoryContextAlloc(ctx, 24);
      const big = MemoryContextAlloc(ctx, 5000);
      const before = MemoryContextStats(ctx);
      const usedBefore = heap.stats().used;
      const bytesBefore = heap.u8.slice();
      const refused = (what: string, p: number) =>
        new NotSupportedError(
          `${what} is not supported by this context type: pointer ${p} belongs to nginx pool memory context "bump-like", whose chunks are freed only by reset or delete`,
        );
      for (const p of [small, big]) {
        expect(() => pfree(p)).toThrow(NotSupportedError);
        expect(() => pfree(p)).toThrow(refused("pfree", p));
        expect(() => repalloc(p, 10)).toThrow(NotSupportedError);
        expect(() => repalloc(p, 10)).toThrow(refused("repalloc", p));
        expect(() => GetMemoryChunkSpace(p)).toThrow(NotSupportedError);
        expect(() => GetMemoryChunkSpace(p)).toThrow(refused("GetMemoryChunkSpace", p));
      }
      expect(MemoryContextStats(ctx)).toBe(before);
      expect(heap.stats().used).toBe(usedBefore);
      const bytes = heap.u8;
      expect(bytes.length).toBe(bytesBefore.length);
      let diff = -1;
      for (let i = 0; i < bytes.length && diff < 0; i++) if (bytes[i] !== bytesBefore[i]) diff = i;
      expect(diff).toBe(-1);
    });

    it("resets: the blocks stay, large allocations go, callbacks run", () => {
      const ctx = NgxPoolContextCreate(TopMemoryContext, "r", POOL);
      const ran: number[] = [];
      MemoryContextRegisterResetCallback(ctx, { func: () => ran.push(1) });
      const small = MemoryContextAlloc(ctx, 900);
      MemoryContextAlloc(ctx, 900);
      const big = MemoryContextAlloc(ctx, 3000);
      MemoryContextReset(ctx);
      expect(ran).toEqual([1]);
      expect(MemoryContextIsEmpty(ctx)).toBe(true);
      expect(ctx.impl.blocks()).toHaveLength(2);
      expect(GetMemoryChunkContext(small)).toBe(ctx);
      expect(() => GetMemoryChunkContext(big)).toThrow(InvalidPointerError);
      expect(MemoryContextAlloc(ctx, 8)).toBe(ctx.impl.offset + SIZEOF_NGX_POOL_T);
      MemoryContextCheck(ctx);
    });

    it("deletes with its parent and gives every byte back to the heap", () => {
      const before = heap.stats().used;
      const q = AllocSetContextCreate(TopMemoryContext, "query", {
        minContextSize: 0,
        initBlockSize: 2048,
        maxBlockSize: 4096,
      });
      const n = NgxPoolContextCreate(q, "pool");
      expect(n.impl.blockSize).toBe(NGX_DEFAULT_POOL_SIZE);
      const k = AllocSetContextCreate(n, "under the pool", {
        minContextSize: 0,
        initBlockSize: 2048,
        maxBlockSize: 4096,
      });
      const ps = [MemoryContextAlloc(n, 100), MemoryContextAlloc(n, 20000)];
      const pk = MemoryContextAlloc(k, 100);
      MemoryContextDelete(q);
      expect(n.deleted).toBe(true);
      expect(heap.stats().used).toBe(before);
      // Their blocks went back to the heap: wiped with 0x7F in checking mode;
      // otherwise the pool pointers read what the heap left there, and the
      // AllocSet pointer's block no longer belongs to a live set.
      for (const p of [...ps, pk]) {
        let caught: unknown;
        try {
          pfree(p);
        } catch (e) {
          caught = e;
        }
        expect(caught).toBeInstanceOf(InvalidPointerError);
        const message = (caught as Error).message;
        if (checking) {
          expect(message).toBe(
            `pfree called with invalid pointer ${p} (header 0x7f7f7f7f7f7f7f7f)`,
          );
        } else if (p === pk) {
          expect(message).toBe(
            `pfree called with invalid pointer ${p}: AllocSet.contextOf(): pointer ${p} is not a chunk of a live AllocSet of this heap`,
          );
        } else {
          expect(message).toMatch(
            new RegExp(`^pfree called with invalid pointer ${p} \\(header 0x[0-9a-f]{16}\\)$`),
          );
        }
      }
      expect(heap.stats().used).toBe(before);
    });

    it("leaves AllocSet chunks to AllocSet while pools exist", () => {
      const n = NgxPoolContextCreate(TopMemoryContext, "pool", POOL);
      MemoryContextAlloc(n, 500);
      const p = MemoryContextAlloc(TopMemoryContext!, 100);
      expect(GetMemoryChunkContext(p)).toBe(TopMemoryContext);
      pfree(p);
      const z = palloc0(16);
      expect(GetMemoryChunkContext(z)).toBe(TopMemoryContext);
    });

    it("shows as type NgxPool in pg_backend_memory_contexts", () => {
      NgxPoolContextCreate(TopMemoryContext, "pool", POOL);
      const rows = pg_backend_memory_contexts();
      expect(rows.map((r) => [r.name, r.parent, r.level, r.type])).toEqual([
        ["TopMemoryContext", null, 0, "AllocSet"],
        ["pool", "TopMemoryContext", 1, "NgxPool"],
        ["ErrorContext", "TopMemoryContext", 1, "AllocSet"],
      ]);
      expect(rows[1]).toMatchObject({
        total_bytes: POOL,
        total_nblocks: 1,
        free_bytes: POOL - SIZEOF_NGX_POOL_T,
        free_chunks: 0,
        used_bytes: SIZEOF_NGX_POOL_T,
      });
    });
  });
}
