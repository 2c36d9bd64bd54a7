/**
 * Check plugins. A check is a small object: metadata (id, title,
 * description, the kinds it reports) and one function from the store
 * snapshot to finding drafts. It never writes; a check that throws becomes a
 * `check_failed` finding and the run goes on.
 *
 * @example
 * ```ts
 * import { defineCheck } from "./check.ts";
 * export const untitled = defineCheck({
 *   id: "untitled-sessions",
 *   title: "Sessions without a title",
 *   description: "Reports sidecars whose title is empty.",
 *   kinds: [{
 *     kind: "untitled_session", category: "info", severity: "info",
 *     summary: "A session has no title.", explain: "Nothing is lost; set a title in the UI.",
 *   }],
 *   run(store) {
 *     return [...store.sessions.values()].flatMap((s) =>
 *       s.live?.read.ok && !s.live.read.value.meta.title
 *         ? [{ kind: "untitled_session", sessionId: s.sessionId, paths: [s.live.name],
 *              message: `${s.live.name} has no title.` }]
 *         : []
 *     );
 *   },
 * });
 * ```
 * @module
 */

import {
  type FindingDraft,
  type KindInfo,
  RESOLUTION_SOURCES,
} from "./finding.ts";
import type { StoreSnapshot } from "./snapshot.ts";

/**
 * Facts about the run that are not facts about the store.
 *
 * @example
 * ```ts
 * const options: CheckOptions = { now: Date.now(), serverStopped: false };
 * const drafts = await check.run(store, options);
 * ```
 */
export interface CheckOptions {
  /** Now, in ms since the epoch (the scan's start). */
  now: number;
  /** The operator says no Hermes WebUI server is running (`--server-stopped`). */
  serverStopped: boolean;
}

/**
 * A check plugin.
 *
 * @example
 * ```ts
 * const check: Check = defineCheck({
 *   id: "no-op",
 *   title: "Nothing",
 *   description: "Reports nothing.",
 *   kinds: [],
 *   run: () => [],
 * });
 * ```
 */
export interface Check {
  /** Stable id, kebab-case, used by `--check` and `--skip`. */
  id: string;
  /** A few words. */
  title: string;
  /** One or two sentences: what it looks at. */
  description: string;
  /** The kinds of finding it may report, with their metadata. */
  kinds: KindInfo[];
  /**
   * True when the check may run on part of the store at a time, which keeps
   * an audit's memory flat however many sessions there are. It promises:
   * what it reports about a session depends only on that session's files
   * and entries (its index entries, state.db rows, tombstone id and temps)
   * and on the files that are not a session's; and a finding that is not
   * in session-id order gives `order` (see {@linkcode FindingDraft}). A run
   * with any check without it keeps the whole store in memory.
   */
  partwise?: boolean;
  /** Looks at the snapshot and reports what is wrong. Must not write. */
  run(
    store: StoreSnapshot,
    options: CheckOptions,
  ): FindingDraft[] | Promise<FindingDraft[]>;
}

/**
 * Declares a check; returns it unchanged, typed, after checking that its
 * metadata is complete (so a malformed plugin fails when it is defined, not
 * in the middle of a run).
 *
 * @example
 * ```ts
 * const check = defineCheck({ id: "x", title: "X", description: "X.", kinds: [], run: () => [] });
 * ```
 */
export function defineCheck(check: Check): Check {
  if (!/^[a-z0-9]+(?:-[a-z0-9]+)*$/.test(check.id)) {
    throw new TypeError(
      `check id ${JSON.stringify(check.id)} must be kebab-case (a-z, 0-9, -)`,
    );
  }
  for (const info of check.kinds) {
    if (!/^[a-z0-9]+(?:_[a-z0-9]+)*$/.test(info.kind)) {
      throw new TypeError(
        `check ${check.id}: kind ${
          JSON.stringify(info.kind)
        } must be snake_case`,
      );
    }
    if (info.category === "repairable" && !info.repair) {
      throw new TypeError(
        `check ${check.id}: repairable kind ${info.kind} must name its repair`,
      );
    }
    const keeps = (info.resolutions ?? []).map((r) => r.keep);
    const odd = keeps.find((keep, i) =>
      !RESOLUTION_SOURCES.includes(keep) || keeps.indexOf(keep) !== i
    );
    if (odd !== undefined) {
      throw new TypeError(
        `check ${check.id}: kind ${info.kind} declares resolution ${
          JSON.stringify(odd)
        } twice or unknown (known: ${RESOLUTION_SOURCES.join(", ")})`,
      );
    }
  }
  if (typeof check.run !== "function") {
    throw new TypeError(`check ${check.id} has no run() function`);
  }
  return check;
}
