/*-------------------------------------------------------------------------
 *
 * aset.ts
 *	  PostgreSQL's AllocSet (src/backend/utils/mmgr/aset.c, PG 17) on an
 *	  @mmgr/heap arena.
 *
 * An AllocSet hands out chunks from a few large blocks it gets from the
 * heap (where aset.c calls malloc). Small requests are rounded up to a power
 * of two from 8 to 8192 bytes; a freed chunk goes onto the freelist of its
 * size class and is handed out again by the next request of that class, so
 * chunks are never split or merged and memory goes back to the heap only
 * at reset or delete. Blocks start at initBlockSize and double up to
 * maxBlockSize; before the active block is left behind, whatever room it
 * still has is carved into freelist chunks. Requests above allocChunkLimit
 * get a block of their own, given back to the heap as soon as the chunk is
 * freed. The first block holds the context header and the "keeper" block,
 * which reset keeps, so a context that is reset over and over never calls
 * the heap again once warmed up.
 *
 * Everything is in the arena, where aset.c puts it (see layout.ts): the
 * AllocSetContext struct at the start of the first heap block, the block
 * headers, a MemoryChunk header in front of every pointer with PG 17's
 * bits (method id 3, freelist index, offset back to the block). The JS
 * AllocSet object is a handle: the heap, the context's offset, its name
 * and the serial number of the incarnation it belongs to.
 *
 * Differences from aset.c (see README): misuse throws typed errors and
 * changes nothing (C has Asserts, or WARNINGs that carry on); every pointer
 * passed in is checked against this set in O(1), and a freed chunk carries
 * a mark in its header so a double free is caught without checking mode;
 * the context freelists, process statics in C, are kept per heap handle.
 *
 * A set belongs to one worker at a time, as a context belongs to one
 * backend process: another worker takes it over with attach on its own
 * handle of a shared heap, after a synchronizing hand-over. Blocks the set
 * got there may lie past this handle's views until they are refreshed;
 * attach and the calls that walk the set refresh them, and alloc does when
 * the memory it is about to hand out lies past them.
 *
 *-------------------------------------------------------------------------
 */

import {
  formatValue,
  type Heap,
  HeapCorruptionError,
  InvalidPointerError,
  InvalidSizeError,
  InvalidStateError,
  MmgrError,
  OutOfMemoryError,
  type Ptr,
} from "@mmgr/heap";
import type { AllocSetBlockInfo, AllocSetCounters, AllocSetSizes } from "./api.js";
import {
  ALLOC_BLOCKHDRSZ,
  ALLOC_CHUNKHDRSZ,
  ALLOC_CHUNKHDRSZ_CHECKING,
  ASET_MAGIC,
  BLK_ASET,
  BLK_ENDPTR,
  BLK_FREEPTR,
  BLK_NEXT,
  BLK_PREV,
  CHUNK_EXTERNAL_FREED_HI,
  CHUNK_EXTERNAL_HI,
  CHUNK_EXTERNAL_LO,
  CHUNK_FREE_BIT,
  CHUNK_HDR_HI,
  CHUNK_HDR_LO,
  CHUNK_REQUESTED_SIZE,
  CTX_ALLOC_CHUNK_LIMIT,
  CTX_BLOCKS,
  CTX_FREELIST,
  CTX_FREELIST_INDEX,
  CTX_INIT_BLOCK_SIZE,
  CTX_IS_RESET_BYTE,
  CTX_MAX_BLOCK_SIZE,
  CTX_MEM_ALLOCATED,
  CTX_METHODS,
  CTX_NEXT_BLOCK_SIZE,
  CTX_NEXTCHILD,
  CTX_PARENT,
  CTX_SERIAL,
  CTX_TYPE,
  CTX_WORDS,
  INVALID_ALLOC_SIZE_WORD,
  MAXALIGN_MASK,
  MCTX_ASET_ID,
  MEMORY_CONTEXT_METHODID_MASK,
  MEMORYCHUNK_BLOCKOFFSET_MASK,
  MEMORYCHUNK_MAX_BLOCKOFFSET,
  MEMORYCHUNK_VALUE_BASEBIT,
  SENTINEL_BYTE,
  SIZEOF_ASET_CONTEXT,
  WIPE_BYTE,
} from "./layout.js";

// ---------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------

/** aset.c: ALLOC_MINBITS, the smallest chunk is 1 << 3 = 8 bytes. */
export const ALLOC_MINBITS = 3;
/** aset.c: ALLOCSET_NUM_FREELISTS, one freelist per chunk size 8, 16, ..., 8192. */
export const ALLOCSET_NUM_FREELISTS = 11;
/** aset.c: ALLOC_CHUNK_LIMIT, the largest chunk a freelist holds (8192). */
export const ALLOC_CHUNK_LIMIT = 1 << (ALLOCSET_NUM_FREELISTS - 1 + ALLOC_MINBITS);
/** aset.c: ALLOC_CHUNK_FRACTION, about this many max-size chunks fit in a max-size block. */
export const ALLOC_CHUNK_FRACTION = 4;
/** memutils.h: ALLOCSET_SEPARATE_THRESHOLD, static-asserted equal to ALLOC_CHUNK_LIMIT. */
export const ALLOCSET_SEPARATE_THRESHOLD = 8192;
/** memutils.h: MaxAllocSize (1 GB - 1), the largest request. */
export const MAX_ALLOC_SIZE = 0x3fffffff;
/** aset.c: MAX_FREE_CONTEXTS, the length limit of each context freelist. */
export const MAX_FREE_CONTEXTS = 100;
/** aset.c: the smallest initBlockSize and non-zero minContextSize (asserted). */
export const ALLOC_MIN_BLOCK_SIZE = 1024;
/** aset.c: a failed block request is halved and retried while it is above 1 MB. */
export const ALLOC_BLOCK_RETRY_FLOOR = 1024 * 1024;

/** memutils.h: ALLOCSET_DEFAULT_MINSIZE. */
export const ALLOCSET_DEFAULT_MINSIZE = 0;
/** memutils.h: ALLOCSET_DEFAULT_INITSIZE. */
export const ALLOCSET_DEFAULT_INITSIZE = 8 * 1024;
/** memutils.h: ALLOCSET_DEFAULT_MAXSIZE. */
export const ALLOCSET_DEFAULT_MAXSIZE = 8 * 1024 * 1024;
/** memutils.h: ALLOCSET_SMALL_MINSIZE. */
export const ALLOCSET_SMALL_MINSIZE = 0;
/** memutils.h: ALLOCSET_SMALL_INITSIZE. */
export const ALLOCSET_SMALL_INITSIZE = 1 * 1024;
/** memutils.h: ALLOCSET_SMALL_MAXSIZE. */
export const ALLOCSET_SMALL_MAXSIZE = 8 * 1024;

/** memutils.h: ALLOCSET_DEFAULT_SIZES (0 / 8 KB / 8 MB), for most contexts. */
export const ALLOCSET_DEFAULT_SIZES: AllocSetSizes = Object.freeze({
  minContextSize: ALLOCSET_DEFAULT_MINSIZE,
  initBlockSize: ALLOCSET_DEFAULT_INITSIZE,
  maxBlockSize: ALLOCSET_DEFAULT_MAXSIZE,
});
/** memutils.h: ALLOCSET_SMALL_SIZES (0 / 1 KB / 8 KB), for contexts that stay small. */
export const ALLOCSET_SMALL_SIZES: AllocSetSizes = Object.freeze({
  minContextSize: ALLOCSET_SMALL_MINSIZE,
  initBlockSize: ALLOCSET_SMALL_INITSIZE,
  maxBlockSize: ALLOCSET_SMALL_MAXSIZE,
});
/** memutils.h: ALLOCSET_START_SMALL_SIZES (0 / 1 KB / 8 MB): start small, may grow large. */
export const ALLOCSET_START_SMALL_SIZES: AllocSetSizes = Object.freeze({
  minContextSize: ALLOCSET_SMALL_MINSIZE,
  initBlockSize: ALLOCSET_SMALL_INITSIZE,
  maxBlockSize: ALLOCSET_DEFAULT_MAXSIZE,
});

const FREELIST_LAST = ALLOCSET_NUM_FREELISTS - 1;
const WIPE_WORD = WIPE_BYTE * 0x01010101;

/**
 * aset.c: AllocSetFreeIndex. The freelist for a request of `size` bytes:
 * 0 for 0..8, 1 for 9..16, ..., 10 for 4097..8192. Its chunks hold `8 << index` bytes.
 * @throws InvalidSizeError when `size` is not an integer from 0 to {@link ALLOC_CHUNK_LIMIT}.
 */
export function allocSetFreeIndex(size: number): number {
  if (!Number.isInteger(size) || size < 0 || size > ALLOC_CHUNK_LIMIT) {
    throw new InvalidSizeError(
      `allocSetFreeIndex(): size ${formatValue(size)} is not an integer from 0 to ${ALLOC_CHUNK_LIMIT}`,
      size,
    );
  }
  return freeIndex(size);
}

