/**
 * A turn left streaming, as the store shows it: the stream state a sidecar
 * keeps (`active_stream_id`, `pending_user_message`), how old the turn is,
 * whether today's server leaves it alone (a compression parent) or heals
 * it from state.db first, and what its run journal holds. The stream
 * checks and repairs share these, so that each says the same of a turn.
 *
 * @example
 * ```ts
 * import { hasStreamState, pendingAgeSeconds } from "./stream_state.ts";
 * declare const meta: Record<string, unknown>;
 * if (hasStreamState(meta)) console.log(pendingAgeSeconds(meta.pending_started_at, Date.now()));
 * ```
 * @module
 */

import type { StoreSnapshot } from "../scan/store_snapshot.ts";
import type { SidecarSummary } from "../store/sidecar_summary.ts";
import type { RunJournalSummary } from "./run_journal.ts";
import { pyTruthy } from "../store/sidecar_summary.ts";
import { continuationParents, hasContinuation } from "../store/continuation.ts";
import { pyFloat } from "./interrupted_marker.ts";
import { messageCountOf } from "../scan/store_facts.ts";
import { webuiRowFor } from "../state_db/profile_state_db.ts";
import { activeRunVerdict } from "../scan/run_journal_scan.ts";
import { plainText, shortText } from "../report/shown_value.ts";

/** The server's `_REPAIR_STALE_PENDING_GRACE_SECONDS`. */
export const STALE_PENDING_GRACE_SECONDS = 30;

/**
 * How old a pending turn is, in seconds, as the server's
 * `_repair_stale_pending` reckons it: a missing or falsy
 * `pending_started_at` (legacy sidecars) and one that is not a number count
 * as infinitely old.
 *
 * @example
 * ```ts
 * import { pendingAgeSeconds } from "./stream_state.ts";
 * pendingAgeSeconds(null, Date.now()); // Infinity
 * pendingAgeSeconds(Date.now() / 1000 - 5, Date.now()); // about 5
 * ```
 */
export function pendingAgeSeconds(startedAt: unknown, nowMs: number): number {
  if (!pyTruthy(startedAt)) return Infinity;
  // Python's float(): "nan" and "inf" read as numbers, a list raises.
  const started = pyFloat(startedAt);
  return started === null ? Infinity : nowMs / 1000 - started;
}

/**
 * Why today's server leaves a session's stream state alone for good
 * (`_repair_stale_pending`, since v0.51.66 and v0.51.154): it is an
 * archived compression parent (`pre_compression_snapshot`), or another
 * session names it as `parent_session_id` (its continuation owns the
 * turn). Null when neither holds.
 *
 * @example
 * ```ts
 * import { compressionParentReason } from "./stream_state.ts";
 * import type { StoreSnapshot } from "../scan/store_snapshot.ts";
 * declare const meta: Record<string, unknown>;
 * declare const store: StoreSnapshot;
 * compressionParentReason(meta, "abc", store); // "pre_compression_snapshot" | "continuation" | null
 * ```
 */
export function compressionParentReason(
  meta: Record<string, unknown>,
  sessionId: string,
  store: { sessionDir: string; scannedAt: number },
): "pre_compression_snapshot" | "continuation" | null {
  if (pyTruthy(meta.pre_compression_snapshot)) {
    return "pre_compression_snapshot";
  }
  const parents = continuationParents(store.sessionDir, store.scannedAt);
  return hasContinuation(parents, sessionId) ? "continuation" : null;
}

/**
 * True when a sidecar's metadata holds stream state a turn left behind:
 * both `active_stream_id` and `pending_user_message` set (Python truth, as
 * the server tests them).
 *
 * @example
 * ```ts
 * import { hasStreamState } from "./stream_state.ts";
 * hasStreamState({ active_stream_id: "s1", pending_user_message: "hi" }); // true
 * ```
 */
export function hasStreamState(meta: Record<string, unknown>): boolean {
  return pyTruthy(meta.active_stream_id) &&
    pyTruthy(meta.pending_user_message);
}

