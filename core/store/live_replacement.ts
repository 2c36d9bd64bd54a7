/**
 * Whether a repair of this run will replace a session's live sidecar:
 * `restore_from_bak` when its `.bak` holds more messages and no
 * intentional-shrink guard holds (a `shrunken_live` finding), or
 * `promote_temp` when an interrupted save is newer. Checks that report a
 * damaged live file stay quiet then, since the file is about to go.
 *
 * @example
 * ```ts
 * import { liveReplacement } from "./live_replacement.ts";
 * import type { StoreSnapshot, SessionFiles } from "../scan/store_snapshot.ts";
 * import type { CheckOptions } from "../plugins/check.ts";
 * declare const session: SessionFiles;
 * declare const options: CheckOptions;
 * declare const store: StoreSnapshot;
 * liveReplacement(store, session, options); // "abc.json.bak", "abc.tmp.1.2" or null
 * ```
 * @module
 */

import type { CheckOptions } from "../plugins/check.ts";
import { intentionalShrinkGuard } from "./shrink_guards.ts";
import type { SessionFiles, StoreSnapshot } from "../scan/snapshot.ts";
import { messageCountOf, summaryOf } from "../scan/store_facts.ts";
import { isParseProblem } from "../scan/parse_problem.ts";
import { interruptedSaveOf } from "./temp_verdict.ts";

/**
 * The name of the file a repair will put in place of the live sidecar, or
 * null when none will.
 *
 * @example
 * ```ts
 * import { liveReplacement } from "./live_replacement.ts";
 * import type { StoreSnapshot, SessionFiles } from "../scan/store_snapshot.ts";
 * import type { CheckOptions } from "../plugins/check.ts";
 * declare const session: SessionFiles;
 * declare const options: CheckOptions;
 * declare const store: StoreSnapshot;
 * // reported as shrunken_live or interrupted_save, so this check stays quiet
 * const replaced = liveReplacement(store, session, options) !== null;
 * ```
 */
export function liveReplacement(
  store: StoreSnapshot,
  session: SessionFiles,
  options: CheckOptions,
): string | null {
  const { live, backup } = session;
  if (live && !live.read.ok && !isParseProblem(live.read.problem)) {
    return null; // a file that cannot be read is never replaced
  }
  if (backup && messageCountOf(backup) > messageCountOf(live)) {
    const liveSummary = summaryOf(live);
    const bakSummary = summaryOf(backup);
    const guard = liveSummary && bakSummary
      ? intentionalShrinkGuard(liveSummary, bakSummary)
      : null;
    if (!guard) return backup.name;
  }
  return interruptedSaveOf(store, session.temps, options)?.name ?? null;
}
