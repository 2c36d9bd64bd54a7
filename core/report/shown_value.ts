/**
 * Values read from a damaged store (an id, a title, a journal field) as a
 * finding shows them: a short JSON excerpt in a message, a bounded value in
 * evidence. A hostile value may be a string of megabytes or a list nested
 * 100,000 deep; neither may flood a report, and the report (printed with
 * indentation, which recurses) must never overflow the stack.
 *
 * @example
 * ```ts
 * import { boundedValue, showJson } from "./shown_value.ts";
 * showJson("x".repeat(1000)); // '"xxxx...'  (80 characters)
 * boundedValue([[[[]]]]); // [[[[]]]]: small values are kept as they are
 * ```
 * @module
 */

import type { JsonValue } from "./finding.ts";

/** How many characters of a value a message shows. */
export const SHOWN_CHARS = 80;

/** How many characters of JSON a value in evidence may take before it is cut. */
export const EVIDENCE_CHARS = 200;

/**
 * A value as JSON text for a message, cut to `max` characters with `...`.
 * Plain `JSON.stringify` does not recurse, so any depth is safe.
 *
 * @example
 * ```ts
 * import { showJson } from "./shown_value.ts";
 * showJson("../x"); // '"../x"'
 * showJson(undefined); // "missing"
 * ```
 */
export function showJson(value: unknown, max = SHOWN_CHARS): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    text = undefined;
  }
  text ??= value === undefined ? "missing" : typeof value;
  return cut(text, max);
}

/**
 * A string for a message, cut to `max` characters with `...`.
 *
 * @example
 * ```ts
 * import { shortText } from "./shown_value.ts";
 * shortText("abc", 2); // "..."
 * ```
 */
export function shortText(text: string, max = SHOWN_CHARS): string {
  return cut(text, max);
}

/**
 * A value for evidence: the value itself when its JSON is at most `max`
 * characters (so it is also shallow enough to print indented), else its
 * JSON text cut to `max` characters.
 *
 * @example
 * ```ts
 * import { boundedValue } from "./shown_value.ts";
 * boundedValue({ a: 1 }); // { a: 1 }
 * typeof boundedValue("y".repeat(1e6)); // "string", 200 characters
 * ```
 */
export function boundedValue(
  value: unknown,
  max = EVIDENCE_CHARS,
): JsonValue {
  if (value === undefined) return null;
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    return typeof value;
  }
  if (text === undefined) return null;
  return text.length <= max ? value as JsonValue : cut(text, max);
}

/**
 * Text of a value as Python's `str()` would use it in a key or a
 * comparison, without recursing: strings and numbers as they are, lists and
 * objects as JSON.
 *
 * @example
 * ```ts
 * import { plainText } from "./shown_value.ts";
 * plainText(42); // "42"
 * plainText(["a"]); // '["a"]'
 * ```
 */
export function plainText(value: unknown): string {
  if (typeof value === "object" && value !== null) {
    return JSON.stringify(value) ?? "";
  }
  return String(value);
}

/**
 * A file name for a message: as it is, or JSON-quoted when it holds a
 * control character (a newline in a name must not break a report's lines),
 * and cut to `max` characters.
 *
 * @example
 * ```ts
 * import { shownName } from "./shown_value.ts";
 * shownName("a.json"); // "a.json"
 * shownName("a\nb.json"); // '"a\\nb.json"'
 * ```
 */
export function shownName(name: string, max = 2 * SHOWN_CHARS): string {
  return cut(CONTROL.test(name) ? JSON.stringify(name) : name, max);
}

// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, Math.max(0, max - 3))}...` : text;
}
