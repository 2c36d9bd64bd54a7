/**
 * Pending journal turns: a turn whose latest event is not terminal, whose
 * content is non-empty and is not the text of any user message in the
 * sidecar. The user's prompt exists only in the journal. The turn's state
 * is read across the legacy journal and every shard of the session, merged
 * as the server merges them (core/journal/turn_journal.ts). The journal cannot
 * tell a dead turn from one a server is streaming right now (the server
 * journals no progress while a reply streams), so only `--server-stopped`
 * makes such a turn repairable; without it the turn is info with a hint.
 *
 * @example
 * ```ts
 * import { turnJournalPending } from "./turn_journal_pending.ts";
 * import { runChecks } from "../core/plugins/pipeline.ts";
 * import type { StoreSnapshot } from "../core/scan/store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * const findings = await runChecks(store, [turnJournalPending], { now: Date.now(), serverStopped: false });
 * ```
 * @module
 */

import { defineCheck } from "../core/plugins/check.ts";
import { messageCountOf } from "../core/scan/store_facts.ts";
import { isTerminalEvent } from "../core/journal/turn_journal.ts";
import { isValidSessionId } from "../core/store/session_id.ts";
import { pyStrip } from "../core/store/sidecar_summary.ts";
import { eventText } from "../core/journal/turn_journal.ts";
import { plainText, shortText } from "../core/report/shown_value.ts";

/** The `turn-journal-pending` check. */
export const turnJournalPending = defineCheck({
  id: "turn-journal-pending",
  title: "Submitted turns missing from the sidecar",
  description:
    "Reads each turn journal and reports turns that never finished and " +
    "whose user message is not in the session.",
  kinds: {
    turn_journal_pending_turn: {
      category: "repairable",
      severity: "error",
      webuiRecommendation: "audit_only_pending_turn_journal",
      summary: "A submitted user turn is only in the turn journal.",
      explain:
        "The journal records that the user submitted this message, the turn " +
        "never completed or was interrupted, and the sidecar has no user " +
        "message with that text: the server stopped before saving it. " +
        "Repair: recover_pending_turn appends the user message as the " +
        "server recovers the prompt of a dead stream (marked _recovered, " +
        "with its attachments and int() of its start time; also to " +
        "context_messages, filled first from the visible messages when " +
        "empty, so the model's next turn sees it), the output the turn's " +
        "run left in _run_journal/<sid>/<stream_id>.jsonl if any " +
        "(_recovered_from_run_journal rows and tool cards), and today's " +
        'marker ("**Response interrupted.**...", _error, type ' +
        '"interrupted", interruption_cause "process_restart"); a sidecar ' +
        "only the seed-era server (G0) wrote gets its marker " +
        '"**Previous turn did not complete.**" instead. Then it appends an ' +
        "`interrupted` event for the turn to the journal so a second run " +
        "finds nothing. It never invents an assistant answer. " +
        "Reported so only with --server-stopped: a turn the server is " +
        "streaming looks the same in the journal until it ends. The turn's " +
        "state is read as the server reads it: since v0.51.255 from the " +
        "legacy _turn_journal/<sid>.jsonl and every <sid>~<pid>.jsonl shard " +
        "merged, ordered by created_at (its submit may be in one shard and " +
        "its end in another); the evidence names the file and line of the " +
        "event that decides it. The closing event goes to the legacy file " +
        "when there is one, else to the last shard the server reads, and is " +
        "stamped after every event of the turn, so the server's merged view " +
        "then ends the turn. A turn of a journal whose id passes only the " +
        "journal rule (with '.') or whose sidecar is missing has nothing to " +
        "go into: it is reported, never repaired.",
    },
    turn_journal_pending_unconfirmed: {
      category: "info",
      severity: "warning",
      summary:
        "A submitted turn never finished in the journal, but a server may still be streaming it.",
      explain:
        "The journal's latest event for this turn is not terminal and the " +
        "sidecar has no user message with its text. That is how every turn " +
        "looks while a Hermes WebUI server is answering it (the journal " +
        "stays at `submitted` or `worker_started` until the reply ends), and " +
        "how a turn looks whose server died; hermes-fsck cannot tell which, " +
        "so it changes nothing. The server itself never recovers such a " +
        "turn. If no server is running, run `hermes-fsck repair " +
        "--server-stopped`: recover_pending_turn then appends the user " +
        "message and an error marker to the sidecar and closes the turn in " +
        "the journal.",
    },
  },
  create: (context) => {
    const options = context.options;
    return {
      session({ files: session }) {
        const journal = session.journal;
        // A journal file that could not be read may hold the turn's end:
        // no turn is judged (unreadable_file names the file).
        if (!journal?.turns) return;
        const live = session.live;
        const texts = live?.read.ok ? live.read.value.userTexts : undefined;
        const turns = [...journal.turns.values()]
          .sort((
            a,
            b,
          ) => (a.turnId < b.turnId ? -1 : a.turnId > b.turnId ? 1 : 0));
        // Only an id that passes the sidecar rule is written into a path.
        const sidecar = isValidSessionId(session.sessionId)
          ? `${session.sessionId}.json`
          : null;
        for (const turn of turns) {
          if (isTerminalEvent(turn.latest)) continue;
          const content = pyStrip(eventText(turn.latest.content));
          if (!content || texts?.has(content)) continue;
          const event = shortText(plainText(turn.latest.event ?? ""));
          const file = journal.files[turn.latestFile].name;
          const where = `Turn ${turn.turnId} of ${session.sessionId} ` +
            `stopped at "${event}" (line ${turn.latestLine} of ${file}) and ` +
            (sidecar
              ? `its user message is not in ${sidecar}`
              : `its session can have no sidecar (the id holds '.')`);
          context.report({
            kind: options.serverStopped
              ? "turn_journal_pending_turn"
              : "turn_journal_pending_unconfirmed",
            sessionId: session.sessionId,
            paths: sidecar ? [file, sidecar] : [file],
            message: options.serverStopped
              ? `${where}.`
              : `${where}; a server ` +
                "may still be streaming it. If no server is running, repair it " +
                "with `hermes-fsck repair --server-stopped`.",
            evidence: {
              liveMessages: messageCountOf(live),
              bakMessages: -1,
              turnId: turn.turnId,
              event,
              line: turn.latestLine,
              file,
            },
            key: turn.turnId,
          });
        }
      },
    };
  },
});
