/**
 * The run journal of a sidecar's `active_stream_id`, read for a repair
 * that closes the stream: `_run_journal/<sid>/<stream_id>.jsonl`, built
 * only from ids that pass the sidecar rule, its two dirs lstat-checked
 * (never followed when a link) before and after the file is read
 * no-follow and bounded (core/journal/run_journal.ts). What cannot be read as the
 * server would read it is a skip, so the stream stays set and the server
 * recovers the run's output itself; a journal that does not exist is a
 * run that left nothing.
 *
 * @example
 * ```ts
 * import { readStreamJournal } from "./stream_journal.ts";
 * const journal = await readStreamJournal("/srv/sessions", "abc", "f00d");
 * if (!("skip" in journal) && journal.output) console.log(journal.output.items.length);
 * ```
 * @module
 */

import { storeLstatSync } from "../io/overlay.ts";
import type { PlanSkip } from "../plugins/repair.ts";
import { readRunOutput, type RunOutput } from "./run_journal.ts";
import { RUN_JOURNAL_DIR, runJournalName } from "./run_journal_files.ts";
import { isValidSessionId } from "../store/session_id.ts";
import { pathIn } from "../store/layout.ts";
import { shortText } from "../report/shown_value.ts";

/**
 * A stream's run journal as read for a repair.
 *
 * @example
 * ```ts
 * import type { StreamJournal } from "./stream_journal.ts";
 * const none: StreamJournal = { output: null, exists: false, name: null };
 * ```
 */
export interface StreamJournal {
  /** What the reader made of it; null when there is no file. */
  output: RunOutput | null;
  /** A file (or the session's run journal dir) exists. */
  exists: boolean;
  /** The file's path relative to the session dir, when the ids allow one. */
  name: string | null;
}

/**
 * Reads the run journal of `streamId` (the sidecar's `active_stream_id`,
 * any JSON value) of session `sessionId`.
 *
 * @example
 * ```ts
 * import { readStreamJournal } from "./stream_journal.ts";
 * declare const sessionDir: string;
 * declare const doc: Record<string, unknown>;
 * const journal = await readStreamJournal(sessionDir, "abc", doc.active_stream_id);
 * if ("skip" in journal) console.log(journal.skip); // the repair skips the session
 * ```
 */
export async function readStreamJournal(
  sessionDir: string,
  sessionId: string,
  streamId: unknown,
): Promise<StreamJournal | PlanSkip> {
  const none: StreamJournal = { output: null, exists: false, name: null };
  const root = pathIn(sessionDir, RUN_JOURNAL_DIR);
  const dirName = `${RUN_JOURNAL_DIR}/${sessionId}`;
  const rootStat = lstat(root);
  if (rootStat === null) return none;
  if (!rootStat.isDirectory) return notFollowed(RUN_JOURNAL_DIR, rootStat);
  if (!isValidSessionId(sessionId)) return none;
  const dirPath = pathIn(sessionDir, dirName);
  const dirStat = lstat(dirPath);
  if (dirStat === null) return none;
  if (!dirStat.isDirectory) return notFollowed(dirName, dirStat);
  if (typeof streamId !== "string" || !isValidSessionId(streamId)) {
    // The server would look for a journal under an id no path is built
    // from here; the dir exists, so it may hold the run's output.
    return {
      skip:
        `the stream id ${
          shortText(JSON.stringify(streamId) ?? "")
        } fails the id rule, so hermes-fsck does not open its run journal in ` +
        `${dirName}; start the server, which recovers the turn when the ` +
        "session loads",
    };
  }
  const name = runJournalName(sessionId, streamId);
  const path = pathIn(sessionDir, name);
  const read = await readRunOutput(path, sessionId, streamId);
  if (!read.ok) {
    if (read.problem.reason === "missing") {
      return { output: null, exists: true, name };
    }
    return {
      skip: `${name} ${read.problem.detail}; the run's output may be in ` +
        "it, so the stream is left for the server to recover",
    };
  }
  const stats = read.value.stats;
  if (stats.cutAtByte !== null || stats.oversizedCount > 0) {
    return {
      skip: `${name} is larger than hermes-fsck reads (a line or the file ` +
        "over its bounds); start the server, which recovers the turn's " +
        "output when the session loads",
    };
  }
  // The dirs were not swapped for links while the file was read, and the
  // file read is the one its path names now.
  const rootAfter = lstat(root);
  const dirAfter = lstat(dirPath);
  const fileAfter = lstat(path);
  if (
    !sameDir(rootStat, rootAfter) || !sameDir(dirStat, dirAfter) ||
    !fileAfter?.isFile || fileAfter.ino !== read.identity.ino ||
    fileAfter.dev !== read.identity.dev
  ) {
    return { skip: `${name} changed while it was read` };
  }
  return { output: read.value, exists: true, name };
}

/** The skip for a journal dir that is a link or not a dir at all. */
function notFollowed(name: string, stat: Deno.FileInfo): PlanSkip {
  return {
    skip:
      `${name} is ${
        stat.isSymlink ? "a symbolic link" : "not a directory"
      }, which hermes-fsck does not follow, so the run's output cannot be ` +
      "read; start the server, which recovers the turn when the session loads",
  };
}

function sameDir(before: Deno.FileInfo, after: Deno.FileInfo | null): boolean {
  return !!after?.isDirectory && after.ino === before.ino &&
    after.dev === before.dev;
}

function lstat(path: string): Deno.FileInfo | null {
  try {
    return storeLstatSync(path);
  } catch {
    return null;
  }
}
