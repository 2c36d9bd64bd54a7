/**
 * `remove_stale_temp`: a stale temp file that holds nothing the store lacks
 * is moved into the run's quarantine (never deleted), after the temp is
 * judged again on the files as they are now.
 *
 * @example
 * ```ts
 * import { removeStaleTemp } from "./remove_stale_temp.ts";
 * import type { Finding } from "../core/report/finding.ts";
 * import type { RepairContext } from "../core/plugins/repair.ts";
 * declare const finding: Finding;
 * declare const context: RepairContext;
 * const plan = await removeStaleTemp.plan([finding], context);
 * ```
 * @module
 */

import { defineRepair } from "../core/plugins/repair.ts";
import { recheckTemp } from "../core/store/temp_recheck.ts";

/** The `remove_stale_temp` repair. */
export const removeStaleTemp = defineRepair({
  id: "remove_stale_temp",
  title: "Remove a stale temp file",
  description:
    "Moves a temp file left by an interrupted write into the run's " +
    "quarantine, after checking again that it holds nothing the store lacks.",
  fixes: ["stale_temp"],
  scope: "finding",
  async plan([finding], context) {
    const checked = await recheckTemp(finding, context);
    if ("skip" in checked) return checked;
    return {
      repair: "remove_stale_temp",
      findingIds: [finding.id],
      ...(checked.sessionId ? { sessionId: checked.sessionId } : {}),
      summary: `Move the stale temp ${checked.name} into quarantine.`,
      actions: [{
        op: "remove",
        path: checked.name,
        expect: checked.temp.expect,
        note: `quarantine the stale temp ${checked.name}`,
      }],
    };
  },
});
