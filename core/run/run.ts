/**
 * One call that does a whole run, audit or repair, and returns its typed
 * report: what the CLI does, for programs that embed hermes-fsck.
 *
 * @example
 * ```ts
 * import { runPipeline } from "./run.ts";
 * const report = await runPipeline({ command: "audit", sessionDir: "/srv/sessions", stateDbPath: null });
 * console.log(report.status, report.exitCode);
 * ```
 * @module
 */

import type { Check } from "../plugins/check.ts";
import type { KindInfo } from "../report/finding.ts";
import {
  type AuditResult,
  auditStore,
  DEFAULT_PART_SESSIONS,
} from "./audit.ts";
import { withAcknowledgements } from "../review/acknowledged.ts";
import { PIPELINE_KINDS, selectChecks } from "../plugins/pipeline.ts";
import type { Repair } from "../plugins/repair.ts";
import { runRepair } from "./repair_engine.ts";
import { exitCodeOf, type Report, type StateDbInfo } from "../report/report.ts";
import type { StateDb } from "../state_db/state_db.ts";
import {
  DEFAULT_MAX_FILE_BYTES,
  type ScanProgress,
  type StoreSnapshot,
} from "../scan/snapshot.ts";
import type { WriterOptions } from "../io/safety.ts";
import type { PluginSettings } from "../plugins/plugin_runner.ts";
import type { RepairProgress } from "../scan/progress.ts";
import { TOOL_VERSION } from "./version.ts";
import { builtinChecks } from "../../checks/builtin.ts";
import { builtinRepairs } from "../../repairs/builtin.ts";
import { registryProblems, withRepairs } from "../plugins/registry.ts";

/**
 * What to run.
 *
 * @example
 * ```ts
 * import type { PipelineOptions } from "./run.ts";
 * const options: PipelineOptions = {
 *   command: "repair",
 *   sessionDir: "/srv/sessions",
 *   stateDbPath: "/srv/hermes/state.db",
 *   dryRun: true,
 * };
 * ```
 */
export interface PipelineOptions {
  /** `audit` only reads; `repair` also applies the safe repairs. */
  command: "audit" | "repair";
  /** The WebUI session dir. */
  sessionDir: string;
  /** The agent's state.db, or null to check without it. */
  stateDbPath: string | null;
  /** The agent's home, for core transcripts. */
  hermesHome?: string | null;
  /**
   * Compare each session with its profile home's state.db (`base` holds
   * `profiles/`); absent when `stateDbPath` serves every session.
   */
  profiles?: { base: string; defaultStateDb: string } | null;
  /** Checks to run; the built-in ones by default. */
  checks?: readonly Check[];
  /** Repairs to use; the built-in ones by default. */
  repairs?: readonly Repair[];
  /** `--check`: check ids or kinds to keep. */
  only?: string[];
  /** `--skip`: check ids or kinds to leave out. */
  skip?: string[];
  /** Repair: plan only, change nothing. */
  dryRun?: boolean;
  /** No Hermes WebUI server is running (`--server-stopped`). */
  serverStopped?: boolean;
  /** Kinds of info finding whose repair runs too (`--also-repair`). */
  alsoRepair?: string[];
  /** Files larger than this are reported, not read. */
  maxFileBytes?: number;
  /**
   * Worker threads that read beside the main one (`--workers`); left out,
   * the scan decides by the store's size and the cores.
   */
  workers?: number;
  /**
   * A signal came: asked between sessions of a scan and between repairs.
   * True during an audit (the first one of a repair too) rejects with
   * `Interrupted` (core/io/interrupt.ts), nothing written; during a repair's
   * actions, the action in progress is finished, the run stops there, and
   * the report says it was interrupted.
   */
  interrupted?: () => boolean;
  /** Options of the safety layer. */
  writer?: WriterOptions;
  /** External check programs (`--plugin`, `--plugin-dir`); they only report. */
  plugins?: PluginSettings;
  /** Called as the scan reads files, for a progress line. */
  onScanProgress?: (progress: ScanProgress) => void;
  /** Called as a repair pass tries its repairs, for a progress line. */
  onRepairProgress?: (progress: RepairProgress) => void;
}

/**
 * Runs an audit or a repair and returns its report. Throws a TypeError for
 * an unknown `--check`/`--skip` name; store problems are findings.
 *
 * @example
 * ```ts
 * import { runPipeline } from "./run.ts";
 * declare const sessionDir: string;
 * declare const stateDbPath: string;
 * const report = await runPipeline({ command: "repair", sessionDir, stateDbPath, dryRun: true });
 * ```
 */
