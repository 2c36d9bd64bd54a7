/**
 * `runs --prune`: deleting old runs, the one deletion the tool makes of its
 * own data. It holds the repair lock, so no run it looks at is alive, and
 * it keeps, whatever `--keep` says, every run that may still be needed:
 * - a run that did not finish (the next repair rolls back what it left half
 *   done, from its records and quarantine);
 * - a run whose quarantine holds the only copy of something: an action that
 *   was not applied (pending, skipped or failed) but whose moved-aside file
 *   is still in `files/`, and whose bytes are not at its path any more. An
 *   applied action's quarantined file is the version the run replaced on
 *   purpose: giving that up is what pruning is for (it ends `undo`);
 * - a run whose records fail validation (run_records.ts): the tool did not
 *   write them as they are, so it cannot tell what its quarantine holds.
 *
 * @example
 * ```ts
 * import { pruneRuns } from "./run_prune.ts";
 * const result = await pruneRuns("/srv/sessions", 3);
 * for (const kept of result.protected) console.log(kept.run.runId, kept.reason);
 * ```
 * @module
 */

import { join } from "./path.ts";
import { readRegularFile } from "./file_read.ts";
import { sha256Hex } from "./hash.ts";
import { acquireLock, type LockHolder } from "./lock.ts";
import { type InvalidRun, listRuns, type Manifest } from "./run_records.ts";
import { deleteRun } from "./safety.ts";

/**
 * What a prune did.
 *
 * @example
 * ```ts
 * import { pruneRuns } from "./run_prune.ts";
 * declare const dir: string;
 * const { pruned, kept, protected: spared, invalid } = await pruneRuns(dir, 1);
 * ```
 */
export interface PruneResult {
  /** Runs deleted, oldest first. */
  pruned: Manifest[];
  /** Valid runs that stay, oldest first (the newest N and the protected). */
  kept: Manifest[];
  /** Runs older than the newest N that were kept anyway, and why. */
  protected: { run: Manifest; reason: string }[];
  /** Runs whose records fail validation: never pruned. */
  invalid: InvalidRun[];
  /** A stale lock taken over, if any. */
  tookOverLockFrom: LockHolder | null;
}

/**
 * Deletes all but the newest `keep` runs, except those that may still be
 * needed (see the module doc), under the repair lock. Throws
 * `LockHeldError` when another hermes-fsck holds the lock.
 *
 * @example
 * ```ts
 * import { pruneRuns } from "./run_prune.ts";
 * const result = await pruneRuns("/srv/sessions", 0);
 * ```
 */
export async function pruneRuns(
  sessionDir: string,
  keep: number,
): Promise<PruneResult> {
  const real = await Deno.realPath(sessionDir);
  const lock = await acquireLock(real, "runs --prune");
  try {
    const { runs, invalid } = await listRuns(real);
    const older = runs.slice(0, Math.max(0, runs.length - keep));
    const result: PruneResult = {
      pruned: [],
      kept: [],
      protected: [],
      invalid,
      tookOverLockFrom: lock.tookOverFrom,
    };
    for (const run of older) {
      const reason = await whyKeep(real, run);
      if (reason) {
        result.protected.push({ run, reason });
        continue;
      }
      await deleteRun(real, run.runId);
      result.pruned.push(run);
    }
    result.kept = runs.filter((run) => !result.pruned.includes(run));
    return result;
  } finally {
    await lock.release();
  }
}

/** Why a run must not be deleted, or null. */
async function whyKeep(
  sessionDir: string,
  run: Manifest,
): Promise<string | null> {
  if (run.finishedAt === null) {
    return "it did not finish; the next 'hermes-fsck repair' puts back " +
      "what it left half done, and 'hermes-fsck undo' can still undo it";
  }
  for (const entry of run.entries) {
    if (entry.status === "applied" || entry.quarantined === undefined) {
      continue;
    }
    if (await onlyCopy(sessionDir, entry.quarantined, entry.path)) {
      return `its quarantine holds the only copy of ${entry.path} ` +
        `(${entry.quarantined}, from an action that was ${entry.status}); ` +
        `put it back by hand if it is needed, then move the run dir out ` +
        `of the session dir`;
    }
  }
  return null;
}

/**
 * True unless the file at `path` holds exactly the bytes of the quarantined
 * file (or the quarantined file is gone). Unreadable counts as different.
 */
async function onlyCopy(
  sessionDir: string,
  quarantined: string,
  path: string,
): Promise<boolean> {
  const kept = await Deno.lstat(join(sessionDir, quarantined)).catch(() =>
    null
  );
  if (kept === null) return false;
  if (!kept.isFile) return true;
  const ours = await readRegularFile(join(sessionDir, quarantined), kept.size);
  const theirs = await readRegularFile(join(sessionDir, path), kept.size);
  if (!ours.ok || !theirs.ok) return true;
  return (await sha256Hex(ours.value)) !== (await sha256Hex(theirs.value));
}
