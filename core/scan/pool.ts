/**
 * Runs the scan's tasks, in this thread alone or with a small pool of
 * workers (one per core beside this thread's, at most three) that read and
 * parse files in parallel and send back summaries. The workers are started
 * as soon as the scan knows it wants them, before it has made its tasks: a
 * worker takes tens of ms to load its modules, which the listing of the
 * store covers. This thread keeps reading sessions too, a slice at a time
 * between the workers' answers: a worker is a whole JavaScript heap, so one
 * fewer is tens of MB less at the peak. A worker reads one file at a time
 * and has at most a few batches in flight, so what it holds is one file and
 * the summaries of a few hundred. A worker that cannot start (a
 * binary built without its module, say) or dies leaves its tasks to this
 * thread: the scan gives the same results either way, only slower.
 *
 * @example
 * ```ts
 * import { runScanTasks, startScanWorkers } from "./pool.ts";
 * import type { ScanTask } from "./task.ts";
 * declare const tasks: ScanTask[];
 * await runScanTasks(tasks, {
 *   workers: startScanWorkers(2),
 *   maxBytes: 256 << 20,
 *   onResults: (task, results) => console.log(task.sessionId, results.length),
 * });
 * ```
 * @module
 */

import { fileReader } from "../io/file_read.ts";
import { type HeapTrim, threadHeapTrim } from "./heap_trim.ts";
import { interruptCheck, Interrupted } from "../io/interrupt.ts";
import { runScanTask, type ScanFileResult, type ScanTask } from "./task.ts";
import type { ScanBatch, ScanBatchResult } from "./worker.ts";

/**
 * Workers used at most, however many cores there are: past that the thread
 * that receives the summaries is the bottleneck.
 *
 * @example
 * ```ts
 * import { defaultWorkerCount, MAX_SCAN_WORKERS } from "./pool.ts";
 * defaultWorkerCount(10_000, 1e9) <= MAX_SCAN_WORKERS; // true
 * ```
 */
export const MAX_SCAN_WORKERS = 3;

/**
 * Bytes below which the scan stays in one thread: a worker takes about
 * 100 ms to start and load its modules, which only a store of 50 to 60 MB
 * or more earns back.
 *
 * @example
 * ```ts
 * import { defaultWorkerCount, MIN_BYTES_FOR_WORKERS } from "./pool.ts";
 * defaultWorkerCount(5000, MIN_BYTES_FOR_WORKERS - 1); // 0
 * ```
 */
export const MIN_BYTES_FOR_WORKERS = 64 * 1024 * 1024;

/**
 * Batches a worker is given ahead, so it never waits for the next: this
 * thread hands out more only between its own tasks, and checking a part
 * holds it for tens of ms, while a batch is a few ms of a worker's reading.
 */
const BATCHES_IN_FLIGHT = 6;

/**
 * Options of {@linkcode runScanTasks}.
 *
 * @example
 * ```ts
 * import { type ScanPoolOptions, startScanWorkers } from "./pool.ts";
 * const options: ScanPoolOptions = {
 *   workers: startScanWorkers(1),
 *   maxBytes: 256 << 20,
 *   onResults: console.log,
 * };
 * ```
 */
export interface ScanPoolOptions {
  /**
   * The workers ({@linkcode startScanWorkers}); null runs every task in
   * this thread. They are ended when the tasks are done.
   */
  workers: ScanWorkers | null;
  /** Files larger than this are reported, not read. */
  maxBytes: number;
  /**
   * Trim the heaps of this thread and the workers as they go (see
   * heap_trim.ts): for a big store's long scan.
   */
  trimHeap?: boolean;
  /**
   * Clone the results of this thread's tasks, as a worker's are cloned:
   * the copies are laid out compactly (a summary built a key at a time is
   * not) and share nothing with the parse, which for a big store's
   * snapshot is megabytes; for a small one it is not worth the time.
   */
  copyResults?: boolean;
  /**
   * Asked between tasks (events are let in every few ms so a signal's
   * listener can run); once true the workers are stopped and the scan
   * rejects with {@linkcode Interrupted}.
   */
  interrupted?: () => boolean;
  /**
   * Work of this thread's own (reading the index, say), done once the
   * workers have their first tasks and before this thread reads any
   * session: the workers read meanwhile.
   */
  first?: () => Promise<void>;
  /**
   * Called with each task and its results (one per file, in the task's
   * order), in no particular task order. When it returns a promise, this
   * thread takes no further task until it settles (the workers go on with
   * the batches they have): the scan checks a part of the store that way
   * before it reads on.
   */
  onResults(
    task: ScanTask,
    results: ScanFileResult[],
  ): void | Promise<void>;
}

