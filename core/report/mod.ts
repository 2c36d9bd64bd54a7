/**
 * The report: findings and their ids, the typed report of a run, its renderers
 * (text, json, webui-json, summary), its JSON Schema, and metrics for fleets.
 *
 * - `excerpt.ts`: Store text made safe to show:
 * - `finding.ts`: Findings:
 * - `finding_make.ts`: Findings made from drafts:
 * - `listed_cap.ts`: How many findings of one kind one file may give a check
 *   run before they are told as one.
 * - `metrics.ts`: A run's metrics in the Prometheus text format (version
 *   0.0.4), for node_exporter's textfile collector:
 * - `metrics_file.ts`: Writing `--metrics-file PATH` the way node_exporter's
 *   textfile collector expects:
 * - `render_summary.ts`: The `summary` format:
 * - `render_text.ts`: The `text` format, for people:
 * - `render_webui.ts`: The `webui-json` format:
 * - `report.ts`: The report:
 * - `report_schema.ts`: The JSON Schema of the `json` report, embedded as a
 *   module so a compiled binary carries it, with a validator for it.
 * - `shown_value.ts`: Values read from a damaged store (an id, a title, a
 *   journal field) as a finding shows them:
 *
 * @example
 * ```ts
 * import * as report from "./mod.ts";
 * ```
 * @module
 */

export * from "./excerpt.ts";
export * from "./finding.ts";
export * from "./finding_make.ts";
export * from "./listed_cap.ts";
export * from "./metrics.ts";
export * from "./metrics_file.ts";
export * from "./render_summary.ts";
export * from "./render_text.ts";
export * from "./render_webui.ts";
export * from "./report.ts";
export * from "./report_schema.ts";
export * from "./shown_value.ts";
