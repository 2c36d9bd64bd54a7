/**
 * `hermes-fsck show ID`: the evidence behind a finding (by its id, as the
 * JSON report gives it) or a session (by its id), read only. The result
 * is one typed object (JSON Schema: core/review/show.schema.json), printed as
 * text for people or as JSON.
 *
 * @example
 * ```ts
 * import { findShown, renderShowText } from "./show.ts";
 * import type { Report } from "../report/report.ts";
 * import type { EvidenceReader } from "./evidence.ts";
 * import type { KindInfo } from "../report/finding.ts";
 * declare const report: Report;
 * declare const reader: EvidenceReader;
 * declare const kinds: ReadonlyMap<string, KindInfo>;
 * const shown = await findShown("0123456789abcdef", report, reader, kinds);
 * if (shown) console.log(renderShowText(shown));
 * ```
 * @module
 */

import { cut } from "../report/excerpt.ts";
import {
  type EvidenceOptions,
  EvidenceReader,
  type SessionEvidence,
} from "./evidence.ts";
import { kindsOf, type PipelineOptions, runPipeline } from "../run/run.ts";
import type { Finding, KindInfo } from "../report/finding.ts";
import type { Report } from "../report/report.ts";
import { commandsFor, type SuggestedCommand } from "./review_commands.ts";
import { isValidSessionId } from "../store/session_id.ts";
import { classifyName } from "../store/layout.ts";
import { TOOL_VERSION } from "../run/version.ts";

/** Most findings of one session shown; the rest are counted. */
const MAX_SESSION_FINDINGS = 50;

/**
 * A finding with the commands that act on it.
 *
 * @example
 * ```ts
 * import type { ShownFinding } from "./show.ts";
 * import type { Finding, KindInfo } from "../report/finding.ts";
 * import { commandsFor } from "./review_commands.ts";
 * declare const finding: Finding;
 * declare const kind: KindInfo;
 * declare const dir: string;
 * const f: ShownFinding = { ...finding, commands: commandsFor(finding, kind, dir) };
 * ```
 */
export type ShownFinding = Finding & { commands: SuggestedCommand[] };

/**
 * What `show` prints.
 *
 * @example
 * ```ts
 * import { type Shown, findShown } from "./show.ts";
 * import type { Report } from "../report/report.ts";
 * import type { EvidenceReader } from "./evidence.ts";
 * import type { KindInfo } from "../report/finding.ts";
 * declare const id: string;
 * declare const report: Report;
 * declare const reader: EvidenceReader;
 * declare const kinds: ReadonlyMap<string, KindInfo>;
 * const shown: Shown = (await findShown(id, report, reader, kinds))!;
 * console.log(shown.matched, shown.session?.versions.length);
 * ```
 */
export interface Shown {
  /** Version of this format (core/review/show.schema.json). */
  schemaVersion: 1;
  /** The tool and release. */
  tool: { name: "hermes-fsck"; version: string };
  /** The session dir, absolute. */
  sessionDir: string;
  /** The id asked for. */
  id: string;
  /** Whether it named a finding or a session. */
  matched: "finding" | "session";
  /** The finding asked for, when the id named one. */
  finding: ShownFinding | null;
  /** The findings of the session (the one asked for included). */
  findings: ShownFinding[];
  /** Findings of the session beyond those listed. */
  findingsOmitted: number;
  /** The session's evidence, when the finding names a session. */
  session: SessionEvidence | null;
}

/**
 * The session a finding is about: its `sessionId`, else the one its first
 * path names (a temp's, say); null when it names none.
 *
 * @example
 * ```ts
 * import { sessionOfFinding } from "./show.ts";
 * import type { Finding } from "../report/finding.ts";
 * sessionOfFinding({ paths: ["abc.tmp.1.2"] } as Finding); // "abc"
 * ```
 */
export function sessionOfFinding(
  finding: Pick<Finding, "sessionId" | "paths">,
): string | null {
  if (finding.sessionId !== undefined) {
    return isValidSessionId(finding.sessionId) ? finding.sessionId : null;
  }
  for (const path of finding.paths) {
    const named = classifyName(path);
    if ("sessionId" in named && named.sessionId !== undefined) {
      return named.sessionId;
    }
  }
  return null;
}

/**
 * Where `show` and the review page read: the store as an audit reads it.
 *
 * @example
 * ```ts
 * import type { StoreReadOptions } from "./show.ts";
 * const store: StoreReadOptions = { sessionDir: "/srv/sessions", stateDbPath: null, profiles: null };
 * ```
 */
export type StoreReadOptions =
  & EvidenceOptions
  & Pick<PipelineOptions, "hermesHome" | "checks" | "repairs">
  & {
    /** The store flags the commands to copy repeat (see commandsFor). */
    commandFlags?: readonly string[];
  };