export async function runPipeline(options: PipelineOptions): Promise<Report> {
  const started = Date.now();
  const all = withRepairs(
    options.checks ?? builtinChecks,
    options.repairs ?? builtinRepairs,
  );
  const disagree = registryProblems(all, options.repairs ?? builtinRepairs);
  if (disagree.length > 0) {
    throw new TypeError(
      `the checks and repairs disagree: ${disagree.join("; ")}`,
    );
  }
  const { checks, keep } = selectChecks(all, {
    only: options.only ?? [],
    skip: options.skip ?? [],
  });
  // A plugin may not take a kind of any check, selected or not.
  const plugins = options.plugins && {
    reservedKinds: new Set(kindsOf(all).keys()),
    ...options.plugins,
  };
  const scan = {
    sessionDir: options.sessionDir,
    stateDbPath: options.stateDbPath,
    maxFileBytes: options.maxFileBytes,
    workers: options.workers,
    hermesHome: options.hermesHome ?? null,
    profiles: options.profiles ?? null,
    onProgress: options.onScanProgress,
    interrupted: options.interrupted,
  };
  const checkOptions = { serverStopped: options.serverStopped ?? false };
  const base = {
    schemaVersion: 1 as const,
    tool: { name: "hermes-fsck" as const, version: TOOL_VERSION },
    command: options.command,
    dryRun: options.command === "repair" && (options.dryRun ?? false),
    sessionDir: options.sessionDir,
    startedAt: new Date(started).toISOString(),
  };
  // The report of either command: what follows `base`, in the order a
  // report is written, the exit code last as it derives from the rest.
  const finish = (
    store: StoreSnapshot,
    result: AuditResult,
    durationMs: number,
    interrupted: boolean,
    repair?: Report["repair"],
  ): Report => {
    const report: Report = {
      ...base,
      stateDb: stateDbInfo(store.stateDb),
      ...profileDbsInfo(store),
      durationMs,
      status: result.status,
      summary: result.summary,
      findings: result.findings,
      ...(repair ? { repair } : {}),
      stats: store.stats,
      interrupted,
      exitCode: 0,
    };
    report.exitCode = exitCodeOf(report);
    return report;
  };
  const maxBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const reviewed = (audit: AuditResult) =>
    withAcknowledgements(options.sessionDir, audit, maxBytes);
  if (options.command === "audit") {
    const found = await auditStore({
      scan,
      checks,
      keep,
      checkOptions,
      plugins,
      partSessions: DEFAULT_PART_SESSIONS,
    });
    found.store.stateDb.close();
    found.store.profileDbs?.close();
    const audit = await reviewed(found);
    return finish(found.store, audit, Date.now() - started, false);
  }
  const run = await runRepair({
    scan,
    checks,
    keep,
    repairs: options.repairs ?? builtinRepairs,
    checkOptions,
    dryRun: options.dryRun ?? false,
    alsoRepair: options.alsoRepair,
    interrupted: options.interrupted,
    writer: options.writer,
    plugins,
    onProgress: options.onRepairProgress,
  });
  run.store.stateDb.close();
  run.store.profileDbs?.close();
  const after = await reviewed(run.after);
  return finish(run.store, after, Date.now() - started, run.interrupted, {
    runId: run.runId,
    runDir: run.runDir,
    passes: run.passes,
    before: await reviewed(run.before),
    actions: run.records,
    staleLock: run.tookOverLockFrom,
  });
}

/** The named profiles' state.dbs the run looked at, when it looked at any. */
function profileDbsInfo(store: StoreSnapshot): Pick<Report, "profileStateDbs"> {
  const opened = store.profileDbs?.opened() ?? [];
  if (opened.length === 0) return {};
  return {
    profileStateDbs: opened.map(({ profile, db }) => ({
      profile,
      ...stateDbInfo(db),
    })),
  };
}

function stateDbInfo(db: StateDb): StateDbInfo {
  if (db.status === "unreadable") {
    return { path: db.path, status: "unreadable", detail: db.detail };
  }
  return { path: db.path, status: db.status };
}

/**
 * Every kind the given checks (and the pipeline itself) can report, by
 * name.
 *
 * @example
 * ```ts
 * import { kindsOf } from "./run.ts";
 * import { builtinChecks } from "../../checks/builtin.ts";
 * kindsOf(builtinChecks).get("shrunken_live")?.category; // "repairable"
 * ```
 */
export function kindsOf(
  checks: readonly Check[] = builtinChecks,
): Map<string, KindInfo & { check: string }> {
  const kinds = new Map<string, KindInfo & { check: string }>();
  for (const info of PIPELINE_KINDS) {
    kinds.set(info.kind, { ...info, check: "(pipeline)" });
  }
  for (const check of checks) {
    for (const info of check.kinds) {
      kinds.set(info.kind, { ...info, check: check.id });
    }
  }
  return kinds;
}
