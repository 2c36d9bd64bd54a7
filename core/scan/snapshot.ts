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

import {
  overlayActive,
  storeLstatSync,
  storeReadDirSync,
} from "../io/overlay.ts";
import { join } from "node:path";
import {
  fileConsumer,
  type FileContents,
  type FileIdentity,
  openRegularFile,
  type Parsed,
  parseJsonBytes,
  type ReadResult,
  wholeFile,
} from "../io/file_read.ts";
import type { SidecarSummary } from "../store/sidecar_summary.ts";
import type { JournalSummary } from "../journal/turn_journal.ts";
import { listJournalFiles } from "../journal/turn_journal_files.ts";
import type { ScanFileKind, ScanFileResult, ScanTask } from "./task.ts";
import { defaultWorkerCount, runScanTasks } from "./pool.ts";
import { openStateDb, type StateDb } from "../state_db/state_db.ts";
import { ProfileStateDbs } from "../state_db/profile_state_db.ts";
import { classifyName, pathIn, PRUNED_ORPHANS_FILE } from "../store/layout.ts";
import { compareIds } from "../store/session_id.ts";
import { StringPool } from "./string_pool.ts";
import { tombstoneSummary } from "../store/tombstone.ts";
import { parsePrunedOrphans } from "../store/pruned_orphans.ts";
import {
  type IndexParts,
  summarizeIndexByParts,
  summarizeIndexFile,
} from "./index_scan.ts";
import {
  type HeapTrim,
  MIN_BYTES_FOR_HEAP_TRIM,
  threadHeapTrim,
} from "./heap_trim.ts";
import { PartScan } from "./part_scan.ts";
import type {
  OtherEntry,
  ScannedFile,
  SessionFiles,
  StoreSnapshot,
  TempFile,
  TombstoneSummary,
} from "./store_snapshot.ts";

export type {
  IndexEntry,
  IndexSummary,
  InvalidName,
  OtherEntry,
  ProfileDbSet,
  ProfileStateDb,
  ScannedFile,
  ScanParts,
  SessionFiles,
  SessionJournal,
  StoreSnapshot,
  TempFile,
  TombstoneSummary,
} from "./store_snapshot.ts";
import { listRuns } from "../io/run_records.ts";
import { scanRunJournals } from "./run_journal_scan.ts";
import { StoreParts } from "./store_part.ts";
import { NO_TEMPS, SessionWalk } from "./session_walk.ts";
import {
  DEFAULT_MAX_FILE_BYTES,
  type ScanOptions,
  SUMMARIZED_TEMP_ORIGINS,
} from "./scan_options.ts";

export {
  DEFAULT_MAX_FILE_BYTES,
  type ScanOptions,
  type ScanProgress,
  SUMMARIZED_TEMP_ORIGINS,
} from "./scan_options.ts";

/**
 * Store size (bytes) from which the snapshot is kept compact: equal short
 * values pooled, this thread's results cloned like a worker's. Below it
 * the snapshot is small anyway and the time is better saved.
 */
const COMPACT_SNAPSHOT_BYTES = 96 * 1024 * 1024;

/**
 * Scans a store. Throws only when the session dir exists but cannot be
 * listed; a missing dir gives an empty snapshot with `sessionDirExists`
 * false.
 *
 * @example
 * ```ts
 * import { scanStore } from "./snapshot.ts";
 * const store = await scanStore({ sessionDir: "/tmp/none", stateDbPath: null });
 * store.sessionDirExists; // false
 * ```
 */
