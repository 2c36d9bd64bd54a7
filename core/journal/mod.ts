/**
 * The turn journal and the run journal (STORE_FORMAT.md §2), what a dead
 * stream left in them, and closing such a turn as each server version does.
 *
 * - `interrupted_marker.ts`: The assistant marker that closes a turn a dead
 *   stream cut off, as each era's server writes it (STORE_FORMAT.md §2
 *   "Message"):
 * - `journal_output.ts`: What a dead run left in its run journal
 *   (`_run_journal/<sid>/<run>.jsonl`, since v0.51.71), recovered into a
 *   session as today's server recovers it (`_append_journaled_partial_output`,
 *   since v0.51.81):
 * - `recovered_context.ts`: The model-facing copy of a recovered turn (since
 *   v0.51.72):
 * - `run_journal.ts`: The run journal (since v0.51.71):
 * - `run_journal_files.ts`: Which run journal files the store holds:
 * - `stale_recovery.ts`: Closing a turn a dead stream left in a sidecar, as
 *   the server of the sidecar's era closes it on load (STORE_FORMAT.md §5
 *   "stale stream state").
 * - `stream_journal.ts`: The run journal of a sidecar's `active_stream_id`,
 *   read for a repair that closes the stream:
 * - `stream_state.ts`: A turn left streaming, as the store shows it:
 * - `turn_journal.ts`: The turn journal:
 * - `turn_journal_files.ts`: Which files make up each session's turn journal,
 *   in the order the server reads them.
 *
 * @example
 * ```ts
 * import * as journal from "./mod.ts";
 * ```
 * @module
 */

export * from "./interrupted_marker.ts";
export * from "./journal_output.ts";
export * from "./recovered_context.ts";
export * from "./run_journal.ts";
export * from "./run_journal_files.ts";
export * from "./stale_recovery.ts";
export * from "./stream_journal.ts";
export * from "./stream_state.ts";
export * from "./turn_journal.ts";
export * from "./turn_journal_files.ts";