/** AllocSetFreeIndex without the check: ceil(log2(size >> 3)), for 0 <= size <= 8192. */
function freeIndex(size: number): number {
  return size > 1 << ALLOC_MINBITS ? 32 - Math.clz32(size - 1) - ALLOC_MINBITS : 0;
}

// ---------------------------------------------------------------------------
// Per-heap-handle state: PostgreSQL's process statics (context_freelists) and
// the JS side of each live set (its handle, which carries the name, and
// ident). A worker's handle of a shared heap has its own: none of it crosses.
// ---------------------------------------------------------------------------

interface ContextFreeList {
  /** aset.c AllocSetFreeList.num_free */
  numFree: number;
  /** aset.c AllocSetFreeList.first_free (a context offset, 0 = none) */
  firstFree: number;
}

interface HeapState {
  /** The serial number given to the last set created (never 0). */
  serial: number;
  /** Handles of the live sets, by context offset. */
  readonly handles: Map<number, AllocSet>;
  /** Identifiers set with {@link AllocSet.ident}, by context offset. */
  readonly idents: Map<number, string>;
  /** aset.c: context_freelists[2]: [0] for default-sized sets, [1] for small ones. */
  readonly freeLists: [ContextFreeList, ContextFreeList];
}

const heapStates = new WeakMap<Heap, HeapState>();

function stateOf(heap: Heap): HeapState {
  let state = heapStates.get(heap);
  if (state === undefined) {
    state = {
      serial: (Math.random() * 0x7fffffff) | 0,
      handles: new Map(),
      idents: new Map(),
      freeLists: [
        { numFree: 0, firstFree: 0 },
        { numFree: 0, firstFree: 0 },
      ],
    };
    heapStates.set(heap, state);
  }
  return state;
}

function nextSerial(state: HeapState): number {
  let s = (state.serial + 0x9e3779b9) | 0;
  if (s === 0) s = 1;
  state.serial = s;
  return s;
}

/** The chunk header size an AllocSet on this heap uses: 16 in checking mode, else 8. */
function chunkHeaderSize(heap: Heap): number {
  return heap.checking ? ALLOC_CHUNKHDRSZ_CHECKING : ALLOC_CHUNKHDRSZ;
}

function checkSize(key: string, value: unknown, min: number, max: number): number {
  if (
    typeof value !== "number" ||
    !Number.isInteger(value) ||
    (value & MAXALIGN_MASK) !== 0 ||
    value < min ||
    value > max
  ) {
    throw new InvalidSizeError(
      `AllocSet.create(): ${key} ${formatValue(value)} is not a multiple of 8 from ${min} to ${max}`,
      value,
    );
  }
  return value;
}

/**
 * PostgreSQL's AllocSet memory context on a {@link Heap}: power-of-two
 * chunks on 11 freelists, blocks that double, a keeper block kept by reset.
 * The object is a handle on the context header in the arena.
 *
 * @example
 * ```ts
 * const heap = Heap.create();
 * const set = AllocSet.create(heap, "ExecutorState", ALLOCSET_DEFAULT_SIZES);
 * const p = set.alloc(100); // a 128-byte chunk
 * set.free(p);
 * set.reset();
 * set.delete();
 * ```
 */
export class AllocSet {
  /** The heap the set gets its blocks from. */
  readonly heap: Heap;
  /** Offset of the context header (AllocSetContext) in the arena: the set's identity. */
  readonly offset: Ptr;
  /** The context's name, as given to create (PostgreSQL's `name`). */
  readonly name: string;
  /** Checking mode (the heap's): MEMORY_CONTEXT_CHECKING and CLOBBER_FREED_MEMORY. */
  readonly checking: boolean;
  /** ALLOC_CHUNKHDRSZ in effect: 8, or 16 in checking mode. */
  readonly chunkHeaderSize: number;
  /** The incarnation this handle belongs to; the header's serial word must match. */
  private readonly serial: number;
  private readonly state: HeapState;

  private constructor(heap: Heap, offset: Ptr, name: string, serial: number, state: HeapState) {
    this.heap = heap;
    this.offset = offset;
    this.name = name;
    this.checking = heap.checking;
    this.chunkHeaderSize = chunkHeaderSize(heap);
    this.serial = serial;
    this.state = state;
  }

  // -------------------------------------------------------------------------
  // Creation, lookup
  // -------------------------------------------------------------------------

  /**
   * aset.c: AllocSetContextCreateInternal. Makes a set whose first heap block
   * holds the context header and the keeper block; a set with default or
   * small sizes reuses a deleted one from the heap's context freelist if any.
   * @param sizes block sizing, e.g. {@link ALLOCSET_DEFAULT_SIZES}
   * @throws InvalidSizeError when a size breaks aset.c's asserted rules:
   *   `initBlockSize` a multiple of 8 and at least 1024; `maxBlockSize` a
   *   multiple of 8 from `initBlockSize` to 0x3FFFFFFF; `minContextSize` 0 or
   *   a multiple of 8 from 1024 to `maxBlockSize`.
   * @throws OutOfMemoryError when the heap cannot supply the first block.
   * @throws MmgrError when `name` is not a string.
   */
  static create(heap: Heap, name: string, sizes: AllocSetSizes): AllocSet {
    if (typeof name !== "string") {
      throw new MmgrError(`AllocSet.create(): name ${formatValue(name)} is not a string`);
    }
    if (sizes === null || typeof sizes !== "object") {
      throw new InvalidSizeError(
        `AllocSet.create(): sizes ${formatValue(sizes)} is not an object of block sizes`,
        sizes,
      );
    }
    const initBlockSize = checkSize(
      "initBlockSize",
      sizes.initBlockSize,
      ALLOC_MIN_BLOCK_SIZE,
      MEMORYCHUNK_MAX_BLOCKOFFSET,
    );
    const maxBlockSize = checkSize(
      "maxBlockSize",
      sizes.maxBlockSize,
      initBlockSize,
      MEMORYCHUNK_MAX_BLOCKOFFSET,
    );
    const minContextSize =
      sizes.minContextSize === 0
        ? 0
        : checkSize("minContextSize", sizes.minContextSize, ALLOC_MIN_BLOCK_SIZE, maxBlockSize);

    const state = stateOf(heap);
    let freeListIndex = -1;
    if (
      minContextSize === ALLOCSET_DEFAULT_MINSIZE &&
      initBlockSize === ALLOCSET_DEFAULT_INITSIZE
    ) {
      freeListIndex = 0;
    } else if (
      minContextSize === ALLOCSET_SMALL_MINSIZE &&
      initBlockSize === ALLOCSET_SMALL_INITSIZE
    ) {
      freeListIndex = 1;
    }

    if (freeListIndex >= 0) {
      const list = state.freeLists[freeListIndex];
      if (list.firstFree !== 0) {
        const ctx = list.firstFree;
        const i32 = heap.i32;
        const cw = ctx >> 2;
        list.firstFree = i32[cw + CTX_NEXTCHILD];
        list.numFree--;
        // "Update its maxBlockSize; everything else should be OK": aset.c
        // keeps allocChunkLimit as it was, and so do we.
        i32[cw + CTX_MAX_BLOCK_SIZE] = maxBlockSize;
        const keeperEnd = i32[((ctx + SIZEOF_ASET_CONTEXT) >> 2) + BLK_ENDPTR];
        return AllocSet.initHeader(heap, state, ctx, name, keeperEnd - ctx);
      }
    }

    const chdr = chunkHeaderSize(heap);
    let firstBlockSize = SIZEOF_ASET_CONTEXT + ALLOC_BLOCKHDRSZ + chdr;
    firstBlockSize = Math.max(
      firstBlockSize,
      minContextSize !== 0 ? minContextSize : initBlockSize,
    );
    const ctx = heap.malloc(firstBlockSize);
    if (ctx === 0) {
      throw new OutOfMemoryError(
        "out of memory",
        firstBlockSize,
        `Failed while creating memory context "${name}".`,
      );
    }
    const i32 = heap.i32;
    const cw = ctx >> 2;
    const keeper = ctx + SIZEOF_ASET_CONTEXT;
    const kw = keeper >> 2;
    i32.fill(0, cw, cw + CTX_WORDS + (ALLOC_BLOCKHDRSZ >> 2));
    i32[kw + BLK_ASET] = ctx;
    i32[kw + BLK_FREEPTR] = keeper + ALLOC_BLOCKHDRSZ;
    i32[kw + BLK_ENDPTR] = ctx + firstBlockSize;
    i32[cw + CTX_BLOCKS] = keeper;
    i32[cw + CTX_INIT_BLOCK_SIZE] = initBlockSize;
    i32[cw + CTX_MAX_BLOCK_SIZE] = maxBlockSize;
    i32[cw + CTX_NEXT_BLOCK_SIZE] = initBlockSize;
    i32[cw + CTX_FREELIST_INDEX] = freeListIndex;
    let limit = ALLOC_CHUNK_LIMIT;
    while (limit + chdr > Math.floor((maxBlockSize - ALLOC_BLOCKHDRSZ) / ALLOC_CHUNK_FRACTION)) {
      limit >>= 1;
    }
    i32[cw + CTX_ALLOC_CHUNK_LIMIT] = limit;
    return AllocSet.initHeader(heap, state, ctx, name, firstBlockSize);
  }

