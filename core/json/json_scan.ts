/**
 * A validating JSON scanner over UTF-8 bytes: it checks that a value is
 * well-formed exactly as strict UTF-8 decoding followed by `JSON.parse`
 * would, without building it. The sidecar summary uses it to step over the
 * parts of a file it does not need (message texts, tool calls) instead of
 * materialising them. It only says where a value ends, or that the bytes
 * are not valid; callers that need the exact problem parse the file again.
 *
 * @example
 * ```ts
 * import { skipJsonValue } from "./json_scan.ts";
 * const bytes = new TextEncoder().encode('{"a": [1, "x"]} ');
 * skipJsonValue(bytes, 0); // 15: the index just past the object
 * skipJsonValue(new TextEncoder().encode("[1,]"), 0); // -1
 * ```
 * @module
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Nesting of the containers being skipped: 1 = object, 2 = array. */
let stack = new Uint8Array(64);

/**
 * The index just past the whitespace (space, tab, LF, CR) at `i`.
 *
 * @example
 * ```ts
 * import { skipWhitespace } from "./json_scan.ts";
 * skipWhitespace(new TextEncoder().encode("  1"), 0); // 2
 * ```
 */
export function skipWhitespace(b: Uint8Array, i: number): number {
  while (i < b.length) {
    const c = b[i];
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
    i++;
  }
  return i;
}

/**
 * The index just past the JSON string that starts at `i` (at its opening
 * quote), or -1 when it is not a valid string: an unescaped control
 * character, a bad escape, invalid UTF-8, or no closing quote.
 *
 * @example
 * ```ts
 * import { skipJsonString } from "./json_scan.ts";
 * skipJsonString(new TextEncoder().encode('"a\\n"x'), 0); // 5
 * ```
 */
export function skipJsonString(b: Uint8Array, i: number): number {
  const n = b.length;
  if (b[i] !== QUOTE) return -1;
  i++;
  for (;;) {
    // Plain ASCII runs are the bulk of a file: one comparison chain each.
    let c = 0;
    while (i < n) {
      c = b[i];
      if (c === QUOTE || c === BACKSLASH || c < 0x20 || c >= 0x80) break;
      i++;
    }
    if (i >= n) return -1;
    if (c === QUOTE) return i + 1;
    if (c === BACKSLASH) {
      const e = b[i + 1];
      if (
        e === QUOTE || e === BACKSLASH || e === 0x2f || e === 0x62 ||
        e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74
      ) {
        i += 2;
      } else if (e === 0x75) {
        if (i + 5 >= n) return -1;
        for (let k = i + 2; k < i + 6; k++) if (!isHex(b[k])) return -1;
        i += 6;
      } else return -1;
      continue;
    }
    if (c < 0x20) return -1;
    const length = utf8SequenceLength(b, i);
    if (length === 0) return -1;
    i += length;
  }
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) ||
    (c >= 0x41 && c <= 0x46);
}

/**
 * The length of the well-formed UTF-8 sequence at `i` (lead byte 0x80 or
 * more), or 0: the table of Unicode 15 (table 3-7), as a strict decoder
 * applies it (no overlong forms, no surrogates, nothing past U+10FFFF).
 *
 * @example
 * ```ts
 * import { utf8SequenceLength } from "./json_scan.ts";
 * utf8SequenceLength(new TextEncoder().encode("é"), 0); // 2
 * utf8SequenceLength(Uint8Array.from([0xc0, 0x80]), 0); // 0: overlong
 * ```
 */
export function utf8SequenceLength(b: Uint8Array, i: number): number {
  const lead = b[i];
  let extra: number;
  let low = 0x80;
  let high = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) extra = 1;
  else if (lead >= 0xe0 && lead <= 0xef) {
    extra = 2;
    if (lead === 0xe0) low = 0xa0;
    if (lead === 0xed) high = 0x9f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    extra = 3;
    if (lead === 0xf0) low = 0x90;
    if (lead === 0xf4) high = 0x8f;
  } else return 0;
  if (i + extra >= b.length) return 0;
  const second = b[i + 1];
  if (second < low || second > high) return 0;
  for (let k = 2; k <= extra; k++) {
    if ((b[i + k] & 0xc0) !== 0x80) return 0;
  }
  return extra + 1;
}

/**
 * The index just past the JSON number at `i`, or -1 (JSON's grammar: no
 * leading zeros, no bare dot, digits after `.` and the exponent).
 *
 * @example
 * ```ts
 * import { skipJsonNumber } from "./json_scan.ts";
 * skipJsonNumber(new TextEncoder().encode("-1.5e3,"), 0); // 6
 * ```
 */
