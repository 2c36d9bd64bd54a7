/**
 * A scan worker: a second thread that reads, parses and summarizes batches
 * of scan tasks and posts back only the small summaries, so the store is
 * parsed on every core and no parsed document crosses threads. Started by
 * core/scan/pool.ts; it has the permissions of the process that started it.
 *
 * Protocol: it receives `{ id, tasks, maxBytes, trimHeap }` and answers
 * `{ id, results }` (one list of file results per task) or `{ id, error }`.
 *
 * @example
 * ```ts
 * import type { ScanTask } from "./task.ts";
 * declare const tasks: ScanTask[];
 * const worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
 * worker.postMessage({ id: 1, tasks, maxBytes: 256 << 20, trimHeap: false });
 * worker.onmessage = (e) => console.log(e.data.results);
 * ```
 * @module
 */

import { fileReader } from "../io/file_read.ts";
import { threadHeapTrim } from "./heap_trim.ts";
import { runScanTask, type ScanFileResult, type ScanTask } from "./task.ts";

/**
 * A batch of tasks for a worker.
 *
 * @example
 * ```ts
 * import type { ScanBatch } from "./worker.ts";
 * import type { ScanTask } from "./task.ts";
 * declare const worker: Worker;
 * declare const tasks: ScanTask[];
 * worker.postMessage({ id: 7, tasks, maxBytes: 256 << 20, trimHeap: false } satisfies ScanBatch);
 * ```
 */
export interface ScanBatch {
  /** Names the batch in the answer. */
  id: number;
  /** The tasks, run in order. */
  tasks: ScanTask[];
  /** Files larger than this are reported, not read. */
  maxBytes: number;
  /** Trim this worker's heap after each task (see heap_trim.ts). */
  trimHeap: boolean;
}

/**
 * A worker's answer to a batch.
 *
 * @example
 * ```ts
 * import type { ScanBatchResult } from "./worker.ts";
 * declare const worker: Worker;
 * worker.onmessage = (e: MessageEvent<ScanBatchResult>) => {
 *   if ("error" in e.data) throw new Error(e.data.error);
 * };
 * ```
 */
export type ScanBatchResult =
  /** null for a task whose results are nested too deep to send. */
  | { id: number; results: (ScanFileResult[] | null)[] }
  | { id: number; error: string };

interface WorkerScope {
  onmessage: ((event: MessageEvent<ScanBatch>) => void) | null;
  postMessage(message: ScanBatchResult): void;
}

const scope = globalThis as unknown as WorkerScope;
// Each batch's files are summarized one by one: one read buffer serves all.
const reader = fileReader({ reuseBuffer: true });

scope.onmessage = async (event) => {
  const { id, tasks, maxBytes, trimHeap } = event.data;
  try {
    const read = await reader;
    const trim = trimHeap ? await threadHeapTrim() : null;
    const results = tasks.map((task) => {
      const result = runScanTask(task, read, maxBytes);
      trim?.check();
      return result;
    });
    try {
      scope.postMessage({ id, results });
    } catch (error) {
      // A value nested too deep for the structured clone (a hostile
      // sidecar): such tasks go back to the main thread to be run there.
      if (!(error instanceof RangeError)) throw error;
      scope.postMessage({
        id,
        results: results.map((r) => {
          try {
            structuredClone(r);
            return r;
          } catch {
            return null;
          }
        }),
      });
    }
  } catch (error) {
    scope.postMessage({
      id,
      error: error instanceof Error ? error.message : String(error),
    });
  }
};
