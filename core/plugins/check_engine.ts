/**
 * The engine that runs checks as visitors (core/plugins/check.ts): it makes each
 * check's visitors once, walks each part of the store it is given (the
 * whole store is one part), calls the visitors with their scopes, and
 * puts the findings in one order it defines, however the store was cut:
 * check by check, in the checks' order; within a check, the findings of
 * `end()` (about the store as a whole) first, then those of state.db rows
 * by row (newest first), then those of sessions by id, then those of temps
 * by name; findings of one place in the order they were reported.
 *
 * @example
 * ```ts
 * import { CheckRun } from "./check_engine.ts";
 * import type { Check } from "./check.ts";
 * import type { StoreSnapshot } from "../scan/store_snapshot.ts";
 * declare const checks: Check[];
 * declare const part: StoreSnapshot;
 * const run = new CheckRun(checks, { now: Date.now(), serverStopped: false });
 * await run.visit(part); // for each part, in id order
 * const findings = await run.finish();
 * ```
 * @module
 */

import type {
  Check,
  CheckContext,
  CheckOptions,
  RowScope,
  StoreWide,
  Visitors,
} from "./check.ts";
import type { Finding, FindingDraft, KindInfo } from "../report/finding.ts";
import type { StoreSnapshot } from "../scan/store_snapshot.ts";
import { PartScopes } from "./session_scope.ts";
import { webuiRowsOf } from "../state_db/profile_state_db.ts";
import { checkFailed, errorText, toFinding } from "../report/finding_make.ts";

/** Where a finding goes among its check's (see the module doc). */
type Place = readonly (number | string)[];

const END: Place = [0];
const SESSION: Place = [2];

/** One check of a run: its visitors, its findings so far. */
interface Running {
  check: Check;
  kinds: Map<string, KindInfo>;
  visitors: Visitors;
  found: { finding: Finding; place: Place }[];
  failed: boolean;
}

/**
 * One run of checks over a store given part by part.
 *
 * @example
 * ```ts
 * import { CheckRun } from "./check_engine.ts";
 * import { builtinChecks } from "../../checks/builtin.ts";
 * import type { CheckOptions } from "./check.ts";
 * declare const options: CheckOptions;
 * const run = new CheckRun(builtinChecks, options);
 * ```
 */
export class CheckRun {
  #running: Running[] = [];
  #options: CheckOptions;
  #wide: StoreWide | null = null;
  #place: Place = END;
  #current: Running | null = null;
  #parts = 0;

