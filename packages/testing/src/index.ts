/**
 * `@mmgr/testing`: what the tests of the `@mmgr` packages share. Workers
 * that run TypeScript on the workspace's sources and their messages, a
 * mailbox of pointers between workers, the byte pattern of handed-over
 * chunks and a seeded random stream. Private: only tests import it.
 *
 * @packageDocumentation
 */

export { MAILBOX_SLOTS, Mailbox } from "./mailbox.js";
export { type Chunk, fillChunk, firstBadByte } from "./pattern.js";
export { seededRandom } from "./random.js";
export { messages, nextMessage, type SpawnOptions, spawnWorker } from "./worker.js";
