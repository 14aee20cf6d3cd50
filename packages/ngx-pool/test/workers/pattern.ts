/**
 * The byte pattern the worker tests write into chunks and check on the
 * other side of a hand-over: byte k of a chunk is `(seed + 31 k) & 255`.
 */

/** A chunk handed between threads: its pointer, the bytes written and the pattern's seed. */
export interface Chunk {
  ptr: number;
  size: number;
  seed: number;
}

/** Writes the pattern of `c` into its bytes. */
export function fill(u8: Uint8Array, c: Chunk): void {
  for (let k = 0; k < c.size; k++) u8[c.ptr + k] = (c.seed + 31 * k) & 255;
}

/** The first byte of `c` that does not hold its pattern, or -1 when all do. */
export function firstBad(u8: Uint8Array, c: Chunk): number {
  for (let k = 0; k < c.size; k++) {
    if (u8[c.ptr + k] !== ((c.seed + 31 * k) & 255)) return c.ptr + k;
  }
  return -1;
}
