/*-------------------------------------------------------------------------
 *
 * pattern.ts
 *	  The byte pattern the worker tests write into chunks and check on the
 *	  other side of a hand-over.
 *
 * Byte k of a chunk is `(seed + 31 k) & 255`, so a chunk moved, overlapped
 * or overwritten by another chunk shows at the first byte that differs.
 *
 *-------------------------------------------------------------------------
 */

/** A chunk handed between threads: its pointer, the bytes written and the pattern's seed. */
export interface Chunk {
  ptr: number;
  size: number;
  seed: number;
}

/** Writes the pattern of `c` into its bytes of `u8`. */
export function fillChunk(u8: Uint8Array, c: Chunk): void {
  for (let k = 0; k < c.size; k++) u8[c.ptr + k] = (c.seed + 31 * k) & 255;
}

/** The address of the first byte of `c` that does not hold its pattern, or -1 when all do. */
export function firstBadByte(u8: Uint8Array, c: Chunk): number {
  for (let k = 0; k < c.size; k++) {
    if (u8[c.ptr + k] !== ((c.seed + 31 * k) & 255)) return c.ptr + k;
  }
  return -1;
}
