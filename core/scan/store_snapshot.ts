/**
 * The store as one scan saw it: the types of the snapshot the scan
 * (core/scan/snapshot.ts) makes and the checks, the report and the repairs
 * read. Types only, so that the modules the scan is made of can name them
 * without importing the scan.
 *
 * @example
 * ```ts
 * import type { StoreSnapshot } from "./store_snapshot.ts";
 * const count = (store: StoreSnapshot) => store.sessions.size;
 * ```
 * @module
 */

import type { FileIdentity, ReadResult, ScannedFile } from "../io/file_read.ts";
import type { SidecarSummary } from "../store/sidecar_summary.ts";
import type { JournalSummary, TurnState } from "../journal/turn_journal.ts";
import type { TempOrigin } from "../store/layout.ts";
import type { RunJournals } from "./run_journal_scan.ts";
import type { RunRecordProblem } from "../io/run_records.ts";
import type { StateDb } from "../state_db/state_db.ts";

export type { ScannedFile } from "../io/file_read.ts";

/**
 * A named profile's state.db.
 *
 * @example
 * ```ts
 * import type { ProfileStateDb } from "./store_snapshot.ts";
 * import type { StateDb } from "../state_db/state_db.ts";
 * declare const db: StateDb;
 * const entry: ProfileStateDb = { profile: "work", db };
 * ```
 */
export interface ProfileStateDb {
  /** The profile's name. */
  profile: string;
  /** Its state.db. */
  db: StateDb;
}

/**
 * The named profiles' state.dbs a snapshot opens as its sessions name them
 * (core/state_db/profile_state_db.ts `ProfileStateDbs`).
 *
 * @example
 * ```ts
 * import type { StoreSnapshot, ProfileDbSet } from "./store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * const dbs: ProfileDbSet | undefined = store.profileDbs;
 * dbs?.open("work")?.db.status;
 * ```
 */
export interface ProfileDbSet {
  /** The base home, the one that holds `profiles/`. */
  readonly base: string;
  /** A named profile's db, opened on first ask; null for the default's. */
  open(profile: string): ProfileStateDb | null;
  /** The dbs opened so far. */
  opened(): ProfileStateDb[];
  /** Closes every db opened. */
  close(): void;
}

/**
 * How a scan hands a store over in parts (see core/scan/part_scan.ts).
 *
 * @example
 * ```ts
 * import type { ScanParts } from "./store_snapshot.ts";
 * import { scanStore } from "./snapshot.ts";
 * declare const sessionDir: string;
 * const parts: ScanParts = { sessions: 1000, onPart: (part) => console.log(part.sessions.size) };
 * await scanStore({ sessionDir, stateDbPath: null, parts });
 * ```
 */
export interface ScanParts {
  /** Sessions in a part (the last may have fewer). */
  sessions: number;
  /**
   * Called with each part, in id order, once its files are read; the scan
   * reads on when it returns (or its promise settles), and then lets the
   * part go.
   */
  onPart(part: StoreSnapshot): void | Promise<void>;
}

/**
 * A temp file left by an atomic write.
 *
 * @example
 * ```ts
 * import type { StoreSnapshot } from "./store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * for (const temp of store.temps) console.log(temp.name, temp.origin, temp.identity?.mtimeMs);
 * ```
 */
export interface TempFile {
  /** Its name in the session dir. */
  name: string;
  /** Absolute path. */
  path: string;
  /** Which writer left it, from its name. */
  origin: TempOrigin;
  /** The session its name points at, when it names one. */
  sessionId?: string;
  /** Identity from lstat, including its mtime, for the age rule. */
  identity: FileIdentity | null;
  /** What the directory listing says it is. */
  fileType?: OtherEntry["type"];
  /**
   * Its content summarized like a sidecar, for temps that hold one (see
   * {@linkcode SUMMARIZED_TEMP_ORIGINS}) and name a valid session: an
   * interrupted save may be the only copy of the newest messages.
   */
  read?: ReadResult<SidecarSummary>;
}

/**
 * Everything the store holds for one valid session id; or, for a turn
 * journal alone, for an id that passes only the server's journal rule (with
 * `.`, see {@linkcode SessionJournal}): such an id never names a path.
 *
 * @example
 * ```ts
 * import type { StoreSnapshot, SessionFiles } from "./store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * const session: SessionFiles | undefined = store.sessions.get("abc");
 * console.log(session?.live?.read.ok, session?.backup !== undefined);
 * ```
 */
export interface SessionFiles {
  /** The id, as the file names carry it. */
  sessionId: string;
  /** `<sid>.json`, when it exists. */
  live?: ScannedFile<SidecarSummary>;
  /** `<sid>.json.bak`, when it exists. */
  backup?: ScannedFile<SidecarSummary>;
  /** Its turn journal, when it has one. */
  journal?: SessionJournal;
  /** Its temps (also in `StoreSnapshot.temps`). */
  temps: TempFile[];
}

/**
 * A session's turn journal: the legacy `_turn_journal/<sid>.jsonl` and the
 * shards `<sid>~<pid>.jsonl` written since v0.51.255, read as the server
 * reads them (core/journal/turn_journal_files.ts, core/journal/turn_journal.ts). A session with
 * a journal but no sidecar may carry an id that passes only the journal
 * rule (with `.`): no path is ever built from such an id.
 *
 * @example
 * ```ts
 * import type { StoreSnapshot, SessionJournal } from "./store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * const journal: SessionJournal | undefined = store.sessions.get("abc")?.journal;
 * for (const file of journal?.files ?? []) console.log(file.name, file.read.ok);
 * journal?.turns?.get("t1")?.latestFile; // an index into `files`
 * ```
 */
