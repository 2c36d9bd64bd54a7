/**
 * Byte-preserving edits of a JSON object's top-level values. A repair that
 * adds two messages to a 500 KB sidecar changes only where they go: every
 * other byte (key order, number spellings like `0.0`, big integers, string
 * escapes) stays as the server wrote it. The scanner is iterative, so deep
 * nesting cannot overflow the stack.
 *
 * @example
 * ```ts
 * import { appendToTopLevelArray } from "./json_edit.ts";
 * appendToTopLevelArray('{"a": 1, "messages": []}', "messages", [{ role: "user" }]);
 * // '{"a": 1, "messages": [\n    {\n      "role": "user"\n    }\n  ]}'
 * ```
 * @module
 */

import {
  parseJsonSpan,
  skipJsonString,
  skipJsonValue,
  skipWhitespace,
} from "./json_scan.ts";

/** Where a top-level value sits in the text: `text.slice(start, end)`. */
export interface ValueSpan {
  start: number;
  end: number;
}

const WHITESPACE = new Set([" ", "\t", "\n", "\r"]);
const encoder = new TextEncoder();

/**
 * Finds every top-level key of a JSON object text and the span of its value.
 * A key that occurs twice maps to its last occurrence, the one `JSON.parse`
 * keeps. Returns null when the text is not a valid object. The walk is the
 * byte scanner's (core/json/json_scan.ts), so there is one JSON skipper; its byte
 * offsets are turned into the text's UTF-16 indexes.
 *
 * @example
 * ```ts
 * import { topLevelSpans } from "./json_edit.ts";
 * topLevelSpans('{"a": [1, 2]}')?.get("a"); // { start: 6, end: 12 }
 * ```
 */
export function topLevelSpans(text: string): Map<string, ValueSpan> | null {
  const b = encoder.encode(text);
  if (skipJsonValue(b, 0) < 0) return null;
  let i = skipWhitespace(b, 0);
  if (b[i] !== 0x7b) return null;
  const toIndex = utf16Indexer(b);
  const spans = new Map<string, ValueSpan>();
  i = skipWhitespace(b, i + 1);
  while (b[i] === 0x22) {
    const keyEnd = skipJsonString(b, i);
    const key = parseJsonSpan(b, i, keyEnd) as string;
    const start = skipWhitespace(b, skipWhitespace(b, keyEnd) + 1);
    const end = skipJsonValue(b, start);
    spans.set(key, { start: toIndex(start), end: toIndex(end) });
    i = skipWhitespace(b, end);
    if (b[i] === 0x2c) i = skipWhitespace(b, i + 1);
  }
  return spans;
}

/**
 * Maps increasing byte offsets of UTF-8 `b` to UTF-16 indexes of its text,
 * counting only the bytes since the previous offset.
 */
function utf16Indexer(b: Uint8Array): (offset: number) => number {
  let byte = 0;
  let unit = 0;
  return (offset) => {
    for (; byte < offset; byte++) {
      const c = b[byte];
      if ((c & 0xc0) !== 0x80) unit += c >= 0xf0 ? 2 : 1;
    }
    return unit;
  };
}

function skipWhitespaceText(text: string, i: number): number {
  while (i < text.length && WHITESPACE.has(text[i])) i++;
  return i;
}

/**
 * Replaces the value of a top-level key, keeping every other byte. Returns
 * null when the key is absent or the text is not an object.
 *
 * @example
 * ```ts
 * import { replaceTopLevelValue } from "./json_edit.ts";
 * replaceTopLevelValue('{"a": 1, "b": 2}', "a", null); // '{"a": null, "b": 2}'
 * ```
 */
export function replaceTopLevelValue(
  text: string,
  key: string,
  value: unknown,
): string | null {
  const span = topLevelSpans(text)?.get(key);
  if (!span) return null;
  const indent = lineIndent(text, span.start);
  return text.slice(0, span.start) + render(value, indent) +
    text.slice(span.end);
}

/**
 * Appends items to a top-level array, in the style of the file: indented
 * like its existing elements (as Python's `json.dumps(indent=2)` writes
 * them), or compact. Returns null when the key is absent or not an array.
 *
 * @example
 * ```ts
 * import { appendToTopLevelArray } from "./json_edit.ts";
 * appendToTopLevelArray('{"m": [1]}', "m", [2]); // '{"m": [1, 2]}'
 * ```
 */
export function appendToTopLevelArray(
  text: string,
  key: string,
  items: unknown[],
): string | null {
  const span = topLevelSpans(text)?.get(key);
  if (!span || text[span.start] !== "[") return null;
  const close = span.end - 1;
  const firstElement = skipWhitespaceText(text, span.start + 1);
  const keyIndent = lineIndent(text, span.start);
  if (firstElement === close) {
    if (items.length === 0) return text;
    const pretty = text.slice(0, span.start).includes("\n");
    const inner = pretty ? keyIndent + "  " : "";
    const body = pretty
      ? "\n" + items.map((item) => inner + render(item, inner)).join(",\n") +
        "\n" + keyIndent
      : items.map((item) => render(item, "")).join(", ");
    return text.slice(0, span.start + 1) + body + text.slice(close);
  }
  const leading = text.slice(span.start + 1, firstElement);
  const newline = leading.lastIndexOf("\n");
  const elementIndent = newline >= 0 ? leading.slice(newline + 1) : null;
  let lastEnd = close;
  while (lastEnd > span.start && WHITESPACE.has(text[lastEnd - 1])) lastEnd--;
  const added = items.map((item) =>
    elementIndent === null
      ? ", " + render(item, "")
      : ",\n" + elementIndent + render(item, elementIndent)
  ).join("");
  return text.slice(0, lastEnd) + added + text.slice(lastEnd);
}

/** The whitespace that starts the line `at` is on. */
function lineIndent(text: string, at: number): string {
  const lineStart = text.lastIndexOf("\n", at - 1) + 1;
  let end = lineStart;
  while (end < at && (text[end] === " " || text[end] === "\t")) end++;
  return text.slice(lineStart, end);
}

/** JSON for a value placed at a line indented by `indent`. */
function render(value: unknown, indent: string): string {
  if (indent === "") return JSON.stringify(value);
  return JSON.stringify(value, null, 2).replaceAll("\n", "\n" + indent);
}
