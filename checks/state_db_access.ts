/**
 * A state.db that exists but cannot be used: not a database, corrupt past
 * opening, unreadable, locked by another process past the wait, or held
 * by a hot journal that only a writer can roll back. The run
 * goes on without it, as the server's recovery does, and says so; what a
 * readable state.db may still get wrong is the state-db-health check's.
 *
 * @example
 * ```ts
 * import { stateDbAccess } from "./state_db_access.ts";
 * import { runChecks } from "../core/plugins/pipeline.ts";
 * import type { StoreSnapshot } from "../core/scan/store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * const findings = await runChecks(store, [stateDbAccess], { now: Date.now(), serverStopped: false });
 * ```
 * @module
 */

import { defineCheck } from "../core/plugins/check.ts";
import { STATE_DB_BUSY_TIMEOUT_MS } from "../core/state_db/state_db.ts";
import { stateDbsInUse } from "../core/state_db/state_dbs_in_use.ts";

/** What is not known when the run goes on without state.db. */
const WITHOUT_IT =
  "Without state.db hermes-fsck cannot find sessions that only the agent " +
  "still has (state_db_missing_sidecar), compare message counts with it " +
  "(sidecar_behind_state_db), nor tell a deleted session from a lost one, " +
  "so, unlike the server, it restores no orphan backup and promotes no " +
  "interrupted save of a missing sidecar (orphan_backup_state_db_unreadable). " +
  "It goes on without it and reports the rest. Each named profile's " +
  "state.db (<home>/profiles/<name>/state.db, for the sessions whose " +
  "sidecar names that profile) is checked the same way, by its own path; " +
  "one that does not exist is not a finding: its sessions have nothing to " +
  "compare with, as in the server.";

/** The `state-db-access` check. */
export const stateDbAccess = defineCheck({
  id: "state-db-access",
  title: "state.db can be read",
  description:
    "Reports a state.db that exists but cannot be opened or read, that " +
    "another process keeps locked, or that needs a rollback first.",
  kinds: {
    state_db_unreadable: {
      category: "unsafe_to_repair",
      severity: "error",
      summary: "state.db exists but cannot be read.",
      explain: WITHOUT_IT + " The evidence says why: `not_a_database` " +
        "(the file is not SQLite at all: the wrong --state-db, or it was " +
        "overwritten), `corrupt` (SQLite gave up while reading it), " +
        "`permission_denied` (run as a user who can read it), " +
        "`not_regular_file` (a directory, FIFO or symlink is in its place), " +
        "`wal_unreadable` (it is in WAL mode and its -wal, which may hold " +
        "committed data, cannot be read: make it readable; a WAL database " +
        "on a read-only mount is otherwise read from a private copy) " +
        "or `io_error`. A person must look, because the agent cannot use " +
        "such a file either: restore it from a backup, or recover it with " +
        "sqlite3's `.recover` into a new file while the agent is stopped, " +
        "keeping the old one. Pass --state-db to name the right file, or " +
        "--no-state-db to check without it on purpose.",
    },
    state_db_locked: {
      category: "unsafe_to_repair",
      severity: "warning",
      summary: "Another process kept state.db locked past the wait.",
      explain: `hermes-fsck waited ${STATE_DB_BUSY_TIMEOUT_MS} ms for a ` +
        "lock held by another process, usually the agent in the middle of a " +
        "write (a database in rollback-journal mode blocks readers while it " +
        "writes; one in WAL mode rarely does). " + WITHOUT_IT + " The lock " +
        "itself harms nothing, but the audit is incomplete, so this counts " +
        "as a problem left (exit code 4): an init script should not take a " +
        "partial check for a clean store. Run hermes-fsck again when the " +
        "agent is idle or stopped.",
    },
    state_db_needs_rollback: {
      category: "unsafe_to_repair",
      severity: "warning",
      summary: "A write to state.db was cut short; it needs a rollback.",
      explain: "A process (usually the agent) was killed in the middle of a " +
        "write and left a hot state.db-journal. SQLite rolls it back the " +
        "next time a connection that may write opens the database, but " +
        "hermes-fsck only ever opens state.db read-only, and SQLite will " +
        "not read it until then. " + WITHOUT_IT + " Nothing committed is " +
        "lost, but the audit is incomplete, so this counts as a problem " +
        "left (exit code 4). Let a writer roll it back: start the agent " +
        "once, or run `sqlite3 state.db 'PRAGMA quick_check;'` as the " +
        "file's owner; then run hermes-fsck again. NEVER delete the " +
        "-journal: it holds the pages that undo the cut-short write, and " +
        "without them the database is left corrupt.",
    },
  },
  // The default home's db, then each named profile's its sessions use.
  create: (context) =>
    stateDbsInUse(context, (db) =>
      db.status !== "unreadable" ? [] : [{
        kind: db.problem === "locked"
          ? "state_db_locked"
          : db.problem === "hot_journal"
          ? "state_db_needs_rollback"
          : "state_db_unreadable",
        paths: [db.path],
        message:
          `state.db ${db.path} ${db.detail}; checks that need it ran without it.`,
        evidence: { problem: db.problem },
      }]),
});
