import { describe, expect, it } from "vitest";
import { seededRandom } from "../src/index.js";

describe("seededRandom", () => {
  it("is xorshift32: from seed 1, the stream 270369, 67634689, 2647435461", () => {
    const rand = seededRandom(1);
    expect([rand(2 ** 32), rand(2 ** 32), rand(2 ** 32)]).toEqual([270369, 67634689, 2647435461]);
  });

  it("replays a seed, and stays in [0, n)", () => {
    const a = seededRandom(0x9e3779b9);
    const b = seededRandom(0x9e3779b9);
    const xs = Array.from({ length: 1000 }, () => a(10));
    expect(Array.from({ length: 1000 }, () => b(10))).toEqual(xs);
    expect(xs.every((x) => Number.isInteger(x) && x >= 0 && x < 10)).toBe(true);
    expect(new Set(xs).size).toBe(10);
  });
});
