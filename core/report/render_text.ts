/**
 * The `text` format, for people: findings grouped by kind with counts and
 * the first few examples of each (all of them with `verbose`), then what to
 * do next. Readable at ten thousand findings.
 *
 * @example
 * ```ts
 * import { renderText } from "./render_text.ts";
 * import type { Report } from "./report.ts";
 * declare const report: Report;
 * console.log(renderText(report, { verbose: false }));
 * ```
 * @module
 */

import type { AuditResult } from "../run/audit.ts";
import { inBatches } from "../json/json_pieces.ts";
import type { Finding } from "./finding.ts";
import type { Report, StateDbInfo } from "./report.ts";
import type { RepairRecord } from "../run/repair_engine.ts";

/**
 * Options of {@linkcode renderText}.
 *
 * @example
 * ```ts
 * import { renderText } from "./render_text.ts";
 * import type { Report } from "./report.ts";
 * declare const report: Report;
 * console.log(renderText(report, { verbose: false, examples: 3 }));
 * ```
 */
export interface TextOptions {
  /** List every finding instead of the first few of each kind. */
  verbose: boolean;
  /** Examples shown per kind when not verbose (default 5). */
  examples?: number;
  /**
   * The command the heading names when it is not the report's own: `preen`
   * runs `repair`.
   */
  command?: string;
  /**
   * Colour for a terminal (ANSI): categories, statuses and the verdict.
   * The CLI sets it only on a terminal without `NO_COLOR`.
   */
  color?: boolean;
}

/** ANSI colours of the text report, by what they mark. */
const COLORS = {
  repairable: "33", // yellow
  unsafe_to_repair: "31", // red
  info: "36", // cyan
  applied: "32", // green
  planned: "36",
  skipped: "33",
  failed: "31",
  clean: "32",
  next: "1", // bold
} as const;

/** `text` in the colour of `what`, when colour is on. */
function paint(
  options: TextOptions,
  what: keyof typeof COLORS,
  text: string,
): string {
  return options.color ? `\x1b[${COLORS[what]}m${text}\x1b[0m` : text;
}

/**
 * Renders a report as text.
 *
 * @example
 * ```ts
 * import { renderText } from "./render_text.ts";
 * import type { Report } from "./report.ts";
 * declare const report: Report;
 * renderText(report, { verbose: true });
 * ```
 */
export function renderText(report: Report, options: TextOptions): string {
  return [...renderTextPieces(report, options)].join("");
}

/**
 * {@linkcode renderText} in pieces of about 64 KiB, for a report of any
 * size (`--verbose` lists every finding).
 *
 * @example
 * ```ts
 * import { renderTextPieces } from "./render_text.ts";
 * import type { Report } from "./report.ts";
 * import type { CliIo } from "../../cli.ts";
 * declare const report: Report;
 * declare const io: CliIo;
 * for (const piece of renderTextPieces(report, { verbose: true })) io.stdout(piece);
 * ```
 */
export function* renderTextPieces(
  report: Report,
  options: TextOptions,
): Generator<string> {
  yield* inBatches(endedLines(textLines(report, options)));
}

function* endedLines(lines: readonly string[]): Generator<string> {
  for (const line of lines) {
    yield line;
    yield "\n";
  }
}

