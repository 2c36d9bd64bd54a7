/**
 * Check plugins, in the shape of ESLint's rules: a check declares its
 * kinds and, in `create(context)`, the visitors it wants; the engine
 * (core/plugins/check_engine.ts) walks the store once for every check, in parts
 * or whole, and calls each visitor with what it may look at. A check
 * never writes; one that throws becomes a `check_failed` finding and the
 * run goes on.
 *
 * A session visitor sees one session: its files, index entries, state.db
 * rows, temps and run journal, and nothing of any other session (its
 * {@linkcode SessionScope} is cut to that id). So a check needs no notion of
 * parts, and the engine may cut the store as memory demands. A finding
 * about the store as a whole is reported once, in `end()`.
 *
 * @example
 * ```ts
 * import { defineCheck } from "./check.ts";
 * export const untitled = defineCheck({
 *   id: "untitled-sessions",
 *   title: "Sessions without a title",
 *   description: "Reports sidecars whose title is empty.",
 *   kinds: {
 *     untitled_session: {
 *       category: "info", severity: "info",
 *       summary: "A session has no title.", explain: "Nothing is lost; set a title in the UI.",
 *     },
 *   },
 *   create: (context) => ({
 *     session({ sessionId, files: { live } }) {
 *       if (live?.read.ok && !live.read.value.meta.title) {
 *         context.report({ kind: "untitled_session", sessionId, paths: [live.name],
 *           message: `${live.name} has no title.` });
 *       }
 *     },
 *   }),
 * });
 * ```
 * @module
 */

import {
  type FindingDraft,
  type KindInfo,
  RESOLUTION_SOURCES,
} from "../report/finding.ts";
import type {
  IndexEntry,
  IndexSummary,
  ScannedFile,
  SessionFiles,
  StoreSnapshot,
  TempFile,
  TombstoneSummary,
} from "../scan/store_snapshot.ts";
import type { StateDbReader, StateDbSessionRow } from "../state_db/state_db.ts";
import type { SessionRunJournal } from "../scan/run_journal_scan.ts";
import type { RefusedRunJournalPath } from "../journal/run_journal_files.ts";

/**
 * Facts about the run that are not facts about the store.
 *
 * @example
 * ```ts
 * import type { CheckOptions } from "./check.ts";
 * const options: CheckOptions = { now: Date.now(), serverStopped: false };
 * ```
 */
export interface CheckOptions {
  /** Now, in ms since the epoch (the scan's start). */
  now: number;
  /** The operator says no Hermes WebUI server is running (`--server-stopped`). */
  serverStopped: boolean;
}

/**
 * The store cut down to one session id: its `sessions` holds that session
 * only (or none), and the index entries, tombstone ids, temps, run
 * journals and state.db rows and ids in it are that id's. What no session
 * owns (the index's shape, the tombstone's, state.db's health, invalid
 * names) is the store's. The store_facts helpers take it as a snapshot.
 *
 * @example
 * ```ts
 * import type { SessionScope, SessionStore } from "./check.ts";
 * declare const scope: SessionScope;
 * const store: SessionStore = scope.store;
 * store.sessions.size <= 1; // true
 * ```
 */
export type SessionStore = StoreSnapshot & {
  /** The one id this view holds, or null for a view of no session. */
  readonly onlySession: string | null;
};

/**
 * What a session visitor sees: one id and everything the store keys by it.
 * Called for every id a file, an index entry, a state.db webui row, a
 * tombstone entry, a temp or a run journal names, in id order.
 *
 * @example
 * ```ts
 * import type { SessionScope } from "./check.ts";
 * const visit = ({ sessionId, files, indexEntries }: SessionScope) =>
 *   console.log(sessionId, files.live?.name, indexEntries.length);
 * ```
 */
