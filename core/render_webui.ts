/**
 * The `webui-json` format: exactly the shape of the server's own recovery
 * audit (`status`, `summary{ok,repairable,unsafe_to_repair}`,
 * `items[{session_id, kind, category, recommendation, live_messages,
 * bak_messages, ...}]`), printed as Python's `json.dumps(sort_keys=True)`
 * prints it, so tooling written for the server reads it unchanged. Kinds the
 * server does not know appear in the same item shape; `info` findings, which
 * the server has no category for, are left out.
 *
 * @example
 * ```ts
 * import { renderWebuiJson } from "./render_webui.ts";
 * console.log(renderWebuiJson(report, kindInfo));
 * ```
 * @module
 */

import type { AuditResult } from "./audit.ts";
import type { Finding, KindInfo } from "./finding.ts";
import { pythonJsonPieces } from "./python_json.ts";
import type { Report } from "./report.ts";

/**
 * An item of the server's audit.
 *
 * @example
 * ```ts
 * const item: WebuiItem = {
 *   session_id: "abc",
 *   kind: "shrunken_live",
 *   category: "repairable",
 *   recommendation: "restore_from_bak",
 *   live_messages: 2,
 *   bak_messages: 40,
 * };
 * ```
 */
export interface WebuiItem {
  /** The session, or "" when the finding has none. */
  session_id: string;
  /** The finding's kind. */
  kind: string;
  /** The finding's category (info findings are left out). */
  category: "repairable" | "unsafe_to_repair";
  /** The repair to run, or `manual_review`. */
  recommendation: string;
  /** Messages in the live sidecar, -1 when unknown. */
  live_messages: number;
  /** Messages in the `.bak`, -1 when unknown. */
  bak_messages: number;
  /** For a pending journal turn: its id. */
  turn_id?: string;
  /** For a pending journal turn: its latest event. */
  event?: string;
}

/**
 * The server's audit result.
 *
 * @example
 * ```ts
 * const audit: WebuiAudit = toWebuiAudit(report, kindsOf());
 * console.log(audit.status, audit.summary.ok);
 * ```
 */
export interface WebuiAudit {
  /** The verdict. */
  status: "ok" | "warn" | "needs_manual_review";
  /** Live sidecars scanned (`ok`) and findings by category. */
  summary: { ok: number; repairable: number; unsafe_to_repair: number };
  /** One item per repairable or unsafe finding. */
  items: WebuiItem[];
}

/**
 * Converts an audit to the server's shape.
 *
 * @example
 * ```ts
 * toWebuiAudit(report, kinds).summary.ok; // live sidecars scanned
 * ```
 */
export function toWebuiAudit(
  audit: AuditResult,
  kinds: ReadonlyMap<string, KindInfo>,
): WebuiAudit {
  const items = audit.findings
    .filter((f) => f.category !== "info")
    .map((f) => toItem(f, kinds.get(f.kind)));
  return {
    status: audit.status,
    summary: {
      ok: audit.summary.sessions,
      repairable: audit.summary.repairable,
      unsafe_to_repair: audit.summary.unsafe_to_repair,
    },
    items,
  };
}

function toItem(finding: Finding, info: KindInfo | undefined): WebuiItem {
  const count = (value: unknown) => (typeof value === "number" ? value : -1);
  const item: WebuiItem = {
    session_id: finding.sessionId ?? "",
    kind: finding.kind,
    category: finding.category as WebuiItem["category"],
    recommendation: info?.webuiRecommendation ?? finding.repair ??
      "manual_review",
    live_messages: count(finding.evidence.liveMessages),
    bak_messages: count(finding.evidence.bakMessages),
  };
  if (finding.kind === "turn_journal_pending_turn") {
    item.turn_id = String(finding.evidence.turnId ?? "");
    item.event = String(finding.evidence.event ?? "");
  }
  return item;
}

/**
 * Renders a report in the server's format: the audit for `audit`, the
 * result of `--repair-safe` for `repair`.
 *
 * @example
 * ```ts
 * renderWebuiJson(report, kinds); // '{"items": [], "status": "ok", "summary": {...}}'
 * ```
 */
export function renderWebuiJson(
  report: Report,
  kinds: ReadonlyMap<string, KindInfo>,
): string {
  return [...renderWebuiJsonPieces(report, kinds)].join("");
}

/**
 * {@linkcode renderWebuiJson} in pieces of about 64 KiB, for a report of
 * any size (see core/json_pieces.ts).
 *
 * @example
 * ```ts
 * for (const piece of renderWebuiJsonPieces(report, kinds)) io.stdout(piece);
 * ```
 */
export function renderWebuiJsonPieces(
  report: Report,
  kinds: ReadonlyMap<string, KindInfo>,
): Generator<string> {
  return pythonJsonPieces(webuiValue(report, kinds));
}

/** The server's audit, or its `--repair-safe` result for `repair`. */
function webuiValue(
  report: Report,
  kinds: ReadonlyMap<string, KindInfo>,
): WebuiAudit | Record<string, unknown> {
  const after = toWebuiAudit(report, kinds);
  if (!report.repair) return after;
  const before = toWebuiAudit(report.repair.before, kinds);
  const records = report.repair.actions;
  const applied = (id: string) =>
    records.filter((r) => r.repair === id && r.status === "applied");
  const restored = applied("restore_from_bak").length;
  const materialized = applied("materialize_from_state_db").length;
  const clean = after.summary.repairable === 0 &&
    after.summary.unsafe_to_repair === 0;
  return {
    clean,
    ok: clean,
    repaired: restored + materialized,
    before,
    backup_repair: {
      scanned: before.summary.ok +
        before.items.filter((i) => i.kind === "orphan_backup").length,
      restored,
      orphaned_backups:
        before.items.filter((i) => i.kind === "orphan_backup").length,
      details: records.filter((r) => r.repair === "restore_from_bak").map((
        r,
      ) => ({
        session_id: r.sessionId ?? "",
        restored: r.status === "applied",
        ...(r.detail ? { error: r.detail } : {}),
      })),
    },
    sidecar_repair: {
      scanned: before.items.filter((i) => i.kind === "state_db_missing_sidecar")
        .length,
      materialized,
      details: records.filter((r) => r.repair === "materialize_from_state_db")
        .map((r) => ({
          session_id: r.sessionId ?? "",
          materialized: r.status === "applied",
          ...(r.detail ? { skipped: r.detail } : {}),
        })),
    },
    after,
  };
}
