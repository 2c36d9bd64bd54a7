/**
 * Actions: what a repair asks the safety layer to do, as data. A plan is a
 * list of actions, each with the state of the file it was planned on, so
 * `--dry-run` can print it and the safety layer can refuse it if the store
 * moved.
 *
 * @example
 * ```ts
 * import type { Action } from "./action.ts";
 * const create: Action = {
 *   op: "write",
 *   path: "abc.json",
 *   data: new TextEncoder().encode("{}"),
 *   expect: { exists: false },
 *   note: "materialize abc.json from state.db",
 * };
 * ```
 * @module
 */

/**
 * The state of a file an action was planned on.
 *
 * @example
 * ```ts
 * import type { Expectation } from "./action.ts";
 * const absent: Expectation = { exists: false };
 * ```
 */
export type Expectation =
  | { exists: false }
  | {
    exists: true;
    size: number;
    mtimeMs: number;
    ino: number;
    sha256: string;
  };

/**
 * One change to one file of the store.
 *
 * @example
 * ```ts
 * import type { Action } from "./action.ts";
 * const remove: Action = {
 *   op: "remove",
 *   path: "abc.tmp.1.2",
 *   expect: { exists: true, size: 10, mtimeMs: 0, ino: 1, sha256: "..." },
 *   note: "remove a stale temp",
 * };
 * ```
 */
export type Action =
  /**
   * Make `path` hold `data`: replace the file `expect` describes, or create
   * it (create-or-fail) when `expect.exists` is false.
   */
  | {
    op: "write";
    /** Path relative to the session dir. */
    path: string;
    data: Uint8Array;
    expect: Expectation;
    /** What it does, for people. */
    note: string;
    /**
     * The files `data` was made from, relative to the session dir or
     * absolute (state.db): the new file is made no more readable than the
     * most private of them and of the file it replaces.
     */
    sources?: readonly string[];
  }
  /** Move the file `expect` describes into the run's quarantine. */
  | {
    op: "remove";
    path: string;
    expect: Expectation & { exists: true };
    note: string;
  }
  /**
   * Add `data` at the end of the file `expect` describes, in place (same
   * inode, never a rename), under the advisory lock (flock) its other
   * writers take: for an append-only file another process may be appending
   * to, the turn journal. Applied only while the file is still exactly the
   * one planned on.
   */
  | {
    op: "append";
    path: string;
    data: Uint8Array;
    expect: Expectation & { exists: true };
    note: string;
  }
  /**
   * Cut the file `expect` describes back to `size` bytes, in place and
   * under its advisory lock; the cut bytes go to the run's quarantine.
   * Only `undo` plans it, to take back an append.
   */
  | {
    op: "truncate";
    path: string;
    size: number;
    expect: Expectation & { exists: true };
    note: string;
  };

/**
 * What became of one action.
 *
 * @example
 * ```ts
 * import type { Action, ActionOutcome } from "./action.ts";
 * import type { StoreWriter } from "../io/safety.ts";
 * declare const writer: StoreWriter;
 * declare const action: Action;
 * const outcome: ActionOutcome = await writer.apply(action);
 * if (outcome.status !== "applied") console.log(outcome.reason, outcome.detail);
 * ```
 */
export interface ActionOutcome {
  /** What happened: it was done, skipped on purpose, or failed. */
  status: "applied" | "skipped" | "failed";
  /**
   * Why it was skipped or failed: `store_changed` (the file is not what the
   * plan was made on), `exists` (create-or-fail found a file), `refused`
   * (confinement), `io_error`, `locked` (another process held the file's
   * advisory lock for longer than the wait).
   */
  reason?: "store_changed" | "exists" | "refused" | "io_error" | "locked";
  /** One sentence for a person. */
  detail?: string;
  /** Where the replaced or removed bytes were kept, relative to the session dir. */
  quarantined?: string;
}
