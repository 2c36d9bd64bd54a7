/**
 * Keeps a long scan's JavaScript heap close to what it holds: between two
 * units of work (a session's files, an index entry) a trim collects the
 * heap once it has grown a few MB past what the last collection left.
 *
 * Why: V8 lets a heap's old generation grow at least 8 MB past what
 * survived its last full collection before it collects again (its minimum
 * step, kept in memory-saver mode), and it overshoots that while it marks
 * incrementally and the scan goes on allocating. On a long scan every
 * heap (this thread's, a worker's) reaches that on each cycle; on a short
 * one it never does. So without a trim the peak grew with how long the
 * scan ran, not with what it held. A trim keeps the peak with what the
 * scan holds; the cost is time, more forced collections than V8 makes
 * itself (docs/performance.md measures both).
 *
 * A trim needs V8's `--expose-gc`, which the binary is built with
 * (core/run/permissions.ts); without it a trim never collects, and costs
 * nothing.
 *
 * @example
 * ```ts
 * import { threadHeapTrim } from "./heap_trim.ts";
 * import type { ScanTask } from "./task.ts";
 * declare const tasks: ScanTask[];
 * declare function run(task: ScanTask): void;
 * const trim = await threadHeapTrim();
 * for (const task of tasks) {
 *   run(task);
 *   trim.check();
 * }
 * ```
 * @module
 */

/**
 * How far past what the last collection left a heap may grow before a
 * trim collects it: half V8's own minimum step; a smaller step was no
 * lower and slower, a larger one higher.
 *
 * @example
 * ```ts
 * import { HeapTrim, HEAP_TRIM_STEP } from "./heap_trim.ts";
 * declare const usedHeap: () => number;
 * declare const collect: () => void;
 * new HeapTrim(usedHeap, collect, HEAP_TRIM_STEP);
 * ```
 */
export const HEAP_TRIM_STEP = 4 * 1024 * 1024;

/**
 * Store size (bytes) from which a scan trims its heaps. A smaller store is
 * scanned before V8's heaps reach their own step, so trimming there costs
 * time for a few MB.
 *
 * @example
 * ```ts
 * import { MIN_BYTES_FOR_HEAP_TRIM } from "./heap_trim.ts";
 * declare const storeBytes: number;
 * const trimHeap = storeBytes >= MIN_BYTES_FOR_HEAP_TRIM;
 * ```
 */
export const MIN_BYTES_FOR_HEAP_TRIM = 256 * 1024 * 1024;

/** Calls of {@linkcode HeapTrim.tick} per look at the heap's size. */
const TICKS_PER_CHECK = 64;

/**
 * Collects a heap whenever it has grown `step` bytes past what the last
 * collection (its own, or the first look) left.
 *
 * @example
 * ```ts
 * import { HeapTrim } from "./heap_trim.ts";
 * import { getHeapStatistics } from "node:v8";
 * declare const gc: () => void;
 * const trim = new HeapTrim(() => getHeapStatistics().used_heap_size, gc);
 * trim.check(); // true when it collected
 * ```
 */
export class HeapTrim {
  #usedHeap: () => number;
  #collect: () => void;
  #step: number;
  #floor: number;
  #ticks = 0;
  #collections = 0;

  /**
   * @param usedHeap the bytes the heap's objects take now, live or not
   * @param collect a full collection
   * @param step the growth that calls for a collection
   */
  constructor(
    usedHeap: () => number,
    collect: () => void,
    step: number = HEAP_TRIM_STEP,
  ) {
    this.#usedHeap = usedHeap;
    this.#collect = collect;
    this.#step = step;
    this.#floor = usedHeap();
  }

  /**
   * Looks at the heap's size (about a microsecond) and collects when it
   * has grown a step; true when it collected.
   *
   * @example
   * ```ts
   * import { HeapTrim } from "./heap_trim.ts";
   * declare const trim: HeapTrim;
   * if (trim.check()) console.log("collected");
   * ```
   */
  check(): boolean {
    if (this.#usedHeap() < this.#floor + this.#step) return false;
    this.#collect();
    this.#floor = this.#usedHeap();
    this.#collections++;
    return true;
  }

  /**
   * How many times this trim has collected.
   *
   * @example
   * ```ts
   * import { HeapTrim } from "./heap_trim.ts";
   * declare const trim: HeapTrim;
   * trim.collections; // 0 where V8 does not expose gc
   * ```
   */
  get collections(): number {
    return this.#collections;
  }

  /**
   * A {@linkcode check} on every 64th call: for units of work that take a
   * few microseconds each (an index entry, a state.db row).
   *
   * @example
   * ```ts
   * import { HeapTrim } from "./heap_trim.ts";
   * declare const entries: unknown[];
   * declare const trim: HeapTrim;
   * for (const entry of entries) trim.tick();
   * ```
   */
  tick(): void {
    if (++this.#ticks === TICKS_PER_CHECK) {
      this.#ticks = 0;
      this.check();
    }
  }
}

/** A trim that never collects, for a heap whose `gc` is not exposed. */
const NO_TRIM = new HeapTrim(() => 0, () => {}, Infinity);

let threadTrim: Promise<HeapTrim> | undefined;

/**
 * This thread's trim, shared by every caller in the thread (a heap is one
 * per thread): one that collects when V8 exposes `gc`, else one that never
 * does. Only the first call loads node:v8 (about 9 ms on its own, under
 * one once node:fs is loaded), and only when `gc` is exposed.
 *
 * @example
 * ```ts
 * import { threadHeapTrim } from "./heap_trim.ts";
 * const trim = await threadHeapTrim();
 * trim.check();
 * ```
 */
export function threadHeapTrim(): Promise<HeapTrim> {
  return threadTrim ??= loadTrim();
}

async function loadTrim(): Promise<HeapTrim> {
  const gc = (globalThis as { gc?: unknown }).gc;
  if (typeof gc !== "function") return NO_TRIM;
  const { getHeapStatistics } = await import("node:v8");
  return new HeapTrim(
    () => getHeapStatistics().used_heap_size,
    gc as () => void,
  );
}