/**
 * The server's self-heal trigger: `active_stream_id` or
 * `pending_user_message` set (Python truth).
 *
 * @example
 * ```ts
 * import { hasUnfinishedTurn } from "./stream_state.ts";
 * import { summarizeSidecar } from "../store/sidecar_summary.ts";
 * hasUnfinishedTurn(summarizeSidecar({ messages: [], pending_user_message: "hi" })); // true
 * ```
 */
export function hasUnfinishedTurn(live: SidecarSummary): boolean {
  return pyTruthy(live.meta.active_stream_id) ||
    pyTruthy(live.meta.pending_user_message);
}

/**
 * True when today's server, loading this session in full, would heal its
 * sidecar from state.db: the turn is unfinished and state.db holds more
 * messages for it. Other checks leave such a sidecar to the server.
 *
 * @example
 * ```ts
 * import { serverHealsFromStateDb } from "./stream_state.ts";
 * import type { StoreSnapshot } from "../scan/store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * // the server's own repair comes first: the check leaves such a session alone
 * const leaveAlone = serverHealsFromStateDb(store, "abc");
 * ```
 */
export function serverHealsFromStateDb(
  store: StoreSnapshot,
  sessionId: string,
): boolean {
  const live = store.sessions.get(sessionId)?.live;
  if (!live?.read.ok || live.read.value.shape !== "object") return false;
  if (!hasUnfinishedTurn(live.read.value)) return false;
  // The session's own profile's state.db, as the server reads it.
  const found = webuiRowFor(store, sessionId);
  if (!found?.db.canCountMessages) return false;
  return found.row.messageCount > messageCountOf(live);
}

/**
 * The verdict on a session's active run when the run-journal checks
 * report it (checks/stale_stream_state.ts then leaves the session to
 * them), else null.
 *
 * @example
 * ```ts
 * import { claimedRun } from "./stream_state.ts";
 * import type { StoreSnapshot } from "../scan/store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * declare const meta: Record<string, unknown>;
 * // a claimed run is reported as run-journal output, not here
 * const claimed = claimedRun(store, "abc", meta) !== null;
 * ```
 */
export function claimedRun(
  store: StoreSnapshot,
  sessionId: string,
  meta: Record<string, unknown>,
): ReturnType<typeof activeRunVerdict> {
  if (!store.runJournals?.sessions.size || !hasStreamState(meta)) return null;
  // A compression parent: the server never closes its stream (since
  // v0.51.66), and stale-stream-state says so; its journal stays as it is.
  if (pyTruthy(meta.pre_compression_snapshot)) return null;
  // state.db ahead: the server heals the turn from it first, as
  // stale-stream-state says.
  if (serverHealsFromStateDb(store, sessionId)) return null;
  const verdict = activeRunVerdict(
    store.runJournals,
    sessionId,
    meta.active_stream_id,
  );
  // A parent another session continues (since v0.51.154): left to
  // stale-stream-state too, which reports it as the guard it is.
  if (verdict && compressionParentReason(meta, sessionId, store)) return null;
  return verdict;
}

/**
 * The output of a run, as evidence.
 *
 * @example
 * ```ts
 * import { outputEvidence } from "./stream_state.ts";
 * import type { RunJournalSummary } from "./run_journal.ts";
 * declare const summary: RunJournalSummary;
 * outputEvidence(summary); // { textChars: 120, toolCards: 2, ... }
 * ```
 */
export function outputEvidence(
  summary: RunJournalSummary,
): Record<string, number | string | null> {
  return {
    textChars: summary.textChars,
    reasoningChars: summary.reasoningChars,
    toolCards: summary.toolCards,
    events: summary.events,
    terminalState: summary.terminalState,
  };
}

/**
 * The output of a run, as words: "312 characters of text and 2 tool
 * cards".
 *
 * @example
 * ```ts
 * import { outputText } from "./stream_state.ts";
 * import type { RunJournalSummary } from "./run_journal.ts";
 * declare const summary: RunJournalSummary;
 * outputText(summary); // "5 characters of text and 1 tool card"
 * ```
 */
