/**
 * The JSON Schema of the `json` report, embedded as a module so a compiled
 * binary carries it, with a validator for it.
 *
 * @example
 * ```ts
 * import { validateReport } from "./report_schema.ts";
 * declare const output: string;
 * validateReport(JSON.parse(output)); // [] when the report is valid
 * ```
 * @module
 */

import schema from "./report.schema.json" with { type: "json" };
import { type JsonSchema, validateJson } from "../json/json_schema.ts";

/**
 * The report's JSON Schema (core/report/report.schema.json).
 *
 * @example
 * ```ts
 * import { REPORT_SCHEMA } from "./report_schema.ts";
 * REPORT_SCHEMA.title; // "hermes-fsck report"
 * ```
 */
export const REPORT_SCHEMA: JsonSchema = schema;

/**
 * Validates a parsed `json` report; returns the problems (empty when valid).
 *
 * @example
 * ```ts
 * import { validateReport } from "./report_schema.ts";
 * validateReport({}); // ["$: missing required property \"schemaVersion\"", ...]
 * ```
 */
export function validateReport(report: unknown): string[] {
  return validateJson(REPORT_SCHEMA, report);
}
