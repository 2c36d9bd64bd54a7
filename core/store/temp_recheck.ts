/**
 * The verdict on a temp, taken again on the files as they are when a repair
 * plans (the temp, its live sidecar, its `.bak`), so a repair acts only if
 * the temp is still what the audit found. Shared by `remove_stale_temp`
 * and `promote_temp`.
 *
 * @example
 * ```ts
 * import { recheckTemp } from "./temp_recheck.ts";
 * import type { Finding } from "../report/finding.ts";
 * import type { RepairContext } from "../plugins/repair.ts";
 * declare const finding: Finding;
 * declare const context: RepairContext;
 * const checked = await recheckTemp(finding, context);
 * // a repair's plan returns a skip as it is
 * if (!("skip" in checked)) checked.verdict.kind; // "stale_temp", "interrupted_save", ...
 * ```
 * @module
 */

import type { Expectation } from "../plugins/action.ts";
import { type Parsed, parseJsonBytes } from "../io/file_read.ts";
import type { Finding } from "../report/finding.ts";
import type { PlanSkip, RepairContext } from "../plugins/repair.ts";
import { type SidecarSummary, summarizeSidecar } from "./sidecar_summary.ts";
import { SUMMARIZED_TEMP_ORIGINS } from "../scan/snapshot.ts";
import { deletion, stateDbKnowsSession } from "../scan/store_facts.ts";
import { backupName, classifyName, sidecarName } from "./layout.ts";
import { isParseProblem } from "../scan/parse_problem.ts";
import {
  judgeTemp,
  type LiveState,
  type TempFacts,
  type TempVerdict,
} from "./temp_verdict.ts";

/** A temp judged again, with what the repair's actions need. */
export interface RecheckedTemp {
  name: string;
  sessionId?: string;
  verdict: TempVerdict;
  /** The temp as it is now. */
  temp: { expect: Expectation & { exists: true }; bytes: Uint8Array };
  /** The live sidecar as it is now (`exists: false` when missing). */
  live: Expectation;
}

/**
 * Judges the temp of a finding (its first path) again. Skips when the temp
 * is gone or cannot be read, or its verdict is no longer the finding's
 * kind.
 *
 * @example
 * ```ts
 * import { recheckTemp } from "./temp_recheck.ts";
 * import type { Finding } from "../report/finding.ts";
 * import type { RepairContext } from "../plugins/repair.ts";
 * declare const finding: Finding;
 * declare const context: RepairContext;
 * const checked = await recheckTemp(finding, context);
 * ```
 */
export async function recheckTemp(
  finding: Finding,
  context: RepairContext,
): Promise<RecheckedTemp | PlanSkip> {
  const name = finding.paths[0] ?? "";
  const layout = classifyName(name);
  if (layout.type !== "temp") return { skip: `${name} is not a temp file` };
  const tempRead = await context.read(name);
  if (!tempRead.ok) return { skip: `${name} ${tempRead.problem}` };
  if (!tempRead.expect.exists || !tempRead.bytes) {
    return { skip: `${name} is gone` };
  }
  const id = layout.sessionId;
  let live: LiveState = { state: "missing" };
  let liveExpect: Expectation = { exists: false };
  let bakMessages = -1;
  if (id !== undefined) {
    const liveRead = await context.read(sidecarName(id));
    if (!liveRead.ok) live = { state: "unreadable" };
    else if (liveRead.expect.exists && liveRead.bytes) {
      liveExpect = liveRead.expect;
      const parsed = summarize(liveRead.bytes);
      live = parsed.ok
        ? {
          state: "parsed",
          summary: parsed.value,
          mtimeMs: liveRead.expect.mtimeMs,
        }
        : isParseProblem(parsed.problem)
        ? { state: "unparsable" }
        : { state: "unreadable" };
    }
    const bakRead = await context.read(backupName(id));
    if (bakRead.ok && bakRead.bytes) {
      const parsed = summarize(bakRead.bytes);
      bakMessages = parsed.ok ? parsed.value.messageCount : -1;
    }
  }
  const facts: TempFacts = {
    name,
    origin: layout.origin,
    mtimeMs: tempRead.expect.mtimeMs,
    regularFile: true,
    live,
    bakMessages,
    deletion: id === undefined ? "not_deleted" : deletion(context.store, id),
    stateDbKnowsSession: id === undefined ||
      stateDbKnowsSession(context.store, id),
  };
  if (id !== undefined) {
    facts.sessionId = id;
    if (SUMMARIZED_TEMP_ORIGINS.has(layout.origin)) {
      facts.content = summarize(tempRead.bytes);
    }
  }
  const verdict = judgeTemp(facts, context.options);
  if (verdict.kind !== finding.kind) {
    return {
      skip: `${name} changed since the audit: it is now ${
        verdict.kind.replaceAll("_", " ")
      }`,
    };
  }
  const checked: RecheckedTemp = {
    name,
    verdict,
    temp: { expect: tempRead.expect, bytes: tempRead.bytes },
    live: liveExpect,
  };
  if (id !== undefined) checked.sessionId = id;
  return checked;
}

function summarize(bytes: Uint8Array): Parsed<SidecarSummary> {
  const parsed = parseJsonBytes(bytes);
  return parsed.ok
    ? { ok: true, value: summarizeSidecar(parsed.value) }
    : parsed;
}
