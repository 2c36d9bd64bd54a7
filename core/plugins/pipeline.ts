/**
 * The audit pipeline: run each check over one snapshot, turn drafts into
 * findings (category, severity and repair from the kind's metadata, and a
 * stable id), and keep going when a check throws.
 *
 * @example
 * ```ts
 * import { runChecks } from "./pipeline.ts";
 * import { scanStore } from "../scan/snapshot.ts";
 * import type { Check } from "./check.ts";
 * declare const myChecks: Check[];
 * const store = await scanStore({ sessionDir: "/srv/sessions", stateDbPath: null });
 * const findings = await runChecks(store, myChecks, { now: Date.now(), serverStopped: false });
 * ```
 * @module
 */

import type { Check, CheckOptions } from "./check.ts";
import type { Finding, KindInfo } from "../report/finding.ts";
import type { StoreSnapshot } from "../scan/snapshot.ts";
import { CheckRun } from "./check_engine.ts";
import { CHECK_FAILED } from "../report/finding_make.ts";

export { findingId, toFinding } from "../report/finding_make.ts";

/**
 * Kinds the pipeline itself reports.
 *
 * @example
 * ```ts
 * import { PIPELINE_KINDS } from "./pipeline.ts";
 * PIPELINE_KINDS.map((k) => k.kind); // ["check_failed", "store_changed_during_repair", "plugin_failed", "fresh_install", "acknowledged_invalid"]
 * ```
 */
export const PIPELINE_KINDS: KindInfo[] = [CHECK_FAILED, {
  kind: "store_changed_during_repair",
  category: "info",
  severity: "warning",
  summary:
    "A file changed while hermes-fsck was repairing it; the newer file was kept.",
  explain: "Between planning a repair and applying it, the file was saved by " +
    "someone else (usually the server). The safety layer noticed that the " +
    "file was no longer the one the plan was made on, left the newer file " +
    "in place, and skipped the action, so no save was overwritten. The " +
    "final audit judges the store as it is now; run repair again (with " +
    "the server stopped) if a problem remains.",
}, {
  kind: "plugin_failed",
  category: "unsafe_to_repair",
  severity: "error",
  summary:
    "An external check program crashed, timed out, exited non-zero or printed an invalid line.",
  explain:
    "A plugin named with --plugin or found in the plugin dir did not finish " +
    "its job: it could not be started, was killed by a signal, ran past the " +
    "time limit (--plugin-timeout), exited with a non-zero code, printed " +
    "more than the output limit, or printed lines that are not findings of " +
    "the plugin protocol. The findings it printed correctly are kept, but " +
    "what else it would have found is unknown, so the store cannot be " +
    "called clean. The message names the plugin and the evidence holds its " +
    "exit code, the invalid lines and the end of its stderr; fix the plugin " +
    "or leave it out.",
}, {
  kind: "fresh_install",
  category: "info",
  severity: "info",
  summary:
    "The session dir does not exist yet and there is no state.db: a first boot.",
  explain:
    "preen (or audit and repair with --allow-missing) found no session dir " +
    "and no state.db, which is what a fresh install looks like: the server " +
    "creates both when it first saves a chat. Nothing was checked and " +
    "nothing was changed. If sessions should be there, the volume that " +
    "holds them was not mounted: do not start the server (it would save " +
    "new chats where the volume should be), mount it, and run again. " +
    "A session dir that is missing while its state.db exists is never " +
    "taken for a first boot: that exits 8.",
}, {
  kind: "acknowledged_invalid",
  category: "unsafe_to_repair",
  severity: "error",
  summary:
    "The record of acknowledged findings is not one hermes-fsck wrote; nothing in it is taken as reviewed.",
  explain: "`hermes-fsck acknowledge ID` records in " +
    "_hermes_fsck/acknowledged.json that a person reviewed a finding, " +
    "with the SHA-256 of each file it names, written atomically in a fixed " +
    "shape. hermes-fsck reads it back as untrusted input: a record that is " +
    "a symlink, FIFO or device, lies under a _hermes_fsck that is a " +
    "symlink, is bigger than 4 MiB, does not parse, or has another shape " +
    "was not written so by hermes-fsck (someone else wrote it, or the disk " +
    "damaged it), so no finding is taken as acknowledged and each one sets " +
    "exit bit 4 again. Look at the file (the message says what is wrong), " +
    "move it out of the session dir, and acknowledge the findings again.",
}];

/**
 * Runs checks over a whole snapshot (core/plugins/check_engine.ts), in order. A
 * check that throws, or reports a kind it did not declare, yields a
 * `check_failed` finding instead.
 *
 * @example
 * ```ts
 * import { runChecks } from "./pipeline.ts";
 * import type { StoreSnapshot } from "../scan/store_snapshot.ts";
 * import { builtinChecks } from "../../checks/builtin.ts";
 * declare const store: StoreSnapshot;
 * const findings = await runChecks(store, builtinChecks, { now: Date.now(), serverStopped: false });
 * ```
 */
export async function runChecks(
  store: StoreSnapshot,
  checks: readonly Check[],
  options: CheckOptions,
): Promise<Finding[]> {
  const run = new CheckRun(checks, options);
  await run.visit(store);
  return await run.finish(store);
}

/**
 * Which checks and kinds a run keeps (`--check`, `--skip`).
 *
 * @example
 * ```ts
 * import type { Selection } from "./pipeline.ts";
 * const selection: Selection = { only: ["shrunken_live"], skip: [] };
 * ```
 */
export interface Selection {
  /** Check ids or kinds to keep; empty keeps all. */
  only: string[];
  /** Check ids or kinds to leave out. */
  skip: string[];
}

/**
 * Applies `--check`/`--skip` to a check list. Returns the checks to run and
 * a predicate for the findings to keep. Names may be check ids or kinds;
 * an unknown name throws a TypeError naming the valid ones.
 *
 * @example
 * ```ts
 * import { selectChecks } from "./pipeline.ts";
 * import { builtinChecks } from "../../checks/builtin.ts";
 * const { checks, keep } = selectChecks(builtinChecks, { only: ["shrunken_live"], skip: [] });
 * ```
 */
export function selectChecks(
  all: readonly Check[],
  selection: Selection,
): { checks: Check[]; keep: (finding: Finding) => boolean } {
  const known = new Set<string>();
  for (const check of all) {
    known.add(check.id);
    for (const k of check.kinds) known.add(k.kind);
  }
  for (const name of [...selection.only, ...selection.skip]) {
    if (!known.has(name)) {
      throw new TypeError(
        `unknown check or kind ${JSON.stringify(name)}; ` +
          "run `hermes-fsck checks` to list them",
      );
    }
  }
  const only = new Set(selection.only);
  const skip = new Set(selection.skip);
  const checks = all.filter((check) =>
    !skip.has(check.id) &&
    (only.size === 0 || only.has(check.id) ||
      check.kinds.some((k) => only.has(k.kind)))
  );
  const keep = (finding: Finding) =>
    finding.kind === "check_failed" ||
    (!skip.has(finding.kind) &&
      (only.size === 0 || only.has(finding.check) || only.has(finding.kind)));
  return { checks, keep };
}
