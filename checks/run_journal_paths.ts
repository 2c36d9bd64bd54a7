/**
 * Run journal paths hermes-fsck did not follow: under `_run_journal/`, a
 * dir whose name (a session id) or a `.jsonl` whose stream id fails the
 * sidecar rule, a symbolic link, a non-directory where a session's dir
 * belongs or a non-regular file where a run's belongs, `_run_journal`
 * itself a link or a file, and run journals that could not be read. None
 * of these is ever entered, followed or read.
 *
 * @example
 * ```ts
 * import { runJournalPaths } from "./run_journal_paths.ts";
 * import { runChecks } from "../core/plugins/pipeline.ts";
 * import type { StoreSnapshot } from "../core/scan/store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * const findings = await runChecks(store, [runJournalPaths], { now: Date.now(), serverStopped: false });
 * ```
 * @module
 */

import { defineCheck } from "../core/plugins/check.ts";
import type { RunJournalRefusal } from "../core/journal/run_journal_files.ts";
import { describeInvalidId } from "../core/store/session_id.ts";
import { shortText, shownName } from "../core/report/shown_value.ts";

/** The `run-journal-paths` check. */
export const runJournalPaths = defineCheck({
  id: "run-journal-paths",
  title: "Run journal paths that were not followed",
  description:
    "Reports names under _run_journal/ whose ids fail the sidecar rule, " +
    "links and other non-files there, and run journals that cannot be read.",
  kinds: {
    run_journal_refused_path: {
      category: "unsafe_to_repair",
      severity: "warning",
      summary: "A run journal path was not followed or could not be read.",
      explain: "The server writes run journals (since v0.51.71) as " +
        "_run_journal/<sid>/<stream_id>.jsonl, mode 0600, with session ids " +
        "of [A-Za-z0-9_-] and stream ids of hex digits. This path is not " +
        "that: its id fails the sidecar rule (the server's journal code " +
        "also lets '.' through, so '..' would name the session dir), it is " +
        "a symbolic link, a dir or file where the other belongs, or it " +
        "could not be read (permission denied, an I/O error, or its dir " +
        "was replaced while it was read). hermes-fsck never enters, " +
        "follows or reads it, so a stream it may hold is not checked, and " +
        "nothing about it is repaired. Look at it while the server is " +
        "stopped: move a link or a stray file out of the session dir, fix " +
        "permissions.",
    },
  },
  create(context) {
    return {
      session({ runJournal: session }) {
        for (const file of session?.files ?? []) {
          if (file.read.ok) continue;
          context.report({
            kind: "run_journal_refused_path",
            sessionId: session!.sessionId,
            paths: [file.name],
            message: `${file.name} ${file.read.problem.detail}; it was not ` +
              `read.`,
            evidence: { reason: file.read.problem.reason, id: file.streamId },
          });
        }
      },
      end() {
        for (const refused of context.store.runJournalsRefused) {
          const name = shownName(refused.name);
          context.report({
            kind: "run_journal_refused_path",
            sessionId: refused.sessionId,
            paths: [refused.name],
            message: `${name} ${reasonText(refused.reason, refused.id)}${
              refused.detail ? ` (it ${refused.detail})` : ""
            }; it was not followed.`,
            evidence: {
              reason: refused.reason,
              id: shortText(refused.id),
            },
          });
        }
      },
    };
  },
});

function reasonText(reason: RunJournalRefusal, id: string): string {
  switch (reason) {
    case "invalid_session_id":
      return `names the session id ${JSON.stringify(shortText(id))}, which ` +
        describeInvalidId(id);
    case "invalid_stream_id":
      return `names the stream id ${JSON.stringify(shortText(id))}, which ` +
        describeInvalidId(id);
    case "symlink":
      return "is a symbolic link, which hermes-fsck does not follow";
    case "not_directory":
      return "is not a directory";
    case "not_regular_file":
      return "is not a regular file";
    case "unreadable":
      return "could not be listed";
  }
}
