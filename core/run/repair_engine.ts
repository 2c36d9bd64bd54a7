/**
 * The repair run: audit, plan each repairable finding, apply the plans
 * through the safety layer, audit again, in passes until a pass changes
 * nothing (a restored session may reveal an index entry to add). Unsafe
 * findings are never touched; a finding whose repair was skipped or failed
 * is not retried in the same run. A dry run runs the same passes on an
 * overlay of the store (core/io/overlay.ts): each pass's plans are laid
 * over the files in memory, and the next pass audits and plans on the
 * store as the overlay has it, so every pass a real run would make is
 * shown and nothing is written anywhere.
 *
 * @example
 * ```ts
 * import { runRepair } from "./repair_engine.ts";
 * import { builtinChecks } from "../../checks/builtin.ts";
 * import { builtinRepairs } from "../../repairs/builtin.ts";
 * const run = await runRepair({
 *   scan: { sessionDir: "/srv/sessions", stateDbPath: null },
 *   checks: builtinChecks, repairs: builtinRepairs, dryRun: false,
 * });
 * console.log(run.runId, run.records.length, run.after.status);
 * ```
 * @module
 */

import { join } from "../io/path.ts";
import type { Action, ActionOutcome } from "../plugins/action.ts";
import { type AuditResult, auditStore, summarizeFindings } from "./audit.ts";
import { PIPELINE_KINDS, toFinding } from "../plugins/pipeline.ts";
import type { Check, CheckOptions } from "../plugins/check.ts";
import type { Finding } from "../report/finding.ts";
import {
  isSkip,
  type Plan,
  type PlanRead,
  type Repair,
  type RepairContext,
} from "../plugins/repair.ts";
import {
  expectationOf,
  newRunId,
  rollBackInterruptedActions,
  StoreWriter,
  type WriterOptions,
} from "../io/safety.ts";
import {
  DEFAULT_MAX_FILE_BYTES,
  type ScanOptions,
  type StoreSnapshot,
} from "../scan/snapshot.ts";
import { classifyName } from "../store/layout.ts";
import { StoreOverlay, withOverlay } from "../io/overlay.ts";
import { sha256Hex } from "../io/hash.ts";
import { acquireLock, type LockHolder } from "../io/lock.ts";
import { interruptCheck, Interrupted, nextEvent } from "../io/interrupt.ts";
import type { PluginSettings } from "../plugins/plugin_runner.ts";
import type { RepairProgress } from "../scan/progress.ts";

/**
 * What happened to one planned repair.
 *
 * @example
 * ```ts
 * import type { Report } from "../report/report.ts";
 * declare const report: Report;
 * for (const record of report.repair?.actions ?? []) {
 *   console.log(record.repair, record.status, record.actions.map((a) => a.path));
 * }
 * ```
 */
export interface RepairRecord {
  /** 1 for the first pass. */
  pass: number;
  /** Id of the repair. */
  repair: string;
  /** Ids of the findings it fixes. */
  findingIds: string[];
  /** The session, when the repair is for one. */
  sessionId?: string;
  /** One sentence: what it does (or would do). */
  summary: string;
  /** `planned` in a dry run. */
  status: "planned" | "applied" | "skipped" | "failed";
  /** Why it was skipped or failed. */
  detail?: string;
  /** Its actions, in order, with what became of each. */
  actions: {
    op: Action["op"];
    path: string;
    note: string;
    bytes: number;
    status: "planned" | ActionOutcome["status"] | "not_reached";
    reason?: ActionOutcome["reason"];
    detail?: string;
    quarantined?: string;
    /** SHA-256 of the bytes a write or append writes (or would). */
    sha256?: string;
  }[];
}

/**
 * Options of {@linkcode runRepair}.
 *
 * @example
 * ```ts
 * import type { RepairRunOptions } from "./repair_engine.ts";
 * import { builtinChecks } from "../../checks/builtin.ts";
 * import { builtinRepairs } from "../../repairs/builtin.ts";
 * const options: RepairRunOptions = {
 *   scan: { sessionDir: "/srv/sessions", stateDbPath: null },
 *   checks: builtinChecks,
 *   repairs: builtinRepairs,
 *   dryRun: true,
 * };
 * ```
 */
