/**
 * The `webui-json` format: exactly the shape of the server's own recovery
 * audit (`status`, `summary{ok,repairable,unsafe_to_repair}`,
 * `items[{session_id, kind, category, recommendation, live_messages,
 * bak_messages, ...}]`), printed as Python's `json.dumps(sort_keys=True)`
 * prints it, so tooling written for the server reads it unchanged: the
 * items today's server (exp-v0.52.262) prints for the same store, in its
 * order. The kinds only hermes-fsck reports, and its `info` findings, are
 * left out (the `text` and `json` formats have them); the exit code still
 * counts every finding.
 *
 * @example
 * ```ts
 * import { renderWebuiJson } from "./render_webui.ts";
 * import type { Report } from "./report.ts";
 * declare const report: Report;
 * console.log(renderWebuiJson(report));
 * ```
 * @module
 */

import type { AuditResult } from "../run/audit.ts";
import type { Finding } from "./finding.ts";
import { byCodePoint, pythonJsonPieces } from "../json/python_json.ts";
import type { Report } from "./report.ts";

/**
 * An item of the server's audit.
 *
 * @example
 * ```ts
 * import type { WebuiItem } from "./render_webui.ts";
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
 * import { type WebuiAudit, toWebuiAudit } from "./render_webui.ts";
 * import type { Report } from "./report.ts";
 * declare const report: Report;
 * const audit: WebuiAudit = toWebuiAudit(report);
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
 * Converts an audit to the server's shape: the items today's server
 * (exp-v0.52.262) prints for the same store, in its order, with its
 * summary and status. Findings of kinds the server does not know, and
 * `info` ones, are left out; a few of hermes-fsck's own kinds stand for
 * what the server prints in their place (see {@linkcode webuiItemsOf}).
 *
 * @example
 * ```ts
 * import { toWebuiAudit } from "./render_webui.ts";
 * import type { Report } from "./report.ts";
 * declare const report: Report;
 * toWebuiAudit(report).summary.ok; // live sidecars scanned
 * ```
 */
export function toWebuiAudit(
  audit: AuditResult,
): WebuiAudit {
  const placed = audit.findings.flatMap(webuiItemsOf);
  placed.sort(compareItems);
  const items = placed.map((p) => p.item);
  const summary = {
    ok: audit.summary.sessions,
    repairable: 0,
    unsafe_to_repair: 0,
  };
  for (const item of items) summary[item.category]++;
  return {
    status: summary.unsafe_to_repair
      ? "needs_manual_review"
      : summary.repairable
      ? "warn"
      : "ok",
    summary,
    items,
  };
}

/**
 * An item of the server's audit and where the server lists it: its phases
 * in turn (live sidecars, orphan backups, index ids without a file,
 * sidecars without an entry, state.db rows, turn journals), and within a
 * phase by file name, id, state.db row or turn.
 */
interface PlacedItem {
  /** The item. */
  item: WebuiItem;
  /** The server's phase that lists it. */
  phase: number;
  /** Its place within the phase, compared key by key. */
  keys: (string | number)[];
}

/** The kinds the server's audit calls repairable; its others are unsafe. */
const SERVER_REPAIRABLE = new Set([
  "shrunken_live",
  "orphan_backup",
  "index_missing_file",
  "index_missing_entry",
  "state_db_missing_sidecar",
  "turn_journal_pending_turn",
]);

const LIVE = 0, BACKUP = 1, INDEX_FILE = 2, INDEX_ENTRY = 3, ROW = 4;
const JOURNAL = 5;

/**
 * The server's items for one finding: none for a kind the server does not
 * report, one mostly, two for a deleted session whose `.bak` does not parse
 * and whose state.db row remains (the server lists the backup as malformed
 * and the row as deleted).
 *
 * hermes-fsck's own kinds the server prints otherwise: an orphan backup
 * while state.db cannot be read is an `orphan_backup` (the server's
 * state.db look-up fails open); a pending turn that a running server may
 * still stream is a `turn_journal_pending_turn` (the server does not ask).
 */
