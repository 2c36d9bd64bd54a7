/**
 * Undo: put every file a run changed back as it was. Works from the run's
 * action records and quarantine, and from the files as they are now, so it
 * also undoes a run that was killed mid-action. It refuses, file by file,
 * where a file changed since the run (restoring it would lose that change),
 * leaves missing a file the run wrote that was removed since (a deleted
 * session must stay deleted), and it is itself a run with its own
 * quarantine, so an undo can be undone. The run's records are validated
 * first (run_records.ts): a run with a record that fails is not undone.
 *
 * @example
 * ```ts
 * import { undoRun } from "./undo.ts";
 * const result = await undoRun("/srv/sessions", "20261121T050102Z-a1b2c3");
 * console.log(result.restored.length, result.refused.length);
 * ```
 * @module
 */

import { join } from "./path.ts";
import type { Action, Expectation } from "../plugins/action.ts";
import { acquireLock, type LockHolder } from "./lock.ts";
import {
  expectationOf,
  type ManifestEntry,
  newRunId,
  StoreWriter,
  type WriterOptions,
} from "./safety.ts";
import { describeProblems, readRun, RUNS_DIR } from "./run_records.ts";
import { sha256Hex } from "./hash.ts";

/** One file of an undo. */
export interface UndoItem {
  seq: number;
  path: string;
  /** One phrase for a person. */
  detail: string;
}

/** What an undo did. */
export interface UndoResult {
  /** The run that was undone. */
  runId: string;
  /** The undo's own run (null when nothing had to change). */
  undoRunId: string | null;
  /** Files put back. */
  restored: UndoItem[];
  /** Files already as they were before the run. */
  unchanged: UndoItem[];
  /** Files left alone because they changed since the run, or their old bytes are missing. */
  refused: UndoItem[];
  /**
   * Files the run wrote that were removed after it (a session deleted
   * since, say): left missing, as whoever removed them meant.
   */
  left: UndoItem[];
  /**
   * Files that could not be put back for an I/O error (a full disk): their
   * old bytes are still in the run's quarantine, at `quarantined`.
   */
  failed: (UndoItem & { quarantined?: string })[];
  /** A stale lock taken over, if any. */
  tookOverLockFrom: LockHolder | null;
}

/**
 * Raised when the run does not exist or its records fail validation.
 *
 * @example
 * ```ts
 * import { undoRun, UnknownRunError } from "./undo.ts";
 * declare const sessionDir: string;
 * try { await undoRun(sessionDir, "nope"); } catch (e) { if (e instanceof UnknownRunError) console.log(e.message); }
 * ```
 */
export class UnknownRunError extends Error {}

/**
 * Undoes a run.
 *
 * @example
 * ```ts
 * import { undoRun } from "./undo.ts";
 * declare const sessionDir: string;
 * declare const runId: string;
 * const result = await undoRun(sessionDir, runId, { maxFileBytes: 1 << 30 });
 * ```
 */
export async function undoRun(
  sessionDir: string,
  runId: string,
  options: { maxFileBytes?: number; writer?: WriterOptions } = {},
): Promise<UndoResult> {
  const realDir = await Deno.realPath(sessionDir);
  const lock = await acquireLock(realDir, "undo");
  let run;
  try {
    run = await validRun(realDir, runId);
  } catch (error) {
    await lock.release();
    throw error;
  }
  const result: UndoResult = {
    runId,
    undoRunId: null,
    restored: [],
    unchanged: [],
    refused: [],
    left: [],
    failed: [],
    tookOverLockFrom: lock.tookOverFrom,
  };
  let writer: StoreWriter | null = null;
  try {
    const maxBytes = options.maxFileBytes ?? Number.MAX_SAFE_INTEGER;
    for (const entry of [...run.entries].reverse()) {
      const plan = await planUndo(realDir, entry, maxBytes);
      const item = { seq: entry.seq, path: entry.path, detail: plan.detail };
      if (plan.kind !== "restore") {
        result[plan.kind].push(item);
        continue;
      }
      writer ??= await StoreWriter.open(realDir, newRunId(), {
        ...options.writer,
        command: "undo",
        undoes: runId,
      });
      const outcome = await writer.apply(plan.action);
      const detail = outcome.detail ?? outcome.status;
      if (outcome.status === "applied") result.restored.push(item);
      else if (outcome.reason === "io_error") {
        // Not a change by someone else: the disk failed. The old bytes
        // stay where the run put them.
        result.failed.push({
          ...item,
          detail,
          ...(entry.quarantined ? { quarantined: entry.quarantined } : {}),
        });
      } else result.refused.push({ ...item, detail });
    }
    await writer?.close();
    result.undoRunId = writer?.hasRunDir ? writer.runId : null;
  } finally {
    await lock.release();
  }
  return result;
}

/** The run, read under the lock; throws when it is missing or invalid. */
async function validRun(sessionDir: string, runId: string) {
  const read = await readRun(sessionDir, runId);
  if (read === null) {
    throw new UnknownRunError(
      `no run ${JSON.stringify(runId)} in ${
        join(sessionDir, RUNS_DIR)
      }; 'hermes-fsck runs' lists them`,
    );
  }
  if (!read.ok) {
    throw new UnknownRunError(
      `run ${runId} was not undone: its records fail validation, so ` +
        `hermes-fsck did not write them as they are: ${
          describeProblems(read.problems).join("; ")
        }; look at ${
          join(sessionDir, RUNS_DIR, runId)
        } and put back by hand what its files/ holds, if anything`,
    );
  }
  return read.run;
}

