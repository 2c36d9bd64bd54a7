/**
 * The `summary` format: one line for a log, as e2fsck prints at boot, the
 * session dir first and then the verdict, the counts and the time:
 * `/srv/sessions: clean, 1234 sessions, 0 repairable, 0 unsafe, 0.81 s`.
 * Acknowledged findings (reviewed by a person) are counted apart from the
 * unsafe ones, which are those still open.
 *
 * @example
 * ```ts
 * import { summaryLine } from "./render_summary.ts";
 * import type { Report } from "./report.ts";
 * declare const report: Report;
 * console.log(summaryLine(report, 0)); // "/srv/sessions: clean, 12 sessions, 0 repairable, 0 unsafe, 0.04 s"
 * ```
 * @module
 */

import type { Report } from "./report.ts";
import { EXIT } from "./report.ts";

/**
 * The open findings of a report by category, acknowledged ones apart.
 *
 * @example
 * ```ts
 * import { openCounts } from "./render_summary.ts";
 * import type { Report } from "./report.ts";
 * declare const report: Report;
 * openCounts(report); // { repairable: 0, unsafe: 1, acknowledged: 2, info: 3 }
 * ```
 */
export function openCounts(
  report: Pick<Report, "findings">,
): { repairable: number; unsafe: number; acknowledged: number; info: number } {
  const counts = { repairable: 0, unsafe: 0, acknowledged: 0, info: 0 };
  for (const finding of report.findings) {
    // `acknowledged` is set by `hermes-fsck acknowledge`, where it exists.
    if ((finding as { acknowledged?: unknown }).acknowledged) {
      counts.acknowledged++;
    } else if (finding.category === "repairable") counts.repairable++;
    else if (finding.category === "unsafe_to_repair") counts.unsafe++;
    else counts.info++;
  }
  return counts;
}

/**
 * The repair actions of a report, by what became of them.
 *
 * @example
 * ```ts
 * import { repairCounts } from "./render_summary.ts";
 * import type { Report } from "./report.ts";
 * declare const report: Report;
 * repairCounts(report); // { applied: 3, skipped: 0, failed: 0, planned: 0 }
 * ```
 */
export function repairCounts(
  report: Pick<Report, "repair">,
): { applied: number; skipped: number; failed: number; planned: number } {
  const counts = { applied: 0, skipped: 0, failed: 0, planned: 0 };
  for (const record of report.repair?.actions ?? []) counts[record.status]++;
  return counts;
}

/**
 * One line for `report`, which the run ends with exit code `exitCode`.
 *
 * @example
 * ```ts
 * import { summaryLine } from "./render_summary.ts";
 * import type { Report } from "./report.ts";
 * declare const report: Report;
 * summaryLine(report, 1); // "/srv/sessions: repaired, 12 sessions, 2 repairs, 0 repairable, 0 unsafe, 0.31 s"
 * ```
 */
export function summaryLine(report: Report, exitCode: number): string {
  const open = openCounts(report);
  const done = repairCounts(report);
  const fresh = report.findings.some((f) => f.kind === "fresh_install");
  const verdict = exitCode & EXIT.INTERRUPTED
    ? "interrupted"
    : exitCode & EXIT.OPERATIONAL_ERROR
    ? "ERROR"
    : fresh
    ? "fresh install"
    : open.repairable + open.unsafe > 0
    ? "NOT CLEAN"
    : done.applied > 0
    ? "repaired"
    : "clean";
  const parts = [
    verdict,
    `${report.summary.sessions} session${
      report.summary.sessions === 1 ? "" : "s"
    }`,
  ];
  if (report.dryRun) parts.push(`${done.planned} planned`);
  else if (done.applied > 0) parts.push(`${done.applied} repaired`);
  if (done.skipped > 0) parts.push(`${done.skipped} skipped`);
  if (done.failed > 0) parts.push(`${done.failed} failed`);
  parts.push(`${open.repairable} repairable`, `${open.unsafe} unsafe`);
  if (open.acknowledged > 0) parts.push(`${open.acknowledged} acknowledged`);
  parts.push(`${(report.durationMs / 1000).toFixed(2)} s`);
  return `${report.sessionDir}: ${parts.join(", ")}\n`;
}
