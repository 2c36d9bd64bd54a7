/**
 * Whose rights a run as root should act with on a session dir. Whoever
 * can change a dir on the way to the store (its owner, or anyone when it
 * is writable by group or others without the sticky bit) can swap what
 * follows it for a link to any file on the system; root acting there
 * would reach that file. So root acts as that user instead: then a swap
 * reaches only what that user could reach anyway.
 *
 * Only the path is looked at (lstat, from `/` down to the session dir,
 * along the path as given and along its real path, and the tool's and the
 * journal's dirs inside it): nothing in the store is read.
 *
 * @example
 * ```ts
 * import { storeOwner } from "./store_owner.ts";
 * const owner = await storeOwner("/srv/sessions");
 * if (owner.kind === "user") console.log(`act as ${owner.uid}:${owner.gid}`);
 * ```
 * @module
 */

import { dirname, join, resolve } from "./path.ts";
import { JOURNAL_DIR } from "../store/layout.ts";

/**
 * Whom to act as: `root` (every part is root's and closed to others),
 * `user` (the one non-root user who can change a part), or `refused`
 * (two users could, or a root-owned part is open to anyone), with a
 * message that names the part and what to do.
 *
 * @example
 * ```ts
 * import type { StoreOwner } from "./store_owner.ts";
 * const owner: StoreOwner = { kind: "user", uid: 1000, gid: 1000, path: "/srv/sessions" };
 * ```
 */
export type StoreOwner =
  | { kind: "root" }
  | { kind: "user"; uid: number; gid: number; path: string }
  | { kind: "refused"; message: string };

/** Dirs inside the session dir the tool writes into. */
const INNER = ["_hermes_fsck", "_hermes_fsck/runs", JOURNAL_DIR];

/**
 * Decides whose rights to act with on `sessionDir`. A path that does not
 * exist (yet) decides nothing: `root`, and the command reports it.
 *
 * @example
 * ```ts
 * import { storeOwner } from "./store_owner.ts";
 * await storeOwner("/srv/sessions"); // { kind: "user", uid: 1000, gid: 1000, path: "/srv/sessions" }
 * ```
 */
export async function storeOwner(sessionDir: string): Promise<StoreOwner> {
  const given = resolve(sessionDir);
  const real = await Deno.realPath(given).catch(() => null);
  if (real === null) return { kind: "root" };
  const paths = new Set([...chain(given), ...chain(real)]);
  for (const inner of INNER) paths.add(join(real, inner));
  const users = new Map<
    number,
    { gid: number; path: string; depth: number }
  >();
  const open: string[] = [];
  for (const path of paths) {
    const info = await Deno.lstat(path).catch(() => null);
    if (info === null || info.uid === null || info.gid === null) continue;
    if (info.uid !== 0) {
      // A user's highest part is named; the session dir's group is taken
      // when it is theirs, else that of their deepest part.
      const known = users.get(info.uid) ??
        { gid: info.gid, path, depth: -1 };
      if (path.length < known.path.length) known.path = path;
      const depth = path === real ? Infinity : path.length;
      if (depth > known.depth) {
        known.gid = info.gid;
        known.depth = depth;
      }
      users.set(info.uid, known);
    } else if (
      info.isDirectory && info.mode !== null && (info.mode & 0o022) !== 0 &&
      (info.mode & 0o1000) === 0
    ) {
      open.push(`${path} (mode ${(info.mode & 0o7777).toString(8)})`);
    }
  }
  if (users.size > 1) {
    const parts = [...users].map(([uid, { path }]) => `${path} (uid ${uid})`);
    return {
      kind: "refused",
      message: `the path to the session dir ${real} has parts owned by ` +
        `different users: ${parts.join(", ")}; each could redirect the ` +
        `other's files, so hermes-fsck will not act as either: give them ` +
        `one owner (chown) and run again`,
    };
  }
  const [user] = users;
  if (user) {
    return { kind: "user", uid: user[0], gid: user[1].gid, path: real };
  }
  if (open.length > 0) {
    return {
      kind: "refused",
      message:
        `${
          open.join(", ")
        } on the path to the session dir ${real} can be changed by other ` +
        `users (writable by group or others, no sticky bit), who could ` +
        `redirect what hermes-fsck writes as root; chmod go-w it, or chown ` +
        `the session dir to the server's user, and run again`,
    };
  }
  return { kind: "root" };
}

/** `/`, then each dir down to `path`, then `path`. */
function chain(path: string): string[] {
  const out: string[] = [];
  for (let at = path;; at = dirname(at)) {
    out.unshift(at);
    if (dirname(at) === at) return out;
  }
}
