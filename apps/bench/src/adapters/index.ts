/*-------------------------------------------------------------------------
 *
 * index.ts
 *	  The registry: every allocator of the comparison, in column order.
 *
 * The @mmgr packages first, then the peers a user would pick instead.
 * An adapter whose package is missing or not built stays in the list and
 * reports why its cells are empty.
 *
 *-------------------------------------------------------------------------
 */

import { asetAdapter } from "./aset.js";
import { contextTreeAdapter } from "./context-tree.js";
import { bufferAdapter, uint8ArrayAdapter } from "./gc.js";
import { heapAdapter, heapCacheAdapter, heapGrowableAdapter } from "./heap.js";
import { ngxAdapter } from "./ngx-pool.js";
import { sgiAdapter } from "./sgi-alloc.js";
import { thingAdapter } from "./thing-malloc.js";
import type { AdapterModule } from "./types.js";

export type {
  AdapterFactory,
  AdapterModule,
  Allocator,
  MemoryMethod,
  WorkloadName,
} from "./types.js";

/** Every allocator, in the order of the table's columns. */
export const ADAPTERS: readonly AdapterModule[] = [
  heapAdapter,
  heapCacheAdapter,
  heapGrowableAdapter,
  asetAdapter,
  contextTreeAdapter,
  sgiAdapter,
  ngxAdapter,
  thingAdapter,
  uint8ArrayAdapter,
  bufferAdapter,
];

/** The id of the adapter every cell is compared with first. */
export const THING_ID = thingAdapter.id;
/** The id of the GC baseline every cell is compared with. */
export const U8_ID = uint8ArrayAdapter.id;

/** The adapter with this id. @throws Error when there is none. */
export function adapterById(id: string): AdapterModule {
  const a = ADAPTERS.find((x) => x.id === id);
  if (a === undefined) {
    throw new Error(`unknown allocator "${id}" (known: ${ADAPTERS.map((x) => x.id).join(", ")})`);
  }
  return a;
}