  /** mcxt.c MemoryContextCreate, as far as it concerns a context on its own. */
  private static initHeader(
    heap: Heap,
    state: HeapState,
    ctx: number,
    name: string,
    memAllocated: number,
  ): AllocSet {
    const i32 = heap.i32;
    const cw = ctx >> 2;
    i32[cw + CTX_TYPE] = ASET_MAGIC;
    i32[cw + 1] = 0;
    heap.u8[ctx + CTX_IS_RESET_BYTE] = 1;
    i32[cw + CTX_MEM_ALLOCATED] = memAllocated;
    i32[cw + CTX_MEM_ALLOCATED + 1] = 0;
    i32[cw + CTX_METHODS] = MCTX_ASET_ID;
    i32[cw + CTX_METHODS + 1] = 0;
    // parent, firstchild, prevchild, nextchild, name, ident, reset_cbs
    i32.fill(0, cw + CTX_PARENT, cw + CTX_BLOCKS);
    const serial = nextSerial(state);
    i32[cw + CTX_SERIAL] = serial;
    const set = new AllocSet(heap, ctx, name, serial, state);
    state.handles.set(ctx, set);
    state.idents.delete(ctx);
    return set;
  }

  /**
   * The handle of the live AllocSet whose context header is at `offset`
   * (its {@link AllocSet.offset}), e.g. as found by {@link AllocSet.contextOf}.
   * Everything the set needs is read from the bytes, so `heap` may be
   * another worker's handle of a shared heap (`Heap.attach(buffer)`): that
   * is how a set is handed over. The heap's views are refreshed first, for a
   * set whose blocks another worker got past them. Within one heap handle,
   * attach returns the handle create gave out; a set made through another
   * heap handle gets a new one, whose name is `""` (names and idents stay
   * with the handle that set them).
   * @throws InvalidPointerError when no live AllocSet of this heap is there.
   */
  static attach(heap: Heap, offset: Ptr): AllocSet {
    heap.refresh();
    const state = stateOf(heap);
    if (!AllocSet.isLiveHeader(heap, offset)) {
      throw new InvalidPointerError(
        `AllocSet.attach(): offset ${formatValue(offset)} is not the header of a live AllocSet of this heap`,
        offset,
      );
    }
    const serial = heap.i32[(offset >> 2) + CTX_SERIAL];
    const known = state.handles.get(offset);
    if (known !== undefined && known.serial === serial) return known;
    // A set made through another heap handle (another worker's) or another copy of this module.
    const set = new AllocSet(heap, offset, "", serial, state);
    state.handles.set(offset, set);
    return set;
  }

  private static isLiveHeader(heap: Heap, offset: unknown): offset is number {
    if (
      typeof offset !== "number" ||
      offset >>> 0 !== offset ||
      (offset & MAXALIGN_MASK) !== 0 ||
      offset === 0 ||
      offset + SIZEOF_ASET_CONTEXT + ALLOC_BLOCKHDRSZ > heap.end
    ) {
      return false;
    }
    const i32 = heap.i32;
    const cw = offset >> 2;
    return (
      i32[cw + CTX_TYPE] === ASET_MAGIC &&
      i32[cw + CTX_SERIAL] !== 0 &&
      i32[cw + CTX_METHODS] === MCTX_ASET_ID
    );
  }

  /**
   * The offset of the context header of the AllocSet that owns `ptr`, found
   * in O(1) from the chunk header as mcxt.c's GetMemoryChunkContext does
   * (through the block offset, or for a dedicated chunk the block right in
   * front of it). Pass the result to {@link AllocSet.attach}. A freed
   * freelist-sized chunk still names its set (whose free then reports the
   * double free); a freed dedicated chunk does not.
   * @throws InvalidPointerError when the bytes before `ptr` are not the
   *   header of a chunk of a live AllocSet of this heap.
   */
  static contextOf(heap: Heap, ptr: Ptr): Ptr {
    const chdr = chunkHeaderSize(heap);
    let why = "is not a chunk of a live AllocSet of this heap";
    if (
      typeof ptr === "number" &&
      ptr >>> 0 === ptr &&
      (ptr & MAXALIGN_MASK) === 0 &&
      ptr >= chdr + ALLOC_BLOCKHDRSZ + 8 &&
      ptr < heap.end
    ) {
      const i32 = heap.i32;
      const w = ptr >> 2;
      const lo = i32[w + CHUNK_HDR_LO];
      const hi = i32[w + CHUNK_HDR_HI];
      let block = -1;
      if (lo === CHUNK_EXTERNAL_LO && hi === CHUNK_EXTERNAL_FREED_HI) {
        why = "was already freed";
      } else if (lo === CHUNK_EXTERNAL_LO && hi === CHUNK_EXTERNAL_HI) {
        block = ptr - chdr - ALLOC_BLOCKHDRSZ;
      } else if (
        (lo & MEMORY_CONTEXT_METHODID_MASK) === MCTX_ASET_ID &&
        (lo & ~CHUNK_FREE_BIT) >>> MEMORYCHUNK_VALUE_BASEBIT <= FREELIST_LAST &&
        (hi & 31) === 0
      ) {
        block = ptr - chdr - ((hi >>> 2) & MEMORYCHUNK_BLOCKOFFSET_MASK);
      } else if ((lo & MEMORY_CONTEXT_METHODID_MASK) !== MCTX_ASET_ID) {
        why = `has method id ${lo & MEMORY_CONTEXT_METHODID_MASK} in its chunk header, not AllocSet's ${MCTX_ASET_ID}`;
      }
      if (block > 0) {
        const ctx = i32[(block >> 2) + BLK_ASET];
        if (AllocSet.isLiveHeader(heap, ctx)) return ctx;
      }
    }
    throw new InvalidPointerError(`AllocSet.contextOf(): pointer ${formatValue(ptr)} ${why}`, ptr);
  }

  /**
   * How many deleted sets the heap handle keeps for reuse (aset.c
   * context_freelists): `default` holds sets of 0 / 8 KB initial sizes,
   * `small` of 0 / 1 KB. Each handle of a shared heap has its own lists:
   * a set deleted in a worker is kept on that worker's.
   */
  static cachedContexts(heap: Heap): { default: number; small: number } {
    const lists = stateOf(heap).freeLists;
    return { default: lists[0].numFree, small: lists[1].numFree };
  }

  /**
   * Gives every deleted set kept on the heap handle's context freelists back
   * to the heap (not in PostgreSQL, where they live until the process ends).
   * A worker that deleted sets calls it before it ends, or their first
   * blocks stay allocated.
   * @returns how many were freed.
   */
  static releaseCachedContexts(heap: Heap): number {
    let n = 0;
    for (const list of stateOf(heap).freeLists) n += AllocSet.drain(heap, list);
    return n;
  }

  private static drain(heap: Heap, list: ContextFreeList): number {
    let n = 0;
    const i32 = heap.i32;
    while (list.firstFree !== 0) {
      const old = list.firstFree;
      list.firstFree = i32[(old >> 2) + CTX_NEXTCHILD];
      list.numFree--;
      i32[(old >> 2) + CTX_TYPE] = 0;
      heap.free(old);
      n++;
    }
    return n;
  }

  // -------------------------------------------------------------------------
  // Accessors
  // -------------------------------------------------------------------------

  /** Whether this set was deleted (then every other call throws InvalidStateError). */
  get deleted(): boolean {
    const i32 = this.heap.i32;
    const cw = this.offset >> 2;
    return i32[cw + CTX_SERIAL] !== this.serial || i32[cw + CTX_TYPE] !== ASET_MAGIC;
  }

  /**
   * mem_allocated: bytes of all blocks held, the first block (header and
   * keeper) included. Equals what the set holds of the heap.
   * @throws InvalidStateError when the set was deleted.
   */
  get memAllocated(): number {
    this.live("memAllocated");
    return this.heap.i32[(this.offset >> 2) + CTX_MEM_ALLOCATED];
  }

  /**
   * Requests above this many bytes get a dedicated block: 8192, halved while
   * `limit + chunk header > (maxBlockSize - 40) / 4`.
   * @throws InvalidStateError when the set was deleted.
   */
  get allocChunkLimit(): number {
    this.live("allocChunkLimit");
    return this.heap.i32[(this.offset >> 2) + CTX_ALLOC_CHUNK_LIMIT];
  }

  /**
   * The set's block sizing (maxBlockSize as last given to create, for a set
   * reused from the context freelist).
   * @throws InvalidStateError when the set was deleted.
   */
  get sizes(): AllocSetSizes {
    this.live("sizes");
    const i32 = this.heap.i32;
    const cw = this.offset >> 2;
    const keeperEnd = i32[((this.offset + SIZEOF_ASET_CONTEXT) >> 2) + BLK_ENDPTR];
    const first = keeperEnd - this.offset;
    const init = i32[cw + CTX_INIT_BLOCK_SIZE];
    return {
      minContextSize: first === init ? 0 : first,
      initBlockSize: init,
      maxBlockSize: i32[cw + CTX_MAX_BLOCK_SIZE],
    };
  }

