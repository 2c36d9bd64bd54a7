/**
 * The scan: the session dir listed once and every file read once into a
 * snapshot (in parts, with worker threads where the store is big enough to pay
 * for them), and the questions checks ask of it.
 *
 * - `dir_entries.ts`: The session dir's entries as the scan lists them, and
 *   what each becomes:
 * - `heap_trim.ts`: Keeps a long scan's JavaScript heap close to what it
 *   holds:
 * - `index_scan.ts`: `_index.json` summarized as it is read:
 * - `own_reads.ts`: The files the scan reads in this thread, not in a task:
 * - `parse_problem.ts`: Read problems that mean "the file was read, but its
 *   bytes are not JSON":
 * - `part_scan.ts`: The scan of a store part by part (`ScanOptions.parts`):
 * - `place_results.ts`: A scan task's results put where the checks look for
 *   them:
 * - `pool.ts`: Runs the scan's tasks, in this thread alone or with a small
 *   pool of workers (one per core beside this thread's, at most three) that
 *   read and parse files in parallel and send back summaries.
 * - `progress.ts`: The progress line of a long run, on stderr:
 * - `run_journal_scan.ts`: The run journals of a store, as the scan leaves
 *   them for the checks:
 * - `scan_options.ts`: What a scan is asked to do, how far it is, and the
 *   limits it keeps by default.
 * - `scan_plan.ts`: How a scan reads, decided from the store's size once it
 *   is listed:
 * - `scan_run.ts`: One scan as it goes:
 * - `session_walk.ts`: The sessions of a store one at a time, in id order,
 *   from the sorted names of the session dir and of the journal dir:
 * - `sidecar_scan.ts`: The summary of a sidecar straight from its bytes,
 *   without materialising its messages:
 * - `snapshot.ts`: The scan:
 * - `store_facts.ts`: Questions several checks ask of a snapshot, answered one
 *   way everywhere:
 * - `store_part.ts`: Parts of a store:
 * - `store_snapshot.ts`: The store as one scan saw it:
 * - `string_pool.ts`: One copy of each repeated value in a store's summaries.
 * - `task.ts`: One unit of the scan's work:
 * - `worker.ts`: A scan worker:
 *
 * @example
 * ```ts
 * import * as scan from "./mod.ts";
 * ```
 * @module
 */

export * from "./dir_entries.ts";
export * from "./heap_trim.ts";
export * from "./index_scan.ts";
export * from "./own_reads.ts";
export * from "./parse_problem.ts";
export * from "./part_scan.ts";
export * from "./place_results.ts";
export * from "./pool.ts";
export * from "./progress.ts";
export * from "./run_journal_scan.ts";
export * from "./scan_options.ts";
export * from "./scan_plan.ts";
export * from "./scan_run.ts";
export * from "./session_walk.ts";
export * from "./sidecar_scan.ts";
export * from "./snapshot.ts";
export * from "./store_facts.ts";
export * from "./store_part.ts";
export * from "./store_snapshot.ts";
export * from "./string_pool.ts";
export * from "./task.ts";
export * from "./worker.ts";
