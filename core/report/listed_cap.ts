/**
 * How many findings of one kind one file may give a check run before they
 * are told as one. `_index.json` may name millions of sessions (3 million
 * entries still fit the default size limit); a finding per entry made a
 * report of gigabytes that no one reads and that no output could hold. So
 * a check lists each problem of an index entry while a run has at most
 * {@linkcode MAX_LISTED} of them, and past that reports one finding of the
 * same kind, with the count and the first {@linkcode EXAMPLES_SHOWN}. A
 * store checked part by part (core/scan/part_scan.ts) is a run per part of
 * 1,000 sessions, so the report grows with the sessions on disk, never
 * with what the index claims.
 *
 * @example
 * ```ts
 * import { firstSorted, MAX_LISTED } from "./listed_cap.ts";
 * const ids = new Set(["c", "a", "b"]);
 * ids.size > MAX_LISTED ? firstSorted(ids, 2) : [...ids].sort(); // ["a", "b", "c"]
 * ```
 * @module
 */

/**
 * Problems of one kind from one file that a run lists one by one; past
 * this, they are one finding with the count.
 *
 * @example
 * ```ts
 * import { MAX_LISTED } from "./listed_cap.ts";
 * declare const missing: Set<string>;
 * declare function reportCount(count: number): void;
 * if (missing.size > MAX_LISTED) reportCount(missing.size);
 * ```
 */
export const MAX_LISTED = 1000;

/**
 * How many of the problems a finding that counts them names, first in the
 * order they would have been listed in.
 *
 * @example
 * ```ts
 * import { firstSorted, EXAMPLES_SHOWN } from "./listed_cap.ts";
 * declare const ids: string[];
 * const shown = firstSorted(ids, EXAMPLES_SHOWN);
 * ```
 */
export const EXAMPLES_SHOWN = 20;

/**
 * The `count` smallest strings of `items`, sorted (by UTF-16 code units, as
 * `Array.prototype.sort`), without sorting them all: a run over millions
 * of ids keeps only `count` at a time.
 *
 * @example
 * ```ts
 * import { firstSorted } from "./listed_cap.ts";
 * firstSorted(["d", "b", "a", "c"], 2); // ["a", "b"]
 * ```
 */
export function firstSorted(items: Iterable<string>, count: number): string[] {
  const kept: string[] = [];
  if (count <= 0) return kept;
  for (const item of items) {
    if (kept.length === count && item >= kept[count - 1]) continue;
    // Binary search for the place; `kept` is at most `count` long.
    let low = 0;
    let high = kept.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (kept[middle] <= item) low = middle + 1;
      else high = middle;
    }
    kept.splice(low, 0, item);
    if (kept.length > count) kept.pop();
  }
  return kept;
}