  /**
   * The size of the next non-dedicated block: initBlockSize after create and
   * reset, doubled by each new block up to maxBlockSize.
   * @throws InvalidStateError when the set was deleted.
   */
  get nextBlockSize(): number {
    this.live("nextBlockSize");
    return this.heap.i32[(this.offset >> 2) + CTX_NEXT_BLOCK_SIZE];
  }

  /**
   * PostgreSQL's context `ident`: optional text shown after the name, kept
   * in a side table (undefined when unset).
   * @throws InvalidStateError when the set was deleted.
   */
  get ident(): string | undefined {
    this.live("ident");
    return this.state.idents.get(this.offset);
  }

  set ident(value: string | undefined) {
    this.live("ident");
    if (value === undefined) this.state.idents.delete(this.offset);
    else this.state.idents.set(this.offset, String(value));
  }

  // -------------------------------------------------------------------------
  // Allocation
  // -------------------------------------------------------------------------

  /**
   * aset.c: AllocSetAlloc. Allocates `size` bytes, 8-aligned: a power-of-two
   * chunk from a freelist or the active block up to allocChunkLimit, a
   * dedicated block above it. `alloc(0)` gives a usable 8-byte chunk.
   * @returns the pointer, or 0 when the heap cannot supply a block.
   * @throws InvalidSizeError when `size` is not an integer from 0 to
   *   {@link MAX_ALLOC_SIZE} ("invalid memory alloc request size").
   * @throws InvalidStateError when the set was deleted.
   * @throws HeapCorruptionError in checking mode when the freelist head is damaged.
   */
  alloc(size: number): Ptr {
    const i32 = this.heap.i32;
    const cw = this.offset >> 2;
    if (i32[cw + CTX_SERIAL] !== this.serial || i32[cw + CTX_TYPE] !== ASET_MAGIC) {
      this.gone("alloc");
    }
    if (size >>> 0 !== size || size > MAX_ALLOC_SIZE) this.badSize("alloc", size);
    // mcxt.c: MemoryContextAlloc clears isReset; written only when set, as a
    // byte store through the other view makes V8 reload what it read from i32.
    if (this.heap.u8[this.offset + CTX_IS_RESET_BYTE] !== 0) this.clearIsReset();
    if (this.checking || size > i32[cw + CTX_ALLOC_CHUNK_LIMIT]) return this.allocChunk(size);
    // AllocSetAlloc's common cases, written for V8 to inline: a freelist
    // chunk here, the next chunk of the active block in allocFromActive.
    const fidx = freeIndex(size);
    const slot = cw + CTX_FREELIST + (fidx << 1);
    const ptr = i32[slot] + ALLOC_CHUNKHDRSZ;
    if (ptr === ALLOC_CHUNKHDRSZ) return this.allocFromActive(size, fidx);
    if (ptr + (8 << fidx) > this.heap.viewEnd) return this.allocChunk(size);
    const w = ptr >> 2;
    i32[slot] = i32[w];
    i32[w + CHUNK_HDR_LO] = MCTX_ASET_ID | (fidx << MEMORYCHUNK_VALUE_BASEBIT);
    return ptr;
  }

  /**
   * The next chunk of class `fidx` from the active block, when it has room
   * and lies inside the views; else the general path (allocChunk).
   */
  private allocFromActive(size: number, fidx: number): Ptr {
    const i32 = this.heap.i32;
    const block = i32[(this.offset >> 2) + CTX_BLOCKS];
    const bw = block >> 2;
    const chunk = i32[bw + BLK_FREEPTR];
    const next = chunk + ALLOC_CHUNKHDRSZ + (8 << fidx);
    // Also false when the block header lies past the views (undefined words).
    if (!(next <= i32[bw + BLK_ENDPTR] && next <= this.heap.viewEnd)) return this.allocChunk(size);
    i32[bw + BLK_FREEPTR] = next;
    const w = (chunk + ALLOC_CHUNKHDRSZ) >> 2;
    i32[w + CHUNK_HDR_LO] = MCTX_ASET_ID | (fidx << MEMORYCHUNK_VALUE_BASEBIT);
    i32[w + CHUNK_HDR_HI] = (chunk - block) << 2;
    return chunk + ALLOC_CHUNKHDRSZ;
  }

  /** mcxt.c: MemoryContextAlloc's `isReset = false`, when it is set. */
  private clearIsReset(): void {
    this.heap.u8[this.offset + CTX_IS_RESET_BYTE] = 0;
  }

  /** AllocSetAlloc proper: `size` is valid and the set live. */
  private allocChunk(size: number): Ptr {
    let i32 = this.heap.i32;
    const cw = this.offset >> 2;
    if (size > i32[cw + CTX_ALLOC_CHUNK_LIMIT]) return this.allocLarge(size);
    const fidx = freeIndex(size);
    const chdr = this.chunkHeaderSize;
    const slot = cw + CTX_FREELIST + (fidx << 1);
    const head = i32[slot];
    if (head !== 0) {
      const ptr = head + chdr;
      if (ptr + (8 << fidx) > this.heap.viewEnd) i32 = this.unseen(head);
      const w = ptr >> 2;
      if (this.checking) this.checkFreeHead(head, fidx);
      i32[slot] = i32[w];
      i32[w + CHUNK_HDR_LO] = MCTX_ASET_ID | (fidx << MEMORYCHUNK_VALUE_BASEBIT);
      if (this.checking) this.setRequested(ptr, size, 8 << fidx);
      return ptr;
    }
    const chunkSize = 8 << fidx;
    const block = i32[cw + CTX_BLOCKS];
    const bw = block >> 2;
    let end = i32[bw + BLK_ENDPTR];
    // Also true when the header lies past the views (then end is undefined).
    if (!(end <= this.heap.viewEnd)) {
      i32 = this.unseen(block);
      end = i32[bw + BLK_ENDPTR];
    }
    const chunk = i32[bw + BLK_FREEPTR];
    if (end - chunk < chunkSize + chdr) return this.allocFromNewBlock(size, fidx);
    i32[bw + BLK_FREEPTR] = chunk + chunkSize + chdr;
    return this.initChunk(block, chunk, size, fidx);
  }

  /** aset.c: AllocSetAllocChunkFromBlock's header writing. */
  private initChunk(block: number, chunk: number, size: number, fidx: number): Ptr {
    const i32 = this.heap.i32;
    const ptr = chunk + this.chunkHeaderSize;
    const w = ptr >> 2;
    i32[w + CHUNK_HDR_LO] = MCTX_ASET_ID | (fidx << MEMORYCHUNK_VALUE_BASEBIT);
    i32[w + CHUNK_HDR_HI] = (chunk - block) << 2;
    if (this.checking) this.setRequested(ptr, size, 8 << fidx);
    return ptr;
  }

  /** aset.c: AllocSetAllocLarge. A dedicated block, linked second in the block list. */
  private allocLarge(size: number): Ptr {
    const heap = this.heap;
    const chdr = this.chunkHeaderSize;
    // checking: room for a sentinel byte, always
    const chunkSize = ((this.checking ? size + 1 : size) + MAXALIGN_MASK) & ~MAXALIGN_MASK;
    const blksize = chunkSize + ALLOC_BLOCKHDRSZ + chdr;
    const block = heap.malloc(blksize);
    if (block === 0) return 0;
    let i32 = heap.i32;
    const cw = this.offset >> 2;
    if (i32[cw + CTX_BLOCKS] + ALLOC_BLOCKHDRSZ > heap.viewEnd) {
      i32 = this.unseen(i32[cw + CTX_BLOCKS]);
    }
    const bw = block >> 2;
    i32[cw + CTX_MEM_ALLOCATED] += blksize;
    i32.fill(0, bw, bw + (ALLOC_BLOCKHDRSZ >> 2));
    i32[bw + BLK_ASET] = this.offset;
    i32[bw + BLK_FREEPTR] = block + blksize;
    i32[bw + BLK_ENDPTR] = block + blksize;
    const ptr = block + ALLOC_BLOCKHDRSZ + chdr;
    const w = ptr >> 2;
    i32[w + CHUNK_HDR_LO] = CHUNK_EXTERNAL_LO;
    i32[w + CHUNK_HDR_HI] = CHUNK_EXTERNAL_HI;
    if (this.checking) this.setRequested(ptr, size, chunkSize);
    // Underneath the active block, so that its free space stays in use.
    const head = i32[cw + CTX_BLOCKS];
    const next = i32[(head >> 2) + BLK_NEXT];
    i32[bw + BLK_PREV] = head;
    i32[bw + BLK_NEXT] = next;
    if (next !== 0) i32[(next >> 2) + BLK_PREV] = block;
    i32[(head >> 2) + BLK_NEXT] = block;
    return ptr;
  }

