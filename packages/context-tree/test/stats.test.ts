import { ALLOC_BLOCKHDRSZ, SIZEOF_ASET_CONTEXT } from "@mmgr/aset";
import { Heap } from "@mmgr/heap";
import { beforeEach, describe, expect, it, vi } from "vitest";
import {
  ALLOCSET_SMALL_SIZES,
  AllocSetContextCreate,
  MEMORY_CONTEXT_STATS_MAX_CHILDREN,
  MemoryContextInit,
  MemoryContextMemConsumed,
  MemoryContextSetIdentifier,
  MemoryContextStats,
  MemoryContextStatsDetail,
  pg_backend_memory_contexts,
  TopMemoryContext,
} from "../src/index.js";

const USED = SIZEOF_ASET_CONTEXT + ALLOC_BLOCKHDRSZ; // 240
const DEFAULT_LINE = `8192 total in 1 blocks; ${8192 - USED} free (0 chunks); ${USED} used`;
const SMALL_LINE = `1024 total in 1 blocks; ${1024 - USED} free (0 chunks); ${USED} used`;

function sumLine(n: number, blocksOf1K: number): string {
  const total = 1024 * blocksOf1K;
  return `${n} more child contexts containing ${total} total in ${blocksOf1K} blocks; ${total - USED * blocksOf1K} free (0 chunks); ${USED * blocksOf1K} used`;
}

beforeEach(() => {
  MemoryContextInit(Heap.create({ initialSize: 4 << 20, maxSize: 16 << 20 }));
});

