/**
 * `restore_from_bak`: the live sidecar becomes a byte copy of its `.bak`;
 * the backup stays. Re-checks the condition on the files as they are now
 * (the backup still outnumbers the live file, no shrink guard holds, and
 * a missing live file belongs to no deleted session) before planning.
 *
 * @example
 * ```ts
 * import { restoreFromBak } from "./restore_from_bak.ts";
 * import type { Finding } from "../core/report/finding.ts";
 * import type { RepairContext } from "../core/plugins/repair.ts";
 * declare const finding: Finding;
 * declare const context: RepairContext;
 * const plan = await restoreFromBak.plan([finding], context);
 * ```
 * @module
 */

import { defineRepair } from "../core/plugins/repair.ts";
import { intentionalShrinkGuard } from "../core/store/shrink_guards.ts";
import { summarizeSidecarBytes } from "../core/scan/sidecar_scan.ts";
import { deletion } from "../core/scan/store_facts.ts";
import { backupName, sidecarName } from "../core/store/layout.ts";

/** The `restore_from_bak` repair. */
export const restoreFromBak = defineRepair({
  id: "restore_from_bak",
  title: "Restore the live sidecar from its backup",
  description:
    "Replaces (or recreates) <sid>.json with the bytes of <sid>.json.bak, " +
    "keeping the backup and quarantining the replaced file.",
  fixes: ["shrunken_live", "orphan_backup"],
  scope: "finding",
  async plan([finding], context) {
    const id = finding.sessionId;
    if (!id) return { skip: "the finding names no session" };
    const live = sidecarName(id);
    const bak = backupName(id);
    const bakRead = await context.read(bak);
    if (!bakRead.ok || !bakRead.bytes) {
      return { skip: `${bak} ${bakRead.ok ? "is gone" : bakRead.problem}` };
    }
    // Summarized from the bytes, as the scan does: the decision needs the
    // counts and metadata, never the messages themselves.
    const bakParsed = summarizeSidecarBytes(bakRead.bytes);
    const bakSummary = bakParsed.ok ? bakParsed.value : null;
    if (!bakSummary || bakSummary.messageCount < 0) {
      return { skip: `${bak} no longer parses as a session` };
    }
    const inner = bakSummary.meta.session_id;
    if (typeof inner === "string" && inner !== "" && inner !== id) {
      return {
        skip: `${bak} holds another session (${JSON.stringify(inner)})`,
      };
    }
    const liveRead = await context.read(live);
    if (!liveRead.ok) return { skip: `${live} ${liveRead.problem}` };
    if (finding.kind === "orphan_backup" && liveRead.expect.exists) {
      return { skip: `${live} exists again` };
    }
    // Recreating a missing sidecar would resurrect a deleted session; a
    // live sidecar beats its tombstone entry (the server's rule), so a
    // shrunken one is restored whatever the tombstone says.
    if (
      !liveRead.expect.exists && deletion(context.store, id) !== "not_deleted"
    ) {
      return {
        skip: deletion(context.store, id) === "deleted"
          ? "the session is in the delete tombstone"
          : "the delete tombstone cannot be read, so the session may have been deleted",
      };
    }
    let liveCount = -1;
    if (liveRead.bytes) {
      const parsed = summarizeSidecarBytes(liveRead.bytes);
      if (parsed.ok) {
        const liveSummary = parsed.value;
        liveCount = liveSummary.messageCount;
        const guard = intentionalShrinkGuard(liveSummary, bakSummary);
        if (guard) {
          return { skip: `the ${guard.replaceAll("_", " ")} guard now holds` };
        }
      }
    }
    if (bakSummary.messageCount <= liveCount) {
      return { skip: `${live} no longer has fewer messages than ${bak}` };
    }
    return {
      repair: "restore_from_bak",
      findingIds: [finding.id],
      sessionId: id,
      summary: liveRead.expect.exists
        ? `Restore ${live} from ${bak} (${liveCount} -> ${bakSummary.messageCount} messages).`
        : `Recreate ${live} from ${bak} (${bakSummary.messageCount} messages).`,
      actions: [{
        op: "write",
        path: live,
        data: bakRead.bytes,
        expect: liveRead.expect,
        note: `copy ${bak} to ${live}`,
        sources: [bak],
      }],
    };
  },
});
