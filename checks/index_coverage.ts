/**
 * Index coverage: `_index.json` must list exactly the sessions that have a
 * sidecar. Compared by id only, as the server's own audit does; an index
 * that does not parse or is not a list lists nothing.
 *
 * @example
 * ```ts
 * import { indexCoverage } from "./index_coverage.ts";
 * const drafts = await indexCoverage.run(store, { now: Date.now(), serverStopped: false });
 * ```
 * @module
 */

import { defineCheck } from "../core/check.ts";
import type { FindingDraft } from "../core/finding.ts";
import { deletion, messageCountOf } from "../core/store_facts.ts";
import { INDEX_FILE } from "../core/store_layout.ts";
import { isValidSessionId } from "../core/session_id.ts";
import { EVIDENCE_CHARS, shortText, showJson } from "./shown_value.ts";
import { EXAMPLES_SHOWN, firstSorted, MAX_LISTED } from "./listed_cap.ts";

const MANY = `More than ${MAX_LISTED} such ids (in a part of 1000 ` +
  "sessions, for a big store) are one finding with their count and the " +
  `first ${EXAMPLES_SHOWN} of them by id.`;

/** The `index-coverage` check. */
export const indexCoverage = defineCheck({
  id: "index-coverage",
  title: "Index entries and sidecars match",
  description:
    "Reports index entries without a sidecar and sidecars without an index " +
    "entry.",
  partwise: true,
  kinds: [
    {
      kind: "index_missing_file",
      category: "repairable",
      severity: "warning",
      repair: "rebuild_index",
      summary: "The index lists a session that has no sidecar.",
      explain:
        "_index.json is derived from the sidecars and only speeds up the " +
        "session list; an entry without a file shows a session that cannot " +
        "be opened. Repair: rebuild_index rewrites _index.json from the " +
        "sidecars of this session dir. No conversation data is involved. " +
        MANY,
    },
    {
      kind: "index_missing_entry",
      category: "repairable",
      severity: "warning",
      repair: "rebuild_index",
      summary: "A sidecar is missing from the index.",
      explain: "The session exists on disk but the sidebar, which reads " +
        "_index.json, does not show it. Repair: rebuild_index rewrites " +
        "_index.json from the sidecars of this session dir.",
    },
  ],
  run(store) {
    const drafts: FindingDraft[] = [];
    const index = store.index;
    if (!index) return drafts;
    // Only the listed ids with a sidecar are kept, and the missing ones
    // once each: an index may list millions of ids, most of them twice.
    const listed = new Set<string>();
    const missing = new Set<string>();
    if (index.read.ok) {
      for (const { sessionId: id } of index.read.value.entries) {
        if (store.sessions.get(id)?.live) listed.add(id);
        else if (
          !(isValidSessionId(id) && deletion(store, id) === "deleted")
        ) missing.add(id);
      }
    }
    if (missing.size > MAX_LISTED) {
      const shown = firstSorted(missing, EXAMPLES_SHOWN);
      drafts.push({
        kind: "index_missing_file",
        paths: [INDEX_FILE],
        message: `${INDEX_FILE} lists ${missing.size} sessions that have ` +
          `no sidecar, among them ${
            shown.slice(0, 3).map((id) => showJson(id)).join(", ")
          }.`,
        evidence: {
          liveMessages: -1,
          bakMessages: -1,
          count: missing.size,
          sessionIds: shown.map((id) => shortText(id, EVIDENCE_CHARS)),
        },
        // One such finding per part of a store checked part by part.
        key: `count:${shortText(shown[0], EVIDENCE_CHARS)}`,
        order: [0],
      });
    } else {
      for (const id of [...missing].sort()) {
        drafts.push({
          kind: "index_missing_file",
          // An invalid id may be megabytes long: the report shows an excerpt.
          sessionId: shortText(id, EVIDENCE_CHARS),
          paths: [INDEX_FILE],
          message: isValidSessionId(id)
            ? `${INDEX_FILE} lists ${id} but ${id}.json does not exist.`
            : `${INDEX_FILE} lists the invalid id ${showJson(id)}.`,
          evidence: { liveMessages: -1, bakMessages: -1 },
          order: [0], // every listed id without a sidecar first, by id
        });
      }
    }
    for (const session of store.sessions.values()) {
      if (!session.live || listed.has(session.sessionId)) continue;
      drafts.push({
        kind: "index_missing_entry",
        sessionId: session.sessionId,
        paths: [session.live.name, INDEX_FILE],
        message: `${session.live.name} is not listed in ${INDEX_FILE}.`,
        evidence: {
          liveMessages: messageCountOf(session.live),
          bakMessages: -1,
        },
        order: [1],
      });
    }
    return drafts;
  },
});
