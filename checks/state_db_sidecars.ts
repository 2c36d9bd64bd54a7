/**
 * WebUI sessions that state.db has and the session dir lost: a `webui` row
 * without a sidecar. With messages it can be materialized from state.db;
 * without, there is nothing to rebuild a conversation from.
 *
 * @example
 * ```ts
 * import { stateDbSidecars } from "./state_db_sidecars.ts";
 * const drafts = await stateDbSidecars.run(store, { now: Date.now(), serverStopped: false });
 * ```
 * @module
 */

import { defineCheck } from "../core/check.ts";
import type { FindingDraft } from "../core/finding.ts";
import { isValidSessionId } from "../core/session_id.ts";
import { deletion } from "../core/store_facts.ts";

/** The `state-db-sidecars` check. */
export const stateDbSidecars = defineCheck({
  id: "state-db-sidecars",
  title: "state.db sessions without a sidecar",
  description:
    "Reports webui rows of state.db whose <sid>.json is missing and not " +
    "deleted on purpose.",
  partwise: true,
  kinds: [
    {
      kind: "state_db_missing_sidecar",
      category: "repairable",
      severity: "error",
      repair: "materialize_from_state_db",
      summary:
        "state.db has the session and its messages, the sidecar is gone.",
      explain:
        "state.db holds the canonical rows of every WebUI session; the " +
        "sidecar is missing but not tombstoned, so it was lost, not deleted. " +
        "Repair: materialize_from_state_db creates <sid>.json from the row " +
        "and its messages (ordered by timestamp, id), keeping workspace, " +
        "worktree fields and message_count. It never overwrites: if a " +
        "sidecar appears meanwhile, that one wins. Then the index is rebuilt.",
    },
    {
      kind: "state_db_orphan_webui_row",
      category: "unsafe_to_repair",
      severity: "warning",
      summary: "state.db has a webui session with no messages and no sidecar.",
      explain:
        "There is no conversation to rebuild: the row has no messages. It " +
        "may be an abandoned empty session or the trace of a partial delete. " +
        "Review the row in state.db; delete it, or leave it if the agent " +
        "still uses it.",
    },
  ],
  run(store) {
    const drafts: FindingDraft[] = [];
    const db = store.stateDb;
    if (db.status !== "ok") return drafts;
    for (const row of db.webuiRows) {
      const id = row.id;
      if (!id || !isValidSessionId(id)) continue; // session-ids reports these
      if (store.sessions.get(id)?.live) continue;
      if (deletion(store, id) === "deleted") continue;
      const evidence = {
        liveMessages: -1,
        bakMessages: -1,
        stateDbMessages: row.messageCount,
        // The row's place among state.db's webui rows, newest first: the
        // order the server's own audit lists them in (webui-json).
        stateDbRow: row.position,
      };
      const order = [row.position]; // the rows' order, newest first
      drafts.push(
        row.messageCount > 0
          ? {
            kind: "state_db_missing_sidecar",
            sessionId: id,
            paths: [db.path],
            message:
              `state.db has session ${id} with ${row.messageCount} messages but ${id}.json is missing.`,
            evidence,
            order,
          }
          : {
            kind: "state_db_orphan_webui_row",
            sessionId: id,
            paths: [db.path],
            message:
              `state.db has webui session ${id} with no messages and ${id}.json is missing.`,
            evidence,
            order,
          },
      );
    }
    return drafts;
  },
});
