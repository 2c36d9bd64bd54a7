/**
 * The scan: the session dir listed once, classified by name, and every file
 * read and parsed at most once, with bounded concurrency, into small
 * summaries. Checks run over this snapshot and never touch the disk.
 *
 * @example
 * ```ts
 * import { scanStore } from "./snapshot.ts";
 * const store = await scanStore({ sessionDir: "/srv/sessions", stateDbPath: null });
 * for (const [id, session] of store.sessions) {
 *   console.log(id, session.live?.read.ok);
 * }
 * store.stateDb.close();
 * ```
 * @module
 */

import { join } from "node:path";
import {
  type FileIdentity,
  type Parsed,
  parseJsonBytes,
  readRegularFile,
  type ReadResult,
} from "./file_read.ts";
import {
  isPlainObject,
  type SidecarSummary,
  summarizeSidecar,
} from "./sidecar_summary.ts";
import { type JournalSummary, summarizeJournal } from "./turn_journal.ts";
import { openStateDb, type StateDb } from "./state_db.ts";
import {
  classifyName,
  JOURNAL_DIR,
  JOURNAL_SUFFIX,
  type TempOrigin,
} from "./store_layout.ts";
import { isValidJournalName, isValidSessionId } from "./session_id.ts";

/** Default limit on the size of one file read by the scan: 256 MiB. */
export const DEFAULT_MAX_FILE_BYTES = 256 * 1024 * 1024;

/** How many files the scan reads at once by default. */
export const DEFAULT_SCAN_CONCURRENCY = 16;

/** What to scan. */
export interface ScanOptions {
  /** The WebUI session dir. */
  sessionDir: string;
  /** The agent's state.db, or null to scan without one. */
  stateDbPath: string | null;
  /** Files larger than this are reported, not read. */
  maxFileBytes?: number;
  /** Files read at once. */
  concurrency?: number;
  /** The agent's home (for core transcripts), or null. */
  hermesHome?: string | null;
}

/** A file of the store with the outcome of reading it. */
export interface ScannedFile<T> {
  /** Path relative to the session dir. */
  name: string;
  /** Absolute path. */
  path: string;
  /** The parsed summary, or why there is none. */
  read: ReadResult<T>;
}

/** A temp file left by an atomic write. */
export interface TempFile {
  name: string;
  path: string;
  origin: TempOrigin;
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
 * Origins of temps whose content is a whole sidecar (a save, a backup, a
 * recovery write), which the scan reads and summarizes.
 *
 * @example
 * ```ts
 * SUMMARIZED_TEMP_ORIGINS.has("sidecar_save"); // true
 * SUMMARIZED_TEMP_ORIGINS.has("index_save"); // false
 * ```
 */
export const SUMMARIZED_TEMP_ORIGINS: ReadonlySet<TempOrigin> = new Set([
  "sidecar_save",
  "backup_save",
  "recover",
  "reconcile",
]);

/** Everything the store holds for one valid session id. */
export interface SessionFiles {
  sessionId: string;
  live?: ScannedFile<SidecarSummary>;
  backup?: ScannedFile<SidecarSummary>;
  journal?: ScannedFile<JournalSummary>;
  temps: TempFile[];
}

/** An entry of `_index.json` that names a session. */
export interface IndexEntry {
  sessionId: string;
  /** The entry as it is in the file. */
  entry: Record<string, unknown>;
  /** Position in the list, 0-based. */
  position: number;
}

/** `_index.json` as the checks see it. */
export interface IndexSummary {
  shape: "list" | "object" | "scalar";
  /** Entries that are objects with a string `session_id`. */
  entries: IndexEntry[];
  /** Positions of entries that are not objects or lack `session_id`. */
  badEntries: number[];
}

/** `_deleted_webui_sessions.json` as the checks see it. */
export interface TombstoneSummary {
  /** False when the file parses but does not have the documented shape. */
  valid: boolean;
  ids: Set<string>;
  detail?: string;
}

/** A name that looks like a session file but carries an invalid id. */
export interface InvalidName {
  name: string;
  id: string;
  source: "sidecar" | "backup" | "journal";
}

/** Something in the session dir that is none of the known kinds. */
export interface OtherEntry {
  name: string;
  type: "file" | "directory" | "symlink" | "special";
}

/** The store as one scan saw it. */
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
  /** Every temp file, session ones and index ones. */
  temps: TempFile[];
  /** File names with invalid ids. */
  invalidNames: InvalidName[];
  /** Entries that are not part of the store format. */
  otherEntries: OtherEntry[];
  /** The agent's state.db. */
  stateDb: StateDb;
  /** What the scan read. */
  stats: { filesRead: number; bytesRead: number };
}

