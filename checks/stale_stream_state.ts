/**
 * Stale stream state: a sidecar whose `active_stream_id` and
 * `pending_user_message` are both set, the state a turn leaves behind when
 * the server stops in the middle of it. Only the operator can say that no
 * server still owns the stream (`--server-stopped`), and a turn younger than
 * the server's own 30-second grace may just be finishing, so only an old
 * stream state with the server stopped is repairable.
 *
 * @example
 * ```ts
 * import { staleStreamState } from "./stale_stream_state.ts";
 * const drafts = await staleStreamState.run(store, { now: Date.now(), serverStopped: true });
 * ```
 * @module
 */

import { defineCheck } from "../core/check.ts";
import { pyTruthy } from "../core/compact_entry.ts";
import type { FindingDraft } from "../core/finding.ts";
import { toTimestamp } from "../core/sidecar_summary.ts";
import { messageCountOf } from "../core/store_facts.ts";
import { plainText, shortText } from "./shown_value.ts";
import { serverHealsFromStateDb } from "./state_db_sidecar_drift.ts";
import { claimedRun } from "./stale_stream_output.ts";

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
 * pendingAgeSeconds(null, Date.now()); // Infinity
 * pendingAgeSeconds(Date.now() / 1000 - 5, Date.now()); // about 5
 * ```
 */
export function pendingAgeSeconds(startedAt: unknown, nowMs: number): number {
  if (!pyTruthy(startedAt)) return Infinity;
  const started = toTimestamp(startedAt);
  return started === null ? Infinity : nowMs / 1000 - started;
}

/**
 * True when a sidecar's metadata holds stream state a turn left behind:
 * both `active_stream_id` and `pending_user_message` set (Python truth, as
 * the server tests them).
 *
 * @example
 * ```ts
 * hasStreamState({ active_stream_id: "s1", pending_user_message: "hi" }); // true
 * ```
 */
export function hasStreamState(meta: Record<string, unknown>): boolean {
  return pyTruthy(meta.active_stream_id) &&
    pyTruthy(meta.pending_user_message);
}

/** The `stale-stream-state` check. */
export const staleStreamState = defineCheck({
  id: "stale-stream-state",
  title: "Turns a stopped server left streaming",
  description:
    "Reports sidecars with active_stream_id and pending_user_message set; " +
    "repairable once --server-stopped says no server owns the stream.",
  partwise: true,
  kinds: [
    {
      kind: "stale_stream_state",
      category: "repairable",
      severity: "warning",
      repair: "recover_stale_stream",
      summary:
        "A turn was cut off mid-stream: its prompt is only in pending_user_message.",
      explain:
        "The sidecar still says a reply is streaming (active_stream_id) for " +
        "a prompt that only pending_user_message holds, the turn began more " +
        "than 30 seconds ago, and --server-stopped says no server owns the " +
        "stream, so the turn is dead and the prompt would be lost on the " +
        "next save that clears it. Repair: recover_stale_stream does what " +
        "the server's _repair_stale_pending does on load: it appends the " +
        "pending prompt as a user message (_recovered, with its attachments " +
        "and original time) unless the last message already is that prompt, " +
        'adds the assistant marker "**Previous turn did not complete.**" ' +
        "(_error), and clears active_stream_id and the pending_* fields. If " +
        "messages is empty and the agent's core transcript " +
        "($HERMES_HOME/sessions/session_<sid>.json, read-only) has messages, " +
        "it takes those (and tool_calls and token counts) instead, with no " +
        "marker when the transcript holds the prompt (the agent finished " +
        "the turn); unlike the server, it still appends the prompt and the " +
        "marker when the transcript lacks the prompt, so the prompt is never " +
        "dropped. Every other byte of the sidecar is kept; the old file goes " +
        "to the run's quarantine. It never invents an assistant answer.",
    },
    {
      kind: "stream_state_unconfirmed",
      category: "info",
      severity: "warning",
      summary:
        "A turn looks cut off mid-stream, but a server may still be streaming it.",
      explain:
        "active_stream_id and pending_user_message are set. That is normal " +
        "while a Hermes WebUI server is answering, and the sign of a dead " +
        "turn when none runs; hermes-fsck cannot tell which, so it changes " +
        "nothing. It is info, not a problem left, on purpose: an init " +
        "script that runs hermes-fsck before the server starts gets an exit " +
        "code below 4 and starts the server, whose own recovery " +
        "(_repair_stale_pending) finishes such a turn when the session is " +
        "first loaded, and an audit of a running server does not report " +
        "every reply in flight as damage. To have hermes-fsck recover it " +
        "now, stop the server and run `hermes-fsck repair --server-stopped`.",
    },
    {
      kind: "stream_state_in_grace",
      category: "info",
      severity: "info",
      summary: "A turn began less than 30 seconds ago; it may still finish.",
      explain:
        "pending_started_at is less than 30 seconds old (or in the future). " +
        "The server gives a turn that long to persist its reply before it " +
        "treats the turn as crashed, because a fast turn can end just " +
        "before its pending state is cleared on disk; hermes-fsck keeps the " +
        "same grace even with --server-stopped, so it never adds a spurious " +
        '"Previous turn did not complete." marker. Run repair again after ' +
        "the grace has passed if the server is stopped.",
    },
  ],
  run(store, options) {
    const drafts: FindingDraft[] = [];
    for (const session of store.sessions.values()) {
      const live = session.live;
      if (!live?.read.ok || live.read.value.shape !== "object") continue;
      const meta = live.read.value.meta;
      if (!hasStreamState(meta)) continue;
      // state.db is ahead: the server heals the turn from it on load
      // (sidecar_behind_state_db_self_heals); clearing the stream state
      // first would stop it from taking the agent's answer back.
      if (serverHealsFromStateDb(store, session.sessionId)) continue;
      // The stream's run journal completed or holds output: the run-journal
      // checks report it (checks/stale_stream_output.ts).
      if (claimedRun(store, session.sessionId, meta)) continue;
      const age = pendingAgeSeconds(meta.pending_started_at, options.now);
      const evidence = {
        liveMessages: messageCountOf(live),
        bakMessages: -1,
        activeStreamId: shortText(plainText(meta.active_stream_id)),
        // JSON has no Infinity: an unknown start is null.
        pendingAgeSeconds: Number.isFinite(age)
          ? Math.round(age * 10) / 10
          : null,
      };
      const base = {
        sessionId: session.sessionId,
        paths: [live.name],
        evidence,
      };
      const started = Number.isFinite(age)
        ? `${Math.round(age)} s ago`
        : "at an unknown time";
      if (!options.serverStopped) {
        drafts.push({
          ...base,
          kind: "stream_state_unconfirmed",
          message: `${live.name} is streaming a turn that began ${started}; ` +
            "if no server is running, repair it with " +
            "`hermes-fsck repair --server-stopped`.",
        });
      } else if (age < STALE_PENDING_GRACE_SECONDS) {
        drafts.push({
          ...base,
          kind: "stream_state_in_grace",
          message: `${live.name} is streaming a turn that began ${started}, ` +
            `within the ${STALE_PENDING_GRACE_SECONDS} s grace; left alone.`,
        });
      } else {
        drafts.push({
          ...base,
          kind: "stale_stream_state",
          message: `${live.name} was left streaming a turn that began ` +
            `${started}; its prompt is only in pending_user_message.`,
        });
      }
    }
    return drafts;
  },
});
