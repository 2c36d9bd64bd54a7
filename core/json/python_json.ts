/**
 * JSON written as Python's `json.dumps(value, sort_keys=True)` writes it:
 * `", "` and `": "` separators, sorted keys, non-ASCII escaped. The
 * `webui-json` format uses it so its output is byte-for-byte what the
 * server's own audit prints.
 *
 * @example
 * ```ts
 * import { pythonJsonDumps } from "./python_json.ts";
 * pythonJsonDumps({ b: 1, a: "é" }); // '{"a": "\\u00e9", "b": 1}'
 * ```
 * @module
 */

import { jsonPieces } from "./json_pieces.ts";

/**
 * Serializes like `json.dumps(value, sort_keys=True)`.
 *
 * @example
 * ```ts
 * import { pythonJsonDumps } from "./python_json.ts";
 * pythonJsonDumps([true, null]); // "[true, null]"
 * ```
 */
export function pythonJsonDumps(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") {
    if (Number.isNaN(value)) return "NaN";
    if (!Number.isFinite(value)) return value > 0 ? "Infinity" : "-Infinity";
    return String(value);
  }
  if (typeof value === "string") return quote(value);
  if (Array.isArray(value)) return `[${value.map(pythonJsonDumps).join(", ")}]`;
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object).filter((k) => object[k] !== undefined)
    .sort(byCodePoint);
  return `{${
    keys.map((k) => `${quote(k)}: ${pythonJsonDumps(object[k])}`).join(", ")
  }}`;
}

/**
 * {@linkcode pythonJsonDumps} in pieces of about 64 KiB (see
 * core/json/json_pieces.ts), for a value too big to be one string.
 *
 * @example
 * ```ts
 * [...pythonJsonPieces({ b: [1], a: 2 })].join(""); // '{"a": 2, "b": [1]}'
 * ```
 */
export function pythonJsonPieces(value: unknown): Generator<string> {
  return jsonPieces(value, {
    indent: "",
    itemSeparator: ", ",
    keySeparator: ": ",
    sortKeys: byCodePoint,
    whole: pythonJsonDumps,
    omits: (value) => value === undefined,
  });
}

/**
 * Compares strings as Python does (by code point); JS's default sort is by
 * UTF-16 unit, which differs past the Basic Multilingual Plane.
 *
 * @example
 * ```ts
 * import { byCodePoint } from "./python_json.ts";
 * ["\u{1F600}", "\uFFFF"].sort(byCodePoint); // ["\uFFFF", "\u{1F600}"]
 * ```
 */
export function byCodePoint(a: string, b: string): number {
  const left = [...a];
  const right = [...b];
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const diff = left[i].codePointAt(0)! - right[i].codePointAt(0)!;
    if (diff !== 0) return diff;
  }
  return left.length - right.length;
}

const ESCAPES: Record<string, string> = {
  '"': '\\"',
  "\\": "\\\\",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\b": "\\b",
  "\f": "\\f",
};

function quote(text: string): string {
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    const code = text.charCodeAt(i);
    if (ESCAPES[ch]) out += ESCAPES[ch];
    else if (code < 0x20 || code > 0x7e) {
      out += "\\u" + code.toString(16).padStart(4, "0");
    } else out += ch;
  }
  return out + '"';
}
