/*-------------------------------------------------------------------------
 *
 * context.ts
 *	  The context node and the tree's state: MemoryContextCreate, the table
 *	  of context types by method id, and finding the context of a chunk.
 *
 * A context is a MemoryContextData header in the arena (see layout.ts)
 * plus a JS handle, MemoryContext, that carries what cannot be bytes: the
 * name, the type's method table and the type's own handle (an AllocSet, an
 * NgxPool). The tree links (parent, firstchild, prevchild, nextchild) are
 * header words; a per-tree map from header offset to handle turns them
 * back into handles.
 *
 * A pointer finds its context as in PG 16+: the low 4 bits of the word
 * before it are a method id, the type registered under that id finds the
 * owning header from the chunk (AllocSet through its block). Types whose
 * chunks have no header (the nginx pool) register a lookup by address
 * instead, consulted first.
 *
 *-------------------------------------------------------------------------
 */

import {
  formatValue,
  type Heap,
  InvalidPointerError,
  InvalidStateError,
  MmgrError,
  OutOfMemoryError,
  type Ptr,
} from "@mmgr/heap";
import type { MemoryContextMethods } from "./api.js";
import {
  MCTX_FIRST_USER_ID,
  MCTX_LAST_USER_ID,
  MCXT_FIRSTCHILD,
  MCXT_IS_RESET_BYTE,
  MCXT_MAGIC,
  MCXT_METHODS,
  MCXT_NEXTCHILD,
  MCXT_PARENT,
  MCXT_PREVCHILD,
  MCXT_RESET_CBS,
  MCXT_SERIAL,
  MCXT_TYPE,
  MCXT_WORDS,
  MEMORY_CONTEXT_METHODID_MASK,
  SIZEOF_MEMORY_CONTEXT_DATA,
} from "./layout.js";

/** Formats a value for an error message. */
export function fmt(value: unknown): string {
  if (value instanceof MemoryContext) return `memory context "${value.name}"`;
  return formatValue(value);
}

/** Symbol.dispose where the runtime has it, else the well-known fallback TypeScript uses. */
const DISPOSE: typeof Symbol.dispose =
  (Symbol as { dispose?: typeof Symbol.dispose }).dispose ??
  (Symbol.for("Symbol.dispose") as typeof Symbol.dispose);

/** Finds the context of a pointer inside a headerless type's memory, or undefined. */
export type AddressLookup = (ptr: Ptr) => MemoryContext | undefined;

/** The state of the one tree: PostgreSQL's process globals and our side tables. */
export interface TreeState {
  /** The heap every context of the tree gets its memory from. */
  readonly heap: Heap;
  /** Live contexts by node offset. */
  readonly contexts: Map<number, MemoryContext>;
  /** Identifiers by node offset (PostgreSQL's `ident`). */
  readonly idents: Map<number, string>;
  /** Reset callbacks by node offset, oldest first (they run from the end). */
  readonly callbacks: Map<number, import("./api.js").MemoryContextCallback[]>;
  /** Lookups by address for headerless context types, consulted before the method id. */
  readonly addressLookups: AddressLookup[];
  /** Per-type state for types that need it (the nginx pool's block index). */
  readonly extra: Map<string, unknown>;
}

/** The current tree, or null before MemoryContextInit. */
export let tree: TreeState | null = null;

/** Replaces the tree (MemoryContextInit, MemoryContextTeardown). */
export function setTree(t: TreeState | null): void {
  tree = t;
}

/** The tree, or a clear error naming the call when MemoryContextInit has not run. */
export function requireTree(fn: string): TreeState {
  if (tree === null) {
    throw new InvalidStateError(`${fn}(): no memory-context tree: call MemoryContextInit() first`);
  }
  return tree;
}

let serialCounter = 0;

/** Context types by method id (PG's mcxt_methods[]); process-wide, as in C. */
const methodTable: (MemoryContextMethods<never> | undefined)[] = new Array(
  MEMORY_CONTEXT_METHODID_MASK + 1,
).fill(undefined);

/** Set by mcxt.ts: MemoryContextDelete, for Symbol.dispose. */
let deleteHook: (ctx: MemoryContext) => void = () => {};

/** Installs MemoryContextDelete as what `Symbol.dispose` calls. */
export function setDeleteHook(fn: (ctx: MemoryContext) => void): void {
  deleteHook = fn;
}

