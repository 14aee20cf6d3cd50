/*-------------------------------------------------------------------------
 *
 * mailbox.ts
 *	  A single-producer single-consumer ring of pointers on a
 *	  SharedArrayBuffer, through which the worker tests hand blocks from
 *	  one worker to the next.
 *
 * Word 0 counts puts, word 1 counts takes, then MAILBOX_SLOTS slots. Only
 * one worker may put into a mailbox and only one may take from it. Post
 * the buffer from Mailbox.create() in workerData and wrap it in each
 * worker with `new Mailbox(buffer)`.
 *
 *-------------------------------------------------------------------------
 */

/** How many pointers a mailbox holds before put() refuses one. */
export const MAILBOX_SLOTS = 256;

/** A ring of pointers between two workers; 0 is never posted (take() returns it for empty). */
export class Mailbox {
  private readonly words: Int32Array;

  constructor(buffer: SharedArrayBuffer) {
    this.words = new Int32Array(buffer);
  }

  /** A new, empty mailbox's buffer. */
  static create(): SharedArrayBuffer {
    return new SharedArrayBuffer((2 + MAILBOX_SLOTS) * 4);
  }

  /** Posts `p`; false when the ring is full. */
  put(p: number): boolean {
    const w = this.words;
    const head = Atomics.load(w, 0);
    if (head - Atomics.load(w, 1) === MAILBOX_SLOTS) return false;
    Atomics.store(w, 2 + (head % MAILBOX_SLOTS), p);
    Atomics.store(w, 0, head + 1);
    return true;
  }

  /** The oldest pointer posted, or 0 when there is none. */
  take(): number {
    const w = this.words;
    const tail = Atomics.load(w, 1);
    if (tail === Atomics.load(w, 0)) return 0;
    const p = Atomics.load(w, 2 + (tail % MAILBOX_SLOTS));
    Atomics.store(w, 1, tail + 1);
    return p;
  }
}