/**
 * Scans a store. Throws only when the session dir exists but cannot be
 * listed; a missing dir gives an empty snapshot with `sessionDirExists`
 * false.
 *
 * @example
 * ```ts
 * const store = await scanStore({ sessionDir: "/tmp/none", stateDbPath: null });
 * store.sessionDirExists; // false
 * ```
 */
export async function scanStore(options: ScanOptions): Promise<StoreSnapshot> {
  const maxBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const store: StoreSnapshot = {
    sessionDir: options.sessionDir,
    hermesHome: options.hermesHome ?? null,
    scannedAt: Date.now(),
    sessionDirExists: true,
    sessions: new Map(),
    index: null,
    tombstone: null,
    temps: [],
    invalidNames: [],
    otherEntries: [],
    stateDb: openStateDb(options.stateDbPath),
    stats: { filesRead: 0, bytesRead: 0 },
  };
  let names: Deno.DirEntry[];
  try {
    names = await listDir(options.sessionDir);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      store.sessionDirExists = false;
      return store;
    }
    store.stateDb.close();
    throw error;
  }
  const reads: (() => Promise<void>)[] = [];
  const session = (id: string): SessionFiles => {
    let files = store.sessions.get(id);
    if (!files) {
      files = { sessionId: id, temps: [] };
      store.sessions.set(id, files);
    }
    return files;
  };
  const read = <T>(
    name: string,
    parse: (bytes: Uint8Array) => Parsed<T>,
    assign: (file: ScannedFile<T>) => void,
  ) => {
    const path = join(options.sessionDir, name);
    reads.push(async () => {
      const raw = await readRegularFile(path, maxBytes);
      if (raw.ok) {
        store.stats.filesRead++;
        store.stats.bytesRead += raw.value.length;
      }
      const result: ReadResult<T> = raw.ok
        ? withIdentity(parse(raw.value), raw.identity)
        : raw;
      assign({ name, path, read: result });
    });
  };

  const journalNames = await listJournals(options.sessionDir, store);
  const withJournal = new Set(journalNames.map((j) => j.sessionId));

  for (const entry of names) {
    const kind = classifyName(entry.name);
    switch (kind.type) {
      case "sidecar":
        read(
          entry.name,
          (b) => parseSummary(b, withJournal.has(kind.sessionId)),
          (f) => session(kind.sessionId).live = f,
        );
        break;
      case "backup":
        read(
          entry.name,
          (b) => parseSummary(b, false),
          (f) => session(kind.sessionId).backup = f,
        );
        break;
      case "index":
        read(entry.name, parseIndex, (f) => store.index = f);
        break;
      case "tombstone":
        read(entry.name, parseTombstone, (f) => store.tombstone = f);
        break;
      case "temp": {
        const temp: TempFile = {
          name: entry.name,
          path: join(options.sessionDir, entry.name),
          origin: kind.origin,
          sessionId: kind.sessionId,
          identity: lstatIdentity(join(options.sessionDir, entry.name)),
          fileType: entryType(entry),
        };
        store.temps.push(temp);
        if (kind.sessionId) session(kind.sessionId).temps.push(temp);
        if (kind.sessionId && SUMMARIZED_TEMP_ORIGINS.has(kind.origin)) {
          read(
            entry.name,
            (b) => parseSummary(b, false),
            (f) => temp.read = f.read,
          );
        }
        break;
      }
      case "invalid_id":
        store.invalidNames.push({
          name: entry.name,
          id: kind.id,
          source: kind.as,
        });
        break;
      case "journal_dir":
      case "system":
        break;
      case "other":
        store.otherEntries.push({ name: entry.name, type: entryType(entry) });
        break;
    }
  }
  for (const journal of journalNames) {
    read(
      journal.name,
      (bytes) => ({ ok: true, value: summarizeJournal(bytes) }),
      (f) => session(journal.sessionId).journal = f,
    );
  }
  await runBounded(reads, options.concurrency ?? DEFAULT_SCAN_CONCURRENCY);
  store.sessions = new Map(
    [...store.sessions].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
  return store;
}

