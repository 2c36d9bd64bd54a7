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
 * import { runChecks } from "../core/plugins/pipeline.ts";
 * import type { StoreSnapshot } from "../core/scan/store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * const findings = await runChecks(store, [staleStreamState], { now: Date.now(), serverStopped: true });
 * ```
 * @module
 */

import { defineCheck } from "../core/plugins/check.ts";
import { messageCountOf } from "../core/scan/store_facts.ts";
import { plainText, shortText } from "../core/report/shown_value.ts";
import {
  claimedRun,
  compressionParentReason,
  hasStreamState,
  pendingAgeSeconds,
  serverHealsFromStateDb,
  STALE_PENDING_GRACE_SECONDS,
} from "../core/journal/stream_state.ts";

/** The `stale-stream-state` check. */
export const staleStreamState = defineCheck({
  id: "stale-stream-state",
  title: "Turns a stopped server left streaming",
  description:
    "Reports sidecars with active_stream_id and pending_user_message set; " +
    "repairable once --server-stopped says no server owns the stream.",
  kinds: {
    stale_stream_state: {
      category: "repairable",
      severity: "warning",
      summary:
        "A turn was cut off mid-stream: its prompt is only in pending_user_message.",
      explain:
        "The sidecar still says a reply is streaming (active_stream_id) for " +
        "a prompt that only pending_user_message holds, the turn began more " +
        "than 30 seconds ago, and --server-stopped says no server owns the " +
        "stream, so the turn is dead and the prompt would be lost on the " +
        "next save that clears it. Repair: recover_stale_stream closes the " +
        "turn as the sidecar's own server does on load " +
        "(_repair_stale_pending). Today's (every sidecar a server after " +
        "the seed wrote, G1 to G4): the pending prompt becomes a _recovered " +
        "user row (int() of its start time, its attachments, _source when " +
        "not webui) unless the last message already is it, and is added " +
        "to context_messages too (filled first from the visible messages " +
        "when empty, without _error rows and reasoning); the run journal " +
        "_run_journal/<sid>/<active_stream_id>.jsonl, when it has output, " +
        "gives _recovered_from_run_journal rows and tool cards; then the " +
        'marker {_error, type: "interrupted", interruption_cause: ' +
        '"process_restart"} whose text starts "**Response interrupted.**" ' +
        "and says the partial output was recovered, or, when none was, is " +
        "armed for the server's lazy retry of the journal " +
        "(_pending_journal_recovery, _journal_retry_stream_id), so the " +
        "stream id, the only link to the journal, is never dropped while " +
        "the journal could still yield output. A positive " +
        "truncation_watermark moves to the prompt's time; message_count " +
        "and updated_at follow. An empty session takes the agent's core " +
        "transcript ($HERMES_HOME/sessions/session_<sid>.json, read-only) " +
        "when it has messages; unlike the server, the prompt and a marker " +
        "are still appended when that transcript lacks the prompt, so the " +
        "prompt is never dropped. A sidecar only the seed-era server (G0, " +
        "no key newer than it, an id of [0-9a-z_]) gets that server's " +
        'marker "**Previous turn did not complete.**" (_error) and no ' +
        "context_messages change. The stream state is cleared; every other " +
        "byte of the sidecar is kept; the old file goes to the run's " +
        "quarantine, so undo puts it back. It never invents an assistant " +
        "answer. Sessions whose run journal completed or holds output are " +
        "reported by the run-journal checks instead.",
    },
    stream_state_unconfirmed: {
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
    stream_state_compression_parent: {
      category: "info",
      severity: "info",
      summary:
        "A compression parent keeps the stream state its continuation took over.",
      explain:
        "active_stream_id and pending_user_message are set, but the session " +
        "is the archived parent of a context compression or a fork: it has " +
        "pre_compression_snapshot set, or another session names it as its " +
        "parent_session_id (in _index.json, or in the first 4096 " +
        "characters of its sidecar). The turn moved to that continuation, " +
        "so today's server (since v0.51.66 for the flag, v0.51.154 for " +
        "continuations) never closes it and never adds an interruption " +
        "marker; hermes-fsck leaves it alone too, with or without " +
        "--server-stopped. Nothing to do. Older servers (G0, before " +
        "v0.51.66) had no such guard.",
    },
    stream_state_in_grace: {
      category: "info",
      severity: "info",
      summary: "A turn began less than 30 seconds ago; it may still finish.",
      explain:
        "pending_started_at is less than 30 seconds old (or in the future). " +
        "The server gives a turn that long to persist its reply before it " +
        "treats the turn as crashed, because a fast turn can end just " +
        "before its pending state is cleared on disk; hermes-fsck keeps the " +
        "same grace even with --server-stopped, so it never adds a spurious " +
        '"Response interrupted." marker. Run repair again after ' +
        "the grace has passed if the server is stopped.",
    },
  },
  create: (context) => {
    const options = context.options;
    return {
      session({ files: session, store }) {
        const live = session.live;
        if (!live?.read.ok || live.read.value.shape !== "object") return;
        const meta = live.read.value.meta;
        if (!hasStreamState(meta)) return;
        // state.db is ahead: the server heals the turn from it on load
        // (sidecar_behind_state_db_self_heals); clearing the stream state
        // first would stop it from taking the agent's answer back.
        if (serverHealsFromStateDb(store, session.sessionId)) return;
        // The stream's run journal completed or holds output: the run-journal
        // checks report it (checks/stale_stream_output.ts).
        if (claimedRun(store, session.sessionId, meta)) return;
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
        const parent = compressionParentReason(
          meta,
          session.sessionId,
          store,
        );
        if (parent) {
          context.report({
            ...base,
            evidence: { ...evidence, reason: parent },
            kind: "stream_state_compression_parent",
            message: `${live.name} keeps the stream state of a turn that ` +
              `began ${started}, but ${
                parent === "continuation"
                  ? "another session continues it (parent_session_id)"
                  : "it is a pre-compression snapshot"
              }; left alone, as the server leaves it.`,
          });
        } else if (!options.serverStopped) {
          context.report({
            ...base,
            kind: "stream_state_unconfirmed",
            message:
              `${live.name} is streaming a turn that began ${started}; ` +
              "if no server is running, repair it with " +
              "`hermes-fsck repair --server-stopped`.",
          });
        } else if (age < STALE_PENDING_GRACE_SECONDS) {
          context.report({
            ...base,
            kind: "stream_state_in_grace",
            message:
              `${live.name} is streaming a turn that began ${started}, ` +
              `within the ${STALE_PENDING_GRACE_SECONDS} s grace; left alone.`,
          });
        } else {
          context.report({
            ...base,
            kind: "stale_stream_state",
            message: `${live.name} was left streaming a turn that began ` +
              `${started}; its prompt is only in pending_user_message.`,
          });
        }
      },
    };
  },
});
