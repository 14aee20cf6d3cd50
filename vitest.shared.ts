import { defineConfig } from "vitest/config";

/**
 * The vitest settings every package shares: run against the sources of
 * sibling packages (the `@mmgr/source` export condition), and write a JSON
 * report that `.ci/run` sums into its closing line.
 */
export function mmgrProject(name: string) {
  return defineConfig({
    environments: { ssr: { resolve: { conditions: ["@mmgr/source"] } } },
    test: {
      name,
      include: ["test/**/*.test.ts"],
      // Model tests run thousands of sequences; on 2 busy cores they need more than 5 s.
      testTimeout: 60_000,
      reporters: ["default", "json"],
      outputFile: { json: ".vitest/results.json" },
    },
  });
}
