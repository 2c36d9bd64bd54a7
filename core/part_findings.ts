/**
 * The findings of an audit that checks the store part by part, put
 * together as one run over the whole store would list them: check by
 * check, in the checks' order; within a check, by the drafts' `order`
 * keys, then in part order (which is session-id order), then as the
 * check listed them. A finding about no session (the index's shape, say)
 * comes out of every part with the same id; it is kept once.
 *
 * @example
 * ```ts
 * import { PartFindings } from "./part_findings.ts";
 * const merged = new PartFindings(checks);
 * merged.add(await runChecksWithOrder(part, checks, options)); // for each part
 * const findings = merged.findings();
 * ```
 * @module
 */

import type { Check } from "./check.ts";
import type { Finding } from "./finding.ts";
import type { OrderedFinding } from "./pipeline.ts";

/**
 * Collects the findings of each part, in part order.
 *
 * @example
 * ```ts
 * const merged = new PartFindings(builtinChecks);
 * merged.add(partFindings);
 * merged.findings().length;
 * ```
 */
export class PartFindings {
  /** Per check, in the checks' order: its findings so far. */
  #byCheck = new Map<string, OrderedFinding[]>();
  /** Per check: the ids of its findings from earlier parts. */
  #seen = new Map<string, Set<string>>();

  /**
   * Takes the checks of the run, whose order the findings keep.
   *
   * @example
   * ```ts
   * const merged = new PartFindings(checks);
   * ```
   */
  constructor(checks: readonly Check[]) {
    for (const check of checks) {
      this.#byCheck.set(check.id, []);
      this.#seen.set(check.id, new Set());
    }
  }

  /**
   * Adds the findings of the next part. A finding whose check already
   * reported its id in an earlier part is dropped: it is about the store,
   * not about a session of this part.
   *
   * @example
   * ```ts
   * merged.add(await runChecksWithOrder(part, checks, options));
   * ```
   */
  add(found: readonly OrderedFinding[]): void {
    const added: OrderedFinding[] = [];
    for (const item of found) {
      const check = item.finding.check;
      if (this.#seen.get(check)?.has(item.finding.id)) continue;
      let list = this.#byCheck.get(check);
      if (!list) this.#byCheck.set(check, list = []);
      list.push(item);
      added.push(item);
    }
    for (const { finding } of added) {
      let seen = this.#seen.get(finding.check);
      if (!seen) this.#seen.set(finding.check, seen = new Set());
      seen.add(finding.id);
    }
  }

  /**
   * Every finding, in the order of one run over the whole store.
   *
   * @example
   * ```ts
   * const findings: Finding[] = merged.findings();
   * ```
   */
  findings(): Finding[] {
    const all: Finding[] = [];
    for (const list of this.#byCheck.values()) {
      // Array.prototype.sort is stable: equal keys keep the part order.
      list.sort((a, b) => compareOrder(a.order ?? [], b.order ?? []));
      for (const { finding } of list) all.push(finding);
    }
    return all;
  }
}

/**
 * Compares two `order` keys element by element; a key that is a prefix of
 * the other comes first, and a number before a string.
 *
 * @example
 * ```ts
 * compareOrder([1, "b"], [1, "a"]); // 1
 * compareOrder([], [0]); // -1
 * ```
 */
export function compareOrder(
  a: readonly (number | string)[],
  b: readonly (number | string)[],
): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (typeof x !== typeof y) return typeof x === "number" ? -1 : 1;
    if (x < y) return -1;
    if (x > y) return 1;
  }
  return a.length - b.length;
}
