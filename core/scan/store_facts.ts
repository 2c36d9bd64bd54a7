/**
 * Questions several checks ask of a snapshot, answered one way everywhere:
 * how many messages a file holds, whether state.db still knows a session,
 * whether a session was deleted on purpose.
 *
 * @example
 * ```ts
 * import { messageCountOf, deletion } from "./store_facts.ts";
 * import type { StoreSnapshot } from "./store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * const session = store.sessions.get("abc")!;
 * messageCountOf(session.live); // -1 when missing or unreadable
 * deletion(store, "abc"); // "deleted" | "not_deleted" | "unknown"
 * ```
 * @module
 */

import type { ScannedFile, SessionFiles, StoreSnapshot } from "./snapshot.ts";
import { tombstonedIds } from "./snapshot.ts";
import { stateDbOf } from "../state_db/profile_state_db.ts";
import type { SidecarSummary } from "../store/sidecar_summary.ts";

/**
 * The number of messages in a sidecar or backup as the server counts them:
 * -1 when the file is missing, unreadable, not an object, or its `messages`
 * is not a list.
 *
 * @example
 * ```ts
 * import { messageCountOf } from "./store_facts.ts";
 * messageCountOf(undefined); // -1
 * ```
 */
export function messageCountOf(
  file: ScannedFile<SidecarSummary> | undefined,
): number {
  return file?.read.ok ? file.read.value.messageCount : -1;
}

/**
 * The parsed summary of a file, or null when it could not be read.
 *
 * @example
 * ```ts
 * import { summaryOf } from "./store_facts.ts";
 * import type { SessionFiles } from "./store_snapshot.ts";
 * declare const session: SessionFiles;
 * summaryOf(session.live)?.meta.title;
 * ```
 */
export function summaryOf(
  file: ScannedFile<SidecarSummary> | undefined,
): SidecarSummary | null {
  return file?.read.ok ? file.read.value : null;
}

/**
 * Whether state.db still has a `sessions` row for the id. With no state.db,
 * or one without a `sessions.id` column, the answer is true (the server
 * fails open there, and so does this). With a state.db that exists but
 * cannot be read (locked, unreadable, a hot journal) the answer is null:
 * the server fails open there too, for availability, but an fsck must not,
 * since a session deleted before the delete tombstone existed would come
 * back.
 *
 * @example
 * ```ts
 * import { stateDbKnowsSession } from "./store_facts.ts";
 * import type { StoreSnapshot } from "./store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * const known = stateDbKnowsSession(store, "abc");
 * if (known === false) console.log("likely deleted");
 * if (known === null) console.log("cannot tell: state.db cannot be read");
 * ```
 */
export function stateDbKnowsSession(
  store: StoreSnapshot,
  sessionId: string,
): boolean | null {
  // The db of the session's profile (core/state_db/profile_state_db.ts).
  const db = stateDbOf(store, store.sessions.get(sessionId));
  if (db.status === "unreadable") return null;
  if (db.status !== "ok" || !db.sessionColumns.has("id")) return true;
  return db.lookup ? db.lookup.has(sessionId) : db.sessionIds.has(sessionId);
}

/**
 * Whether the durable tombstone says the session was deleted; `unknown` when
 * the tombstone exists but cannot be read.
 *
 * @example
 * ```ts
 * import { deletion } from "./store_facts.ts";
 * import type { StoreSnapshot } from "./store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * deletion(store, "abc") === "deleted"; // never resurrect it
 * ```
 */
export function deletion(
  store: StoreSnapshot,
  sessionId: string,
): "deleted" | "not_deleted" | "unknown" {
  const ids = tombstonedIds(store);
  if (ids === null) return "unknown";
  return ids.has(sessionId) ? "deleted" : "not_deleted";
}

/**
 * The sessions of a snapshot (or of a part of one) that have a live sidecar.
 *
 * @example
 * ```ts
 * import { liveSidecarCount } from "./store_facts.ts";
 * import type { StoreSnapshot } from "./store_snapshot.ts";
 * declare const part: StoreSnapshot;
 * liveSidecarCount(part); // 1000
 * ```
 */
export function liveSidecarCount(store: StoreSnapshot): number {
  let count = 0;
  for (const session of store.sessions.values()) if (session.live) count++;
  return count;
}

/**
 * Sidecars whose name carries an invalid id, which the server's audit
 * counts among the sessions.
 *
 * @example
 * ```ts
 * import { invalidSidecarNameCount } from "./store_facts.ts";
 * import type { StoreSnapshot } from "./store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * invalidSidecarNameCount(store); // 1 for a store with "bad id.json"
 * ```
 */
export function invalidSidecarNameCount(store: StoreSnapshot): number {
  let count = 0;
  for (const name of store.invalidNames) {
    if (name.source === "sidecar" && !name.name.startsWith(".")) count++;
  }
  return count;
}

/**
 * The session id a sidecar or backup names inside, when it is another
 * session's (a non-empty string that differs from the file's id); else
 * null. Such a file is never restored over this session.
 *
 * @example
 * ```ts
 * import { foreignSessionId } from "./store_facts.ts";
 * import type { SessionFiles } from "./store_snapshot.ts";
 * declare const session: SessionFiles;
 * foreignSessionId(session.backup, "abc"); // "xyz" when abc.json.bak says session_id "xyz"
 * ```
 */
export function foreignSessionId(
  file: ScannedFile<SidecarSummary> | undefined,
  sessionId: string,
): string | null {
  const inner = summaryOf(file)?.meta.session_id;
  return typeof inner === "string" && inner !== "" && inner !== sessionId
    ? inner
    : null;
}

/**
 * Why a journal's session exists nowhere, or null when something still
 * holds the session (or state.db, unreadable, cannot say). Run journals
 * are judged the same way (the run-journal-orphan check).
 *
 * @example
 * ```ts
 * import { orphanState } from "./store_facts.ts";
 * import type { StoreSnapshot } from "./store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * orphanState(store, store.sessions.get("abc") ?? { sessionId: "abc", temps: [] });
 * // { stateDb: "no state.db row", tombstoned: true }
 * ```
 */
export function orphanState(
  store: StoreSnapshot,
  session: SessionFiles,
): { stateDb: string; tombstoned: boolean } | null {
  if (session.live || session.backup) return null;
  const db = store.stateDb;
  let stateDb: string;
  if (db.status === "absent") stateDb = "no state.db";
  else if (db.status === "ok" && db.sessionColumns.has("id")) {
    if (db.sessionIds.has(session.sessionId)) return null;
    stateDb = "no state.db row";
  } else return null;
  return {
    stateDb,
    tombstoned: deletion(store, session.sessionId) === "deleted",
  };
}
