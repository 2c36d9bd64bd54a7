/**
 * hermes-fsck as a library: audit and repair a Hermes WebUI session store
 * with the built-in checks and repairs, or with your own.
 *
 * Three ways to add a check (README, "Extending"): build your own binary
 * on this module (the only way to add repairs; `main` of `cli.ts` gives it
 * the whole command line); run external check programs with `--plugin` and
 * `--plugin-dir` ({@linkcode runExternalPlugins}, protocol in
 * {@linkcode PluginInput}); or, under `deno run`, load a `.ts` module that
 * exports a check with `--plugin`.
 *
 * ```ts
 * import { builtinChecks, defineCheck, runPipeline } from "./mod.ts";
 *
 * const untitled = defineCheck({
 *   id: "untitled-sessions",
 *   title: "Sessions without a title",
 *   description: "Reports sidecars whose title is empty.",
 *   kinds: {
 *     untitled_session: {
 *       category: "info", severity: "info",
 *       summary: "A session has no title.", explain: "Nothing is lost.",
 *     },
 *   },
 *   create: (context) => ({
 *     session({ sessionId, files: { live } }) {
 *       if (live?.read.ok && !live.read.value.meta.title) {
 *         context.report({ kind: "untitled_session", sessionId,
 *           paths: [live.name], message: `${sessionId} has no title.` });
 *       }
 *     },
 *   }),
 * });
 *
 * const report = await runPipeline({
 *   command: "audit",
 *   sessionDir: "/srv/hermes/webui/sessions",
 *   stateDbPath: null,
 *   checks: [...builtinChecks, untitled],
 * });
 * console.log(report.status, report.exitCode);
 * ```
 *
 * @module
 */