/**
 * Tasks made as they are taken, for a scan that must not hold them all at
 * once: `take(i)` is called for i = 0, 1, 2, ... up to `count - 1`, each
 * once, in that order.
 *
 * @example
 * ```ts
 * import type { ScanTaskSource } from "./pool.ts";
 * import type { ScanTask } from "./task.ts";
 * declare const tasks: ScanTask[];
 * const source: ScanTaskSource = { count: tasks.length, take: (i) => tasks[i] };
 * ```
 */
export interface ScanTaskSource {
  /** How many tasks there are. */
  readonly count: number;
  /** Makes (or hands over) task `i`. */
  take(i: number): ScanTask;
}

/**
 * How many workers a scan of `tasks` tasks and about `bytes` bytes uses by
 * default: none for a small store or a single core, else one per core
 * besides this thread's, up to {@linkcode MAX_SCAN_WORKERS}.
 *
 * @example
 * ```ts
 * import { defaultWorkerCount } from "./pool.ts";
 * defaultWorkerCount(10, 1e6); // 0
 * ```
 */
export function defaultWorkerCount(tasks: number, bytes: number): number {
  const cores = navigator.hardwareConcurrency ?? 1;
  if (bytes < MIN_BYTES_FOR_WORKERS || cores < 2) return 0;
  return Math.min(cores - 1, MAX_SCAN_WORKERS, tasks);
}

/**
 * Starts `count` scan workers, to be handed to {@linkcode runScanTasks};
 * null for none. They load their modules while the caller goes on; one
 * that fails to start leaves its share to this thread.
 *
 * @example
 * ```ts
 * import { startScanWorkers } from "./pool.ts";
 * const workers = startScanWorkers(1);
 * workers?.close(); // not needed after all
 * ```
 */
export function startScanWorkers(count: number): ScanWorkers | null {
  return count > 0 ? new ScanWorkers(count) : null;
}

/**
 * Runs every task once and hands its results to `onResults`. A list is
 * emptied as its tasks are handed out, so a finished task is not kept; a
 * {@linkcode ScanTaskSource} makes each task only when it is taken.
 *
 * @example
 * ```ts
 * import { runScanTasks } from "./pool.ts";
 * import type { ScanTask, ScanFileResult } from "./task.ts";
 * declare const tasks: ScanTask[];
 * declare const assign: (task: ScanTask, results: ScanFileResult[]) => void;
 * declare const maxBytes: number;
 * await runScanTasks(tasks, { workers: null, maxBytes, onResults: assign });
 * ```
 */
export function runScanTasks(
  tasks: (ScanTask | undefined)[] | ScanTaskSource,
  options: ScanPoolOptions,
): Promise<void> {
  const source = Array.isArray(tasks) ? listSource(tasks) : tasks;
  const pool = source.count > 0 ? options.workers : null;
  if (!pool) options.workers?.close();
  pool?.run(source, options);
  const stopNow = interruptCheck(options.interrupted);
  const stopIfAsked = async () => {
    if (!(await stopNow())) return;
    pool?.stop();
    throw new Interrupted();
  };
  return (async () => {
    // No task, no reader: loading node:fs costs an empty store's audit
    // about a quarter of its start-up.
    if (source.count === 0) return await options.first?.();
    const read = await fileReader({ reuseBuffer: true });
    const trim = options.trimHeap ? await threadHeapTrim() : null;
    if (pool) pool.trim = trim;
    await options.first?.();
    const copy = options.copyResults
      ? copyOf
      : (results: ScanFileResult[]) => results;
    const here = (task: ScanTask) => {
      const checking = options.onResults(
        task,
        copy(runScanTask(task, read, options.maxBytes)),
      );
      trim?.check();
      return checking;
    };
    if (pool) {
      // This thread reads sessions too, a slice at a time, letting the
      // workers' answers (and a signal) in between.
      for (let task = pool.take(); task; task = pool.take()) {
        const checking = here(task);
        if (checking) await checking;
        await stopIfAsked();
      }
    }
    const rest = pool ? listSource(await pool.finished) : source;
    for (let i = 0; i < rest.count; i++) {
      await stopIfAsked();
      const checking = here(rest.take(i));
      if (checking) await checking;
    }
  })().catch((error) => {
    // A failure here (in `first`, say) ends the workers too.
    pool?.close();
    throw error;
  });
}

