/**
 * The run journals of a store, as the scan leaves them for the checks:
 * `_run_journal/` listed once (core/journal/run_journal_files.ts), and each file
 * whose ids pass the sidecar rule read no-follow, regular-file-only and
 * bounded (core/journal/run_journal.ts) into a small summary. What the listing
 * refused is kept too, so a check can say what was never followed.
 *
 * @example
 * ```ts
 * import { runJournalOf, scanRunJournals } from "./run_journal_scan.ts";
 * const journals = await scanRunJournals("/srv/sessions");
 * runJournalOf(journals, "abc")?.files.map((f) => f.streamId);
 * ```
 * @module
 */

import { fileConsumer } from "../io/file_read.ts";
import { interruptCheck, Interrupted } from "../io/interrupt.ts";
import {
  DEFAULT_RUN_JOURNAL_LIMITS,
  type RunJournalLimits,
  type RunJournalSummary,
  runJournalSummaryContents,
} from "../journal/run_journal.ts";
import {
  listRunJournals,
  type RefusedRunJournalPath,
  sameRunJournalDir,
} from "../journal/run_journal_files.ts";
import type { ScannedFile } from "../io/file_read.ts";
import { pathIn } from "../store/layout.ts";

/**
 * One run's journal file, read.
 *
 * @example
 * ```ts
 * import type { RunJournals, ScannedRunJournal } from "./run_journal_scan.ts";
 * declare const journals: RunJournals;
 * const file: ScannedRunJournal = journals.sessions.get("abc")!.files[0];
 * if (file.read.ok) console.log(file.streamId, file.read.value.terminalState);
 * ```
 */
export type ScannedRunJournal = ScannedFile<RunJournalSummary> & {
  /** The stream (run) id its name carries; passes the sidecar rule. */
  streamId: string;
};

/**
 * One session's run journals.
 *
 * @example
 * ```ts
 * import type { RunJournals, SessionRunJournal } from "./run_journal_scan.ts";
 * declare const journals: RunJournals;
 * const s: SessionRunJournal | undefined = journals.sessions.get("abc");
 * ```
 */
export interface SessionRunJournal {
  /** The session id of its dir (passes the sidecar rule). */
  sessionId: string;
  /** `_run_journal/<sid>`, relative to the session dir. */
  dir: string;
  /** Its runs' files, by name. */
  files: ScannedRunJournal[];
}

/**
 * The run journals of a store (or of a part of one: core/scan/store_part.ts).
 *
 * @example
 * ```ts
 * import { type RunJournals, NO_RUN_JOURNALS } from "./run_journal_scan.ts";
 * import type { StoreSnapshot } from "./store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * const journals: RunJournals = store.runJournals ?? NO_RUN_JOURNALS;
 * ```
 */
export interface RunJournals {
  /** By session id, in id order. */
  sessions: Map<string, SessionRunJournal>;
  /** Names under `_run_journal` reported and never followed (in every part). */
  refused: RefusedRunJournalPath[];
}

/**
 * A store without run journals (before v0.51.71, or never streamed).
 *
 * @example
 * ```ts
 * import { NO_RUN_JOURNALS } from "./run_journal_scan.ts";
 * import type { StoreSnapshot } from "./store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * const journals = store.runJournals ?? NO_RUN_JOURNALS;
 * ```
 */
export const NO_RUN_JOURNALS: RunJournals = Object.freeze({
  sessions: new Map(),
  refused: [],
});

/**
 * Reads every run journal of the store. The dir of each session is checked
 * again after its files are read: one swapped meanwhile (for a link, say)
 * has its reads dropped and is reported as refused.
 *
 * @example
 * ```ts
 * import { scanRunJournals } from "./run_journal_scan.ts";
 * const journals = await scanRunJournals("/srv/sessions", { limits: { maxTotalBytes: 64 << 20 } });
 * ```
 */
export async function scanRunJournals(
  sessionDir: string,
  options: {
    limits?: Partial<RunJournalLimits>;
    onRead?: (bytes: number) => void;
    interrupted?: () => boolean;
  } = {},
): Promise<RunJournals> {
  const listing = listRunJournals(sessionDir);
  const journals: RunJournals = {
    sessions: new Map(),
    refused: listing.refused,
  };
  if (listing.sessions.length === 0) return journals;
  const limits = { ...DEFAULT_RUN_JOURNAL_LIMITS, ...options.limits };
  const stopNow = interruptCheck(options.interrupted);
  limits.maxLineBytes = Math.min(limits.maxLineBytes, limits.maxTotalBytes);
  for (const names of listing.sessions) {
    const session: SessionRunJournal = {
      sessionId: names.sessionId,
      dir: names.dir,
      files: [],
    };
    for (const file of names.files) {
      if (await stopNow()) throw new Interrupted();
      const read = await fileConsumer(
        runJournalSummaryContents(names.sessionId, file.streamId, limits),
      );
      const path = pathIn(sessionDir, file.name);
      const result = read(path, Infinity);
      if (result.ok) options.onRead?.(result.value.bytesRead);
      session.files.push({
        name: file.name,
        path,
        streamId: file.streamId,
        read: result,
      });
    }
    if (!sameRunJournalDir(sessionDir, names)) {
      journals.refused.push({
        name: names.dir,
        id: names.sessionId,
        sessionId: names.sessionId,
        reason: "unreadable",
        detail: "was replaced while its files were read",
      });
      continue;
    }
    journals.sessions.set(names.sessionId, session);
  }
  return journals;
}