  /**
   * Makes every check's visitors. A check whose `create` throws reports
   * `check_failed` and is left out.
   *
   * @example
   * ```ts
   * import { CheckRun } from "./check_engine.ts";
   * import type { Check } from "./check.ts";
   * declare const checks: Check[];
   * const run = new CheckRun(checks, { now: Date.now(), serverStopped: true });
   * ```
   */
  constructor(checks: readonly Check[], options: CheckOptions) {
    this.#options = options;
    for (const check of checks) {
      const running: Running = {
        check,
        kinds: new Map(check.kinds.map((k) => [k.kind, k])),
        visitors: {},
        found: [],
        failed: false,
      };
      this.#running.push(running);
      if (!check.create) continue;
      try {
        const visitors = check.create(this.#contextOf(running));
        if (!visitors || typeof visitors !== "object") {
          throw new TypeError("create() did not return an object of visitors");
        }
        running.visitors = visitors;
      } catch (error) {
        this.#fail(running, error);
      }
    }
  }

  /**
   * Visits one part: every session of it, its state.db rows and temps;
   * a check of the older shape (`run`) is given the part whole.
   *
   * @example
   * ```ts
   * import { CheckRun } from "./check_engine.ts";
   * import type { StoreSnapshot } from "../scan/store_snapshot.ts";
   * declare const run: CheckRun;
   * declare const part: StoreSnapshot;
   * await run.visit(part);
   * ```
   */
  async visit(part: StoreSnapshot): Promise<void> {
    this.#wide = storeWideOf(part);
    const scopes = new PartScopes(part);
    if (this.#parts++ === 0) {
      for (const temp of scopes.storeTemps) {
        await this.#each("temp", [3, temp.name], {
          temp,
          store: scopes.noSession(),
        });
      }
    }
    for (const id of scopes.ids) {
      const scope = scopes.scope(id);
      for (const { row, db } of webuiRowsOf(scope.store)) {
        const rowScope: RowScope = { row, db, session: scope };
        const place = [1, row.position, db === scope.store.stateDb ? 0 : 1];
        await this.#each("stateDbRow", place, rowScope);
      }
      await this.#each("session", SESSION, scope);
      for (const temp of scope.store.temps) {
        await this.#each("temp", [3, temp.name], { temp, store: scope.store });
      }
    }
    await this.#runWhole(part);
  }

  /**
   * Calls each check's `end()` and returns every finding, in the engine's
   * order (see the module doc).
   *
   * @example
   * ```ts
   * import { CheckRun } from "./check_engine.ts";
   * import type { StoreSnapshot } from "../scan/store_snapshot.ts";
   * declare const run: CheckRun;
   * declare const store: StoreSnapshot;
   * const findings = await run.finish(store);
   * ```
   */
  async finish(store?: StoreSnapshot): Promise<Finding[]> {
    if (store) this.#wide = storeWideOf(store);
    await this.#each("end", END, undefined);
    const findings: Finding[] = [];
    for (const running of this.#running) {
      // Array.prototype.sort is stable: one place keeps the report order.
      running.found.sort((a, b) => comparePlaces(a.place, b.place));
      for (const { finding } of running.found) findings.push(finding);
    }
    return findings;
  }

  /** Calls one visitor of every check that has it and has not failed. */
  async #each<K extends keyof Visitors>(
    name: K,
    place: Place,
    scope: Parameters<NonNullable<Visitors[K]>>[0],
  ): Promise<void> {
    for (const running of this.#running) {
      const visitor = running.visitors[name];
      if (!visitor || running.failed) continue;
      this.#place = place;
      this.#current = running;
      try {
        const done = (visitor as (s: typeof scope) => unknown).call(
          running.visitors,
          scope,
        );
        // Most visitors are synchronous: no await, no microtask each.
        if (done instanceof Promise) await done;
      } catch (error) {
        this.#fail(running, error);
      }
    }
    this.#current = null;
  }

  /** Runs the checks of the older shape over a part. */
  async #runWhole(part: StoreSnapshot): Promise<void> {
    for (const running of this.#running) {
      if (!running.check.run || running.check.create || running.failed) {
        continue;
      }
      let drafts: FindingDraft[];
      try {
        drafts = await running.check.run(part, this.#options);
        if (!Array.isArray(drafts)) {
          throw new TypeError("run() did not return a list of findings");
        }
      } catch (error) {
        this.#fail(running, error);
        continue;
      }
      this.#place = END;
      for (const draft of drafts) this.#report(running, draft);
    }
  }

  #contextOf(running: Running): CheckContext {
    // deno-lint-ignore no-this-alias
    const run = this;
    return {
      options: this.#options,
      get store(): StoreWide {
        if (!run.#wide) {
          throw new Error("the store is read only from visitors");
        }
        return run.#wide;
      },
      report(draft: FindingDraft) {
        if (running.failed) return;
        run.#report(running, draft);
      },
    };
  }

  #report(running: Running, draft: FindingDraft): void {
    const place = this.#current === running ? this.#place : END;
    const info = running.kinds.get(draft?.kind);
    if (
      !info || !Array.isArray(draft.paths) ||
      typeof draft.message !== "string"
    ) {
      running.found.push({
        finding: checkFailed(
          running.check.id,
          info
            ? `returned a malformed ${draft.kind} finding`
            : `returned the undeclared kind ${JSON.stringify(draft?.kind)}`,
        ),
        place,
      });
      return;
    }
    running.found.push({
      finding: toFinding(running.check.id, info, draft),
      place,
    });
  }

  /** A check threw: what it found is unknown, so it is one check_failed. */
  #fail(running: Running, error: unknown): void {
    running.failed = true;
    running.found = [{
      finding: checkFailed(running.check.id, errorText(error)),
      place: END,
    }];
  }
}

/** What no session owns, as a check's context gives it. */
function storeWideOf(store: StoreSnapshot): StoreWide {
  const { sessions: _sessions, temps: _temps, runJournals, ...wide } = store;
  return { ...wide, runJournalsRefused: runJournals?.refused ?? [] };
}

/**
 * Compares two places element by element; a place that is a prefix of the
 * other comes first, and a number before a string.
 *
 * @example
 * ```ts
 * import { comparePlaces } from "./check_engine.ts";
 * comparePlaces([1, "b"], [1, "a"]); // 1
 * comparePlaces([], [0]); // -1
 * ```
 */
export function comparePlaces(a: Place, b: Place): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (typeof x !== typeof y) return typeof x === "number" ? -1 : 1;
    if (x < y) return -1;
    if (x > y) return 1;
  }
  return a.length - b.length;
}
