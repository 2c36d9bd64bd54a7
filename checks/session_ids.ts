/**
 * Session ids that fail the server's charset (STORE_FORMAT.md §1), from any
 * source: file names (sidecars, backups, journals), state.db webui rows,
 * and the `session_id` of journal lines. Such an id is never turned into a
 * path, and nothing about it is repaired. An index entry's id is not
 * judged here: the server keeps an entry only while `<id>.json` exists, so
 * one with an invalid id is an entry without a sidecar (index-coverage's
 * `index_missing_file`, repairable), never a path.
 *
 * @example
 * ```ts
 * import { sessionIds } from "./session_ids.ts";
 * import { runChecks } from "../core/plugins/pipeline.ts";
 * import type { StoreSnapshot } from "../core/scan/store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * const findings = await runChecks(store, [sessionIds], { now: Date.now(), serverStopped: false });
 * ```
 * @module
 */

import { defineCheck } from "../core/plugins/check.ts";
import type { Evidence } from "../core/report/finding.ts";
import {
  describeInvalidId,
  isValidSessionId,
} from "../core/store/session_id.ts";
import {
  EVIDENCE_CHARS,
  plainText,
  shortText,
  showJson,
  shownName,
} from "../core/report/shown_value.ts";

/** The `session-ids` check. */
export const sessionIds = defineCheck({
  id: "session-ids",
  title: "Invalid session ids",
  description:
    "Reports session ids outside [A-Za-z0-9_-] in file names, state.db " +
    "webui rows, and journal names and lines.",
  kinds: {
    invalid_session_id: {
      category: "unsafe_to_repair",
      severity: "error",
      summary: "A session id fails the server's charset.",
      explain: "Since v0.51.149 the server accepts sidecar ids matching " +
        "^[A-Za-z0-9_-]+$ (before, only ^[0-9a-z_]+$, a subset, so stores of " +
        "every version are judged by the newer rule) and ignores the rest. " +
        "Its journal code also lets '.' through, so '.' and '..' would name " +
        "the session dir or _run_journal/ itself; hermes-fsck reports every " +
        "such id and never makes it a path. An id such as ../../x is also how a hostile or broken row " +
        "would write outside the store. hermes-fsck never turns such an id " +
        "into a path and repairs nothing about it. Find where it came from " +
        "(the evidence names the source: sidecar, backup or journal for a " +
        "file name, index, state_db for a webui row, journal_line for an " +
        "event inside a journal, with its line) and rename or remove it by " +
        "hand while the server is stopped. An invalid id in _index.json is " +
        "not reported here: the server sweeps such an entry as it sweeps " +
        "any entry without a sidecar (index_missing_file, repairable).",
    },
  },
  create(context) {
    const report = (
      source: string,
      id: unknown,
      paths: string[],
      where: string,
      extra: Evidence = {},
    ) =>
      context.report({
        kind: "invalid_session_id",
        paths,
        message: `${where} has the session id ${showJson(id)}, which ${
          id === null ? "is null" : describeInvalidId(id)
        }.`,
        evidence: {
          source,
          // A hostile id may be megabytes long or nested 100,000 deep.
          id: typeof id === "string"
            ? shortText(id, EVIDENCE_CHARS)
            : showJson(id, EVIDENCE_CHARS),
          ...extra,
        },
        key: `${source}:${plainText(id)}`,
      });
    return {
      stateDbRow({ row, db, session }) {
        // Each id once, at its first row; an empty or NULL id is as
        // unusable as a hostile one.
        if (isValidSessionId(row.id) || session.stateDbRows[0] !== row) {
          return;
        }
        report("state_db", row.id, [db.path], "A webui row of state.db");
      },
      session({ sessionId, files }) {
        for (const journal of files.journal?.files ?? []) {
          if (!journal.read.ok) continue;
          for (const found of journal.read.value.sessionIds) {
            // The server stamps each event with the journal's own id, which
            // may hold '.'; such an id names no path here.
            if (
              isValidSessionId(found.value) || found.value === sessionId
            ) continue;
            report(
              "journal_line",
              found.value,
              [journal.name],
              `Line ${found.line} of ${journal.name}`,
              { line: found.line, events: found.count },
            );
          }
        }
      },
      end() {
        for (const name of context.store.invalidNames) {
          report(
            name.source,
            name.id,
            [name.name],
            `The file ${shownName(name.name)}`,
          );
        }
      },
    };
  },
});
