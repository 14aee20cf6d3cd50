/**
 * A single-producer single-consumer ring of pointers on a SharedArrayBuffer,
 * for the worker tests: word 0 counts puts, word 1 counts takes.
 */
export const MAILBOX_SLOTS = 256;

export class Mailbox {
  private readonly words: Int32Array;

  constructor(buffer: SharedArrayBuffer) {
    this.words = new Int32Array(buffer);
  }

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