export interface SessionJournal {
  /**
   * Its files in the server's read order: shards in directory order, then
   * the legacy file. Each summary holds that file's line problems; its
   * `turns` are empty (they are merged below).
   */
  files: ScannedFile<JournalSummary>[];
  /**
   * The turns of all its files merged, only those a check can report
   * (open or colliding: settled turns are dropped by the scan to keep its
   * memory small); null when a file could not be read, so no turn is
   * judged.
   */
  turns: Map<string, TurnState> | null;
  /** How many turns its files hold, settled ones included. */
  turnCount: number;
}

/**
 * An entry of `_index.json` that names a session.
 *
 * @example
 * ```ts
 * import type { IndexSummary, IndexEntry } from "./store_snapshot.ts";
 * declare const index: IndexSummary;
 * const listed = new Set(index.entries.map((e: IndexEntry) => e.sessionId));
 * ```
 */
export interface IndexEntry {
  /** Its `session_id`. */
  sessionId: string;
  /**
   * The entry's `INDEX_ENTRY_FIELDS` and `INDEX_SIDEBAR_FIELDS` (core/scan/index_scan.ts), those it has, as they are in
   * the file. Only these are kept: an entry has some forty fields, and a
   * big store's index has an entry per session.
   */
  entry: Record<string, unknown>;
  /** Position in the list, 0-based. */
  position: number;
}

/**
 * `_index.json` as the checks see it.
 *
 * @example
 * ```ts
 * import type { StoreSnapshot } from "./store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * const read = store.index?.read;
 * if (read?.ok && read.value.shape !== "list") console.log("the index is not a list");
 * ```
 */
export interface IndexSummary {
  /** What the top level of the JSON is (the server writes a list). */
  shape: "list" | "object" | "scalar";
  /** Entries that are objects with a string `session_id`. */
  entries: IndexEntry[];
  /** Positions of entries that are not objects or lack `session_id`. */
  badEntries: number[];
}

/**
 * `_deleted_webui_sessions.json` as the checks see it.
 *
 * @example
 * ```ts
 * import type { StoreSnapshot } from "./store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * const read = store.tombstone?.read;
 * if (read?.ok && read.value.valid) console.log([...read.value.ids]);
 * ```
 */
export interface TombstoneSummary {
  /** False when the file parses but does not have the documented shape. */
  valid: boolean;
  /** The deleted session ids (the string ones). */
  ids: Set<string>;
  /** What is wrong with its shape, when it is not valid. */
  detail?: string;
}

/**
 * A name that looks like a session file but carries an invalid id.
 *
 * @example
 * ```ts
 * import type { StoreSnapshot } from "./store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * for (const bad of store.invalidNames) console.log(bad.name, bad.source);
 * ```
 */
export interface InvalidName {
  /** Its name, relative to the session dir. */
  name: string;
  /** The id the name carries. */
  id: string;
  /** What kind of file the name looks like. */
  source: "sidecar" | "backup" | "journal";
}

/**
 * Something in the session dir that is none of the known kinds.
 *
 * @example
 * ```ts
 * import type { StoreSnapshot, OtherEntry } from "./store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * store.otherEntries.filter((e: OtherEntry) => e.type === "symlink");
 * ```
 */
export interface OtherEntry {
  /** Its name in the session dir. */
  name: string;
  /** What the directory listing says it is. */
  type: "file" | "directory" | "symlink" | "special";
}

/**
 * The store as one scan saw it.
 *
 * @example
 * ```ts
 * import type { StoreSnapshot } from "./store_snapshot.ts";
 * import { scanStore } from "./snapshot.ts";
 * declare const sessionDir: string;
 * const store: StoreSnapshot = await scanStore({ sessionDir, stateDbPath: null });
 * console.log(store.sessions.size, store.stats.bytesRead);
 * store.stateDb.close();
 * ```
 */
export interface StoreSnapshot {
  /** Absolute session dir. */
  sessionDir: string;
  /** The agent's home, for core transcripts, when known. */
  hermesHome: string | null;
  /** When the scan started (ms since the epoch). */
  scannedAt: number;
  /** Whether the session dir exists at all. */
  sessionDirExists: boolean;
  /** Sessions by id, in id order. */
  sessions: Map<string, SessionFiles>;
  /** `_index.json`, when present. */
  index: ScannedFile<IndexSummary> | null;
  /** The durable delete tombstone, when present. */
  tombstone: ScannedFile<TombstoneSummary> | null;
  /**
   * The ids of `_pruned_webui_orphans.json` as the server reads them
   * (core/store/pruned_orphans.ts), when the file is present.
   */
  prunedOrphans?: ScannedFile<ReadonlySet<string>> | null;
  /** Every temp file, session ones and index ones. */
  temps: TempFile[];
  /** File names with invalid ids. */
  invalidNames: InvalidName[];
  /** Entries that are not part of the store format. */
  otherEntries: OtherEntry[];
  /**
   * The run journals, `_run_journal/<sid>/<stream_id>.jsonl` (since
   * v0.51.71), summarized (core/scan/run_journal_scan.ts); absent when the
   * session dir is.
   */
  runJournals?: RunJournals;
  /**
   * Records of hermes-fsck's own runs (`_hermes_fsck/runs/`) that fail
   * validation, so no command acts on their runs.
   */
  runRecordProblems: RunRecordProblem[];
  /** The agent's state.db (the default profile home's, or the one given). */
  stateDb: StateDb;
  /**
   * The named profiles' state.dbs, opened as sessions of them are looked
   * at; absent when `stateDb` serves every session.
   */
  profileDbs?: ProfileDbSet;
  /** What the scan read. */
  stats: { filesRead: number; bytesRead: number };
}
