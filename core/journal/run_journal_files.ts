/**
 * Which run journal files the store holds: `_run_journal/<sid>/` per
 * session, `<stream_id>.jsonl` per run (since v0.51.71). The server's
 * journal code accepts ids of `[A-Za-z0-9_.-]`, so `.` and `..` would pass
 * there; here a name becomes a path component only when its id passes the
 * sidecar rule (core/store/session_id.ts). Every other name, and every symlink or
 * non-directory where a session's dir belongs, or a symlink or
 * non-regular file named `<id>.jsonl`, is reported and never followed or
 * entered. Names that do not end in `.jsonl` are not the server's (it
 * globs `*.jsonl`) and are passed over.
 *
 * @example
 * ```ts
 * import { listRunJournals } from "./run_journal_files.ts";
 * const listing = listRunJournals("/srv/sessions");
 * for (const s of listing.sessions) console.log(s.sessionId, s.files.length);
 * for (const bad of listing.refused) console.log(bad.name, bad.reason);
 * ```
 * @module
 */

import { storeLstatSync, storeReadDirSync } from "../io/overlay.ts";
import { compareIds, isValidSessionId } from "../store/session_id.ts";
import { JOURNAL_SUFFIX, pathIn } from "../store/layout.ts";

/** The run journal dir, inside the session dir. */
export const RUN_JOURNAL_DIR = "_run_journal";

/**
 * A run journal file the listing lets through.
 *
 * @example
 * ```ts
 * import type { RunJournalName } from "./run_journal_files.ts";
 * const file: RunJournalName = { name: "_run_journal/abc/r1.jsonl", streamId: "r1" };
 * ```
 */
export interface RunJournalName {
  /** Its path relative to the session dir. */
  name: string;
  /** The stream (run) id its name carries; passes the sidecar rule. */
  streamId: string;
}

/**
 * One session's run journal files.
 *
 * @example
 * ```ts
 * import type { SessionRunJournalNames } from "./run_journal_files.ts";
 * const s: SessionRunJournalNames = {
 *   sessionId: "abc", dir: "_run_journal/abc", files: [], identity: { ino: 1, dev: 1 },
 * };
 * ```
 */
export interface SessionRunJournalNames {
  /** The session id of the dir (passes the sidecar rule). */
  sessionId: string;
  /** The dir, relative to the session dir. */
  dir: string;
  /** Its `.jsonl` files, by name. */
  files: RunJournalName[];
  /** The dir's inode and device when listed, to see it swapped later. */
  identity: { ino: number | null; dev: number };
}

/**
 * Why a name under `_run_journal/` was not read.
 *
 * @example
 * ```ts
 * import type { RunJournalRefusal } from "./run_journal_files.ts";
 * const why: RunJournalRefusal = "invalid_session_id";
 * ```
 */
export type RunJournalRefusal =
  /** A dir name (the session id) fails the sidecar rule. */
  | "invalid_session_id"
  /** A `.jsonl` name's stream id fails the sidecar rule. */
  | "invalid_stream_id"
  /** A symbolic link: never followed. */
  | "symlink"
  /** Not a directory where a session's dir belongs (or `_run_journal` itself). */
  | "not_directory"
  /** Not a regular file where a run's `.jsonl` belongs. */
  | "not_regular_file"
  /** A dir that could not be listed (or changed while it was). */
  | "unreadable";

/**
 * A name under (or at) `_run_journal` that was reported, not followed.
 *
 * @example
 * ```ts
 * import type { RefusedRunJournalPath } from "./run_journal_files.ts";
 * const bad: RefusedRunJournalPath = { name: "_run_journal/../x", id: "..", reason: "invalid_session_id" };
 * ```
 */
export interface RefusedRunJournalPath {
  /** Its path relative to the session dir, as listed. */
  name: string;
  /** The id its name carries (session id for a dir, stream id for a file). */
  id: string;
  /** The session id of its dir, when that passed the rule. */
  sessionId?: string;
  /** Why it was not read. */
  reason: RunJournalRefusal;
  /** A phrase for the operator, when there is more to say. */
  detail?: string;
}

/**
 * The run journal dir's listing.
 *
 * @example
 * ```ts
 * import { type RunJournalListing, listRunJournals } from "./run_journal_files.ts";
 * declare const dir: string;
 * const listing: RunJournalListing = listRunJournals(dir);
 * ```
 */
export interface RunJournalListing {
  /** Sessions in id order ({@linkcode compareIds}); files by name. */
  sessions: SessionRunJournalNames[];
  /** What was reported and never followed, by name. */
  refused: RefusedRunJournalPath[];
}

/**
 * Lists `<sessionDir>/_run_journal`. A missing dir lists nothing; a link or
 * a file in its place is refused, never followed. Each session dir is
 * lstat-checked before and after it is listed, so one swapped for a link
 * meanwhile is refused too.
 *
 * @example
 * ```ts
 * import { listRunJournals } from "./run_journal_files.ts";
 * listRunJournals("/srv/sessions").sessions.length;
 * ```
 */
