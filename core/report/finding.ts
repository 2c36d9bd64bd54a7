/**
 * Findings: what a check reports about the store. A check returns drafts
 * (kind, session, paths, message, evidence); the pipeline completes them
 * with the metadata its kind declares (category, severity, repair) and a
 * stable id.
 *
 * @example
 * ```ts
 * import type { FindingDraft } from "./finding.ts";
 * const draft: FindingDraft = {
 *   kind: "shrunken_live",
 *   sessionId: "abc",
 *   paths: ["abc.json", "abc.json.bak"],
 *   message: "abc.json has 2 messages but its backup has 40.",
 *   evidence: { liveMessages: 2, bakMessages: 40 },
 * };
 * ```
 * @module
 */

/**
 * What can be done about a finding: `repairable` (a repair can fix it without
 * losing or resurrecting data), `unsafe_to_repair` (a person must decide),
 * or `info` (worth knowing, nothing is wrong enough to act on).
 *
 * @example
 * ```ts
 * import type { Category } from "./finding.ts";
 * const category: Category = "unsafe_to_repair";
 * ```
 */
export type Category = "repairable" | "unsafe_to_repair" | "info";

/**
 * How bad a finding is, for people reading the report.
 *
 * @example
 * ```ts
 * import type { Severity } from "./finding.ts";
 * const severity: Severity = "warning";
 * ```
 */
export type Severity = "error" | "warning" | "info";

/**
 * A JSON value, as evidence and plugin output carry it.
 *
 * @example
 * ```ts
 * import type { JsonValue } from "./finding.ts";
 * const value: JsonValue = { counts: [1, 2], reason: null };
 * ```
 */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | JsonValue[]
  | { [key: string]: JsonValue };

/**
 * Facts behind a finding, as JSON. Counts of messages use -1 for "unknown or
 * unreadable", as the server's own recovery audit does.
 *
 * @example
 * ```ts
 * import type { Evidence } from "./finding.ts";
 * const evidence: Evidence = { liveMessages: 2, bakMessages: 40, guard: "clear_sentinel" };
 * ```
 */
export interface Evidence {
  /** Messages in the live sidecar, -1 when missing or unreadable. */
  liveMessages?: number;
  /** Messages in the `.bak` snapshot, -1 when missing or unreadable. */
  bakMessages?: number;
  /** Any other fact a check records. */
  [key: string]: JsonValue | undefined;
}

/**
 * What a check returns for one problem. The pipeline turns it into a
 * {@linkcode Finding}.
 *
 * @example
 * ```ts
 * import type { FindingDraft } from "./finding.ts";
 * const draft: FindingDraft = {
 *   kind: "untitled_session",
 *   sessionId: "abc",
 *   paths: ["abc.json"],
 *   message: "abc.json has no title.",
 * };
 * ```
 */
export interface FindingDraft {
  /** The finding's kind, declared in the check's `kinds`. */
  kind: string;
  /** The session concerned, when there is one and its id is known. */
  sessionId?: string;
  /** Files concerned, relative to the session dir (absolute for state.db). */
  paths: string[];
  /** One sentence for a person: what is wrong, with the numbers. */
  message: string;
  /** Facts behind it; counts, reasons, offsets. */
  evidence?: Evidence;
  /**
   * Tells apart two findings of the same kind, session and paths (for
   * example the turn id of a pending journal turn); part of the stable id.
   */
  key?: string;
}

/**
 * A finding as it appears in the report.
 *
 * @example
 * ```ts
 * import type { Report } from "./report.ts";
 * declare const report: Report;
 * for (const finding of report.findings) {
 *   console.log(finding.id, finding.kind, finding.category, finding.message);
 * }
 * ```
 */
export interface Finding {
  /** Stable id: the same problem in the same store gets the same id. */
  id: string;
  /** Id of the check that found it. */
  check: string;
  /** What kind of problem it is (see `hermes-fsck explain KIND`). */
  kind: string;
  /** What can be done about it. */
  category: Category;
  /** How bad it is. */
  severity: Severity;
  /** The session concerned, when there is one. */
  sessionId?: string;
  /** Files concerned, relative to the session dir (absolute for state.db). */
  paths: string[];
  /** One sentence for a person. */
  message: string;
  /** Facts behind it. */
  evidence: Evidence;
  /** Id of the repair that fixes it, when one exists. */
  repair?: string;
  /** Name of the external plugin that reported it, for plugin findings. */
  plugin?: string;
  /**
   * Set when a person acknowledged it (`hermes-fsck acknowledge ID`) and
   * no file it names changed since: it no longer sets exit bit 4.
   */
  acknowledged?: { note: string | null; at: string };
}

/**
 * What every finding of one kind shares: its category, severity and repair,
 * and the text `hermes-fsck explain KIND` prints.
 *
 * @example
 * ```ts
 * import type { KindInfo } from "./finding.ts";
 * const info: KindInfo = {
 *   kind: "untitled_session",
 *   category: "info",
 *   severity: "info",
 *   summary: "A session has no title.",
 *   explain: "Nothing is lost; set a title in the UI.",
 * };
 * ```
 */
export interface KindInfo {
  /** The kind's report name, snake_case (for example `shrunken_live`). */
  kind: string;
  /** What can be done about findings of this kind. */
  category: Category;
  /** How bad they are. */
  severity: Severity;
  /** Id of the repair that fixes them, if any. */
  repair?: string;
  /**
   * The `recommendation` the server's audit prints for this kind in the
   * `webui-json` format; defaults to the repair id, else `manual_review`.
   */
  webuiRecommendation?: string;
  /** One line: what it means. */
  summary: string;
  /** Why the category is what it is, and what an operator should do. */
  explain: string;
  /**
   * The choices `hermes-fsck resolve ID --keep SOURCE` offers for a finding
   * of this kind, when a person must choose; `explain KIND` lists them.
   */
  resolutions?: Resolution[];
}

/**
 * What `resolve --keep` may keep: the live sidecar, its `.bak`, a stale
 * save temp, the session's state.db rows, or nothing (`discard`: the file
 * the finding names goes to the run's quarantine).
 *
 * @example
 * ```ts
 * import type { ResolutionSource } from "./finding.ts";
 * const keep: ResolutionSource = "bak";
 * ```
 */
export type ResolutionSource = "live" | "bak" | "temp" | "state-db" | "discard";

/**
 * The resolution sources, in the order `explain` lists them.
 *
 * @example
 * ```ts
 * import { RESOLUTION_SOURCES } from "./finding.ts";
 * RESOLUTION_SOURCES.includes("bak"); // true
 * ```
 */
export const RESOLUTION_SOURCES: readonly ResolutionSource[] = [
  "live",
  "bak",
  "temp",
  "state-db",
  "discard",
];

/**
 * One choice a kind offers to `resolve`: which version to keep, and in
 * one line what that does to the store.
 *
 * @example
 * ```ts
 * import type { Resolution } from "./finding.ts";
 * const choice: Resolution = {
 *   keep: "discard",
 *   meaning: "Move the leftover <sid>.json.bak into the run's quarantine.",
 * };
 * ```
 */
export interface Resolution {
  /** The `--keep` value. */
  keep: ResolutionSource;
  /** One line: what resolving so changes (all of it undoable). */
  meaning: string;
  /**
   * True when the choice brings back a deleted (tombstoned) session:
   * `resolve` then also needs `--undelete`.
   */
  undeletes?: boolean;
}
