import { describe, expect, it } from "vitest";
import {
  AllocSetContextCreate,
  MemoryContextDelete,
  MemoryContextInit,
  MemoryContextReset,
  MemoryContextStats,
  palloc,
  pfree,
  TopMemoryContext,
  withMemoryContext,
} from "../src/index.js";

describe("README", () => {
  it("the example prints what the README shows", () => {
    const heap = MemoryContextInit();
    const query = AllocSetContextCreate(TopMemoryContext, "ExecutorState");
    const perTuple = AllocSetContextCreate(query, "ExprContext");
    for (let row = 0; row < 1000; row++) {
      MemoryContextReset(perTuple);
      withMemoryContext(perTuple, () => {
        const t = palloc(64);
        heap.u8[t] = row & 0xff;
      });
    }
    const kept = withMemoryContext(query, () => palloc(100));
    pfree(kept);
    expect(MemoryContextStats(TopMemoryContext!)).toBe(
      [
        "TopMemoryContext: 8192 total in 1 blocks; 7952 free (0 chunks); 240 used",
        "  ExecutorState: 8192 total in 1 blocks; 7952 free (1 chunks); 240 used",
        "    ExprContext: 8192 total in 1 blocks; 7880 free (0 chunks); 312 used",
        "  ErrorContext: 8192 total in 1 blocks; 7952 free (0 chunks); 240 used",
        "Grand total: 32768 bytes in 4 blocks; 31736 free (1 chunks); 1032 used",
        "",
      ].join("\n"),
    );
    MemoryContextDelete(query);
    expect(TopMemoryContext!.children.map((c) => c.name)).toEqual(["ErrorContext"]);
  });
});
