/**
 * One unit of the scan's work: the files of one session (its journal first,
 * then its sidecar, backup and temps), each read once, parsed and reduced to
 * a summary, so the parsed document is dropped before the next file. The
 * same function runs in the scan's thread and in its workers, so both give
 * the same summaries and the same read problems.
 *
 * @example
 * ```ts
 * import { runScanTask } from "./task.ts";
 * import { fileReader } from "../io/file_read.ts";
 * const results = runScanTask({
 *   dir: "/srv/sessions",
 *   sessionId: "abc",
 *   files: [{ name: "abc.json", kind: "sidecar" }],
 * }, await fileReader(), 64 << 20);
 * results[0].read.ok; // true when abc.json parsed
 * ```
 * @module
 */

import { pathIn } from "../store/layout.ts";
import {
  type FileReader,
  type Parsed,
  type ReadResult,
} from "../io/file_read.ts";
import {
  messageText,
  pyStrip,
  type SidecarSummary,
} from "../store/sidecar_summary.ts";
import { summarizeSidecarBytes } from "./sidecar_scan.ts";
import {
  isTerminalEvent,
  type JournalSummary,
  summarizeJournal,
  type TurnState,
} from "../journal/turn_journal.ts";

/**
 * How a file of a task is summarized.
 *
 * @example
 * ```ts
 * import type { ScanFileKind } from "./task.ts";
 * const kind: ScanFileKind = "journal"; // summarizeJournal, not a sidecar summary
 * ```
 */
export type ScanFileKind = "sidecar" | "backup" | "temp" | "journal";

/**
 * One file of a task.
 *
 * @example
 * ```ts
 * import type { ScanFile } from "./task.ts";
 * const file: ScanFile = { name: "abc.json", kind: "sidecar" };
 * ```
 */
export interface ScanFile {
  /** Path relative to the session dir. */
  name: string;
  /** How it is summarized. */
  kind: ScanFileKind;
}

/**
 * The files of one session, its journal files (if any) first, in the
 * server's read order (core/journal/turn_journal_files.ts).
 *
 * @example
 * ```ts
 * import type { ScanFile, ScanTask } from "./task.ts";
 * declare const dir: string;
 * declare const journal: ScanFile;
 * declare const live: ScanFile;
 * declare const backup: ScanFile;
 * const task: ScanTask = { dir, sessionId: "abc", files: [journal, live, backup] };
 * ```
 */
export interface ScanTask {
  /** The session dir the names are relative to. */
  dir: string;
  /** The session the files belong to. */
  sessionId: string;
  /** In the order they are read; the results come in the same order. */
  files: ScanFile[];
}

/**
 * One file as a task leaves it.
 *
 * @example
 * ```ts
 * import { type ScanTask, runScanTask } from "./task.ts";
 * import type { FileReader } from "../io/file_read.ts";
 * declare const task: ScanTask;
 * declare const read: FileReader;
 * declare const maxBytes: number;
 * const [result]: ScanFileResult[] = runScanTask(task, read, maxBytes);
 * if (!result.read.ok) console.log(result.name, result.read.problem.reason);
 * ```
 */
export interface ScanFileResult {
  /** The file's `name` in the task. */
  name: string;
  /** Bytes read, or null when the file could not be read. */
  bytes: number | null;
  /**
   * Its summary, or why there is none. A journal file's summary holds its
   * own line problems; its turns are in `journalTurns`.
   */
  read: ReadResult<SidecarSummary | JournalSummary>;
  /**
   * On the last journal file of a task: the turns of all its journal files
   * merged as the server reads them, without the settled ones (see
   * {@linkcode dropSettledTurns}); null when one of them could not be read,
   * so no turn can be judged.
   */
  journalTurns?: MergedTurns | null;
}

/**
 * A session's journal turns, merged across its files.
 *
 * @example
 * ```ts
 * import type { MergedTurns } from "./task.ts";
 * const merged: MergedTurns = { turns: new Map(), turnCount: 0 };
 * ```
 */
export interface MergedTurns {
  /** The turns a check can report (open or colliding), by id. */
  turns: Map<string, TurnState>;
  /** How many turns the files hold, settled ones included. */
  turnCount: number;
}

/**
 * Reads and summarizes the files of a task, in order. A sidecar that comes
 * after a journal keeps the user texts the journal check may look up.
 *
 * @example
 * ```ts
 * import { type ScanTask, runScanTask } from "./task.ts";
 * import { fileReader } from "../io/file_read.ts";
 * declare const task: ScanTask;
 * runScanTask(task, await fileReader(), 256 << 20).map((r) => r.name);
 * ```
 */