/**
 * Audits the store (reading only) and shows what `id` names: a finding
 * id of the audit, else a session id; null when it names neither.
 *
 * @example
 * ```ts
 * import { showOf } from "./show.ts";
 * const shown = await showOf("abc", { sessionDir: "/srv/sessions", stateDbPath: null, profiles: null });
 * ```
 */
export async function showOf(
  id: string,
  options: StoreReadOptions,
): Promise<Shown | null> {
  const report = await runPipeline({ command: "audit", ...options });
  const reader = await EvidenceReader.open(options);
  try {
    return await findShown(
      id,
      report,
      reader,
      kindsOf(options.checks),
      options.commandFlags,
    );
  } finally {
    reader.close();
  }
}

/**
 * Looks `id` up as a finding id of the report, then as a session id of
 * the store; null when it names neither.
 *
 * @example
 * ```ts
 * import { findShown } from "./show.ts";
 * import type { Report } from "../report/report.ts";
 * import type { EvidenceReader } from "./evidence.ts";
 * import { kindsOf } from "../run/run.ts";
 * declare const report: Report;
 * declare const reader: EvidenceReader;
 * const shown = await findShown("abc", report, reader, kindsOf());
 * ```
 */
export async function findShown(
  id: string,
  report: Report,
  reader: EvidenceReader,
  kinds: ReadonlyMap<string, KindInfo>,
  flags: readonly string[] = [],
): Promise<Shown | null> {
  const finding = report.findings.find((f) => f.id === id) ?? null;
  const sessionId = finding ? sessionOfFinding(finding) : id;
  const session = sessionId === null ? null : await reader.session(sessionId);
  if (!finding && !session) return null;
  const shown = (f: Finding): ShownFinding => ({
    ...f,
    commands: commandsFor(f, kinds.get(f.kind), report.sessionDir, flags),
  });
  const related = sessionId === null
    ? [finding!]
    : report.findings.filter((f) =>
      f === finding || sessionOfFinding(f) === sessionId
    );
  return {
    schemaVersion: 1,
    tool: { name: "hermes-fsck", version: TOOL_VERSION },
    sessionDir: report.sessionDir,
    id,
    matched: finding ? "finding" : "session",
    finding: finding && shown(finding),
    findings: related.slice(0, MAX_SESSION_FINDINGS).map(shown),
    findingsOmitted: Math.max(0, related.length - MAX_SESSION_FINDINGS),
    session,
  };
}

/**
 * `show`'s text: the finding, the versions side by side, the messages not
 * every version holds, the journal's turns, and the commands to copy.
 *
 * @example
 * ```ts
 * import { type Shown, renderShowText } from "./show.ts";
 * import type { CliIo } from "../../cli.ts";
 * declare const io: CliIo;
 * declare const shown: Shown;
 * io.stdout(renderShowText(shown));
 * ```
 */
export function renderShowText(shown: Shown): string {
  const lines = [
    `hermes-fsck ${shown.tool.version} show ${cut(shown.id, 80)} in ${
      cut(shown.sessionDir, 300)
    }`,
  ];
  const first = shown.finding;
  const others = shown.findings.filter((f) => f.id !== first?.id);
  if (first) lines.push("", ...findingLines(first, "Finding"));
  if (shown.session) lines.push("", ...sessionLines(shown.session));
  else if (first) {
    lines.push("", "It names no session, so there are no versions to compare.");
  }
  if (others.length > 0) {
    lines.push(
      "",
      first ? "Other findings of this session:" : "Findings of this session:",
    );
    for (const f of others) lines.push("", ...findingLines(f, "Finding"));
  } else if (!first) {
    lines.push("", "No finding names this session.");
  }
  if (shown.findingsOmitted > 0) {
    lines.push(
      `(${shown.findingsOmitted} more; 'hermes-fsck audit --format json' lists them all)`,
    );
  }
  return lines.join("\n") + "\n";
}

function findingLines(f: ShownFinding, label: string): string[] {
  const lines = [
    `${label} ${f.id}: ${cut(f.kind, 80)} (${f.category}, ${f.severity})`,
    `  ${cut(f.message, 500)}`,
  ];
  if (f.acknowledged) lines.push(`  ${acknowledgedText(f.acknowledged)}`);
  if (f.paths.length > 0) {
    lines.push(
      `  Files: ${f.paths.slice(0, 10).map((p) => cut(p, 200)).join(", ")}${
        f.paths.length > 10 ? ` and ${f.paths.length - 10} more` : ""
      }`,
    );
  }
  lines.push("  To act on it:");
  for (const c of f.commands) {
    lines.push(`    ${cut(c.command, 600)}`, `        ${cut(c.meaning, 300)}`);
  }
  return lines;
}

