/**
 * The scan of a store part by part (`ScanOptions.parts`): the sessions are
 * cut into parts of so many ids, in id order; each session's files and scan
 * task are made only when the reading gets to it (core/scan/session_walk.ts);
 * a part goes to `onPart` once every task of it and of the parts before it
 * is done, and leaves the store then. So the scan holds about one part's
 * sessions at a time, however many the store has.
 *
 * @example
 * ```ts
 * import { PartScan } from "./part_scan.ts";
 * import type { StoreSnapshot, ScanParts } from "./store_snapshot.ts";
 * import type { SessionWalk } from "./session_walk.ts";
 * import { runScanTasks, type ScanWorkers } from "./pool.ts";
 * import type { ScanTask, ScanFileResult } from "./task.ts";
 * declare const store: StoreSnapshot;
 * declare const workers: ScanWorkers | null;
 * declare const newWalk: () => SessionWalk;
 * declare const parts: ScanParts;
 * declare function place(task: ScanTask, results: ScanFileResult[]): void;
 * declare const maxBytes: number;
 * const scan = new PartScan(store, newWalk, parts);
 * await runScanTasks(scan.tasks, { workers, maxBytes, onResults(task, results) {
 *   place(task, results);
 *   return scan.done(task.sessionId);
 * } });
 * await scan.finish();
 * ```
 * @module
 */

import type { ScanTaskSource } from "./pool.ts";
import type { ScanTask } from "./task.ts";
import type { SessionWalk } from "./session_walk.ts";
import type {
  ScanParts,
  SessionFiles,
  StoreSnapshot,
} from "./store_snapshot.ts";
import { type PartSources, StoreParts } from "./store_part.ts";
import { compareIds } from "../store/session_id.ts";

/**
 * One store's scan part by part.
 *
 * @example
 * ```ts
 * import { PartScan } from "./part_scan.ts";
 * import type { StoreSnapshot, TempFile, ScanParts } from "./store_snapshot.ts";
 * import { SessionWalk, type JournalName } from "./session_walk.ts";
 * declare const store: StoreSnapshot;
 * declare const names: string[];
 * declare const journals: JournalName[];
 * declare const reads: (temp: TempFile) => boolean;
 * declare const parts: ScanParts;
 * const scan = new PartScan(store, () => new SessionWalk(names, journals, store.temps, reads), parts);
 * scan.tasks.count; // sessions with a file to read
 * ```
 */
export class PartScan {
  /** The scan's tasks, made as they are taken. */
  readonly tasks: ScanTaskSource;
  /** The files of all the tasks. */
  readonly files: number = 0;
  #store: StoreSnapshot;
  #options: ScanParts;
  #walk: SessionWalk;
  /** The first id of each part. */
  #firstIds: string[] = [];
  /** Tasks of each part not done yet. */
  #pending: number[] = [];
  #views: StoreParts | null = null;
  #next = 0;
  #checking: Promise<void> = Promise.resolve();
  #failure: { error: unknown } | null = null;

  /**
   * Where the parts' index entries and state.db rows come from, when they
   * are read a part at a time; set before the tasks run.
   */
  readonly sources: PartSources = {};

  /**
   * Counts the sessions and tasks of each part with one walk, and makes
   * the tasks with another. The store's temps must be listed before; its
   * index, tombstone and state.db must be read before the first part is
   * handed over ({@linkcode PartScan.waitFor}), and are read by part
   * ({@linkcode partOf} says which part an id falls in).
   *
   * @example
   * ```ts
   * import { PartScan } from "./part_scan.ts";
   * import type { StoreSnapshot } from "./store_snapshot.ts";
   * import type { SessionWalk } from "./session_walk.ts";
   * declare const store: StoreSnapshot;
   * declare const newWalk: () => SessionWalk;
   * declare const onPart: (part: StoreSnapshot) => void;
   * const scan = new PartScan(store, newWalk, { sessions: 1000, onPart });
   * ```
   */
  constructor(
    store: StoreSnapshot,
    newWalk: () => SessionWalk,
    options: ScanParts,
  ) {
    this.#store = store;
    this.#options = options;
    const size = Math.max(1, Math.floor(options.sessions));
    const counting = newWalk();
    let sessions = 0;
    let tasks = 0;
    for (let s = counting.next(); s; s = counting.next()) {
      if (sessions++ % size === 0) {
        this.#firstIds.push(s.sessionId);
        this.#pending.push(0);
      }
      if (s.files.length > 0) {
        this.#pending[this.#pending.length - 1]++;
        tasks++;
        this.files += s.files.length;
      }
    }
    // A store without sessions is still one (empty) part: the index, the
    // tombstone and state.db are checked once.
    if (this.#firstIds.length === 0) {
      this.#firstIds.push("");
      this.#pending.push(0);
    }
    this.#walk = newWalk();
    this.tasks = {
      count: tasks,
      take: () => {
        for (;;) {
          const task = this.#nextSession();
          if (task) return task;
        }
      },
    };
  }

