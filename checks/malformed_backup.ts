/**
 * `malformed_backup`: a `.bak` beside a live sidecar that parses, where the
 * `.bak` itself does not parse (empty, not UTF-8, not JSON) or is not a
 * session with a messages list. The live file is fine, so nothing is
 * wrong for the server, but the backup is no restore source any more, and
 * it may hold messages the live file lacks. Reported, never changed.
 *
 * @example
 * ```ts
 * import { malformedBackup } from "./malformed_backup.ts";
 * import { runChecks } from "../core/plugins/pipeline.ts";
 * import type { StoreSnapshot } from "../core/scan/store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * const findings = await runChecks(store, [malformedBackup], { now: Date.now(), serverStopped: false });
 * ```
 * @module
 */

import { defineCheck } from "../core/plugins/check.ts";
import { messageCountOf } from "../core/scan/store_facts.ts";
import {
  isParseProblem,
  parseProblemEvidence,
} from "../core/scan/parse_problem.ts";

/** The `malformed-backup` check. */
export const malformedBackup = defineCheck({
  id: "malformed-backup",
  title: "Backup that does not parse beside a healthy live sidecar",
  description:
    "Reports .bak snapshots that are empty, not UTF-8, not JSON or not a " +
    "session, while their live sidecar parses.",
  kinds: {
    malformed_backup: {
      category: "info",
      severity: "warning",
      summary:
        "A .bak does not parse (or is not a session); its live sidecar is fine.",
      explain:
        "The server writes <sid>.json.bak just before a save that shrinks " +
        "the messages list, and reads it only to recover a shrunk session. " +
        "This one is empty, not UTF-8, not JSON, or not a session object " +
        "with a messages list (a torn write, a full disk, a hand edit), so it " +
        "can no longer be a restore source: if the live file loses messages, " +
        "shrunken_live has nothing to restore from. The live sidecar parses " +
        "and the server ignores the .bak, so nothing is broken now (info). " +
        "The .bak may still hold messages the live file lacks, since it is " +
        "the snapshot from before a shrink, so hermes-fsck never changes or " +
        "removes it. With the server stopped, compare it with the live file " +
        "by hand (the evidence gives the reason and the byte offset of the " +
        "parse error), then mend it or move it out of the session dir.",
    },
  },
  create: (context) => {
    return {
      session({ files: session }) {
        const { live, backup, sessionId } = session;
        // Without a readable live file another check names the .bak's
        // problem (malformed_orphan_backup, malformed_live, unreadable_file).
        if (!live?.read.ok || !backup) return;
        const read = backup.read;
        let detail: string;
        let evidence;
        if (!read.ok) {
          if (!isParseProblem(read.problem)) return;
          detail = read.problem.detail;
          evidence = parseProblemEvidence(read.problem);
        } else if (
          read.value.shape !== "object" || read.value.messageCount < 0
        ) {
          detail = read.value.shape === "object"
            ? "has no messages list"
            : `is a JSON ${read.value.shape}, not a session object`;
          evidence = { problem: "not_a_session", shape: read.value.shape };
        } else return;
        context.report({
          kind: "malformed_backup",
          sessionId,
          paths: [backup.name, live.name],
          message: `${backup.name} ${detail}, so it is no restore source for ` +
            `${live.name}; compare it with ${live.name} by hand before you ` +
            `remove it.`,
          evidence: {
            liveMessages: messageCountOf(live),
            bakMessages: -1,
            ...evidence,
          },
        });
      },
    };
  },
});
