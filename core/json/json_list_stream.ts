/**
 * A JSON list walked one element at a time from a file, through a window of
 * a fixed size instead of the whole file: a big store's `_index.json` is
 * tens of MB (24 MB at 20,000 sessions), and holding it whole was the peak
 * of the audit's memory. An element is validated exactly as
 * {@linkcode skipJsonValue} does on the whole file; a window grows only for
 * an element bigger than it.
 *
 * @example
 * ```ts
 * import { eachListElementRead } from "./json_list_stream.ts";
 * import { readAtBytes } from "../io/file_read.ts";
 * const bytes = new TextEncoder().encode('[1, {"a": 2}]');
 * eachListElementRead(
 *   readAtBytes(bytes),
 *   (b, start, end) => console.log(new TextDecoder().decode(b.subarray(start, end))),
 *   { windowBytes: 4, maxBytes: 1 << 20 },
 * ); // logs 1, then {"a": 2}; returns { isList: true, bytes: 13 }
 * ```
 * @module
 */

import type { ReadAt } from "../io/file_read.ts";
import { skipJsonValue, skipWhitespace } from "./json_scan.ts";

const OPEN = 0x5b;
const CLOSE = 0x5d;
const COMMA = 0x2c;

/**
 * How a list walk ended: whether the file is exactly one valid JSON list
 * (whitespace around it allowed), and how many bytes it read.
 *
 * @example
 * ```ts
 * import type { ListWalk } from "./json_list_stream.ts";
 * const walk: ListWalk = { isList: false, bytes: 3 };
 * ```
 */
export interface ListWalk {
  /** False when the file is not one valid list: read it whole for the problem. */
  isList: boolean;
  /** Bytes read, all of the file's for a list. */
  bytes: number;
}

/**
 * Calls `each` with the span of every element of the JSON list that makes
 * up the whole file, in `b`, a window of the file that holds the element
 * and may be overwritten once `each` returns; `b[0]` is the file's byte
 * `offset`, so the element is the file's bytes `offset + start` to
 * `offset + end`. A walk that is not a list stops at the fault, with
 * `each` called for the elements before it.
 * Returns null when the file grew past `maxBytes` while being read.
 *
 * @example
 * ```ts
 * import { eachListElementRead } from "./json_list_stream.ts";
 * const readAt = (into: Uint8Array, _position: number) => 0; // an empty file
 * eachListElementRead(readAt, () => {}, { windowBytes: 1 << 20, maxBytes: 1 << 20 });
 * // { isList: false, bytes: 0 }
 * ```
 */
export function eachListElementRead(
  readAt: ReadAt,
  each: (b: Uint8Array, start: number, end: number, offset: number) => void,
  options: { windowBytes: number; maxBytes: number },
): ListWalk | null {
  let window = new Uint8Array(Math.max(1, options.windowBytes));
  // The window holds the file's bytes [base, base + length).
  let base = 0;
  let length = 0;
  let atEnd = false;
  let tooLong = false;
  // Keeps the bytes from `from` on, moved to the window's start, and reads
  // more after them; a window full of one element is doubled first.
  const readMore = (from: number) => {
    window.copyWithin(0, from, length);
    base += from;
    length -= from;
    if (length === window.length) {
      const bigger = new Uint8Array(window.length * 2);
      bigger.set(window);
      window = bigger;
    }
    // One byte past the limit is enough to know the file is over it.
    const room = Math.min(
      window.length - length,
      options.maxBytes + 1 - (base + length),
    );
    const read = readAt(window.subarray(length, length + room), base + length);
    length += read;
    // A short read of a regular file is its end.
    if (read < room) atEnd = true;
    if (base + length > options.maxBytes) tooLong = atEnd = true;
  };
  const walk = (isList: boolean): ListWalk | null =>
    tooLong ? null : { isList, bytes: base + length };

  // Every step below looks at bytes from `at` and either finds all it
  // needs inside the window or, when the window ends first and the file
  // does not, reads more and looks again from the same byte.
  let at = 0;
  readMore(0);
  for (;;) {
    const i = skipWhitespace(window.subarray(0, length), at);
    if (i < length) {
      if (window[i] !== OPEN) return walk(false);
      at = i + 1;
      break;
    }
    if (atEnd) return walk(false);
    readMore(i);
    at = 0;
  }
  let first = true;
  for (;;) {
    const view = window.subarray(0, length);
    const start = skipWhitespace(view, at);
    if (first && start < length && view[start] === CLOSE) {
      at = start + 1;
      break;
    }
    // An element counts only with the comma or bracket after it inside the
    // window: a number at the window's edge may go on past it.
    const end = start < length ? skipJsonValue(view, start) : -1;
    const next = end < 0 ? length : skipWhitespace(view, end);
    if (next === length) {
      if (atEnd) return walk(false);
      readMore(at);
      at = 0;
      continue;
    }
    each(window, start, end, base);
    first = false;
    at = next + 1;
    if (view[next] === CLOSE) break;
    if (view[next] !== COMMA) return walk(false);
  }
  // Only whitespace may follow the list.
  for (;;) {
    const i = skipWhitespace(window.subarray(0, length), at);
    if (i < length) return walk(false);
    if (atEnd) return walk(true);
    readMore(length);
    at = 0;
  }
}
