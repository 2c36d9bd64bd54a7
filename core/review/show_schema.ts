/**
 * The JSON Schema of `show --format json` (core/review/show.schema.json),
 * embedded as a module so a compiled binary carries it, with a validator.
 *
 * @example
 * ```ts
 * import { validateShown } from "./show_schema.ts";
 * declare const output: string;
 * validateShown(JSON.parse(output)); // [] when it is valid
 * ```
 * @module
 */

import schema from "./show.schema.json" with { type: "json" };
import { type JsonSchema, validateJson } from "../json/json_schema.ts";

/**
 * The JSON Schema of `show --format json`.
 *
 * @example
 * ```ts
 * import { SHOW_SCHEMA } from "./show_schema.ts";
 * SHOW_SCHEMA.title; // "hermes-fsck show"
 * ```
 */
export const SHOW_SCHEMA: JsonSchema = schema;

/**
 * Validates parsed `show --format json` output; returns the problems
 * (empty when valid).
 *
 * @example
 * ```ts
 * import { validateShown } from "./show_schema.ts";
 * validateShown({}); // ["$: missing required property \"schemaVersion\"", ...]
 * ```
 */
export function validateShown(value: unknown): string[] {
  return validateJson(SHOW_SCHEMA, value);
}
