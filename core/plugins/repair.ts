/**
 * Repair plugins. A repair plans actions from findings, as data, and the
 * engine applies them through the safety layer; a repair never writes
 * itself. Planning only reads, so `--dry-run` prints exactly the actions.
 *
 * @example
 * ```ts
 * import { defineRepair } from "./repair.ts";
 * export const noop = defineRepair({
 *   id: "noop",
 *   title: "Does nothing",
 *   description: "An example.",
 *   fixes: ["some_kind"],
 *   scope: "finding",
 *   plan: () => Promise.resolve({ skip: "nothing to do" }),
 * });
 * ```
 * @module
 */

import type { Action, Expectation } from "./action.ts";
import type { CheckOptions } from "./check.ts";
import type { Finding } from "../report/finding.ts";
import type { StoreSnapshot } from "../scan/snapshot.ts";

/**
 * A store file as a repair reads it for planning.
 *
 * @example
 * ```ts
 * import type { RepairContext, PlanRead } from "./repair.ts";
 * declare const context: RepairContext;
 * const file: PlanRead = await context.read("abc.json");
 * if (file.ok) console.log(file.expect, file.bytes?.length);
 * ```
 */
export type PlanRead =
  | { ok: true; expect: Expectation; bytes: Uint8Array | null }
  | { ok: false; problem: string };

/**
 * What a repair may use while planning.
 *
 * @example
 * ```ts
 * import type { RepairContext } from "./repair.ts";
 * import type { Finding } from "../report/finding.ts";
 * const plan = (findings: Finding[], context: RepairContext) =>
 *   context.read(`${findings[0].sessionId}.json`);
 * ```
 */
export interface RepairContext {
  /** The snapshot the findings came from. */
  store: StoreSnapshot;
  /** Every finding of that audit (for repairs that must look around). */
  findings: readonly Finding[];
  /** Run facts. */
  options: CheckOptions;
  /**
   * Reads a store file (relative to the session dir) and describes it as an
   * expectation for the action that will change it.
   */
  read(path: string): Promise<PlanRead>;
}

/**
 * A planned repair: the actions, and what they are for.
 *
 * @example
 * ```ts
 * import type { Plan } from "./repair.ts";
 * import type { Finding } from "../report/finding.ts";
 * declare const finding: Finding;
 * const plan: Plan = {
 *   repair: "rebuild_index",
 *   findingIds: [finding.id],
 *   summary: "Rewrite _index.json from the sidecars.",
 *   actions: [],
 * };
 * ```
 */
export interface Plan {
  /** Id of the repair. */
  repair: string;
  /** Findings it fixes. */
  findingIds: string[];
  /** The session concerned, if one. */
  sessionId?: string;
  /** One sentence for a person: what will happen. */
  summary: string;
  /** The changes, applied in order; the first one that does not apply stops the rest. */
  actions: Action[];
}

/**
 * A repair that declines to act, and why (one phrase for a person).
 *
 * @example
 * ```ts
 * import { type PlanSkip, isSkip } from "./repair.ts";
 * const skip: PlanSkip = { skip: "the backup no longer parses" };
 * isSkip(skip); // true
 * ```
 */
export interface PlanSkip {
  /** Why the repair does nothing, as one phrase for a person. */
  skip: string;
}

/**
 * A repair plugin.
 *
 * @example
 * ```ts
 * import type { Repair } from "./repair.ts";
 * import { builtinRepairs } from "../../repairs/builtin.ts";
 * const repair: Repair = builtinRepairs[0];
 * console.log(repair.id, repair.fixes);
 * ```
 */
export interface Repair {
  /** Stable id, snake_case; findings name it in `repair`. */
  id: string;
  /** A few words. */
  title: string;
  /** One or two sentences: what it changes, and how it stays safe. */
  description: string;
  /** Kinds whose findings it fixes. */
  fixes: string[];
  /**
   * `finding`: one plan per finding. `session`: one plan for all its
   * findings of one session in the pass (each file of the session changed
   * once, however many findings name it). `store`: one plan for all its
   * findings of the pass (for a derived file like the index).
   */
  scope: "finding" | "session" | "store";
  /**
   * Also run once in the pass after any sidecar was written, with no
   * finding (the index must follow the sidecars).
   */
  afterSidecarWrites?: boolean;
  /** Plans the actions. Reads only; never writes. */
  plan(findings: Finding[], context: RepairContext): Promise<Plan | PlanSkip>;
}

/**
 * Declares a repair; returns it unchanged, after checking its metadata.
 *
 * @example
 * ```ts
 * import { defineRepair } from "./repair.ts";
 * const repair = defineRepair({ id: "x", title: "X", description: "X.", fixes: [], scope: "finding",
 *   plan: () => Promise.resolve({ skip: "never" }) });
 * ```
 */
export function defineRepair(repair: Repair): Repair {
  if (!/^[a-z0-9]+(?:_[a-z0-9]+)*$/.test(repair.id)) {
    throw new TypeError(
      `repair id ${JSON.stringify(repair.id)} must be snake_case`,
    );
  }
  if (typeof repair.plan !== "function") {
    throw new TypeError(`repair ${repair.id} has no plan() function`);
  }
  return repair;
}

/**
 * True when a plan result declines to act.
 *
 * @example
 * ```ts
 * import { type Plan, type PlanSkip, isSkip } from "./repair.ts";
 * declare const result: Plan | PlanSkip;
 * if (isSkip(result)) console.log(result.skip);
 * ```
 */
export function isSkip(result: Plan | PlanSkip): result is PlanSkip {
  return "skip" in result;
}
