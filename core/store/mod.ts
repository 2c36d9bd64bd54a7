/**
 * The store format (STORE_FORMAT.md): the session dir's names and ids,
 * sidecars and their summaries, index entries, the tombstone, shrink guards,
 * temps, and where a Hermes installation keeps all of it. Pure knowledge of
 * the format: nothing here reads a directory.
 *
 * - `compact_entry.ts`: The index entry of a session, as today's server's
 *   `Session.compact()` builds it (STORE_FORMAT.md §2), and the index as
 *   `_write_session_index` sorts it.
 * - `compaction_marker.ts`: The compaction marker as today's server recognises
 *   it in a backup's `context_messages` (STORE_FORMAT.md §4):
 * - `continuation.ts`: Compression continuations, as today's server finds them
 *   before it closes a stale turn (`_has_compression_continuation`, since
 *   v0.51.154):
 * - `default_paths.ts`: Where a Hermes installation keeps its store, as Hermes
 *   itself decides:
 * - `first_boot.ts`: A first boot:
 * - `layout.ts`: The names of the session dir (STORE_FORMAT.md §1):
 * - `live_replacement.ts`: Whether a repair of this run will replace a
 *   session's live sidecar:
 * - `profile_home.ts`: Which agent home a session belongs to, as today's
 *   server resolves a sidecar's `profile`:
 * - `pruned_orphans.ts`: `_pruned_webui_orphans.json` (since v0.51.785), read
 *   as today's server reads it:
 * - `python_values.ts`: JSON values as the server's Python sees them:
 * - `session_id.ts`: Which session ids may become file names.
 * - `shrink_guards.ts`: Intentional shrinks (STORE_FORMAT.md §4):
 * - `sidebar_view.ts`: The session list (the sidebar) as the server builds it,
 *   worked out from the store alone:
 * - `sidecar_edit.ts`: Writes a changed session document back into its
 *   sidecar's text in place:
 * - `sidecar_era.ts`: Which server era wrote a sidecar, as far as its keys
 *   tell:
 * - `sidecar_summary.ts`: What the checks need to know of a sidecar or backup,
 *   taken from its parsed JSON in one pass so the parsed document can be
 *   dropped at once:
 * - `temp_recheck.ts`: The verdict on a temp, taken again on the files as they
 *   are when a repair plans (the temp, its live sidecar, its `.bak`), so a
 *   repair acts only if the temp is still what the audit found.
 * - `temp_verdict.ts`: What a leftover temp file is, decided in one place:
 * - `tombstone.ts`: The durable delete tombstone
 *   (`_deleted_webui_sessions.json`) read as today's server reads it:
 *
 * @example
 * ```ts
 * import * as store from "./mod.ts";
 * ```
 * @module
 */

export * from "./compact_entry.ts";
export * from "./compaction_marker.ts";
export * from "./continuation.ts";
export * from "./default_paths.ts";
export * from "./first_boot.ts";
export * from "./layout.ts";
export * from "./live_replacement.ts";
export * from "./profile_home.ts";
export * from "./pruned_orphans.ts";
export * from "./python_values.ts";
export * from "./session_id.ts";
export * from "./shrink_guards.ts";
export * from "./sidebar_view.ts";
export * from "./sidecar_edit.ts";
export * from "./sidecar_era.ts";
export * from "./sidecar_summary.ts";
export * from "./temp_recheck.ts";
export * from "./temp_verdict.ts";
export * from "./tombstone.ts";
