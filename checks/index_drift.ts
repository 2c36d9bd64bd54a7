/**
 * Index entries that no longer describe their sidecar: `message_count`,
 * `title`, `updated_at` or `last_message_at` differ from the server's
 * `compact()` of the sidecar, or `last_message_at` is missing. Only
 * sidecars that are whole sessions under their own id are compared; the
 * others are `sidecar-identity`'s findings.
 *
 * @example
 * ```ts
 * import { indexDrift } from "./index_drift.ts";
 * import { runChecks } from "../core/plugins/pipeline.ts";
 * import type { StoreSnapshot } from "../core/scan/store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * const findings = await runChecks(store, [indexDrift], { now: Date.now(), serverStopped: false });
 * ```
 * @module
 */

import { defineCheck } from "../core/plugins/check.ts";
import { compactEntry } from "../core/store/compact_entry.ts";
import type { JsonValue } from "../core/report/finding.ts";
import { INDEX_ENTRY_FIELDS } from "../core/scan/index_scan.ts";
import {
  type SidecarSummary,
  toTimestamp,
} from "../core/store/sidecar_summary.ts";
import { messageCountOf } from "../core/scan/store_facts.ts";
import { boundedValue } from "../core/report/shown_value.ts";

/** The fields of an entry that must match its sidecar. */
const DRIFT_FIELDS = INDEX_ENTRY_FIELDS;
const TIMESTAMP_FIELDS: ReadonlySet<string> = new Set([
  "updated_at",
  "last_message_at",
]);

const REBUILD =
  "Repair: rebuild_index rewrites _index.json from the sidecars of this " +
  "session dir as the server's compact entries; the index holds no data " +
  "of its own, so nothing can be lost or brought back.";

/** The `index-drift` check. */
export const indexDrift = defineCheck({
  id: "index-drift",
  title: "Index entries that disagree with their sidecar",
  description:
    "Compares each index entry with the server's compact entry of its " +
    "sidecar: message_count (the persisted one where the sidecar has it, " +
    "as the server takes it), title, updated_at and last_message_at.",
  kinds: {
    index_entry_drift: {
      category: "repairable",
      severity: "warning",
      summary:
        "An index entry's message_count, title or times disagree with its sidecar.",
      explain:
        "The sidebar shows sessions from _index.json without opening their " +
        "files, so a stale entry shows a wrong title or message count and " +
        "sorts the session in the wrong place. It happens when a save " +
        "reached the sidecar but the index write that follows it did not " +
        "(a crash in between), or after a sidecar was restored or edited. " +
        "The evidence lists each differing field with the index's value " +
        "and the sidecar's. " + REBUILD,
    },
    index_count_at_load: {
      category: "info",
      severity: "info",
      summary:
        "An index entry keeps the message_count its session had when the server loaded it.",
      explain:
        "Since v0.51.139 the server persists message_count in the sidecar " +
        "and, once it has loaded a session, writes that loaded count into " +
        "the session's index entry on every later save until it restarts. " +
        "So after a restart a resumed, undone, truncated or cleared " +
        "session's entry differs from its sidecar in message_count alone, " +
        "while title and times agree: what today's server writes in normal " +
        "use, not damage (info, exit 0). Only sidecars that carry " +
        "message_count are judged so; for older ones the drift stays " +
        "index_entry_drift. The index is rebuilt on request: " +
        "`hermes-fsck repair --also-repair index_count_at_load`. " + REBUILD,
    },
    index_missing_last_message_at: {
      category: "repairable",
      severity: "warning",
      summary: "An index entry lacks last_message_at.",
      explain:
        "Indexes written by older servers have no last_message_at. For " +
        "each such entry the server loads the whole sidecar to fill it in " +
        "when it lists sessions, so an old index makes it reload every " +
        "session (slow with large sessions) until it manages to write the " +
        "index back. " + REBUILD,
    },
  },
  create(context) {
    return {
      session({ sessionId: id, files: session, indexEntries }) {
        const index = context.store.index;
        if (!index?.read.ok || index.read.value.shape !== "list") return;
        // The server keeps the last entry of an id, as a dict built in
        // order.
        const entry = indexEntries.at(-1)?.entry;
        const live = session.live;
        if (!entry || !live?.read.ok) return;
        if (!isWholeSession(live.read.value, id)) return;
        const counts = {
          liveMessages: live.read.value.messageCount,
          bakMessages: messageCountOf(session?.backup),
        };
        const paths = [live.name, index.name];
        if (!("last_message_at" in entry)) {
          context.report({
            kind: "index_missing_last_message_at",
            sessionId: id,
            paths,
            message: `${index.name} has no last_message_at for ${id}.`,
            evidence: counts,
          });
        }
        // NaN stands in for the server's time.time(): a field that depends on
        // when the entry was written cannot disagree.
        const expected = compactEntry(id, live.read.value, NaN);
        // Older servers counted an assistant `_partial` marker without text
        // as the last message: an entry they wrote agrees too.
        const older = olderLastMessageAt(id, live.read.value);
        const fields = DRIFT_FIELDS.filter((field) =>
          field in entry || field !== "last_message_at"
        ).filter((field) =>
          !agrees(field, entry[field], expected[field]) &&
          !(field === "last_message_at" && older !== undefined &&
            agrees(field, entry[field], older))
        );
        if (fields.length === 0) return;
        // The server's own shape (see index_count_at_load): only the count
        // differs, and the sidecar is of a version that persists it.
        const countOnly = fields.length === 1 &&
          fields[0] === "message_count" &&
          "message_count" in live.read.value.meta;
        context.report({
          kind: countOnly ? "index_count_at_load" : "index_entry_drift",
          sessionId: id,
          paths,
          message: `${index.name} disagrees with ${live.name} on ${
            fields.map((f) =>
              `${f} (${show(entry[f])} in the index, ${
                show(expected[f])
              } in the sidecar)`
            ).join(", ")
          }.`,
          evidence: {
            ...counts,
            fields: [...fields],
            indexed: pick(entry, fields),
            expected: pick(expected, fields),
          },
        });
      },
    };
  },
});

/**
 * `last_message_at` as servers before today's computed it, when it differs
 * from today's (undefined when it does not).
 */
function olderLastMessageAt(
  id: string,
  summary: SidecarSummary,
): unknown {
  if (summary.lastMessageAtWithPartials === summary.lastMessageAt) {
    return undefined;
  }
  return compactEntry(id, {
    ...summary,
    lastMessageAt: summary.lastMessageAtWithPartials,
  }, NaN).last_message_at;
}

/** A sidecar the index can describe: an object with a messages list and its own id. */
function isWholeSession(summary: SidecarSummary, id: string): boolean {
  return summary.shape === "object" && summary.messageCount >= 0 &&
    summary.meta.session_id === id;
}

function agrees(field: string, indexed: unknown, expected: unknown): boolean {
  if (typeof expected === "number" && Number.isNaN(expected)) return true;
  if (TIMESTAMP_FIELDS.has(field)) {
    const a = toTimestamp(indexed);
    const b = toTimestamp(expected);
    if (a !== null && b !== null) return a === b;
  }
  return JSON.stringify(indexed) === JSON.stringify(expected);
}

function pick(
  from: Record<string, unknown>,
  fields: readonly string[],
): { [key: string]: JsonValue } {
  // A hostile value (megabytes, or nested 100,000 deep) is cut to an excerpt.
  return Object.fromEntries(
    fields.map((f) => [f, boundedValue(from[f] ?? null)]),
  );
}

function show(value: unknown): string {
  if (value === undefined) return "missing";
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
