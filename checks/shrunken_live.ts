/**
 * `shrunken_live`: a `.bak` holds more messages than its live sidecar, and
 * no intentional-shrink guard (STORE_FORMAT.md §4) says the user removed
 * them on purpose. A live file that does not parse counts -1 messages, so a
 * parsable backup always outnumbers it, as in the server's own audit.
 *
 * @example
 * ```ts
 * import { shrunkenLive } from "./shrunken_live.ts";
 * import { runChecks } from "../core/plugins/pipeline.ts";
 * import type { StoreSnapshot } from "../core/scan/store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * const findings = await runChecks(store, [shrunkenLive], { now: Date.now(), serverStopped: false });
 * ```
 * @module
 */

import { defineCheck } from "../core/plugins/check.ts";
import { intentionalShrinkGuard } from "../core/store/shrink_guards.ts";
import {
  foreignSessionId,
  messageCountOf,
  summaryOf,
} from "../core/scan/store_facts.ts";

/** The `shrunken-live` check. */
export const shrunkenLive = defineCheck({
  id: "shrunken-live",
  title: "Live sidecar smaller than its backup",
  description:
    "Compares each live sidecar with its .bak snapshot and reports sessions " +
    "whose backup holds more messages, unless the user cleared or " +
    "compressed the session on purpose.",
  kinds: {
    shrunken_live: {
      category: "repairable",
      severity: "error",
      summary: "The live sidecar has fewer messages than its .bak snapshot.",
      explain:
        "The server writes <sid>.json.bak only when a save would shrink the " +
        "messages array, so a backup with more messages than the live file " +
        "is the pre-shrink conversation: the shape of the metadata-only " +
        "save bug (#1558). None of the intentional-shrink guards of today's " +
        "server holds (clear sentinel and post-clear messages since " +
        "v0.51.875, manual compression since v0.51.710, shrink generation " +
        "since exp-v0.52.216; see intentional_shrink_kept), so restoring " +
        "cannot bring back what the user removed. A sidecar written by the " +
        "seed-era server (G0, no key newer than it) is judged as that " +
        "server did, which had no guard. Restoring is also what the " +
        "server's own startup recovery does. " +
        "Repair: restore_from_bak makes the live file a byte copy of the " +
        "backup (the replaced live file is kept in the run's quarantine) and " +
        "leaves the backup in place.",
      resolutions: [
        {
          keep: "bak",
          meaning:
            "Put the .bak's bytes in place of <sid>.json, as restore_from_bak does.",
        },
        {
          keep: "live",
          meaning:
            "Keep the shorter <sid>.json; move the .bak into the run's quarantine so it is not restored.",
        },
      ],
    },
    intentional_shrink_kept: {
      category: "info",
      severity: "info",
      summary:
        "The .bak has more messages, but the user shrank the session on purpose.",
      explain:
        "The live sidecar records a deliberate shrink, tested exactly as " +
        "today's server tests it (STORE_FORMAT.md §4), in its order: a " +
        "clear (clear_generation other than the backup's, everything " +
        "emptied, truncation fields numeric zero; since v0.51.875), " +
        "messages written after a clear (same generation rule, watermark " +
        "and boundary zero; since v0.51.875), a manual compression the " +
        "backup predates (compression_anchor_mode 'manual' in any case and " +
        "padding, or a context shorter than the messages with a non-blank " +
        "anchor summary and a non-null anchor key, or with any non-null " +
        "truncation_watermark, 0.0 included; the backup predates it when " +
        "its context is longer and holds no compaction marker, bracketed " +
        "or, with _compressed_summary, unbracketed; since v0.51.710), or a " +
        "new intentional_shrink_generation (since exp-v0.52.216). The " +
        "anchor-summary form applies only to a sidecar carrying a key the " +
        "seed-era server (G0) never wrote, since that server restored such " +
        "backups. Restoring the backup would resurrect what the user " +
        "removed, so hermes-fsck leaves both files " +
        "alone. The backup is not needed by the server; delete it by hand " +
        "if disk space matters.",
    },
  },
  create: (context) => {
    return {
      session({ files: session }) {
        const { live, backup } = session;
        if (!live || !backup) return;
        if (!live.read.ok && live.read.problem.reason === "not_regular_file") {
          return; // reported by unreadable-files; never replaced
        }
        const liveMessages = messageCountOf(live);
        const bakMessages = messageCountOf(backup);
        if (bakMessages <= liveMessages) return;
        // A backup of another session is never restored here; the
        // sidecar-identity check reports it for review.
        if (foreignSessionId(backup, session.sessionId)) return;
        const liveSummary = summaryOf(live);
        const bakSummary = summaryOf(backup);
        const guard = liveSummary && bakSummary
          ? intentionalShrinkGuard(liveSummary, bakSummary)
          : null;
        const evidence = { liveMessages, bakMessages };
        if (guard) {
          context.report({
            kind: "intentional_shrink_kept",
            sessionId: session.sessionId,
            paths: [live.name, backup.name],
            message:
              `${backup.name} holds ${bakMessages} messages against ${liveMessages} ` +
              `live, kept as is because the ${
                guard.replaceAll("_", " ")
              } guard holds.`,
            evidence: { ...evidence, guard },
          });
          return;
        }
        const liveState = live.read.ok
          ? `has ${liveMessages} messages`
          : `cannot be parsed (${live.read.problem.detail})`;
        context.report({
          kind: "shrunken_live",
          sessionId: session.sessionId,
          paths: [live.name, backup.name],
          message:
            `${live.name} ${liveState} but ${backup.name} has ${bakMessages}.`,
          evidence: live.read.ok ? evidence : {
            ...evidence,
            liveProblem: live.read.problem.reason,
            liveProblemDetail: live.read.problem.detail,
            ...(live.read.problem.offset !== undefined
              ? { liveProblemOffset: live.read.problem.offset }
              : {}),
          },
        });
      },
    };
  },
});
