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
import { type ScanOptions, scanStore, type StoreSnapshot } from "./snapshot.ts";
import { liveSessionCount } from "./store_facts.ts";

/** The overall verdict, as the server's audit names it. */
export type AuditStatus = "ok" | "warn" | "needs_manual_review";

/** Counts of an audit. */
export interface AuditSummary {
  /** Live sidecars scanned (the server's `summary.ok`). */
  sessions: number;
  repairable: number;
  unsafe_to_repair: number;
  info: number;
}

/** What one audit found. */
export interface AuditResult {
  status: AuditStatus;
  summary: AuditSummary;
  findings: Finding[];
}

/** Options of {@linkcode auditStore}. */
export interface AuditOptions {
  scan: ScanOptions;
  checks: readonly Check[];
  /** Which findings to keep (from `--check`/`--skip`); all by default. */
  keep?: (finding: Finding) => boolean;
  /** Run facts; `now` defaults to the scan's start. */
  checkOptions?: Partial<CheckOptions>;
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
