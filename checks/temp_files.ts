/**
 * Temp files of atomic writes (every temp name of STORE_FORMAT.md §1, and
 * hermes-fsck's own): young ones are left alone, stale ones that hold
 * nothing the store lacks are removed into quarantine, an interrupted
 * newest save is promoted, and a stale one holding messages nothing else
 * has is kept for review. The verdict is `judgeTemp`'s.
 *
 * @example
 * ```ts
 * import { tempFiles } from "./temp_files.ts";
 * import { runChecks } from "../core/plugins/pipeline.ts";
 * import type { StoreSnapshot } from "../core/scan/store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * const findings = await runChecks(store, [tempFiles], { now: Date.now(), serverStopped: false });
 * ```
 * @module
 */

import { defineCheck } from "../core/plugins/check.ts";
import type { FindingDraft } from "../core/report/finding.ts";
import type { TempFile } from "../core/scan/snapshot.ts";
import {
  judgeTemp,
  ORIGIN_NAMES,
  type TempFacts,
  tempFactsOf,
  type TempVerdict,
} from "../core/store/temp_verdict.ts";

/** The `temp-files` check. */
export const tempFiles = defineCheck({
  id: "temp-files",
  title: "Temp files left by interrupted writes",
  description:
    "Reports temp files of sidecar, backup, index and recovery writes: " +
    "young ones, stale ones to remove, interrupted saves to promote, and " +
    "stale ones that hold messages nothing else has.",
  kinds: {
    young_temp: {
      category: "info",
      severity: "info",
      summary: "A temp file less than an hour old; left alone.",
      explain:
        "The server saves a sidecar, backup or index by writing a temp " +
        "(<sid>.tmp.<pid>.<tid> and the other temp names of the store " +
        "format) and renaming it into place a moment later. A temp younger " +
        "than an hour may be a save of a running server still in progress; " +
        "touching it could break that save, so hermes-fsck leaves it alone, " +
        "as the server's own cleanup does (it removes only temps older " +
        "than an hour). Nothing is wrong yet. Run again later, or with " +
        "--server-stopped when no server is running: then no save can be " +
        "in progress, and the temp is judged as a stale one.",
    },
    stale_temp: {
      category: "repairable",
      severity: "warning",
      summary: "A stale temp file that holds nothing the store lacks.",
      explain:
        "A temp older than an hour (or of any age with --server-stopped) " +
        "was left by a write whose process died before renaming it into " +
        "place. It holds nothing the store lacks: it does not parse as its " +
        "session (a torn write), or has no more messages than the live " +
        "file (or than the .bak, or the live file records an intentional " +
        "shrink), or is a temp of the index or of hermes-fsck, both " +
        "derived. The server deletes such files itself when it starts. " +
        "Repair: remove_stale_temp first judges the file again as it is " +
        "then, and moves it into the run's quarantine " +
        "(_hermes_fsck/runs/<run>/files/), so `hermes-fsck undo RUN_ID` " +
        "brings it back.",
    },
    interrupted_save: {
      category: "repairable",
      severity: "error",
      summary:
        "A stale save temp is the newest save of its session: it was never renamed into place.",
      explain: "A <sid>.tmp.<pid>.<tid> older than an hour (of any age with " +
        "--server-stopped) parses, names its own session and " +
        "holds more messages than <sid>.json (or <sid>.json is missing or " +
        "does not parse), and it is not older than the live file (by " +
        "updated_at, else by mtime): the server wrote its newest save and " +
        "died before the rename. Deleting it, as the server's cleanup of " +
        "old temps would, loses those messages. Promoting it is safe: it is " +
        "only done when the session is not deleted (the tombstone does not " +
        "list it and, with the live file missing, state.db still has it), " +
        "no intentional-shrink guard says the live file shrank on purpose, " +
        "and the live file is kept. Repair: promote_temp judges the files " +
        "again, writes the temp's bytes as <sid>.json (atomically; the old " +
        "live file goes to the run's quarantine), moves the temp into " +
        "quarantine, and the index is rebuilt.",
    },
    stale_temp_needs_review: {
      category: "unsafe_to_repair",
      severity: "error",
      summary:
        "A stale temp holds messages nothing else has, and cannot be promoted safely.",
      explain:
        "The temp holds more messages than the live file and its .bak, but " +
        "promoting it could resurrect or roll back data: the live file was " +
        "saved after it (its extra messages may have been removed on " +
        "purpose), the session was deleted (tombstone, or state.db lost " +
        "the row while the live file is missing), the tombstone cannot be " +
        "read, the live file cannot be read, or it is a backup or recovery " +
        "temp, which is never promoted. Removing it could lose the only " +
        "copy of those messages, so hermes-fsck leaves it in place " +
        "(unsafe_to_repair). Review it before the server starts, since the " +
        "server's startup cleanup deletes temps older than an hour: compare " +
        "it with <sid>.json (the evidence gives both message counts and the " +
        "reason); if it is the conversation to keep, rename it to " +
        "<sid>.json with the server stopped, else delete it. Also reported " +
        "here: a temp that is not a regular file or cannot be read.",
      resolutions: [
        {
          keep: "temp",
          meaning:
            "Make the temp <sid>.json; the live file and the temp go to the run's quarantine (a deleted session needs --undelete).",
        },
        {
          keep: "discard",
          meaning:
            "Move the temp into the run's quarantine; <sid>.json, if any, stays as it is.",
        },
      ],
    },
  },
  create: (context) => ({
    temp({ temp, store }) {
      const facts = tempFactsOf(store, temp);
      if (!facts) return;
      context.report(draftOf(temp, facts, judgeTemp(facts, context.options)));
    },
  }),
});