  /**
   * aset.c: AllocSetAllocFromNewBlock. Carves what is left of the active
   * block into freelist chunks, then makes a new block the active one.
   */
  private allocFromNewBlock(size: number, fidx: number): Ptr {
    const heap = this.heap;
    const chdr = this.chunkHeaderSize;
    let i32 = heap.i32;
    const cw = this.offset >> 2;
    const old = i32[cw + CTX_BLOCKS];
    const ow = old >> 2;
    let freeptr = i32[ow + BLK_FREEPTR];
    let avail = i32[ow + BLK_ENDPTR] - freeptr;
    // At most ALLOCSET_NUM_FREELISTS - 1 rounds: less than a chunk limit is left.
    while (avail >= (1 << ALLOC_MINBITS) + chdr) {
      let availchunk = avail - chdr;
      let a = freeIndex(availchunk);
      if (availchunk !== 8 << a) {
        a--; // round down to the power of two that fits
        availchunk = 8 << a;
      }
      const chunk = freeptr;
      freeptr += availchunk + chdr;
      avail -= availchunk + chdr;
      const ptr = chunk + chdr;
      const w = ptr >> 2;
      i32[w + CHUNK_HDR_LO] = MCTX_ASET_ID | (a << MEMORYCHUNK_VALUE_BASEBIT) | CHUNK_FREE_BIT;
      i32[w + CHUNK_HDR_HI] = (chunk - old) << 2;
      if (this.checking) {
        i32[w + CHUNK_REQUESTED_SIZE] = INVALID_ALLOC_SIZE_WORD;
        i32[w + CHUNK_REQUESTED_SIZE + 1] = INVALID_ALLOC_SIZE_WORD;
        heap.u8.fill(WIPE_BYTE, ptr, ptr + availchunk);
      }
      const slot = cw + CTX_FREELIST + (a << 1);
      i32[w] = i32[slot];
      i32[w + 1] = 0;
      i32[slot] = chunk;
    }
    i32[ow + BLK_FREEPTR] = freeptr;

    let blksize = i32[cw + CTX_NEXT_BLOCK_SIZE];
    i32[cw + CTX_NEXT_BLOCK_SIZE] = Math.min(blksize * 2, i32[cw + CTX_MAX_BLOCK_SIZE]);
    const chunkSize = 8 << fidx;
    const required = chunkSize + ALLOC_BLOCKHDRSZ + chdr;
    while (blksize < required) blksize *= 2;
    let block = heap.malloc(blksize);
    // Big blocks may fail where a smaller one would do; give up under 1 MB.
    while (block === 0 && blksize > ALLOC_BLOCK_RETRY_FLOOR) {
      blksize >>>= 1;
      if (blksize < required) break;
      block = heap.malloc(blksize);
    }
    if (block === 0) return 0;
    i32 = heap.i32;
    i32[cw + CTX_MEM_ALLOCATED] += blksize;
    const bw = block >> 2;
    i32.fill(0, bw, bw + (ALLOC_BLOCKHDRSZ >> 2));
    i32[bw + BLK_ASET] = this.offset;
    i32[bw + BLK_FREEPTR] = block + ALLOC_BLOCKHDRSZ + chunkSize + chdr;
    i32[bw + BLK_ENDPTR] = block + blksize;
    i32[bw + BLK_NEXT] = old;
    i32[ow + BLK_PREV] = block;
    i32[cw + CTX_BLOCKS] = block;
    return this.initChunk(block, block + ALLOC_BLOCKHDRSZ, size, fidx);
  }

  // -------------------------------------------------------------------------
  // free, realloc, getChunkSpace
  // -------------------------------------------------------------------------

  /**
   * aset.c: AllocSetFree. A chunk goes onto the head of its freelist; a
   * dedicated block goes back to the heap at once.
   * @throws InvalidPointerError when `ptr` is not a live chunk of this set:
   *   0, never allocated, an interior pointer, another set's, or already
   *   freed (double free).
   * @throws HeapCorruptionError in checking mode when the sentinel after the
   *   requested size was overwritten.
   * @throws InvalidStateError when the set was deleted.
   */
  free(ptr: Ptr): void {
    const i32 = this.heap.i32;
    const cw = this.offset >> 2;
    if (i32[cw + CTX_SERIAL] !== this.serial || i32[cw + CTX_TYPE] !== ASET_MAGIC) {
      this.gone("free");
    }
    // AllocSetFree of a live small chunk: chunkBlockFast's checks, written
    // out here so that V8 inlines the whole free into the caller (a call to
    // chunkBlockFast made churn 1.2x slower), then onto the head of its
    // freelist. Anything else (checking mode, a dedicated block's chunk, a
    // bad pointer) goes to chunkBlock, which says what is wrong.
    if (
      this.checking ||
      ptr >>> 0 !== ptr ||
      (ptr & MAXALIGN_MASK) !== 0 ||
      ptr >= this.heap.viewEnd
    ) {
      this.freeChecked(ptr);
      return;
    }
    const w = ptr >> 2;
    const lo = i32[w + CHUNK_HDR_LO];
    const hi = i32[w + CHUNK_HDR_HI];
    const fidx = lo >>> MEMORYCHUNK_VALUE_BASEBIT;
    const offset = (hi >>> 2) & MEMORYCHUNK_BLOCKOFFSET_MASK;
    const bw = (ptr - ALLOC_CHUNKHDRSZ - offset) >> 2;
    if (
      lo < 0 ||
      (lo & 31) !== MCTX_ASET_ID ||
      fidx > FREELIST_LAST ||
      (hi & 31) !== 0 ||
      offset < ALLOC_BLOCKHDRSZ ||
      i32[bw + BLK_ASET] !== this.offset ||
      ptr + (8 << fidx) > i32[bw + BLK_FREEPTR]
    ) {
      this.freeChecked(ptr);
      return;
    }
    i32[w + CHUNK_HDR_LO] = lo | CHUNK_FREE_BIT;
    const slot = cw + CTX_FREELIST + (fidx << 1);
    i32[w] = i32[slot];
    i32[w + 1] = 0;
    i32[slot] = ptr - ALLOC_CHUNKHDRSZ;
  }

  /** AllocSetFree by the general path: every check, with its message. */
  private freeChecked(ptr: Ptr): void {
    this.freeChunk(ptr, this.chunkBlock("free", ptr));
  }

  /** AllocSetFree proper, for a validated chunk of `block`. */
  private freeChunk(ptr: Ptr, block: number): void {
    const heap = this.heap;
    const i32 = heap.i32;
    const w = ptr >> 2;
    const cw = this.offset >> 2;
    if (i32[w + CHUNK_HDR_LO] === CHUNK_EXTERNAL_LO) {
      if (this.checking) heap.usableSize(block); // the heap's own sentinel, before we change anything
      const bw = block >> 2;
      const prev = i32[bw + BLK_PREV];
      const next = i32[bw + BLK_NEXT];
      if (prev !== 0) i32[(prev >> 2) + BLK_NEXT] = next;
      else i32[cw + CTX_BLOCKS] = next;
      if (next !== 0) i32[(next >> 2) + BLK_PREV] = prev;
      i32[cw + CTX_MEM_ALLOCATED] -= i32[bw + BLK_ENDPTR] - block;
      i32[w + CHUNK_HDR_HI] = CHUNK_EXTERNAL_FREED_HI;
      i32[bw + BLK_ASET] = 0;
      heap.free(block); // wipes it in checking mode (CLOBBER_FREED_MEMORY)
      return;
    }
    const fidx = (i32[w + CHUNK_HDR_LO] >>> MEMORYCHUNK_VALUE_BASEBIT) & 15;
    if (this.checking) {
      heap.u8.fill(WIPE_BYTE, ptr, ptr + (8 << fidx));
      i32[w + CHUNK_REQUESTED_SIZE] = INVALID_ALLOC_SIZE_WORD;
      i32[w + CHUNK_REQUESTED_SIZE + 1] = INVALID_ALLOC_SIZE_WORD;
    }
    i32[w + CHUNK_HDR_LO] = MCTX_ASET_ID | (fidx << MEMORYCHUNK_VALUE_BASEBIT) | CHUNK_FREE_BIT;
    const slot = cw + CTX_FREELIST + (fidx << 1);
    i32[w] = i32[slot];
    i32[w + 1] = 0;
    i32[slot] = ptr - this.chunkHeaderSize;
  }