export function listRunJournals(sessionDir: string): RunJournalListing {
  const listing: RunJournalListing = { sessions: [], refused: [] };
  const root = pathIn(sessionDir, RUN_JOURNAL_DIR);
  const rootStat = lstatOrNull(root);
  if (!rootStat) return listing;
  if (!rootStat.isDirectory) {
    listing.refused.push({
      name: RUN_JOURNAL_DIR,
      id: "",
      reason: rootStat.isSymlink ? "symlink" : "not_directory",
    });
    return listing;
  }
  const names = listNames(root, rootStat);
  if (names === null) {
    listing.refused.push({
      name: RUN_JOURNAL_DIR,
      id: "",
      reason: "unreadable",
    });
    return listing;
  }
  for (const entry of names) {
    const dir = `${RUN_JOURNAL_DIR}/${entry.name}`;
    if (!isValidSessionId(entry.name)) {
      listing.refused.push({
        name: dir,
        id: entry.name,
        reason: "invalid_session_id",
      });
      continue;
    }
    if (entry.isSymlink || !entry.isDirectory) {
      listing.refused.push({
        name: dir,
        id: entry.name,
        sessionId: entry.name,
        reason: entry.isSymlink ? "symlink" : "not_directory",
      });
      continue;
    }
    const path = pathIn(sessionDir, dir);
    const before = lstatOrNull(path);
    const files = before?.isDirectory ? listNames(path, before) : null;
    if (files === null) {
      listing.refused.push({
        name: dir,
        id: entry.name,
        sessionId: entry.name,
        reason: before?.isSymlink ? "symlink" : "unreadable",
        detail: "was replaced or could not be listed",
      });
      continue;
    }
    const session: SessionRunJournalNames = {
      sessionId: entry.name,
      dir,
      files: [],
      identity: { ino: before!.ino, dev: before!.dev },
    };
    for (const file of files) {
      if (!file.name.endsWith(JOURNAL_SUFFIX)) continue;
      const streamId = file.name.slice(0, -JOURNAL_SUFFIX.length);
      const name = `${dir}/${file.name}`;
      const refuse = (reason: RunJournalRefusal) =>
        listing.refused.push({
          name,
          id: streamId,
          sessionId: entry.name,
          reason,
        });
      if (!isValidSessionId(streamId)) refuse("invalid_stream_id");
      else if (file.isSymlink) refuse("symlink");
      else if (!file.isFile) refuse("not_regular_file");
      else session.files.push({ name, streamId });
    }
    listing.sessions.push(session);
  }
  listing.sessions.sort((a, b) => compareIds(a.sessionId, b.sessionId));
  listing.refused.sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0
  );
  return listing;
}

/**
 * The path of a run's journal relative to the session dir; throws when
 * either id fails the sidecar rule, so no untrusted id becomes a path.
 *
 * @example
 * ```ts
 * import { runJournalName } from "./run_journal_files.ts";
 * runJournalName("abc", "r1"); // "_run_journal/abc/r1.jsonl"
 * runJournalName("..", "r1"); // throws
 * ```
 */
export function runJournalName(sessionId: string, streamId: string): string {
  for (const id of [sessionId, streamId]) {
    if (!isValidSessionId(id)) {
      throw new Error(
        `refusing to build a run journal path from the invalid id ${
          JSON.stringify(id)
        }`,
      );
    }
  }
  return `${RUN_JOURNAL_DIR}/${sessionId}/${streamId}${JOURNAL_SUFFIX}`;
}

/**
 * True when a session's run journal dir is still the dir the listing saw
 * (not swapped for a link or another dir since).
 *
 * @example
 * ```ts
 * import { type SessionRunJournalNames, sameRunJournalDir } from "./run_journal_files.ts";
 * declare const sessionDir: string;
 * declare const session: SessionRunJournalNames;
 * if (!sameRunJournalDir(sessionDir, session)) console.log("swapped");
 * ```
 */
export function sameRunJournalDir(
  sessionDir: string,
  session: SessionRunJournalNames,
): boolean {
  const now = lstatOrNull(pathIn(sessionDir, session.dir));
  return !!now?.isDirectory && now.ino === session.identity.ino &&
    now.dev === session.identity.dev;
}

function lstatOrNull(path: string): Deno.FileInfo | null {
  try {
    return storeLstatSync(path);
  } catch {
    return null;
  }
}

/**
 * A dir's entries, sorted by name; null when it cannot be listed or is no
 * longer the dir `before` was (swapped while listed: readDir follows a
 * link, lstat does not).
 */
function listNames(
  path: string,
  before: Deno.FileInfo,
): Deno.DirEntry[] | null {
  const entries: Deno.DirEntry[] = [];
  try {
    for (const entry of storeReadDirSync(path)) entries.push(entry);
  } catch {
    return null;
  }
  const after = lstatOrNull(path);
  if (
    !after?.isDirectory || after.ino !== before.ino || after.dev !== before.dev
  ) return null;
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return entries;
}
