/**
 * A check that looks at each state.db the store's sessions use: the
 * default home's, and each named profile's (core/state_db/profile_state_db.ts),
 * which only the sessions name.
 *
 * @example
 * ```ts
 * import { stateDbsInUse } from "./state_dbs_in_use.ts";
 * import type { CheckContext } from "../plugins/check.ts";
 * import type { StateDb } from "./state_db.ts";
 * import type { FindingDraft } from "../report/finding.ts";
 * declare function healthOf(db: StateDb): FindingDraft[];
 * const create = (context: CheckContext) => stateDbsInUse(context, healthOf);
 * ```
 * @module
 */

import type { CheckContext, Visitors } from "../plugins/check.ts";
import type { FindingDraft } from "../report/finding.ts";
import type { StateDb } from "./state_db.ts";
import { profileDbsOf } from "./profile_state_db.ts";

/**
 * The visitors of a check that looks at each state.db the store's
 * sessions use, once, at the end: the default home's, then each named
 * profile's in the order its first session came.
 *
 * @example
 * ```ts
 * import { stateDbsInUse } from "./state_dbs_in_use.ts";
 * import type { StateDb } from "./state_db.ts";
 * import type { CheckContext } from "../plugins/mod.ts";
 * import type { FindingDraft } from "../report/finding.ts";
 * declare const context: CheckContext;
 * declare function draftFor(db: StateDb): FindingDraft;
 * const visitors = stateDbsInUse(context, (db) => db.status === "ok" ? [] : [draftFor(db)]);
 * ```
 */
export function stateDbsInUse(
  context: CheckContext,
  draftsOf: (db: StateDb) => FindingDraft[],
): Visitors {
  const used = new Set<StateDb>();
  return {
    session({ store }) {
      for (const entry of profileDbsOf(store)) used.add(entry.db);
    },
    end() {
      for (const db of [context.store.stateDb, ...used]) {
        for (const draft of draftsOf(db)) context.report(draft);
      }
    },
  };
}
