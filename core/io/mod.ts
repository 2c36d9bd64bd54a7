/**
 * I/O that cannot be fooled by the store's owner: the one reader (no-follow,
 * descriptor-based, bounded), the one writer (the safety layer) with its run
 * records, undo, lock and hashes, and acting with the owner's rights.
 *
 * - `file_read.ts`: Reading store files without trusting them:
 * - `hash.ts`: Hashes:
 * - `interrupt.ts`: Stopping on a signal.
 * - `lock.ts`: The repair lock:
 * - `lock_file.ts`: The repair lock's file, at the level of files:
 * - `locked_append.ts`: In-place changes to an append-only store file (the
 *   turn journal) under the advisory lock its writers take.
 * - `new_file.ts`: Creating files and dirs of the store without following
 *   links.
 * - `node_fs.ts`: node:fs, loaded on first use.
 * - `path.ts`: POSIX paths and file URLs, without Node's layer.
 * - `overlay.ts`: A dry run's store:
 * - `owner_reexec.ts`: Acting with the store owner's rights:
 * - `run_prune.ts`: `runs --prune`:
 * - `run_records.ts`: The run records of `_hermes_fsck/runs/<run>/`, read as
 *   untrusted input.
 * - `safety.ts`: The safety layer:
 * - `store_owner.ts`: Whose rights a run as root should act with on a session
 *   dir.
 * - `undo.ts`: Undo:
 *
 * @example
 * ```ts
 * import * as io from "./mod.ts";
 * ```
 * @module
 */

export * from "./file_read.ts";
export * from "./hash.ts";
export * from "./interrupt.ts";
export * from "./lock.ts";
export * from "./lock_file.ts";
export * from "./locked_append.ts";
export * from "./new_file.ts";
export * from "./node_fs.ts";
export * from "./overlay.ts";
export * from "./owner_reexec.ts";
export * from "./path.ts";
export * from "./run_prune.ts";
export * from "./run_records.ts";
export * from "./safety.ts";
export * from "./store_owner.ts";
export * from "./undo.ts";
