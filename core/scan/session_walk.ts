/**
 * The sessions of a store one at a time, in id order, from the sorted names
 * of the session dir and of the journal dir: a scan part by part makes each
 * session's files and scan task only when it gets there, instead of holding
 * a task for every session of the store.
 *
 * Why the names of one session are together in the sorted listing: every
 * file of session `<id>` is named `<id>.` and something (`<id>.json`,
 * `<id>.json.bak`, `<id>.tmp.<pid>.<tid>`, ...), and a valid id is made of
 * `[A-Za-z0-9_-]`. So `<a>.x` sorts before `<b>.y` whenever `<a>.` sorts
 * before `<b>.` (compareIds), whatever comes after the dot: all of a
 * session's names come before the next session's, in that order. The
 * journal files (`<id>.jsonl`, `<id>~<pid>.jsonl`) come grouped by session
 * in the same id order (core/journal/turn_journal_files.ts).
 *
 * @example
 * ```ts
 * import { SessionWalk, type JournalName } from "./session_walk.ts";
 * import type { StoreSnapshot } from "./store_snapshot.ts";
 * declare const names: string[];
 * declare const journals: JournalName[];
 * declare const store: StoreSnapshot;
 * const walk = new SessionWalk(names, journals, store.temps, () => true);
 * for (let s = walk.next(); s; s = walk.next()) console.log(s.sessionId, s.files);
 * ```
 * @module
 */

import type { TempFile } from "./store_snapshot.ts";
import type { ScanFile } from "./task.ts";
import { classifyName } from "../store/layout.ts";
import { compareIds } from "../store/session_id.ts";

/**
 * The `temps` of every session without any: one list, not one each. Checks
 * only read it.
 *
 * @example
 * ```ts
 * import { type WalkedSession, NO_TEMPS } from "./session_walk.ts";
 * declare const session: WalkedSession;
 * if (session.temps === NO_TEMPS) console.log("no temps");
 * ```
 */
export const NO_TEMPS = Object.freeze([]) as unknown as TempFile[];

/**
 * One session as the walk finds it.
 *
 * @example
 * ```ts
 * import { SessionWalk, type WalkedSession } from "./session_walk.ts";
 * declare const walk: SessionWalk;
 * const session: WalkedSession | null = walk.next();
 * ```
 */
export interface WalkedSession {
  /** Its id. */
  sessionId: string;
  /** The files the scan reads: its journal files first, then the session dir's. */
  files: ScanFile[];
  /** Its temps, in listing order ({@linkcode NO_TEMPS} when none). */
  temps: TempFile[];
}

/**
 * A journal of the journal dir.
 *
 * @example
 * ```ts
 * import type { JournalName } from "./session_walk.ts";
 * const journal: JournalName = { name: "_turn_journal/abc.jsonl", sessionId: "abc" };
 * ```
 */
export interface JournalName {
  /** Its path relative to the session dir. */
  name: string;
  /** The session it belongs to. */
  sessionId: string;
}

/**
 * Walks the sessions of sorted listings in id order.
 *
 * @example
 * ```ts
 * import { type JournalName, SessionWalk } from "./session_walk.ts";
 * import type { StoreSnapshot } from "./store_snapshot.ts";
 * declare const names: string[];
 * declare const journals: JournalName[];
 * declare const store: StoreSnapshot;
 * const walk = new SessionWalk(names, journals, store.temps, () => true);
 * walk.peekId(); // the next session's id, or null
 * ```
 */
export class SessionWalk {
  #names: readonly string[];
  #journals: readonly JournalName[];
  #temps: readonly TempFile[];
  #readsTemp: (temp: TempFile) => boolean;
  #name = 0;
  #journal = 0;
  #temp = 0;
  /** The session id of `#names[#name]`, once found. */
  #nameId: string | null | undefined;
  /** What `#names[#name]` is, once found. */
  #nameKind: ReturnType<typeof classifyName> | null = null;