export function outputText(summary: RunJournalSummary): string {
  const parts: string[] = [];
  const count = (n: number, one: string, many: string) => {
    if (n > 0) parts.push(`${n} ${n === 1 ? one : many}`);
  };
  count(summary.textChars, "character of text", "characters of text");
  count(
    summary.reasoningChars,
    "character of reasoning",
    "characters of reasoning",
  );
  count(summary.toolCards, "tool card", "tool cards");
  if (parts.length === 0) return "no output";
  return parts.length === 1
    ? parts[0]
    : `${parts.slice(0, -1).join(", ")} and ${parts[parts.length - 1]}`;
}

/**
 * A session left streaming whose active run's journal says more than "no
 * output": what the run-journal checks report instead of
 * checks/stale_stream_state.ts.
 *
 * @example
 * ```ts
 * import { streamsWithRunJournal } from "./stream_state.ts";
 * import type { StoreSnapshot } from "../scan/store_snapshot.ts";
 * import type { CheckOptions } from "../plugins/check.ts";
 * declare const store: StoreSnapshot;
 * declare const options: CheckOptions;
 * for (const s of streamsWithRunJournal(store, options)) console.log(s.sessionId, s.verdict.kind);
 * ```
 */
export interface StreamWithRunJournal {
  /** The session. */
  sessionId: string;
  /** `<sid>.json`. */
  liveName: string;
  /** The run's verdict ({@linkcode activeRunVerdict}). */
  verdict: NonNullable<ReturnType<typeof activeRunVerdict>>;
  /**
   * Why nothing may be changed now, as a clause, or null when the stream
   * may be closed (`--server-stopped`, past the grace, no guard).
   */
  holdBack: string | null;
  /** Evidence both checks give. */
  evidence: Record<string, string | number | null | boolean>;
}

/**
 * The sessions left streaming (stale as checks/stale_stream_state.ts
 * decides, and not healed from state.db by the server first) whose active
 * run's journal completed, holds output, or cannot be read whole.
 *
 * @example
 * ```ts
 * import type { StoreSnapshot } from "../scan/store_snapshot.ts";
 * import type { CheckOptions } from "../plugins/check.ts";
 * declare const store: StoreSnapshot;
 * declare const options: CheckOptions;
 * const claimed = [...streamsWithRunJournal(store, options)].map((s) => s.sessionId);
 * ```
 */
export function* streamsWithRunJournal(
  store: StoreSnapshot,
  options: { now: number; serverStopped: boolean },
): Generator<StreamWithRunJournal> {
  if (!store.runJournals?.sessions.size) return;
  for (const session of store.sessions.values()) {
    const live = session.live;
    if (!live?.read.ok || live.read.value.shape !== "object") continue;
    const meta = live.read.value.meta;
    const verdict = claimedRun(store, session.sessionId, meta);
    if (!verdict) continue;
    const age = pendingAgeSeconds(meta.pending_started_at, options.now);
    const started = Number.isFinite(age)
      ? `${Math.round(age)} s ago`
      : "at an unknown time";
    let holdBack: string | null = null;
    if (!options.serverStopped) {
      holdBack = "a server may still be streaming it; if none is running, " +
        "repair it with `hermes-fsck repair --server-stopped`";
    } else if (age < STALE_PENDING_GRACE_SECONDS) {
      holdBack = `the turn began ${started}, within the ` +
        `${STALE_PENDING_GRACE_SECONDS} s grace; run repair again after it`;
    }
    const summary = "summary" in verdict ? verdict.summary : null;
    yield {
      sessionId: session.sessionId,
      liveName: live.name,
      verdict,
      holdBack,
      evidence: {
        liveMessages: messageCountOf(live),
        bakMessages: -1,
        activeStreamId: shortText(plainText(meta.active_stream_id)),
        runJournal: verdict.file.name,
        pendingAgeSeconds: Number.isFinite(age)
          ? Math.round(age * 10) / 10
          : null,
        ...(summary ? outputEvidence(summary) : {}),
      },
    };
  }
}