export function skipJsonNumber(b: Uint8Array, i: number): number {
  if (b[i] === 0x2d) i++;
  if (b[i] === 0x30) i++;
  else if (b[i] >= 0x31 && b[i] <= 0x39) {
    while (b[i] >= 0x30 && b[i] <= 0x39) i++;
  } else return -1;
  if (b[i] === 0x2e) {
    i++;
    if (!(b[i] >= 0x30 && b[i] <= 0x39)) return -1;
    while (b[i] >= 0x30 && b[i] <= 0x39) i++;
  }
  if (b[i] === 0x65 || b[i] === 0x45) {
    i++;
    if (b[i] === 0x2b || b[i] === 0x2d) i++;
    if (!(b[i] >= 0x30 && b[i] <= 0x39)) return -1;
    while (b[i] >= 0x30 && b[i] <= 0x39) i++;
  }
  return i;
}

function skipLiteral(b: Uint8Array, i: number, word: string): number {
  for (let k = 0; k < word.length; k++) {
    if (b[i + k] !== word.charCodeAt(k)) return -1;
  }
  return i + word.length;
}

/**
 * The index just past the JSON value that starts at `i` (whitespace before
 * it is skipped), or -1 when it is not valid JSON. Iterative, so nesting
 * depth costs memory, never the call stack.
 *
 * @example
 * ```ts
 * import { skipJsonValue } from "./json_scan.ts";
 * skipJsonValue(new TextEncoder().encode(' {"a": null}'), 0); // 12
 * ```
 */
export function skipJsonValue(b: Uint8Array, i: number): number {
  let depth = 0;
  for (;;) {
    // A value starts here.
    i = skipWhitespace(b, i);
    const c = b[i];
    if (c === 0x7b || c === 0x5b) {
      const close = c === 0x7b ? 0x7d : 0x5d;
      i = skipWhitespace(b, i + 1);
      if (b[i] === close) {
        i++;
      } else {
        if (depth === stack.length) {
          const bigger = new Uint8Array(stack.length * 2);
          bigger.set(stack);
          stack = bigger;
        }
        stack[depth++] = c === 0x7b ? 1 : 2;
        if (c === 0x7b) {
          i = skipMemberName(b, i);
          if (i < 0) return -1;
        }
        continue;
      }
    } else if (c === QUOTE) i = skipJsonString(b, i);
    else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) i = skipJsonNumber(b, i);
    else if (c === 0x74) i = skipLiteral(b, i, "true");
    else if (c === 0x66) i = skipLiteral(b, i, "false");
    else if (c === 0x6e) i = skipLiteral(b, i, "null");
    else return -1;
    if (i < 0) return -1;
    // A value ended: close containers or go on to the next member.
    for (;;) {
      if (depth === 0) return i;
      i = skipWhitespace(b, i);
      const inObject = stack[depth - 1] === 1;
      if (b[i] === 0x2c) {
        i++;
        if (inObject) {
          i = skipMemberName(b, skipWhitespace(b, i));
          if (i < 0) return -1;
        }
        break;
      }
      if (b[i] === (inObject ? 0x7d : 0x5d)) {
        i++;
        depth--;
        continue;
      }
      return -1;
    }
  }
}

/** Past `"name" :` at `i`, or -1. */
function skipMemberName(b: Uint8Array, i: number): number {
  i = skipJsonString(b, i);
  if (i < 0) return -1;
  i = skipWhitespace(b, i);
  return b[i] === 0x3a ? i + 1 : -1;
}

/**
 * True when `b[start, end)` are exactly the bytes of `text` (ASCII).
 *
 * @example
 * ```ts
 * import { bytesEqual } from "./json_scan.ts";
 * bytesEqual(new TextEncoder().encode('"user"'), 0, 6, '"user"'); // true
 * ```
 */
export function bytesEqual(
  b: Uint8Array,
  start: number,
  end: number,
  text: string,
): boolean {
  if (end - start !== text.length) return false;
  for (let k = 0; k < text.length; k++) {
    if (b[start + k] !== text.charCodeAt(k)) return false;
  }
  return true;
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Parses the bytes `b[start, end)` of one value the scanner has already
 * validated (so it cannot fail), without decoding the rest of the file.
 *
 * @example
 * ```ts
 * import { parseJsonSpan } from "./json_scan.ts";
 * const b = new TextEncoder().encode('{"a": [1, 2]}');
 * parseJsonSpan(b, 6, 12); // [1, 2]
 * ```
 */
export function parseJsonSpan(
  b: Uint8Array,
  start: number,
  end: number,
): unknown {
  return JSON.parse(utf8.decode(b.subarray(start, end)));
}
