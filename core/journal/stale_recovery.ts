/**
 * Closing a turn a dead stream left in a sidecar, as the server of the
 * sidecar's era closes it on load (STORE_FORMAT.md §5 "stale stream
 * state"). Today's server (`_apply_core_sync_or_error_marker`): a run whose
 * own journal says it completed is closed without a marker; otherwise the
 * pending prompt is kept as a `_recovered` user row (and in
 * `context_messages`), the run journal's output is recovered, and the
 * `interrupted` marker closes the turn, arming the lazy retry when nothing
 * was recovered; an empty session takes the agent's core transcript. The
 * seed-era server (G0) kept the prompt and wrote its old marker. Pure: the
 * session is the parsed sidecar, changed in place; the caller reads the
 * journal and the transcript and writes the result.
 *
 * @example
 * ```ts
 * import { closeStaleTurn } from "./stale_recovery.ts";
 * declare const text: string;
 * const doc = JSON.parse(text);
 * const outcome = closeStaleTurn(doc, { era: "head", journal: null, core: null, nowSeconds: Date.now() / 1000 });
 * console.log(outcome.marker, outcome.recoveredOutput);
 * ```
 * @module
 */

import {
  g0Marker,
  interruptedMarker,
  interruptionCause,
} from "./interrupted_marker.ts";
import {
  appendJournaledOutput,
  gatewayTerminalError,
  journalHasVisibleOutput,
  journalTerminalState,
  recoverJournaled,
} from "./journal_output.ts";
import type { RunOutput } from "./run_journal.ts";
import {
  appendRecoveredToContext,
  latestUserMatchesPendingText,
  matchesPendingCheckpoint,
  matchesPendingText,
  normalizedText,
  pyList,
  type RecoverySession,
} from "./recovered_context.ts";
import { isPlainObject, pyTruthy } from "../store/sidecar_summary.ts";

/**
 * Whose rules close the turn: `g0`, the seed-era server's (a sidecar no
 * later server wrote), or `head`, today's.
 *
 * @example
 * ```ts
 * import type { StaleEra } from "./stale_recovery.ts";
 * const era: StaleEra = "head";
 * ```
 */
export type StaleEra = "g0" | "head";

/**
 * The agent's core transcript, when one with messages exists.
 *
 * @example
 * ```ts
 * import type { CoreTranscript } from "./stale_recovery.ts";
 * const core: CoreTranscript = { path: "/h/sessions/session_a.json", doc: {}, messages: [] };
 * ```
 */
export interface CoreTranscript {
  path: string;
  doc: Record<string, unknown>;
  messages: unknown[];
}

/**
 * Inputs of {@linkcode closeStaleTurn}.
 *
 * @example
 * ```ts
 * import type { StaleOptions } from "./stale_recovery.ts";
 * const options: StaleOptions = { era: "head", journal: null, core: null, nowSeconds: 1 };
 * ```
 */
export interface StaleOptions {
  era: StaleEra;
  /**
   * `_run_journal/<sid>/<active_stream_id>.jsonl` as the reader read it
   * (core/journal/run_journal.ts); `null` when there is no such file.
   */
  journal: RunOutput | null;
  /** The core transcript, consulted only when `messages` is empty. */
  core: CoreTranscript | null;
  nowSeconds: number;
  /**
   * The sidecar's `messages` and `context_messages` after the server's
   * state.db heal (core/state_db/state_db_heal.ts), when state.db is ahead: the
   * turn is closed on them instead, keeping the journal's output the heal
   * alone would drop.
   */
  healed?: { messages: unknown[]; context: unknown[] };
}

/**
 * What closing the turn did.
 *
 * @example
 * ```ts
 * import type { StaleOutcome } from "./stale_recovery.ts";
 * const o: StaleOutcome = { promptAdded: true, recoveredOutput: false, gatewayError: false, marker: "retry", completed: false, fromCore: false };
 * ```
 */
export interface StaleOutcome {
  /** The pending prompt became a user row. */
  promptAdded: boolean;
  /** Run-journal output was recovered. */
  recoveredOutput: boolean;
  /** The run's gateway error row was recovered (no marker then). */
  gatewayError: boolean;
  /** The marker added: `g0`, today's outcomes, or none. */
  marker: "g0" | "recovered" | "retry" | "none" | null;
  /** The run's journal said it completed. */
  completed: boolean;
  /** The core transcript was taken. */
  fromCore: boolean;
  /** state.db's newer rows were merged in, as the server's heal does. */
  fromStateDb?: boolean;
}

/**
 * Closes the turn in `session` (the parsed sidecar, changed in place).
 * The caller has checked the guards (grace, compression parents,
 * state.db ahead) and that `messages` is a list.
 *
 * @example
 * ```ts
 * import { closeStaleTurn } from "./stale_recovery.ts";
 * import type { RecoverySession } from "./recovered_context.ts";
 * declare const doc: RecoverySession;
 * closeStaleTurn(doc, { era: "g0", journal: null, core: null, nowSeconds: 1778458282 }).marker; // "g0"
 * ```
 */