export interface RepairRunOptions {
  /** What to scan. */
  scan: ScanOptions;
  /** The checks of every audit of the run. */
  checks: readonly Check[];
  /** The repairs, applied in this order. */
  repairs: readonly Repair[];
  /** Which findings to keep (from `--check`/`--skip`); all by default. */
  keep?: (finding: Finding) => boolean;
  /** Run facts; `now` defaults to the scan's start. */
  checkOptions?: Partial<CheckOptions>;
  /** Plan only: print what would happen and change nothing. */
  dryRun: boolean;
  /** At most this many passes (default 3). */
  maxPasses?: number;
  /** A run id to use instead of a new one. */
  runId?: string;
  /**
   * Kinds of `info` finding whose repair should run too (`--also-repair`);
   * info findings are never repaired unless asked for.
   */
  alsoRepair?: readonly string[];
  /** Options of the safety layer. */
  writer?: WriterOptions;
  /**
   * Checked between repairs (events are let in every few ms, so a signal's
   * listener runs): when it returns true the run finishes the repair in
   * progress and stops, without a final audit. An interruption during the
   * first audit (`scan.interrupted`) rejects with `Interrupted` before
   * anything is written.
   */
  interrupted?: () => boolean;
  /** External check programs, run with every audit of the run; they never write. */
  plugins?: PluginSettings;
  /** Called after each repair a pass tries, for a progress line. */
  onProgress?: (progress: RepairProgress) => void;
}

/**
 * The outcome of a repair run.
 *
 * @example
 * ```ts
 * import { type RepairRunOptions, type RepairRun, runRepair } from "./repair_engine.ts";
 * declare const options: RepairRunOptions;
 * const run: RepairRun = await runRepair(options);
 * console.log(run.runId, run.after.status);
 * run.store.stateDb.close();
 * ```
 */
export interface RepairRun {
  /** The run's id; null for a dry run, or a run that recorded nothing. */
  runId: string | null;
  /** The quarantine dir of the run, relative to the session dir, if it was used. */
  runDir: string | null;
  /** The audit before any repair. */
  before: AuditResult;
  /**
   * The audit of the store as the run left it (a dry run leaves it as it
   * was: its `before`).
   */
  after: AuditResult;
  /** Every repair planned or tried, in order. */
  records: RepairRecord[];
  /** How many passes ran. */
  passes: number;
  /** True when a signal stopped the run between actions. */
  interrupted: boolean;
  /** The final snapshot (its state.db connection is open; close it). */
  store: StoreSnapshot;
  /** A stale lock of a dead run that was taken over, if any. */
  tookOverLockFrom: LockHolder | null;
}

/**
 * Runs repairs. Opens the safety layer only when there is something to
 * apply, so a clean store is never written to.
 *
 * @example
 * ```ts
 * import { runRepair } from "./repair_engine.ts";
 * import type { ScanOptions } from "../scan/snapshot.ts";
 * import { builtinChecks } from "../../checks/builtin.ts";
 * import { builtinRepairs } from "../../repairs/builtin.ts";
 * declare const scan: ScanOptions;
 * const run = await runRepair({ scan, checks: builtinChecks, repairs: builtinRepairs, dryRun: true });
 * ```
 */
export async function runRepair(options: RepairRunOptions): Promise<RepairRun> {
  // A dry run only reads; a real one keeps every other repair out until the
  // final audit is done, so its plan is never made on a moving store.
  return await underRunLock(
    options.scan.sessionDir,
    "repair",
    options.dryRun,
    () => repairUnderLock(options),
  );
}

/**
 * Runs `body`, a run that may write (repair, resolve), under the store's
 * lock, taken unless it is a dry run (which only reads). A run that died
 * between moving a file aside and linking its new one in left that path
 * empty: the old file is put back first, so the run's audit sees the store
 * as it was, not a session gone missing.
 *
 * @example
 * ```ts
 * import { underRunLock } from "./repair_engine.ts";
 * const result = await underRunLock("/srv/sessions", "resolve", false, async () => ({ done: true }));
 * console.log(result.tookOverLockFrom);
 * ```
 */
export async function underRunLock<T extends object>(
  sessionDir: string,
  command: string,
  dryRun: boolean,
  body: () => Promise<T>,
): Promise<T & { tookOverLockFrom: LockHolder | null }> {
  const lock = dryRun ? null : await acquireLock(sessionDir, command);
  try {
    if (lock) await rollBackInterruptedActions(sessionDir);
    return { ...(await body()), tookOverLockFrom: lock?.tookOverFrom ?? null };
  } finally {
    await lock?.release();
  }
}

async function repairUnderLock(
  options: RepairRunOptions,
): Promise<Omit<RepairRun, "tookOverLockFrom">> {
  if (!options.dryRun) return await repairPasses(options, null);
  // Everything a dry run reads, its audits' scans and its repairs' plans,
  // reads the store through the overlay its plans are laid on.
  const overlay = new StoreOverlay(options.scan.sessionDir);
  return await withOverlay(overlay, () => repairPasses(options, overlay));
}

