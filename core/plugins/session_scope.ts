/**
 * The store, or one part of it, cut into one view per session id: what a
 * check's session visitor may see (core/plugins/check.ts `SessionScope`). Each
 * view holds one id's files, index entries, state.db rows and ids,
 * tombstone entry, temps and run journal, and the files no session owns;
 * never another session's. The ids are every id anything in the part
 * names, in id order.
 *
 * @example
 * ```ts
 * import { PartScopes } from "./session_scope.ts";
 * import type { StoreSnapshot } from "../scan/store_snapshot.ts";
 * declare const part: StoreSnapshot;
 * const scopes = new PartScopes(part);
 * for (const id of scopes.ids) console.log(scopes.scope(id).files.live?.name);
 * ```
 * @module
 */

import type { SessionScope, SessionStore } from "./check.ts";
import type {
  IndexEntry,
  SessionFiles,
  StoreSnapshot,
  TempFile,
} from "../scan/store_snapshot.ts";
import type { StateDbSessionRow } from "../state_db/state_db.ts";
import type { SessionRunJournal } from "../scan/run_journal_scan.ts";
import { compareIds } from "../store/session_id.ts";

const NO_ENTRIES: readonly IndexEntry[] = Object.freeze([]);
const NO_ROWS: readonly StateDbSessionRow[] = Object.freeze([]);
const NO_SESSIONS: ReadonlyMap<string, SessionFiles> = new Map();
const NO_IDS: ReadonlySet<string> = new Set();

/**
 * One part's session views.
 *
 * @example
 * ```ts
 * import { PartScopes } from "./session_scope.ts";
 * import type { StoreSnapshot } from "../scan/store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * const scopes = new PartScopes(store);
 * scopes.ids; // every id the store names, in id order
 * ```
 */
export class PartScopes {
  /** Every id the part names, in id order. */
  readonly ids: string[];
  /** Temps that name no session: the store's, in listing order. */
  readonly storeTemps: TempFile[] = [];
  #part: StoreSnapshot;
  #entries = new Map<string, IndexEntry[]>();
  #rows = new Map<string, StateDbSessionRow[]>();
  #temps = new Map<string, TempFile[]>();
  #dbIds: ReadonlySet<string> = NO_IDS;
  #tombstoneIds: ReadonlySet<string> = NO_IDS;
  #runJournals: ReadonlyMap<string, SessionRunJournal> = new Map();
  /** The part with every keyed thing emptied: the base of each view. */
  #empty: SessionStore;

  /**
   * Groups the part's keyed things by id.
   *
   * @example
   * ```ts
   * import { PartScopes } from "./session_scope.ts";
   * import type { StoreSnapshot } from "../scan/store_snapshot.ts";
   * declare const part: StoreSnapshot;
   * const scopes = new PartScopes(part);
   * ```
   */
  constructor(part: StoreSnapshot) {
    this.#part = part;
    const index = part.index?.read;
    if (index?.ok) {
      group(index.value.entries, (e) => e.sessionId, this.#entries);
    }
    const db = part.stateDb;
    if (db.status === "ok") {
      group(db.webuiRows, (row) => row.id, this.#rows);
      this.#dbIds = db.sessionIds;
    }
    const tombstone = part.tombstone?.read;
    if (tombstone?.ok) this.#tombstoneIds = tombstone.value.ids;
    if (part.runJournals) this.#runJournals = part.runJournals.sessions;
    for (const temp of part.temps) {
      if (temp.sessionId === undefined) this.storeTemps.push(temp);
    }
    group(
      part.temps.filter((t) => t.sessionId !== undefined),
      (t) => t.sessionId!,
      this.#temps,
    );
    const ids = new Set<string>(part.sessions.keys());
    for (const keys of [this.#entries, this.#rows, this.#temps]) {
      for (const id of keys.keys()) ids.add(id);
    }
    for (const id of this.#tombstoneIds) ids.add(id);
    for (const id of this.#runJournals.keys()) ids.add(id);
    this.ids = [...ids].sort(compareIds);
    this.#empty = this.#emptyView();
  }

  /**
   * The view of one id (one of {@linkcode ids}, or any other id, whose
   * view then holds nothing of its own).
   *
   * @example
   * ```ts
   * import { PartScopes } from "./session_scope.ts";
   * declare const scopes: PartScopes;
   * const { files, indexEntries } = scopes.scope("abc");
   * ```
   */
  scope(id: string): SessionScope {
    const found = this.#part.sessions.get(id);
    const files: SessionFiles = found ?? { sessionId: id, temps: [] };
    const entries = this.#entries.get(id);
    const rows = this.#rows.get(id);
    const runJournal = this.#runJournals.get(id);
    const store: SessionStore = {
      ...this.#empty,
      onlySession: id,
      sessions: found ? new Map([[id, found]]) : NO_SESSIONS as Map<
        string,
        SessionFiles
      >,
      temps: this.#temps.get(id) ?? [],
    };
    const part = this.#part;
    if (entries && part.index?.read.ok) {
      const read = part.index.read;
      store.index = {
        ...part.index,
        read: { ...read, value: { ...read.value, entries } },
      };
    }
    if (this.#tombstoneIds.has(id) && part.tombstone?.read.ok) {
      const read = part.tombstone.read;
      store.tombstone = {
        ...part.tombstone,
        read: { ...read, value: { ...read.value, ids: new Set([id]) } },
      };
    }
    const db = part.stateDb;
    if (db.status === "ok" && (rows || this.#dbIds.has(id))) {
      store.stateDb = {
        ...db,
        webuiRows: rows ?? [],
        sessionIds: this.#dbIds.has(id) ? new Set([id]) : new Set(),
      };
    }
    if (runJournal && part.runJournals) {
      store.runJournals = {
        ...part.runJournals,
        sessions: new Map([[id, runJournal]]),
      };
    }
    return {
      sessionId: id,
      files,
      indexEntries: entries ?? NO_ENTRIES,
      stateDbRows: rows ?? NO_ROWS,
      runJournal,
      store,
    };
  }

  /**
   * The view of no session: for a temp that names none.
   *
   * @example
   * ```ts
   * import { PartScopes } from "./session_scope.ts";
   * declare const scopes: PartScopes;
   * const store = scopes.noSession();
   * store.sessions.size; // 0
   * ```
   */
  noSession(): SessionStore {
    return this.#empty;
  }

  #emptyView(): SessionStore {
    const part = this.#part;
    const view: SessionStore = {
      ...part,
      onlySession: null,
      sessions: NO_SESSIONS as Map<string, SessionFiles>,
      temps: [],
    };
    if (part.index?.read.ok) {
      const read = part.index.read;
      view.index = {
        ...part.index,
        read: { ...read, value: { ...read.value, entries: [] } },
      };
    }
    if (part.tombstone?.read.ok) {
      const read = part.tombstone.read;
      view.tombstone = {
        ...part.tombstone,
        read: { ...read, value: { ...read.value, ids: new Set() } },
      };
    }
    const db = part.stateDb;
    if (db.status === "ok") {
      view.stateDb = { ...db, webuiRows: [], sessionIds: new Set() };
    }
    if (part.runJournals) {
      view.runJournals = { ...part.runJournals, sessions: new Map() };
    }
    return view;
  }
}

/** Appends each item to its id's list, keeping the items' order. */
function group<T>(
  items: readonly T[],
  idOf: (item: T) => string,
  into: Map<string, T[]>,
): void {
  for (const item of items) {
    const id = idOf(item);
    const list = into.get(id);
    if (list) list.push(item);
    else into.set(id, [item]);
  }
}
