/**
 * JSON values as the server's Python sees them: truthiness, `str.strip()`,
 * a message's text, and what counts as an object. Several concepts of the
 * store format need them (the sidecar summary, the compaction marker), so
 * they live apart from both.
 *
 * @example
 * ```ts
 * import { pyStrip, pyTruthy } from "./python_values.ts";
 * pyTruthy({}); // false
 * pyStrip(" hi\x85"); // "hi"
 * ```
 * @module
 */

/**
 * True for a plain JSON object (not a list, not null).
 *
 * @example
 * ```ts
 * import { isPlainObject } from "./python_values.ts";
 * isPlainObject({}); // true
 * isPlainObject([]); // false
 * ```
 */
export function isPlainObject(
  value: unknown,
): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Python's truthiness, which the server's `bool(x)` and `x or y` use.
 *
 * @example
 * ```ts
 * import { pyTruthy } from "./python_values.ts";
 * pyTruthy([]); // false
 * pyTruthy("0"); // true
 * ```
 */
export function pyTruthy(value: unknown): boolean {
  if (value === null || value === undefined || value === false) return false;
  if (value === 0 || value === "") return false;
  if (Array.isArray(value)) return value.length > 0;
  if (isPlainObject(value)) return Object.keys(value).length > 0;
  return true;
}

/**
 * The text of a message's `content`: the string itself, or the `text` of
 * each part of a list joined together; anything else is empty.
 *
 * @example
 * ```ts
 * import { messageText } from "./python_values.ts";
 * messageText([{ type: "text", text: "a" }, { type: "text", text: "b" }]); // "ab"
 * ```
 */
export function messageText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  let text = "";
  for (const part of content) {
    if (typeof part === "string") text += part;
    else if (isPlainObject(part) && typeof part.text === "string") {
      text += part.text;
    }
  }
  return text;
}

// Python's str.isspace() set, which str.strip() removes; JS trim() differs
// (it keeps \x1c-\x1f and \x85, and removes \ufeff).
const PY_SPACE = "\t\n\v\f\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001" +
  "\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000";

/**
 * Python's `str.strip()`: the server compares message texts with it.
 *
 * @example
 * ```ts
 * import { pyStrip } from "./python_values.ts";
 * pyStrip("\x1c hi \n"); // "hi"
 * pyStrip("\ufeffhi"); // "\ufeffhi"
 * ```
 */
export function pyStrip(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && PY_SPACE.includes(text[start])) start++;
  while (end > start && PY_SPACE.includes(text[end - 1])) end--;
  return text.slice(start, end);
}

/**
 * Python's `int(x)` of a JSON value: a bool is 0 or 1, a number is cut
 * toward zero, a string of digits (signs, surrounding space and `_`
 * between digits allowed) is read; null where `int()` raises.
 *
 * @example
 * ```ts
 * import { pyInt } from "./python_values.ts";
 * pyInt(" 1_0 "); // 10
 * pyInt(3.9); // 3
 * pyInt("3.5"); // null
 * ```
 */
export function pyInt(value: unknown): number | null {
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "number") {
    return Number.isFinite(value) ? Math.trunc(value) + 0 : null;
  }
  if (typeof value !== "string") return null;
  const digits = pyStrip(value);
  return /^[+-]?\d+(_\d+)*$/.test(digits)
    ? Number(digits.replaceAll("_", "")) + 0
    : null;
}
