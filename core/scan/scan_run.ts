/**
 * One scan as it goes (core/scan/snapshot.ts): the snapshot it fills, the
 * tasks and the reads of this thread it has still to do, and the counts
 * behind its progress line.
 *
 * @example
 * ```ts
 * import { ScanRun } from "./scan_run.ts";
 * const run = new ScanRun({ sessionDir: "/srv/sessions", stateDbPath: null });
 * run.addFile("abc", "abc.json", "sidecar");
 * run.fileCount; // 1
 * run.closeDbs();
 * ```
 * @module
 */

import { openStateDb } from "../state_db/state_db.ts";
import { ProfileStateDbs } from "../state_db/profile_state_db.ts";
import type { HeapTrim } from "./heap_trim.ts";
import type { IndexParts } from "./index_scan.ts";
import type { PartScan } from "./part_scan.ts";
import type { ScanWorkers } from "./pool.ts";
import type { JournalName } from "./session_walk.ts";
import type { StringPool } from "./string_pool.ts";
import type { ScanFileKind, ScanTask } from "./task.ts";
import type { SessionFiles, StoreSnapshot } from "./store_snapshot.ts";
import { DEFAULT_MAX_FILE_BYTES, type ScanOptions } from "./scan_options.ts";

/**
 * The state of one scan.
 *
 * @example
 * ```ts
 * import { ScanRun } from "./scan_run.ts";
 * const run = new ScanRun({ sessionDir: "/srv/sessions", stateDbPath: null });
 * run.session("abc").temps; // []
 * run.store.sessions.size; // 1
 * ```
 */
export class ScanRun {
  /** What the scan was asked to do. */
  readonly options: ScanOptions;
  /** Files larger than this are reported, not read. */
  readonly maxBytes: number;
  /**
   * Checked in parts, a session's files and task are made only when the
   * reading gets to it (see part_scan.ts); until then only the names of
   * the session files are kept.
   */
  readonly lazy: boolean;
  /** The snapshot being filled. */
  readonly store: StoreSnapshot;
  /**
   * Equal short values of a big store's summaries share one copy (see
   * string_pool.ts); a small store is not worth the time. Set once the
   * store's size is known, before any summary is kept.
   */
  pool: StringPool | null = null;
  /**
   * Each session's files are one task, its journal first (see task.ts). A
   * task is plain data (it may go to a worker); place_results.ts puts each
   * of its results where the checks look for it.
   */
  readonly tasks: Map<string, ScanTask> = new Map();
  /** Files the scan reads, as far as they are known. */
  fileCount = 0;
  /** The index and the tombstone are read in this thread (own_reads.ts). */
  readonly ownReads: (() => Promise<void>)[] = [];
  /** The workers, started once the session dir is listed (pool.ts). */
  workers: ScanWorkers | null = null;
  /** Checked in parts: the names of the session files, for the walk. */
  readonly sessionNames: string[] = [];
  /** The journal files, a session's together and sessions in id order. */
  journalNames: JournalName[] = [];
  /** Checked in parts: the scan of the parts, once the listing is done. */
  parts: PartScan | null = null;
  /**
   * The index walk and state.db's first pass ask for the part of each
   * entry and row: that is where they trim the heap (see heap_trim.ts).
   */
  trim: HeapTrim | null = null;
  /**
   * Checked in parts, a big index is walked once and its entries are read
   * again a part at a time from the file, kept open till the end (see
   * index_scan.ts).
   */
  indexParts: IndexParts | null = null;
  /**
   * Most sidecars have the same keys in the same order: one list is kept
   * for each order, not one per file.
   */
  readonly keyLists: Map<string, string[]> = new Map();
  #started = 0;
  #filesDone = 0;