export {
  type Category,
  type Evidence,
  type Finding,
  type FindingDraft,
  type JsonValue,
  type KindInfo,
  type Resolution,
  RESOLUTION_SOURCES,
  type ResolutionSource,
  type Severity,
} from "./core/finding.ts";
export {
  type ResolveAction,
  resolveFinding,
  type ResolveOptions,
  ResolveRefused,
  type ResolveResult,
} from "./core/resolve.ts";
export {
  ACKNOWLEDGED_FILE,
  type AcknowledgedRead,
  type Acknowledgement,
  applyAcknowledgements,
  type FileState,
  readAcknowledgements,
} from "./core/acknowledged.ts";
export {
  type Check,
  type CheckContext,
  type CheckDefinition,
  type CheckOptions,
  defineCheck,
  type KindSpec,
  type RowScope,
  type SessionScope,
  type SessionStore,
  type StoreWide,
  type TempScope,
  type Visitors,
} from "./core/check.ts";
export { CheckRun } from "./core/check_engine.ts";
export {
  defineRepair,
  isSkip,
  type Plan,
  type PlanRead,
  type PlanSkip,
  type Repair,
  type RepairContext,
} from "./core/repair.ts";
export type { Action, ActionOutcome, Expectation } from "./core/action.ts";
export {
  findingId,
  PIPELINE_KINDS,
  runChecks,
  selectChecks,
  type Selection,
} from "./core/pipeline.ts";
export {
  type AuditOptions,
  type AuditResult,
  type AuditStatus,
  auditStore,
  type AuditSummary,
  DEFAULT_PART_SESSIONS,
  summarizeFindings,
} from "./core/audit.ts";
export {
  type RepairRecord,
  type RepairRun,
  type RepairRunOptions,
  runRepair,
} from "./core/repair_engine.ts";
export { kindsOf, type PipelineOptions, runPipeline } from "./core/run.ts";
export type { RepairProgress } from "./core/scan_progress.ts";
export {
  registerChecks,
  registryProblems,
  withRepairs,
} from "./core/registry.ts";
export { Interrupted } from "./core/interrupt.ts";
export {
  DEFAULT_PLUGIN_OUTPUT_BYTES,
  DEFAULT_PLUGIN_TIMEOUT_MS,
  type ExternalPlugin,
  pluginCheckId,
  type PluginFailure,
  type PluginSettings,
  runExternalPlugins,
} from "./core/plugin_runner.ts";
export {
  type ParsedPluginLine,
  parsePluginLine,
  PLUGIN_FINDING_SCHEMA,
  PLUGIN_PROTOCOL_VERSION,
  type PluginFindingLine,
  type PluginInput,
  pluginInput,
  type PluginSession,
} from "./core/plugin_protocol.ts";
export {
  type LoadedPlugins,
  loadPlugins,
  PLUGIN_DIR_ENV,
  PluginLoadError,
  type PluginSources,
} from "./core/plugin_load.ts";
export { type JsonSchema, validateJson } from "./core/json_schema.ts";
export { REPORT_SCHEMA, validateReport } from "./core/report_schema.ts";
export type { LockHolder } from "./core/lock.ts";
export {
  EXIT,
  exitCodeOf,
  type Report,
  type StateDbInfo,
} from "./core/report.ts";
export {
  DEFAULT_MAX_FILE_BYTES,
  type IndexEntry,
  type IndexSummary,
  type InvalidName,
  type OtherEntry,
  type ProfileDbSet,
  type ScannedFile,
  type ScanOptions,
  type ScanParts,
  type ScanProgress,
  scanStore,
  type SessionFiles,
  type SessionJournal,
  type StoreSnapshot,
  type TempFile,
  tombstonedIds,
  type TombstoneSummary,
} from "./core/snapshot.ts";
export type { TempOrigin } from "./core/store_layout.ts";
export {
  isPlainObject,
  messageText,
  type SidecarSummary,
  type SummarizeOptions,
  summarizeSidecar,
} from "./core/sidecar_summary.ts";
export {
  createdAtKey,
  type JournalReadOptions,
  type JournalSessionId,
  type JournalSummary,
  summarizeJournal,
  type TurnState,
} from "./core/turn_journal.ts";
export {
  type JournalListing,
  journalNameParts,
  listJournalFiles,
  type SessionJournalNames,
} from "./core/journal_files.ts";
export {
  DEFAULT_RUN_JOURNAL_LIMITS,
  eventOwnsRun,
  isVisibleOutputEvent,
  readRunOutput,
  type RunJournalLimits,
  type RunJournalLineStats,
  type RunJournalSummary,
  type RunOutput,
  type RunOutputItem,
  runOutputItem,
  runTerminalState,
  summarizeRunJournal,
  TerminalPick,
} from "./core/run_journal.ts";
export {
  activeRunVerdict,
  NO_RUN_JOURNALS,
  runJournalOf,
  type RunJournals,
  type ScannedRunJournal,
  type SessionRunJournal,
} from "./core/run_journal_scan.ts";
export {
  listRunJournals,
  type RefusedRunJournalPath,
  type RunJournalListing,
  type RunJournalName,
  runJournalName,
  type RunJournalRefusal,
  type SessionRunJournalNames,
} from "./core/run_journal_files.ts";
export {
  openStateDb,
  type OpenStateDbOptions,
  SESSION_COLUMNS,
  type SqlValue,
  type StateDb,
  type StateDbLookup,
  type StateDbMessage,
  type StateDbParts,
  type StateDbProblem,
  type StateDbReader,
  type StateDbSessionRow,
  type StateDbSideFile,
  type StateDbSideFiles,
} from "./core/state_db.ts";
export {
  profileDbsOf,
  type ProfileRow,
  type ProfileStateDb,
  ProfileStateDbs,
  stateDbOf,
  webuiRowFor,
  webuiRowsOf,
} from "./core/profile_state_db.ts";
export {
  baseHermesHome,
  isValidProfileName,
  PROFILE_NAME,
  profileOf,
  sessionProfile,
} from "./core/profile_home.ts";
export type {
  FileIdentity,
  ReadProblem,
  ReadProblemReason,
  ReadResult,
} from "./core/file_read.ts";
export {
  deletion,
  messageCountOf,
  stateDbKnowsSession,
  summaryOf,
} from "./core/store_facts.ts";
export { isValidJournalName, isValidSessionId } from "./core/session_id.ts";
export {
  intentionalShrinkGuard,
  type ShrinkGuard,
} from "./core/shrink_guards.ts";
export { compactEntry, sortIndexEntries } from "./core/compact_entry.ts";
export {
  type FileVersion,
  type Manifest,
  type ManifestEntry,
  newRunId,
  type RunHeader,
  StoreWriter,
  type WriterOptions,
} from "./core/safety.ts";
export { type RunRecordProblem } from "./core/run_records.ts";
export {
  defaultPaths,
  type EnvReader,
  type StorePaths,
} from "./core/default_paths.ts";
export { renderText, type TextOptions } from "./core/render_text.ts";
export {
  renderWebuiJson,
  toWebuiAudit,
  type WebuiAudit,
  type WebuiItem,
} from "./core/render_webui.ts";
export { REPORT_SCHEMA_VERSION, TOOL_VERSION } from "./core/version.ts";
export { builtinChecks } from "./checks/builtin.ts";
export { builtinRepairs } from "./repairs/builtin.ts";
