/**
 * `hermes-fsck resolve ID --keep SOURCE`: applies a person's choice for one
 * finding through the safety layer, as a run of its own. Under the store's
 * lock it audits, finds the finding by its stable id, checks that its kind
 * offers that choice (`KindInfo.resolutions`), plans it
 * (core/review/resolution_plan.ts) and applies the actions: each re-checks the
 * file it was planned on, so a file the server saved meanwhile is skipped,
 * never overwritten; each replaced or removed file is kept in the run's
 * quarantine, so `undo RUN_ID` puts back every byte.
 *
 * @example
 * ```ts
 * import { resolveFinding } from "./resolve.ts";
 * import { builtinChecks } from "../../checks/builtin.ts";
 * const result = await resolveFinding({
 *   scan: { sessionDir: "/srv/sessions", stateDbPath: null },
 *   checks: builtinChecks,
 *   findingId: "0123456789abcdef",
 *   keep: "bak",
 *   undelete: false,
 *   dryRun: true,
 * });
 * console.log(result.status, result.summary);
 * ```
 * @module
 */

import { auditStore } from "../run/audit.ts";
import type { Check } from "../plugins/check.ts";
import type { Finding, ResolutionSource } from "../report/finding.ts";
import type { LockHolder } from "../io/lock.ts";
import { planResolution } from "./resolution_plan.ts";
import { kindsOf } from "../run/run.ts";
import {
  actionRecords,
  readForPlan,
  type RepairRecord,
  underRunLock,
} from "../run/repair_engine.ts";
import { newRunId, StoreWriter, type WriterOptions } from "../io/safety.ts";
import { DEFAULT_MAX_FILE_BYTES, type ScanOptions } from "../scan/snapshot.ts";

/**
 * Options of {@linkcode resolveFinding}.
 *
 * @example
 * ```ts
 * import type { ResolveOptions } from "./resolve.ts";
 * import { builtinChecks } from "../../checks/builtin.ts";
 * const options: ResolveOptions = {
 *   scan: { sessionDir: "/srv/sessions", stateDbPath: null },
 *   checks: builtinChecks, findingId: "0123456789abcdef", keep: "discard",
 *   undelete: false, dryRun: false,
 * };
 * ```
 */
export interface ResolveOptions {
  /** What to scan (the same store and state.db the finding came from). */
  scan: ScanOptions;
  /** The checks whose findings may be resolved. */
  checks: readonly Check[];
  /** The finding's stable id, as the JSON report gives it. */
  findingId: string;
  /** The version to keep. */
  keep: ResolutionSource;
  /** The operator named the deletion: a deleted session may come back. */
  undelete: boolean;
  /** Plan only, change nothing. */
  dryRun: boolean;
  /** No Hermes WebUI server is running. */
  serverStopped?: boolean;
  /** Options of the safety layer. */
  writer?: WriterOptions;
}

/**
 * The reasons a resolve is refused before anything is planned:
 * `unknown_finding` (no finding has that id now), `not_offered` (its kind
 * does not offer that choice), `needs_undelete` (the choice would bring
 * back a deleted session and `--undelete` was not given, or it was given
 * for a session that is not deleted).
 *
 * @example
 * ```ts
 * import { type ResolveOptions, resolveFinding, ResolveRefused } from "./resolve.ts";
 * declare const options: ResolveOptions;
 * try { await resolveFinding(options); }
 * catch (e) { if (e instanceof ResolveRefused) console.log(e.reason); }
 * ```
 */
export class ResolveRefused extends Error {
  /** Why. */
  readonly reason: "unknown_finding" | "not_offered" | "needs_undelete";
  /** Builds one. */
  constructor(reason: ResolveRefused["reason"], message: string) {
    super(message);
    this.reason = reason;
  }
}

/**
 * One action of a resolve and what became of it, as a repair's.
 *
 * @example
 * ```ts
 * import type { ResolveAction } from "./resolve.ts";
 * const line: ResolveAction = { op: "write", path: "abc.json", note: "...", bytes: 10, status: "planned" };
 * ```
 */
export type ResolveAction = RepairRecord["actions"][number];

/**
 * What a resolve did.
 *
 * @example
 * ```ts
 * import { type ResolveOptions, type ResolveResult, resolveFinding } from "./resolve.ts";
 * declare const options: ResolveOptions;
 * const result: ResolveResult = await resolveFinding(options);
 * if (result.runId) console.log(`undo with: hermes-fsck undo ${result.runId}`);
 * ```
 */
