/**
 * Planning a person's choice for one finding (`hermes-fsck resolve ID
 * --keep SOURCE`) as actions for the safety layer, the way a repair plans:
 * it only reads, so `--dry-run` prints exactly what would be done. Each
 * source keeps one version of the session and sets the others aside in the
 * run's quarantine (never deleted, so `undo` puts them back):
 *
 * - `bak`: `<sid>.json` becomes a byte copy of `<sid>.json.bak`;
 * - `temp`: `<sid>.json` becomes a byte copy of the finding's temp, which
 *   is then moved into quarantine;
 * - `state-db`: `<sid>.json` is rebuilt from its state.db rows, as the
 *   server rebuilds a lost sidecar;
 * - `live`: `<sid>.json` stays; the finding's `.bak` or temp is moved into
 *   quarantine;
 * - `discard`: the file the finding is about is moved into quarantine.
 *
 * A choice that would bring back a session the user deleted (the id is in
 * the delete tombstone and `<sid>.json` is missing) is planned only when
 * the operator passed `--undelete`; the id is then taken out of the
 * tombstone after the sidecar is written, as the server does when a
 * session with messages is saved (the tombstone file is removed once
 * empty).
 *
 * @example
 * ```ts
 * import { planResolution } from "./resolution_plan.ts";
 * import type { Finding } from "../report/finding.ts";
 * import type { RepairContext } from "../plugins/repair.ts";
 * declare const finding: Finding;
 * declare const context: RepairContext;
 * const planned = await planResolution(finding, "bak", context, { undelete: false });
 * if ("plan" in planned) console.log(planned.plan.actions.length);
 * ```
 * @module
 */

import type { Action, Expectation } from "../plugins/action.ts";
import { parseJsonBytes } from "../io/file_read.ts";
import type { Finding, ResolutionSource } from "../report/finding.ts";
import type { Plan, PlanRead, RepairContext } from "../plugins/repair.ts";
import { byCodePoint } from "../json/python_json.ts";
import { isValidSessionId } from "../store/session_id.ts";
import { summarizeSidecar } from "../store/sidecar_summary.ts";
import { deletion } from "../scan/store_facts.ts";
import {
  backupName,
  classifyName,
  sidecarName,
  TOMBSTONE_FILE,
} from "../store/layout.ts";
import { tombstoneSummary } from "../store/tombstone.ts";
import { sidecarFromStateDb } from "../../repairs/materialize_from_state_db.ts";

/** The most ids the server keeps in its delete tombstone. */
const TOMBSTONE_CAP = 1000;

/**
 * What planning a resolution gave: a plan; a reason to do nothing (the
 * store is no longer as the finding says, or the version to keep is not
 * usable); or the session is deleted and `--undelete` was not given.
 *
 * @example
 * ```ts
 * import type { PlannedResolution } from "./resolution_plan.ts";
 * const planned: PlannedResolution = { skip: "abc.json.bak is gone" };
 * ```
 */
export type PlannedResolution =
  | { plan: Plan; undeletes: boolean }
  | { skip: string }
  | { needsUndelete: string };

/**
 * Plans keeping `keep` for `finding`. Reads only.
 *
 * @example
 * ```ts
 * import { planResolution } from "./resolution_plan.ts";
 * import type { Finding } from "../report/finding.ts";
 * import type { RepairContext } from "../plugins/repair.ts";
 * declare const finding: Finding;
 * declare const context: RepairContext;
 * const planned = await planResolution(finding, "discard", context, { undelete: false });
 * ```
 */
export async function planResolution(
  finding: Finding,
  keep: ResolutionSource,
  context: RepairContext,
  options: { undelete: boolean },
): Promise<PlannedResolution> {
  const id = finding.sessionId;
  if (!isValidSessionId(id)) {
    return { skip: "the finding names no session hermes-fsck can act on" };
  }
  const live = sidecarName(id);
  const liveRead = await context.read(live);
  if (!liveRead.ok) return { skip: `${live} ${liveRead.problem}` };
  let actions: Action[];
  let summary: string;
  if (keep === "bak" || keep === "temp" || keep === "state-db") {
    const made = await newLive(finding, keep, id, context);
    if ("skip" in made) return made;
    const verb = liveRead.expect.exists ? "Replace" : "Recreate";
    summary = `${verb} ${live} with ${made.what}.`;
    actions = [{
      op: "write",
      path: live,
      data: made.data,
      expect: liveRead.expect,
      note: `keep ${made.source}: write it as ${live}`,
      sources: [made.source],
    }, ...made.then];
  } else {
    const target = await setAside(finding, keep, id, liveRead);
    if ("skip" in target) return target;
    const read = await context.read(target.name);
    if (!read.ok) return { skip: `${target.name} ${read.problem}` };
    if (!read.expect.exists) return { skip: `${target.name} is gone` };
    summary = `Move ${target.name} into the run's quarantine${
      keep === "live" ? `, keeping ${live} as it is` : ""
    }.`;
    actions = [{
      op: "remove",
      path: target.name,
      expect: read.expect,
      note: `quarantine ${target.name} (${
        keep === "live" ? "keep live" : "discard"
      })`,
    }];
  }
  // Writing a missing sidecar of a deleted session brings it back.
  let undeletes = false;
  if (keep !== "live" && keep !== "discard" && !liveRead.expect.exists) {
    const deleted = deletion(context.store, id);
    if (deleted === "unknown") {
      return {
        skip: `${TOMBSTONE_FILE} cannot be read, so ${id} may have been ` +
          "deleted; fix the tombstone first (tombstone_unreadable)",
      };
    }
    if (deleted === "deleted") {
      if (!options.undelete) {
        return {
          needsUndelete: `session ${id} was deleted by its user (it is in ` +
            `${TOMBSTONE_FILE}); keeping ${keep} would bring it back: pass ` +
            "--undelete to say that is what you want",
        };
      }
      const untomb = await untombstone(id, context);
      if ("skip" in untomb) return untomb;
      actions.push(...untomb.actions);
      undeletes = true;
      summary += ` Take ${id} out of ${TOMBSTONE_FILE} (undelete).`;
    }
  }
  return {
    plan: {
      repair: `resolve_keep_${keep.replace("-", "_")}`,
      findingIds: [finding.id],
      sessionId: id,
      summary,
      actions,
    },
    undeletes,
  };
}