/** A list as a source that lets go of each task as it is taken. */
function listSource(tasks: (ScanTask | undefined)[]): ScanTaskSource {
  return {
    count: tasks.length,
    take(i) {
      const task = tasks[i]!;
      tasks[i] = undefined;
      return task;
    },
  };
}

/**
 * A copy of a task's results, or the results themselves when they hold a
 * value nested too deep for the structured clone (a hostile sidecar).
 */
function copyOf(results: ScanFileResult[]): ScanFileResult[] {
  try {
    return structuredClone(results);
  } catch (error) {
    if (error instanceof RangeError) return results;
    throw error;
  }
}

interface PoolWorker {
  worker: Worker;
  inFlight: Map<number, ScanTask[]>;
}

/**
 * Started scan workers ({@linkcode startScanWorkers}), which
 * {@linkcode runScanTasks} then gives tasks to.
 *
 * @example
 * ```ts
 * import { type ScanWorkers, startScanWorkers } from "./pool.ts";
 * const workers: ScanWorkers | null = startScanWorkers(2);
 * workers?.close();
 * ```
 */
export class ScanWorkers {
  /** The tasks, taken in order; none until {@linkcode ScanWorkers.run}. */
  #tasks: ScanTaskSource = listSource([]);
  #options: ScanPoolOptions | null = null;
  #next = 0;
  #batchId = 0;
  #workers: PoolWorker[] = [];
  /** Tasks of workers that failed, for this thread to run. */
  #orphaned: ScanTask[] = [];
  /** The tasks of each batch sent, until its answer is read. */
  #sent = new Map<number, ScanTask[]>();
  #done!: (orphaned: ScanTask[]) => void;
  #fail!: (error: Error) => void;
  /**
   * Resolves with the tasks a failed worker left behind, when all is done.
   *
   * @example
   * ```ts
   * import type { ScanWorkers } from "./pool.ts";
   * declare const workers: ScanWorkers;
   * const leftOver = await workers.finished;
   * ```
   */
  readonly finished: Promise<ScanTask[]>;
  /**
   * This thread's heap trim, checked after each answer is handed on; set
   * once loaded (the workers start before).
   *
   * @example
   * ```ts
   * import type { ScanWorkers } from "./pool.ts";
   * declare const workers: ScanWorkers;
   * workers.trim = null;
   * ```
   */
  trim: HeapTrim | null = null;