function sessionLines(s: SessionEvidence): string[] {
  const deleted = s.deleted === null
    ? "unknown (the tombstone cannot be read)"
    : s.deleted
    ? "yes, _deleted_webui_sessions.json lists it"
    : "no";
  const lines = [
    `Session ${s.sessionId} (profile: ${
      s.profile ?? "default"
    }; deleted: ${deleted})`,
    "Versions:",
  ];
  for (const [i, v] of s.versions.entries()) {
    const head = `  [${i + 1}] ${v.label}`;
    if (v.status !== "ok") {
      lines.push(`${head}: cannot be used: ${v.problem ?? "unreadable"}`);
    } else {
      lines.push(
        v.source === "journal"
          ? `${head}: ${v.messageCount} prompt(s)`
          : `${head}: ${v.messageCount} message(s), title ${
            v.title === null ? "(none)" : quoted(v.title)
          }`,
      );
    }
    const times = [
      v.createdAt && `created ${v.createdAt}`,
      v.updatedAt && `updated ${v.updatedAt}`,
      v.lastMessageAt && `last message ${v.lastMessageAt}`,
    ].filter(Boolean);
    if (times.length > 0) lines.push(`      ${times.join(", ")}`);
    const file = [
      v.path,
      v.size !== null && `${v.size} bytes`,
      v.modifiedAt && `modified ${v.modifiedAt}`,
    ].filter(Boolean);
    lines.push(`      ${file.join(", ")}`);
    if (v.status === "ok" && (v.unique > 0 || v.missing > 0)) {
      lines.push(
        `      holds ${v.unique} message(s) no other version holds; lacks ${v.missing} another holds`,
      );
    }
  }
  if (s.versionsOmitted > 0) {
    lines.push(`  (${s.versionsOmitted} more temps not read)`);
  }
  if (s.stateDb.status === "unreadable") {
    lines.push(
      `  state.db ${cut(s.stateDb.path ?? "", 300)}: ${s.stateDb.detail}`,
    );
  }
  const d = s.diff;
  if (d.entries.length === 0) {
    lines.push(
      "",
      d.shared > 0
        ? `Every readable version holds the same ${d.shared} message(s).`
        : "No messages to compare.",
    );
  } else {
    lines.push(
      "",
      `Messages not every version holds (${d.shared} others are in all; ` +
        "+ holds it, - lacks it, a number holds it that often, . not compared):",
      `  ${s.versions.map((_, i) => String(i + 1).padEnd(2)).join("")}`,
    );
    for (const e of d.entries) {
      const marks = e.counts.map((c) =>
        (c === null ? "." : c === 0 ? "-" : c === 1 ? "+" : String(c)).padEnd(
          2,
        )
      ).join("");
      lines.push(
        `  ${marks} ${e.role}${e.at ? ` ${e.at}` : ""}: ${quoted(e.excerpt)}`,
      );
    }
    if (d.omitted > 0) lines.push(`  (${d.omitted} more not listed)`);
  }
  if (s.turns.length > 0) {
    lines.push("", "Turn journal:");
    for (const t of s.turns) {
      lines.push(
        `  ${t.turnId} ${t.state}${t.at ? ` ${t.at}` : ""}: ${
          quoted(t.excerpt)
        }`,
      );
    }
    if (s.turnsOmitted > 0) lines.push(`  (${s.turnsOmitted} more turns)`);
  }
  if (s.runJournals.length > 0) {
    lines.push("", "Run journals (what each run streamed):");
    for (const r of s.runJournals) {
      lines.push(
        `  ${r.file}: ${r.ended ? `ended ${r.ended}` : "never ended"}, ` +
          `${r.textEvents} text, ${r.toolCards} tool cards${
            r.tools.length ? ` (${r.tools.join(", ")})` : ""
          }, ${r.reasoningEvents} reasoning${
            r.problem ? `; ${r.problem}` : ""
          }`,
      );
      if (r.excerpt) lines.push(`    ${quoted(r.excerpt)}`);
    }
    if (s.runJournalsOmitted > 0) {
      lines.push(`  (${s.runJournalsOmitted} more run journals)`);
    }
  }
  return lines;
}

/** Store text (already cut and escaped) between quotes. */
function quoted(text: string): string {
  return `"${text}"`;
}

/**
 * How an acknowledged finding is described (its note is store text: cut
 * and escaped).
 *
 * @example
 * ```ts
 * import { acknowledgedText } from "./show.ts";
 * acknowledgedText({ note: "kept on purpose", at: "2026-12-06T00:00:00.000Z" });
 * // 'Acknowledged 2026-12-06T00:00:00.000Z: "kept on purpose"'
 * ```
 */
export function acknowledgedText(
  ack: NonNullable<Finding["acknowledged"]>,
): string {
  return `Acknowledged ${cut(String(ack.at), 40)}${
    ack.note ? `: "${cut(ack.note, 300)}"` : ""
  }`;
}