function textLines(report: Report, options: TextOptions): string[] {
  const lines: string[] = [];
  const command = options.command ?? report.command;
  const title = report.dryRun ? `${command} --dry-run` : command;
  lines.push(
    `hermes-fsck ${report.tool.version} ${title} of ${report.sessionDir}`,
  );
  lines.push(`state.db: ${describeStateDb(report.stateDb)}`);
  for (const db of report.profileStateDbs ?? []) {
    lines.push(`state.db of profile ${db.profile}: ${describeStateDb(db)}`);
  }
  if (report.repair) {
    const stale = report.repair.staleLock;
    if (stale) {
      lines.push(
        `Took over the lock of a hermes-fsck run that died (pid ${stale.pid} on ${stale.host}, since ${stale.acquiredAt}).`,
      );
    }
    lines.push("");
    lines.push(`Before: ${countLine(report.repair.before)}`);
    pushAll(
      lines,
      renderActions(report.repair.actions, report.dryRun, options),
    );
    if (!report.dryRun) {
      lines.push("");
      lines.push(`After: ${countLine(report)}`);
      pushAll(lines, renderFindings(report.findings, options));
    } else {
      if (report.repair.actions.some((r) => r.status === "planned")) {
        lines.push(
          "",
          "Each pass a real run makes is planned above, on the store as " +
            "the passes before it would leave it (held in memory). A real " +
            "run differs only where the store changes before it runs, and " +
            "in the time it stamps on what it writes.",
        );
      }
      pushAll(lines, renderFindings(report.repair.before.findings, options));
    }
    if (report.repair.runId && report.repair.runDir) {
      lines.push("");
      lines.push(
        `Run ${report.repair.runId}: replaced files are kept in ` +
          `${report.repair.runDir}/ with a manifest.`,
      );
    }
  } else {
    lines.push("");
    lines.push(countLine(report));
    pushAll(lines, renderFindings(report.findings, options));
  }
  if (report.interrupted) {
    lines.push("");
    lines.push(
      "Interrupted: the run stopped after the action in progress, without " +
        "its final audit (the findings above may be from before its last " +
        "actions); run it again to finish.",
    );
  }
  lines.push("");
  const next = nextStep(report);
  lines.push(
    next.startsWith("Next:")
      ? paint(options, "next", next)
      : paint(options, "clean", next),
  );
  return lines;
}

/** Adds `more` to `lines` one by one: a spread of a long list overflows the stack. */
function pushAll(lines: string[], more: readonly string[]): void {
  for (const line of more) lines.push(line);
}

function describeStateDb(db: StateDbInfo): string {
  if (db.status === "ok") return db.path ?? "";
  if (db.status === "unreadable") {
    // The detail says the cause and what to do, in one sentence.
    return `${db.path} ${db.detail}; checked without it`;
  }
  return db.path
    ? `${db.path} not found; checked without it`
    : "none; checked without it";
}

function countLine(audit: AuditResult): string {
  const s = audit.summary;
  const problems = s.repairable + s.unsafe_to_repair;
  const sessions = `${s.sessions} session${s.sessions === 1 ? "" : "s"}`;
  if (problems === 0 && s.info === 0) {
    return `${sessions} checked, no problems found.`;
  }
  const parts = [
    `${s.repairable} repairable`,
    `${s.unsafe_to_repair} unsafe to repair`,
    `${s.info} info`,
  ];
  const reviewed = acknowledgedCount(audit.findings);
  if (reviewed > 0) parts.push(`${reviewed} of them acknowledged`);
  return `${sessions} checked: ${parts.join(", ")}.`;
}

function renderFindings(findings: Finding[], options: TextOptions): string[] {
  const limit = options.verbose ? Infinity : options.examples ?? 5;
  const groups = new Map<string, Finding[]>();
  for (const finding of findings) {
    const group = groups.get(finding.kind) ?? [];
    group.push(finding);
    groups.set(finding.kind, group);
  }
  const lines: string[] = [];
  for (const [kind, group] of groups) {
    const first = group[0];
    const action = first.repair
      ? `repair: ${first.repair}`
      : first.category === "info"
      ? "no action needed"
      : "manual review";
    // A plugin's kinds are not in `hermes-fsck explain`: say who reported
    // them, every plugin of the group.
    const plugins = [
      ...new Set(group.flatMap((f) => f.plugin ? [f.plugin] : [])),
    ].sort();
    const source = plugins.length === 0
      ? ""
      : `; plugin${plugins.length === 1 ? "" : "s"} ${plugins.join(", ")}`;
    lines.push("");
    lines.push(
      `${paint(options, first.category, kind)} (${group.length}, ${
        first.category.replaceAll("_", " ")
      }; ${action}${source})`,
    );
    for (const finding of group.slice(0, limit)) {
      lines.push(`  - ${finding.message}${reviewNote(finding)}`);
    }
    if (group.length > limit) {
      lines.push(
        `  ... and ${group.length - limit} more (--verbose lists all)`,
      );
    }
  }
  return lines;
}

/**
 * The id of a finding a person must decide on (for `resolve` and
 * `acknowledge`), and whether one acknowledged it.
 */
