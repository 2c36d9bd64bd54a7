/**
 * The assistant marker that closes a turn a dead stream cut off, as each
 * era's server writes it (STORE_FORMAT.md §2 "Message"): the seed-era
 * (G0) `**Previous turn did not complete.**`, and since v0.51.75 the
 * `type: "interrupted"` marker whose text names the cause (since v0.51.132)
 * and the outcome, which may arm the server's lazy run-journal retry
 * (since v0.51.100). The wording is the server's own, so the server and
 * its readers recognise the marker as theirs.
 *
 * @example
 * ```ts
 * import { interruptedMarker } from "./interrupted_marker.ts";
 * const marker = interruptedMarker({
 *   outcome: "retry", cause: "process_restart", nowSeconds: 1778458282, streamId: "s1",
 * });
 * marker._pending_journal_recovery; // true
 * ```
 * @module
 */

import { pyStrip, pyTruthy } from "../store/sidecar_summary.ts";

/**
 * The seed-era marker (f6ce79185c and before), with `_error: true`.
 *
 * @example
 * ```ts
 * import { G0_MARKER_TEXT } from "./interrupted_marker.ts";
 * const g0 = { role: "assistant", content: G0_MARKER_TEXT, _error: true };
 * ```
 */
export const G0_MARKER_TEXT = "**Previous turn did not complete.**";

/**
 * The server's `interruption_cause` values.
 *
 * @example
 * ```ts
 * import type { InterruptionCause } from "./interrupted_marker.ts";
 * const cause: InterruptionCause = "process_restart";
 * ```
 */
export type InterruptionCause =
  | "process_restart"
  | "stream_run_split_brain"
  | "lost_worker_bookkeeping"
  | "unknown";

/**
 * What the marker says became of the turn's output: `recovered` (from the
 * run journal), `retry` (the lazy retry is armed: the journal may still
 * hold output), `none` (only the prompt was kept).
 *
 * @example
 * ```ts
 * import type { MarkerOutcome } from "./interrupted_marker.ts";
 * const outcome: MarkerOutcome = "retry";
 * ```
 */
export type MarkerOutcome = "recovered" | "retry" | "none";

const PREFIX = "**Response interrupted.**\n\n" +
  "The live response stream stopped before this turn finished. ";

const CAUSE_SENTENCES: Record<InterruptionCause, string> = {
  process_restart: "Evidence: the WebUI process started after this turn " +
    "began, so this looks like a real process crash or restart.",
  stream_run_split_brain: "Evidence: the browser response stream was gone " +
    "but the worker registry still listed the run. This is a stream/run " +
    "bookkeeping split-brain.",
  lost_worker_bookkeeping: "Evidence: the stream was gone and worker " +
    "bookkeeping no longer had an active run for it. This usually means " +
    "the worker state was lost or cleaned up without a terminal event.",
  unknown: "Evidence: the stream stopped, but the WebUI could not classify " +
    "the interruption more precisely.",
};

const OUTCOME_SENTENCES: Record<MarkerOutcome, string> = {
  recovered: "The partial output above was recovered from the run journal, " +
    "but the interrupted agent process could not continue.",
  retry: "Recovering the partial output from the run journal \u2014 " +
    "reload this session to retry.",
  none:
    "The user message above was preserved, but no agent output was recovered.",
};

/**
 * Python's `float(x)` of a JSON value, or null where it raises: numbers,
 * bools, and strings such as `" 1_000.5 "`, `"nan"`, `"-inf"`.
 *
 * @example
 * ```ts
 * import { pyFloat } from "./interrupted_marker.ts";
 * pyFloat("1e3"); // 1000
 * pyFloat("-Infinity"); // -Infinity
 * pyFloat([1]); // null
 * ```
 */