export async function scanStore(options: ScanOptions): Promise<StoreSnapshot> {
  const maxBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  // Checked in parts, a session's files and task are made only when the
  // reading gets to it (see part_scan.ts); until then only the names of
  // the session files are kept.
  const lazy = options.parts !== undefined;
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
    runRecordProblems: [],
    // Checked in parts, state.db is opened once the parts are known (see
    // below), to read its rows a part at a time.
    stateDb: lazy
      ? { status: "absent", path: options.stateDbPath, close() {} }
      : openStateDb(options.stateDbPath),
    stats: { filesRead: 0, bytesRead: 0 },
  };
  if (options.profiles) {
    store.profileDbs = new ProfileStateDbs(
      options.profiles.base,
      options.profiles.defaultStateDb,
    );
  }
  // Equal short values of a big store's summaries share one copy (see
  // string_pool.ts); a small store is not worth the time. Set once the
  // store's size is known, before any summary is kept.
  let pool: StringPool | null = null;
  let names: Deno.DirEntry[];
  try {
    names = listDir(options.sessionDir);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      store.sessionDirExists = false;
      // No session, but state.db may still have rows to check: all of them
      // are the one part.
      if (options.parts) {
        const db = store.stateDb = openStateDb(options.stateDbPath, {
          partOf: () => 0,
        });
        const rows = db.status === "ok" ? db.parts : undefined;
        await options.parts.onPart(
          new StoreParts(store, { stateDb: rows }).next([], null),
        );
      }
      return store;
    }
    store.stateDb.close();
    store.profileDbs?.close();
    throw error;
  }
  store.runRecordProblems = (await listRuns(options.sessionDir)).invalid
    .flatMap((run) => run.problems);
  const session = (id: string): SessionFiles => {
    let files = store.sessions.get(id);
    if (!files) {
      files = { sessionId: id, temps: [] };
      store.sessions.set(id, files);
    }
    return files;
  };
  // Each session's files are one task, its journal first (see scan_task.ts).
  // A task is plain data (it may go to a worker); `place` puts each of its
  // results where the checks look for it.
  const tasks = new Map<string, ScanTask>();
  let fileCount = 0;
  const addFile = (sessionId: string, name: string, kind: ScanFileKind) => {
    let task = tasks.get(sessionId);
    if (!task) {
      task = { dir: options.sessionDir, sessionId, files: [] };
      tasks.set(sessionId, task);
    }
    task.files.push({ name, kind });
    fileCount++;
  };
  const place = (task: ScanTask, results: ScanFileResult[]) => {
    const files = session(task.sessionId);
    results.forEach((result, i) => {
      const { name, kind } = task.files[i];
      const read = result.read;
      if (read.ok && kind === "journal") {
        shareEmpties(read.value as JournalSummary);
      } else if (read.ok && pool) {
        const summary = read.value as SidecarSummary;
        summary.shape = pool.string(summary.shape) as SidecarSummary["shape"];
        pool.record(summary.meta);
      }
      if (kind === "temp") {
        const temp = files.temps.find((t) => t.name === name);
        if (temp) temp.read = read as ReadResult<SidecarSummary>;
        return;
      }
      const file = { name, path: pathIn(options.sessionDir, name), read };
      if (kind === "journal") {
        files.journal ??= { files: [], turns: null, turnCount: 0 };
        files.journal.files.push(file as ScannedFile<JournalSummary>);
        if (result.journalTurns !== undefined) {
          const turns = result.journalTurns?.turns ?? null;
          // Most sessions have no open turn: one shared empty map.
          files.journal.turns = turns?.size === 0 ? NO_TURNS : turns;
          files.journal.turnCount = result.journalTurns?.turnCount ?? 0;
        }
      } else if (kind === "sidecar") {
        files.live = file as ScannedFile<SidecarSummary>;
      } else files.backup = file as ScannedFile<SidecarSummary>;
    });
  };
  // The index and the tombstone are read in this thread, while no worker
  // runs (see below).
  const ownReads: (() => Promise<void>)[] = [];
  const readHere = <T>(
    name: string,
    contents: FileContents<T>,
    put: (file: ScannedFile<T>) => void,
  ) => {
    const path = join(options.sessionDir, name);
    ownReads.push(async () => {
      const read = await fileConsumer<T>((readAt, statSize, maxBytes) => {
        const made = contents(readAt, statSize, maxBytes);
        if (made) countRead(made.bytes);
        return made;
      });
      put({ name, path, read: read(path, maxBytes) });
    });
  };

  let parts: PartScan | null = null;
  // The index walk and state.db's first pass ask for the part of each entry
  // and row: that is where they trim the heap (see heap_trim.ts).
  let trim: HeapTrim | null = null;
  const partOf = (id: string) => {
    trim?.tick();
    return parts!.partOf(id);
  };
  // Checked in parts, a big index is walked once and its entries are read
  // again a part at a time from the file, kept open till the end (see
  // index_scan.ts).
  let indexParts = null as IndexParts | null;
  const readIndexByParts = async (name: string) => {
    const path = join(options.sessionDir, name);
    const opened = await openRegularFile(path, maxBytes);
    if (!opened.ok) {
      store.index = { name, path, read: opened };
      return;
    }
    const made = summarizeIndexByParts(
      opened.file,
      path,
      maxBytes,
      partOf,
    );
    if (made.bytes !== null) countRead(made.bytes);
    store.index = { name, path, read: made.read };
    if (made.parts) indexParts = parts!.sources.indexEntries = made.parts;
    else opened.file.close();
  };
  const sessionNames: string[] = [];
  const journalNames = listJournals(options.sessionDir, store);
  // Each run journal is read here, into one small summary, bounded
  // whatever its size (core/journal/run_journal.ts).
  store.runJournals = await scanRunJournals(options.sessionDir, {
    limits: { maxTotalBytes: maxBytes, maxLineBytes: maxBytes },
    onRead(bytes) {
      store.stats.filesRead++;
      store.stats.bytesRead += bytes;
    },
    interrupted: options.interrupted,
  });
  if (!lazy) {
    for (const journal of journalNames) {
      session(journal.sessionId);
      addFile(journal.sessionId, journal.name, "journal");
    }
  }

  for (const entry of names) {
    const kind = classifyName(entry.name);
    switch (kind.type) {
      case "sidecar":
      case "backup":
        if (lazy) {
          sessionNames.push(entry.name);
          break;
        }
        session(kind.sessionId);
        addFile(kind.sessionId, entry.name, kind.type);
        break;
      case "index":
        if (lazy) {
          ownReads.push(() => readIndexByParts(entry.name));
          break;
        }
        readHere(
          entry.name,
          (readAt, statSize, maxBytes) =>
            summarizeIndexFile(readAt, statSize, maxBytes, { pool }),
          (f) => store.index = f,
        );
        break;
      case "tombstone":
        readHere(
          entry.name,
          wholeFile(parseTombstone),
          (f) => store.tombstone = f,
        );
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
        if (kind.sessionId && lazy) sessionNames.push(entry.name);
        if (!kind.sessionId || lazy) break;
        session(kind.sessionId).temps.push(temp);
        if (SUMMARIZED_TEMP_ORIGINS.has(kind.origin)) {
          addFile(kind.sessionId, entry.name, "temp");
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
        // A link or a file where the journal dir belongs is never followed:
        // noted, so a check can say its journals were not read.
        if (entry.isSymlink || !entry.isDirectory) {
          store.otherEntries.push({ name: entry.name, type: entryType(entry) });
        }
        break;
      case "system":
        if (entry.name === PRUNED_ORPHANS_FILE) {
          readHere(
            entry.name,
            wholeFile(parsePrunedOrphans),
            (f) => store.prunedOrphans = f,
          );
        }
        break;
      case "other":
        store.otherEntries.push({ name: entry.name, type: entryType(entry) });
        break;
    }
  }
  // The listing is not needed any more; a big store's is megabytes.
  names = [];
  fileCount += ownReads.length;
  if (fileCount === 0 && !lazy) return sortSessions(store);
  const progress = options.onProgress;
  const started = performance.now();
  const countRead = (bytes: number) => {
    store.stats.filesRead++;
    store.stats.bytesRead += bytes;
  };
  let filesDone = 0;
  const report = (files: number) => {
    filesDone += files;
    progress?.({
      filesDone,
      files: fileCount,
      bytesRead: store.stats.bytesRead,
      elapsedMs: performance.now() - started,
    });
  };
  // Most sidecars have the same keys in the same order: one list is kept
  // for each order, not one per file.
  const keyLists = new Map<string, string[]>();
  const shareKeys = (summary: SidecarSummary) => {
    const key = summary.keys.join("\u0000");
    const known = keyLists.get(key);
    if (known) summary.keys = known;
    else keyLists.set(key, summary.keys);
  };
  const taskList: (ScanTask | undefined)[] = [...tasks.values()];
  // A list grown by push has room for 17 entries; a copy has room for the
  // one to three it holds (2.5 MB less at 20,000 sessions).
  for (const task of taskList) task!.files = task!.files.slice();
  tasks.clear(); // the pool lets go of each task once it is handed out
  const bytes = lazy
    ? estimatedBytes(
      options.sessionDir,
      (function* () {
        for (const journal of journalNames) yield journal.name;
        yield* sessionNames;
      })(),
      journalNames.length + sessionNames.length,
    )
    : estimatedBytes(
      options.sessionDir,
      (function* () {
        for (const task of taskList) for (const f of task!.files) yield f.name;
      })(),
      fileCount - ownReads.length,
    );
  // A store checked in parts never holds more than a part.
  const compact = !lazy && bytes >= COMPACT_SNAPSHOT_BYTES;
  if (compact) {
    pool = new StringPool();
    poolStateDb(store.stateDb, pool);
    for (const files of store.sessions.values()) {
      files.sessionId = pool.string(files.sessionId);
    }
  }
  // The index is often the store's biggest file (24 MB at 20,000 sessions),
  // and summarizing it takes memory of its own, so it is read while no
  // worker runs. With no worker the peak is at the end, with the snapshot
  // whole, so it is read first; with workers the peak is while they run, so
  // it is read once they are gone (beside them it added 8 MB at 20,000
  // sessions, and was slower at 1,000; medians of five to eleven runs).
  const readOwnFiles = async () => {
    for (const read of ownReads) {
      await read();
      report(1);
    }
  };
  parts = options.parts
    ? new PartScan(
      store,
      () =>
        new SessionWalk(
          sessionNames,
          journalNames,
          store.temps,
          (temp) => SUMMARIZED_TEMP_ORIGINS.has(temp.origin),
        ),
      options.parts,
    )
    : null;
  const trimHeap = options.trimHeap ?? bytes >= MIN_BYTES_FOR_HEAP_TRIM;
  if (parts) {
    if (trimHeap) trim = await threadHeapTrim();
    const db = store.stateDb = openStateDb(options.stateDbPath, { partOf });
    if (db.status === "ok" && db.parts) parts.sources.stateDb = db.parts;
  }
  // Parts need the index and the tombstone from the first on.
  if (lazy) await readOwnFiles();
  if (parts) fileCount = parts.files + ownReads.length;
  // A dry run's overlay (core/io/overlay.ts) is seen in this thread only.
  const workers = overlayActive() ? 0 : options.workers ??
    defaultWorkerCount(parts?.tasks.count ?? taskList.length, bytes);
  if (workers === 0 && !lazy) await readOwnFiles();
  const scanning = runScanTasks(parts?.tasks ?? taskList, {
    workers,
    copyResults: compact,
    trimHeap,
    maxBytes,
    interrupted: options.interrupted,
    onResults(task, results) {
      for (const result of results) {
        if (result.bytes !== null) countRead(result.bytes);
        if (result.read.ok && "keys" in result.read.value) {
          shareKeys(result.read.value);
        }
      }
      place(task, results);
      report(results.length);
      return parts?.done(task.sessionId);
    },
  });
  // A scan stopped by a signal lets go of state.db before it rejects.
  const closeOnError = (error: unknown) => {
    store.stateDb.close();
    store.profileDbs?.close();
    throw error;
  };
  if (parts) {
    try {
      await scanning.catch(closeOnError);
      await parts.finish();
    } finally {
      indexParts?.close();
    }
    return store;
  }
  await scanning.catch(closeOnError);
  if (workers > 0) await readOwnFiles();
  return sortSessions(store);
}

