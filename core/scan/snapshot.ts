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

import { openStateDb } from "../state_db/state_db.ts";
import { compareIds } from "../store/session_id.ts";
import { listRuns } from "../io/run_records.ts";
import { loadNodeFs } from "../io/node_fs.ts";
import { MIN_BYTES_FOR_HEAP_TRIM, threadHeapTrim } from "./heap_trim.ts";
import { PartScan } from "./part_scan.ts";
import {
  runScanTasks,
  type ScanPoolOptions,
  type ScanTaskSource,
  startScanWorkers,
} from "./pool.ts";
import { scanRunJournals } from "./run_journal_scan.ts";
import { StoreParts } from "./store_part.ts";
import { NO_TEMPS, SessionWalk } from "./session_walk.ts";
import type { ScanParts, StoreSnapshot } from "./store_snapshot.ts";
import type { ScanTask } from "./task.ts";
import { type ScanOptions, SUMMARIZED_TEMP_ORIGINS } from "./scan_options.ts";
import { ScanRun } from "./scan_run.ts";
import { classifyEntries, listDir, listJournals } from "./dir_entries.ts";
import { readOwnFiles } from "./own_reads.ts";
import { takeResults } from "./place_results.ts";
import {
  COMPACT_SNAPSHOT_BYTES,
  compactSnapshot,
  storeBytes,
  workerCount,
} from "./scan_plan.ts";

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
export {
  DEFAULT_MAX_FILE_BYTES,
  type ScanOptions,
  type ScanProgress,
  SUMMARIZED_TEMP_ORIGINS,
} from "./scan_options.ts";

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
  const run = new ScanRun(options);
  try {
    if (!(await listStore(run))) return run.store;
    run.fileCount += run.ownReads.length;
    if (run.fileCount === 0 && !run.lazy) return sortSessions(run.store);
    run.startProgress();
    const taskList: (ScanTask | undefined)[] = [...run.tasks.values()];
    // A list grown by push has room for 17 entries; a copy has room for the
    // one to three it holds.
    for (const task of taskList) task!.files = task!.files.slice();
    run.tasks.clear(); // the pool lets go of each task once it is handed out
    const bytes = storeBytes(run, taskList);
    return options.parts
      ? await scanInParts(run, options.parts, bytes)
      : await scanWhole(run, taskList, bytes);
  } finally {
    // Workers not needed after all, or left by a failure.
    run.workers?.close();
  }
}

/**
 * Lists the session dir, the journal dir and the run records, reads the
 * run journals, and sorts the entries into tasks and reads of this thread.
 * The workers, if the store is big enough for them, are started as soon as
 * the session dir is listed. False when the session dir is missing (the
 * snapshot is then done).
 */
async function listStore(run: ScanRun): Promise<boolean> {
  const { options, store } = run;
  let names: Deno.DirEntry[];
  try {
    names = listDir(options.sessionDir);
  } catch (error) {
    await listFailed(run, error);
    return false;
  }
  run.workers = startScanWorkers(workerCount(run, names));
  // Before any check runs: some read other files synchronously (node_fs.ts).
  if (names.length > 0) await loadNodeFs();
  store.runRecordProblems = (await listRuns(options.sessionDir)).invalid
    .flatMap((record) => record.problems);
  run.journalNames = listJournals(options.sessionDir, store);
  // Each run journal is read here, into one small summary, bounded
  // whatever its size (core/journal/run_journal.ts).
  store.runJournals = await scanRunJournals(options.sessionDir, {
    limits: { maxTotalBytes: run.maxBytes, maxLineBytes: run.maxBytes },
    onRead: (bytes) => run.countRead(bytes),
    interrupted: options.interrupted,
  });
  if (!run.lazy) {
    for (const journal of run.journalNames) {
      run.session(journal.sessionId);
      run.addFile(journal.sessionId, journal.name, "journal");
    }
  }
  classifyEntries(run, names);
  // The listing is let go when this returns, before any file is read: a
  // big store's is megabytes.
  return true;
}

/**
 * A session dir that cannot be listed: missing, the snapshot has no
 * session; else the scan fails.
 */
async function listFailed(run: ScanRun, error: unknown): Promise<void> {
  const { options, store } = run;
  if (!(error instanceof Deno.errors.NotFound)) {
    run.closeDbs();
    throw error;
  }
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
}

/**
 * The whole store into one snapshot. The index is often the store's
 * biggest file (24 MB at 20,000 sessions), and summarizing it takes memory
 * of its own, so it is read while no worker runs. With no worker the peak
 * is at the end, with the snapshot whole, so it is read first; with
 * workers the peak is while they run, so it is read once they are gone.
 */
async function scanWhole(
  run: ScanRun,
  taskList: (ScanTask | undefined)[],
  bytes: number,
): Promise<StoreSnapshot> {
  const compact = bytes >= COMPACT_SNAPSHOT_BYTES;
  if (compact) compactSnapshot(run);
  const trimHeap = run.options.trimHeap ?? bytes >= MIN_BYTES_FOR_HEAP_TRIM;
  const workers = run.workers;
  if (!workers) await readOwnFiles(run);
  await runTasks(run, taskList, { workers, copyResults: compact, trimHeap });
  if (workers) await readOwnFiles(run);
  return sortSessions(run.store);
}

/**
 * The store a part at a time, each handed to `parts.onPart`; the snapshot
 * returned keeps no session. A store checked in parts never holds more
 * than a part, so it is not made compact. State.db, the index and the
 * tombstone are read while the workers read the first sessions; the first
 * part waits for them.
 */
async function scanInParts(
  run: ScanRun,
  options: ScanParts,
  bytes: number,
): Promise<StoreSnapshot> {
  const store = run.store;
  const parts = run.parts = new PartScan(
    store,
    () =>
      new SessionWalk(
        run.sessionNames,
        run.journalNames,
        store.temps,
        (temp) => SUMMARIZED_TEMP_ORIGINS.has(temp.origin),
      ),
    options,
  );
  const trimHeap = run.options.trimHeap ?? bytes >= MIN_BYTES_FOR_HEAP_TRIM;
  if (trimHeap) run.trim = await threadHeapTrim();
  run.fileCount = parts.files + run.ownReads.length;
  const storeWide = Promise.withResolvers<void>();
  parts.waitFor(storeWide.promise);
  const readStoreWide = async () => {
    const db = store.stateDb = openStateDb(run.options.stateDbPath, {
      partOf: run.partOf,
    });
    if (db.status === "ok" && db.parts) parts.sources.stateDb = db.parts;
    await readOwnFiles(run);
  };
  try {
    await runTasks(run, parts.tasks, {
      workers: run.workers,
      copyResults: false,
      trimHeap,
      first: () => {
        storeWide.resolve(readStoreWide());
        return storeWide.promise;
      },
    });
    await parts.finish();
  } finally {
    run.indexParts?.close();
  }
  return store;
}

/**
 * Runs the tasks, each one's results taken as they come. A scan stopped by
 * a signal lets go of state.db before it rejects.
 */
async function runTasks(
  run: ScanRun,
  tasks: (ScanTask | undefined)[] | ScanTaskSource,
  pool: Pick<
    ScanPoolOptions,
    "workers" | "copyResults" | "trimHeap" | "first"
  >,
): Promise<void> {
  try {
    await runScanTasks(tasks, {
      ...pool,
      maxBytes: run.maxBytes,
      interrupted: run.options.interrupted,
      onResults: (task, results) => takeResults(run, task, results),
    });
  } catch (error) {
    run.closeDbs();
    throw error;
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
