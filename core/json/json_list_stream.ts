/**
 * A JSON list walked one element at a time from a file, through a window of
 * a fixed size instead of the whole file: a big store's `_index.json` is
 * tens of MB (24 MB at 20,000 sessions), and holding it whole was the peak
 * of the audit's memory. Each element is found by its brackets and quotes
 * alone, then parsed by `JSON.parse` (strict UTF-8 first), which is what
 * validates it: a list is walked exactly when the whole file would parse
 * as one. A window grows only for an element bigger than it.
 *
 * @example
 * ```ts
 * import { eachListElementRead } from "./json_list_stream.ts";
 * import { readAtBytes } from "../io/file_read.ts";
 * const bytes = new TextEncoder().encode('[1, {"a": 2}]');
 * eachListElementRead(
 *   readAtBytes(bytes),
 *   (value, start, end) => console.log(value, start, end),
 *   { windowBytes: 4, maxBytes: 1 << 20 },
 * ); // logs 1 1 2, then { a: 2 } 4 12; returns { isList: true, bytes: 13 }
 * ```
 * @module
 */

import type { ReadAt } from "../io/file_read.ts";
import { parseJsonSpan, skipWhitespace } from "./json_scan.ts";

const OPEN = 0x5b;
const CLOSE = 0x5d;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

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
 * Calls `each` with every element of the JSON list that makes up the whole
 * file, parsed, and where it is in the file (bytes `start` to `end`). A
 * walk that is not a list stops at the fault, with `each` called for the
 * elements before it. Returns null when the file grew past `maxBytes`
 * while being read.
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
  each: (value: unknown, start: number, end: number) => void,
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
    const end = elementEnd(view, start);
    const next = end < 0 ? length : skipWhitespace(view, end);
    if (next === length) {
      if (atEnd) return walk(false);
      readMore(at);
      at = 0;
      continue;
    }
    let value: unknown;
    try {
      value = parseJsonSpan(view, start, end);
    } catch {
      return walk(false);
    }
    each(value, base + start, base + end);
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

/**
 * Where the element at `i` ends, by its brackets and quotes alone (it is
 * validated when parsed): past its closing bracket or quote, or, for a
 * number or literal, at the first comma, bracket or whitespace after it.
 * -1 when the bytes end first. Nothing that can start an element gives
 * `i` itself, an empty span that does not parse.
 */
function elementEnd(b: Uint8Array, i: number): number {
  const n = b.length;
  let depth = 0;
  while (i < n) {
    const c = b[i];
    if (c === QUOTE) {
      // Inside a string only a quote or a backslash matters.
      i++;
      while (i < n) {
        const d = b[i];
        if (d === QUOTE) break;
        i += d === BACKSLASH ? 2 : 1;
      }
      if (i >= n) return -1;
      i++;
      if (depth === 0) return i;
    } else if (c === OPEN || c === OPEN_OBJECT) {
      depth++;
      i++;
    } else if (c === CLOSE || c === CLOSE_OBJECT) {
      if (depth === 0) return i;
      i++;
      if (--depth === 0) return i;
    } else if (
      depth === 0 &&
      (c === COMMA || c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09)
    ) {
      return i;
    } else i++;
  }
  return -1;
}