async function listDir(dir: string): Promise<Deno.DirEntry[]> {
  const entries: Deno.DirEntry[] = [];
  for await (const entry of Deno.readDir(dir)) entries.push(entry);
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return entries;
}

async function listJournals(
  sessionDir: string,
  store: StoreSnapshot,
): Promise<{ name: string; sessionId: string }[]> {
  const dir = join(sessionDir, JOURNAL_DIR);
  try {
    const info = await Deno.lstat(dir);
    if (!info.isDirectory) return [];
  } catch {
    return [];
  }
  const found: { name: string; sessionId: string }[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = await listDir(dir);
  } catch {
    return [];
  }
  for (const entry of entries) {
    if (!entry.name.endsWith(JOURNAL_SUFFIX)) continue;
    const stem = entry.name.slice(0, -JOURNAL_SUFFIX.length);
    const name = `${JOURNAL_DIR}/${entry.name}`;
    if (isValidJournalName(stem) && isValidSessionId(stem)) {
      found.push({ name, sessionId: stem });
    } else {
      store.invalidNames.push({ name, id: stem, source: "journal" });
    }
  }
  return found;
}

function withIdentity<T>(
  result: Parsed<T>,
  identity: FileIdentity,
): ReadResult<T> {
  return { ...result, identity };
}

function parseSummary(
  bytes: Uint8Array,
  collectUserTexts: boolean,
): Parsed<SidecarSummary> {
  const parsed = parseJsonBytes(bytes);
  if (!parsed.ok) return parsed;
  return {
    ok: true,
    value: summarizeSidecar(parsed.value, { collectUserTexts }),
  };
}

function parseIndex(bytes: Uint8Array): Parsed<IndexSummary> {
  const parsed = parseJsonBytes(bytes);
  if (!parsed.ok) return parsed;
  const value = parsed.value;
  const summary: IndexSummary = {
    shape: Array.isArray(value)
      ? "list"
      : isPlainObject(value)
      ? "object"
      : "scalar",
    entries: [],
    badEntries: [],
  };
  if (Array.isArray(value)) {
    value.forEach((entry, position) => {
      if (isPlainObject(entry) && typeof entry.session_id === "string") {
        summary.entries.push({ sessionId: entry.session_id, entry, position });
      } else {
        summary.badEntries.push(position);
      }
    });
  }
  return { ok: true, value: summary };
}

function parseTombstone(bytes: Uint8Array): Parsed<TombstoneSummary> {
  const parsed = parseJsonBytes(bytes);
  if (!parsed.ok) return parsed;
  const value = parsed.value;
  const list = isPlainObject(value) ? value.ids : value;
  const summary: TombstoneSummary = Array.isArray(list)
    ? { valid: true, ids: new Set(list.filter((id) => typeof id === "string")) }
    : {
      valid: false,
      ids: new Set(),
      detail: 'does not have the shape {"version": 1, "ids": [...]}',
    };
  return { ok: true, value: summary };
}

function lstatIdentity(path: string): FileIdentity | null {
  try {
    const info = Deno.lstatSync(path);
    return {
      size: info.size,
      mtimeMs: info.mtime?.getTime() ?? 0,
      ino: info.ino ?? 0,
      dev: info.dev,
    };
  } catch {
    return null;
  }
}

function entryType(entry: Deno.DirEntry): OtherEntry["type"] {
  if (entry.isSymlink) return "symlink";
  if (entry.isDirectory) return "directory";
  if (entry.isFile) return "file";
  return "special";
}

async function runBounded(
  tasks: (() => Promise<void>)[],
  limit: number,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) await tasks[next++]();
  };
  await Promise.all(
    Array.from({ length: Math.min(limit, tasks.length) }, worker),
  );
}

/**
 * The ids of the durable delete tombstone, or null when the tombstone exists
 * but cannot be trusted (unreadable or of the wrong shape): then no deleted
 * session can be told apart, and nothing may be resurrected.
 *
 * @example
 * ```ts
 * const deleted = tombstonedIds(store);
 * if (deleted === null) console.log("tombstone unreadable: resurrection blocked");
 * ```
 */
export function tombstonedIds(store: StoreSnapshot): Set<string> | null {
  if (!store.tombstone) return new Set();
  const read = store.tombstone.read;
  if (!read.ok || !read.value.valid) return null;
  return read.value.ids;
}