/** The passes of a run; a dry run's applied to `overlay`, not the store. */
async function repairPasses(
  options: RepairRunOptions,
  overlay: StoreOverlay | null,
): Promise<Omit<RepairRun, "tookOverLockFrom">> {
  const maxPasses = options.maxPasses ?? 3;
  const maxBytes = options.scan.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const audit = () =>
    auditStore({
      scan: options.scan,
      checks: options.checks,
      keep: options.keep,
      checkOptions: options.checkOptions,
      plugins: options.plugins,
    });
  const before = await audit();
  // A signal that came during the first audit, after its scan, may not
  // have reached its listener yet: it has that chance before any write.
  await nextEvent();
  if (options.interrupted?.()) {
    before.store.stateDb.close();
    before.store.profileDbs?.close();
    throw new Interrupted("the first audit of the repair");
  }
  let current = before;
  const records: RepairRecord[] = [];
  const attempted = new Set<string>();
  let storeWriter: StoreWriter | null = null;
  /** Where a pass's plans are applied: the store, or a dry run's overlay. */
  let writer: Pick<StoreWriter, "apply" | "applyBatch"> | null = overlay;
  /** What an applied action is called: a dry run only plans it. */
  const done = overlay ? "planned" : "applied";
  let sidecarsWrittenLastPass = false;
  let interrupted = false;
  let pass = 0;
  const stop = () => (interrupted ||= options.interrupted?.() ?? false);
  const stopNow = interruptCheck(stop);
  /** The audit after a pass, or null when a signal stopped it. */
  const auditAgain = async () => {
    current.store.stateDb.close();
    current.store.profileDbs?.close();
    try {
      return await audit();
    } catch (error) {
      if (!(error instanceof Interrupted)) throw error;
      interrupted = true;
      return null;
    }
  };

  while (pass < maxPasses && !stop()) {
    pass++;
    const store = current.store;
    /** The store paths the plan being made read, for the group below. */
    const planReads = new Set<string>();
    const context: RepairContext = {
      store,
      findings: current.findings,
      options: {
        now: options.checkOptions?.now ?? store.scannedAt,
        serverStopped: options.checkOptions?.serverStopped ?? false,
      },
      read: (path) => {
        planReads.add(path);
        return readForPlan(store.sessionDir, path, maxBytes);
      },
    };
    let applied = 0;
    let actionsTried = 0;
    let sidecarsWritten = false;
    /**
     * Plans applied as one group by the writer (its durable writes grouped,
     * see docs/safety.md): each of one write or removal in the session dir
     * itself, of a path no other plan of the group reads or changes. A
     * plan is made on the store as every plan before it leaves it, as when
     * each is applied at once: one that reads or changes a path of the
     * group is made again once the group is applied.
     */
    const group: { record: RepairRecord; plan: Plan }[] = [];
    const groupPaths = new Set<string>();
    let groupBytes = 0;
    const settle = (
      record: RepairRecord,
      plan: Plan,
      outcomes: readonly ActionOutcome[],
    ) => {
      record.status = done;
      for (const [i, outcome] of outcomes.entries()) {
        actionsTried++;
        Object.assign(
          record.actions[i],
          outcome.status === "applied" ? { ...outcome, status: done } : outcome,
        );
        if (outcome.status !== "applied") {
          record.status = outcome.status;
          record.detail = outcome.detail;
          break;
        }
        applied++;
        if (classifyName(plan.actions[i].path).type === "sidecar") {
          sidecarsWritten = true;
        }
      }
    };
    const applyGroup = async () => {
      if (group.length === 0) return;
      const batch = group.splice(0);
      groupPaths.clear();
      groupBytes = 0;
      const outcomes = await writer!.applyBatch(
        batch.map(({ plan }) => plan.actions[0]),
      );
      for (const [i, { record, plan }] of batch.entries()) {
        settle(record, plan, [outcomes[i]]);
      }
    };
    const tasks = tasksOf(
      options.repairs,
      current.findings,
      attempted,
      sidecarsWrittenLastPass,
      new Set(options.alsoRepair ?? []),
    );
    const passStarted = Date.now();
    for (const [done, task] of tasks.entries()) {
      options.onProgress?.({
        pass,
        done,
        total: tasks.length,
        elapsedMs: Date.now() - passStarted,
      });
      if (await stopNow()) break;
      // Whether a sidecar was written is known once the group is applied.
      if (task.repair.afterSidecarWrites) await applyGroup();
      // Next pass, on fresh summaries.
      if (task.repair.afterSidecarWrites && sidecarsWritten) continue;
      for (const f of task.findings) attempted.add(f.id);
      planReads.clear();
      let { record, plan } = await planTask(task, context, pass);
      const touches = [...planReads, ...plan?.actions.map((a) => a.path) ?? []];
      if (touches.some((path) => groupPaths.has(path))) {
        await applyGroup();
        ({ record, plan } = await planTask(task, context, pass));
      }
      records.push(record);
      if (!plan) continue;
      writer ??= storeWriter = await StoreWriter.open(
        store.sessionDir,
        options.runId ?? newRunId(),
        options.writer,
      );
      const [action] = plan.actions;
      if (plan.actions.length === 1 && groupable(action)) {
        group.push({ record, plan });
        groupPaths.add(action.path);
        groupBytes += action.op === "write" ? action.data.length : 0;
        if (group.length >= GROUP_ACTIONS || groupBytes >= GROUP_BYTES) {
          await applyGroup();
        }
        continue;
      }
      // A plan of several actions stops at the first that is not applied,
      // so they go one at a time, after the group.
      await applyGroup();
      const outcomes: ActionOutcome[] = [];
      for (const action of plan.actions) {
        const outcome = await writer.apply(action);
        outcomes.push(outcome);
        if (outcome.status !== "applied") break;
      }
      settle(record, plan, outcomes);
    }
    // Also when a signal stopped the pass: the group's plans are made and
    // reported, so they are applied, as the action in progress would be.
    await applyGroup();
    // Stopped by a signal: no audit after the actions (a big store's takes
    // seconds, past a container's grace); the report says it stopped.
    if (interrupted) break;
    if (applied === 0) {
      // Nothing changed here, but the store may have (that is why an action
      // was skipped): the report must describe the store as it is now.
      if (actionsTried > 0) current = (await auditAgain()) ?? current;
      break;
    }
    sidecarsWrittenLastPass = sidecarsWritten;
    const again = await auditAgain();
    if (!again) break;
    current = again;
  }
  await storeWriter?.close();
  // A run that recorded nothing (its header could not be written) is no
  // run to undo: it is not named, as undo and resolve do not name one.
  const ran = storeWriter?.hasRunDir ?? false;
  return {
    runId: ran ? storeWriter!.runId : null,
    runDir: ran ? storeWriter!.runDir : null,
    before: strip(before),
    // A dry run changed nothing: the store is as its first audit found it.
    after: overlay ? strip(before) : withRaceFindings(strip(current), records),
    records,
    passes: pass,
    interrupted,
    store: current.store,
  };
}

