/**
 * `_index.json` that is not what the server writes: bytes that do not parse,
 * JSON that is not a list, or entries that are not objects with a string
 * `session_id`. The index is derived from the sidecars, so rebuilding it
 * is always safe.
 *
 * @example
 * ```ts
 * import { indexShape } from "./index_shape.ts";
 * import { runChecks } from "../core/plugins/pipeline.ts";
 * import type { StoreSnapshot } from "../core/scan/store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * const findings = await runChecks(store, [indexShape], { now: Date.now(), serverStopped: false });
 * ```
 * @module
 */

import { defineCheck, type StoreWide } from "../core/plugins/check.ts";
import type { FindingDraft } from "../core/report/finding.ts";
import { INDEX_FILE } from "../core/store/layout.ts";
import {
  isParseProblem,
  parseProblemEvidence,
} from "../core/scan/parse_problem.ts";
import { MAX_LISTED } from "../core/report/listed_cap.ts";

const REBUILD =
  "Repair: rebuild_index rewrites _index.json from the sidecars of this " +
  "session dir, as the server's compact entries sorted by updated_at " +
  "(the old file is kept in the run's quarantine). The index holds no " +
  "data of its own, so nothing can be lost or brought back.";

/** The `index-shape` check. */
export const indexShape = defineCheck({
  id: "index-shape",
  title: "Index that is corrupt or of the wrong shape",
  description:
    "Reports an _index.json that does not parse, is not a JSON list, or " +
    "has entries without a string session_id.",
  kinds: {
    index_unparsable: {
      category: "repairable",
      severity: "warning",
      summary: "_index.json does not parse.",
      explain:
        "_index.json is empty, not UTF-8 or not JSON (a torn write or a " +
        "full disk). The server cannot use it: the session list falls back " +
        "to loading every sidecar (slow with hundreds of sessions) until a " +
        "save happens to rebuild it. The evidence gives the reason and the " +
        "byte offset of the error. " + REBUILD,
    },
    index_not_list: {
      category: "repairable",
      severity: "warning",
      summary: "_index.json parses but is not a JSON list.",
      explain:
        "The server writes the index as a list of compact session entries; " +
        "an object or a scalar in its place (from another tool or an old " +
        "format) lists no session. " + REBUILD,
    },
    index_malformed_entry: {
      category: "repairable",
      severity: "warning",
      summary: "_index.json has entries without a string session_id.",
      explain: "Every entry of the index must be an object with a string " +
        "session_id. The server reads entries with entry.get('session_id'), " +
        "so an entry that is not an object makes its whole read of the " +
        "index fail, and an entry without an id names no session. The " +
        "evidence gives the count of the bad entries and the positions of " +
        `the first ${MAX_LISTED}. ` + REBUILD,
    },
  },
  create: (context) => ({
    end() {
      for (const draft of indexShapeDrafts(context.store)) {
        context.report(draft);
      }
    },
  }),
});

function indexShapeDrafts(store: StoreWide): FindingDraft[] {
  const index = store.index;
  if (!index) return [];
  const read = index.read;
  if (!read.ok) {
    if (!isParseProblem(read.problem)) return []; // unreadable-files
    return [{
      kind: "index_unparsable",
      paths: [index.name],
      message: `${index.name} ${read.problem.detail}.`,
      evidence: parseProblemEvidence(read.problem),
    }];
  }
  const summary = read.value;
  const drafts: FindingDraft[] = [];
  if (summary.shape !== "list") {
    drafts.push({
      kind: "index_not_list",
      paths: [index.name],
      message: `${index.name} is a JSON ${summary.shape}, not a list.`,
      evidence: { shape: summary.shape },
    });
  } else if (summary.badEntries.length > 0) {
    const positions = summary.badEntries;
    drafts.push({
      kind: "index_malformed_entry",
      paths: [INDEX_FILE],
      message: `${index.name} has ${positions.length} ${
        positions.length === 1 ? "entry" : "entries"
      } without a string session_id (at ${
        positions.length === 1 ? "position" : "positions"
      } ${positions.slice(0, 10).join(", ")}${
        positions.length > 10 ? ", ..." : ""
      }).`,
      // The first positions only: an index may have millions of them.
      evidence: {
        count: positions.length,
        positions: positions.slice(0, MAX_LISTED),
      },
    });
  }
  return drafts;
}