/**
 * A memory context: PostgreSQL's MemoryContext. A handle on the context's
 * MemoryContextData header in the arena, with the name, the type's method
 * table and the type's own handle. Make one with AllocSetContextCreate,
 * NgxPoolContextCreate or {@link MemoryContextCreate}; `using` deletes it
 * at the end of the scope (TypeScript 5.2+).
 *
 * @typeParam T - the type's own handle (AllocSet, NgxPool ...)
 */
export class MemoryContext<T = unknown> {
  /** The heap the context allocates from (the tree's). */
  readonly heap: Heap;
  /** Offset of the context's MemoryContextData header in the arena. */
  readonly node: Ptr;
  /** The context's name, as given at create (PostgreSQL's `name`). */
  readonly name: string;
  /** The method table of the context's type. */
  readonly methods: MemoryContextMethods<T>;
  /** The type's own handle: an AllocSet, an NgxPool, or your type's. */
  readonly impl: T;
  /** The serial in the header's name slot while this handle's context lives. */
  readonly serial: number;
  /** Whether mcxt allocated the header (and frees it at delete). */
  readonly ownsNode: boolean;

  /** @internal Use AllocSetContextCreate, NgxPoolContextCreate or MemoryContextCreate. */
  constructor(
    heap: Heap,
    node: Ptr,
    name: string,
    methods: MemoryContextMethods<T>,
    impl: T,
    serial: number,
    ownsNode: boolean,
  ) {
    this.heap = heap;
    this.node = node;
    this.name = name;
    this.methods = methods;
    this.impl = impl;
    this.serial = serial;
    this.ownsNode = ownsNode;
  }

  /** The context type's name ("AllocSet", "NgxPool", ...). */
  get type(): string {
    return this.methods.type;
  }

  /** Whether the context was deleted; every other use then throws InvalidStateError. */
  get deleted(): boolean {
    return (
      tree === null ||
      tree.heap !== this.heap ||
      this.heap.i32[(this.node >> 2) + MCXT_SERIAL] !== this.serial
    );
  }

  /**
   * PostgreSQL's `ident`: text shown after the name by MemoryContextStats,
   * set with MemoryContextSetIdentifier; undefined when unset.
   * @throws InvalidStateError when the context was deleted.
   */
  get ident(): string | undefined {
    return requireLive(this, "ident").idents.get(this.node);
  }

  /**
   * The parent context, or null for a root (TopMemoryContext).
   * @throws InvalidStateError when the context was deleted.
   */
  get parent(): MemoryContext | null {
    const t = requireLive(this, "parent");
    return handleAt(t, this.heap.i32[(this.node >> 2) + MCXT_PARENT]);
  }

  /**
   * The child contexts, newest first (the order mcxt.c keeps them in).
   * @throws InvalidStateError when the context was deleted.
   */
  get children(): MemoryContext[] {
    const t = requireLive(this, "children");
    const i32 = this.heap.i32;
    const out: MemoryContext[] = [];
    for (
      let c = i32[(this.node >> 2) + MCXT_FIRSTCHILD];
      c !== 0;
      c = i32[(c >> 2) + MCXT_NEXTCHILD]
    ) {
      out.push(handleAt(t, c)!);
    }
    return out;
  }

  /**
   * `isReset`: nothing allocated since create or the last reset.
   * @throws InvalidStateError when the context was deleted.
   */
  get isReset(): boolean {
    requireLive(this, "isReset");
    return this.heap.u8[this.node + MCXT_IS_RESET_BYTE] !== 0;
  }

  /**
   * Deletes the context, as MemoryContextDelete; what `using` calls.
   * @throws InvalidStateError as MemoryContextDelete.
   */
  [DISPOSE](): void {
    deleteHook(this as MemoryContext);
  }

  /** The context's name and type, for debugging. */
  toString(): string {
    return `MemoryContext "${this.name}" (${this.methods.type} at ${this.node})`;
  }
}

/** The handle of the context whose node is at `node` (0 = null). */
export function handleAt(t: TreeState, node: number): MemoryContext | null {
  if (node === 0) return null;
  const h = t.contexts.get(node);
  if (h === undefined) {
    throw new InvalidStateError(`memory-context tree damaged: no context at node ${node}`);
  }
  return h;
}

/**
 * `ctx` must be a live context of the current tree.
 * @throws MmgrError when it is not a MemoryContext.
 * @throws InvalidStateError when there is no tree, or it was deleted.
 */
