/**
 * A first boot: the session dir does not exist yet and neither does
 * state.db, as on a fresh install before the server saved anything. For
 * `preen`, and for `audit` and `repair` with `--allow-missing`, that is a
 * report with one info finding (`fresh_install`) and exit 0, so an init
 * step does not fail every new deployment. A session dir that is missing
 * while state.db exists is not a first boot (the sessions' volume is
 * probably not mounted) and stays an operational error.
 *
 * @example
 * ```ts
 * import { freshInstallReport } from "./first_boot.ts";
 * const report = freshInstallReport({ command: "repair", sessionDir: "/srv/sessions", stateDbPath: null, dryRun: false, startedAt: Date.now() });
 * report.exitCode; // 0
 * ```
 * @module
 */

import { PIPELINE_KINDS, toFinding } from "../plugins/pipeline.ts";
import type { Report } from "../report/report.ts";
import { TOOL_VERSION } from "../run/version.ts";

/**
 * What the first-boot report says of the run.
 *
 * @example
 * ```ts
 * import type { FirstBoot } from "./first_boot.ts";
 * const run: FirstBoot = { command: "audit", sessionDir: "/srv/sessions", stateDbPath: "/root/.hermes/state.db", dryRun: false, startedAt: Date.now() };
 * ```
 */
export interface FirstBoot {
  /** The pipeline command the run stands for. */
  command: "audit" | "repair";
  /** The missing session dir, absolute. */
  sessionDir: string;
  /** The state.db looked for (and not found), or null when none was. */
  stateDbPath: string | null;
  /** True for `--dry-run`. */
  dryRun: boolean;
  /** When the run started, ms since the epoch. */
  startedAt: number;
}

/**
 * True when nothing is at `path`, not even a dangling link.
 *
 * @example
 * ```ts
 * import { isMissing } from "./first_boot.ts";
 * await isMissing("/srv/sessions"); // true on a first boot
 * ```
 */
export async function isMissing(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return false;
  } catch (error) {
    return error instanceof Deno.errors.NotFound;
  }
}

/**
 * The report of a first boot: nothing checked, one info finding.
 *
 * @example
 * ```ts
 * import { type FirstBoot, freshInstallReport } from "./first_boot.ts";
 * declare const run: FirstBoot;
 * freshInstallReport(run).findings[0].kind; // "fresh_install"
 * ```
 */
export function freshInstallReport(run: FirstBoot): Report {
  const info = PIPELINE_KINDS.find((k) => k.kind === "fresh_install")!;
  const finding = toFinding("(pipeline)", info, {
    kind: info.kind,
    paths: [],
    message: `The session dir ${run.sessionDir} does not exist and there is ` +
      `no state.db${
        run.stateDbPath ? ` at ${run.stateDbPath}` : ""
      }: a first boot; nothing was checked. If sessions should be there, ` +
      `their volume is not mounted.`,
    evidence: { sessionDir: run.sessionDir, stateDb: run.stateDbPath },
  });
  return {
    schemaVersion: 1,
    tool: { name: "hermes-fsck", version: TOOL_VERSION },
    command: run.command,
    dryRun: run.dryRun,
    sessionDir: run.sessionDir,
    stateDb: { path: run.stateDbPath, status: "absent" },
    startedAt: new Date(run.startedAt).toISOString(),
    durationMs: Date.now() - run.startedAt,
    status: "ok",
    summary: { sessions: 0, repairable: 0, unsafe_to_repair: 0, info: 1 },
    findings: [finding],
    stats: { filesRead: 0, bytesRead: 0 },
    interrupted: false,
    exitCode: 0,
  };
}