export function runScanTask(
  task: ScanTask,
  read: FileReader,
  maxBytes: number,
): ScanFileResult[] {
  // Set once the task's journal was read: the texts its sidecar must keep.
  let wanted: Set<string> | undefined;
  const results: ScanFileResult[] = [];
  // The journal files come first; their turns go into one map, in order.
  const turns = new Map<string, TurnState>();
  let journalFiles = 0;
  let journalFailed = false;
  const endJournal = () => {
    if (journalFiles === 0 || wanted !== undefined) return;
    const last = results[journalFiles - 1];
    for (let i = 0; i < journalFiles; i++) {
      const read = results[i].read;
      if (read.ok) (read.value as JournalSummary).turns = new Map();
    }
    if (journalFailed) {
      last.journalTurns = null;
      wanted = new Set();
      return;
    }
    const turnCount = turns.size;
    dropSettledTurns({ turns });
    last.journalTurns = { turns, turnCount };
    wanted = pendingTurnTexts({ turns });
  };
  for (const file of task.files) {
    if (file.kind !== "journal") endJournal();
    const raw = read(pathIn(task.dir, file.name), maxBytes);
    if (file.kind === "journal") journalFiles++;
    if (!raw.ok) {
      if (file.kind === "journal") journalFailed = true;
      results.push({ name: file.name, bytes: null, read: raw });
      continue;
    }
    let parsed: Parsed<SidecarSummary | JournalSummary>;
    if (file.kind === "journal") {
      const journal = summarizeJournal(raw.value, {
        file: journalFiles - 1,
        turns,
      });
      parsed = { ok: true, value: journal };
    } else {
      // Texts are kept only when some turn is pending: a summary of a
      // session whose turns all ended needs none.
      parsed = parseSidecar(
        raw.value,
        file.kind === "sidecar" && wanted?.size ? wanted : undefined,
      );
    }
    results.push({
      name: file.name,
      bytes: raw.value.length,
      read: { ...parsed, identity: raw.identity },
    });
  }
  endJournal();
  return results;
}

/**
 * Parses and summarizes a sidecar (or backup, or temp). With `userTextsAmong`
 * the summary keeps those of its user texts that are in the set.
 *
 * @example
 * ```ts
 * import { parseSidecar } from "./task.ts";
 * parseSidecar(new TextEncoder().encode('{"messages": []}')); // { ok: true, value: { messageCount: 0, ... } }
 * ```
 */
export function parseSidecar(
  bytes: Uint8Array,
  userTextsAmong?: ReadonlySet<string>,
): Parsed<SidecarSummary> {
  return summarizeSidecarBytes(bytes, { userTextsAmong });
}

/**
 * Drops the turns no check reports on: those that ended exactly once, with
 * their latest event. An append-only journal holds every turn of its
 * session, and a store's summaries must not grow with its history; the
 * count stays in `turnCount`.
 *
 * @example
 * ```ts
 * import { dropSettledTurns } from "./task.ts";
 * import { summarizeJournal } from "../journal/turn_journal.ts";
 * declare const bytes: Uint8Array;
 * dropSettledTurns(summarizeJournal(bytes)).turns.size; // open or colliding turns only
 * ```
 */
export function dropSettledTurns<T extends { turns: Map<string, TurnState> }>(
  journal: T,
): T {
  for (const [id, turn] of journal.turns) {
    if (turn.terminalEvents === 1 && isTerminalEvent(turn.latest)) {
      journal.turns.delete(id);
    }
  }
  return journal;
}

/**
 * The texts the journal check may look up in the sidecar: those of turns
 * whose latest event is not terminal, stripped as the check strips them.
 * A superset is harmless (a text kept but never asked for), so every way
 * the check may read a content is included.
 *
 * @example
 * ```ts
 * import { pendingTurnTexts } from "./task.ts";
 * import { summarizeJournal } from "../journal/turn_journal.ts";
 * declare const bytes: Uint8Array;
 * pendingTurnTexts(summarizeJournal(bytes)).has("hello"); // a pending prompt
 * ```
 */
export function pendingTurnTexts(
  journal: { turns: ReadonlyMap<string, TurnState> },
): Set<string> {
  const texts = new Set<string>();
  for (const turn of journal.turns.values()) {
    if (isTerminalEvent(turn.latest)) continue;
    const content = turn.latest.content;
    texts.add(pyStrip(messageText(content)));
    if (typeof content === "number" || typeof content === "boolean") {
      texts.add(pyStrip(String(content)));
    }
  }
  texts.delete("");
  return texts;
}
