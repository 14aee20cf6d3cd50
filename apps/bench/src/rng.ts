/*-------------------------------------------------------------------------
 *
 * rng.ts
 *	  The bench's deterministic random numbers: sfc32 seeded by splitmix32.
 *
 * Every workload pre-generates its operation stream from one of these, so
 * a seed and a workload name give the same stream on every machine and for
 * every allocator. Math.random is never used.
 *
 *-------------------------------------------------------------------------
 */

/** splitmix32 step: a well-mixed 32-bit value from a state word. */
function splitmix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** FNV-1a hash of a string, to derive one seed per workload from a base seed. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  }
  return h >>> 0;
}

/**
 * A small, fast, seedable generator (sfc32). Not for cryptography.
 *
 * @example
 * ```ts
 * const rng = new Rng(42, "churn");
 * rng.int(5, 20); // 5..20 inclusive
 * ```
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /**
   * @param seed - the run's base seed
   * @param stream - a name mixed into the seed, so each workload gets its own sequence
   */
  constructor(seed: number, stream = "") {
    let s = (seed ^ hashString(stream)) >>> 0;
    this.a = s = splitmix32(s);
    this.b = s = splitmix32(s);
    this.c = s = splitmix32(s);
    this.d = splitmix32(s);
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A uniform float in [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** A uniform integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.float() * (max - min + 1));
  }

  /**
   * An integer in [min, max] whose logarithm is uniform: as many sizes
   * from 8 to 64 as from 512 to 4096.
   */
  logUniform(min: number, max: number): number {
    const lo = Math.log(min);
    const hi = Math.log(max + 1);
    const v = Math.floor(Math.exp(lo + this.float() * (hi - lo)));
    return Math.max(min, Math.min(v, max));
  }

  /** Shuffles `a[start, start + n)` in place (Fisher-Yates). */
  shuffle(a: Int32Array | Uint16Array, start: number, n: number): void {
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(this.float() * (i + 1));
      const t = a[start + i];
      a[start + i] = a[start + j];
      a[start + j] = t;
    }
  }
}
