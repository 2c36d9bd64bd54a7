/**
 * Deep equality of parsed JSON values, for repairs that must prove an edit
 * or a removal loses nothing: key order is ignored (the same object may be
 * written in another order), and the walk is iterative, so deeply nested
 * content cannot overflow the stack.
 *
 * @example
 * ```ts
 * import { sameJson } from "./same_json.ts";
 * sameJson({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }); // true
 * ```
 * @module
 */

import { isPlainObject } from "../store/sidecar_summary.ts";

/**
 * True when two parsed JSON values are equal, whatever the key order.
 *
 * @example
 * ```ts
 * import { sameJson } from "./same_json.ts";
 * sameJson({ a: 1, b: 2 }, { b: 2, a: 1 }); // true
 * sameJson([1, 2], [2, 1]); // false
 * ```
 */
export function sameJson(a: unknown, b: unknown): boolean {
  const pending: [unknown, unknown][] = [[a, b]];
  while (pending.length > 0) {
    const [x, y] = pending.pop()!;
    if (x === y) continue;
    if (Array.isArray(x)) {
      if (!Array.isArray(y) || x.length !== y.length) return false;
      for (let i = 0; i < x.length; i++) pending.push([x[i], y[i]]);
      continue;
    }
    if (isPlainObject(x)) {
      if (!isPlainObject(y)) return false;
      const keys = Object.keys(x);
      if (keys.length !== Object.keys(y).length) return false;
      for (const key of keys) {
        if (!Object.hasOwn(y, key)) return false;
        pending.push([x[key], y[key]]);
      }
      continue;
    }
    return false;
  }
  return true;
}
