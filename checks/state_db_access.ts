/**
 * A state.db that exists but cannot be used: not a database, locked past
 * the wait, unreadable. The run goes on without it, as the server's recovery
 * does, and says so.
 *
 * @example
 * ```ts
 * import { stateDbAccess } from "./state_db_access.ts";
 * const drafts = await stateDbAccess.run(store, { now: Date.now(), serverStopped: false });
 * ```
 * @module
 */

import { defineCheck } from "../core/check.ts";

/** The `state-db-access` check. */
export const stateDbAccess = defineCheck({
  id: "state-db-access",
  title: "state.db can be read",
  description: "Reports a state.db that exists but cannot be opened or read.",
  kinds: [{
    kind: "state_db_unreadable",
    category: "unsafe_to_repair",
    severity: "error",
    summary: "state.db exists but cannot be read.",
    explain:
      "Without state.db hermes-fsck cannot find sessions that only the agent " +
      "still has, nor tell a deleted session from a lost one; it goes on " +
      "without it, as the server does. The evidence says why: a locked " +
      "database is busy in another process (run again when the agent is " +
      "idle), permission denied needs read access, and a file that is not a " +
      "database or is corrupt needs the agent's own recovery or a backup. " +
      "Pass --state-db to name the right file.",
  }],
  run(store) {
    const db = store.stateDb;
    if (db.status !== "unreadable") return [];
    return [{
      kind: "state_db_unreadable",
      paths: [db.path],
      message:
        `state.db ${db.path} ${db.detail}; checks that need it ran without it.`,
      evidence: { problem: db.problem },
    }];
  },
});