function draftOf(
  temp: TempFile,
  facts: TempFacts,
  verdict: TempVerdict,
): FindingDraft {
  const live = facts.sessionId ? `${facts.sessionId}.json` : "";
  const liveMessages = facts.live.state === "parsed"
    ? facts.live.summary.messageCount
    : -1;
  const draft: FindingDraft = {
    kind: verdict.kind,
    paths: verdict.kind === "interrupted_save"
      ? [temp.name, live]
      : [temp.name],
    message: "",
    evidence: {
      liveMessages,
      bakMessages: facts.bakMessages,
      tempMessages: verdict.tempMessages,
      origin: facts.origin,
      ageSeconds: Math.round(verdict.ageMs / 1000),
      ...(verdict.reason ? { reason: verdict.reason } : {}),
      ...(verdict.guard ? { guard: verdict.guard } : {}),
    },
  };
  if (facts.sessionId) draft.sessionId = facts.sessionId;
  draft.message = `${temp.name} (${ORIGIN_NAMES[facts.origin]} temp, ${
    formatAge(verdict.ageMs)
  } old) ${describe(facts, verdict)}.`;
  return draft;
}

/** What the temp holds and what becomes of it, as a phrase. */
function describe(facts: TempFacts, verdict: TempVerdict): string {
  const id = facts.sessionId;
  const count = (n: number) => `${n} message${n === 1 ? "" : "s"}`;
  const live = facts.live.state === "parsed"
    ? `${id}.json (${count(facts.live.summary.messageCount)})`
    : `${id}.json (${facts.live.state})`;
  const bak = facts.bakMessages < 0
    ? `${id}.json.bak (missing or unusable)`
    : `${id}.json.bak (${count(facts.bakMessages)})`;
  const held = `holds ${count(verdict.tempMessages)}`;
  switch (verdict.kind) {
    case "young_temp":
      return "may be a save in progress; left alone";
    case "interrupted_save":
      return `is the newest save of ${id}, never renamed into place: it ${held}, against ${live}`;
    case "stale_temp_needs_review":
      return verdict.tempMessages < 0
        ? `is kept: ${verdict.reason}`
        : `${held}, more than ${live} and ${bak}, but ${verdict.reason}`;
    case "stale_temp":
      if (verdict.tempMessages < 0) {
        return facts.content
          ? "holds no complete session of its own"
          : "is left over from a write that never finished";
      }
      if (verdict.guard) {
        return `${held}, more than ${live}, which was shrunk on purpose (${
          verdict.guard.replaceAll("_", " ")
        } guard)`;
      }
      return verdict.tempMessages <=
          (facts.live.state === "parsed" ? facts.live.summary.messageCount : -1)
        ? `${held}, no more than ${live}`
        : `${held}, no more than ${bak}`;
  }
}

/** "12 minutes", "3 hours", "2 days"; "0 minutes" for a future mtime. */
function formatAge(ms: number): string {
  const minutes = Math.max(0, Math.floor(ms / 60_000));
  if (minutes < 120) return `${minutes} minute${minutes === 1 ? "" : "s"}`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} hours`;
  return `${Math.floor(hours / 24)} days`;
}