/**
 * The records of a plan's actions before any is applied: `planned` in a
 * dry run, else `not_reached` until the writer says what became of each.
 *
 * @example
 * ```ts
 * import { actionRecords } from "./repair_engine.ts";
 * import type { Plan } from "../plugins/repair.ts";
 * declare const plan: Plan;
 * const records = actionRecords(plan.actions, true);
 * ```
 */
export function actionRecords(
  actions: readonly Action[],
  dryRun: boolean,
): RepairRecord["actions"] {
  return actions.map((a) => ({
    op: a.op,
    path: a.path,
    note: a.note,
    bytes: a.op === "write" || a.op === "append" ? a.data.length : 0,
    status: dryRun ? "planned" : "not_reached",
  }));
}

/**
 * At most this many plans, or this many bytes of new files, wait in a
 * group: enough that a group's few fsync rounds cost little per action,
 * few enough that a signal is answered well within its 2 s and the
 * group's bytes stay a small part of the repair's memory.
 */
const GROUP_ACTIONS = 128;
const GROUP_BYTES = 32 << 20;

/**
 * An action the writer may group with others: a write or removal of a
 * file in the session dir itself. A turn journal's append or truncation
 * goes alone, and a plan may list `_turn_journal/` (journal_files.ts),
 * so nothing there waits in a group.
 */
function groupable(action: Action): boolean {
  return (action.op === "write" || action.op === "remove") &&
    !action.path.includes("/");
}

interface Task {
  repair: Repair;
  findings: Finding[];
}

/**
 * Plans one task: its record (`skipped` until applied, or laid over a dry
 * run's overlay) and its plan, null when it was skipped or planning failed.
 */
