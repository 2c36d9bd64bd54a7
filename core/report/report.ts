/**
 * The report: one typed object for a run, rendered as text, json or
 * webui-json. Its JSON Schema is `core/report/report.schema.json`; the
 * `schemaVersion` field says which version of it a report follows.
 *
 * @example
 * ```ts
 * import { exitCodeOf, type Report } from "./report.ts";
 * declare const report: Report;
 * exitCodeOf(report); // 0, 1, 4, 5, 8, ... (a bit mask, as e2fsck's)
 * ```
 * @module
 */

import type { AuditResult, AuditStatus, AuditSummary } from "../run/audit.ts";
import type { Finding } from "./finding.ts";
import type { RepairRecord } from "../run/repair_engine.ts";
import type { LockHolder } from "../io/lock.ts";

/**
 * Exit code bits, as e2fsck's.
 *
 * @example
 * ```ts
 * import { type Report, EXIT } from "./report.ts";
 * declare const report: Report;
 * if (report.exitCode & EXIT.PROBLEMS_LEFT) console.log("do not start the server");
 * ```
 */
export const EXIT = {
  /** No problems found (or left). */
  CLEAN: 0,
  /** Repairs were made. */
  REPAIRED: 1,
  /** Problems remain (repairable or unsafe findings). */
  PROBLEMS_LEFT: 4,
  /** An operational error: the store could not be read or written. */
  OPERATIONAL_ERROR: 8,
  /** The command line was wrong. */
  USAGE: 16,
  /** Interrupted by a signal. */
  INTERRUPTED: 32,
} as const;

/**
 * Where state.db stood during the run.
 *
 * @example
 * ```ts
 * import type { StateDbInfo } from "./report.ts";
 * const info: StateDbInfo = { path: "/srv/hermes/state.db", status: "ok" };
 * ```
 */
export interface StateDbInfo {
  /** The state.db looked at, or null when none was. */
  path: string | null;
  /** Whether it was there and could be read. */
  status: "absent" | "ok" | "unreadable";
  /** Why it could not be read. */
  detail?: string;
}

/**
 * The report of one `audit` or `repair` run.
 *
 * @example
 * ```ts
 * import type { Report } from "./report.ts";
 * import { runPipeline } from "../run/run.ts";
 * declare const sessionDir: string;
 * const report: Report = await runPipeline({ command: "audit", sessionDir, stateDbPath: null });
 * console.log(report.status, report.summary, report.exitCode);
 * ```
 */
export interface Report {
  /** Version of this report format (see core/report/report.schema.json). */
  schemaVersion: 1;
  /** The tool and release that made the report. */
  tool: { name: "hermes-fsck"; version: string };
  /** The command that ran. */
  command: "audit" | "repair";
  /** True for `repair --dry-run`: nothing was changed. */
  dryRun: boolean;
  /** The session dir, absolute. */
  sessionDir: string;
  /** Where state.db stood (the default profile home's, or --state-db). */
  stateDb: StateDbInfo;
  /**
   * The named profiles' state.dbs compared with their sessions, each once
   * (core/state_db/profile_state_db.ts); absent when there were none.
   */
  profileStateDbs?: (StateDbInfo & { profile: string })[];
  /** When the run started, ISO 8601. */
  startedAt: string;
  /** How long it took. */
  durationMs: number;
  /** The verdict on the store as it is now (after repairs, for repair). */
  status: AuditStatus;
  /** Counts by category of the findings. */
  summary: AuditSummary;
  /** Findings on the store as it is now. */
  findings: Finding[];
  /** For repair: what was found first, and what was done. */
  repair?: {
    runId: string | null;
    /** The quarantine dir of the run, relative to the session dir. */
    runDir: string | null;
    passes: number;
    before: AuditResult;
    actions: RepairRecord[];
    /** A stale lock of a dead run that this run took over, if any. */
    staleLock: LockHolder | null;
  };
  /** What the scan read (the final scan, for repair). */
  stats: { filesRead: number; bytesRead: number };
  /** True when a signal stopped the run early. */
  interrupted: boolean;
  /** The process exit code this report implies. */
  exitCode: number;
}

/**
 * The exit code a report implies: a bit mask of REPAIRED (1),
 * PROBLEMS_LEFT (4), OPERATIONAL_ERROR (8, a repair action failed) and
 * INTERRUPTED (32). A dry run changes nothing, so it never sets REPAIRED.
 *
 * @example
 * ```ts
 * import { type Report, exitCodeOf } from "./report.ts";
 * declare const report: Report;
 * exitCodeOf({ ...report, summary: { sessions: 1, repairable: 0, unsafe_to_repair: 0, info: 2 } }); // 0
 * ```
 */
export function exitCodeOf(
  report:
    & Pick<Report, "summary" | "repair" | "interrupted" | "dryRun">
    & Partial<Pick<Report, "findings">>,
): number {
  let code = EXIT.CLEAN;
  const actions = report.repair?.actions ?? [];
  if (
    !report.dryRun &&
    actions.some((a) => a.actions.some((x) => x.status === "applied"))
  ) {
    code |= EXIT.REPAIRED;
  }
  // An acknowledged finding was reviewed by a person: it does not count.
  const open = report.findings
    ? report.findings.some((f) => f.category !== "info" && !f.acknowledged)
    : report.summary.repairable > 0 || report.summary.unsafe_to_repair > 0;
  if (open) code |= EXIT.PROBLEMS_LEFT;
  if (actions.some((a) => a.status === "failed")) {
    code |= EXIT.OPERATIONAL_ERROR;
  }
  if (report.interrupted) code |= EXIT.INTERRUPTED;
  return code;
}