  /**
   * `names`: the session dir's names, sorted; `journals`: sorted by id;
   * `temps`: the store's temps in listing order (a session's are attached
   * to it); `readsTemp`: whether the scan reads a temp.
   *
   * @example
   * ```ts
   * import { type JournalName, SessionWalk } from "./session_walk.ts";
   * import type { StoreSnapshot } from "./store_snapshot.ts";
   * import { SUMMARIZED_TEMP_ORIGINS } from "./snapshot.ts";
   * declare const names: string[];
   * declare const journals: JournalName[];
   * declare const store: StoreSnapshot;
   * new SessionWalk(names, journals, store.temps, (t) => SUMMARIZED_TEMP_ORIGINS.has(t.origin));
   * ```
   */
  constructor(
    names: readonly string[],
    journals: readonly JournalName[],
    temps: readonly TempFile[],
    readsTemp: (temp: TempFile) => boolean,
  ) {
    this.#names = names;
    this.#journals = journals;
    this.#temps = temps;
    this.#readsTemp = readsTemp;
  }

  /**
   * The next session's id, or null when there is none.
   *
   * @example
   * ```ts
   * import { SessionWalk } from "./session_walk.ts";
   * import { compareIds } from "../store/session_id.ts";
   * declare const walk: SessionWalk;
   * declare const end: string;
   * while (walk.peekId() !== null && compareIds(walk.peekId()!, end) < 0) walk.next();
   * ```
   */
  peekId(): string | null {
    const fromNames = this.#nextNameId();
    const fromJournals = this.#journals[this.#journal]?.sessionId ?? null;
    if (fromNames === null) return fromJournals;
    if (fromJournals === null) return fromNames;
    return compareIds(fromNames, fromJournals) < 0 ? fromNames : fromJournals;
  }

  /**
   * The next session, or null at the end.
   *
   * @example
   * ```ts
   * import { SessionWalk } from "./session_walk.ts";
   * declare const walk: SessionWalk;
   * const session = walk.next();
   * ```
   */
  next(): WalkedSession | null {
    const sessionId = this.peekId();
    if (sessionId === null) return null;
    const session: WalkedSession = { sessionId, files: [], temps: NO_TEMPS };
    // A session's journal files (shards and the legacy file) are next to
    // each other, in the order the server reads them.
    while (this.#journals[this.#journal]?.sessionId === sessionId) {
      const journal = this.#journals[this.#journal++];
      session.files.push({ name: journal.name, kind: "journal" });
    }
    while (this.#nextNameId() === sessionId) {
      const name = this.#names[this.#name];
      const kind = this.#nameKind!;
      if (kind.type === "temp") {
        const temp = this.#tempNamed(name);
        if (session.temps === NO_TEMPS) session.temps = [];
        session.temps.push(temp);
        if (this.#readsTemp(temp)) session.files.push({ name, kind: "temp" });
      } else if (kind.type === "sidecar" || kind.type === "backup") {
        session.files.push({ name, kind: kind.type });
      }
      this.#name++;
      this.#nameId = undefined;
    }
    return session;
  }

  /** The id of the next name that is a session's file, or null. */
  #nextNameId(): string | null {
    if (this.#nameId !== undefined) return this.#nameId;
    while (this.#name < this.#names.length) {
      const kind = classifyName(this.#names[this.#name]);
      this.#nameKind = kind;
      if (
        kind.type === "sidecar" || kind.type === "backup" ||
        (kind.type === "temp" && kind.sessionId !== undefined)
      ) {
        return this.#nameId = kind.sessionId!;
      }
      this.#name++;
    }
    return this.#nameId = null;
  }

  /** The temp of this name, from the store's list (in the same order). */
  #tempNamed(name: string): TempFile {
    while (this.#temps[this.#temp].name !== name) this.#temp++;
    return this.#temps[this.#temp++];
  }
}