async function planTask(
  task: Task,
  context: RepairContext,
  pass: number,
): Promise<{ record: RepairRecord; plan: Plan | null }> {
  const record: RepairRecord = {
    pass,
    repair: task.repair.id,
    findingIds: task.findings.map((f) => f.id),
    sessionId: oneSessionOf(task.findings),
    summary: task.repair.title,
    status: "skipped",
    actions: [],
  };
  if (record.sessionId === undefined) delete record.sessionId;
  let plan;
  try {
    plan = await task.repair.plan(task.findings, context);
  } catch (error) {
    record.status = "failed";
    record.detail = `planning failed: ${
      error instanceof Error ? error.message : String(error)
    }`;
    return { record, plan: null };
  }
  if (isSkip(plan)) {
    record.detail = plan.skip;
    return { record, plan: null };
  }
  record.summary = plan.summary;
  record.actions = actionRecords(plan.actions, false);
  for (const [i, action] of plan.actions.entries()) {
    if (action.op === "write" || action.op === "append") {
      record.actions[i].sha256 = await sha256Hex(action.data);
    }
  }
  return { record, plan };
}

function tasksOf(
  repairs: readonly Repair[],
  findings: readonly Finding[],
  attempted: ReadonlySet<string>,
  sidecarsWrittenLastPass: boolean,
  alsoRepair: ReadonlySet<string>,
): Task[] {
  const tasks: Task[] = [];
  for (const repair of repairs) {
    // Info findings are repaired only when the operator asked for their kind.
    const mine = findings.filter((f) =>
      (f.category === "repairable" ||
        (f.category === "info" && alsoRepair.has(f.kind))) &&
      f.repair === repair.id && !attempted.has(f.id)
    );
    if (repair.scope === "finding") {
      for (const finding of mine) tasks.push({ repair, findings: [finding] });
    } else if (repair.scope === "session") {
      tasks.push(
        ...bySession(mine).map((group) => ({ repair, findings: group })),
      );
    } else if (
      mine.length > 0 || (repair.afterSidecarWrites && sidecarsWrittenLastPass)
    ) {
      tasks.push({ repair, findings: mine });
    }
  }
  return tasks;
}

/**
 * A repair's findings, one group per session in order of first finding
 * (a finding with no session is a group of its own): one plan each, so a
 * session's files are each changed once however many findings name them.
 */
function bySession(findings: Finding[]): Finding[][] {
  const groups = new Map<string, Finding[]>();
  const alone: Finding[][] = [];
  for (const finding of findings) {
    if (finding.sessionId === undefined) {
      alone.push([finding]);
      continue;
    }
    const group = groups.get(finding.sessionId);
    if (group) group.push(finding);
    else groups.set(finding.sessionId, [finding]);
  }
  return [...groups.values(), ...alone];
}

/** The session all findings are of, if they are of one. */
function oneSessionOf(findings: readonly Finding[]): string | undefined {
  const id = findings[0]?.sessionId;
  return findings.every((f) => f.sessionId === id) ? id : undefined;
}

/**
 * Reads a store file for planning: its bytes and the expectation an action
 * on it re-checks before it applies.
 *
 * @example
 * ```ts
 * import { readForPlan } from "./repair_engine.ts";
 * const read = await readForPlan("/srv/sessions", "abc.json", 1 << 30);
 * if (read.ok) console.log(read.expect.exists);
 * ```
 */
export async function readForPlan(
  sessionDir: string,
  path: string,
  maxBytes: number,
): Promise<PlanRead> {
  const result = await expectationOf(join(sessionDir, path), maxBytes);
  return "problem" in result
    ? { ok: false, problem: result.problem }
    : { ok: true, ...result };
}

/**
 * Every action the safety layer skipped because the store moved under it
 * becomes a finding of the final report, so a race is never silent.
 */
function withRaceFindings(
  audit: AuditResult,
  records: RepairRecord[],
): AuditResult {
  const info = PIPELINE_KINDS.find((k) =>
    k.kind === "store_changed_during_repair"
  )!;
  const races = records.flatMap((record) =>
    record.actions
      .filter((a) =>
        a.reason === "store_changed" || a.reason === "exists" ||
        a.reason === "locked"
      )
      .map((a) =>
        toFinding("(repair)", info, {
          kind: info.kind,
          sessionId: record.sessionId,
          paths: [a.path],
          message: a.reason === "locked"
            ? `${a.detail ?? a.path}; ${record.repair} did not change it.`
            : `${a.path} changed while ${record.repair} was applying; the newer file was kept.`,
          evidence: {
            repair: record.repair,
            reason: a.reason ?? "",
            pass: record.pass,
          },
          key: `${record.pass}:${record.repair}:${a.path}`,
        })
      )
  );
  if (races.length === 0) return audit;
  const findings = [...audit.findings, ...races];
  return summarizeFindings(findings, audit.summary.sessions);
}

function strip(audit: AuditResult): AuditResult {
  return {
    status: audit.status,
    summary: audit.summary,
    findings: audit.findings,
  };
}
