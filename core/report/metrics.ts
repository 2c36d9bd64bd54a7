/**
 * A run's metrics in the Prometheus text format (version 0.0.4), for
 * node_exporter's textfile collector: every sample carries the command and
 * the session dir as labels, so one file per store or per command can sit
 * side by side in the collector's dir. Findings are counted by category
 * (every category, zero included, so an alert can test for > 0) and by
 * kind; acknowledged findings are a category of their own here.
 *
 * A run that ended before it had a report (an operational error) still has
 * its exit code, duration and time.
 *
 * @example
 * ```ts
 * import { metricsText } from "./metrics.ts";
 * import type { Report } from "./report.ts";
 * declare const report: Report;
 * const text = metricsText({ command: "preen", sessionDir: "/srv/sessions", exitCode: 0, startedAt: Date.now(), durationMs: 12, report });
 * ```
 * @module
 */

import type { Report } from "./report.ts";
import { openCounts, repairCounts } from "./render_summary.ts";

/**
 * What a metrics file says about one run.
 *
 * @example
 * ```ts
 * import type { MetricsRun } from "./metrics.ts";
 * const run: MetricsRun = { command: "audit", sessionDir: "/srv/sessions", exitCode: 8, startedAt: Date.now(), durationMs: 3, report: null };
 * ```
 */
export interface MetricsRun {
  /** The CLI command: audit, repair or preen. */
  command: string;
  /** The session dir, absolute. */
  sessionDir: string;
  /** The process's exit code. */
  exitCode: number;
  /** When the run started, ms since the epoch. */
  startedAt: number;
  /** How long it took. */
  durationMs: number;
  /** The report, or null when the run ended before it had one. */
  report: Report | null;
}

/** Escapes a label value as the text format wants. */
function label(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(
    /\n/g,
    "\\n",
  );
}

/**
 * The metrics of `run` as a textfile collector file.
 *
 * @example
 * ```ts
 * import { type MetricsRun, metricsText } from "./metrics.ts";
 * declare const run: MetricsRun;
 * await Deno.writeTextFile("/tmp/hermes_fsck.prom", metricsText(run));
 * ```
 */
export function metricsText(run: MetricsRun): string {
  const common = `command="${label(run.command)}",session_dir="${
    label(run.sessionDir)
  }"`;
  const lines: string[] = [];
  const metric = (
    name: string,
    help: string,
    samples: [string, number][],
  ) => {
    lines.push(`# HELP hermes_fsck_${name} ${help}`);
    lines.push(`# TYPE hermes_fsck_${name} gauge`);
    for (const [labels, value] of samples) {
      lines.push(
        `hermes_fsck_${name}{${common}${labels ? "," + labels : ""}} ${value}`,
      );
    }
  };
  metric("exit_code", "Exit code of the last run (a bit mask, as e2fsck's).", [[
    "",
    run.exitCode,
  ]]);
  metric(
    "last_run_timestamp_seconds",
    "When the last run started, seconds since the epoch.",
    [["", Math.floor(run.startedAt / 1000)]],
  );
  metric("duration_seconds", "How long the last run took.", [[
    "",
    run.durationMs / 1000,
  ]]);
  const report = run.report;
  if (report) {
    metric("sessions_checked", "Live sessions the last run checked.", [[
      "",
      report.summary.sessions,
    ]]);
    const open = openCounts(report);
    metric(
      "findings",
      "Findings left after the last run, by category.",
      [
        ['category="repairable"', open.repairable],
        ['category="unsafe_to_repair"', open.unsafe],
        ['category="acknowledged"', open.acknowledged],
        ['category="info"', open.info],
      ],
    );
    const byKind = new Map<string, number>();
    for (const finding of report.findings) {
      const key = `kind="${label(finding.kind)}",category="${
        label(finding.category)
      }"`;
      byKind.set(key, (byKind.get(key) ?? 0) + 1);
    }
    if (byKind.size > 0) {
      metric(
        "findings_by_kind",
        "Findings left after the last run, by kind and category.",
        [...byKind].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0),
      );
    }
    const done = repairCounts(report);
    metric(
      "repairs",
      "Repairs of the last run, by what became of them.",
      [
        ['status="applied"', done.applied],
        ['status="skipped"', done.skipped],
        ['status="failed"', done.failed],
        ['status="planned"', done.planned],
      ],
    );
  }
  return lines.join("\n") + "\n";
}

/**
 * True when `text` is only comments and samples of the text format with
 * `hermes_fsck_` names: what a run of this tool writes.
 *
 * @example
 * ```ts
 * import { isMetricsText } from "./metrics.ts";
 * isMetricsText("hermes_fsck_exit_code{command=\"preen\"} 0\n"); // true
 * ```
 */
export function isMetricsText(text: string): boolean {
  if (!text.endsWith("\n")) return false;
  return text.slice(0, -1).split("\n").every((line) =>
    /^# (HELP|TYPE) hermes_fsck_\w+ [^\n]*$/.test(line) ||
    /^hermes_fsck_\w+\{(\w+="(?:[^"\\\n]|\\.)*",?)*\} -?[\d.e+-]+$/.test(line)
  );
}
