import { describe, expect, it } from "vitest";
import { fillChunk, firstBadByte } from "../src/index.js";

describe("fillChunk and firstBadByte", () => {
  it("write byte k as (seed + 31 k) & 255 and find the first byte that differs", () => {
    const u8 = new Uint8Array(64);
    const c = { ptr: 16, size: 10, seed: 250 };
    fillChunk(u8, c);
    expect(Array.from(u8.subarray(16, 20))).toEqual([250, 25, 56, 87]);
    expect(u8[15]).toBe(0);
    expect(u8[26]).toBe(0);
    expect(firstBadByte(u8, c)).toBe(-1);
    u8[21] ^= 1;
    expect(firstBadByte(u8, c)).toBe(21);
    expect(firstBadByte(u8, { ...c, seed: 251 })).toBe(16);
  });
});
