/**
 * Stores owned by another user, for the tests that run the CLI as root on
 * them (ownership, the privilege drop and its attacks): the session dir
 * given away, and the way to it and to state.db opened to that user, as an
 * operator must (the CLI runs as the store's owner).
 *
 * @example
 * ```ts
 * import { giveStoreAway } from "./owner_support.ts";
 * await giveStoreAway(store, 1000, 1000, { "abc.json": 0o600 });
 * ```
 * @module
 */

import { join } from "node:path";
import type { StorePaths } from "./safety_support.ts";

export { IS_ROOT } from "./cli_deno.ts";

/**
 * Chowns the session dir's tree to `uid`:`gid` (dirs 0750, files 0640
 * unless `modes` says, by path relative to the session dir), and lets
 * that user reach it and read state.db: the store's root dir 0755.
 */
export async function giveStoreAway(
  store: StorePaths,
  uid: number,
  gid: number,
  modes: Record<string, number> = {},
): Promise<void> {
  await Deno.chmod(store.root, 0o755);
  await giveTree(store.sessionDir, uid, gid, modes, "");
}

async function giveTree(
  dir: string,
  uid: number,
  gid: number,
  modes: Record<string, number>,
  rel: string,
): Promise<void> {
  await Deno.chown(dir, uid, gid);
  await Deno.chmod(dir, 0o750);
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    const childRel = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.isDirectory) await giveTree(path, uid, gid, modes, childRel);
    else {
      await Deno.chown(path, uid, gid);
      await Deno.chmod(path, modes[childRel] ?? 0o640);
    }
  }
}
