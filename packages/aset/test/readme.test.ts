import { Heap } from "@mmgr/heap";
import { describe, expect, it } from "vitest";
import { ALLOCSET_DEFAULT_SIZES, AllocSet } from "../src/index.js";

describe("README example", () => {
  it("runs as shown", () => {
    const heap = Heap.create({ initialSize: 1 << 20 });
    const set = AllocSet.create(heap, "ExecutorState", ALLOCSET_DEFAULT_SIZES);
    const p = set.alloc(100);
    expect(set.getChunkSpace(p)).toBe(128 + 8);
    heap.f64[p >> 3] = 42;
    const q = set.realloc(p, 120);
    expect(q).toBe(p);
    expect(heap.f64[q >> 3]).toBe(42);
    set.free(q);
    expect(set.statsString()).toBe("8192 total in 1 blocks; 7952 free (1 chunks); 240 used");
    set.reset();
    set.delete();
    expect(AllocSet.cachedContexts(heap).default).toBe(1);
  });
});