type UndoPlan =
  | { kind: "restore"; action: Action; detail: string }
  | { kind: "unchanged" | "refused" | "left"; detail: string };

async function planUndo(
  sessionDir: string,
  entry: ManifestEntry,
  maxBytes: number,
): Promise<UndoPlan> {
  const now = await expectationOf(join(sessionDir, entry.path), maxBytes);
  if ("problem" in now) {
    return { kind: "refused", detail: `${entry.path} ${now.problem}` };
  }
  if (entry.op === "append" || entry.op === "truncate") {
    return await planTailUndo(sessionDir, entry, now, maxBytes);
  }
  const current = now.expect.exists ? now.expect.sha256 : null;
  const before = entry.before?.sha256 ?? null;
  const after = entry.after?.sha256 ?? null;
  if (current === before) {
    return { kind: "unchanged", detail: "already as before the run" };
  }
  if (current === null && entry.status === "applied" && after !== null) {
    // The run wrote this file and finished that action; it is gone now, so
    // someone removed it since (the server deleting the session, or a
    // person). Bringing the old bytes back would resurrect it.
    return {
      kind: "left",
      detail: `${entry.path} was removed after the run; it was left missing`,
    };
  }
  const original = entry.before && entry.quarantined
    ? await readQuarantined(
      sessionDir,
      entry.quarantined,
      entry.before,
      maxBytes,
    )
    : null;
  const missingMidAction = current === null && original !== null;
  if (
    (entry.status === "skipped" || entry.status === "failed") &&
    !missingMidAction
  ) {
    return { kind: "unchanged", detail: "the run did not apply this action" };
  }
  // What the run left: its own result, or nothing where it was killed (or
  // failed) between moving the old file aside and linking the new one in.
  const leftByRun = current === after || missingMidAction;
  if (!leftByRun) {
    return {
      kind: "refused",
      detail: `${entry.path} changed after the run; it was left as it is`,
    };
  }
  if (before === null) {
    return {
      kind: "restore",
      detail: `removed ${entry.path}, which the run created`,
      action: {
        op: "remove",
        path: entry.path,
        expect: now.expect as Extract<typeof now.expect, { exists: true }>,
        note: `undo: remove ${entry.path}, created by the run`,
      },
    };
  }
  if (original === null) {
    return {
      kind: "refused",
      detail: `the old bytes of ${entry.path} are not in the run's quarantine`,
    };
  }
  return {
    kind: "restore",
    detail: `put back ${entry.path} from ${entry.quarantined}`,
    action: {
      op: "write",
      path: entry.path,
      data: original,
      expect: now.expect,
      note: `undo: put back ${entry.path} as it was before the run`,
    },
  };
}

async function readQuarantined(
  sessionDir: string,
  rel: string,
  before: { sha256: string; size: number },
  maxBytes: number,
): Promise<Uint8Array | null> {
  // Bounded by the recorded size too: bigger bytes cannot be the old file.
  const found = await expectationOf(
    join(sessionDir, rel),
    Math.min(maxBytes, before.size),
  );
  if ("problem" in found || !found.bytes) return null;
  return (await sha256Hex(found.bytes)) === before.sha256 ? found.bytes : null;
}

/**
 * Undo of an in-place append or truncation (the turn journal): cut the
 * appended bytes back off, or append the cut bytes again, and only while
 * the file still ends exactly where the run left it: a server that appended
 * since keeps its events, and the file is left as it is.
 */
async function planTailUndo(
  sessionDir: string,
  entry: ManifestEntry,
  now: { expect: Expectation; bytes: Uint8Array | null },
  maxBytes: number,
): Promise<UndoPlan> {
  const tail = entry.tail;
  if (!now.expect.exists || !now.bytes) {
    return {
      kind: "refused",
      detail: `${entry.path} was removed after the run; it was left as it is`,
    };
  }
  if (now.expect.sha256 === entry.before?.sha256) {
    return { kind: "unchanged", detail: "already as before the run" };
  }
  if (!tail || (entry.status !== "applied" && entry.status !== "pending")) {
    return { kind: "unchanged", detail: "the run did not apply this action" };
  }
  const endsAsLeft = entry.op === "append"
    ? now.bytes.length === tail.offset + tail.size &&
      (await sha256Hex(now.bytes.subarray(tail.offset))) === tail.sha256
    : now.bytes.length === tail.offset &&
      now.expect.sha256 === entry.after?.sha256;
  if (!endsAsLeft) {
    return {
      kind: "refused",
      detail: entry.op === "append"
        ? `${entry.path} no longer ends with the bytes the run appended ` +
          `(something was appended or changed since); it was left as it is`
        : `${entry.path} changed after the run; it was left as it is`,
    };
  }
  if (entry.op === "append") {
    return {
      kind: "restore",
      detail: `cut the ${tail.size} bytes the run appended off ${entry.path}`,
      action: {
        op: "truncate",
        path: entry.path,
        size: tail.offset,
        expect: now.expect,
        note: `undo: cut the bytes the run appended off ${entry.path}`,
      },
    };
  }
  const cut = entry.quarantined
    ? await readQuarantined(
      sessionDir,
      entry.quarantined,
      tail,
      maxBytes,
    )
    : null;
  if (cut === null) {
    return {
      kind: "refused",
      detail: `the bytes cut off ${entry.path} are not in the run's quarantine`,
    };
  }
  return {
    kind: "restore",
    detail: `append the ${tail.size} bytes the run cut off ${entry.path} again`,
    action: {
      op: "append",
      path: entry.path,
      data: cut,
      expect: now.expect,
      note: `undo: append the bytes the run cut off ${entry.path} again`,
    },
  };
}
