/**
 * Store files that could not be read at all: not regular files (FIFOs,
 * sockets, devices, dirs, symlinks), permission denied, over the size
 * limit, I/O errors. They are never opened for writing or replaced.
 *
 * @example
 * ```ts
 * import { unreadableFiles } from "./unreadable_files.ts";
 * import { runChecks } from "../core/plugins/pipeline.ts";
 * import type { StoreSnapshot } from "../core/scan/store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * const findings = await runChecks(store, [unreadableFiles], { now: Date.now(), serverStopped: false });
 * ```
 * @module
 */

import { defineCheck } from "../core/plugins/check.ts";
import type { ReadProblem, ReadProblemReason } from "../core/io/file_read.ts";
import type { ScannedFile } from "../core/scan/snapshot.ts";
import { JOURNAL_DIR } from "../core/store/layout.ts";

const UNREADABLE: ReadonlySet<ReadProblemReason> = new Set([
  "not_regular_file",
  "permission_denied",
  "too_large",
  "io_error",
]);

/** The `unreadable-files` check. */
export const unreadableFiles = defineCheck({
  id: "unreadable-files",
  title: "Files that cannot be read",
  description:
    "Reports sidecars, backups, journals, the index and the tombstone that " +
    "are not regular files or cannot be read.",
  kinds: {
    unreadable_file: {
      category: "unsafe_to_repair",
      severity: "error",
      summary: "A store file is not a regular file or cannot be read.",
      explain:
        "hermes-fsck reads only regular files, never follows symlinks, and " +
        "reads nothing larger than --max-file-size, so the file's content is " +
        "unknown and nothing about it is repaired. The evidence says why: " +
        "fix the permissions, replace the FIFO, device or symlink with the " +
        "real file, or raise --max-file-size.",
    },
  },
  create(context) {
    const visit = (
      file: ScannedFile<unknown> | null | undefined,
      sessionId?: string,
    ) => {
      if (!file || file.read.ok || !UNREADABLE.has(file.read.problem.reason)) {
        return;
      }
      const problem = file.read.problem;
      context.report({
        kind: "unreadable_file",
        sessionId,
        paths: [file.name],
        message: `${file.name} ${problem.detail}${remedyFor(problem)}.`,
        evidence: { problem: problem.reason },
      });
    };
    return {
      session({ sessionId, files }) {
        visit(files.live, sessionId);
        visit(files.backup, sessionId);
        for (const file of files.journal?.files ?? []) visit(file, sessionId);
      },
      end() {
        // The journal dir itself, when a link or a file stands in its
        // place: the journals were not read, so no pending turn could be
        // found.
        for (const entry of context.store.otherEntries) {
          if (entry.name !== JOURNAL_DIR) continue;
          context.report({
            kind: "unreadable_file",
            paths: [entry.name],
            message: entry.type === "symlink"
              ? `${entry.name} is a symbolic link, which hermes-fsck does ` +
                `not follow, so no journal was checked; put the directory ` +
                `itself in place of the link`
              : `${entry.name} is not a directory, so no journal was ` +
                `checked; move it out of the session dir`,
            evidence: { problem: "not_regular_file" },
          });
        }
        visit(context.store.index);
        visit(context.store.tombstone);
      },
    };
  },
});

/** What the operator can do about an unreadable file, as a clause. */
function remedyFor(problem: ReadProblem): string {
  switch (problem.reason) {
    case "not_regular_file":
      return /symbolic link/.test(problem.detail)
        ? "; put the file itself in place of the link, or move the link " +
          "out of the session dir"
        : "; move it out of the session dir (the server cannot load it " +
          "either)";
    case "permission_denied":
      return "; make it readable to the user running hermes-fsck";
    case "io_error":
      return "; check the disk (dmesg) and run again";
    default:
      return ""; // too_large names --max-file-size itself
  }
}
