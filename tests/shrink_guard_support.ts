/**
 * Runs the CLI's audit over a store of {@linkcode GUARD_CASES} and reads
 * back, per session, what hermes-fsck decided: `restore` (a `shrunken_live`
 * finding) or the guard of an `intentional_shrink_kept` finding.
 *
 * @example
 * ```ts
 * import { auditGuardCases } from "./shrink_guard_support.ts";
 * const { verdicts } = await auditGuardCases(store);
 * ```
 * @module
 */

import { runCli, storeArgs, type TestStore } from "./fixtures.ts";
import {
  GUARD_CASES,
  type GuardVerdict,
  writeGuardCase,
} from "./shrink_guard_cases.ts";

/** hermes-fsck's verdict per session, and the audit's exit code. */
export interface GuardAudit {
  code: number;
  verdicts: Map<string, GuardVerdict | "none">;
}

/**
 * Writes every case into `store` and audits it.
 *
 * @example
 * ```ts
 * const { code, verdicts } = await auditGuardCases(store);
 * ```
 */
export async function auditGuardCases(store: TestStore): Promise<GuardAudit> {
  for (const guardCase of GUARD_CASES) {
    await writeGuardCase(store.sessionDir, guardCase);
  }
  const result = await runCli([
    "audit",
    ...storeArgs(store, false),
    "--format",
    "json",
  ]);
  const findings: {
    kind: string;
    sessionId?: string;
    evidence?: { guard?: GuardVerdict };
  }[] = JSON.parse(result.stdout).findings;
  const verdicts = new Map<string, GuardVerdict | "none">(
    GUARD_CASES.map(({ id }) => [id, "none"]),
  );
  for (const finding of findings) {
    if (!finding.sessionId) continue;
    if (finding.kind === "shrunken_live") {
      verdicts.set(finding.sessionId, "restore");
    } else if (finding.kind === "intentional_shrink_kept") {
      verdicts.set(finding.sessionId, finding.evidence?.guard ?? "none");
    }
  }
  return { code: result.code, verdicts };
}