export function requireLive(ctx: unknown, fn: string): TreeState {
  if (!(ctx instanceof MemoryContext)) {
    throw new MmgrError(`${fn}(): ${fmt(ctx)} is not a MemoryContext`);
  }
  const t = requireTree(fn);
  if (t.heap !== ctx.heap || ctx.heap.i32[(ctx.node >> 2) + MCXT_SERIAL] !== ctx.serial) {
    // The views may lag (a WebAssembly memory its module grew, a shared heap
    // another worker grew): look again through fresh ones before refusing.
    if (
      t.heap === ctx.heap &&
      ctx.heap.refresh() &&
      ctx.heap.i32[(ctx.node >> 2) + MCXT_SERIAL] === ctx.serial
    ) {
      return t;
    }
    throw new InvalidStateError(`${fn}(): memory context "${ctx.name}" has been deleted`);
  }
  return t;
}

/**
 * Registers a type's method id (process-wide, like PG's mcxt_methods[]).
 * @throws MmgrError when the id is reserved or taken by another type.
 */
export function registerMethods(methods: MemoryContextMethods<never>, fn: string): void {
  const id = methods.methodId;
  if (id === 0) return;
  const known = methodTable[id];
  if (known === methods) return;
  if (
    known === undefined &&
    Number.isInteger(id) &&
    id >= MCTX_FIRST_USER_ID &&
    id <= MCTX_LAST_USER_ID
  ) {
    methodTable[id] = methods;
    return;
  }
  if (known !== undefined) {
    throw new MmgrError(
      `${fn}(): method id ${fmt(id)} is already taken by context type "${known.type}"`,
    );
  }
  throw new MmgrError(
    `${fn}(): method id ${fmt(id)} is reserved; use 0 (no chunk headers) or ${MCTX_FIRST_USER_ID}..${MCTX_LAST_USER_ID}`,
  );
}

/** Installs a built-in type's method id (3 for AllocSet); not checked against the user range. */
export function registerBuiltinMethods(methods: MemoryContextMethods<never>): void {
  methodTable[methods.methodId] = methods;
}

/**
 * mcxt.c: MemoryContextCreate. Makes `impl` a context of the tree: writes
 * the generic header (at `node`, inside the type's own struct, or in 80
 * bytes mcxt allocates when `node` is 0), links it as the first child of
 * `parent` (or makes it a root), marks it reset. For a context type of your
 * own: implement {@link MemoryContextMethods}, create your allocator, then
 * call this.
 * @param node offset of 80 bytes the type reserved for the header, or 0
 * @defaultValue node: 0
 * @throws InvalidStateError before MemoryContextInit, or when `parent` was deleted.
 * @throws MmgrError when `name` is not a string, `parent` not a context,
 *   or the method id is reserved or taken.
 * @throws OutOfMemoryError when mcxt cannot allocate the header.
 */
export function MemoryContextCreate<T>(
  methods: MemoryContextMethods<T>,
  parent: MemoryContext | null,
  name: string,
  impl: T,
  node: Ptr = 0,
): MemoryContext<T> {
  const t = validateCreate("MemoryContextCreate", parent, name);
  if (methods === null || typeof methods !== "object" || typeof methods.alloc !== "function") {
    throw new MmgrError(
      `MemoryContextCreate(): ${fmt(methods)} is not a MemoryContextMethods table`,
    );
  }
  registerMethods(methods as MemoryContextMethods<never>, "MemoryContextCreate");
  return linkContext(t, methods, parent, name, impl, node);
}

/** The checks every create does before anything is allocated. */
export function validateCreate(fn: string, parent: unknown, name: unknown): TreeState {
  const t = requireTree(fn);
  if (typeof name !== "string") {
    throw new MmgrError(`${fn}(): name ${fmt(name)} is not a string`);
  }
  if (parent !== null) requireLive(parent, fn);
  return t;
}

/** MemoryContextCreate proper: arguments valid. */
export function linkContext<T>(
  t: TreeState,
  methods: MemoryContextMethods<T>,
  parent: MemoryContext | null,
  name: string,
  impl: T,
  node: Ptr,
): MemoryContext<T> {
  const heap = t.heap;
  const ownsNode = node === 0;
  if (ownsNode) {
    node = heap.malloc(SIZEOF_MEMORY_CONTEXT_DATA);
    if (node === 0) return outOfMemoryCreating(name, SIZEOF_MEMORY_CONTEXT_DATA);
    const i32 = heap.i32;
    const w = node >> 2;
    i32.fill(0, w, w + MCXT_WORDS);
    i32[w + MCXT_TYPE] = MCXT_MAGIC;
    i32[w + MCXT_METHODS] = methods.methodId;
  }
  const i32 = heap.i32;
  const w = node >> 2;
  serialCounter = (serialCounter + 1) | 0 || 1;
  heap.u8[node + MCXT_IS_RESET_BYTE] = 1;
  i32[w + MCXT_SERIAL] = serialCounter;
  i32[w + MCXT_RESET_CBS] = 0;
  const ctx = new MemoryContext(heap, node, name, methods, impl, serialCounter, ownsNode);
  t.contexts.set(node, ctx as MemoryContext);
  link(heap, node, parent === null ? 0 : parent.node);
  return ctx;
}

