/**
 * A scan task's results put where the checks look for them: each file's
 * summary in its session's files, its bytes counted, equal values shared.
 *
 * @example
 * ```ts
 * import { takeResults } from "./place_results.ts";
 * import { ScanRun } from "./scan_run.ts";
 * import type { ScanFileResult, ScanTask } from "./task.ts";
 * declare const task: ScanTask;
 * declare const results: ScanFileResult[];
 * const run = new ScanRun({ sessionDir: "/srv/sessions", stateDbPath: null });
 * takeResults(run, task, results);
 * run.store.sessions.get(task.sessionId);
 * ```
 * @module
 */

import { pathIn } from "../store/layout.ts";
import type { ReadResult } from "../io/file_read.ts";
import type { SidecarSummary } from "../store/sidecar_summary.ts";
import type { JournalSummary } from "../journal/turn_journal.ts";
import type { ScannedFile } from "./store_snapshot.ts";
import type { ScanFileResult, ScanTask } from "./task.ts";
import type { ScanRun } from "./scan_run.ts";

/**
 * Takes the results of a task: counts them, places them, and tells the
 * parts the session is done. Returns the promise of the parts it
 * completes, if any.
 *
 * @example
 * ```ts
 * import { takeResults } from "./place_results.ts";
 * import type { ScanRun } from "./scan_run.ts";
 * import type { ScanFileResult, ScanTask } from "./task.ts";
 * declare const run: ScanRun;
 * declare const task: ScanTask;
 * declare const results: ScanFileResult[];
 * const checking = takeResults(run, task, results);
 * if (checking) await checking;
 * ```
 */
export function takeResults(
  run: ScanRun,
  task: ScanTask,
  results: ScanFileResult[],
): Promise<void> | undefined {
  for (const result of results) {
    if (result.bytes !== null) run.countRead(result.bytes);
    if (result.read.ok && "keys" in result.read.value) {
      shareKeys(run.keyLists, result.read.value);
    }
  }
  placeResults(run, task, results);
  run.report(results.length);
  return run.parts?.done(task.sessionId);
}

/**
 * Puts each result of a task where the checks look for it.
 *
 * @example
 * ```ts
 * import { placeResults } from "./place_results.ts";
 * import type { ScanRun } from "./scan_run.ts";
 * import type { ScanFileResult, ScanTask } from "./task.ts";
 * declare const run: ScanRun;
 * declare const task: ScanTask;
 * declare const results: ScanFileResult[];
 * placeResults(run, task, results);
 * ```
 */
export function placeResults(
  run: ScanRun,
  task: ScanTask,
  results: ScanFileResult[],
): void {
  const files = run.session(task.sessionId);
  const pool = run.pool;
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
    const file = { name, path: pathIn(run.options.sessionDir, name), read };
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
}

function shareKeys(
  keyLists: Map<string, string[]>,
  summary: SidecarSummary,
): void {
  const key = summary.keys.join("\u0000");
  const known = keyLists.get(key);
  if (known) summary.keys = known;
  else keyLists.set(key, summary.keys);
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
