/**
 * Session ids that fail the server's charset (STORE_FORMAT.md §1), from any
 * source: file names (sidecars, backups, journals), index entries, state.db
 * webui rows, and the `session_id` of journal lines. Such an id is never
 * turned into a path, and nothing about it is repaired.
 *
 * @example
 * ```ts
 * import { sessionIds } from "./session_ids.ts";
 * const drafts = await sessionIds.run(store, { now: Date.now(), serverStopped: false });
 * ```
 * @module
 */

import { defineCheck } from "../core/check.ts";
import type { Evidence, FindingDraft } from "../core/finding.ts";
import { describeInvalidId, isValidSessionId } from "../core/session_id.ts";
import {
  EVIDENCE_CHARS,
  plainText,
  shortText,
  showJson,
  shownName,
} from "./shown_value.ts";
import { INDEX_FILE } from "../core/store_layout.ts";
import type { IndexEntry } from "../core/snapshot.ts";
import { EXAMPLES_SHOWN, MAX_LISTED } from "./listed_cap.ts";

/** The `session-ids` check. */
export const sessionIds = defineCheck({
  id: "session-ids",
  title: "Invalid session ids",
  description:
    "Reports session ids outside [A-Za-z0-9_-] in file names, the index, " +
    "state.db webui rows, and journal names and lines.",
  partwise: true,
  kinds: [{
    kind: "invalid_session_id",
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
      "hand while the server is stopped. Invalid ids in _index.json " +
      "disappear when the index is rebuilt. More than " +
      `${MAX_LISTED} of them in the index (in a part of 1000 sessions, ` +
      "for a big store) are one finding with their count and the first " +
      `${EXAMPLES_SHOWN}.`,
  }],
  run(store) {
    const drafts: FindingDraft[] = [];
    const report = (
      source: string,
      id: unknown,
      paths: string[],
      where: string,
      order: number[],
      extra: Evidence = {},
    ) =>
      drafts.push({
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
        // Names first, then the index, state.db and journals, each in its
        // own order (see FindingDraft.order).
        order,
      });
    for (const name of store.invalidNames) {
      report(
        name.source,
        name.id,
        [name.name],
        `The file ${shownName(name.name)}`,
        [0],
      );
    }
    if (store.index?.read.ok) {
      const entries = store.index.read.value.entries;
      let invalid = 0;
      for (const entry of entries) {
        if (!isValidSessionId(entry.sessionId)) invalid++;
      }
      if (invalid > MAX_LISTED) {
        const first: IndexEntry[] = [];
        for (const entry of entries) {
          if (first.length === EXAMPLES_SHOWN) break;
          if (!isValidSessionId(entry.sessionId)) first.push(entry);
        }
        drafts.push({
          kind: "invalid_session_id",
          paths: [INDEX_FILE],
          message: `${INDEX_FILE} has ${invalid} entries whose session id ` +
            `fails the charset, the first (entry ${first[0].position}) ` +
            `${showJson(first[0].sessionId)}.`,
          evidence: {
            source: "index",
            count: invalid,
            positions: first.map((e) => e.position),
            ids: first.map((e) => shortText(e.sessionId, EVIDENCE_CHARS)),
          },
          // One such finding per part of a store checked part by part.
          key: `index:count:${first[0].position}`,
          order: [1, first[0].position],
        });
      } else {
        for (const entry of entries) {
          if (!isValidSessionId(entry.sessionId)) {
            report(
              "index",
              entry.sessionId,
              [INDEX_FILE],
              `${INDEX_FILE} entry ${entry.position}`,
              [1, entry.position],
            );
          }
        }
      }
    }
    const db = store.stateDb;
    if (db.status === "ok") {
      const seen = new Set<string>();
      for (const row of db.webuiRows) {
        if (isValidSessionId(row.id) || seen.has(row.id)) continue;
        seen.add(row.id);
        // An empty or NULL id is as unusable as a hostile one.
        report("state_db", row.id, [db.path], "A webui row of state.db", [
          2,
          row.position,
        ]);
      }
    }
    for (const session of store.sessions.values()) {
      for (const journal of session.journal?.files ?? []) {
        if (!journal.read.ok) continue;
        for (const found of journal.read.value.sessionIds) {
          // The server stamps each event with the journal's own id, which
          // may hold '.'; such an id names no path here.
          if (
            isValidSessionId(found.value) || found.value === session.sessionId
          ) continue;
          report(
            "journal_line",
            found.value,
            [journal.name],
            `Line ${found.line} of ${journal.name}`,
            [3],
            { line: found.line, events: found.count },
          );
        }
      }
    }
    return drafts;
  },
});