/** aset.c's create failure, for a header mcxt could not allocate. */
export function outOfMemoryCreating(name: string, size: number): never {
  throw new OutOfMemoryError(
    "out of memory",
    size,
    `Failed while creating memory context "${name}".`,
  );
}

/** Links `node` as the first child of `parent` (0: a root). */
export function link(heap: Heap, node: number, parent: number): void {
  const i32 = heap.i32;
  const w = node >> 2;
  i32[w + MCXT_PARENT] = parent;
  i32[w + MCXT_PREVCHILD] = 0;
  if (parent === 0) {
    i32[w + MCXT_NEXTCHILD] = 0;
    return;
  }
  const first = i32[(parent >> 2) + MCXT_FIRSTCHILD];
  i32[w + MCXT_NEXTCHILD] = first;
  if (first !== 0) i32[(first >> 2) + MCXT_PREVCHILD] = node;
  i32[(parent >> 2) + MCXT_FIRSTCHILD] = node;
}

/** Takes `node` out of its parent's child list (it becomes a root). */
export function unlink(heap: Heap, node: number): void {
  const i32 = heap.i32;
  const w = node >> 2;
  const parent = i32[w + MCXT_PARENT];
  if (parent === 0) return;
  const prev = i32[w + MCXT_PREVCHILD];
  const next = i32[w + MCXT_NEXTCHILD];
  if (prev !== 0) i32[(prev >> 2) + MCXT_NEXTCHILD] = next;
  else i32[(parent >> 2) + MCXT_FIRSTCHILD] = next;
  if (next !== 0) i32[(next >> 2) + MCXT_PREVCHILD] = prev;
  i32[w + MCXT_PARENT] = 0;
  i32[w + MCXT_PREVCHILD] = 0;
  i32[w + MCXT_NEXTCHILD] = 0;
}

function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, "0");
}

/**
 * mcxt.c: GetMemoryChunkContext's dispatch. The context owning `ptr`,
 * found from the chunk (or, for headerless types, from its address).
 * @throws InvalidStateError before MemoryContextInit.
 * @throws InvalidPointerError when `ptr` is not a live chunk of a context of the tree.
 */
export function chunkContext(fn: string, ptr: Ptr): MemoryContext {
  const t = requireTree(fn);
  const heap = t.heap;
  if (
    typeof ptr !== "number" ||
    ptr >>> 0 !== ptr ||
    (ptr & 7) !== 0 ||
    ptr < 8 ||
    ptr >= heap.end
  ) {
    throw new InvalidPointerError(
      ptr === 0
        ? `${fn} called with NULL pointer`
        : `${fn} called with invalid pointer ${fmt(ptr)}: not an 8-aligned offset inside the heap`,
      ptr,
    );
  }
  const lookups = t.addressLookups;
  for (let i = 0; i < lookups.length; i++) {
    const c = lookups[i](ptr);
    if (c !== undefined) return c;
  }
  const i32 = heap.i32;
  const lo = i32[(ptr >> 2) - 2];
  const hi = i32[(ptr >> 2) - 1];
  const methods = methodTable[lo & MEMORY_CONTEXT_METHODID_MASK];
  if (methods === undefined || methods.getChunkContext === undefined) {
    throw new InvalidPointerError(
      `${fn} called with invalid pointer ${ptr} (header 0x${hex8(hi)}${hex8(lo)})`,
      ptr,
    );
  }
  let node: number;
  try {
    node = methods.getChunkContext(heap, ptr);
  } catch (e) {
    if (e instanceof InvalidPointerError) {
      throw new InvalidPointerError(`${fn} called with invalid pointer ${ptr}: ${e.message}`, ptr);
    }
    throw e;
  }
  const ctx = t.contexts.get(node);
  if (ctx === undefined) {
    throw new InvalidPointerError(
      `${fn} called with invalid pointer ${ptr}: it belongs to an ${methods.type} at ${node} that is not a context of the memory-context tree`,
      ptr,
    );
  }
  return ctx;
}
