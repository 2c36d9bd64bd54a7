/**
 * Checks and repairs registered together. A repair names the kinds it
 * fixes (`Repair.fixes`), and that is the one place a kind's repair is
 * said: registration fills each kind's `KindInfo.repair` from it. A check
 * of the older shape may still name a kind's repair itself; then the two
 * must agree, or a finding would name a repair that never runs for it. So
 * a program of one's own is refused before it reads a store rather than
 * misreporting on it.
 *
 * @example
 * ```ts
 * import { registerChecks, registryProblems } from "./registry.ts";
 * import { builtinChecks } from "../../checks/builtin.ts";
 * import { builtinRepairs } from "../../repairs/builtin.ts";
 * import type { Check } from "./check.ts";
 * declare const myCheck: Check;
 * registryProblems(builtinChecks, builtinRepairs); // []
 * const checks = registerChecks([...builtinChecks, myCheck], builtinRepairs);
 * ```
 * @module
 */

import type { Check } from "./check.ts";
import type { KindInfo } from "../report/finding.ts";
import type { Repair } from "./repair.ts";

/**
 * The checks with each kind's repair filled in from the repairs' `fixes`
 * (a kind no repair fixes has none). Throws a TypeError naming every
 * disagreement ({@linkcode registryProblems}) and what to change.
 *
 * @example
 * ```ts
 * import { registerChecks } from "./registry.ts";
 * import { builtinChecks } from "../../checks/builtin.ts";
 * import type { Check } from "./check.ts";
 * import { builtinRepairs } from "../../repairs/builtin.ts";
 * import type { Repair } from "./repair.ts";
 * declare const myCheck: Check;
 * declare const myRepair: Repair;
 * const checks = registerChecks([...builtinChecks, myCheck], [...builtinRepairs, myRepair]);
 * ```
 */
export function registerChecks(
  checks: readonly Check[],
  repairs: readonly Repair[],
): Check[] {
  const registered = withRepairs(checks, repairs);
  const problems = registryProblems(registered, repairs);
  if (problems.length > 0) {
    throw new TypeError(
      `the checks and repairs disagree: ${
        problems.join("; ")
      }; name each kind in the fixes of exactly one repair`,
    );
  }
  return registered;
}

/**
 * The checks with each kind's repair filled in from the repairs' `fixes`,
 * where the kind names none; nothing is checked (see
 * {@linkcode registryProblems}).
 *
 * @example
 * ```ts
 * import { withRepairs } from "./registry.ts";
 * import type { Check } from "./check.ts";
 * import { builtinRepairs } from "../../repairs/builtin.ts";
 * declare const myChecks: Check[];
 * const checks = withRepairs(myChecks, builtinRepairs);
 * ```
 */
export function withRepairs(
  checks: readonly Check[],
  repairs: readonly Repair[],
): Check[] {
  const fixer = new Map<string, string>();
  for (const repair of repairs) {
    for (const kind of repair.fixes) {
      if (!fixer.has(kind)) fixer.set(kind, repair.id);
    }
  }
  const fill = (info: KindInfo): KindInfo =>
    info.repair || !fixer.has(info.kind)
      ? info
      : { ...info, repair: fixer.get(info.kind) };
  return checks.map((check) =>
    check.kinds.every((info) => fill(info) === info)
      ? check
      : { ...check, kinds: check.kinds.map(fill) }
  );
}

/**
 * What is wrong with a set of checks and repairs, one sentence each; empty
 * when they agree: ids unique, each kind declared once, each kind's repair
 * one that lists the kind in its `fixes`, and each repair's `fixes` kinds
 * that a check declares and names it for.
 *
 * @example
 * ```ts
 * import { registryProblems } from "./registry.ts";
 * import { builtinChecks } from "../../checks/builtin.ts";
 * import type { Check } from "./check.ts";
 * import { builtinRepairs } from "../../repairs/builtin.ts";
 * declare const myCheck: Check;
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
      if (!info.repair) {
        if (info.category === "repairable") {
          problems.push(
            `check ${check.id}: repairable kind ${info.kind} is in no repair's fixes`,
          );
        }
        continue;
      }
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
