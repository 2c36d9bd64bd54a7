/**
 * Redundant backups: a `.bak` with no more messages than its live sidecar.
 * The server writes a backup only before a save that shrinks `messages`, so
 * once the conversation has grown back past it the backup is no longer a
 * restore source. Reported as info; its removal is opt-in.
 *
 * @example
 * ```ts
 * import { redundantBackup } from "./redundant_backup.ts";
 * import { runChecks } from "../core/plugins/pipeline.ts";
 * import type { StoreSnapshot } from "../core/scan/store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * const findings = await runChecks(store, [redundantBackup], { now: Date.now(), serverStopped: false });
 * ```
 * @module
 */

import { defineCheck } from "../core/plugins/check.ts";
import { messageCountOf } from "../core/scan/store_facts.ts";

/** The `redundant-backup` check. */
export const redundantBackup = defineCheck({
  id: "redundant-backup",
  title: "Backups the live sidecar has outgrown",
  description:
    "Reports .bak snapshots that hold no more messages than their live " +
    "sidecar.",
  kinds: {
    redundant_backup: {
      category: "info",
      severity: "info",
      summary: "A .bak holds no more messages than its live sidecar.",
      explain:
        "The server writes <sid>.json.bak only before a save that would " +
        "shrink the messages array; this one holds no more messages than the " +
        "live file, so it is not a restore source (shrunken_live never " +
        "restores it) and the server ignores it. Nothing is wrong, hence info. " +
        "It only costs disk space, and it is the last copy of the " +
        "conversation as it was before that shrink, which is why it is " +
        "removed only when asked for: `hermes-fsck repair --also-repair " +
        "redundant_backup`. The repair re-reads both files and removes the " +
        "backup only if every one of its messages is in the live file at the " +
        "same position (so nothing exists only in the backup); the backup is " +
        "moved into the run's quarantine, where `undo` finds it. A backup " +
        "whose messages differ from the live file's is left for you to " +
        "compare by hand.",
    },
  },
  create: (context) => {
    return {
      session({ files: session }) {
        const { live, backup, sessionId } = session;
        if (!live || !backup) return;
        const liveMessages = messageCountOf(live);
        const bakMessages = messageCountOf(backup);
        // An unreadable side is another check's finding; only two readable
        // sessions can be compared.
        if (liveMessages < 0 || bakMessages < 0) return;
        if (bakMessages > liveMessages) return;
        context.report({
          kind: "redundant_backup",
          sessionId,
          paths: [backup.name, live.name],
          message:
            `${backup.name} holds ${bakMessages} messages and ${live.name} ` +
            `${liveMessages}, so the backup is no longer a restore source.`,
          evidence: { liveMessages, bakMessages },
        });
      },
    };
  },
});
