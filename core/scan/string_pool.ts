/**
 * One copy of each repeated value in a store's summaries. A big store
 * repeats the same short strings (session ids, titles, workspaces, model
 * names) and the same small lists (`enabled_toolsets`) in every sidecar,
 * index entry and state.db row; each parse makes its own copy. The scan
 * passes those values through one pool so equal ones share a single copy:
 * at 20,000 sessions that is megabytes. The values are only read by the
 * checks, never changed, so sharing them is safe.
 *
 * @example
 * ```ts
 * import { StringPool } from "./string_pool.ts";
 * const pool = new StringPool();
 * const a = pool.value(JSON.parse('"test-model"'));
 * const b = pool.value(JSON.parse('"test-model"'));
 * a === b; // true, and only one copy is kept
 * ```
 * @module
 */

/**
 * Values longer than this (strings, in UTF-16 units; lists and objects, as
 * JSON) are kept as they are: long ones are rarely repeated, and the pool
 * must not hold a store's worth of text.
 *
 * @example
 * ```ts
 * import { StringPool, POOLED_LENGTH_LIMIT } from "./string_pool.ts";
 * new StringPool().value("x".repeat(POOLED_LENGTH_LIMIT + 1)); // not pooled
 * ```
 */
export const POOLED_LENGTH_LIMIT = 200;

/**
 * A pool of short strings and small JSON values.
 *
 * @example
 * ```ts
 * import { StringPool } from "./string_pool.ts";
 * const pool = new StringPool();
 * const meta = pool.record({ model: "m", enabled_toolsets: ["files", "web"] });
 * ```
 */
export class StringPool {
  #strings = new Map<string, string>();
  #values = new Map<string, unknown>();

  /**
   * The pooled copy of a string (the string itself the first time).
   *
   * @example
   * ```ts
   * import { StringPool } from "./string_pool.ts";
   * declare const pool: StringPool;
   * declare const id: string;
   * pool.string(id) === pool.string(String(id)); // true
   * ```
   */
  string(text: string): string {
    if (text.length > POOLED_LENGTH_LIMIT) return text;
    const known = this.#strings.get(text);
    if (known !== undefined) return known;
    this.#strings.set(text, text);
    return text;
  }

  /**
   * The pooled copy of a JSON value: strings as {@linkcode string}, empty
   * objects and short lists of strings, booleans and nulls by their JSON
   * text; anything else as it is (numbers cost nothing to keep, and bigger
   * values are rarely the same).
   *
   * @example
   * ```ts
   * import { StringPool } from "./string_pool.ts";
   * declare const pool: StringPool;
   * pool.value(["files", "web"]) === pool.value(["files", "web"]); // true
   * pool.value(42); // 42
   * ```
   */
  value<T>(value: T): T {
    if (typeof value === "string") return this.string(value) as T;
    if (!isPoolable(value)) return value;
    const key = JSON.stringify(value);
    if (key.length > POOLED_LENGTH_LIMIT) return value;
    const known = this.#values.get(key);
    if (known !== undefined) return known as T;
    this.#values.set(key, value);
    return value;
  }

  /**
   * Replaces each property of a record by its pooled copy, in place, and
   * returns the record.
   *
   * @example
   * ```ts
   * import { StringPool } from "./string_pool.ts";
   * import type { SidecarSummary } from "../store/sidecar_summary.ts";
   * declare const pool: StringPool;
   * declare const summary: SidecarSummary;
   * pool.record(summary.meta).title; // the shared copy of the title
   * ```
   */
  record<T extends Record<string, unknown>>(record: T): T {
    for (const key of Object.keys(record)) {
      // Assigning "__proto__" would set the prototype, not the property.
      if (key === "__proto__") continue;
      const value = record[key];
      const pooled = this.value(value);
      if (pooled !== value) (record as Record<string, unknown>)[key] = pooled;
    }
    return record;
  }
}

/** Lists the JSON text of which is the list (no NaN, no -0), and {}. */
function isPoolable(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return false;
  if (Array.isArray(value)) {
    return value.length <= 16 &&
      value.every((item) =>
        item === null || typeof item === "boolean" ||
        (typeof item === "string" && item.length <= POOLED_LENGTH_LIMIT)
      );
  }
  return Object.getPrototypeOf(value) === Object.prototype &&
    Object.keys(value).length === 0;
}