/**
 * The size of `count` files of the session dir, from the sizes of a few
 * dozen of them spread over the list: enough to decide on workers, without
 * a stat of every file before the reading starts.
 */
function estimatedBytes(
  dir: string,
  names: Iterable<string>,
  count: number,
): number {
  const step = Math.max(1, Math.floor(count / 64));
  let sampled = 0;
  let bytes = 0;
  let index = 0;
  for (const name of names) {
    if (index++ % step !== 0) continue;
    sampled++;
    try {
      bytes += storeLstatSync(pathIn(dir, name)).size;
    } catch { /* gone: counts as empty */ }
  }
  return sampled === 0 ? 0 : bytes / sampled * count;
}

/** The empty line lists of every journal: one list, not one per journal. */
const NO_LINES = Object.freeze([]) as unknown as number[];
/** The turns of every journal whose turns all ended (the scan drops those). */
const NO_TURNS: JournalSummary["turns"] = new Map();

/**
 * Points a journal summary's empty lists at shared ones: most journals of a
 * big store have no problem lines and no open turn, and each empty list or
 * map is a few hundred bytes. Checks only read them.
 */
function shareEmpties(journal: JournalSummary): void {
  if (journal.turns.size === 0) journal.turns = NO_TURNS;
  if (journal.malformedLines.length === 0) journal.malformedLines = NO_LINES;
  if (journal.missingTurnIdLines.length === 0) {
    journal.missingTurnIdLines = NO_LINES;
  }
  if (journal.badCreatedAtLines.length === 0) {
    journal.badCreatedAtLines = NO_LINES;
  }
}

