/**
 * Read problems that mean "the file was read, but its bytes are not JSON":
 * the cases where the content itself is damaged, as opposed to a file that
 * could not be read at all (those are `unreadable-files`' findings).
 *
 * @example
 * ```ts
 * import { isParseProblem, parseProblemEvidence } from "./parse_problem.ts";
 * import type { ScannedFile } from "../io/file_read.ts";
 * import type { SidecarSummary } from "../store/sidecar_summary.ts";
 * declare const file: ScannedFile<SidecarSummary>;
 * if (!file.read.ok && isParseProblem(file.read.problem)) {
 *   console.log(parseProblemEvidence(file.read.problem)); // { problem, detail, offset }
 * }
 * ```
 * @module
 */

import type { ReadProblem, ReadProblemReason } from "../io/file_read.ts";
import type { Evidence } from "../report/finding.ts";

const PARSE_PROBLEMS: ReadonlySet<ReadProblemReason> = new Set([
  "empty",
  "invalid_utf8",
  "invalid_json",
]);

/**
 * True when the file was read but does not parse: empty, not UTF-8, or not
 * JSON.
 *
 * @example
 * ```ts
 * import { isParseProblem } from "./parse_problem.ts";
 * isParseProblem({ reason: "invalid_json", detail: "...", offset: 3 }); // true
 * isParseProblem({ reason: "permission_denied", detail: "..." }); // false
 * ```
 */
export function isParseProblem(problem: ReadProblem): boolean {
  return PARSE_PROBLEMS.has(problem.reason);
}

/**
 * The evidence of a parse problem: its reason, the phrase that describes
 * it and, when known, the byte offset of the error.
 *
 * @example
 * ```ts
 * import { parseProblemEvidence } from "./parse_problem.ts";
 * parseProblemEvidence({ reason: "invalid_json", detail: "is not valid JSON at byte 3 (...)", offset: 3 });
 * // { problem: "invalid_json", detail: "is not valid JSON at byte 3 (...)", offset: 3 }
 * ```
 */
export function parseProblemEvidence(problem: ReadProblem): Evidence {
  return {
    problem: problem.reason,
    detail: problem.detail,
    ...(problem.offset !== undefined ? { offset: problem.offset } : {}),
  };
}
