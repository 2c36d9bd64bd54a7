/**
 * JSON written a piece at a time: the same text as one call of the
 * serializer would give, but never one string of it all. A report with a
 * million findings is hundreds of MB of JSON, past what V8 can hold in one
 * string ("Invalid string length"), and twice its size in memory while it
 * is joined. Objects and lists are walked; each element of a list (a
 * finding, an action) is serialized whole, and the pieces are handed out
 * in batches of about 64 KiB.
 *
 * @example
 * ```ts
 * import { jsonPieces } from "./json_pieces.ts";
 * declare function write(piece: string): Promise<void>;
 * declare const value: unknown;
 * for (const piece of jsonPieces({ findings: [1, 2] })) await write(piece);
 * [...jsonPieces(value)].join("") === JSON.stringify(value, null, 2); // true
 * ```
 * @module
 */

/**
 * How a value is written: the separators, the key order, and how a value
 * that is not walked (an element of a list, a scalar) is written whole.
 *
 * @example
 * ```ts
 * import type { JsonStyle } from "./json_pieces.ts";
 * const style: JsonStyle = { indent: "", itemSeparator: ", ", keySeparator: ": ", sortKeys: null, whole: (v) => JSON.stringify(v) ?? "null" };
 * ```
 */
export interface JsonStyle {
  /** One level of indentation; "" writes everything on one line. */
  indent: string;
  /** Between two items (before the newline, when indented). */
  itemSeparator: string;
  /** Between a key and its value. */
  keySeparator: string;
  /** The order of an object's keys; null keeps their own order. */
  sortKeys: ((a: string, b: string) => number) | null;
  /** A value written whole; `prefix` is the indentation of its line. */
  whole(value: unknown, prefix: string): string;
  /** True when a key's value is left out of its object. */
  omits?(value: unknown): boolean;
}

/**
 * `JSON.stringify(value, null, 2)`'s style.
 *
 * @example
 * ```ts
 * import { INDENTED_JSON } from "./json_pieces.ts";
 * [...jsonPieces({ a: [1] }, INDENTED_JSON)].join(""); // '{\n  "a": [\n    1\n  ]\n}'
 * ```
 */
export const INDENTED_JSON: JsonStyle = {
  indent: "  ",
  itemSeparator: ",",
  keySeparator: ": ",
  sortKeys: null,
  // JSON text has no raw newline but between its tokens, so each one
  // starts a line that is one level deeper than the value's.
  whole: (value, prefix) =>
    (JSON.stringify(value, null, 2) ?? "null").replaceAll("\n", "\n" + prefix),
  omits: (value) =>
    value === undefined || typeof value === "function" ||
    typeof value === "symbol",
};

/** Pieces are handed out once they add up to this many characters. */
const BATCH_CHARS = 64 << 10;

/**
 * The text of `value` in `style` (by default, as `JSON.stringify(value,
 * null, 2)` writes it), in pieces of about 64 KiB whose concatenation is
 * the whole text.
 *
 * @example
 * ```ts
 * import { jsonPieces } from "./json_pieces.ts";
 * import type { Report } from "../report/mod.ts";
 * import type { CliIo } from "../../cli.ts";
 * declare const report: Report;
 * declare const io: CliIo;
 * for (const piece of jsonPieces(report)) io.stdout(piece);
 * ```
 */
export function jsonPieces(
  value: unknown,
  style: JsonStyle = INDENTED_JSON,
): Generator<string> {
  return inBatches(walk(value, style, ""));
}

/**
 * `pieces` joined into batches of about 64 KiB: few writes, and never one
 * string of the whole.
 *
 * @example
 * ```ts
 * [...inBatches(["a", "b"])]; // ["ab"]
 * ```
 */
export function* inBatches(pieces: Iterable<string>): Generator<string> {
  let batch: string[] = [];
  let size = 0;
  for (const piece of pieces) {
    batch.push(piece);
    size += piece.length;
    if (size >= BATCH_CHARS) {
      yield batch.join("");
      batch = [];
      size = 0;
    }
  }
  if (size > 0) yield batch.join("");
}

/** An object or a list that is walked rather than written whole. */
function walks(value: unknown): value is object {
  return typeof value === "object" && value !== null &&
    // A value with its own toJSON (a Date) is written as that says.
    typeof (value as { toJSON?: unknown }).toJSON !== "function";
}

function* walk(
  value: unknown,
  style: JsonStyle,
  prefix: string,
): Generator<string> {
  if (!walks(value)) {
    yield style.whole(value, prefix);
    return;
  }
  const inner = prefix + style.indent;
  const open = style.indent ? "\n" + inner : "";
  const between = style.itemSeparator + open;
  const close = style.indent ? "\n" + prefix : "";
  if (Array.isArray(value)) {
    if (value.length === 0) {
      yield "[]";
      return;
    }
    yield "[" + open;
    for (let i = 0; i < value.length; i++) {
      if (i > 0) yield between;
      yield style.whole(value[i], inner);
    }
    yield close + "]";
    return;
  }
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object).filter((key) => !style.omits?.(object[key]));
  if (style.sortKeys) keys.sort(style.sortKeys);
  if (keys.length === 0) {
    yield "{}";
    return;
  }
  yield "{" + open;
  for (let i = 0; i < keys.length; i++) {
    if (i > 0) yield between;
    yield style.whole(keys[i], inner) + style.keySeparator;
    yield* walk(object[keys[i]], style, inner);
  }
  yield close + "}";
}
