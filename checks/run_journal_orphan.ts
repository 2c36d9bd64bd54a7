/**
 * Run journals of sessions that no longer exist: `_run_journal/<sid>/`
 * with no sidecar, no backup and no state.db row for `<sid>` (judged as
 * turn journals are, checks/turn_journal_health.ts). Since v0.51.326 the
 * server deletes a session's run journals with it; older servers left
 * them behind, so a healthy store may keep some. Nothing reads them.
 *
 * @example
 * ```ts
 * import { runJournalOrphan } from "./run_journal_orphan.ts";
 * import { runChecks } from "../core/plugins/pipeline.ts";
 * import type { StoreSnapshot } from "../core/scan/store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * const findings = await runChecks(store, [runJournalOrphan], { now: Date.now(), serverStopped: false });
 * ```
 * @module
 */

import { defineCheck } from "../core/plugins/check.ts";
import { orphanState } from "../core/scan/store_facts.ts";

/** The `run-journal-orphan` check. */
export const runJournalOrphan = defineCheck({
  id: "run-journal-orphan",
  title: "Run journals that belong to no session",
  description:
    "Reports _run_journal/<sid>/ dirs of sessions with no sidecar, no " +
    "backup and no state.db row.",
  kinds: {
    run_journal_orphan: {
      category: "info",
      severity: "info",
      summary: "A session's run journals remain, but the session does not.",
      explain:
        "_run_journal/<sid>/ (run journals exist since v0.51.71) holds the " +
        "journals of a session that has no sidecar, no .bak and no state.db " +
        "row (when state.db is readable; if it cannot be read, no run " +
        "journal is judged an orphan). The evidence says whether the id is " +
        "in the delete tombstone. Since v0.51.326 the server deletes a " +
        "session's run journals with the session; servers from v0.51.71 to " +
        "v0.51.325 left them behind on delete, so old stores keep some, and " +
        "that is normal. Nothing reads them and no session comes back from " +
        "them, so this is info and nothing is removed: the journals hold " +
        "every request and reply of those runs (which may be why you want " +
        "them gone, or kept). Delete the dir by hand while the server is " +
        "stopped if the session was deleted on purpose.",
    },
  },
  create(context) {
    return {
      session({ sessionId, files, runJournal: journal, store }) {
        if (!journal) return;
        const orphan = orphanState(store, files);
        if (!orphan) return;
        const runs = journal.files.length;
        context.report({
          kind: "run_journal_orphan",
          sessionId,
          paths: [journal.dir],
          message:
            `${journal.dir} holds ${runs} run journal${
              runs === 1 ? "" : "s"
            }, but session ${sessionId} has no sidecar, no backup and ` +
            `${orphan.stateDb}${orphan.tombstoned ? "; it was deleted" : ""}.`,
          evidence: {
            runs,
            tombstoned: orphan.tombstoned,
            stateDb: orphan.stateDb === "no state.db" ? "absent" : "no_row",
          },
        });
      },
    };
  },
});
