/**
 * Turn journal health, over every file of a session's journal (the legacy
 * `<sid>.jsonl` and the `<sid>~<pid>.jsonl` shards, merged as the server
 * reads them): lines the server skips (not JSON objects, events without a
 * turn id, events whose `created_at` is not a time), named by file and
 * line; turns with two terminal events (collisions), across files; and
 * journals of sessions that exist nowhere else. The turn-journal-pending
 * check owns pending turns.
 *
 * @example
 * ```ts
 * import { turnJournalHealth } from "./turn_journal_health.ts";
 * import { runChecks } from "../core/plugins/pipeline.ts";
 * import type { StoreSnapshot } from "../core/scan/store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * const findings = await runChecks(store, [turnJournalHealth], { now: Date.now(), serverStopped: false });
 * ```
 * @module
 */

import { defineCheck } from "../core/plugins/check.ts";
import { orphanState } from "../core/scan/store_facts.ts";
import type { JournalSummary } from "../core/journal/turn_journal.ts";
import { isValidSessionId } from "../core/store/session_id.ts";

/** The `turn-journal-health` check. */
export const turnJournalHealth = defineCheck({
  id: "turn-journal-health",
  title: "Turn journals are well-formed and belong to a session",
  description:
    "Reports damaged journal lines, turns that ended twice, and journals " +
    "of sessions with no sidecar, no backup and no state.db row.",
  kinds: {
    turn_journal_malformed_lines: {
      category: "info",
      severity: "info",
      summary: "A turn journal has lines the server skips.",
      explain:
        "Some lines of a turn journal file (_turn_journal/<sid>.jsonl, or " +
        "since v0.51.255 a shard _turn_journal/<sid>~<pid>.jsonl) are not " +
        "JSON objects (an append cut short by a crash leaves a torn last " +
        "line), have no turn_id, or have a created_at that is missing or " +
        "not a time (null, which the server writes for a turn without a " +
        "start time, is fine). The server skips the first two kinds and " +
        "sorts the third as time 0 (with two events in the turn, its own " +
        "audit fails on a non-numeric string); hermes-fsck reads the " +
        "journal the same way, cutting lines where Python's splitlines() " +
        "does, and never fails on it. The finding names the file and its " +
        "line numbers (one finding a file). Nothing is lost that the other " +
        "lines do not hold, and a journal is append-only history, so it is " +
        "not rewritten: this is info. Turns that were left pending are " +
        "reported separately (turn_journal_pending_turn). All versions.",
    },
    turn_journal_collision: {
      category: "info",
      severity: "info",
      summary: "A journal turn ended twice (two terminal events).",
      explain: "A turn_id has more than one completed/interrupted event. " +
        "Today's server writes interrupted from several places (a cancel, " +
        "an error, a restart's recovery), so two endings of one turn occur " +
        "in healthy stores; the server itself settles the turn by its " +
        "latest event and its own audit does not report it. The journal " +
        "loses nothing, and a turn ended either way is not pending, so this " +
        "is info, never a reason to keep the server down. If the session " +
        "shows the turn twice (a recovered prompt with a 'Previous turn did " +
        "not complete' marker beside the real answer), the evidence gives " +
        "the journal lines to find it; delete the duplicate while the " +
        "server is stopped. Since v0.51.255 a session's journal is its " +
        "legacy file and every <sid>~<pid>.jsonl shard, merged: the two " +
        "endings may be in different files, and the evidence names the " +
        "file of each line. All versions.",
    },
    turn_journal_orphan: {
      category: "info",
      severity: "info",
      summary: "A turn journal belongs to no session.",
      explain:
        "There is a journal for this id but no sidecar, no .bak and no " +
        "state.db row (when state.db is readable), so no session will ever " +
        "read it; the evidence says whether the id is in the delete " +
        "tombstone, in which case it is left over from a delete. It is info " +
        "because nothing reads it. Its prompts may be the only trace of the " +
        "session: read it before deleting it. If state.db cannot be read, " +
        "journals are not judged orphans. Since v0.51.255 the journal is " +
        "the legacy file and all <sid>~<pid>.jsonl shards, one finding " +
        "naming every file (servers before v0.51.326 left journals behind " +
        "on delete; old shards are never pruned). The server's journal " +
        "code accepts ids with '.', which no sidecar id may hold: such a " +
        "journal is always an orphan, and its id never becomes a path.",
    },
  },
  create: (context) => {
    return {
      session({ files: session, store }) {
        const journal = session.journal;
        if (!journal) return;
        const files = journal.files;
        const sessionId = session.sessionId;
        // Each file's damaged lines, named by file and line as the server
        // numbers them.
        for (const file of files) {
          if (!file.read.ok) continue;
          const damaged = damagedLines(file.read.value);
          if (!damaged) continue;
          context.report({
            kind: "turn_journal_malformed_lines",
            sessionId,
            paths: [file.name],
            message: `${file.name} has ${damaged.text}.`,
            evidence: damaged.evidence,
          });
        }
        const turns = [...(journal.turns?.values() ?? [])]
          .filter((t) => t.terminalEvents > 1)
          .sort((a, b) =>
            a.turnId < b.turnId ? -1 : a.turnId > b.turnId ? 1 : 0
          );
        for (const turn of turns) {
          const names = turn.terminalFiles.map((i) => files[i].name);
          const where = turn.terminalEventNames.map((event, i) =>
            `${event} on line ${turn.terminalLines[i]}` +
            (files.length > 1 ? ` of ${names[i]}` : "")
          );
          context.report({
            kind: "turn_journal_collision",
            sessionId,
            paths: [...new Set(names)],
            message: `Turn ${turn.turnId} of ${
              files.length > 1 ? `the journal of ${sessionId}` : files[0].name
            } ended ${turn.terminalEvents} times (${where.join(", ")}).`,
            evidence: {
              liveMessages: -1,
              bakMessages: -1,
              turnId: turn.turnId,
              terminalEvents: turn.terminalEventNames,
              lines: turn.terminalLines,
              files: names,
            },
            key: turn.turnId,
          });
        }
        const orphan = orphanState(store, session);
        if (orphan) {
          const what = files.length > 1
            ? `The journal of ${sessionId} (${files.length} files)`
            : files[0].name;
          const turnsText = journal.turns === null
            ? ""
            : ` has ${journal.turnCount} turns but`;
          context.report({
            kind: "turn_journal_orphan",
            sessionId,
            paths: files.map((f) => f.name),
            message: `${what}${turnsText} ` +
              (isValidSessionId(sessionId)
                ? `session ${sessionId} has no sidecar, no backup and ` +
                  `${orphan.stateDb}`
                : `no session can read it: its id ${sessionId} passes only ` +
                  `the journal rule (it holds '.'), never the sidecar rule, ` +
                  `and there is ${orphan.stateDb}`) +
              (orphan.tombstoned ? "; it was deleted." : "."),
            evidence: {
              turns: journal.turns === null ? -1 : journal.turnCount,
              files: files.length,
              tombstoned: orphan.tombstoned,
              stateDb: orphan.stateDb === "no state.db" ? "absent" : "no_row",
            },
          });
        }
      },
    };
  },
});

