/**
 * Which session ids may become file names. The server accepts a sidecar id
 * only if it matches `^[0-9a-z_]+$` and a journal file name only if it
 * matches `^[A-Za-z0-9_.-]+$` (STORE_FORMAT.md §1). Any other id, whatever
 * its source, must never be turned into a path.
 *
 * @example
 * ```ts
 * import { isValidSessionId } from "./session_id.ts";
 * isValidSessionId("abc_123"); // true
 * isValidSessionId("../../x"); // false
 * ```
 * @module
 */

const SIDECAR_ID = /^[0-9a-z_]+$/;
const JOURNAL_NAME = /^[A-Za-z0-9_.-]+$/;

/** Longest id accepted; keeps every derived file name under NAME_MAX (255). */
export const MAX_SESSION_ID_LENGTH = 200;

/**
 * True when `id` may name a sidecar (`<id>.json`) in the session dir.
 *
 * @example
 * ```ts
 * isValidSessionId("20260511_ab12"); // true
 * isValidSessionId("Abc"); // false: upper case is not in the charset
 * ```
 */
export function isValidSessionId(id: unknown): id is string {
  return typeof id === "string" && id.length <= MAX_SESSION_ID_LENGTH &&
    SIDECAR_ID.test(id) && !id.startsWith("_");
}

/**
 * True when `name` may name a turn journal (`_turn_journal/<name>.jsonl`).
 *
 * @example
 * ```ts
 * isValidJournalName("abc-1.2"); // true
 * isValidJournalName(".."); // false
 * ```
 */
export function isValidJournalName(name: string): boolean {
  return name.length <= MAX_SESSION_ID_LENGTH && JOURNAL_NAME.test(name) &&
    name !== "." && name !== "..";
}

/**
 * Describes why an id is not valid, for messages shown to an operator.
 *
 * @example
 * ```ts
 * describeInvalidId("../x"); // "contains characters outside [0-9a-z_]"
 * ```
 */
export function describeInvalidId(id: unknown): string {
  if (typeof id !== "string") return `is a ${typeof id}, not a string`;
  if (id === "") return "is empty";
  if (id.length > MAX_SESSION_ID_LENGTH) {
    return `is ${id.length} characters long (at most ${MAX_SESSION_ID_LENGTH})`;
  }
  if (id.startsWith("_")) return "starts with '_', which marks system files";
  return "contains characters outside [0-9a-z_]";
}
