/**
 * hermes-fsck's own run records (`_hermes_fsck/runs/<run>/`) that fail
 * validation. The tool writes each record atomically and in a fixed shape,
 * so one that fails was written by someone else, or damaged; its run is
 * never rolled back, undone or pruned (see core/io/run_records.ts).
 *
 * @example
 * ```ts
 * import { runRecords } from "./run_records.ts";
 * import { runChecks } from "../core/plugins/pipeline.ts";
 * import type { StoreSnapshot } from "../core/scan/store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * const findings = await runChecks(store, [runRecords], { now: Date.now(), serverStopped: false });
 * ```
 * @module
 */

import { defineCheck, type StoreWide } from "../core/plugins/check.ts";
import type { FindingDraft } from "../core/report/finding.ts";

/** The `run-records` check. */
export const runRecords = defineCheck({
  id: "run-records",
  title: "hermes-fsck's own run records",
  description:
    "Reports records of hermes-fsck's runs (_hermes_fsck/runs/) that are " +
    "not what hermes-fsck writes: not regular files, too big, malformed, " +
    "or naming paths outside the run.",
  kinds: {
    run_record_invalid: {
      category: "unsafe_to_repair",
      severity: "error",
      summary:
        "A record of a hermes-fsck run fails validation; that run is not acted on.",
      explain: "Each repair and undo keeps records of what it did in " +
        "_hermes_fsck/runs/<run>/ (run.json, actions/NNNN.json) and the bytes " +
        "it replaced in files/. hermes-fsck writes those records atomically " +
        "and in a fixed shape, and reads them back as untrusted input: a " +
        "record that is a symlink, FIFO or device, is too big, does not " +
        "parse, or names a seq, path or quarantined file other than the ones " +
        "its run would have made (a `..`, a path outside the session dir, a " +
        "files/ dir that is a symlink, a size the file there does not have) " +
        "was not written so by hermes-fsck: someone else wrote it, or the " +
        "disk damaged it. hermes-fsck then neither rolls back, undoes nor " +
        "prunes that run, so nothing it names is read, moved or deleted. " +
        "That is why this needs a person (unsafe_to_repair): the run's " +
        "files/ may hold the only copy of a file an interrupted run moved " +
        "aside. Look at the run's dir: if files/ holds a session file that " +
        "is missing from the session dir, copy it back with the server " +
        "stopped; then move the run's dir out of the session dir (and find " +
        "out who wrote it).",
    },
  },
  create: (context) => ({
    end() {
      for (const draft of runRecordDrafts(context.store)) context.report(draft);
    },
  }),
});

function runRecordDrafts(store: StoreWide): FindingDraft[] {
  return store.runRecordProblems.map((problem) => ({
    kind: "run_record_invalid",
    paths: [problem.record],
    message: `${problem.record} ${problem.problem}; hermes-fsck did not ` +
      "write it so, and will not roll back, undo or prune " +
      (problem.runId ? `run ${problem.runId}` : "any run in it") +
      ": look at it and move it out of the session dir.",
    evidence: { runId: problem.runId },
  }));
}
