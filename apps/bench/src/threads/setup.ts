/*-------------------------------------------------------------------------
 *
 * setup.ts
 *	  What the workers section's main side (run.ts) and its workers
 *	  (worker.ts) agree on.
 *
 *-------------------------------------------------------------------------
 */

/** What run.ts hands a worker. */
export interface WorkerSetup {
  /** `heap`: an unshared heap of the worker's own; `shared`: Heap.attach; `sgi`: a threads pool on the shared heap. */
  kind: "heap" | "shared" | "sgi";
  /** The shared heap's buffer (shared, sgi). */
  buffer: SharedArrayBuffer | null;
  /** The SGI pool's control struct (sgi). */
  pool: number;
  /** Batches per round. */
  batches: number;
  /** Seed of this worker's stream. */
  seed: number;
  /** The worker's id, written into its objects. */
  id: number;
}

/** Objects per batch. */
export const BATCH = 64;
/** Batches of sizes and orders in a worker's stream, cycled through. */
export const STREAM = 256;
/** Object sizes: uniform 8..128 bytes, what the SGI pool serves itself and the heap's caches hold. */
export const MIN_SIZE = 8;
export const MAX_SIZE = 128;