/**
 * A session's run journals, when it has any.
 *
 * @example
 * ```ts
 * import { runJournalOf } from "./run_journal_scan.ts";
 * import type { StoreSnapshot } from "./store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * runJournalOf(store.runJournals, "abc")?.files.length;
 * ```
 */
export function runJournalOf(
  journals: RunJournals | undefined,
  sessionId: string,
): SessionRunJournal | undefined {
  return journals?.sessions.get(sessionId);
}

/**
 * The journal file of one run of a session, when it was read.
 *
 * @example
 * ```ts
 * import { runFileOf } from "./run_journal_scan.ts";
 * import type { StoreSnapshot } from "./store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * const file = runFileOf(store.runJournals, "abc", "r1");
 * if (file?.read.ok) console.log(file.read.value.hasVisibleOutput);
 * ```
 */
export function runFileOf(
  journals: RunJournals | undefined,
  sessionId: string,
  streamId: string,
): ScannedRunJournal | undefined {
  return runJournalOf(journals, sessionId)?.files.find((f) =>
    f.streamId === streamId
  );
}

/**
 * What the run journal of a session's active stream says, for a sidecar
 * left streaming (`active_stream_id` set):
 * - `completed`: the run finished (its own authoritative terminal event is
 *   `completed`), so the server closes the stream without an error marker
 *   (since v0.51.154);
 * - `output`: the run left output a user saw (text, reasoning, tool cards)
 *   and did not complete: the server recovers it into the sidecar
 *   (since v0.51.81), so the stream must not be closed without it;
 * - `unknown`: the journal could not be read, or a bound cut the read
 *   before any output was found: nothing may be closed on a guess;
 * - null: no journal, or one with no output: the stream closes as before.
 *
 * @example
 * ```ts
 * import { activeRunVerdict } from "./run_journal_scan.ts";
 * import type { StoreSnapshot } from "./store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * declare const meta: Record<string, unknown>;
 * const verdict = activeRunVerdict(store.runJournals, "abc", meta.active_stream_id);
 * if (verdict?.kind === "output") console.log(verdict.file.name);
 * ```
 */
export function activeRunVerdict(
  journals: RunJournals | undefined,
  sessionId: string,
  activeStreamId: unknown,
):
  | {
    kind: "completed" | "output";
    file: ScannedRunJournal;
    summary: RunJournalSummary;
  }
  | { kind: "unknown"; file: ScannedRunJournal; why: string }
  | null {
  if (typeof activeStreamId !== "string") return null;
  const file = runFileOf(journals, sessionId, activeStreamId);
  if (!file) return null;
  if (!file.read.ok) {
    return { kind: "unknown", file, why: file.read.problem.detail };
  }
  const summary = file.read.value;
  if (summary.terminalState === "completed") {
    return { kind: "completed", file, summary };
  }
  if (summary.hasVisibleOutput) return { kind: "output", file, summary };
  const cut = readCut(summary);
  return cut ? { kind: "unknown", file, why: cut } : null;
}

/**
 * Where a bound cut the read of a run journal, as a phrase; null when the
 * whole file was read.
 *
 * @example
 * ```ts
 * import { readCut } from "./run_journal_scan.ts";
 * import type { RunJournalSummary } from "../journal/run_journal.ts";
 * declare const summary: RunJournalSummary;
 * readCut(summary); // "was read only to byte 268435456 (of a bigger file)"
 * ```
 */
export function readCut(summary: RunJournalSummary): string | null {
  const parts: string[] = [];
  if (summary.cutAtByte !== null) {
    parts.push(
      `was read only to byte ${summary.cutAtByte} (the file is bigger; ` +
        `raise --max-file-size to read it all)`,
    );
  }
  if (summary.oversizedCount > 0) {
    const more = summary.oversizedCount > summary.oversizedLines.length
      ? ", ..."
      : "";
    parts.push(
      `has ${summary.oversizedCount} line${
        summary.oversizedCount === 1 ? "" : "s"
      } too long to read (line ${
        summary.oversizedLines.join(", ")
      }${more}; raise --max-file-size to read them)`,
    );
  }
  return parts.length ? parts.join(" and ") : null;
}