export function closeStaleTurn(
  session: RecoverySession,
  options: StaleOptions,
): StaleOutcome {
  return options.era === "g0"
    ? closeAsSeed(session, options)
    : closeAsToday(session, options);
}

function emptyOutcome(): StaleOutcome {
  return {
    promptAdded: false,
    recoveredOutput: false,
    gatewayError: false,
    marker: null,
    completed: false,
    fromCore: false,
  };
}

/** The core transcript's rows, tool calls and counters replace the sidecar's. */
function takeCoreTranscript(
  session: RecoverySession,
  core: CoreTranscript,
): void {
  session.messages = [...core.messages];
  session.tool_calls = "tool_calls" in core.doc ? core.doc.tool_calls : [];
  for (const key of ["input_tokens", "output_tokens", "estimated_cost"]) {
    const value = core.doc[key];
    if (value !== null && value !== undefined) session[key] = value;
  }
}

/** `row` is the pending prompt as the server checkpointed it. */
function checkpointsPending(
  session: RecoverySession,
  row: unknown,
  timestamp: number,
): boolean {
  return matchesPendingCheckpoint(
    row,
    session.pending_user_message,
    timestamp,
    session.pending_user_source,
    session.pending_attachments,
  );
}

function recoveredTimestamp(session: RecoverySession, now: number): number {
  const started = session.pending_started_at;
  return typeof started === "number" && started > 0
    ? Math.trunc(started)
    : Math.trunc(now);
}

/** The keys the server clears, those the file has (the rest default so). */
function clearStreamState(session: RecoverySession, era: StaleEra): void {
  session.active_stream_id = null;
  session.pending_user_message = null;
  session.pending_attachments = [];
  session.pending_started_at = null;
  if (era === "head") session.pending_user_source = null;
}

/**
 * `_append_recovered_pending_turn`: the `_recovered` user row, its
 * model-facing copy, and a set `truncation_watermark` moved to its time.
 */
function appendRecoveredPrompt(
  session: RecoverySession,
  timestamp: number,
): Record<string, unknown> | null {
  if (!pyTruthy(session.pending_user_message)) return null;
  const recovered = recoveredPromptRow(session, timestamp);
  session.messages.push(recovered);
  appendRecoveredToContext(session, recovered);
  if (pyTruthy(session.truncation_watermark)) {
    session.truncation_watermark = timestamp;
  }
  return recovered;
}

function recoveredPromptRow(
  session: RecoverySession,
  timestamp: number,
): Record<string, unknown> {
  const row: Record<string, unknown> = {
    role: "user",
    content: session.pending_user_message,
    timestamp,
    _recovered: true,
  };
  const source = session.pending_user_source;
  if (pyTruthy(source) && source !== "webui") row._source = source;
  if (pyTruthy(session.pending_attachments)) {
    row.attachments = pyList(session.pending_attachments);
  }
  return row;
}

