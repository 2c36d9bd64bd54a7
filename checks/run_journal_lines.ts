/**
 * Run journal lines the server skips or cannot read: lines that are not
 * JSON objects (named by file and line, as the server numbers them), a
 * torn last line (an append cut short by a crash: the server skips it too,
 * so it is only noted), bytes that are not UTF-8 (the server's read of the
 * whole file fails on them), and reads a bound cut. Never fatal: a run
 * journal is append-only history, and nothing here is rewritten.
 *
 * @example
 * ```ts
 * import { runJournalLines } from "./run_journal_lines.ts";
 * import { runChecks } from "../core/plugins/pipeline.ts";
 * import type { StoreSnapshot } from "../core/scan/store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * const findings = await runChecks(store, [runJournalLines], { now: Date.now(), serverStopped: false });
 * ```
 * @module
 */

import { defineCheck } from "../core/plugins/check.ts";
import { readCut } from "../core/scan/run_journal_scan.ts";
import type { RunJournalSummary } from "../core/journal/run_journal.ts";

/** The `run-journal-lines` check. */
export const runJournalLines = defineCheck({
  id: "run-journal-lines",
  title: "Run journal lines the server skips",
  description:
    "Reports run journal lines that are not JSON objects, torn last " +
    "lines, bytes that are not UTF-8, and reads a bound cut short.",
  kinds: {
    run_journal_torn_line: {
      category: "info",
      severity: "info",
      summary: "A run journal's last line was cut short.",
      explain:
        "The last line of a run journal (_run_journal/<sid>/<stream_id>.jsonl, " +
        "since v0.51.71) is not a JSON object and has no newline: an " +
        "append cut short when the server stopped (only terminal events " +
        "are fsynced unless HERMES_WEBUI_RUN_JOURNAL_FSYNC=eager), or one " +
        "in progress while a server runs. The server skips it as it skips " +
        "any malformed line, and recovers the rest; only that one event is " +
        "lost, usually a text delta of the reply. hermes-fsck reads the " +
        "journal the same way and never rewrites it, so this is only " +
        "noted. All versions with run journals.",
    },
    run_journal_malformed_lines: {
      category: "info",
      severity: "warning",
      summary: "A run journal has lines the server skips or cannot read.",
      explain:
        "Some lines of a run journal (_run_journal/<sid>/<stream_id>.jsonl, " +
        "since v0.51.71) before its last are not JSON objects (a torn " +
        "append the next append was written after, or damage), or the " +
        "file holds bytes that are not UTF-8. The server cuts lines where " +
        "Python's splitlines() does (also at \\u2028, \\u2029, \\x1c-\\x1e, " +
        "\\x85, \\x0b, \\x0c, \\r) and skips malformed ones, so their events " +
        "are not recovered after a crash, and its cursor replay (since " +
        "exp-v0.52.27) refuses all of the session's journals; a byte that " +
        "is not UTF-8 makes its read of the whole file fail, so to the " +
        "server the run left nothing. The finding names the file and its " +
        "line numbers (one finding a file); hermes-fsck never fails on " +
        "such a file and never rewrites it (it is append-only history). " +
        "Read the lines by hand if the run's output matters.",
    },
    run_journal_read_cut: {
      category: "info",
      severity: "warning",
      summary: "A run journal was too big to read whole.",
      explain: "A run journal (_run_journal/<sid>/<stream_id>.jsonl, since " +
        "v0.51.71) is bigger than --max-file-size, or has a line longer " +
        "than it (a done event carries the whole session): hermes-fsck " +
        "reads a run journal as a stream, in bounded memory and time, and " +
        "stopped at that bound, so what follows was not checked. The " +
        "message says where. Raise --max-file-size to read it all.",
    },
  },
  create(context) {
    return {
      session({ runJournal: session }) {
        if (!session) return;
        for (const file of session.files) {
          if (!file.read.ok) continue;
          const summary = file.read.value;
          const base = {
            sessionId: session.sessionId,
            paths: [file.name],
            key: file.streamId,
          };
          const damaged = damagedText(summary);
          if (damaged) {
            context.report({
              ...base,
              kind: "run_journal_malformed_lines",
              message: `${file.name} has ${damaged}.`,
              evidence: lineEvidence(summary),
            });
          } else if (summary.tornLastLine !== null) {
            context.report({
              ...base,
              kind: "run_journal_torn_line",
              message: `The last line (${summary.tornLastLine}) of ` +
                `${file.name} was cut short; the server skips it too.`,
              evidence: lineEvidence(summary),
            });
          }
          const cut = readCut(summary);
          if (cut) {
            context.report({
              ...base,
              kind: "run_journal_read_cut",
              message: `${file.name} ${cut}.`,
              evidence: {
                cutAtByte: summary.cutAtByte,
                oversizedLines: summary.oversizedLines,
                oversizedCount: summary.oversizedCount,
                bytesRead: summary.bytesRead,
              },
            });
          }
        }
      },
    };
  },
});

function damagedText(summary: RunJournalSummary): string | null {
  const parts: string[] = [];
  if (summary.malformedCount > 0) {
    const n = summary.malformedCount;
    const more = n > summary.malformedLines.length ? ", ..." : "";
    parts.push(
      `${n} ${
        n === 1
          ? "line that is not a JSON object"
          : "lines that are not JSON objects"
      } ` +
        `(line ${summary.malformedLines.join(", ")}${more})`,
    );
  }
  if (summary.invalidUtf8Line !== null) {
    parts.push(
      `bytes that are not UTF-8 (first on line ${summary.invalidUtf8Line}), ` +
        `so the server cannot read the file at all`,
    );
  }
  if (parts.length === 0) return null;
  if (summary.tornLastLine !== null) {
    parts.push(`a torn last line (${summary.tornLastLine})`);
  }
  return parts.join(", and ");
}

function lineEvidence(
  summary: RunJournalSummary,
): Record<string, number | number[] | boolean | null> {
  return {
    lines: summary.lines,
    events: summary.events,
    malformedLines: summary.malformedLines,
    malformedCount: summary.malformedCount,
    tornLastLine: summary.tornLastLine,
    invalidUtf8Line: summary.invalidUtf8Line,
    endsWithoutNewline: summary.endsWithoutNewline,
  };
}