function webuiItemsOf(finding: Finding): PlacedItem[] {
  const id = finding.sessionId ?? "";
  const evidence = finding.evidence;
  const count = (value: unknown) => (typeof value === "number" ? value : -1);
  const live = count(evidence.liveMessages);
  const bak = count(evidence.bakMessages);
  const row = count(evidence.stateDbRow);
  const item = (
    kind: string,
    recommendation: string,
    liveMessages: number,
    bakMessages: number,
  ): WebuiItem => ({
    session_id: id,
    kind,
    category: SERVER_REPAIRABLE.has(kind) ? "repairable" : "unsafe_to_repair",
    recommendation,
    live_messages: liveMessages,
    bak_messages: bakMessages,
  });
  const place = (item: WebuiItem, phase: number, keys: (string | number)[]) => [
    { item, phase, keys },
  ];
  // Backups and sidecars list by file name: `a-b.json` before `a.json`.
  const byName = [id + "."];
  switch (finding.kind) {
    case "shrunken_live":
      return place(
        item(finding.kind, "restore_from_bak", live, bak),
        LIVE,
        byName,
      );
    case "orphan_backup":
    case "orphan_backup_state_db_unreadable":
      return place(
        item("orphan_backup", "restore_from_bak", -1, bak),
        BACKUP,
        byName,
      );
    case "malformed_orphan_backup":
    case "orphan_backup_without_state_row":
      return place(
        item(finding.kind, "manual_review", -1, bak),
        BACKUP,
        byName,
      );
    case "state_db_deleted_webui_tombstone": {
      const deleted = (bakMessages: number) =>
        item(finding.kind, "deleted_session_skipped", -1, bakMessages);
      if (evidence.hasBackup === true && bak >= 0) {
        return place(deleted(bak), BACKUP, byName);
      }
      return [
        ...(evidence.hasBackup === true
          ? place(
            item("malformed_orphan_backup", "manual_review", -1, -1),
            BACKUP,
            byName,
          )
          : []),
        ...(evidence.hasStateDbRow === true
          ? place(deleted(-1), ROW, [row])
          : []),
      ];
    }
    // The server's audit does not tell a chat never saved from a lost one.
    case "index_missing_file":
    case "index_unsaved_chat":
      return place(
        item("index_missing_file", "rebuild_index", -1, -1),
        INDEX_FILE,
        [id],
      );
    // The server's audit does not read the pruned-orphan list: it names
    // such a session as missing from the index.
    case "index_pruned_orphan":
      return place(
        item("index_missing_entry", "rebuild_index", Math.max(live, 0), -1),
        INDEX_ENTRY,
        [id],
      );
    // Nor does it know which sidecars a rebuild must leave out.
    case "index_left_out":
    case "index_missing_entry":
      return place(
        item("index_missing_entry", "rebuild_index", live, -1),
        INDEX_ENTRY,
        [
          id,
        ],
      );
    case "state_db_missing_sidecar":
      return place(
        item(finding.kind, "materialize_from_state_db", -1, -1),
        ROW,
        [row],
      );
    case "state_db_orphan_webui_row":
      return place(item(finding.kind, "manual_review", -1, -1), ROW, [row]);
    case "turn_journal_pending_turn":
    case "turn_journal_pending_unconfirmed": {
      const turnId = String(evidence.turnId ?? "");
      const pending = item(
        "turn_journal_pending_turn",
        "audit_only_pending_turn_journal",
        live,
        -1,
      );
      pending.turn_id = turnId;
      pending.event = String(evidence.event ?? "");
      return place(pending, JOURNAL, [id, turnId]);
    }
    default:
      return [];
  }
}

function compareItems(a: PlacedItem, b: PlacedItem): number {
  if (a.phase !== b.phase) return a.phase - b.phase;
  for (let i = 0; i < Math.min(a.keys.length, b.keys.length); i++) {
    const x = a.keys[i], y = b.keys[i];
    const diff = typeof x === "number" && typeof y === "number"
      ? x - y
      : byCodePoint(String(x), String(y));
    if (diff !== 0) return diff;
  }
  return 0;
}

/**
 * Renders a report in the server's format: the audit for `audit`, the
 * result of `--repair-safe` for `repair`.
 *
 * @example
 * ```ts
 * import { renderWebuiJson } from "./render_webui.ts";
 * import type { Report } from "./report.ts";
 * declare const report: Report;
 * renderWebuiJson(report); // '{"items": [], "status": "ok", "summary": {...}}'
 * ```
 */
export function renderWebuiJson(
  report: Report,
): string {
  return [...renderWebuiJsonPieces(report)].join("");
}

/**
 * {@linkcode renderWebuiJson} in pieces of about 64 KiB, for a report of
 * any size (see core/json/json_pieces.ts).
 *
 * @example
 * ```ts
 * import { renderWebuiJsonPieces } from "./render_webui.ts";
 * import type { Report } from "./report.ts";
 * import type { CliIo } from "../../cli.ts";
 * declare const report: Report;
 * declare const io: CliIo;
 * for (const piece of renderWebuiJsonPieces(report)) io.stdout(piece);
 * ```
 */
export function renderWebuiJsonPieces(
  report: Report,
): Generator<string> {
  return pythonJsonPieces(webuiValue(report));
}

/** The server's audit, or its `--repair-safe` result for `repair`. */
function webuiValue(
  report: Report,
): WebuiAudit | Record<string, unknown> {
  const after = toWebuiAudit(report);
  if (!report.repair) return after;
  const before = toWebuiAudit(report.repair.before);
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
