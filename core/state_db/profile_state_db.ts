/**
 * Each session's state.db is the one of its profile home (today's server,
 * `_get_profile_home`): the default home's for the default profile, and
 * `<base>/profiles/<name>/state.db` for a named one. The default home's db
 * is the snapshot's `stateDb`, read whole (or a part at a time); a named
 * profile's is opened the first time a session of that profile is looked
 * at, once per scan, and its rows are looked up by session id, so memory
 * stays flat however big it is. `--state-db` forces one file for every
 * session: then the snapshot has no `profileDbs` and all of this falls
 * back to `stateDb`.
 *
 * A named profile whose state.db does not exist has nothing to compare
 * with: its sessions are checked without state.db (the server reads no
 * rows for them either), never against another profile's rows.
 *
 * @example
 * ```ts
 * import { stateDbOf, webuiRowsOf } from "./profile_state_db.ts";
 * import type { StoreSnapshot } from "../scan/store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * const db = stateDbOf(store, store.sessions.get("abc"));
 * for (const { row, db } of webuiRowsOf(store)) console.log(db.path, row.id);
 * ```
 * @module
 */

import { join, relative, resolve } from "../io/path.ts";
import {
  namedProfileHome,
  profileOf,
  sessionProfile,
} from "../store/profile_home.ts";
import type {
  ProfileDbSet,
  ProfileStateDb,
  SessionFiles,
  StoreSnapshot,
} from "../scan/store_snapshot.ts";
import {
  openStateDb,
  type StateDb,
  type StateDbReader,
  type StateDbSessionRow,
} from "./state_db.ts";

export type { ProfileStateDb } from "../scan/store_snapshot.ts";

/**
 * The named profiles' state.dbs of one scan, each opened once.
 *
 * @example
 * ```ts
 * import { ProfileStateDbs } from "./profile_state_db.ts";
 * const dbs = new ProfileStateDbs("/root/.hermes", "/root/.hermes/state.db");
 * dbs.open("work")?.db.status; // "absent" when it has no state.db
 * dbs.close();
 * ```
 */
export class ProfileStateDbs implements ProfileDbSet {
  /** The base home, the one that holds `profiles/`. */
  readonly base: string;
  #defaultPath: string | null;
  /** By profile name; null when it is the default home's db. */
  #byProfile = new Map<string, ProfileStateDb | null>();
  /** By the real path of the db, so two names of one file share it. */
  #byPath = new Map<string, ProfileStateDb>();

  /**
   * Takes the base home (the one holding `profiles/`) and the default
   * home's state.db, which a profile whose home is the same dir uses.
   *
   * @example
   * ```ts
   * import { ProfileStateDbs } from "./profile_state_db.ts";
   * import { baseHermesHome } from "../store/profile_home.ts";
   * import { type EnvReader, defaultPaths } from "../store/default_paths.ts";
   * declare const env: EnvReader;
   * new ProfileStateDbs(baseHermesHome(env), defaultPaths(env).stateDb);
   * ```
   */
  constructor(base: string, defaultStateDb: string | null) {
    this.base = resolve(base);
    this.#defaultPath = defaultStateDb === null
      ? null
      : realPath(resolve(defaultStateDb));
  }

  /**
   * The state.db of a named profile, opened on first ask; null when it is
   * the default home's (a `HERMES_HOME` that is that profile's home).
   *
   * @example
   * ```ts
   * import { ProfileStateDbs } from "./profile_state_db.ts";
   * declare const dbs: ProfileStateDbs;
   * dbs.open("work");
   * ```
   */
  open(profile: string): ProfileStateDb | null {
    const known = this.#byProfile.get(profile);
    if (known !== undefined) return known;
    const entry = this.#openNew(profile);
    this.#byProfile.set(profile, entry);
    return entry;
  }

  #openNew(profile: string): ProfileStateDb | null {
    const home = namedProfileHome(this.base, profile);
    const path = join(home, "state.db");
    // As the server does, a profile dir that resolves outside profiles/ (a
    // link planted there) is not that profile's home.
    let realHome: string;
    try {
      realHome = Deno.realPathSync(home);
    } catch {
      // No such profile home (or one that cannot be looked at): nothing to
      // compare its sessions with.
      return { profile, db: { status: "absent", path, close() {} } };
    }
    const root = realPath(join(this.base, "profiles"));
    const inside = relative(root, realHome);
    if (inside.startsWith("..") || inside === "" || inside.includes("/")) {
      return {
        profile,
        db: {
          status: "unreadable",
          path,
          problem: "not_regular_file",
          detail: `is in a profile dir that resolves to ${realHome}, ` +
            `outside ${root}; the server does not use it either: make ` +
            `${home} a dir of its own`,
          close() {},
        },
      };
    }
    const real = realPath(join(realHome, "state.db"));
    if (real === this.#defaultPath) return null;
    const shared = this.#byPath.get(real);
    if (shared) return shared;
    const entry = { profile, db: openStateDb(path, { lookup: true }) };
    this.#byPath.set(real, entry);
    return entry;
  }