  /**
   * Makes the empty snapshot; state.db is opened now unless the store is
   * checked in parts.
   *
   * @example
   * ```ts
   * import { ScanRun } from "./scan_run.ts";
   * declare const sessionDir: string;
   * const run = new ScanRun({ sessionDir, stateDbPath: null });
   * run.store.stateDb.status; // "absent"
   * ```
   */
  constructor(options: ScanOptions) {
    this.options = options;
    this.maxBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
    this.lazy = options.parts !== undefined;
    this.store = {
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
      // snapshot.ts), to read its rows a part at a time.
      stateDb: this.lazy
        ? { status: "absent", path: options.stateDbPath, close() {} }
        : openStateDb(options.stateDbPath),
      stats: { filesRead: 0, bytesRead: 0 },
    };
    if (options.profiles) {
      this.store.profileDbs = new ProfileStateDbs(
        options.profiles.base,
        options.profiles.defaultStateDb,
      );
    }
  }

  /**
   * The files of session `id`, added to the snapshot when new.
   *
   * @example
   * ```ts
   * import type { ScanRun } from "./scan_run.ts";
   * declare const run: ScanRun;
   * run.session("abc").live?.read.ok;
   * ```
   */
  session(id: string): SessionFiles {
    let files = this.store.sessions.get(id);
    if (!files) {
      files = { sessionId: id, temps: [] };
      this.store.sessions.set(id, files);
    }
    return files;
  }

  /**
   * Adds a file to read to its session's task.
   *
   * @example
   * ```ts
   * import type { ScanRun } from "./scan_run.ts";
   * declare const run: ScanRun;
   * run.addFile("abc", "abc.json", "sidecar");
   * ```
   */
  addFile(sessionId: string, name: string, kind: ScanFileKind): void {
    let task = this.tasks.get(sessionId);
    if (!task) {
      task = { dir: this.options.sessionDir, sessionId, files: [] };
      this.tasks.set(sessionId, task);
    }
    task.files.push({ name, kind });
    this.fileCount++;
  }

  /**
   * Counts a file read, of `bytes` bytes.
   *
   * @example
   * ```ts
   * import type { ScanRun } from "./scan_run.ts";
   * declare const run: ScanRun;
   * run.countRead(4096);
   * run.store.stats.filesRead;
   * ```
   */
  countRead(bytes: number): void {
    this.store.stats.filesRead++;
    this.store.stats.bytesRead += bytes;
  }

  /**
   * Starts the clock of the progress line: the reading starts now.
   *
   * @example
   * ```ts
   * import type { ScanRun } from "./scan_run.ts";
   * declare const run: ScanRun;
   * run.startProgress();
   * run.report(1);
   * ```
   */
  startProgress(): void {
    this.#started = performance.now();
  }

  /**
   * Counts `files` more files done and tells `onProgress`.
   *
   * @example
   * ```ts
   * import type { ScanRun } from "./scan_run.ts";
   * declare const run: ScanRun;
   * run.report(2);
   * ```
   */
  report(files: number): void {
    this.#filesDone += files;
    this.options.onProgress?.({
      filesDone: this.#filesDone,
      files: this.fileCount,
      bytesRead: this.store.stats.bytesRead,
      elapsedMs: performance.now() - this.#started,
    });
  }

  /**
   * The part of session `id` (checked in parts, once the parts are
   * known); the heap is trimmed here as the index and state.db are walked.
   *
   * @example
   * ```ts
   * import type { ScanRun } from "./scan_run.ts";
   * declare const run: ScanRun;
   * run.partOf("abc"); // 0 for the first part
   * ```
   */
  readonly partOf = (id: string): number => {
    this.trim?.tick();
    return this.parts!.partOf(id);
  };

  /**
   * Closes state.db and the profiles' state.db files: the scan failed.
   *
   * @example
   * ```ts
   * import type { ScanRun } from "./scan_run.ts";
   * declare const run: ScanRun;
   * run.closeDbs();
   * ```
   */
  closeDbs(): void {
    this.store.stateDb.close();
    this.store.profileDbs?.close();
  }
}