export function pyFloat(value: unknown): number | null {
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "number") return value;
  if (typeof value !== "string") return null;
  const text = pyStrip(value);
  const special = /^([+-]?)(nan|inf|infinity)$/i.exec(text);
  if (special) {
    if (special[2].toLowerCase() === "nan") return NaN;
    return special[1] === "-" ? -Infinity : Infinity;
  }
  const digits = "\\d+(?:_\\d+)*";
  const number = new RegExp(
    `^[+-]?(?:${digits}(?:\\.(?:${digits})?)?|\\.${digits})(?:[eE][+-]?${digits})?$`,
  );
  return number.test(text) ? Number(text.replaceAll("_", "")) : null;
}

/**
 * The cause today's server gives a stale turn it finds after a restart
 * (`_classify_interruption_cause`): the process started after a turn whose
 * `pending_started_at` is a number (as Python's `float()` reads it) before
 * now, so `process_restart`; without one, the stream id is set but no
 * worker has the run, so `lost_worker_bookkeeping`.
 *
 * @example
 * ```ts
 * import { interruptionCause } from "./interrupted_marker.ts";
 * interruptionCause(1778458282.5, Date.now() / 1000); // "process_restart"
 * interruptionCause(null, Date.now() / 1000); // "lost_worker_bookkeeping"
 * ```
 */
export function interruptionCause(
  pendingStartedAt: unknown,
  nowSeconds: number,
): InterruptionCause {
  const started = pyTruthy(pendingStartedAt) ? pyFloat(pendingStartedAt) : null;
  // The server about to start is later than any turn that began before now.
  if (started !== null && started < nowSeconds) return "process_restart";
  return "lost_worker_bookkeeping";
}

/**
 * The text of today's marker for a cause and an outcome
 * (`_interrupted_content_for`).
 *
 * @example
 * ```ts
 * import { interruptedText } from "./interrupted_marker.ts";
 * interruptedText("process_restart", "none").startsWith("**Response interrupted.**"); // true
 * ```
 */
export function interruptedText(
  cause: InterruptionCause,
  outcome: MarkerOutcome,
): string {
  return `${PREFIX}${CAUSE_SENTENCES[cause]} ${OUTCOME_SENTENCES[outcome]}`;
}

/**
 * Today's marker, keys in the server's order: `role`, `content`,
 * `timestamp`, `_error`, `type`, `interruption_cause`, and for `retry` the
 * lazy-retry keys (`_pending_journal_recovery`, `_journal_retry_stream_id`,
 * `_journal_retry_attempts` 0, `_journal_retry_first_seen_ts`), which tell
 * the server to read the run journal again on the next load.
 *
 * @example
 * ```ts
 * import { interruptedMarker } from "./interrupted_marker.ts";
 * interruptedMarker({ outcome: "none", cause: "unknown", nowSeconds: 5, streamId: null }).type; // "interrupted"
 * ```
 */
export function interruptedMarker(options: {
  outcome: MarkerOutcome;
  cause: InterruptionCause;
  nowSeconds: number;
  streamId: string | null;
}): Record<string, unknown> {
  const now = Math.trunc(options.nowSeconds);
  // The server arms the retry only with a stream id to retry against.
  const outcome = options.outcome === "retry" && !options.streamId
    ? "none"
    : options.outcome;
  const marker: Record<string, unknown> = {
    role: "assistant",
    content: interruptedText(options.cause, outcome),
    timestamp: now,
    _error: true,
    type: "interrupted",
    interruption_cause: options.cause,
  };
  if (outcome === "retry") {
    marker._pending_journal_recovery = true;
    marker._journal_retry_stream_id = String(options.streamId);
    marker._journal_retry_attempts = 0;
    marker._journal_retry_first_seen_ts = now;
  }
  return marker;
}

/**
 * The seed-era marker, as that server appended it.
 *
 * @example
 * ```ts
 * import { g0Marker } from "./interrupted_marker.ts";
 * g0Marker(1778458282.9).timestamp; // 1778458282
 * ```
 */
export function g0Marker(nowSeconds: number): Record<string, unknown> {
  return {
    role: "assistant",
    content: G0_MARKER_TEXT,
    timestamp: Math.trunc(nowSeconds),
    _error: true,
  };
}