export interface SessionScope {
  /** The id. */
  readonly sessionId: string;
  /** Its files: live, backup, turn journal, temps (none may exist). */
  readonly files: SessionFiles;
  /** Its `_index.json` entries, in list order (usually none or one). */
  readonly indexEntries: readonly IndexEntry[];
  /** Its webui rows of the default state.db, newest first. */
  readonly stateDbRows: readonly StateDbSessionRow[];
  /** Its run journals, when it has some. */
  readonly runJournal: SessionRunJournal | undefined;
  /** The store cut down to this id, for the store_facts helpers. */
  readonly store: SessionStore;
}

/**
 * What a state.db row visitor sees: one webui row, the readable db it is
 * from (a named profile's for a session of that profile), and its session.
 * Rows are visited in the db's order (newest first).
 *
 * @example
 * ```ts
 * import type { RowScope } from "./check.ts";
 * const visit = ({ row, db }: RowScope) => console.log(row.id, db.path);
 * ```
 */
export interface RowScope {
  /** The row. */
  readonly row: StateDbSessionRow;
  /** Its db. */
  readonly db: StateDbReader;
  /** The session the row names. */
  readonly session: SessionScope;
}

/**
 * What a temp visitor sees: one temp file and the store cut down to the
 * session it names (to none, for a temp of the index). Temps are visited
 * by name.
 *
 * @example
 * ```ts
 * import type { TempScope } from "./check.ts";
 * const visit = ({ temp }: TempScope) => console.log(temp.name, temp.origin);
 * ```
 */
export interface TempScope {
  /** The temp. */
  readonly temp: TempFile;
  /** The store cut down to the temp's session. */
  readonly store: SessionStore;
}

/**
 * What a check's visitors may read of the store as a whole: the files no
 * session owns. Sessions, index entries, state.db rows and temps reach a
 * check only through its visitors.
 *
 * @example
 * ```ts
 * import type { CheckContext } from "./check.ts";
 * declare const context: CheckContext;
 * const shape = context.store.index?.read.ok && context.store.index.read.value.shape;
 * ```
 */
export type StoreWide =
  & Omit<
    StoreSnapshot,
    "sessions" | "temps" | "index" | "tombstone" | "runJournals"
  >
  & {
    /** `_index.json` without its entries (see {@linkcode SessionScope}). */
    index: ScannedFile<Omit<IndexSummary, "entries">> | null;
    /** The tombstone: whether it exists and can be trusted, not its ids. */
    tombstone: ScannedFile<Omit<TombstoneSummary, "ids">> | null;
    /** The paths under `_run_journal` refused, none a session's. */
    runJournalsRefused: readonly RefusedRunJournalPath[];
  };

/**
 * The visitors a check's `create` returns; each optional.
 *
 * @example
 * ```ts
 * import type { Visitors } from "./check.ts";
 * const visitors: Visitors = { session(s) {}, end() {} };
 * ```
 */
export interface Visitors {
  /** Each session id, in id order. */
  session?(scope: SessionScope): void | Promise<void>;
  /** Each webui row of state.db, newest first. */
  stateDbRow?(scope: RowScope): void | Promise<void>;
  /** Each temp file, by name. */
  temp?(scope: TempScope): void | Promise<void>;
  /** Once, after every other visitor: findings about the store as a whole. */
  end?(): void | Promise<void>;
}

/**
 * What `create` is given.
 *
 * @example
 * ```ts
 * import type { CheckContext } from "./check.ts";
 * const create = (context: CheckContext) => ({
 *   end() { if (!context.store.index) context.report({ kind: "no_index", paths: [], message: "No index." }); },
 * });
 * ```
 */
export interface CheckContext {
  /** Facts of the run: now, and whether the server is stopped. */
  readonly options: CheckOptions;
  /** What no session owns. */
  readonly store: StoreWide;
  /** Reports a finding; its kind must be one the check declares. */
  report(draft: FindingDraft): void;
}

/**
 * How a kind is declared in a check's `kinds` map: its metadata without
 * the name (the key) and without the repair (a repair's `fixes` name it;
 * see core/plugins/registry.ts).
 *
 * @example
 * ```ts
 * import type { KindSpec } from "./check.ts";
 * const spec: KindSpec = { category: "info", severity: "info", summary: "S.", explain: "E." };
 * ```
 */
