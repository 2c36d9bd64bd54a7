/**
 * Parts of a store: the snapshot restricted to a range of session ids, so
 * that checks can run on a few thousand sessions at a time and each part
 * can be dropped once checked. A part holds its sessions and, of everything
 * keyed by a session id, only what falls in its range: the index entries,
 * the state.db rows and ids, the tombstone ids, the temps, and the run
 * journals. Files that
 * are no session's (the index's shape, the tombstone's, the state.db's
 * health, invalid names, other entries, temps that name no session) are in
 * every part. So a check that reports something as absent ("listed but no
 * sidecar") sees a session's entries and files in the same part, and
 * reports each session once.
 *
 * The ranges cover every id: the first part starts before any id, each
 * part ends where the next one's first session starts, and the last has
 * no end. Parts are made in order, each at most once.
 *
 * @example
 * ```ts
 * import { StoreParts } from "./store_part.ts";
 * import type { StoreSnapshot, SessionFiles } from "./store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * declare const firstSessions: SessionFiles[];
 * declare const otherSessions: SessionFiles[];
 * const parts = new StoreParts(store);
 * const first = parts.next(firstSessions, "m"); // ids before "m"
 * const rest = parts.next(otherSessions, null); // every id from "m" on
 * ```
 * @module
 */

import type {
  IndexEntry,
  SessionFiles,
  StoreSnapshot,
  TempFile,
} from "./store_snapshot.ts";
import type { StateDbSessionRow } from "../state_db/state_db.ts";
import type { SessionRunJournal } from "./run_journal_scan.ts";
import { compareIds } from "../store/session_id.ts";

/**
 * Makes the parts of one store, in id order.
 *
 * @example
 * ```ts
 * import { StoreParts } from "./store_part.ts";
 * import type { StoreSnapshot } from "./store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * const parts = new StoreParts(store);
 * const part = parts.next([store.sessions.get("abc")!], null);
 * part.sessions.size; // 1
 * ```
 */
export class StoreParts {
  #whole: StoreSnapshot;
  #entries: PartSource<IndexEntry> | null = null;
  #tombstoneIds: Slicer<string> | null = null;
  #rows: PartSource<StateDbSessionRow> | null = null;
  #dbIds: PartSource<string> | null = null;
  #temps: Slicer<TempFile>;
  #runJournals: Slicer<SessionRunJournal> | null = null;
  /** Temps that name no session: in every part. */
  #storeTemps: TempFile[];
  /** Each temp's place in the whole list, to keep that order in a part. */
  #tempOrder: Map<TempFile, number>;

