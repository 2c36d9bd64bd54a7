/**
 * The agent's `state.db`, read once and read-only per profile home, and the
 * server's heal of a sidecar from it.
 *
 * - `profile_state_db.ts`: Each session's state.db is the one of its profile
 *   home (today's server, `_get_profile_home`):
 * - `state_db.ts`: The agent's `state.db`, read once through one read-only
 *   `node:sqlite` connection.
 * - `state_db_heal.ts`: The server's state.db self-heal of an unfinished turn
 *   (`_sync_sidecar_from_state_db_if_newer`, since v0.51.702), computed for
 *   the transcripts where its result can be proved:
 * - `state_dbs_in_use.ts`: A check that looks at each state.db the store's
 *   sessions use:
 *
 * @example
 * ```ts
 * import * as state_db from "./mod.ts";
 * ```
 * @module
 */

export * from "./profile_state_db.ts";
export * from "./state_db.ts";
export * from "./state_db_heal.ts";
export * from "./state_dbs_in_use.ts";
