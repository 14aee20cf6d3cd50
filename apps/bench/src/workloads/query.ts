/*-------------------------------------------------------------------------
 *
 * query.ts
 *	  Workload 2, PostgreSQL-shaped: a per-query context that keeps one
 *	  allocation per 100 rows for its whole life, and a per-tuple context
 *	  that gets 5-20 allocations of log-uniform sizes 8..2,048 bytes and is
 *	  reset after every row.
 *
 * One sample is one query: open both contexts, run the rows, close both.
 * An allocator with scopes (contexts, pools) resets the per-tuple scope
 * after each row and closes both at the end; one without frees every
 * per-tuple allocation after its row, and the query's allocations at the
 * end, each in allocation order.
 *
 * One operation is one allocation; the frees, resets and deletes that give
 * it back are part of its cost, not operations of their own.
 *
 *-------------------------------------------------------------------------
 */

import type { Allocator } from "../adapters/types.js";
import { Rng } from "../rng.js";
import type { Job, PlanConfig, Probe, Variant } from "./types.js";

/** Rows per query-context allocation (issue 7). */
export const ROWS_PER_QUERY_ALLOC = 100;
const MIN_PER_ROW = 5;
const MAX_PER_ROW = 20;
const MIN_SIZE = 8;
const MAX_SIZE = 2048;
const QUERY = 0;
const TUPLE = 1;
/** Query allocations take the slots after the per-tuple ones. */
const QUERY_SLOT0 = MAX_PER_ROW;

interface QueryStream {
  /** Per row, the index of its first size in `sizes`; `starts[rows]` is the end. */
  starts: Int32Array;
  sizes: Int32Array;
  /** The query context's allocation sizes, one per 100 rows. */
  qsizes: Int32Array;
}

function generate(seed: number, key: string, rows: number): QueryStream {
  const rng = new Rng(seed, key);
  const starts = new Int32Array(rows + 1);
  const counts = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    counts[r] = rng.int(MIN_PER_ROW, MAX_PER_ROW);
    starts[r + 1] = starts[r] + counts[r];
  }
  const sizes = new Int32Array(starts[rows]);
  for (let i = 0; i < sizes.length; i++) sizes[i] = rng.logUniform(MIN_SIZE, MAX_SIZE);
  const qsizes = new Int32Array(Math.ceil(rows / ROWS_PER_QUERY_ALLOC));
  for (let i = 0; i < qsizes.length; i++) qsizes[i] = rng.logUniform(MIN_SIZE, MAX_SIZE);
  return { starts, sizes, qsizes };
}

function scopedSample(s: QueryStream, rows: number, a: Allocator, probe: Probe | null): void {
  const { starts, sizes, qsizes } = s;
  a.scopeOpen(QUERY, "query");
  a.scopeOpen(TUPLE, "tuple");
  let q = 0;
  for (let r = 0; r < rows; r++) {
    if (r % ROWS_PER_QUERY_ALLOC === 0) {
      a.scopeAlloc(QUERY, QUERY_SLOT0 + q, qsizes[q]);
      q++;
    }
    const start = starts[r];
    const end = starts[r + 1];
    for (let k = start; k < end; k++) a.scopeAlloc(TUPLE, k - start, sizes[k]);
    if (probe !== null) probe();
    a.scopeReset(TUPLE);
  }
  closeScopes(a);
}

/**
 * The end of a scoped query, in a function of its own: in scopedSample,
 * V8 compiles the code after the row loop on entry to the loop (OSR),
 * before it has run, and without type feedback it deoptimized there on
 * every sample in some runs (up to 40 times, and 1.5x slower).
 */
function closeScopes(a: Allocator): void {
  a.scopeClose(TUPLE);
  a.scopeClose(QUERY);
}

function unscopedSample(s: QueryStream, rows: number, a: Allocator, probe: Probe | null): void {
  const { starts, sizes, qsizes } = s;
  let q = 0;
  for (let r = 0; r < rows; r++) {
    if (r % ROWS_PER_QUERY_ALLOC === 0) {
      a.alloc(QUERY_SLOT0 + q, qsizes[q]);
      q++;
    }
    const start = starts[r];
    const end = starts[r + 1];
    for (let k = start; k < end; k++) a.alloc(k - start, sizes[k]);
    if (probe !== null) probe();
    for (let k = start; k < end; k++) a.free(k - start, sizes[k]);
  }
  for (let i = 0; i < q; i++) a.free(QUERY_SLOT0 + i, qsizes[i]);
}

function queryJob(s: QueryStream, rows: number): Job {
  const nq = Math.ceil(rows / ROWS_PER_QUERY_ALLOC);
  let peak = 0;
  let qbytes = 0;
  for (let r = 0; r < rows; r++) {
    if (r % ROWS_PER_QUERY_ALLOC === 0) qbytes += s.qsizes[r / ROWS_PER_QUERY_ALLOC];
    let row = 0;
    for (let k = s.starts[r]; k < s.starts[r + 1]; k++) row += s.sizes[k];
    if (qbytes + row > peak) peak = qbytes + row;
  }
  return {
    opsPerSample: s.starts[rows] + nq,
    peakLiveBytes: peak,
    slots: QUERY_SLOT0 + nq,
    probes: rows,
    setup() {},
    teardown() {},
    sample(a: Allocator, probe: Probe | null) {
      if (a.scoped) scopedSample(s, rows, a, probe);
      else unscopedSample(s, rows, a, probe);
    },
  };
}

/** The query workload: 100,000 rows (5,000 with `--quick`). */
export function queryVariants(cfg: PlanConfig): Variant[] {
  const rows = cfg.quick ? 5000 : 100_000;
  const key = "query/rows";
  let stream: QueryStream | undefined;
  return [
    {
      workload: "query",
      key,
      label: `${rows.toLocaleString("en-US")} rows`,
      unitName: "rows",
      units: rows,
      live: 0,
      job(n: number): Job {
        stream ??= generate(cfg.seed, key, rows);
        return queryJob(stream, n);
      },
    },
  ];
}