function damagedLines(
  summary: JournalSummary,
):
  | { text: string; evidence: Record<string, number[] | number | boolean> }
  | null {
  const parts: string[] = [];
  const add = (count: number, kept: number[], what: [string, string]) => {
    if (count === 0) return;
    const more = count > kept.length ? ", ..." : "";
    parts.push(
      `${count} ${what[count === 1 ? 0 : 1]} (line ${kept.join(", ")}${more})`,
    );
  };
  add(summary.malformedCount, summary.malformedLines, [
    "line that is not a JSON object",
    "lines that are not JSON objects",
  ]);
  add(summary.missingTurnIdCount, summary.missingTurnIdLines, [
    "event without a turn_id",
    "events without a turn_id",
  ]);
  add(summary.badCreatedAtCount, summary.badCreatedAtLines, [
    "event whose created_at is missing or not a time",
    "events whose created_at is missing or not a time",
  ]);
  if (parts.length === 0) return null;
  return {
    text: parts.join(", "),
    evidence: {
      malformedLines: summary.malformedLines,
      malformedCount: summary.malformedCount,
      missingTurnIdLines: summary.missingTurnIdLines,
      missingTurnIdCount: summary.missingTurnIdCount,
      badCreatedAtLines: summary.badCreatedAtLines,
      badCreatedAtCount: summary.badCreatedAtCount,
      endsWithoutNewline: summary.endsWithoutNewline,
    },
  };
}