describe("MemoryContextStats", () => {
  it("prints children beyond the first 100 as one summary line, their subtrees included", () => {
    const parent = AllocSetContextCreate(null, "parent", ALLOCSET_SMALL_SIZES);
    const first = AllocSetContextCreate(parent, "c0", ALLOCSET_SMALL_SIZES);
    AllocSetContextCreate(first, "grandchild", ALLOCSET_SMALL_SIZES);
    for (let i = 1; i <= MEMORY_CONTEXT_STATS_MAX_CHILDREN; i++) {
      AllocSetContextCreate(parent, `c${i}`, ALLOCSET_SMALL_SIZES);
    }
    const lines = MemoryContextStats(parent).split("\n");
    expect(lines[0]).toBe(`parent: ${SMALL_LINE}`);
    expect(lines[1]).toBe(`  c100: ${SMALL_LINE}`); // newest first
    expect(lines[100]).toBe(`  c1: ${SMALL_LINE}`);
    // c0 and its grandchild: PG 17 counts every context it summarises
    expect(lines[101]).toBe(`  ${sumLine(2, 2)}`);
    expect(lines[102]).toBe(
      `Grand total: ${1024 * 103} bytes in 103 blocks; ${(1024 - USED) * 103} free (0 chunks); ${USED * 103} used`,
    );
    expect(lines[103]).toBe("");
    expect(MemoryContextMemConsumed(parent)).toEqual({
      nblocks: 103,
      freechunks: 0,
      totalspace: 1024 * 103,
      freespace: (1024 - USED) * 103,
    });
  });

  it("summarises levels below max_level, and writes the log form with level prefixes", () => {
    const a = AllocSetContextCreate(TopMemoryContext, "a", ALLOCSET_SMALL_SIZES);
    AllocSetContextCreate(a, "b", ALLOCSET_SMALL_SIZES);
    expect(MemoryContextStatsDetail(TopMemoryContext!, 1, 100, true)).toBe(
      `TopMemoryContext: ${DEFAULT_LINE}\n` +
        `  a: ${SMALL_LINE}\n` +
        `    ${sumLine(1, 1)}\n` +
        `  ErrorContext: ${DEFAULT_LINE}\n` +
        `Grand total: ${8192 * 2 + 1024 * 2} bytes in 4 blocks; ${(8192 - USED) * 2 + (1024 - USED) * 2} free (0 chunks); ${USED * 4} used\n`,
    );
    expect(MemoryContextStatsDetail(TopMemoryContext!, 1, 100, false)).toBe(
      `level: 0; TopMemoryContext: ${DEFAULT_LINE}\n` +
        `level: 1; a: ${SMALL_LINE}\n` +
        `level: 1; ${sumLine(1, 1)}\n` +
        `level: 1; ErrorContext: ${DEFAULT_LINE}\n` +
        `Grand total: ${8192 * 2 + 1024 * 2} bytes in 4 blocks; ${(8192 - USED) * 2 + (1024 - USED) * 2} free (0 chunks); ${USED * 4} used\n`,
    );
  });

  it("cuts idents at 100 bytes on a character boundary, blanks control characters", () => {
    const c = AllocSetContextCreate(null, "q", ALLOCSET_SMALL_SIZES);
    MemoryContextSetIdentifier(c, "x".repeat(150));
    expect(MemoryContextStats(c).split("\n")[0]).toBe(`q: ${SMALL_LINE}: ${"x".repeat(100)}...`);
    MemoryContextSetIdentifier(c, "é".repeat(60)); // 2 bytes each
    expect(MemoryContextStats(c).split("\n")[0]).toBe(`q: ${SMALL_LINE}: ${"é".repeat(50)}...`);
    MemoryContextSetIdentifier(c, "a\tb\nc");
    expect(MemoryContextStats(c).split("\n")[0]).toBe(`q: ${SMALL_LINE}: a b c`);
    MemoryContextSetIdentifier(c, "x".repeat(100));
    expect(MemoryContextStats(c).split("\n")[0]).toBe(`q: ${SMALL_LINE}: ${"x".repeat(100)}`);
  });

  it("labels dynahash contexts with their ident", () => {
    const c = AllocSetContextCreate(TopMemoryContext, "dynahash", ALLOCSET_SMALL_SIZES);
    MemoryContextSetIdentifier(c, "LOCALLOCK hash");
    expect(MemoryContextStats(c).split("\n")[0]).toBe(`LOCALLOCK hash: ${SMALL_LINE}`);
    const rows = pg_backend_memory_contexts();
    expect(rows[1]).toMatchObject({
      name: "LOCALLOCK hash",
      ident: null,
      parent: "TopMemoryContext",
    });
  });

  it("prints to stderr only when asked", () => {
    const write = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      const text = MemoryContextStats(TopMemoryContext!);
      expect(write).not.toHaveBeenCalled();
      expect(MemoryContextStats(TopMemoryContext!, true)).toBe(text);
      expect(write).toHaveBeenCalledWith(text);
    } finally {
      write.mockRestore();
    }
  });
});

describe("pg_backend_memory_contexts", () => {
  it("lists every context pre-order with PostgreSQL's columns", () => {
    const a = AllocSetContextCreate(TopMemoryContext, "a", ALLOCSET_SMALL_SIZES);
    AllocSetContextCreate(a, "b", ALLOCSET_SMALL_SIZES);
    MemoryContextSetIdentifier(a, "y".repeat(2000));
    const rows = pg_backend_memory_contexts();
    expect(rows.map((r) => [r.name, r.parent, r.level])).toEqual([
      ["TopMemoryContext", null, 0],
      ["a", "TopMemoryContext", 1],
      ["b", "a", 2],
      ["ErrorContext", "TopMemoryContext", 1],
    ]);
    expect(rows[0]).toEqual({
      name: "TopMemoryContext",
      ident: null,
      parent: null,
      level: 0,
      type: "AllocSet",
      total_bytes: 8192,
      total_nblocks: 1,
      free_bytes: 8192 - USED,
      free_chunks: 0,
      used_bytes: USED,
    });
    expect(rows[1].ident).toBe("y".repeat(1023));
    expect(pg_backend_memory_contexts(a).map((r) => [r.name, r.level])).toEqual([
      ["a", 0],
      ["b", 1],
    ]);
  });
});
