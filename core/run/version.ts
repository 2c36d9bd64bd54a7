/**
 * Version numbers of the tool and of the formats it speaks.
 *
 * @example
 * ```ts
 * import { TOOL_VERSION } from "./version.ts";
 * console.log(`hermes-fsck ${TOOL_VERSION}`);
 * ```
 * @module
 */

/**
 * The release of hermes-fsck; matches `version` in deno.json.
 *
 * @example
 * ```ts
 * import { TOOL_VERSION } from "./version.ts";
 * console.log(`hermes-fsck ${TOOL_VERSION}`);
 * ```
 */
export const TOOL_VERSION = "0.1.0";

/**
 * The version of the `json` report format. Bumped when a field changes
 * meaning or disappears; adding a field does not bump it.
 *
 * @example
 * ```ts
 * import { REPORT_SCHEMA_VERSION } from "./version.ts";
 * import type { Report } from "../report/report.ts";
 * declare const report: Report;
 * report.schemaVersion === REPORT_SCHEMA_VERSION; // true
 * ```
 */
export const REPORT_SCHEMA_VERSION = 1;
