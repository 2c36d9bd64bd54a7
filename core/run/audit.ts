/**
 * One audit: scan the store once, run the checks, keep the selected
 * findings, and summarize them the way the server's own audit does.
 *
 * @example
 * ```ts
 * import { auditStore } from "./audit.ts";
 * import { builtinChecks } from "../../checks/builtin.ts";
 * const audit = await auditStore({
 *   scan: { sessionDir: "/srv/sessions", stateDbPath: null },
 *   checks: builtinChecks,
 * });
 * console.log(audit.status, audit.summary);
 * audit.store.stateDb.close();
 * ```
 * @module
 */

import type { Check, CheckOptions } from "../plugins/check.ts";
import type { Finding } from "../report/finding.ts";
import { runChecks } from "../plugins/pipeline.ts";
import { CheckRun } from "../plugins/check_engine.ts";
import {
  type PluginSettings,
  runExternalPlugins,
} from "../plugins/plugin_runner.ts";
import {
  type ScanOptions,
  scanStore,
  type StoreSnapshot,
} from "../scan/snapshot.ts";
import {
  invalidSidecarNameCount,
  liveSidecarCount,
} from "../scan/store_facts.ts";

/**
 * The overall verdict, as the server's audit names it.
 *
 * @example
 * ```ts
 * import type { AuditStatus } from "./audit.ts";
 * const status: AuditStatus = "needs_manual_review";
 * ```
 */
export type AuditStatus = "ok" | "warn" | "needs_manual_review";

/**
 * Counts of an audit.
 *
 * @example
 * ```ts
 * import type { AuditSummary } from "./audit.ts";
 * const summary: AuditSummary = { sessions: 12, repairable: 1, unsafe_to_repair: 0, info: 3 };
 * ```
 */
export interface AuditSummary {
  /** Live sidecars scanned (the server's `summary.ok`). */
  sessions: number;
  /** Findings a repair can fix. */
  repairable: number;
  /** Findings a person must decide on. */
  unsafe_to_repair: number;
  /** Findings worth knowing that need no action. */
  info: number;
}

/**
 * What one audit found.
 *
 * @example
 * ```ts
 * import { type AuditResult, summarizeFindings } from "./audit.ts";
 * const { status, summary, findings }: AuditResult = summarizeFindings([], 3);
 * ```
 */
export interface AuditResult {
  /** The verdict, as the server names it. */
  status: AuditStatus;
  /** Counts by category. */
  summary: AuditSummary;
  /** Every finding kept, in check order. */
  findings: Finding[];
}

/**
 * Options of {@linkcode auditStore}.
 *
 * @example
 * ```ts
 * import type { AuditOptions } from "./audit.ts";
 * import { builtinChecks } from "../../checks/builtin.ts";
 * const options: AuditOptions = {
 *   scan: { sessionDir: "/srv/sessions", stateDbPath: null },
 *   checks: builtinChecks,
 * };
 * ```
 */
export interface AuditOptions {
  /** What to scan. */
  scan: ScanOptions;
  /** The checks to run, in order. */
  checks: readonly Check[];
  /** Which findings to keep (from `--check`/`--skip`); all by default. */
  keep?: (finding: Finding) => boolean;
  /** Run facts; `now` defaults to the scan's start. */
  checkOptions?: Partial<CheckOptions>;
  /**
   * External check programs to run after the checks. Their findings are
   * always kept: `keep` selects among the checks' findings only.
   */
  plugins?: PluginSettings;
  /**
   * Check the store this many sessions at a time and let each part go once
   * it is checked, so memory stays flat however many sessions there are
   * ({@linkcode DEFAULT_PART_SESSIONS} is a good size). The findings are
   * the same; the `store` returned then has no sessions (nor index entries
   * or state.db rows, see `ScanOptions.parts`). Ignored (the whole store
   * is kept) when a check has the older `run` shape or external plugins
   * run, since those are given every session.
   */
  partSessions?: number;
}

/**
 * Sessions in a part when the CLI audits a store part by part: a part's
 * summaries are a megabyte or two, and the checks' own cost per part is
 * small beside reading a thousand sessions.
 *
 * @example
 * ```ts
 * import { auditStore, DEFAULT_PART_SESSIONS } from "./audit.ts";
 * import type { ScanOptions } from "../scan/snapshot.ts";
 * import { builtinChecks } from "../../checks/builtin.ts";
 * declare const scan: ScanOptions;
 * await auditStore({ scan, checks: builtinChecks, partSessions: DEFAULT_PART_SESSIONS });
 * ```
 */
export const DEFAULT_PART_SESSIONS = 1000;

/**
 * Scans and audits a store. The caller closes `store.stateDb` when done.
 *
 * @example
 * ```ts
 * import { auditStore } from "./audit.ts";
 * import type { ScanOptions } from "../scan/snapshot.ts";
 * import { builtinChecks } from "../../checks/builtin.ts";
 * declare const scan: ScanOptions;
 * const { store, findings } = await auditStore({ scan, checks: builtinChecks });
 * ```
 */
export async function auditStore(
  options: AuditOptions,
): Promise<AuditResult & { store: StoreSnapshot }> {
  const byParts = (options.partSessions ?? 0) > 0 &&
    options.checks.every((check) => typeof check.create === "function") &&
    !options.plugins?.programs.length;
  const checkOptions = (store: StoreSnapshot): CheckOptions => ({
    now: options.checkOptions?.now ?? store.scannedAt,
    serverStopped: options.checkOptions?.serverStopped ?? false,
  });
  let all: Finding[];
  let sessions = 0;
  let store: StoreSnapshot;
  if (byParts) {
    let run: CheckRun | null = null;
    store = await scanStore({
      ...options.scan,
      parts: {
        sessions: options.partSessions!,
        async onPart(part) {
          run ??= new CheckRun(options.checks, checkOptions(part));
          await run.visit(part);
          sessions += liveSidecarCount(part);
        },
      },
    });
    all = await (run ?? new CheckRun(options.checks, checkOptions(store)))
      .finish(store);
  } else {
    store = await scanStore(options.scan);
    all = await runChecks(store, options.checks, checkOptions(store));
    sessions = liveSidecarCount(store);
  }
  sessions += invalidSidecarNameCount(store);
  const findings = options.keep ? all.filter(options.keep) : all;
  if (options.plugins) {
    findings.push(
      ...await runExternalPlugins(
        store,
        options.checks,
        options.plugins,
        checkOptions(store),
      ),
    );
  }
  return { store, ...summarizeFindings(findings, sessions) };
}

/**
 * Counts findings by category and derives the status: `needs_manual_review`
 * if anything is unsafe, else `warn` if anything is repairable, else `ok`.
 *
 * @example
 * ```ts
 * import { summarizeFindings } from "./audit.ts";
 * summarizeFindings([], 3); // { status: "ok", summary: { sessions: 3, ... }, findings: [] }
 * ```
 */
export function summarizeFindings(
  findings: Finding[],
  sessions: number,
): AuditResult {
  const summary: AuditSummary = {
    sessions,
    repairable: 0,
    unsafe_to_repair: 0,
    info: 0,
  };
  for (const finding of findings) summary[finding.category]++;
  const status: AuditStatus = summary.unsafe_to_repair
    ? "needs_manual_review"
    : summary.repairable
    ? "warn"
    : "ok";
  return { status, summary, findings };
}