export interface ResolveResult {
  /** The finding, as the audit under the lock saw it. */
  finding: Finding;
  /** The choice. */
  keep: ResolutionSource;
  /** The choice's one-line meaning, from the kind's metadata. */
  meaning: string;
  /**
   * `planned` (dry run), `applied` (every action), `skipped` (nothing to
   * do, or a file changed under it: nothing overwritten), `failed` (an I/O
   * error; see the actions).
   */
  status: "planned" | "applied" | "skipped" | "failed";
  /** One sentence: what it does, or why it did nothing. */
  summary: string;
  /** Its actions. */
  actions: ResolveAction[];
  /** The run, when it wrote anything (its quarantine and records). */
  runId: string | null;
  /** The run's dir, relative to the session dir. */
  runDir: string | null;
  /** A stale lock of a dead run that was taken over, if any. */
  tookOverLockFrom: LockHolder | null;
}

/**
 * Resolves one finding. Throws {@linkcode ResolveRefused} when it cannot
 * be asked for, `LockHeldError` when another run holds the store.
 *
 * @example
 * ```ts
 * import { type ResolveOptions, resolveFinding } from "./resolve.ts";
 * declare const options: ResolveOptions;
 * const result = await resolveFinding({ ...options, dryRun: true });
 * for (const action of result.actions) console.log(action.op, action.path);
 * ```
 */
export async function resolveFinding(
  options: ResolveOptions,
): Promise<ResolveResult> {
  return await underRunLock(
    options.scan.sessionDir,
    "resolve",
    options.dryRun,
    () => resolveUnderLock(options),
  );
}

async function resolveUnderLock(
  options: ResolveOptions,
): Promise<Omit<ResolveResult, "tookOverLockFrom">> {
  const audit = await auditStore({
    scan: options.scan,
    checks: options.checks,
    checkOptions: { serverStopped: options.serverStopped ?? false },
  });
  const store = audit.store;
  try {
    const finding = audit.findings.find((f) => f.id === options.findingId);
    if (!finding) {
      throw new ResolveRefused(
        "unknown_finding",
        `no finding has id ${
          JSON.stringify(options.findingId)
        } in ${store.sessionDir} now (it may be resolved or repaired ` +
          "already); 'hermes-fsck audit --format json' lists the findings " +
          "and their ids",
      );
    }
    const offered = kindsOf(options.checks).get(finding.kind)?.resolutions ??
      [];
    const choice = offered.find((r) => r.keep === options.keep);
    if (!choice) {
      throw new ResolveRefused(
        "not_offered",
        `${finding.kind} (finding ${finding.id}) does not offer --keep ${options.keep}; ` +
          (offered.length > 0
            ? `it offers ${offered.map((r) => r.keep).join(", ")}`
            : "it offers no resolution: fix it by hand, or record that you " +
              `reviewed it with 'hermes-fsck acknowledge ${finding.id}'`) +
          ` (see 'hermes-fsck explain ${finding.kind}')`,
      );
    }
    const maxBytes = options.scan.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
    const planned = await planResolution(finding, options.keep, {
      store,
      findings: audit.findings,
      options: {
        now: store.scannedAt,
        serverStopped: options.serverStopped ?? false,
      },
      read: (path) => readForPlan(store.sessionDir, path, maxBytes),
    }, { undelete: options.undelete });
    if ("needsUndelete" in planned) {
      throw new ResolveRefused("needs_undelete", planned.needsUndelete);
    }
    const base = {
      finding,
      keep: options.keep,
      meaning: choice.meaning,
      runId: null,
      runDir: null,
    };
    if ("skip" in planned) {
      return { ...base, status: "skipped", summary: planned.skip, actions: [] };
    }
    const plan = planned.plan;
    if (options.undelete && !planned.undeletes) {
      throw new ResolveRefused(
        "needs_undelete",
        `--undelete names a deletion, but keeping ${options.keep} for ` +
          `finding ${finding.id} brings back no deleted session; leave it out`,
      );
    }
    const actions = actionRecords(plan.actions, options.dryRun);
    if (options.dryRun) {
      return { ...base, status: "planned", summary: plan.summary, actions };
    }
    const writer = await StoreWriter.open(store.sessionDir, newRunId(), {
      ...options.writer,
      command: "resolve",
    });
    let status: ResolveResult["status"] = "applied";
    let summary = plan.summary;
    for (const [i, action] of plan.actions.entries()) {
      const outcome = await writer.apply(action);
      Object.assign(actions[i], outcome);
      if (outcome.status !== "applied") {
        status = outcome.status;
        summary = `${plan.summary} Stopped: ${
          outcome.detail ?? outcome.status
        }`;
        break;
      }
    }
    await writer.close();
    return {
      ...base,
      status,
      summary,
      actions,
      runId: writer.hasRunDir ? writer.runId : null,
      runDir: writer.hasRunDir ? writer.runDir : null,
    };
  } finally {
    store.stateDb.close();
    store.profileDbs?.close();
  }
}
