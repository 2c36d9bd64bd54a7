/**
 * `promote_temp`: an interrupted newest save (a stale `<sid>.tmp.<pid>.<tid>`
 * with more messages than the live sidecar) is put in place: its bytes are
 * written as `<sid>.json`, the old live file goes to the run's quarantine,
 * then the temp is moved into quarantine too. The temp is judged again on
 * the files as they are now before anything is planned.
 *
 * @example
 * ```ts
 * import { promoteTemp } from "./promote_temp.ts";
 * import type { Finding } from "../core/report/finding.ts";
 * import type { RepairContext } from "../core/plugins/repair.ts";
 * declare const finding: Finding;
 * declare const context: RepairContext;
 * const plan = await promoteTemp.plan([finding], context);
 * ```
 * @module
 */

import { defineRepair } from "../core/plugins/repair.ts";
import { sidecarName } from "../core/store/layout.ts";
import { recheckTemp } from "../core/store/temp_recheck.ts";

/** The `promote_temp` repair. */
export const promoteTemp = defineRepair({
  id: "promote_temp",
  title: "Promote an interrupted save",
  description:
    "Puts the newest save of a session, left in a temp file by a crash " +
    "before its rename, in place of the live sidecar (which is kept in " +
    "quarantine), then quarantines the temp.",
  fixes: ["interrupted_save"],
  scope: "finding",
  async plan([finding], context) {
    const checked = await recheckTemp(finding, context);
    if ("skip" in checked) return checked;
    if (checked.sessionId === undefined) {
      return { skip: `${checked.name} names no session` };
    }
    const live = sidecarName(checked.sessionId);
    const messages = checked.verdict.tempMessages;
    return {
      repair: "promote_temp",
      findingIds: [finding.id],
      sessionId: checked.sessionId,
      summary: checked.live.exists
        ? `Replace ${live} with the interrupted save ${checked.name} (${messages} messages).`
        : `Recreate ${live} from the interrupted save ${checked.name} (${messages} messages).`,
      actions: [
        {
          op: "write",
          path: live,
          data: checked.temp.bytes,
          expect: checked.live,
          note: `copy ${checked.name} to ${live}`,
          sources: [checked.name],
        },
        {
          op: "remove",
          path: checked.name,
          expect: checked.temp.expect,
          note: `quarantine ${checked.name}, now promoted`,
        },
      ],
    };
  },
});