  /**
   * Starts `count` workers; see {@linkcode startScanWorkers}.
   *
   * @example
   * ```ts
   * import { ScanWorkers } from "./pool.ts";
   * new ScanWorkers(1).close();
   * ```
   */
  constructor(count: number) {
    for (let i = 0; i < count; i++) {
      // This exact shape (a literal URL beside import.meta.url) is what
      // `deno compile --include core/scan/worker.ts` embeds and resolves.
      const worker = new Worker(
        new URL("./worker.ts", import.meta.url),
        { type: "module" },
      );
      this.#workers.push({ worker, inFlight: new Map() });
    }
    this.finished = new Promise<ScanTask[]>((resolve, reject) => {
      this.#done = resolve;
      this.#fail = reject;
    }).finally(() => this.#end());
    // A pool closed unused rejects with nobody waiting.
    this.finished.catch(() => {});
    for (const member of this.#workers) {
      member.worker.onmessage = (event: MessageEvent<ScanBatchResult>) =>
        this.#onMessage(member, event.data);
      member.worker.onerror = (event: ErrorEvent) => {
        // Handled here: an unhandled worker error would end the process.
        event.preventDefault();
        this.#onFailure(member);
      };
    }
  }

  /**
   * Gives the workers `tasks` (once).
   *
   * @example
   * ```ts
   * import type { ScanPoolOptions, ScanTaskSource, ScanWorkers } from "./pool.ts";
   * declare const workers: ScanWorkers;
   * declare const tasks: ScanTaskSource;
   * declare const options: ScanPoolOptions;
   * workers.run(tasks, options);
   * ```
   */
  run(tasks: ScanTaskSource, options: ScanPoolOptions): void {
    this.#tasks = tasks;
    this.#options = options;
    for (const member of this.#workers) this.#dispatch(member);
    this.#finishIfDone();
  }

  /**
   * Ends the workers, whatever they were doing; `finished` rejects.
   *
   * @example
   * ```ts
   * import type { ScanWorkers } from "./pool.ts";
   * declare const workers: ScanWorkers;
   * workers.close();
   * ```
   */
  close(): void {
    this.#fail(new Error("scan workers closed"));
    this.#end();
  }

  /**
   * Stops the workers; `finished` rejects with {@linkcode Interrupted}.
   *
   * @example
   * ```ts
   * import type { ScanWorkers } from "./pool.ts";
   * declare const workers: ScanWorkers;
   * workers.stop();
   * ```
   */
  stop(): void {
    this.#fail(new Interrupted());
  }

  /**
   * A task for the calling thread; undefined once all are handed out.
   *
   * @example
   * ```ts
   * import type { ScanWorkers } from "./pool.ts";
   * declare const workers: ScanWorkers;
   * const task = workers.take();
   * ```
   */
  take(): ScanTask | undefined {
    if (this.#next >= this.#tasks.count) return undefined;
    const task = this.#tasks.take(this.#next++);
    this.#finishIfDone();
    return task;
  }

  #end(): void {
    // The ended workers' handlers would keep this pool, and through it
    // every task of the scan, alive as long as the snapshot.
    for (const member of this.#workers) {
      member.worker.terminate();
      member.worker.onmessage = null;
      member.worker.onerror = null;
    }
    this.#workers = [];
    this.#tasks = listSource([]);
    this.#sent.clear();
  }

  #batchSize(): number {
    // Big batches while many tasks are left (fewer messages), then smaller
    // ones down to single tasks at the end, so the workers finish together.
    const remaining = this.#tasks.count - this.#next;
    const perWorker = remaining / (this.#workers.length * 8);
    return Math.max(1, Math.min(32, Math.floor(perWorker)));
  }

  #dispatch(member: PoolWorker): void {
    const options = this.#options;
    if (!options) return;
    while (
      member.inFlight.size < BATCHES_IN_FLIGHT &&
      this.#next < this.#tasks.count
    ) {
      const start = this.#next;
      this.#next = Math.min(this.#tasks.count, start + this.#batchSize());
      const tasks: ScanTask[] = [];
      for (let i = start; i < this.#next; i++) tasks.push(this.#tasks.take(i));
      const batch: ScanBatch = {
        id: ++this.#batchId,
        tasks,
        maxBytes: options.maxBytes,
        trimHeap: options.trimHeap ?? false,
      };
      member.inFlight.set(batch.id, tasks);
      this.#sent.set(batch.id, tasks);
      member.worker.postMessage(batch);
    }
    this.#finishIfDone();
  }

  #onMessage(member: PoolWorker, message: ScanBatchResult): void {
    const options = this.#options;
    if (!options || !member.inFlight.delete(message.id)) return;
    // Asked here too: this thread may be done with its own share and only
    // waiting for the workers.
    if (options.interrupted?.()) {
      this.stop();
      return;
    }
    if ("error" in message) {
      this.#fail(new Error(`scan worker failed: ${message.error}`));
      return;
    }
    const tasks = this.#sent.get(message.id) ?? [];
    this.#sent.delete(message.id);
    try {
      for (const [i, results] of message.results.entries()) {
        // null: too deep to send between threads; this thread runs it.
        if (results === null) this.#orphaned.push(tasks[i]);
        else options.onResults(tasks[i], results)?.catch(this.#fail);
      }
    } catch (error) {
      this.#fail(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    this.trim?.check();
    this.#dispatch(member);
  }

  #onFailure(member: PoolWorker): void {
    for (const tasks of member.inFlight.values()) this.#orphaned.push(...tasks);
    member.inFlight.clear();
    member.worker.terminate();
    this.#workers = this.#workers.filter((m) => m !== member);
    if (this.#workers.length === 0 && this.#options) {
      // Nobody left to run the rest: this thread does.
      while (this.#next < this.#tasks.count) {
        this.#orphaned.push(this.#tasks.take(this.#next++));
      }
    }
    this.#finishIfDone();
  }

  #finishIfDone(): void {
    if (!this.#options) return;
    const busy = this.#workers.some((m) => m.inFlight.size > 0);
    if (!busy && this.#next >= this.#tasks.count) this.#done(this.#orphaned);
  }
}
