/**
 * `rebuild_index`: `_index.json` rewritten from the sidecars of this
 * session dir only (never the server's configured one), as compact entries
 * sorted by `updated_at`, newest first. Sidecars that do not parse as
 * objects are left out, as the server leaves them out.
 *
 * @example
 * ```ts
 * import { rebuildIndex } from "./rebuild_index.ts";
 * const plan = await rebuildIndex.plan(findings, context);
 * ```
 * @module
 */

import { compactEntry, sortIndexEntries } from "../core/compact_entry.ts";
import { defineRepair } from "../core/repair.ts";
import { INDEX_FILE } from "../core/store_layout.ts";
import { MAX_WRITE_DEPTH, nestedDeeperThan } from "./nesting.ts";

/** The `rebuild_index` repair. */
export const rebuildIndex = defineRepair({
  id: "rebuild_index",
  title: "Rebuild the session index",
  description:
    "Rewrites _index.json from the sidecars of the session dir being " +
    "checked; it holds no data of its own.",
  fixes: [
    "index_missing_file",
    "index_missing_entry",
    "index_unparsable",
    "index_not_list",
    "index_malformed_entry",
    "index_entry_drift",
    "index_count_at_load",
    "index_missing_last_message_at",
    "index_source_flag_stale",
  ],
  scope: "store",
  afterSidecarWrites: true,
  async plan(findings, context) {
    const current = await context.read(INDEX_FILE);
    if (!current.ok) return { skip: `${INDEX_FILE} ${current.problem}` };
    const nowSeconds = context.options.now / 1000;
    const entries: Record<string, unknown>[] = [];
    const tooDeep: string[] = [];
    const sources: string[] = [];
    for (const session of context.store.sessions.values()) {
      const live = session.live;
      if (!live?.read.ok || live.read.value.shape !== "object") continue;
      const entry = compactEntry(
        session.sessionId,
        live.read.value,
        nowSeconds,
      );
      // A value nested deeper than the server's json can read back (and
      // than an indented JSON.stringify can write) leaves its sidecar out,
      // as one that does not parse is left out.
      if (nestedDeeperThan(entry, MAX_WRITE_DEPTH)) tooDeep.push(live.name);
      else {
        entries.push(entry);
        sources.push(live.name);
      }
    }
    const text = JSON.stringify(sortIndexEntries(entries), null, 2);
    const data = new TextEncoder().encode(text);
    // Sidecars that do not parse are left out, as the server leaves them
    // out; when only they are missing, rewriting would change nothing.
    if (current.bytes && sameBytes(current.bytes, data)) {
      return {
        skip:
          `${INDEX_FILE} already lists every sidecar that parses; the rest need their own repair first`,
      };
    }
    return {
      repair: "rebuild_index",
      findingIds: findings.map((f) => f.id),
      summary: `Rebuild ${INDEX_FILE} from ${entries.length} sidecars${
        tooDeep.length > 0
          ? ` (left out, nested too deep for the server to read: ${
            tooDeep.slice(0, 5).join(", ")
          }${tooDeep.length > 5 ? ` and ${tooDeep.length - 5} more` : ""})`
          : ""
      }.`,
      actions: [{
        op: "write",
        path: INDEX_FILE,
        data,
        expect: current.expect,
        note: `rewrite ${INDEX_FILE} with ${entries.length} entries`,
        sources,
      }],
    };
  },
});

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
