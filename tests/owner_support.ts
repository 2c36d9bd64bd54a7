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
import { TestStore } from "./fixtures.ts";
import { CLI_DENO, IS_ROOT as IS_ROOT_NOW } from "./cli_deno.ts";

export { IS_ROOT } from "./cli_deno.ts";

/**
 * Starts `script` (JavaScript, under `deno eval`) as `uid`:`gid`, silently:
 * the store's owner doing what it likes beside a run.
 *
 * @example
 * ```ts
 * const child = spawnAs('Deno.writeTextFileSync("/tmp/x", "")', 1000, 1000);
 * await child.status;
 * ```
 */
export function spawnAs(
  script: string,
  uid: number,
  gid: number,
): Deno.ChildProcess {
  return new Deno.Command(CLI_DENO, {
    args: ["eval", script],
    uid,
    gid,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
}

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

/** Mounts each writable dir on itself, then the root read-only, then runs. */
const READ_ONLY_ROOT_SCRIPT = `
n=$1; shift
i=0
while [ "$i" -lt "$n" ]; do
  mount --bind "$1" "$1" || exit 125
  shift; i=$((i + 1))
done
mount -o remount,bind,ro / || exit 125
exec "$@"`;

/**
 * The command and arguments that run `command` as `uid`:`gid` (no other
 * groups) in a mount namespace of its own whose root filesystem is
 * read-only, only the `writable` dirs (volumes) left writable: a pod with
 * `readOnlyRootFilesystem` and `runAsUser`. Needs root and `unshare`,
 * `setpriv` (util-linux); see {@linkcode canMountReadOnlyRoot}.
 *
 * @example
 * ```ts
 * const [cmd, ...args] = readOnlyRoot(["/srv/volume"], 1000, 1000, ["sh", "init.sh"]);
 * await new Deno.Command(cmd, { args }).output();
 * ```
 */
export function readOnlyRoot(
  writable: string[],
  uid: number,
  gid: number,
  command: string[],
): string[] {
  return [
    "unshare",
    "--mount",
    "--propagation",
    "private",
    "sh",
    "-c",
    READ_ONLY_ROOT_SCRIPT,
    "sh",
    String(writable.length),
    ...writable,
    "setpriv",
    `--reuid=${uid}`,
    `--regid=${gid}`,
    "--clear-groups",
    ...command,
  ];
}

/**
 * Whether {@linkcode readOnlyRoot} works here: root, `unshare` and
 * `setpriv` present, and mounts allowed (a container without
 * CAP_SYS_ADMIN refuses them); the reason when not.
 *
 * @example
 * ```ts
 * const why = await canMountReadOnlyRoot();
 * if (why !== null) console.log(`skipped: ${why}`);
 * ```
 */
export async function canMountReadOnlyRoot(): Promise<string | null> {
  if (!IS_ROOT_NOW) return "not root: mount namespaces need root";
  const [cmd, ...args] = readOnlyRoot([], 0, 0, ["true"]);
  try {
    const out = await new Deno.Command(cmd, {
      args,
      stdout: "null",
      stderr: "piped",
    }).output();
    return out.success
      ? null
      : `unshare failed: ${new TextDecoder().decode(out.stderr).trim()}`;
  } catch (error) {
    return `unshare or setpriv missing: ${(error as Error).message}`;
  }
}

/**
 * Runs `fn` on a store `uid`:`gid` owns (session dir and hermes home) in
 * a new dir everyone may enter (`top`, removed after), with one sidecar
 * wiped to 1 message beside a backup of 30: repairable.
 *
 * @example
 * ```ts
 * await withWipedStoreOf(1000, 1000, async (store, top) => {
 *   // run the CLI as root on store.sessionDir
 * });
 * ```
 */
export async function withWipedStoreOf(
  uid: number,
  gid: number,
  fn: (store: TestStore, top: string) => Promise<void>,
): Promise<void> {
  const top = await Deno.makeTempDir({ prefix: "hermes-fsck-owned-" });
  try {
    await Deno.chmod(top, 0o755);
    const store = await TestStore.create(top);
    await store.sidecar("wiped", { messages: 1 });
    await store.backup("wiped", { messages: 30 });
    await giveStoreAway(store, uid, gid);
    await Deno.chown(store.hermesHome, uid, gid);
    await fn(store, top);
  } finally {
    await Deno.remove(top, { recursive: true });
  }
}
