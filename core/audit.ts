/**
 * One audit: scan the store once, run the checks, keep the selected
 * findings, and summarize them the way the server's own audit does.
 *
 * @example
 * ```ts
 * import { auditStore } from "./audit.ts";
 * const audit = await auditStore({
 *   scan: { sessionDir: "/srv/sessions", stateDbPath: null },
 *   checks: builtinChecks,
 * });
 * console.log(audit.status, audit.summary);
 * audit.store.stateDb.close();
 * ```
 * @module
 */

import type { Check, CheckOptions } from "./check.ts";
import type { Finding } from "./finding.ts";
import { runChecks } from "./pipeline.ts";
import { type PluginSettings, runExternalPlugins } from "./plugin_runner.ts";
import { type ScanOptions, scanStore, type StoreSnapshot } from "./snapshot.ts";
import { liveSessionCount } from "./store_facts.ts";

/**
 * The overall verdict, as the server's audit names it.
 *
 * @example
 * ```ts
 * const status: AuditStatus = "needs_manual_review";
 * ```
 */
export type AuditStatus = "ok" | "warn" | "needs_manual_review";

/**
 * Counts of an audit.
 *
 * @example
 * ```ts
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
}

/**
 * Scans and audits a store. The caller closes `store.stateDb` when done.
 *
 * @example
 * ```ts
 * const { store, findings } = await auditStore({ scan, checks: builtinChecks });
 * ```
 */
export async function auditStore(
  options: AuditOptions,
): Promise<AuditResult & { store: StoreSnapshot }> {
  const store = await scanStore(options.scan);
  const checkOptions: CheckOptions = {
    now: options.checkOptions?.now ?? store.scannedAt,
    serverStopped: options.checkOptions?.serverStopped ?? false,
  };
  const all = await runChecks(store, options.checks, checkOptions);
  const findings = options.keep ? all.filter(options.keep) : all;
  if (options.plugins) {
    findings.push(
      ...await runExternalPlugins(
        store,
        options.checks,
        options.plugins,
        checkOptions,
      ),
    );
  }
  return { store, ...summarizeFindings(findings, liveSessionCount(store)) };
}

/**
 * Counts findings by category and derives the status: `needs_manual_review`
 * if anything is unsafe, else `warn` if anything is repairable, else `ok`.
 *
 * @example
 * ```ts
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