  /**
   * Takes the store's index, tombstone, state.db and temps as they are
   * now: they must be read before the first part is made. The index
   * entries and state.db rows come from `sources` when given (read a part
   * at a time), else from the snapshot.
   *
   * @example
   * ```ts
   * import { StoreParts } from "./store_part.ts";
   * import type { StoreSnapshot } from "./store_snapshot.ts";
   * declare const store: StoreSnapshot;
   * const parts = new StoreParts(store);
   * ```
   */
  constructor(whole: StoreSnapshot, sources: PartSources = {}) {
    this.#whole = whole;
    const index = whole.index?.read;
    if (sources.indexEntries) this.#entries = sources.indexEntries;
    else if (index?.ok) {
      this.#entries = new Slicer(index.value.entries, (e) => e.sessionId);
    }
    const tombstone = whole.tombstone?.read;
    if (tombstone?.ok) {
      this.#tombstoneIds = new Slicer([...tombstone.value.ids], (id) => id);
    }
    const db = whole.stateDb;
    if (sources.stateDb) {
      this.#rows = sources.stateDb.webuiRows;
      this.#dbIds = sources.stateDb.sessionIds;
    } else if (db.status === "ok") {
      this.#rows = new Slicer(db.webuiRows, (row) => row.id);
      this.#dbIds = new Slicer([...db.sessionIds], (id) => id);
    }
    if (whole.runJournals) {
      this.#runJournals = new Slicer(
        [...whole.runJournals.sessions.values()],
        (s) => s.sessionId,
      );
    }
    this.#tempOrder = new Map(whole.temps.map((temp, i) => [temp, i]));
    this.#storeTemps = whole.temps.filter((t) => t.sessionId === undefined);
    this.#temps = new Slicer(
      whole.temps.filter((t) => t.sessionId !== undefined),
      (t) => t.sessionId!,
    );
  }

  /**
   * The next part: `sessions` (in id order) and everything keyed by an id
   * below `end`, from where the last part ended; `end` null takes all the
   * rest.
   *
   * @example
   * ```ts
   * import { StoreParts } from "./store_part.ts";
   * import type { SessionFiles } from "./store_snapshot.ts";
   * declare const parts: StoreParts;
   * declare const sessions: SessionFiles[];
   * declare const nextPartsFirstId: string | null;
   * const part = parts.next(sessions, nextPartsFirstId);
   * ```
   */
  next(sessions: SessionFiles[], end: string | null): StoreSnapshot {
    const whole = this.#whole;
    const part: StoreSnapshot = {
      ...whole,
      sessions: new Map(sessions.map((s) => [s.sessionId, s])),
      temps: [...this.#storeTemps, ...this.#temps.take(end)]
        .sort((a, b) => this.#tempOrder.get(a)! - this.#tempOrder.get(b)!),
    };
    const index = whole.index;
    if (index?.read.ok && this.#entries) {
      const entries = this.#entries.take(end)
        .sort((a, b) => a.position - b.position);
      part.index = {
        ...index,
        read: { ...index.read, value: { ...index.read.value, entries } },
      };
    }
    const tombstone = whole.tombstone;
    if (tombstone?.read.ok && this.#tombstoneIds) {
      const ids = new Set(this.#tombstoneIds.take(end));
      part.tombstone = {
        ...tombstone,
        read: { ...tombstone.read, value: { ...tombstone.read.value, ids } },
      };
    }
    if (whole.runJournals && this.#runJournals) {
      part.runJournals = {
        ...whole.runJournals,
        sessions: new Map(
          this.#runJournals.take(end).map((s) => [s.sessionId, s]),
        ),
      };
    }
    const db = whole.stateDb;
    if (db.status === "ok" && this.#rows && this.#dbIds) {
      part.stateDb = {
        ...db,
        webuiRows: this.#rows.take(end)
          .sort((a, b) => a.position - b.position),
        sessionIds: new Set(this.#dbIds.take(end)),
      };
    }
    return part;
  }
}

/**
 * What a part is given of something keyed by a session id, a range at a
 * time, in id order: each call takes what is keyed below `end` (all the
 * rest for null) and was not taken before.
 *
 * @example
 * ```ts
 * import type { PartSource } from "./store_part.ts";
 * declare const ids: string[];
 * const source: PartSource<string> = { take: (end) => ids.filter((id) => end === null || id < end) };
 * ```
 */
export interface PartSource<T> {
  /** The next range's items. */
  take(end: string | null): T[];
}

/**
 * Where a part's index entries and state.db rows come from when they are
 * read a part at a time rather than held whole in the snapshot: each
 * `take` gives the next part's (parts in order; the `end` is theirs).
 *
 * @example
 * ```ts
 * import type { PartSource, PartSources } from "./store_part.ts";
 * import type { IndexEntry } from "./store_snapshot.ts";
 * import type { StateDbReader } from "../state_db/state_db.ts";
 * declare const indexParts: PartSource<IndexEntry>;
 * declare const reader: StateDbReader;
 * const sources: PartSources = { indexEntries: indexParts, stateDb: reader.parts };
 * ```
 */
export interface PartSources {
  /** The index entries (core/scan/index_scan.ts `IndexParts`). */
  indexEntries?: PartSource<IndexEntry>;
  /** The state.db rows (`parts` of core/state_db/state_db.ts's reader). */
  stateDb?: {
    webuiRows: PartSource<StateDbSessionRow>;
    sessionIds: PartSource<string>;
  };
}

/**
 * A list sorted by id, handed out a range at a time. The sort is by UTF-16
 * code units (`<`), the order of the snapshot's sessions.
 */
class Slicer<T> implements PartSource<T> {
  #items: T[];
  #idOf: (item: T) => string;
  #next = 0;

  constructor(items: readonly T[], idOf: (item: T) => string) {
    this.#idOf = idOf;
    // Stable: items of one id keep their order.
    this.#items = [...items].sort((a, b) => compareIds(idOf(a), idOf(b)));
  }

  /** The items from where the last range ended to before `end` (all, for null). */
  take(end: string | null): T[] {
    const start = this.#next;
    let stop = start;
    const items = this.#items;
    while (
      stop < items.length &&
      (end === null || compareIds(this.#idOf(items[stop]), end) < 0)
    ) stop++;
    this.#next = stop;
    return items.slice(start, stop);
  }
}
