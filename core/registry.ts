/**
 * A check names the repair of each kind (`KindInfo.repair`) and a repair
 * names the kinds it fixes (`Repair.fixes`). The two must agree, or a
 * finding says a repair that never runs for it; this module says where
 * they do not, so a program of one's own is refused before it reads a
 * store rather than misreporting on it.
 *
 * @example
 * ```ts
 * import { registryProblems } from "./registry.ts";
 * import { builtinChecks } from "../checks/builtin.ts";
 * import { builtinRepairs } from "../repairs/builtin.ts";
 * registryProblems(builtinChecks, builtinRepairs); // []
 * ```
 * @module
 */

import type { Check } from "./check.ts";
import type { Repair } from "./repair.ts";

/**
 * What is wrong with a set of checks and repairs, one sentence each; empty
 * when they agree: ids unique, each kind declared once, each kind's repair
 * one that lists the kind in its `fixes`, and each repair's `fixes` kinds
 * that a check declares and names it for.
 *
 * @example
 * ```ts
 * const problems = registryProblems([...builtinChecks, myCheck], builtinRepairs);
 * if (problems.length) throw new TypeError(problems.join("; "));
 * ```
 */
export function registryProblems(
  checks: readonly Check[],
  repairs: readonly Repair[],
): string[] {
  const problems: string[] = [];
  const repairById = new Map<string, Repair>();
  for (const repair of repairs) {
    if (repairById.has(repair.id)) {
      problems.push(`two repairs have the id ${repair.id}`);
    }
    repairById.set(repair.id, repair);
  }
  const checkIds = new Set<string>();
  const declared = new Map<string, { check: string; repair?: string }>();
  for (const check of checks) {
    if (checkIds.has(check.id)) {
      problems.push(`two checks have the id ${check.id}`);
    }
    checkIds.add(check.id);
    for (const info of check.kinds) {
      const earlier = declared.get(info.kind);
      if (earlier) {
        problems.push(
          `kind ${info.kind} is declared by checks ${earlier.check} and ${check.id}`,
        );
      }
      declared.set(info.kind, { check: check.id, repair: info.repair });
      if (!info.repair) continue;
      const repair = repairById.get(info.repair);
      if (!repair) {
        problems.push(
          `check ${check.id}: kind ${info.kind} names repair ${info.repair}, which is not registered`,
        );
      } else if (!repair.fixes.includes(info.kind)) {
        problems.push(
          `check ${check.id}: kind ${info.kind} names repair ${info.repair}, whose fixes do not list it`,
        );
      }
    }
  }
  for (const repair of repairs) {
    for (const kind of repair.fixes) {
      const owner = declared.get(kind);
      if (!owner) {
        problems.push(
          `repair ${repair.id} fixes ${kind}, which no check declares`,
        );
      } else if (owner.repair !== repair.id) {
        problems.push(
          `repair ${repair.id} fixes ${kind}, but check ${owner.check} names ${
            owner.repair ?? "no repair"
          } for it`,
        );
      }
    }
  }
  return problems;
}
