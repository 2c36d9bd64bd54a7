/**
 * Findings made from drafts: a draft completed with its kind's metadata
 * (category, severity, repair) and a stable id; and the `check_failed`
 * finding of a check that crashed.
 *
 * @example
 * ```ts
 * import { toFinding } from "./finding_make.ts";
 * import type { KindInfo, FindingDraft } from "./finding.ts";
 * declare const kindInfo: KindInfo;
 * declare const draft: FindingDraft;
 * const finding = toFinding("orphan-backup", kindInfo, draft);
 * ```
 * @module
 */

import { sha256HexOfText } from "../io/hash.ts";
import type { Evidence, Finding, FindingDraft, KindInfo } from "./finding.ts";

/**
 * The kind of a check that crashed or reported something malformed.
 *
 * @example
 * ```ts
 * import { CHECK_FAILED } from "./finding_make.ts";
 * CHECK_FAILED.category; // "unsafe_to_repair"
 * ```
 */
export const CHECK_FAILED: KindInfo = {
  kind: "check_failed",
  category: "unsafe_to_repair",
  severity: "error",
  summary: "A check crashed or reported something malformed.",
  explain:
    "A check threw an error or returned a finding of a kind it did not " +
    "declare. What it would have found is unknown, so the store cannot be " +
    "called clean. The message names the check and the error; run again " +
    "with --skip CHECK to leave it out, and report the error.",
};

/**
 * A stable id for a finding: the same kind, session, paths and key give the
 * same id on every run, so operators can track and suppress findings.
 *
 * @example
 * ```ts
 * import { findingId } from "./finding_make.ts";
 * findingId({ kind: "shrunken_live", sessionId: "abc", paths: ["abc.json"], message: "" });
 * ```
 */
export function findingId(draft: FindingDraft): string {
  const material = JSON.stringify([
    draft.kind,
    draft.sessionId ?? "",
    draft.paths,
    draft.key ?? "",
  ]);
  return sha256HexOfText(material).slice(0, 16);
}

/**
 * Completes a draft with its kind's metadata.
 *
 * @example
 * ```ts
 * import { toFinding } from "./finding_make.ts";
 * import type { KindInfo, FindingDraft } from "./finding.ts";
 * declare const kindInfo: KindInfo;
 * declare const draft: FindingDraft;
 * toFinding("orphan-backup", kindInfo, draft).category; // kindInfo.category
 * ```
 */
export function toFinding(
  checkId: string,
  info: KindInfo,
  draft: FindingDraft,
): Finding {
  const finding: Finding = {
    id: findingId(draft),
    check: checkId,
    kind: info.kind,
    category: info.category,
    severity: info.severity,
    paths: [...draft.paths],
    message: draft.message,
    evidence: { ...(draft.evidence ?? {}) } as Evidence,
  };
  if (draft.sessionId !== undefined) finding.sessionId = draft.sessionId;
  if (info.repair) finding.repair = info.repair;
  return finding;
}

/**
 * The finding of a check that threw or reported something malformed.
 *
 * @example
 * ```ts
 * import { checkFailed } from "./finding_make.ts";
 * checkFailed("orphan-backup", "boom").kind; // "check_failed"
 * ```
 */
export function checkFailed(checkId: string, error: string): Finding {
  return toFinding(checkId, CHECK_FAILED, {
    kind: "check_failed",
    paths: [],
    message: `Check ${checkId} failed: ${error}.`,
    evidence: { error },
    key: checkId,
  });
}

/**
 * An error as one clause, without its final period.
 *
 * @example
 * ```ts
 * import { errorText } from "./finding_make.ts";
 * errorText(new Error("boom.")); // "boom"
 * ```
 */
export function errorText(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/\.$/, "") || "unknown error";
}
