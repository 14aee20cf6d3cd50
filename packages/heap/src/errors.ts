/*-------------------------------------------------------------------------
 *
 * errors.ts
 *	  The typed errors every @mmgr package throws on misuse.
 *
 * Where a C original returns NULL we return 0; where it raises an error or
 * throws, or where C would silently corrupt memory (a double free, a foreign
 * pointer), we throw one of these. A call that throws has changed nothing.
 *
 *-------------------------------------------------------------------------
 */

import { MAX_ALIGNMENT, MAX_ALLOC_SIZE } from "./layout.js";

/** Base class of every error thrown by an @mmgr package. */
export class MmgrError extends Error {
  override name = "MmgrError";
}

/**
 * The memory asked for cannot be had: thrown where the original raises an
 * error (PostgreSQL's palloc, SGI's bad_alloc); plain malloc returns 0 instead.
 */
export class OutOfMemoryError extends MmgrError {
  override name = "OutOfMemoryError";
  /** The size of the request that failed, in bytes. */
  readonly size: number;
  /** A second line of explanation, as PostgreSQL's errdetail. */
  readonly detail: string | undefined;

  constructor(message: string, size: number, detail?: string) {
    super(detail === undefined ? message : `${message}\nDETAIL:  ${detail}`);
    this.size = size;
    this.detail = detail;
  }
}

/** A size that is negative, not an integer, NaN, or above the maximum. */
export class InvalidSizeError extends MmgrError {
  override name = "InvalidSizeError";
  /** The value that was passed. */
  readonly size: unknown;

  constructor(message: string, size: unknown) {
    super(message);
    this.size = size;
  }
}

/** An alignment that is not a power of two or is out of range. */
export class InvalidAlignmentError extends MmgrError {
  override name = "InvalidAlignmentError";
  /** The value that was passed. */
  readonly alignment: unknown;

  constructor(message: string, alignment: unknown) {
    super(message);
    this.alignment = alignment;
  }
}

/**
 * A pointer that is not a live allocation of the allocator it was handed to:
 * never allocated, already freed, inside a block, or another allocator's.
 */
export class InvalidPointerError extends MmgrError {
  override name = "InvalidPointerError";
  /** The value that was passed. */
  readonly ptr: unknown;

  constructor(message: string, ptr: unknown) {
    super(message);
    this.ptr = ptr;
  }
}

/** An allocator's bytes are not what it wrote: a sentinel, header or list was overwritten. */
export class HeapCorruptionError extends MmgrError {
  override name = "HeapCorruptionError";
  /** The arena offset where the damage was found. */
  readonly offset: number;

  constructor(message: string, offset: number) {
    super(message);
    this.offset = offset;
  }
}

/** A call on something that no longer exists: a deleted context, a destroyed pool. */
export class InvalidStateError extends MmgrError {
  override name = "InvalidStateError";
}

/** An operation the allocator does not offer, such as pfree on a bump-style context. */
export class NotSupportedError extends MmgrError {
  override name = "NotSupportedError";
}

/**
 * Whether `n` is a size an @mmgr allocator accepts: an integer from 0 to
 * {@link MAX_ALLOC_SIZE}. Anything else is an {@link InvalidSizeError}.
 */
export function isAllocSize(n: unknown): n is number {
  return n === ((n as number) | 0) && (n as number) >= 0 && (n as number) <= MAX_ALLOC_SIZE;
}

/** Whether `a` is an alignment the heap accepts: a power of two from 1 to {@link MAX_ALIGNMENT}. */
export function isAlignment(a: unknown): a is number {
  return (
    a === ((a as number) | 0) &&
    (a as number) > 0 &&
    ((a as number) & ((a as number) - 1)) === 0 &&
    (a as number) <= MAX_ALIGNMENT
  );
}

/**
 * Formats a value for an error message, as every `@mmgr` package names what
 * it was given: numbers as they are, strings quoted, bigints with `n`.
 */
export function formatValue(value: unknown): string {
  if (typeof value === "number") return String(value);
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "string") return JSON.stringify(value);
  return String(value);
}
