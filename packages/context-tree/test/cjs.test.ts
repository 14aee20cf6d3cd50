import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "tsup";
import { describe, expect, it } from "vitest";

// The CommonJS build must keep TopMemoryContext, ErrorContext and
// CurrentMemoryContext live: `export let` becomes a getter on `exports`.
// Built here with tsup, as `npx tsup` builds dist/index.cjs, but bundling
// the sibling packages' sources so the test needs no other build.
describe("the CJS build", () => {
  it("exports the globals as live bindings", async () => {
    const dir = mkdtempSync(join(tmpdir(), "context-tree-cjs-"));
    try {
      await build({
        entry: { index: join(__dirname, "../src/index.ts") },
        format: ["cjs"],
        outDir: dir,
        target: "es2022",
        dts: false,
        silent: true,
        config: false,
        noExternal: [/^@mmgr\//],
        esbuildOptions(options) {
          options.conditions = ["@mmgr/source"];
        },
      });
      const require = createRequire(import.meta.url);
      const m = require(join(dir, "index.cjs"));
      expect(m.TopMemoryContext).toBeNull();
      expect(m.CurrentMemoryContext).toBeNull();
      m.MemoryContextInit();
      expect(m.TopMemoryContext.name).toBe("TopMemoryContext");
      expect(m.ErrorContext.name).toBe("ErrorContext");
      expect(m.CurrentMemoryContext).toBe(m.TopMemoryContext);
      const a = m.AllocSetContextCreate(m.TopMemoryContext, "a");
      m.MemoryContextSwitchTo(a);
      expect(m.CurrentMemoryContext).toBe(a);
      const desc = Object.getOwnPropertyDescriptor(m, "CurrentMemoryContext");
      expect(typeof desc?.get).toBe("function");
      m.MemoryContextTeardown();
      expect(m.TopMemoryContext).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 20_000);
});