/** The bytes `<sid>.json` gets when `keep` is kept, and where they came from. */
async function newLive(
  finding: Finding,
  keep: "bak" | "temp" | "state-db",
  id: string,
  context: RepairContext,
): Promise<
  | { data: Uint8Array; source: string; what: string; then: Action[] }
  | { skip: string }
> {
  if (keep === "state-db") {
    const built = sidecarFromStateDb(context.store, id);
    if ("skip" in built) return built;
    return {
      data: built.data,
      source: built.source,
      what: `its state.db rows (${built.messages} messages)`,
      then: [],
    };
  }
  const name = keep === "bak" ? backupName(id) : tempOf(finding, id);
  if (name === null) {
    return { skip: "the finding names no temp of the session" };
  }
  const read = await context.read(name);
  if (!read.ok) return { skip: `${name} ${read.problem}` };
  if (!read.expect.exists || !read.bytes) return { skip: `${name} is gone` };
  const messages = sessionMessages(read.bytes, id);
  if (typeof messages === "string") return { skip: `${name} ${messages}` };
  return {
    data: read.bytes,
    source: name,
    what: `${name} (${messages} messages)`,
    // A promoted temp is set aside, as promote_temp does.
    then: keep === "temp"
      ? [{
        op: "remove",
        path: name,
        expect: read.expect,
        note: `quarantine ${name}, now kept as ${sidecarName(id)}`,
      }]
      : [],
  };
}

/** The file `live` or `discard` moves into quarantine. */
function setAside(
  finding: Finding,
  keep: "live" | "discard",
  id: string,
  liveRead: Extract<PlanRead, { ok: true }>,
): { name: string } | { skip: string } {
  const mine = finding.paths.filter((path) => {
    const named = classifyName(path);
    return (named.type === "sidecar" || named.type === "backup" ||
      named.type === "temp") && named.sessionId === id;
  });
  if (keep === "discard") {
    // The file the finding is about comes first in its paths.
    return mine[0] !== undefined && mine[0] === finding.paths[0]
      ? { name: mine[0] }
      : { skip: "the finding names no file of the session to discard" };
  }
  if (!liveRead.expect.exists) {
    return { skip: `there is no ${sidecarName(id)} to keep` };
  }
  const other = mine.find((path) => path !== sidecarName(id));
  return other !== undefined
    ? { name: other }
    : { skip: "the finding names no other version to set aside" };
}

/** The temp of session `id` the finding is about, or null. */
function tempOf(finding: Finding, id: string): string | null {
  const named = classifyName(finding.paths[0] ?? "");
  return named.type === "temp" && named.sessionId === id
    ? finding.paths[0]
    : null;
}

/** The message count of bytes that are a session `id`, or why they are not. */
function sessionMessages(bytes: Uint8Array, id: string): number | string {
  const parsed = parseJsonBytes(bytes);
  if (!parsed.ok) return `does not parse (${parsed.problem.detail})`;
  const summary = summarizeSidecar(parsed.value);
  if (summary.messageCount < 0) return "is not a session";
  const inner = summary.meta.session_id;
  if (typeof inner === "string" && inner !== "" && inner !== id) {
    return `holds another session (${JSON.stringify(inner)})`;
  }
  return summary.messageCount;
}

/**
 * The actions that take `id` out of the delete tombstone as the server's
 * save does: the other ids written back sorted (at most the server's cap),
 * or the file removed when `id` was the last.
 */
async function untombstone(
  id: string,
  context: RepairContext,
): Promise<{ actions: Action[] } | { skip: string }> {
  const read = await context.read(TOMBSTONE_FILE);
  if (!read.ok) return { skip: `${TOMBSTONE_FILE} ${read.problem}` };
  if (!read.expect.exists || !read.bytes) return { actions: [] };
  const parsed = parseJsonBytes(read.bytes);
  const summary = parsed.ok ? tombstoneSummary(parsed.value) : null;
  if (!summary?.valid) {
    return { skip: `${TOMBSTONE_FILE} cannot be read; fix it first` };
  }
  if (!summary.ids.has(id)) return { actions: [] };
  const expect = read.expect as Expectation & { exists: true };
  const ids = [...summary.ids].filter((other) => other !== id).sort(
    byCodePoint,
  ).slice(-TOMBSTONE_CAP);
  const note = `take ${id} out of ${TOMBSTONE_FILE} (undelete)`;
  if (ids.length === 0) {
    return {
      actions: [{ op: "remove", path: TOMBSTONE_FILE, expect, note }],
    };
  }
  return {
    actions: [{
      op: "write",
      path: TOMBSTONE_FILE,
      data: new TextEncoder().encode(
        JSON.stringify({ version: 1, ids }, null, 2),
      ),
      expect,
      note,
      sources: [TOMBSTONE_FILE],
    }],
  };
}
