/**
 * `malformed_live`: a live sidecar that does not parse (empty, not UTF-8,
 * not JSON) and that no repair can replace: there is no `.bak` that parses
 * as a session (with one, it is a `shrunken_live` finding, restored as the
 * server's own recovery does) and no newer interrupted save to promote.
 *
 * @example
 * ```ts
 * import { malformedLive } from "./malformed_live.ts";
 * import { runChecks } from "../core/plugins/pipeline.ts";
 * import type { StoreSnapshot } from "../core/scan/store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * const findings = await runChecks(store, [malformedLive], { now: Date.now(), serverStopped: false });
 * ```
 * @module
 */

import { defineCheck } from "../core/plugins/check.ts";
import type { ScannedFile } from "../core/scan/snapshot.ts";
import type { SidecarSummary } from "../core/store/sidecar_summary.ts";
import { messageCountOf } from "../core/scan/store_facts.ts";
import { liveReplacement } from "../core/store/live_replacement.ts";
import {
  isParseProblem,
  parseProblemEvidence,
} from "../core/scan/parse_problem.ts";

/** The `malformed-live` check. */
export const malformedLive = defineCheck({
  id: "malformed-live",
  title: "Live sidecar that does not parse",
  description:
    "Reports live sidecars that are empty, not UTF-8 or not JSON and have " +
    "no parsable .bak or newer interrupted save to take their place.",
  kinds: {
    malformed_live: {
      category: "unsafe_to_repair",
      severity: "error",
      summary:
        "The live sidecar does not parse and there is no usable .bak to restore.",
      explain:
        "<sid>.json is empty, not UTF-8 or not JSON (a torn write, a full " +
        "disk, a bad block, a hand edit), so the server cannot load the " +
        "session. When <sid>.json.bak parses as a session the finding is " +
        "shrunken_live instead and restore_from_bak fixes it; when a stale " +
        "save temp holds a newer complete save it is interrupted_save and " +
        "promote_temp fixes it. Here neither exists, so any automatic fix " +
        "would have to drop the file's bytes or guess at their content: the " +
        "category is unsafe_to_repair and hermes-fsck leaves the file as it " +
        "is. The evidence gives the reason and the byte offset of the parse " +
        "error (`offset`). With the server stopped, copy the file aside and " +
        "mend the JSON by hand at that offset (a truncated file usually " +
        "needs its open brackets closed), or put back a copy from your own " +
        "backups. If state.db holds the session's messages, moving the " +
        "broken file out of the session dir lets `hermes-fsck repair` " +
        "rebuild it from state.db (state_db_missing_sidecar).",
      resolutions: [
        {
          keep: "state-db",
          meaning:
            "Rebuild <sid>.json from its state.db rows; the broken file goes to the run's quarantine.",
        },
        {
          keep: "discard",
          meaning: "Move the broken <sid>.json into the run's quarantine.",
        },
      ],
    },
  },
  create: (context) => {
    const options = context.options;
    return {
      session({ files: session, store }) {
        const { live, backup } = session;
        if (!live || live.read.ok || !isParseProblem(live.read.problem)) {
          return;
        }
        if (liveReplacement(store, session, options)) return;
        const problem = live.read.problem;
        context.report({
          kind: "malformed_live",
          sessionId: session.sessionId,
          paths: backup ? [live.name, backup.name] : [live.name],
          message: `${live.name} ${problem.detail} and ${
            backupState(session.sessionId, backup)
          }.`,
          evidence: {
            liveMessages: -1,
            bakMessages: messageCountOf(backup),
            ...parseProblemEvidence(problem),
            ...(backup && !backup.read.ok
              ? { backupProblem: backup.read.problem.reason }
              : {}),
          },
        });
      },
    };
  },
});

/** Why the backup cannot stand in for the live file, as a phrase. */
function backupState(
  sessionId: string,
  backup: ScannedFile<SidecarSummary> | undefined,
): string {
  if (!backup) return `there is no ${sessionId}.json.bak to restore it from`;
  if (!backup.read.ok) return `${backup.name} ${backup.read.problem.detail}`;
  return `${backup.name} is not a session with a messages list`;
}
