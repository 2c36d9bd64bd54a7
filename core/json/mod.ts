/**
 * JSON: one validating byte scanner, byte-preserving edits of top-level
 * values, Python-style dumps, a list read a window at a time, and a small
 * schema validator.
 *
 * - `json_edit.ts`: Byte-preserving edits of a JSON object's top-level values.
 * - `json_list_stream.ts`: A JSON list walked one element at a time from a
 *   file, through a window of a fixed size instead of the whole file:
 * - `json_pieces.ts`: JSON written a piece at a time:
 * - `json_scan.ts`: A validating JSON scanner over UTF-8 bytes:
 * - `json_schema.ts`: A small JSON Schema validator for the subset hermes-
 *   fsck's own schemas use (`type`, `const`, `enum`, `properties`, `required`,
 *   `items`, `additionalProperties`, `pattern`, `minimum`, `maximum`,
 *   `minLength`, `anyOf`, local `$ref`).
 * - `nesting.ts`: How deep a value nests, asked without recursion:
 * - `python_json.ts`: JSON written as Python's `json.dumps(value,
 *   sort_keys=True)` writes it:
 * - `same_json.ts`: Deep equality of parsed JSON values, for repairs that must
 *   prove an edit or a removal loses nothing:
 *
 * @example
 * ```ts
 * import * as json from "./mod.ts";
 * ```
 * @module
 */

export * from "./json_edit.ts";
export * from "./json_list_stream.ts";
export * from "./json_pieces.ts";
export * from "./json_scan.ts";
export * from "./json_schema.ts";
export * from "./nesting.ts";
export * from "./python_json.ts";
export * from "./same_json.ts";