function closeAsToday(
  session: RecoverySession,
  options: StaleOptions,
): StaleOutcome {
  const now = options.nowSeconds;
  const sid = String(session.session_id ?? "");
  const streamId = pyTruthy(session.active_stream_id)
    ? String(session.active_stream_id)
    : null;
  const journal = options.journal;
  const gateway = gatewayTerminalError(journal, sid, streamId);
  const startedAt = session.pending_started_at;
  const cause = interruptionCause(startedAt, now);
  const outcome = emptyOutcome();
  const journalOptions = { nowSeconds: now };
  const markerFor = (recovered: boolean) => {
    const kind = recovered ? "recovered" : streamId ? "retry" : "none";
    outcome.marker = kind;
    return interruptedMarker({
      outcome: kind,
      cause,
      nowSeconds: now,
      streamId,
    });
  };
  // The journal's output (or its gateway error row), noted in `outcome`.
  const recoverJournal = (dedupeExisting: boolean): [boolean, boolean] => {
    const [output, error] = recoverJournaled(
      session,
      journal,
      streamId,
      gateway,
      { dedupeExisting, ...journalOptions },
    );
    outcome.recoveredOutput = output;
    outcome.gatewayError = error;
    return [output, error];
  };
  // The journal's output (or its gateway error row), then the marker.
  const closeWithJournal = (): StaleOutcome => {
    const [output, error] = recoverJournal(false);
    clearStreamState(session, "head");
    if (!error) session.messages.push(markerFor(output));
    return outcome;
  };
  const messages = session.messages;
  const pending = session.pending_user_message;
  const ts = recoveredTimestamp(session, now);
  if (options.healed) {
    // state.db ahead. The server's heal (`_sync_sidecar_from_state_db_if_newer`)
    // merges the agent's rows and clears the stream without reading the run
    // journal. The agent's rows are a transcript like the core one below, so
    // the journal goes on top of them the way the server recovers it onto
    // the core transcript: deduplicated (`dedupe_existing=True`). A text
    // segment state.db already holds (the agent's assistant row of that
    // step, equal once whitespace is collapsed, or containing it when 24+
    // characters long) is matched, not added twice; only what the agent had
    // not written when the process died (the last, unfinished segment) is
    // added. Then the recovered-output marker, as after any journal
    // recovery, since the turn did not finish.
    outcome.fromStateDb = true;
    const added = options.healed.messages.slice(messages.length);
    session.messages = [...options.healed.messages];
    session.context_messages = [...options.healed.context];
    // The prompt is the agent's first row of the turn; it is kept only
    // where state.db has none of it, so what the user typed is never lost.
    const held = added.some((m) => isPlainObject(m) && m.role === "user");
    if (!held && normalizedText(pending)) {
      outcome.promptAdded = appendRecoveredPrompt(session, ts) !== null;
    }
    const [output, error] = recoverJournal(true);
    clearStreamState(session, "head");
    if ((output || outcome.promptAdded) && !error) {
      session.messages.push(markerFor(output));
    }
    return outcome;
  }
  if (messages.length !== 0) {
    const last = messages.at(-1);
    const checkpointed = checkpointsPending(session, last, ts);
    const tailHasPrompt = checkpointed || matchesPendingText(last, pending);
    if (journalTerminalState(journal) === "completed") {
      outcome.completed = true;
      if (!(checkpointed || latestUserMatchesPendingText(messages, pending))) {
        outcome.promptAdded = appendRecoveredPrompt(session, ts) !== null;
      }
      outcome.recoveredOutput = appendJournaledOutput(
        session,
        journal,
        streamId,
        { dedupeExisting: true, ...journalOptions },
      );
      clearStreamState(session, "head");
      return outcome;
    }
    if (!tailHasPrompt) {
      outcome.promptAdded = appendRecoveredPrompt(session, ts) !== null;
    } else {
      appendRecoveredToContext(session, recoveredPromptRow(session, ts));
    }
    return closeWithJournal();
  }
  const core = options.core;
  if (core && core.messages.length > 0) {
    outcome.fromCore = true;
    takeCoreTranscript(session, core);
    const last = session.messages.at(-1);
    const tailHasPrompt = checkpointsPending(session, last, ts) ||
      matchesPendingText(last, pending);
    if (
      normalizedText(pending) && !tailHasPrompt &&
      (journalHasVisibleOutput(journal) || gateway !== null)
    ) {
      outcome.promptAdded = appendRecoveredPrompt(session, ts) !== null;
    }
    const [output, error] = recoverJournal(true);
    // Where the server would drop a prompt the transcript lacks (the agent
    // died before writing it, and the journal shows nothing), it is kept,
    // with the marker: hermes-fsck never loses what the user typed.
    const keepPrompt = !outcome.promptAdded && !output && !error &&
      normalizedText(pending) !== "" &&
      !latestUserMatchesPendingText(session.messages, pending);
    if (keepPrompt) {
      outcome.promptAdded = appendRecoveredPrompt(session, ts) !== null;
    }
    clearStreamState(session, "head");
    if ((output && !error) || keepPrompt) {
      session.messages.push(markerFor(output));
    }
    return outcome;
  }
  outcome.promptAdded = appendRecoveredPrompt(session, ts) !== null;
  return closeWithJournal();
}

/** f6ce79185c's `_apply_core_sync_or_error_marker`. */
function closeAsSeed(
  session: RecoverySession,
  options: StaleOptions,
): StaleOutcome {
  const now = options.nowSeconds;
  const outcome = emptyOutcome();
  const pending = session.pending_user_message;
  const ts = recoveredTimestamp(session, now);
  const seedRow = (): Record<string, unknown> => {
    const row: Record<string, unknown> = {
      role: "user",
      content: pending,
      timestamp: ts,
      _recovered: true,
    };
    if (pyTruthy(session.pending_attachments)) {
      row.attachments = pyList(session.pending_attachments);
    }
    return row;
  };
  const core = options.core;
  if (session.messages.length === 0 && core && core.messages.length > 0) {
    outcome.fromCore = true;
    takeCoreTranscript(session, core);
    clearStreamState(session, "g0");
    // The seed dropped a prompt the transcript lacks; it is kept here.
    if (
      normalizedText(pending) &&
      !latestUserMatchesPendingText(session.messages, pending)
    ) {
      session.messages.push(seedRow(), g0Marker(now));
      outcome.promptAdded = true;
      outcome.marker = "g0";
    }
    return outcome;
  }
  const last = session.messages.at(-1);
  const checkpointed = normalizedText(pending) !== "" &&
    isPlainObject(last) && last.role === "user" &&
    normalizedText(last.content) === normalizedText(pending);
  if (!checkpointed && pyTruthy(pending)) {
    session.messages.push(seedRow());
    outcome.promptAdded = true;
  }
  clearStreamState(session, "g0");
  session.messages.push(g0Marker(now));
  outcome.marker = "g0";
  return outcome;
}