export type KindSpec = Omit<KindInfo, "kind">;

/**
 * What a check is written as, for {@linkcode defineCheck}. `run` is the
 * shape before visitors (the whole store at once), kept so that older
 * TypeScript plugins still load: a run with such a check keeps the whole
 * store in memory.
 *
 * @example
 * ```ts
 * import type { CheckDefinition } from "./check.ts";
 * const definition: CheckDefinition = { id: "x", title: "X", description: "X.", kinds: {}, create: () => ({}) };
 * ```
 */
export interface CheckDefinition {
  /** Stable id, kebab-case, used by `--check` and `--skip`. */
  id: string;
  /** A few words. */
  title: string;
  /** One or two sentences: what it looks at. */
  description: string;
  /** Its kinds by name (or, in the older shape, a list). */
  kinds: Record<string, KindSpec> | KindInfo[];
  /** Makes the visitors for one run. */
  create?: (context: CheckContext) => Visitors;
  /**
   * @deprecated The shape before visitors: the whole store at once.
   * Use `create`.
   */
  run?(
    store: StoreSnapshot,
    options: CheckOptions,
  ): FindingDraft[] | Promise<FindingDraft[]>;
  /** @deprecated Ignored: every visitor check may run part by part. */
  partwise?: boolean;
}

/**
 * A check, as {@linkcode defineCheck} returns it: its kinds as a list, in
 * the order declared (with their repair once registered, see
 * core/plugins/registry.ts), and `create` or (older shape) `run`.
 *
 * @example
 * ```ts
 * import { type Check, defineCheck } from "./check.ts";
 * const check: Check = defineCheck({ id: "no-op", title: "Nothing", description: "Reports nothing.", kinds: {}, create: () => ({}) });
 * check.kinds; // []
 * ```
 */
export interface Check extends Omit<CheckDefinition, "kinds"> {
  /** The kinds of finding it may report, with their metadata. */
  kinds: KindInfo[];
}

/**
 * Declares a check: returns it with its kinds as a list, after checking
 * that its metadata is complete (so a malformed plugin fails when it is
 * defined, not in the middle of a run). Whether each kind's repair exists
 * is checked when checks and repairs are registered together.
 *
 * @example
 * ```ts
 * import { defineCheck } from "./check.ts";
 * const check = defineCheck({ id: "x", title: "X", description: "X.", kinds: {}, create: () => ({}) });
 * ```
 */
export function defineCheck(definition: CheckDefinition): Check {
  const check: Check = {
    ...definition,
    kinds: Array.isArray(definition.kinds)
      ? definition.kinds
      : Object.entries(definition.kinds ?? {}).map(([kind, spec]) => ({
        kind,
        ...spec,
      })),
  };
  if (!/^[a-z0-9]+(?:-[a-z0-9]+)*$/.test(check.id)) {
    throw new TypeError(
      `check id ${JSON.stringify(check.id)} must be kebab-case (a-z, 0-9, -)`,
    );
  }
  for (const info of check.kinds) checkKind(check.id, info);
  if (
    typeof check.create !== "function" && typeof check.run !== "function"
  ) {
    throw new TypeError(
      `check ${check.id} has neither create() nor run(); give it create(context) returning its visitors`,
    );
  }
  return check;
}

function checkKind(checkId: string, info: KindInfo): void {
  if (!/^[a-z0-9]+(?:_[a-z0-9]+)*$/.test(info.kind)) {
    throw new TypeError(
      `check ${checkId}: kind ${JSON.stringify(info.kind)} must be snake_case`,
    );
  }
  const keeps = (info.resolutions ?? []).map((r) => r.keep);
  const odd = keeps.find((keep, i) =>
    !RESOLUTION_SOURCES.includes(keep) || keeps.indexOf(keep) !== i
  );
  if (odd !== undefined) {
    throw new TypeError(
      `check ${checkId}: kind ${info.kind} declares resolution ${
        JSON.stringify(odd)
      } twice or unknown (known: ${RESOLUTION_SOURCES.join(", ")})`,
    );
  }
}
