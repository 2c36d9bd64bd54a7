/**
 * `remove_redundant_backup`: moves a `.bak` that its live sidecar has
 * outgrown into the run's quarantine. Runs only when asked for
 * (`--also-repair redundant_backup`), and only when every message of the
 * backup is in the live file at the same position, so no message exists
 * only in the backup.
 *
 * @example
 * ```ts
 * import { removeRedundantBackup } from "./remove_redundant_backup.ts";
 * import type { Finding } from "../core/report/finding.ts";
 * import type { RepairContext } from "../core/plugins/repair.ts";
 * declare const finding: Finding;
 * declare const context: RepairContext;
 * const plan = await removeRedundantBackup.plan([finding], context);
 * ```
 * @module
 */

import { parseJsonBytes } from "../core/io/file_read.ts";
import { defineRepair } from "../core/plugins/repair.ts";
import { isValidSessionId } from "../core/store/session_id.ts";
import { isPlainObject } from "../core/store/sidecar_summary.ts";
import { backupName, sidecarName } from "../core/store/layout.ts";
import { sameJson } from "../core/json/same_json.ts";

/** The `remove_redundant_backup` repair. */
export const removeRedundantBackup = defineRepair({
  id: "remove_redundant_backup",
  title: "Remove a backup the live sidecar has outgrown",
  description:
    "Moves <sid>.json.bak into the run's quarantine when all its messages " +
    "are also in <sid>.json; only with --also-repair redundant_backup.",
  fixes: ["redundant_backup"],
  scope: "finding",
  async plan([finding], context) {
    const id = finding.sessionId;
    if (!isValidSessionId(id)) return { skip: "the session id is not valid" };
    const bak = backupName(id);
    const live = sidecarName(id);
    const bakRead = await context.read(bak);
    if (!bakRead.ok || !bakRead.bytes || !bakRead.expect.exists) {
      return { skip: `${bak} ${bakRead.ok ? "is gone" : bakRead.problem}` };
    }
    const liveRead = await context.read(live);
    if (!liveRead.ok || !liveRead.bytes) {
      return {
        skip: `${live} ${liveRead.ok ? "is gone" : liveRead.problem}`,
      };
    }
    const bakMessages = messagesOf(bakRead.bytes);
    const liveMessages = messagesOf(liveRead.bytes);
    if (!bakMessages || !liveMessages) {
      return {
        skip: `${
          bakMessages ? live : bak
        } is not a session with a messages list`,
      };
    }
    if (bakMessages.length > liveMessages.length) {
      return { skip: `${bak} now holds more messages than ${live}` };
    }
    const differs = bakMessages.findIndex((m, i) =>
      !sameJson(m, liveMessages[i])
    );
    if (differs >= 0) {
      return {
        skip: `message ${differs} of ${bak} differs from ${live}'s, so the ` +
          "backup may hold the only copy of it; compare them by hand",
      };
    }
    return {
      repair: "remove_redundant_backup",
      findingIds: [finding.id],
      sessionId: id,
      summary: `Move ${bak} (${bakMessages.length} messages, all also in ` +
        `${live}) into the quarantine.`,
      actions: [{
        op: "remove",
        path: bak,
        expect: bakRead.expect,
        note: `quarantine ${bak}, which ${live} has outgrown`,
      }],
    };
  },
});

function messagesOf(bytes: Uint8Array): unknown[] | null {
  const parsed = parseJsonBytes(bytes);
  if (!parsed.ok || !isPlainObject(parsed.value)) return null;
  const messages = parsed.value.messages;
  return Array.isArray(messages) ? messages : null;
}
