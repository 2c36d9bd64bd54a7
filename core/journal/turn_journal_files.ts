/**
 * Which files make up each session's turn journal, in the order the server
 * reads them. Since v0.51.255 every server process appends to a shard of its
 * own, `_turn_journal/<sid>~<pid>.jsonl`, and reads a session's journal as
 * all its shards in directory order (the order `readdir` returns, as
 * Python's glob does), then the legacy `<sid>.jsonl` written before
 * v0.51.255 (STORE_FORMAT.md §2). `~` is in no id, so the first `~` ends
 * the id. A journal id may hold `.` (the server's journal rule), so a name
 * is only ever compared and joined to the journal dir as the listing gave
 * it; no id becomes a path component unless it passes the sidecar rule.
 *
 * @example
 * ```ts
 * import { listJournalFiles } from "./turn_journal_files.ts";
 * const { sessions, invalid } = listJournalFiles("/srv/sessions");
 * for (const s of sessions) console.log(s.sessionId, s.names);
 * console.log(invalid.length, "names no journal id");
 * ```
 * @module
 */

import { storeLstatSync, storeReadDirSync } from "../io/overlay.ts";
import { JOURNAL_DIR, JOURNAL_SUFFIX, pathIn } from "../store/layout.ts";
import { compareIds, isValidJournalName } from "../store/session_id.ts";

/**
 * One session's journal files.
 *
 * @example
 * ```ts
 * import type { SessionJournalNames } from "./turn_journal_files.ts";
 * const s: SessionJournalNames = { sessionId: "abc", names: ["_turn_journal/abc~7.jsonl", "_turn_journal/abc.jsonl"] };
 * ```
 */
export interface SessionJournalNames {
  /** The id the names carry (passes the journal rule; may hold `.`). */
  sessionId: string;
  /**
   * Paths relative to the session dir, in the server's read order: shards
   * in directory order, then the legacy file.
   */
  names: string[];
}

/**
 * The journal dir's listing, by session.
 *
 * @example
 * ```ts
 * import { type JournalListing, listJournalFiles } from "./turn_journal_files.ts";
 * declare const dir: string;
 * const listing: JournalListing = listJournalFiles(dir);
 * ```
 */
export interface JournalListing {
  /** Sessions in id order ({@linkcode compareIds}). */
  sessions: SessionJournalNames[];
  /** `.jsonl` names that carry no valid journal id, with the id they carry. */
  invalid: { name: string; id: string }[];
}

/**
 * Which journal id a file name of the journal dir carries, and whether it
 * is a shard; null when it is no `.jsonl` file.
 *
 * @example
 * ```ts
 * import { journalNameParts } from "./turn_journal_files.ts";
 * journalNameParts("abc~123.jsonl"); // { id: "abc", shard: true }
 * journalNameParts("abc.jsonl"); // { id: "abc", shard: false }
 * journalNameParts("~1.jsonl"); // { id: "~1", shard: false }: no valid id
 * ```
 */
export function journalNameParts(
  fileName: string,
): { id: string; shard: boolean } | null {
  if (!fileName.endsWith(JOURNAL_SUFFIX)) return null;
  const stem = fileName.slice(0, -JOURNAL_SUFFIX.length);
  const tilde = stem.indexOf("~");
  return tilde > 0
    ? { id: stem.slice(0, tilde), shard: true }
    : { id: stem, shard: false };
}

/**
 * Lists `<sessionDir>/_turn_journal` once. A missing dir, or a link or file
 * in its place (never followed), lists nothing.
 *
 * @example
 * ```ts
 * import { listJournalFiles } from "./turn_journal_files.ts";
 * listJournalFiles("/srv/sessions").sessions.length;
 * ```
 */
export function listJournalFiles(sessionDir: string): JournalListing {
  const dir = pathIn(sessionDir, JOURNAL_DIR);
  const listing: JournalListing = { sessions: [], invalid: [] };
  let entries: string[];
  try {
    if (!storeLstatSync(dir).isDirectory) return listing;
    // Unsorted: the server takes shards in the order readdir gives them,
    // which decides between events of one turn stamped at the same time.
    entries = [];
    for (const entry of storeReadDirSync(dir)) entries.push(entry.name);
  } catch {
    return listing;
  }
  const shards = new Map<string, string[]>();
  const legacy = new Map<string, string>();
  for (const fileName of entries) {
    const parts = journalNameParts(fileName);
    if (!parts) continue;
    const name = `${JOURNAL_DIR}/${fileName}`;
    if (!isValidJournalName(parts.id)) {
      const stem = fileName.slice(0, -JOURNAL_SUFFIX.length);
      listing.invalid.push({ name, id: parts.shard ? parts.id : stem });
      continue;
    }
    if (!parts.shard) legacy.set(parts.id, name);
    else {
      const list = shards.get(parts.id);
      if (list) list.push(name);
      else shards.set(parts.id, [name]);
    }
  }
  const ids = new Set([...shards.keys(), ...legacy.keys()]);
  for (const sessionId of [...ids].sort(compareIds)) {
    const names = shards.get(sessionId) ?? [];
    const legacyName = legacy.get(sessionId);
    if (legacyName !== undefined) names.push(legacyName);
    listing.sessions.push({ sessionId, names });
  }
  listing.invalid.sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0
  );
  return listing;
}

/**
 * The journal files of one session, in the server's read order (see
 * {@linkcode listJournalFiles}).
 *
 * @example
 * ```ts
 * import { journalFilesOf } from "./turn_journal_files.ts";
 * journalFilesOf("/srv/sessions", "abc"); // ["_turn_journal/abc~7.jsonl", "_turn_journal/abc.jsonl"]
 * ```
 */
export function journalFilesOf(
  sessionDir: string,
  sessionId: string,
): string[] {
  return listJournalFiles(sessionDir).sessions.find((s) =>
    s.sessionId === sessionId
  )?.names ?? [];
}