  /**
   * aset.c: AllocSetRealloc. Keeps the pointer when `size` fits the chunk
   * (any shrink, or growth within the power of two); a dedicated block is
   * reallocated on the heap (it stays dedicated, even when shrunk); else
   * allocates a new chunk, copies and frees the old one.
   * @returns the (possibly moved) pointer, or 0 when the heap cannot supply
   *   the memory, the old chunk then left intact.
   * @throws InvalidPointerError as {@link AllocSet.free}.
   * @throws InvalidSizeError as {@link AllocSet.alloc}.
   * @throws HeapCorruptionError in checking mode as {@link AllocSet.free}.
   * @throws InvalidStateError when the set was deleted.
   */
  realloc(ptr: Ptr, size: number): Ptr {
    this.live("realloc");
    const block = this.locate("realloc", ptr);
    if (size >>> 0 !== size || size > MAX_ALLOC_SIZE) this.badSize("realloc", size);
    const heap = this.heap;
    let i32 = heap.i32;
    const w = ptr >> 2;
    const chdr = this.chunkHeaderSize;
    if (i32[w + CHUNK_HDR_LO] === CHUNK_EXTERNAL_LO) {
      const chunkSize = ((this.checking ? size + 1 : size) + MAXALIGN_MASK) & ~MAXALIGN_MASK;
      const blksize = chunkSize + ALLOC_BLOCKHDRSZ + chdr;
      const oldblksize = i32[(block >> 2) + BLK_ENDPTR] - block;
      const moved = heap.realloc(block, blksize);
      if (moved === 0) return 0;
      i32 = heap.i32;
      const cw = this.offset >> 2;
      const bw = moved >> 2;
      i32[cw + CTX_MEM_ALLOCATED] += blksize - oldblksize;
      i32[bw + BLK_FREEPTR] = moved + blksize;
      i32[bw + BLK_ENDPTR] = moved + blksize;
      const prev = i32[bw + BLK_PREV];
      const next = i32[bw + BLK_NEXT];
      if (prev !== 0) i32[(prev >> 2) + BLK_NEXT] = moved;
      else i32[cw + CTX_BLOCKS] = moved;
      if (next !== 0) i32[(next >> 2) + BLK_PREV] = moved;
      const np = moved + ALLOC_BLOCKHDRSZ + chdr;
      if (this.checking) this.setRequested(np, size, chunkSize);
      return np;
    }
    const fidx = (i32[w + CHUNK_HDR_LO] >>> MEMORYCHUNK_VALUE_BASEBIT) & 15;
    const oldChunkSize = 8 << fidx;
    if (oldChunkSize >= size) {
      if (this.checking) this.setRequested(ptr, size, oldChunkSize);
      return ptr;
    }
    const oldSize = this.checking ? i32[w + CHUNK_REQUESTED_SIZE] : oldChunkSize;
    const np = this.allocChunk(size);
    if (np === 0) return 0;
    if (ptr + oldSize > heap.viewEnd) heap.refresh(); // see unseen()
    heap.u8.copyWithin(np, ptr, ptr + oldSize);
    this.freeChunk(ptr, block);
    return np;
  }

  /**
   * aset.c: AllocSetGetChunkSpace (GetMemoryChunkSpace): the bytes a chunk
   * takes, header included: `(8 << fidx) + header` for a freelist-sized
   * chunk, `endptr - chunk header` for a dedicated one.
   * @throws InvalidPointerError as {@link AllocSet.free}.
   * @throws InvalidStateError when the set was deleted.
   */
  getChunkSpace(ptr: Ptr): number {
    this.live("getChunkSpace");
    const block = this.locate("getChunkSpace", ptr);
    const i32 = this.heap.i32;
    const lo = i32[(ptr >> 2) + CHUNK_HDR_LO];
    if (lo === CHUNK_EXTERNAL_LO) {
      return i32[(block >> 2) + BLK_ENDPTR] - (ptr - this.chunkHeaderSize);
    }
    return (8 << ((lo >>> MEMORYCHUNK_VALUE_BASEBIT) & 15)) + this.chunkHeaderSize;
  }

  /**
   * The requested size of a live chunk: what was asked of alloc/realloc in
   * checking mode (kept in the chunk header), the chunk's usable size otherwise.
   * @throws InvalidPointerError as {@link AllocSet.free}.
   * @throws InvalidStateError when the set was deleted.
   */
  usableSize(ptr: Ptr): number {
    this.live("usableSize");
    this.locate("usableSize", ptr);
    const i32 = this.heap.i32;
    const w = ptr >> 2;
    if (this.checking) return i32[w + CHUNK_REQUESTED_SIZE];
    return this.getChunkSpace(ptr) - this.chunkHeaderSize;
  }

  // -------------------------------------------------------------------------
  // reset, delete, isEmpty
  // -------------------------------------------------------------------------

  /**
   * aset.c: AllocSetReset (as MemoryContextResetOnly calls it). Empties the
   * freelists and gives every block but the keeper back to the heap;
   * memAllocated drops to the first block's size and the next block will be
   * initBlockSize again. Every pointer of the set becomes invalid.
   * @throws HeapCorruptionError in checking mode when {@link AllocSet.check} fails
   *   (then nothing was freed).
   * @throws InvalidStateError when the set was deleted.
   */
  reset(): void {
    this.liveWalk("reset");
    if (this.checking) this.check();
    this.resetBlocks();
  }

  private resetBlocks(): void {
    const heap = this.heap;
    const i32 = heap.i32;
    const ctx = this.offset;
    const cw = ctx >> 2;
    const keeper = ctx + SIZEOF_ASET_CONTEXT;
    i32.fill(0, cw + CTX_FREELIST, cw + CTX_FREELIST + 2 * ALLOCSET_NUM_FREELISTS);
    let block = i32[cw + CTX_BLOCKS];
    i32[cw + CTX_BLOCKS] = keeper;
    while (block !== 0) {
      const bw = block >> 2;
      const next = i32[bw + BLK_NEXT];
      if (block === keeper) {
        const datastart = keeper + ALLOC_BLOCKHDRSZ;
        if (this.checking) heap.u8.fill(WIPE_BYTE, datastart, i32[bw + BLK_FREEPTR]);
        i32[bw + BLK_FREEPTR] = datastart;
        i32[bw + BLK_PREV] = 0;
        i32[bw + BLK_NEXT] = 0;
      } else {
        i32[cw + CTX_MEM_ALLOCATED] -= i32[bw + BLK_ENDPTR] - block;
        i32[bw + BLK_ASET] = 0; // stale pointers into it no longer pass as ours
        heap.free(block);
      }
      block = next;
    }
    i32[cw + CTX_NEXT_BLOCK_SIZE] = i32[cw + CTX_INIT_BLOCK_SIZE];
    heap.u8[ctx + CTX_IS_RESET_BYTE] = 1;
  }

  /**
   * aset.c: AllocSetDelete. Gives the set's memory back to the heap, except
   * that a set of default or small initial sizes is reset and kept on the
   * heap's context freelist (at most 100 each; when full, the ones kept are
   * freed first), for the next create with the same sizes to reuse.
   * Afterwards every call on this handle throws InvalidStateError.
   * @throws HeapCorruptionError in checking mode when {@link AllocSet.check} fails
   *   (then nothing was freed).
   * @throws InvalidStateError when the set was already deleted.
   */
  delete(): void {
    this.liveWalk("delete");
    if (this.checking) this.check();
    const heap = this.heap;
    const i32 = heap.i32;
    const ctx = this.offset;
    const cw = ctx >> 2;
    const state = this.state;
    state.handles.delete(ctx);
    state.idents.delete(ctx);
    const freeListIndex = i32[cw + CTX_FREELIST_INDEX];
    if (freeListIndex >= 0) {
      const list = state.freeLists[freeListIndex];
      if (heap.u8[ctx + CTX_IS_RESET_BYTE] === 0) this.resetBlocks();
      if (list.numFree >= MAX_FREE_CONTEXTS) AllocSet.drain(heap, list);
      i32[cw + CTX_SERIAL] = 0;
      i32[cw + CTX_NEXTCHILD] = list.firstFree;
      i32[cw + CTX_NEXTCHILD + 1] = 0;
      list.firstFree = ctx;
      list.numFree++;
      return;
    }
    const keeper = ctx + SIZEOF_ASET_CONTEXT;
    let block = i32[cw + CTX_BLOCKS];
    while (block !== 0) {
      const bw = block >> 2;
      const next = i32[bw + BLK_NEXT];
      if (block !== keeper) {
        i32[cw + CTX_MEM_ALLOCATED] -= i32[bw + BLK_ENDPTR] - block;
        i32[bw + BLK_ASET] = 0;
        heap.free(block);
      }
      block = next;
    }
    i32[cw + CTX_SERIAL] = 0;
    i32[cw + CTX_TYPE] = 0;
    heap.free(ctx);
  }

  /**
   * aset.c: AllocSetIsEmpty. True only if nothing was allocated since create
   * or the last reset (freeing everything does not make a set "empty").
   * @throws InvalidStateError when the set was deleted.
   */
  isEmpty(): boolean {
    this.live("isEmpty");
    return this.heap.u8[this.offset + CTX_IS_RESET_BYTE] !== 0;
  }

  // -------------------------------------------------------------------------
  // stats, check, blocks
  // -------------------------------------------------------------------------

  /**
   * aset.c: AllocSetStats. Walks the blocks and the freelists.
   * @throws InvalidStateError when the set was deleted.
   */
  stats(): AllocSetCounters {
    this.liveWalk("stats");
    const i32 = this.heap.i32;
    const cw = this.offset >> 2;
    const chdr = this.chunkHeaderSize;
    let nblocks = 0;
    let freechunks = 0;
    let totalspace = SIZEOF_ASET_CONTEXT;
    let freespace = 0;
    for (let b = i32[cw + CTX_BLOCKS]; b !== 0; b = i32[(b >> 2) + BLK_NEXT]) {
      nblocks++;
      totalspace += i32[(b >> 2) + BLK_ENDPTR] - b;
      freespace += i32[(b >> 2) + BLK_ENDPTR] - i32[(b >> 2) + BLK_FREEPTR];
    }
    for (let k = 0; k < ALLOCSET_NUM_FREELISTS; k++) {
      for (let c = i32[cw + CTX_FREELIST + 2 * k]; c !== 0; c = i32[(c + chdr) >> 2]) {
        freechunks++;
        freespace += (8 << k) + chdr;
      }
    }
    return { nblocks, freechunks, totalspace, freespace };
  }

