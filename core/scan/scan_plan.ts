/**
 * How a scan reads, decided from the store's size once it is listed: how
 * many workers read beside this thread (from the session dir's listing),
 * how big the store is, and whether its snapshot is kept compact.
 *
 * @example
 * ```ts
 * import { COMPACT_SNAPSHOT_BYTES, storeBytes, workerCount } from "./scan_plan.ts";
 * import type { ScanRun } from "./scan_run.ts";
 * import type { ScanTask } from "./task.ts";
 * declare const run: ScanRun;
 * declare const entries: Deno.DirEntry[];
 * declare const tasks: ScanTask[];
 * const workers = workerCount(run, entries);
 * const bytes = storeBytes(run, tasks);
 * const compact = bytes >= COMPACT_SNAPSHOT_BYTES;
 * ```
 * @module
 */

import { overlayActive, storeLstatSync } from "../io/overlay.ts";
import { pathIn } from "../store/layout.ts";
import type { StateDb } from "../state_db/state_db.ts";
import { defaultWorkerCount } from "./pool.ts";
import { StringPool } from "./string_pool.ts";
import type { ScanTask } from "./task.ts";
import type { ScanRun } from "./scan_run.ts";

/**
 * Store size (bytes) from which the snapshot is kept compact: equal short
 * values pooled, this thread's results cloned like a worker's. Below it
 * the snapshot is small anyway and the time is better saved.
 *
 * @example
 * ```ts
 * import { COMPACT_SNAPSHOT_BYTES } from "./scan_plan.ts";
 * declare const bytes: number;
 * const compact = bytes >= COMPACT_SNAPSHOT_BYTES;
 * ```
 */
export const COMPACT_SNAPSHOT_BYTES = 96 * 1024 * 1024;

/**
 * About how many bytes the scan's session files hold: the tasks' files, or
 * checked in parts (no task made yet) the journals and the session names.
 *
 * @example
 * ```ts
 * import { storeBytes } from "./scan_plan.ts";
 * import type { ScanRun } from "./scan_run.ts";
 * declare const run: ScanRun;
 * storeBytes(run, []);
 * ```
 */
export function storeBytes(
  run: ScanRun,
  taskList: readonly (ScanTask | undefined)[],
): number {
  const { journalNames, sessionNames } = run;
  return run.lazy
    ? estimatedBytes(
      run.options.sessionDir,
      (function* () {
        for (const journal of journalNames) yield journal.name;
        yield* sessionNames;
      })(),
      journalNames.length + sessionNames.length,
    )
    : estimatedBytes(
      run.options.sessionDir,
      (function* () {
        for (const task of taskList) for (const f of task!.files) yield f.name;
      })(),
      run.fileCount - run.ownReads.length,
    );
}

/**
 * Keeps the snapshot compact from now on: the pool is set, and the state.db
 * rows and the sessions already listed are put through it.
 *
 * @example
 * ```ts
 * import { compactSnapshot } from "./scan_plan.ts";
 * import type { ScanRun } from "./scan_run.ts";
 * declare const run: ScanRun;
 * compactSnapshot(run);
 * run.pool; // a StringPool
 * ```
 */
export function compactSnapshot(run: ScanRun): void {
  const pool = run.pool = new StringPool();
  poolStateDb(run.store.stateDb, pool);
  for (const files of run.store.sessions.values()) {
    files.sessionId = pool.string(files.sessionId);
  }
}

/**
 * The workers that read beside this thread: as asked, else by the size of
 * the session dir's files, told from its listing (before anything else is
 * read, so they start early); none under a dry run.
 *
 * @example
 * ```ts
 * import { workerCount } from "./scan_plan.ts";
 * import type { ScanRun } from "./scan_run.ts";
 * declare const run: ScanRun;
 * workerCount(run, []); // 0 unless asked for
 * ```
 */
export function workerCount(
  run: ScanRun,
  entries: readonly Deno.DirEntry[],
): number {
  // A dry run's overlay (core/io/overlay.ts) is seen in this thread only.
  if (overlayActive()) return 0;
  if (run.options.workers !== undefined) return run.options.workers;
  const files = entries.filter((entry) => entry.isFile);
  const names = files.map((entry) => entry.name);
  return defaultWorkerCount(
    files.length,
    estimatedBytes(run.options.sessionDir, names, names.length),
  );
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
