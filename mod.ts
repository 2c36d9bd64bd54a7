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
} from "./core/report/mod.ts";
export {
  type ResolveAction,
  resolveFinding,
  type ResolveOptions,
  ResolveRefused,
  type ResolveResult,
} from "./core/review/mod.ts";
export {
  ACKNOWLEDGED_FILE,
  type AcknowledgedRead,
  type Acknowledgement,
  applyAcknowledgements,
  type FileState,
  readAcknowledgements,
} from "./core/review/mod.ts";
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
} from "./core/plugins/mod.ts";
export { CheckRun } from "./core/plugins/mod.ts";
export {
  defineRepair,
  isSkip,
  type Plan,
  type PlanRead,
  type PlanSkip,
  type Repair,
  type RepairContext,
} from "./core/plugins/mod.ts";
export type { Action, ActionOutcome, Expectation } from "./core/plugins/mod.ts";
export {
  findingId,
  PIPELINE_KINDS,
  runChecks,
  selectChecks,
  type Selection,
} from "./core/plugins/mod.ts";
export {
  type AuditOptions,
  type AuditResult,
  type AuditStatus,
  auditStore,
  type AuditSummary,
  DEFAULT_PART_SESSIONS,
  summarizeFindings,
} from "./core/run/mod.ts";
export {
  type RepairRecord,
  type RepairRun,
  type RepairRunOptions,
  runRepair,
} from "./core/run/mod.ts";
export { kindsOf, type PipelineOptions, runPipeline } from "./core/run/mod.ts";
export type { RepairProgress } from "./core/scan/mod.ts";
export {
  registerChecks,
  registryProblems,
  withRepairs,
} from "./core/plugins/mod.ts";
export { Interrupted } from "./core/io/mod.ts";
export {
  DEFAULT_PLUGIN_OUTPUT_BYTES,
  DEFAULT_PLUGIN_TIMEOUT_MS,
  type ExternalPlugin,
  pluginCheckId,
  type PluginFailure,
  type PluginSettings,
  runExternalPlugins,
} from "./core/plugins/mod.ts";
export {
  type ParsedPluginLine,
  parsePluginLine,
  PLUGIN_FINDING_SCHEMA,
  PLUGIN_PROTOCOL_VERSION,
  type PluginFindingLine,
  type PluginInput,
  pluginInput,
  type PluginSession,
} from "./core/plugins/mod.ts";
export {
  type LoadedPlugins,
  loadPlugins,
  PLUGIN_DIR_ENV,
  PluginLoadError,
  type PluginSources,
} from "./core/plugins/mod.ts";
export { type JsonSchema, validateJson } from "./core/json/mod.ts";
export { REPORT_SCHEMA, validateReport } from "./core/report/mod.ts";
export type { LockHolder } from "./core/io/mod.ts";
export {
  EXIT,
  exitCodeOf,
  type Report,
  type StateDbInfo,
} from "./core/report/mod.ts";
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
} from "./core/scan/mod.ts";
export type { TempOrigin } from "./core/store/mod.ts";
export {
  isPlainObject,
  messageText,
  type SidecarSummary,
  type SummarizeOptions,
  summarizeSidecar,
} from "./core/store/mod.ts";
export {
  createdAtKey,
  type JournalReadOptions,
  type JournalSessionId,
  type JournalSummary,
  summarizeJournal,
  type TurnState,
} from "./core/journal/mod.ts";
export {
  type JournalListing,
  journalNameParts,
  listJournalFiles,
  type SessionJournalNames,
} from "./core/journal/mod.ts";
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
} from "./core/journal/mod.ts";
export {
  activeRunVerdict,
  NO_RUN_JOURNALS,
  runJournalOf,
  type RunJournals,
  type ScannedRunJournal,
  type SessionRunJournal,
} from "./core/scan/mod.ts";
export {
  listRunJournals,
  type RefusedRunJournalPath,
  type RunJournalListing,
  type RunJournalName,
  runJournalName,
  type RunJournalRefusal,
  type SessionRunJournalNames,
} from "./core/journal/mod.ts";
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
} from "./core/state_db/mod.ts";
export {
  profileDbsOf,
  type ProfileRow,
  type ProfileStateDb,
  ProfileStateDbs,
  stateDbOf,
  webuiRowFor,
  webuiRowsOf,
} from "./core/state_db/mod.ts";
export {
  baseHermesHome,
  isValidProfileName,
  PROFILE_NAME,
  profileOf,
  sessionProfile,
} from "./core/store/mod.ts";
export type {
  FileIdentity,
  ReadProblem,
  ReadProblemReason,
  ReadResult,
} from "./core/io/mod.ts";
export {
  deletion,
  messageCountOf,
  stateDbKnowsSession,
  summaryOf,
} from "./core/scan/mod.ts";
export { isValidJournalName, isValidSessionId } from "./core/store/mod.ts";
export { intentionalShrinkGuard, type ShrinkGuard } from "./core/store/mod.ts";
export { compactEntry, sortIndexEntries } from "./core/store/mod.ts";
export {
  type FileVersion,
  type Manifest,
  type ManifestEntry,
  newRunId,
  type RunHeader,
  StoreWriter,
  type WriterOptions,
} from "./core/io/mod.ts";
export { type RunRecordProblem } from "./core/io/mod.ts";
export {
  defaultPaths,
  type EnvReader,
  type StorePaths,
} from "./core/store/mod.ts";
export { renderText, type TextOptions } from "./core/report/mod.ts";
export {
  renderWebuiJson,
  toWebuiAudit,
  type WebuiAudit,
  type WebuiItem,
} from "./core/report/mod.ts";
export { REPORT_SCHEMA_VERSION, TOOL_VERSION } from "./core/run/mod.ts";
export { builtinChecks } from "./checks/builtin.ts";
export { builtinRepairs } from "./repairs/builtin.ts";
