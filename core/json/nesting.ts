/**
 * How deep a value nests, asked without recursion: a value nested deeper
 * than the server's Python `json` can read (its recursion limit is about
 * 1,000) is never written into a file the server reads, and writing one
 * indented would overflow the stack anyway (slowly: V8 recurses until the
 * stack is exhausted).
 *
 * @example
 * ```ts
 * import { MAX_WRITE_DEPTH, nestedDeeperThan } from "./nesting.ts";
 * nestedDeeperThan([[[]]], 2); // true
 * nestedDeeperThan({ a: [1] }, MAX_WRITE_DEPTH); // false
 * ```
 * @module
 */

/**
 * Python's json recurses once per level of nesting and gives up near its
 * recursion limit of 1,000: the server could not read a deeper value back.
 */
export const MAX_WRITE_DEPTH = 1000;

/**
 * True when `value` nests lists or objects more than `limit` levels deep.
 *
 * @example
 * ```ts
 * import { nestedDeeperThan } from "./nesting.ts";
 * nestedDeeperThan("flat", 0); // false
 * ```
 */
export function nestedDeeperThan(value: unknown, limit: number): boolean {
  const pending: [unknown, number][] = [[value, 0]];
  while (pending.length > 0) {
    const [item, depth] = pending.pop()!;
    if (typeof item !== "object" || item === null) continue;
    if (depth >= limit) return true;
    for (const child of Object.values(item)) {
      if (typeof child === "object" && child !== null) {
        pending.push([child, depth + 1]);
      }
    }
  }
  return false;
}