function reviewNote(finding: Finding): string {
  if (finding.category !== "unsafe_to_repair") return "";
  const ack = finding.acknowledged;
  return ack
    ? ` [${finding.id}; acknowledged ${ack.at}${
      ack.note ? `: ${JSON.stringify(ack.note)}` : ""
    }]`
    : ` [${finding.id}]`;
}

function acknowledgedCount(findings: readonly Finding[]): number {
  return findings.filter((f) => f.acknowledged).length;
}

function renderActions(
  records: RepairRecord[],
  dryRun: boolean,
  options: TextOptions,
): string[] {
  const lines = [
    "",
    dryRun ? "Plan (dry run: nothing was changed):" : "Actions:",
  ];
  if (records.length === 0) {
    lines.push("  (none: nothing is repairable)");
    return lines;
  }
  let pass = 1;
  for (const record of records) {
    if (record.pass !== pass) {
      pass = record.pass;
      lines.push(
        dryRun
          ? `  Pass ${pass}, planned on the store as pass ${
            pass - 1
          } would leave it (held in memory, nothing written):`
          : `  Pass ${pass}, on the store as pass ${pass - 1} left it:`,
      );
    }
    const status = paint(options, record.status, record.status.padEnd(7));
    lines.push(
      `  ${status} ${record.repair}: ${record.summary}${
        record.detail ? ` (${record.detail})` : ""
      }`,
    );
    if (dryRun || record.status !== "skipped") {
      for (const action of record.actions) {
        const size = action.op === "write" || action.op === "append"
          ? `, ${action.bytes} bytes`
          : "";
        const kept = action.quarantined
          ? `; old file kept as ${action.quarantined}`
          : "";
        lines.push(
          `            ${action.op} ${action.path}${size}: ${action.note}${kept}`,
        );
      }
    }
  }
  return lines;
}

/**
 * Whether a second repair run may fix what this one left: it stopped early
 * (a signal, or its last pass still applied repairs), the store moved under
 * it, or an action failed on an error that can be fixed. A repair that
 * declined on the store as it is declines again.
 */
function againMayHelp(report: Report): boolean {
  if (report.interrupted) return true;
  const records = report.repair?.actions ?? [];
  const last = report.repair?.passes ?? 0;
  return records.some((record) =>
    (record.pass === last && record.status === "applied") ||
    record.status === "failed" ||
    record.actions.some((a) =>
      a.reason === "store_changed" || a.reason === "exists" ||
      a.reason === "locked"
    )
  );
}

function nextStep(report: Report): string {
  const s = report.summary;
  if (s.repairable === 0 && s.unsafe_to_repair === 0) {
    return report.command === "repair" && !report.dryRun &&
        (report.exitCode & 1)
      ? "The store is clean now."
      : "The store is clean.";
  }
  const parts: string[] = [];
  if (s.repairable > 0) {
    const problems = `${s.repairable} repairable problem${
      s.repairable === 1 ? "" : "s"
    }`;
    parts.push(
      report.command !== "repair"
        ? `run \`hermes-fsck repair\` to fix ${problems} (add --dry-run to see the plan first)`
        : report.dryRun
        ? `run \`hermes-fsck repair\` without --dry-run to fix ${problems} as planned`
        : againMayHelp(report)
        ? `${problems} could not be repaired in this run (see the reasons above); run repair again`
        : `${problems} ${
          s.repairable === 1 ? "was" : "were"
        } left as this run found ${
          s.repairable === 1 ? "it" : "them"
        }, and running repair again would not change that (see the actions above)`,
    );
  }
  const open = s.unsafe_to_repair - acknowledgedCount(report.findings);
  if (open > 0) {
    parts.push(
      `${open} need${
        open === 1 ? "s" : ""
      } manual review: \`hermes-fsck explain KIND\` says what to do, ` +
        "`hermes-fsck resolve ID --keep SOURCE` applies a choice, " +
        "`hermes-fsck acknowledge ID` records that you leave it",
    );
  }
  if (parts.length === 0) {
    return "Next: nothing; every problem left was acknowledged (`hermes-fsck acknowledge --list`).";
  }
  return `Next: ${parts.join("; ")}.`;
}
