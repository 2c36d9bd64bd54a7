/**
 * Which session ids may become file names. Since v0.51.149 the server
 * accepts a sidecar id made of `[A-Za-z0-9_-]` (before, only `[0-9a-z_]`, a
 * subset, so one rule serves every version); its journal code also lets `.`
 * through (`^[A-Za-z0-9_.-]+$`), so `.` and `..` would pass there
 * (STORE_FORMAT.md §1). An id becomes a path component only when it passes
 * the sidecar rule, whatever its source, so `.` and `..` never name a dir.
 *
 * @example
 * ```ts
 * import { isValidSessionId } from "./session_id.ts";
 * isValidSessionId("abc_123"); // true
 * isValidSessionId("../../x"); // false
 * ```
 * @module
 */

const SIDECAR_ID = /^[A-Za-z0-9_-]+$/;
const JOURNAL_NAME = /^[A-Za-z0-9_.-]+$/;

/** Longest id accepted; keeps every derived file name under NAME_MAX (255). */
export const MAX_SESSION_ID_LENGTH = 200;

/**
 * True when `id` may name a sidecar (`<id>.json`) in the session dir.
 *
 * @example
 * ```ts
 * import { isValidSessionId } from "./session_id.ts";
 * isValidSessionId("api-Chat_7"); // true (since v0.51.149)
 * isValidSessionId("a.b"); // false: "." is never in a sidecar id
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
 * import { isValidJournalName } from "./session_id.ts";
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
 * import { describeInvalidId } from "./session_id.ts";
 * describeInvalidId("../x"); // "contains characters outside [A-Za-z0-9_-]"
 * ```
 */
export function describeInvalidId(id: unknown): string {
  if (typeof id !== "string") return `is a ${typeof id}, not a string`;
  if (id === "") return "is empty";
  if (id.length > MAX_SESSION_ID_LENGTH) {
    return `is ${id.length} characters long (at most ${MAX_SESSION_ID_LENGTH})`;
  }
  if (id.startsWith("_")) return "starts with '_', which marks system files";
  return "contains characters outside [A-Za-z0-9_-]";
}

/**
 * Orders session ids as their files sort in a dir listing: `<id>.` and what
 * follows. With `-` (before `.`) in ids, plain id order differs: `a-b` sorts
 * after `a`, but `a-b.json` before `a.json`. Every walk over ids by range
 * uses this order so a session's files stay together.
 *
 * @example
 * ```ts
 * import { compareIds } from "./session_id.ts";
 * compareIds("a-b", "a"); // -1: "a-b.json" lists before "a.json"
 * compareIds("a", "ab"); // -1
 * ```
 */
export function compareIds(a: string, b: string): number {
  const x = a + ".";
  const y = b + ".";
  return x < y ? -1 : x > y ? 1 : 0;
}
