/**
 * `rebuild_index`: `_index.json` rewritten from the sidecars of this
 * session dir only (never the server's configured one), as today's
 * server's full rebuild writes it: compact entries, one per `session_id`,
 * sorted by `updated_at`, newest first. Sidecars the server cannot load
 * (that do not parse as objects, or whose path fields are not strings) are
 * left out, as the server leaves them out. Unlike the server, a sidecar
 * whose `session_id` is not its file name's is left out too: its entry
 * would open another session or none, and the index check would report it
 * again on every run (session_id_mismatch asks a person instead).
 *
 * @example
 * ```ts
 * import { rebuildIndex } from "./rebuild_index.ts";
 * import type { Finding } from "../core/report/finding.ts";
 * import type { RepairContext } from "../core/plugins/repair.ts";
 * declare const findings: Finding[];
 * declare const context: RepairContext;
 * const plan = await rebuildIndex.plan(findings, context);
 * ```
 * @module
 */

import {
  compactEntry,
  indexable,
  listedUnderOtherId,
  sortIndexEntries,
} from "../core/store/compact_entry.ts";
import { defineRepair } from "../core/plugins/repair.ts";
import { INDEX_FILE } from "../core/store/layout.ts";
import { MAX_WRITE_DEPTH, nestedDeeperThan } from "../core/json/nesting.ts";

/** The `rebuild_index` repair. */
export const rebuildIndex = defineRepair({
  id: "rebuild_index",
  title: "Rebuild the session index",
  description:
    "Rewrites _index.json from the sidecars of the session dir being " +
    "checked; it holds no data of its own.",
  fixes: [
    "index_absent",
    "index_missing_file",
    "index_unsaved_chat",
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
    // As the server's rebuild: sidecars in file-name order, one entry per
    // session_id inside them, the one with more messages winning (the
    // first on a tie), in the place of the first.
    const byId = new Map<
      unknown,
      { entry: Record<string, unknown>; source: string }
    >();
    const tooDeep: string[] = [];
    const otherId: string[] = [];
    const sessions = [...context.store.sessions.values()]
      .filter((s) => s.live)
      .sort((a, b) => byCodePoint(a.live!.name, b.live!.name));
    for (const session of sessions) {
      const live = session.live!;
      if (!live.read.ok || !indexable(session.sessionId, live.read.value)) {
        if (
          live.read.ok && listedUnderOtherId(session.sessionId, live.read.value)
        ) {
          otherId.push(live.name);
        }
        continue;
      }
      const entry = compactEntry(
        session.sessionId,
        live.read.value,
        nowSeconds,
      );
      // A value nested deeper than the server's json can read back (and
      // than an indented JSON.stringify can write) leaves its sidecar out,
      // as one that does not parse is left out.
      if (nestedDeeperThan(entry, MAX_WRITE_DEPTH)) {
        tooDeep.push(live.name);
        continue;
      }
      const kept = byId.get(entry.session_id);
      if (
        !kept ||
        Number(entry.message_count) > Number(kept.entry.message_count)
      ) byId.set(entry.session_id, { entry, source: live.name });
    }
    const entries = [...byId.values()].map((e) => e.entry);
    const sources = [...byId.values()].map((e) => e.source);
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
        leftOut("nested too deep for the server to read", tooDeep)
      }${
        leftOut(
          "their session_id is not their file name's (session_id_mismatch)",
          otherId,
        )
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

/** ` (left out, why: a.json, b.json)`, or nothing when none is. */
function leftOut(why: string, names: string[]): string {
  if (names.length === 0) return "";
  const more = names.length > 5 ? ` and ${names.length - 5} more` : "";
  return ` (left out, ${why}: ${names.slice(0, 5).join(", ")}${more})`;
}

function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
