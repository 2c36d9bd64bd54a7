/**
 * WebUI sessions that state.db has and the session dir lost: a `webui` row
 * without a sidecar. With messages it can be materialized from state.db;
 * without, there is nothing to rebuild a conversation from.
 *
 * @example
 * ```ts
 * import { stateDbSidecars } from "./state_db_sidecars.ts";
 * import { runChecks } from "../core/plugins/pipeline.ts";
 * import type { StoreSnapshot } from "../core/scan/store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * const findings = await runChecks(store, [stateDbSidecars], { now: Date.now(), serverStopped: false });
 * ```
 * @module
 */

import { defineCheck } from "../core/plugins/check.ts";
import { isValidSessionId } from "../core/store/session_id.ts";
import { deletion } from "../core/scan/store_facts.ts";

/** The `state-db-sidecars` check. */
export const stateDbSidecars = defineCheck({
  id: "state-db-sidecars",
  title: "state.db sessions without a sidecar",
  description:
    "Reports webui rows of state.db whose <sid>.json is missing and not " +
    "deleted on purpose.",
  kinds: {
    state_db_missing_sidecar: {
      category: "repairable",
      severity: "error",
      summary:
        "state.db has the session and its messages, the sidecar is gone.",
      explain:
        "state.db holds the canonical rows of every WebUI session; the " +
        "sidecar is missing but not tombstoned, so it was lost, not deleted. " +
        "Repair: materialize_from_state_db creates <sid>.json from the row " +
        "and its messages (ordered by timestamp, id), keeping workspace, " +
        "worktree fields and message_count. It never overwrites: if a " +
        "sidecar appears meanwhile, that one wins. Then the index is rebuilt. " +
        "The server's discoverability audit reports the same session as " +
        "state_db_messageful_missing_sidecar (there for rows of any " +
        "source; rows of other sources are the agent's own sessions and no " +
        "finding here). " +
        "Profiles (all versions): rows are looked for in the default " +
        "profile home's state.db (or the --state-db file), as the server's " +
        "own audit does; a session whose .bak names a profile is looked " +
        "for in that profile's <home>/profiles/<name>/state.db instead, and " +
        "a sidecar rebuilt from a named profile's row names that profile " +
        "(the server writes null, meaning its active profile).",
    },
    state_db_orphan_webui_row: {
      category: "unsafe_to_repair",
      severity: "warning",
      summary: "state.db has a webui session with no messages and no sidecar.",
      explain:
        "There is no conversation to rebuild: the row has no messages. It " +
        "may be an abandoned empty session or the trace of a partial delete. " +
        "Review the row in state.db; delete it, or leave it if the agent " +
        "still uses it.",
    },
  },
  create(context) {
    return {
      // Each session's rows are its own profile's (core/state_db/profile_state_db.ts).
      stateDbRow({ row, db, session: { store } }) {
        const id = row.id;
        if (!id || !isValidSessionId(id)) return; // session-ids reports these
        if (store.sessions.get(id)?.live) return;
        if (deletion(store, id) === "deleted") return;
        const evidence = {
          liveMessages: -1,
          bakMessages: -1,
          stateDbMessages: row.messageCount,
          // The row's place among state.db's webui rows, newest first: the
          // order the server's own audit lists them in (webui-json).
          stateDbRow: row.position,
        };
        context.report(
          row.messageCount > 0
            ? {
              kind: "state_db_missing_sidecar",
              sessionId: id,
              paths: [db.path],
              message:
                `state.db has session ${id} with ${row.messageCount} messages but ${id}.json is missing.`,
              evidence,
            }
            : {
              kind: "state_db_orphan_webui_row",
              sessionId: id,
              paths: [db.path],
              message:
                `state.db has webui session ${id} with no messages and ${id}.json is missing.`,
              evidence,
            },
        );
      },
    };
  },
});