  /**
   * The stats line PostgreSQL prints for a context:
   * `"<total> total in <n> blocks; <free> free (<k> chunks); <used> used"`.
   * @throws InvalidStateError when the set was deleted.
   */
  statsString(): string {
    const s = this.stats();
    return `${s.totalspace} total in ${s.nblocks} blocks; ${s.freespace} free (${s.freechunks} chunks); ${s.totalspace - s.freespace} used`;
  }

  /**
   * The set's blocks, head (active block) first.
   * @throws InvalidStateError when the set was deleted.
   */
  blocks(): AllocSetBlockInfo[] {
    this.liveWalk("blocks");
    const i32 = this.heap.i32;
    const keeper = this.offset + SIZEOF_ASET_CONTEXT;
    const out: AllocSetBlockInfo[] = [];
    for (let b = i32[(this.offset >> 2) + CTX_BLOCKS]; b !== 0; b = i32[(b >> 2) + BLK_NEXT]) {
      const bw = b >> 2;
      out.push({
        block: b,
        heapPtr: b === keeper ? this.offset : b,
        size: i32[bw + BLK_ENDPTR] - (b === keeper ? this.offset : b),
        used: i32[bw + BLK_FREEPTR] - b - ALLOC_BLOCKHDRSZ,
        keeper: b === keeper,
        dedicated:
          i32[((b + ALLOC_BLOCKHDRSZ + this.chunkHeaderSize) >> 2) + CHUNK_HDR_LO] ===
            CHUNK_EXTERNAL_LO && i32[bw + BLK_FREEPTR] === i32[bw + BLK_ENDPTR],
      });
      if (out.length > 0x100000) break;
    }
    return out;
  }

  /**
   * aset.c: AllocSetCheck, stricter. Walks every block and chunk (headers,
   * block offsets, sizes, byte accounting, dedicated blocks) and every
   * freelist (each entry a free chunk of this set of the right size, each
   * free chunk on its list once), and checks memAllocated against the blocks.
   * In checking mode also each sentinel, each requested size, and that freed
   * chunks still hold the 0x7F wipe after their link. Works in both modes.
   * @throws HeapCorruptionError naming the set, the block and the chunk of
   *   the first problem found (PostgreSQL's WARNING texts).
   * @throws InvalidStateError when the set was deleted.
   */
  check(): void {
    this.liveWalk("check");
    const heap = this.heap;
    const i32 = heap.i32;
    const u8 = heap.u8;
    const ctx = this.offset;
    const cw = ctx >> 2;
    const chdr = this.chunkHeaderSize;
    const keeper = ctx + SIZEOF_ASET_CONTEXT;
    const heapEnd = heap.end;
    const name = this.name;
    const problem = (offset: number, what: string): never => {
      throw new HeapCorruptionError(`problem in alloc set ${name}: ${what}`, offset);
    };
    const freeChunks = new Map<number, number>();
    let total = 0;
    let prev = 0;
    let nblocks = 0;
    let sawKeeper = false;
    for (let block = i32[cw + CTX_BLOCKS]; block !== 0; block = i32[(block >> 2) + BLK_NEXT]) {
      if (
        (block & MAXALIGN_MASK) !== 0 ||
        block < 8 ||
        block + ALLOC_BLOCKHDRSZ > heapEnd ||
        ++nblocks > heapEnd / ALLOC_MIN_BLOCK_SIZE
      ) {
        problem(block, `block list link ${block} is out of range or cyclic`);
      }
      const bw = block >> 2;
      const isKeeper = block === keeper;
      if (isKeeper) sawKeeper = true;
      const endptr = i32[bw + BLK_ENDPTR];
      const freeptr = i32[bw + BLK_FREEPTR];
      total += isKeeper ? endptr - ctx : endptr - block;
      let bpoz = block + ALLOC_BLOCKHDRSZ;
      const blkUsed = freeptr - bpoz;
      if (blkUsed === 0 && !isKeeper) problem(block, `empty block ${block}`);
      if (
        i32[bw + BLK_ASET] !== ctx ||
        i32[bw + BLK_PREV] !== prev ||
        freeptr < bpoz ||
        freeptr > endptr ||
        endptr > heapEnd
      ) {
        problem(block, `corrupt header in block ${block}`);
      }
      let blkData = 0;
      let nchunks = 0;
      let external = false;
      while (bpoz < freeptr) {
        const ptr = bpoz + chdr;
        const w = ptr >> 2;
        const lo = i32[w + CHUNK_HDR_LO];
        const hi = i32[w + CHUNK_HDR_HI];
        let chsize: number;
        let isFree = false;
        if (lo === CHUNK_EXTERNAL_LO && hi === CHUNK_EXTERNAL_HI) {
          chsize = endptr - ptr;
          external = true;
          if (chsize + chdr !== blkUsed) {
            problem(bpoz, `bad single-chunk ${bpoz} in block ${block}`);
          }
        } else {
          const v = lo & ~CHUNK_FREE_BIT;
          const fidx = v >>> MEMORYCHUNK_VALUE_BASEBIT;
          if ((v & 31) !== MCTX_ASET_ID || fidx > FREELIST_LAST) {
            problem(bpoz, `bad chunk size for chunk ${bpoz} in block ${block}`);
          }
          chsize = 8 << fidx;
          if ((hi & 31) !== 0 || ((hi >>> 2) & MEMORYCHUNK_BLOCKOFFSET_MASK) !== bpoz - block) {
            problem(bpoz, `bad block offset for chunk ${bpoz} in block ${block}`);
          }
          isFree = (lo & CHUNK_FREE_BIT) !== 0;
          if (isFree) freeChunks.set(bpoz, fidx);
        }
        if (ptr + chsize > freeptr) {
          problem(bpoz, `chunk ${bpoz} runs past the used part of block ${block}`);
        }
        if (this.checking) {
          const dsize = i32[w + CHUNK_REQUESTED_SIZE];
          const dhi = i32[w + CHUNK_REQUESTED_SIZE + 1];
          if (isFree) {
            if (dsize !== INVALID_ALLOC_SIZE_WORD || dhi !== INVALID_ALLOC_SIZE_WORD) {
              problem(bpoz, `free chunk ${bpoz} in block ${block} has a requested size`);
            }
            // Ours: freed chunks keep the wipe after their 8-byte link.
            for (let i = ptr + 8; i < ptr + chsize; i += 4) {
              if (i32[i >> 2] !== WIPE_WORD) {
                problem(i, `detected write to freed chunk ${bpoz} in block ${block}`);
              }
            }
          } else {
            if (dhi !== 0 || dsize < 0 || dsize > chsize) {
              problem(bpoz, `req size > alloc size for chunk ${bpoz} in block ${block}`);
            }
            if (dsize < chsize && u8[ptr + dsize] !== SENTINEL_BYTE) {
              problem(
                ptr + dsize,
                `detected write past chunk end in block ${block}, chunk ${bpoz}`,
              );
            }
          }
        }
        blkData += chsize;
        nchunks++;
        bpoz = ptr + chsize;
      }
      if (blkData + nchunks * chdr !== blkUsed) {
        problem(block, `found inconsistent memory block ${block}`);
      }
      if (external && nchunks > 1) {
        problem(block, `external chunk on non-dedicated block ${block}`);
      }
      prev = block;
    }
    if (!sawKeeper) problem(keeper, `keeper block ${keeper} is not on the block list`);
    if (total !== i32[cw + CTX_MEM_ALLOCATED]) {
      problem(
        ctx + CTX_MEM_ALLOCATED * 4,
        `mem_allocated is ${i32[cw + CTX_MEM_ALLOCATED]} but the blocks hold ${total}`,
      );
    }
    for (let k = 0; k < ALLOCSET_NUM_FREELISTS; k++) {
      for (let c = i32[cw + CTX_FREELIST + 2 * k]; c !== 0; c = i32[(c + chdr) >> 2]) {
        if (freeChunks.get(c) !== k) {
          problem(
            c,
            `freelist ${k} holds ${c}, which is not a free ${8 << k}-byte chunk of this set (or is listed twice)`,
          );
        }
        freeChunks.delete(c);
      }
    }
    for (const [c, k] of freeChunks) {
      problem(c, `free chunk ${c} is not on freelist ${k}`);
    }
  }

  // -------------------------------------------------------------------------
  // Validation
  // -------------------------------------------------------------------------

  private live(fn: string): void {
    const i32 = this.heap.i32;
    const cw = this.offset >> 2;
    if (i32[cw + CTX_SERIAL] !== this.serial || i32[cw + CTX_TYPE] !== ASET_MAGIC) this.gone(fn);
  }

  /**
   * {@link AllocSet.live} for the calls that walk the set's blocks: first
   * the heap's views are refreshed (cheap), for blocks another worker got.
   */
  private liveWalk(fn: string): void {
    this.heap.refresh();
    this.live(fn);
  }