  /**
   * No part is handed over before `ready` settles: the index, tombstone
   * and state.db the parts are cut from may still be read while the first
   * tasks run. A rejection is what {@linkcode PartScan.finish} throws.
   *
   * @example
   * ```ts
   * import { PartScan } from "./part_scan.ts";
   * declare const scan: PartScan;
   * declare function readIndex(): Promise<void>;
   * scan.waitFor(readIndex());
   * ```
   */
  waitFor(ready: Promise<void>): void {
    this.#checking = this.#checking.then(() => ready).catch((error) => {
      this.#failure ??= { error };
    });
  }

  /**
   * A task of this session is done. Returns the promise of the parts it
   * completes, if any, so the reading waits for their checks.
   *
   * @example
   * ```ts
   * import { PartScan } from "./part_scan.ts";
   * import type { ScanTask } from "./task.ts";
   * declare const scan: PartScan;
   * declare const task: ScanTask;
   * const checking = scan.done(task.sessionId);
   * if (checking) await checking;
   * ```
   */
  done(sessionId: string): Promise<void> | undefined {
    this.#pending[this.partOf(sessionId)]--;
    return this.#handOverReady(false);
  }

  /**
   * Hands over the parts left and waits for every part's check; throws
   * what `onPart` threw.
   *
   * @example
   * ```ts
   * import { PartScan } from "./part_scan.ts";
   * declare const scan: PartScan;
   * await scan.finish();
   * ```
   */
  async finish(): Promise<void> {
    this.#handOverReady(true);
    await this.#checking;
    if (this.#failure) throw this.#failure.error;
  }

  /**
   * Makes the next session's files in the store; returns its task, or null
   * for a session with nothing to read.
   */
  #nextSession(): ScanTask | null {
    const walked = this.#walk.next();
    if (!walked) throw new Error("scan: fewer sessions than counted");
    const files: SessionFiles = {
      sessionId: walked.sessionId,
      temps: walked.temps,
    };
    this.#store.sessions.set(walked.sessionId, files);
    if (walked.files.length === 0) return null;
    return {
      dir: this.#store.sessionDir,
      sessionId: walked.sessionId,
      files: walked.files,
    };
  }

  /**
   * The part an id falls in, from 0: the last whose first id is not after
   * it (an id before every session's is in the first).
   *
   * @example
   * ```ts
   * import { PartScan } from "./part_scan.ts";
   * declare const scan: PartScan;
   * scan.partOf("abc"); // 0 in a store of fewer sessions than a part
   * ```
   */
  partOf(id: string): number {
    const firstIds = this.#firstIds;
    let low = 0;
    let high = firstIds.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (compareIds(firstIds[middle], id) <= 0) low = middle;
      else high = middle - 1;
    }
    return low;
  }

  #handOverReady(all: boolean): Promise<void> | undefined {
    const start = this.#next;
    while (
      this.#next < this.#firstIds.length &&
      (all || this.#pending[this.#next] === 0)
    ) this.#handOver(this.#next++);
    return this.#next > start ? this.#checking : undefined;
  }

  /** Hands part `k` to `onPart` (after the parts before it are checked). */
  #handOver(k: number): void {
    const end = this.#firstIds[k + 1] ?? null;
    // The part's sessions with nothing to read are made now.
    for (
      let id = this.#walk.peekId();
      id !== null && (end === null || compareIds(id, end) < 0);
      id = this.#walk.peekId()
    ) this.#nextSession();
    const sessions: SessionFiles[] = [];
    for (const [id, files] of this.#store.sessions) {
      if (end !== null && compareIds(id, end) >= 0) break;
      sessions.push(files);
      this.#store.sessions.delete(id);
    }
    this.#checking = this.#checking.then(() => {
      // After a failure no part is checked: finish() throws it.
      if (this.#failure) return;
      // Made once `sources` and the store-wide files are read (waitFor).
      this.#views ??= new StoreParts(this.#store, this.sources);
      return this.#options.onPart(this.#views.next(sessions, end));
    }).catch((error) => {
      this.#failure ??= { error };
    });
  }
}
