import { describe, expect, it } from "vitest";
import {
  ALIGN,
  freelistIndex,
  MAX_BYTES,
  NFREELISTS,
  NOBJS,
  POOL_SIZE,
  roundUp,
} from "../src/index.js";

describe("constants", () => {
  it("are stl_alloc.h's: _ALIGN 8, _MAX_BYTES 128, _NFREELISTS 16, 20 objects per refill", () => {
    expect(ALIGN).toBe(8);
    expect(MAX_BYTES).toBe(128);
    expect(NFREELISTS).toBe(MAX_BYTES / ALIGN);
    expect(NFREELISTS).toBe(16);
    expect(NOBJS).toBe(20);
  });

  it("make the control struct 8 words of state plus one head per free list", () => {
    expect(POOL_SIZE).toBe((8 + NFREELISTS) * 4);
  });
});

describe("roundUp", () => {
  it("rounds up to a multiple of ALIGN as _S_round_up", () => {
    expect([0, 1, 7, 8, 9, 16, 17, 120, 121, 128, 129].map(roundUp)).toEqual([
      0, 8, 8, 8, 16, 16, 24, 120, 128, 128, 136,
    ]);
  });
});

describe("freelistIndex", () => {
  it("maps 1..8 to 0, 9..16 to 1, ..., 121..128 to 15 as _S_freelist_index", () => {
    for (let n = 1; n <= MAX_BYTES; n++) {
      expect(freelistIndex(n)).toBe(Math.ceil(n / ALIGN) - 1);
      expect(freelistIndex(n)).toBe(roundUp(n) / ALIGN - 1);
    }
    expect(freelistIndex(8)).toBe(0);
    expect(freelistIndex(9)).toBe(1);
    expect(freelistIndex(128)).toBe(NFREELISTS - 1);
  });

  it("gives -1 for 0, where the original's size_t arithmetic wraps", () => {
    expect(freelistIndex(0)).toBe(-1);
  });
});