  /**
   * The dbs opened so far, each once, in the order they were opened.
   *
   * @example
   * ```ts
   * import { ProfileStateDbs } from "./profile_state_db.ts";
   * declare const dbs: ProfileStateDbs;
   * dbs.opened().map((e) => e.db.path);
   * ```
   */
  opened(): ProfileStateDb[] {
    const seen = new Set<ProfileStateDb>();
    for (const entry of this.#byProfile.values()) if (entry) seen.add(entry);
    return [...seen];
  }

  /**
   * Closes every db opened.
   *
   * @example
   * ```ts
   * import { ProfileStateDbs } from "./profile_state_db.ts";
   * declare const dbs: ProfileStateDbs;
   * dbs.close();
   * ```
   */
  close(): void {
    for (const entry of this.opened()) entry.db.close();
  }
}

/** The path with every link resolved, as far as it exists. */
function realPath(path: string): string {
  try {
    return Deno.realPathSync(path);
  } catch {
    return path;
  }
}

/**
 * The state.db a session is compared with: its profile's, else the
 * snapshot's `stateDb`.
 *
 * @example
 * ```ts
 * import { stateDbOf } from "./profile_state_db.ts";
 * import type { StoreSnapshot } from "../scan/store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * stateDbOf(store, store.sessions.get("abc")).status;
 * ```
 */
export function stateDbOf(
  store: StoreSnapshot,
  session: SessionFiles | undefined,
): StateDb {
  if (!store.profileDbs) return store.stateDb;
  const profile = sessionProfile(session);
  if (profile === null) return store.stateDb;
  return store.profileDbs.open(profile)?.db ?? store.stateDb;
}

/**
 * The named profiles' state.dbs the sessions of this snapshot (or part)
 * use, each once, in the order of the sessions.
 *
 * @example
 * ```ts
 * import { profileDbsOf } from "./profile_state_db.ts";
 * import type { StoreSnapshot } from "../scan/store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * for (const { profile, db } of profileDbsOf(store)) console.log(profile, db.status);
 * ```
 */
export function profileDbsOf(store: StoreSnapshot): ProfileStateDb[] {
  const dbs = store.profileDbs;
  if (!dbs) return [];
  const found = new Set<ProfileStateDb>();
  for (const session of store.sessions.values()) {
    const profile = sessionProfile(session);
    const entry = profile === null ? null : dbs.open(profile);
    if (entry) found.add(entry);
  }
  return [...found];
}

/**
 * A webui row and the readable state.db it is from.
 *
 * @example
 * ```ts
 * import { type ProfileRow, webuiRowsOf } from "./profile_state_db.ts";
 * import type { StoreSnapshot } from "../scan/store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * const { row, db }: ProfileRow = webuiRowsOf(store).next().value!;
 * ```
 */
export interface ProfileRow {
  /** The row. */
  row: StateDbSessionRow;
  /** Its db. */
  db: StateDbReader;
}

/**
 * The webui rows to compare with the sessions of a snapshot (or part):
 * the rows of `stateDb` but those of sessions of another profile, then
 * the row of each such session in its own profile's db. A row of a
 * session with no sidecar and no backup comes from `stateDb` (nothing
 * names its profile).
 *
 * @example
 * ```ts
 * import { webuiRowsOf } from "./profile_state_db.ts";
 * import type { StoreSnapshot } from "../scan/store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * for (const { row } of webuiRowsOf(store)) console.log(row.id, row.messageCount);
 * ```
 */
export function* webuiRowsOf(store: StoreSnapshot): Generator<ProfileRow> {
  const main = store.stateDb;
  if (main.status === "ok") {
    for (const row of main.webuiRows) {
      if (stateDbOf(store, store.sessions.get(row.id)) !== main) continue;
      yield { row, db: main };
    }
  }
  if (!store.profileDbs) return;
  for (const session of store.sessions.values()) {
    const db = stateDbOf(store, session);
    if (db === main || db.status !== "ok" || !db.lookup) continue;
    const row = db.lookup.webuiRow(session.sessionId);
    if (row) yield { row, db };
  }
}

/**
 * The webui row of one session in the db it is compared with, or null.
 *
 * @example
 * ```ts
 * import { webuiRowFor } from "./profile_state_db.ts";
 * import type { StoreSnapshot } from "../scan/store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * const found = webuiRowFor(store, "abc");
 * if (found) found.db.messagesFor(found.row);
 * ```
 */
export function webuiRowFor(
  store: StoreSnapshot,
  sessionId: string,
): ProfileRow | null {
  const db = stateDbOf(store, store.sessions.get(sessionId));
  if (db.status !== "ok") return null;
  const row = db.lookup
    ? db.lookup.webuiRow(sessionId)
    : db.webuiRows.find((r) => r.id === sessionId);
  return row ? { row, db } : null;
}

/**
 * The profile a sidecar rebuilt from a db should name: the named profile
 * whose db it is, or null for the default home's.
 *
 * @example
 * ```ts
 * import { profileOfDb } from "./profile_state_db.ts";
 * import type { StoreSnapshot } from "../scan/store_snapshot.ts";
 * import type { StateDb } from "./state_db.ts";
 * declare const store: StoreSnapshot;
 * declare const db: StateDb;
 * profileOfDb(store, db); // "work" for work's state.db
 * ```
 */
export function profileOfDb(store: StoreSnapshot, db: StateDb): string | null {
  const entry = store.profileDbs?.opened().find((e) => e.db === db);
  return entry ? profileOf(entry.profile) : null;
}