function sortSessions(store: StoreSnapshot): StoreSnapshot {
  store.sessions = new Map(
    [...store.sessions].sort(([a], [b]) => compareIds(a, b)),
  );
  for (const session of store.sessions.values()) {
    if (session.temps.length === 0) session.temps = NO_TEMPS;
  }
  return store;
}

function listDir(dir: string): Deno.DirEntry[] {
  const entries: Deno.DirEntry[] = [];
  // Synchronously: the async iterator costs a promise per entry (8 ms
  // against 2 for 1,258 entries).
  for (const entry of storeReadDirSync(dir)) entries.push(entry);
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return entries;
}

/**
 * The journal files, a session's together in the server's read order and
 * sessions in id order; names that carry no journal id are noted as
 * invalid. Since v0.51.255 a name holding `~` is a shard of the id before
 * it; an id with `.` passes the server's journal rule and is read too.
 */
function listJournals(
  sessionDir: string,
  store: StoreSnapshot,
): { name: string; sessionId: string }[] {
  const listing = listJournalFiles(sessionDir);
  for (const bad of listing.invalid) {
    store.invalidNames.push({ name: bad.name, id: bad.id, source: "journal" });
  }
  return listing.sessions.flatMap((session) =>
    session.names.map((name) => ({ name, sessionId: session.sessionId }))
  );
}

/**
 * Puts the ids of the state.db rows through the pool (their columns are
 * read only when asked for, so they are not kept).
 */
function poolStateDb(db: StateDb, pool: StringPool): void {
  if (db.status !== "ok") return;
  for (const row of db.webuiRows) {
    row.id = pool.string(row.id);
    if (typeof row.rawId === "string") row.rawId = pool.string(row.rawId);
  }
  db.sessionIds = new Set([...db.sessionIds].map((id) => pool.string(id)));
}

function parseTombstone(bytes: Uint8Array): Parsed<TombstoneSummary> {
  const parsed = parseJsonBytes(bytes);
  if (!parsed.ok) return parsed;
  return { ok: true, value: tombstoneSummary(parsed.value) };
}

function lstatIdentity(path: string): FileIdentity | null {
  try {
    const info = storeLstatSync(path);
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

/**
 * The ids of the durable delete tombstone, or null when the tombstone exists
 * but cannot be trusted (unreadable or of the wrong shape): then no deleted
 * session can be told apart, and nothing may be resurrected.
 *
 * @example
 * ```ts
 * import { tombstonedIds } from "./snapshot.ts";
 * import type { StoreSnapshot } from "./store_snapshot.ts";
 * declare const store: StoreSnapshot;
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
