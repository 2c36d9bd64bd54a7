/**
 * The names of the session dir (STORE_FORMAT.md §1): what each file is, by
 * its name alone. Classifying by name lets the scan decide what to read
 * before it opens anything.
 *
 * @example
 * ```ts
 * import { classifyName } from "./layout.ts";
 * classifyName("abc.json"); // { type: "sidecar", sessionId: "abc" }
 * classifyName("abc.json.bak"); // { type: "backup", sessionId: "abc" }
 * classifyName("_index.json"); // { type: "index" }
 * ```
 * @module
 */

import { isValidSessionId } from "./session_id.ts";

/** The derived index of the session dir. */
export const INDEX_FILE = "_index.json";
/** The durable delete tombstone. */
export const TOMBSTONE_FILE = "_deleted_webui_sessions.json";
/** Sessions the server keeps out of the index on purpose (since v0.51.785). */
export const PRUNED_ORPHANS_FILE = "_pruned_webui_orphans.json";
/** The turn journal dir, inside the session dir. */
export const JOURNAL_DIR = "_turn_journal";
/** The suffix of a turn journal file. */
export const JOURNAL_SUFFIX = ".jsonl";
/** The suffix of a live sidecar. */
export const SIDECAR_SUFFIX = ".json";
/** The suffix of a pre-shrink snapshot. */
export const BACKUP_SUFFIX = ".json.bak";

/**
 * Which writer left a temp file behind.
 *
 * @example
 * ```ts
 * import type { TempOrigin } from "./layout.ts";
 * const origin: TempOrigin = "sidecar_save"; // left by a save of the server
 * ```
 */
export type TempOrigin =
  | "sidecar_save"
  | "backup_save"
  | "index_save"
  | "recover"
  | "reconcile"
  | "hermes_fsck";

/** What a name in the session dir is. */
export type NameClass =
  | { type: "sidecar"; sessionId: string }
  | { type: "backup"; sessionId: string }
  | { type: "temp"; origin: TempOrigin; sessionId?: string }
  | { type: "index" }
  | { type: "tombstone" }
  | { type: "journal_dir" }
  | { type: "system" }
  /** Looks like a sidecar or backup, but the id fails the charset. */
  | { type: "invalid_id"; as: "sidecar" | "backup"; id: string }
  | { type: "other" };

const PID_TID = String.raw`\.\d+\.\d+`;
const TEMP_PATTERNS: [RegExp, TempOrigin][] = [
  [new RegExp(String.raw`^(.+)\.json\.bak\.tmp${PID_TID}$`), "backup_save"],
  [new RegExp(String.raw`^(.+)\.json\.reconcile\.tmp${PID_TID}$`), "reconcile"],
  [/^(.+)\.json\.recover\.tmp$/, "recover"],
  [/^(.+)\.hermes-fsck\.tmp\.\d+\.[0-9a-f]+$/, "hermes_fsck"],
  [new RegExp(String.raw`^(.+)\.tmp${PID_TID}$`), "sidecar_save"],
];
const INDEX_TEMP = new RegExp(
  String.raw`^_index\.tmp(?:\.recovery)?${PID_TID}$`,
);

/**
 * Classifies one name of the session dir.
 *
 * @example
 * ```ts
 * import { classifyName } from "./layout.ts";
 * classifyName("abc.tmp.12.34"); // temp of a sidecar save of "abc"
 * classifyName("Bad-Id.json"); // { type: "invalid_id", as: "sidecar", id: "Bad-Id" }
 * ```
 */
export function classifyName(name: string): NameClass {
  if (name === INDEX_FILE) return { type: "index" };
  if (name === TOMBSTONE_FILE) return { type: "tombstone" };
  if (name === JOURNAL_DIR) return { type: "journal_dir" };
  if (INDEX_TEMP.test(name)) return { type: "temp", origin: "index_save" };
  for (const [pattern, origin] of TEMP_PATTERNS) {
    const match = pattern.exec(name);
    if (match) {
      const id = origin === "hermes_fsck"
        ? stripSidecarSuffixes(match[1])
        : match[1];
      return isValidSessionId(id)
        ? { type: "temp", origin, sessionId: id }
        : { type: "temp", origin };
    }
  }
  if (name.startsWith("_")) return { type: "system" };
  if (name.endsWith(BACKUP_SUFFIX)) {
    const id = name.slice(0, -BACKUP_SUFFIX.length);
    return isValidSessionId(id)
      ? { type: "backup", sessionId: id }
      : { type: "invalid_id", as: "backup", id };
  }
  if (name.endsWith(SIDECAR_SUFFIX)) {
    const id = name.slice(0, -SIDECAR_SUFFIX.length);
    return isValidSessionId(id)
      ? { type: "sidecar", sessionId: id }
      : { type: "invalid_id", as: "sidecar", id };
  }
  return { type: "other" };
}

function stripSidecarSuffixes(name: string): string {
  if (name.endsWith(BACKUP_SUFFIX)) return name.slice(0, -BACKUP_SUFFIX.length);
  if (name.endsWith(SIDECAR_SUFFIX)) {
    return name.slice(0, -SIDECAR_SUFFIX.length);
  }
  return name;
}

/**
 * The file name of a session's live sidecar. Throws on an invalid id, so an
 * id from untrusted input can never become a path by accident.
 *
 * @example
 * ```ts
 * import { sidecarName } from "./layout.ts";
 * sidecarName("abc"); // "abc.json"
 * ```
 */
export function sidecarName(sessionId: string): string {
  assertValidId(sessionId);
  return sessionId + SIDECAR_SUFFIX;
}

/**
 * The file name of a session's `.bak` snapshot; throws on an invalid id.
 *
 * @example
 * ```ts
 * import { backupName } from "./layout.ts";
 * backupName("abc"); // "abc.json.bak"
 * ```
 */
export function backupName(sessionId: string): string {
  assertValidId(sessionId);
  return sessionId + BACKUP_SUFFIX;
}

/**
 * The path of a session's turn journal, relative to the session dir; throws
 * on an invalid id.
 *
 * @example
 * ```ts
 * import { journalName } from "./layout.ts";
 * journalName("abc"); // "_turn_journal/abc.jsonl"
 * ```
 */
export function journalName(sessionId: string): string {
  assertValidId(sessionId);
  return `${JOURNAL_DIR}/${sessionId}${JOURNAL_SUFFIX}`;
}

function assertValidId(sessionId: string): void {
  if (!isValidSessionId(sessionId)) {
    throw new Error(
      `refusing to build a path from the invalid session id ${
        JSON.stringify(sessionId)
      }`,
    );
  }
}

/**
 * The path of a store file: `dir` and `name` (a name from the listing,
 * perhaps `_turn_journal/<sid>.jsonl`) joined with one slash. Plain
 * concatenation shares `dir` and `name` with every other path, where
 * node:path's `join` builds each path anew from slices; a big store's
 * snapshot holds one path per file.
 *
 * @example
 * ```ts
 * import { pathIn } from "./layout.ts";
 * pathIn("/srv/sessions", "abc.json"); // "/srv/sessions/abc.json"
 * pathIn("/srv/sessions/", "abc.json"); // "/srv/sessions/abc.json"
 * ```
 */
export function pathIn(dir: string, name: string): string {
  return dir.endsWith("/") ? dir + name : dir + "/" + name;
}