  /**
   * The views, refreshed, when memory of the set at `at` lies past them: a
   * block another worker's handle got while it held the set, and this
   * handle took the set back without attach or `heap.refresh()`.
   */
  private unseen(at: number): Int32Array {
    return this.heap.reach(at, `problem in alloc set ${this.name}: block or chunk ${at}`);
  }

  private gone(fn: string): never {
    throw new InvalidStateError(
      `${fn}(): memory context "${this.name}" (AllocSet at ${this.offset}) has been deleted`,
    );
  }

  private badSize(fn: string, size: unknown): never {
    throw new InvalidSizeError(
      `${fn}(): invalid memory alloc request size ${formatValue(size)} in memory context "${this.name}"`,
      size,
    );
  }

  private badPointer(fn: string, ptr: unknown, why: string): never {
    throw new InvalidPointerError(
      `${fn}(): pointer ${formatValue(ptr)} ${why} (memory context "${this.name}")`,
      ptr,
    );
  }

  /**
   * The block of `ptr`, which must be a live chunk of this set: the common
   * case (a small chunk, no checking mode) by {@link AllocSet.chunkBlockFast},
   * which is small enough for V8 to inline; anything else, and every error
   * with its exact message, by {@link AllocSet.chunkBlock}.
   */
  private locate(fn: string, ptr: Ptr): number {
    const block = this.checking ? -1 : this.chunkBlockFast(ptr);
    return block >= 0 ? block : this.chunkBlock(fn, ptr);
  }

  /**
   * The checks of {@link AllocSet.chunkBlock} for a live small chunk, in the
   * same order, without the messages: the block, or -1 for anything else
   * (a dedicated block's chunk, or a bad pointer that chunkBlock reports).
   */
  private chunkBlockFast(ptr: Ptr): number {
    const i32 = this.heap.i32;
    // A pointer below the first possible chunk, or a block offset reaching
    // below 0, reads undefined words, which fail the checks as a bad header.
    if (ptr >>> 0 !== ptr || (ptr & MAXALIGN_MASK) !== 0 || ptr >= this.heap.viewEnd) return -1;
    const w = ptr >> 2;
    const lo = i32[w + CHUNK_HDR_LO];
    const hi = i32[w + CHUNK_HDR_HI];
    const fidx = lo >>> MEMORYCHUNK_VALUE_BASEBIT;
    const offset = (hi >>> 2) & MEMORYCHUNK_BLOCKOFFSET_MASK;
    const block = ptr - this.chunkHeaderSize - offset;
    // Not freed (CHUNK_FREE_BIT is the sign bit; CHUNK_EXTERNAL_LO is negative
    // too), an AllocSet chunk, a sane block offset, a block of this set, and
    // inside what was carved from it.
    if (
      lo < 0 ||
      (lo & 31) !== MCTX_ASET_ID ||
      fidx > FREELIST_LAST ||
      (hi & 31) !== 0 ||
      offset < ALLOC_BLOCKHDRSZ ||
      i32[(block >> 2) + BLK_ASET] !== this.offset ||
      ptr + (8 << fidx) > i32[(block >> 2) + BLK_FREEPTR]
    ) {
      return -1;
    }
    return block;
  }

  /**
   * The block of `ptr`, which must be a live chunk of this set; O(1). In
   * checking mode also the requested size and the sentinel are verified.
   */
  private chunkBlock(fn: string, ptr: Ptr): number {
    const heap = this.heap;
    const chdr = this.chunkHeaderSize;
    if (
      typeof ptr !== "number" ||
      ptr >>> 0 !== ptr ||
      (ptr & MAXALIGN_MASK) !== 0 ||
      ptr < chdr + ALLOC_BLOCKHDRSZ + 8 ||
      ptr >= heap.end
    ) {
      if (ptr === 0) this.badPointer(fn, ptr, "is NULL");
      this.badPointer(fn, ptr, "is not an 8-aligned offset inside the heap");
    }
    const i32 = heap.i32;
    const w = ptr >> 2;
    const lo = i32[w + CHUNK_HDR_LO];
    const hi = i32[w + CHUNK_HDR_HI];
    let block: number;
    let chunkSize: number;
    if (lo === CHUNK_EXTERNAL_LO && (hi === CHUNK_EXTERNAL_HI || hi === CHUNK_EXTERNAL_FREED_HI)) {
      if (hi !== CHUNK_EXTERNAL_HI) this.badPointer(fn, ptr, "was already freed (double free)");
      block = ptr - chdr - ALLOC_BLOCKHDRSZ;
      const bw = block >> 2;
      if (i32[bw + BLK_ASET] !== this.offset) this.notOurs(fn, ptr, block);
      if (i32[bw + BLK_FREEPTR] !== i32[bw + BLK_ENDPTR]) {
        this.badPointer(
          fn,
          ptr,
          `is not the chunk of a dedicated block: could not find block containing chunk ${ptr - chdr}`,
        );
      }
      chunkSize = i32[bw + BLK_ENDPTR] - ptr;
    } else {
      const v = lo & ~CHUNK_FREE_BIT;
      const fidx = v >>> MEMORYCHUNK_VALUE_BASEBIT;
      const offset = (hi >>> 2) & MEMORYCHUNK_BLOCKOFFSET_MASK;
      if (this.checking && lo === WIPE_WORD && hi === WIPE_WORD) {
        this.badPointer(
          fn,
          ptr,
          "lies in freed memory (double free, or a pointer into a freed block)",
        );
      }
      if ((v & 31) !== MCTX_ASET_ID || fidx > FREELIST_LAST) {
        this.badPointer(
          fn,
          ptr,
          "is not the start of an AllocSet chunk (never allocated, interior, or another allocator's)",
        );
      }
      block = ptr - chdr - offset;
      if ((hi & 31) !== 0 || offset < ALLOC_BLOCKHDRSZ || block < 8) {
        this.badPointer(fn, ptr, "has a chunk header with an impossible block offset");
      }
      if (i32[(block >> 2) + BLK_ASET] !== this.offset) this.notOurs(fn, ptr, block);
      chunkSize = 8 << fidx;
      if (ptr + chunkSize > i32[(block >> 2) + BLK_FREEPTR]) {
        this.badPointer(
          fn,
          ptr,
          `lies beyond the chunks carved from block ${block} (stale after reset?)`,
        );
      }
      if (lo !== v) this.badPointer(fn, ptr, "was already freed (double free)");
    }
    if (this.checking) {
      const req = i32[w + CHUNK_REQUESTED_SIZE];
      if (i32[w + CHUNK_REQUESTED_SIZE + 1] !== 0 || req < 0 || req > chunkSize) {
        throw new HeapCorruptionError(
          `${fn}(): requested-size word of chunk ${ptr - chdr} overwritten in ${this.name}`,
          ptr + CHUNK_REQUESTED_SIZE * 4,
        );
      }
      if (req < chunkSize && heap.u8[ptr + req] !== SENTINEL_BYTE) {
        throw new HeapCorruptionError(
          `${fn}(): detected write past chunk end in ${this.name} ${ptr - chdr} (pointer ${ptr}, requested size ${req})`,
          ptr + req,
        );
      }
    }
    return block;
  }

  private notOurs(fn: string, ptr: Ptr, block: number): never {
    const owner = this.heap.i32[(block >> 2) + BLK_ASET];
    const other = this.state.handles.get(owner);
    if (other !== undefined && AllocSet.isLiveHeader(this.heap, owner)) {
      this.badPointer(fn, ptr, `belongs to memory context "${other.name}" (AllocSet at ${owner})`);
    }
    this.badPointer(
      fn,
      ptr,
      "was not allocated by this set (freed with its block, interior, or another allocator's)",
    );
  }

  /** Checking mode: records the requested size in the chunk and writes the sentinel after it. */
  private setRequested(ptr: Ptr, size: number, chunkSize: number): void {
    const i32 = this.heap.i32;
    const w = ptr >> 2;
    i32[w + CHUNK_REQUESTED_SIZE] = size;
    i32[w + CHUNK_REQUESTED_SIZE + 1] = 0;
    if (size < chunkSize) this.heap.u8[ptr + size] = SENTINEL_BYTE;
  }

  /** Checking mode: a freelist head must be a free chunk of this class in this set. */
  private checkFreeHead(chunk: number, fidx: number): void {
    const i32 = this.heap.i32;
    const w = (chunk + this.chunkHeaderSize) >> 2;
    const next = i32[w];
    if (
      i32[w + CHUNK_HDR_LO] !==
        (MCTX_ASET_ID | (fidx << MEMORYCHUNK_VALUE_BASEBIT) | CHUNK_FREE_BIT) ||
      i32[w + CHUNK_REQUESTED_SIZE] !== INVALID_ALLOC_SIZE_WORD ||
      i32[w + 1] !== 0 ||
      (next & MAXALIGN_MASK) !== 0 ||
      next < 0 ||
      next >= this.heap.end
    ) {
      throw new HeapCorruptionError(
        `problem in alloc set ${this.name}: freelist ${fidx} head ${chunk} is damaged (written after free?)`,
        chunk,
      );
    }
  }
}
