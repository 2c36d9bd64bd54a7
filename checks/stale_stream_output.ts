/**
 * A dead stream whose run journal holds output the sidecar lacks: the
 * sidecar is left streaming (`active_stream_id` and `pending_user_message`
 * set, as checks/stale_stream_state.ts decides) and
 * `_run_journal/<sid>/<active_stream_id>.jsonl` holds text, reasoning or
 * tool cards a user saw before the server stopped. Today's server
 * recovers that output into the sidecar when it closes the stream (since
 * v0.51.81); the stream id is the only link from the sidecar to the file,
 * so closing the stream without the output loses it for good. A run that
 * completed is checks/stream_run_completed.ts's.
 *
 * @example
 * ```ts
 * import { staleStreamOutput } from "./stale_stream_output.ts";
 * import { runChecks } from "../core/plugins/pipeline.ts";
 * import type { StoreSnapshot } from "../core/scan/store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * const findings = await runChecks(store, [staleStreamOutput], { now: Date.now(), serverStopped: true });
 * ```
 * @module
 */

import { defineCheck } from "../core/plugins/check.ts";
import { readCut } from "../core/scan/run_journal_scan.ts";
import {
  outputText,
  streamsWithRunJournal,
} from "../core/journal/stream_state.ts";

/** The `stale-stream-output` check. */
export const staleStreamOutput = defineCheck({
  id: "stale-stream-output",
  title: "Dead streams whose run journal holds output",
  description: "Reports sidecars left streaming whose run journal " +
    "(_run_journal/<sid>/<active_stream_id>.jsonl) holds output the " +
    "sidecar lacks; repairable once --server-stopped says no server owns " +
    "the stream.",
  kinds: {
    stale_stream_unrecovered_output: {
      category: "repairable",
      severity: "warning",
      summary: "A dead stream's run journal holds output the sidecar lacks.",
      explain:
        "The sidecar still says a reply is streaming (active_stream_id and " +
        "pending_user_message set), the turn began more than 30 seconds " +
        "ago, --server-stopped says no server owns it, and the run " +
        "journal of that stream (_run_journal/<sid>/<active_stream_id>.jsonl, " +
        "written since v0.51.71) holds output the user saw before the " +
        "server stopped: text (token, interim_assistant), display-only " +
        "reasoning, or tool cards, and no completed terminal event. " +
        "Today's server (since v0.51.81) recovers that output into the " +
        "sidecar when it closes the stream on load; the stream id is the " +
        "only link from the sidecar to the file, so closing the stream " +
        "without recovering it (as hermes-fsck did before) loses it for " +
        "good. Repair: recover_stale_stream closes the turn as today's " +
        "server does, recovering the journal's output (tagged " +
        "_recovered_from_run_journal and _recovered_stream_id) before the " +
        "interruption marker. A compression parent " +
        "(pre_compression_snapshot, or a session another one names as its " +
        "parent_session_id) is left to stale-stream-state " +
        "(stream_state_compression_parent): the server never closes its " +
        "stream. Stores before v0.51.71 have no " +
        "run journal " +
        "and never get this finding.",
    },
    stream_output_unconfirmed: {
      category: "info",
      severity: "warning",
      summary:
        "A stream's run journal holds output, but the stream may not be dead.",
      explain:
        "As stale_stream_unrecovered_output, but hermes-fsck may not close " +
        "the stream now: --server-stopped was not given (a server may " +
        "still be answering), the turn began less than 30 seconds ago (the " +
        "server's grace). Nothing is changed. A running server of v0.51.81 or " +
        "later recovers the output itself when it first loads the " +
        "session; to have hermes-fsck do it, stop the server and run " +
        "`hermes-fsck repair --server-stopped` (after the grace). The " +
        "message says which applies. Run journals exist since v0.51.71.",
    },
    stream_run_journal_unread: {
      category: "info",
      severity: "warning",
      summary:
        "A dead stream's run journal could not be read whole; the stream is left alone.",
      explain:
        "The sidecar is left streaming and its stream has a run journal " +
        "(_run_journal/<sid>/<active_stream_id>.jsonl, since v0.51.71), " +
        "but hermes-fsck could not read it (permission denied, an I/O " +
        "error), or a bound cut the read (a line or the file longer than " +
        "--max-file-size) before any output was found. Whether the run " +
        "left output is unknown, so the stream state is not closed: that " +
        "could lose output for good. The message says why; make the file " +
        "readable or raise --max-file-size, and run hermes-fsck again, or " +
        "start a server of v0.51.81 or later, which recovers it on load.",
    },
  },
  create(context) {
    return {
      session({ store }) {
        for (const stream of streamsWithRunJournal(store, context.options)) {
          const { verdict, liveName } = stream;
          const base = {
            sessionId: stream.sessionId,
            paths: [liveName, verdict.file.name],
            evidence: stream.evidence,
          };
          if (verdict.kind === "unknown") {
            context.report({
              ...base,
              kind: "stream_run_journal_unread",
              message: `${liveName} is left streaming, and its run journal ` +
                `${verdict.file.name} ${verdict.why}; the stream state is left ` +
                `alone.`,
            });
            continue;
          }
          if (verdict.kind !== "output") continue;
          const what = `${liveName} is left streaming, and its run journal ` +
            `${verdict.file.name} holds ${
              outputText(verdict.summary)
            } the sidecar lacks`;
          const cut = readCut(verdict.summary);
          const cutText = cut ? ` (the journal ${cut})` : "";
          context.report(
            stream.holdBack
              ? {
                ...base,
                kind: "stream_output_unconfirmed",
                message: `${what}${cutText}; left alone: ${stream.holdBack}.`,
              }
              : {
                ...base,
                kind: "stale_stream_unrecovered_output",
                message: `${what}${cutText}; the turn is dead.`,
              },
          );
        }
      },
    };
  },
});
