/*-------------------------------------------------------------------------
 *
 * random.ts
 *	  The seeded random stream the churning workers draw their operations
 *	  and sizes from.
 *
 * xorshift32 (Marsaglia): no allocation per call, and a seed replays the
 * same run, so a failure a worker reports can be run again.
 *
 *-------------------------------------------------------------------------
 */

/**
 * A seeded xorshift32 stream: each call `rand(n)` returns an integer in
 * [0, n). The same seed gives the same calls the same results.
 */
export function seededRandom(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % n;
  };
}
