/*-------------------------------------------------------------------------
 *
 * example.test.ts
 *	  The example of the README (`pnpm example`) runs and reports what it
 *	  should.
 *
 *-------------------------------------------------------------------------
 */

import { describe, expect, it } from "vitest";
import { runExample } from "../src/main.js";

describe("runExample", () => {
  it("computes in the module, grows, and leaves an empty, sound heap", async () => {
    const lines: string[] = [];
    await runExample((line) => lines.push(line));
    expect(lines).toContain("sum_i32(1..1000) = 500500");
    expect(lines).toContain("reverse_bytes: msaw ,olleh");
    expect(lines).toContain("AllocSet: sum_f64 = 7.75, hex_encode = 68656c6c6f2c207761736d");
    expect(lines).toContain("NgxPool: sum_i32 of a 64 KiB large allocation = 49152");
    expect(lines.find((l) => l.startsWith("malloc(1 MiB) grew the memory"))).toContain(
      "the old buffer now has 0 bytes; sum_i32(1..1000) still 500500",
    );
    expect(lines.at(-1)).toMatch(/^heap\.check\(\) passed: used 0, allocations 0, /);
  });
});
