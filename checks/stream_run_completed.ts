/**
 * A run that completed though the sidecar still shows it streaming: the
 * sidecar has `active_stream_id` and `pending_user_message` set, and that
 * stream's run journal ends with its own authoritative terminal event in
 * state `completed` (the server's `_run_journal_terminal_state`). The
 * server crashed after the run finished but before the sidecar was saved;
 * today's server (since v0.51.154) closes such a stream on load without
 * an error marker, adding the prompt and any journaled output the sidecar
 * lacks.
 *
 * @example
 * ```ts
 * import { streamRunCompleted } from "./stream_run_completed.ts";
 * import { runChecks } from "../core/plugins/pipeline.ts";
 * import type { StoreSnapshot } from "../core/scan/store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * const findings = await runChecks(store, [streamRunCompleted], { now: Date.now(), serverStopped: true });
 * ```
 * @module
 */

import { defineCheck } from "../core/plugins/check.ts";
import {
  outputText,
  streamsWithRunJournal,
} from "../core/journal/stream_state.ts";

/** The `stream-run-completed` check. */
export const streamRunCompleted = defineCheck({
  id: "stream-run-completed",
  title: "Completed runs a sidecar still shows streaming",
  description:
    "Reports sidecars left streaming whose run journal says the run " +
    "completed; repairable once --server-stopped says no server owns the " +
    "stream.",
  kinds: {
    stream_run_completed: {
      category: "repairable",
      severity: "warning",
      summary: "A run completed, but its sidecar still shows it streaming.",
      explain:
        "active_stream_id and pending_user_message are set, the turn began " +
        "more than 30 seconds ago, --server-stopped says no server owns " +
        "the stream, and the stream's run journal " +
        "(_run_journal/<sid>/<active_stream_id>.jsonl, since v0.51.71) " +
        "ends with the run's own authoritative terminal event (the last " +
        "terminal event that is not stream_end, its session_id, run_id " +
        "and event_id those of the run, terminal exactly true) in state " +
        "completed. The run finished; the server stopped before it saved " +
        "the sidecar. Today's server (since v0.51.154; the ownership test " +
        "since exp-v0.52.159) closes such a stream on load without an " +
        "error marker: it adds the prompt unless the last user message is " +
        "it, and the journaled output the sidecar lacks, and clears the " +
        "stream state. Repair: recover_stale_stream does the same. Older " +
        "servers closed it as a crashed turn, with a marker.",
    },
    stream_run_completed_unconfirmed: {
      category: "info",
      severity: "info",
      summary:
        "A run completed though its sidecar shows it streaming; a server may still be saving it.",
      explain: "As stream_run_completed, but hermes-fsck may not close the " +
        "stream now: --server-stopped was not given (a server that just " +
        "finished the run saves the sidecar a moment later), the turn " +
        "began less than 30 seconds ago. Nothing is changed, and nothing is lost: the journal keeps the run. A " +
        "server of v0.51.154 or later closes it on load; to have " +
        "hermes-fsck do it, stop the server and run `hermes-fsck repair " +
        "--server-stopped`. Run journals exist since v0.51.71.",
    },
  },
  create(context) {
    return {
      session({ store }) {
        for (const stream of streamsWithRunJournal(store, context.options)) {
          const { verdict, liveName } = stream;
          if (verdict.kind !== "completed") continue;
          const what = `${liveName} still shows stream ` +
            `${verdict.file.streamId} streaming, but its run journal ` +
            `${verdict.file.name} says the run completed (line ${verdict.summary.terminal?.line}, ${verdict.summary.terminal?.event}; ${
              outputText(verdict.summary)
            })`;
          context.report({
            sessionId: stream.sessionId,
            paths: [liveName, verdict.file.name],
            evidence: stream.evidence,
            ...(stream.holdBack
              ? {
                kind: "stream_run_completed_unconfirmed",
                message: `${what}; left alone: ${stream.holdBack}.`,
              }
              : {
                kind: "stream_run_completed",
                message: `${what}; the turn can be closed without an error ` +
                  `marker.`,
              }),
          });
        }
      },
    };
  },
});
