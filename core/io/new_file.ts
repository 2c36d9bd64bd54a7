/**
 * Creating files and dirs of the store without following links. The store's
 * owner may swap any name for a symlink at any instant, so a file is
 * created with `O_CREAT|O_EXCL|O_NOFOLLOW` and given its mode and owner on
 * the open descriptor (fchmod, fchown), never by path; a dir of the tool's
 * own is opened `O_DIRECTORY|O_NOFOLLOW` and checked and chowned on its
 * descriptor.
 *
 * A new file's look (mode, owner, group) is that of the file it replaces,
 * or the session dir's without execute bits, made as private as the most
 * private file its bytes came from: a 0600 backup restored over a 0644
 * file gives 0600.
 *
 * @example
 * ```ts
 * import { createNoFollow, lookOf } from "./new_file.ts";
 * const look = await lookOf("/srv/sessions/abc.json", ["/srv/sessions/abc.json.bak"]);
 * await createNoFollow("/srv/sessions/abc.json.tmp.1", new Uint8Array(), look);
 * ```
 * @module
 */

import type { FileHandle } from "node:fs/promises";
import { type Fs, loadNodeFs } from "./node_fs.ts";

/**
 * The mode, owner and group a new file gets; null fields are left as
 * created (0600, the running user).
 *
 * @example
 * ```ts
 * import type { FileLook } from "./new_file.ts";
 * const look: FileLook = { mode: 0o600, uid: 1000, gid: 1000 };
 * ```
 */
export interface FileLook {
  /** Permission bits. */
  mode: number | null;
  /** Owner. */
  uid: number | null;
  /** Group. */
  gid: number | null;
}

/** Owner read and write only: what a source that cannot be seen counts as. */
const PRIVATE = 0o600;

/**
 * The look of a file written at a place whose `reference` is the file it
 * replaces (or its dir, for a new file: then no execute bits), made no more
 * readable than any of `sources`, the files its bytes came from (absolute
 * paths). Nothing is followed: a reference that is a symlink or neither a
 * file nor a dir gives no look, and a source that is not a regular file
 * counts as 0600.
 *
 * @example
 * ```ts
 * import { lookOf } from "./new_file.ts";
 * const look = await lookOf("/srv/sessions", ["/root/.hermes/state.db"]);
 * ```
 */
export function lookOf(
  reference: string,
  sources: readonly string[] = [],
): Promise<FileLook> {
  // Synchronous: an lstat costs less than a hop to the I/O threads.
  const ref = lstatOrNull(reference);
  const plain = ref !== null && (ref.isFile || ref.isDirectory);
  // A dir's mode has execute bits a file must not get.
  let mode = !plain || ref.mode === null
    ? null
    : ref.isDirectory
    ? ref.mode & 0o666
    : ref.mode & 0o7777;
  if (mode !== null) {
    for (const source of sources) {
      const info = lstatOrNull(source);
      const bits = info?.isFile && info.mode !== null
        ? info.mode & 0o777
        : PRIVATE;
      mode &= 0o7000 | bits;
    }
  }
  return Promise.resolve({
    mode,
    uid: plain ? ref.uid : null,
    gid: plain ? ref.gid : null,
  });
}

function lstatOrNull(path: string): Deno.FileInfo | null {
  try {
    return Deno.lstatSync(path);
  } catch {
    return null;
  }
}

/**
 * Creates `path` (create-or-fail, never through a symlink), writes `data`,
 * gives it `look` on the descriptor and fsyncs it. A partial file is
 * removed when writing fails. Throws `Deno.errors.AlreadyExists` when the
 * name is taken (by anything, a symlink included).
 *
 * @example
 * ```ts
 * import { type FileLook, createNoFollow } from "./new_file.ts";
 * declare const look: FileLook;
 * await createNoFollow("/srv/sessions/x.tmp", new TextEncoder().encode("{}"), look);
 * ```
 */
export async function createNoFollow(
  path: string,
  data: Uint8Array,
  look: FileLook | null,
): Promise<void> {
  // Synchronous but for the fsync: a repair writes its files many at once
  // so their fsyncs are committed together, and there each hop to the I/O
  // threads for an open, write, chmod or close costs more than the call.
  const fs = await loadNodeFs();
  const { constants } = fs;
  let fd: number;
  try {
    fd = fs.openSync(
      path,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL |
        constants.O_NOFOLLOW,
      PRIVATE,
    );
  } catch (error) {
    if ((error as { code?: string }).code === "EEXIST") {
      throw new Deno.errors.AlreadyExists(`${path} exists`, { cause: error });
    }
    throw error;
  }
  try {
    let written = 0;
    while (written < data.length) {
      written += fs.writeSync(fd, data, written, data.length - written);
    }
    if (look) giveLookSync(fs, fd, look);
    await new Promise<void>((resolve, reject) =>
      fs.fsync(fd, (error) => error ? reject(error) : resolve())
    );
  } catch (error) {
    // A full disk leaves a partial file: it is ours (created new), and
    // keeping it would only take space the store needs.
    try {
      fs.closeSync(fd);
    } catch { /* it is removed next */ }
    await Deno.remove(path).catch(() => {});
    throw error;
  }
  fs.closeSync(fd);
}

/** {@linkcode giveLook} on a descriptor, synchronously. */
function giveLookSync(fs: Fs, fd: number, look: FileLook): void {
  if (look.mode !== null) {
    try {
      fs.fchmodSync(fd, look.mode);
    } catch { /* as giveLook: the file keeps 0600 */ }
  }
  if (look.uid === null || look.gid === null) return;
  const now = fs.fstatSync(fd);
  if (now.uid !== look.uid || now.gid !== look.gid) {
    try {
      fs.fchownSync(fd, look.uid, look.gid);
    } catch { /* as giveLook */ }
  }
}

/**
 * Gives an open file or dir `look`, on its descriptor. The owner is
 * changed only where it differs (only root may give a file away; the
 * store's owner needs no change), and a refused change is left alone: the
 * file stays the running user's, 0600.
 *
 * @example
 * ```ts
 * import { giveLook } from "./new_file.ts";
 * import type { FileHandle } from "node:fs/promises";
 * declare const handle: FileHandle;
 * await giveLook(handle, { mode: 0o640, uid: 1000, gid: 1000 });
 * ```
 */
export async function giveLook(
  handle: FileHandle,
  look: FileLook,
): Promise<void> {
  if (look.mode !== null) await handle.chmod(look.mode).catch(() => {});
  if (look.uid === null || look.gid === null) return;
  const now = await handle.stat();
  if (now.uid !== look.uid || now.gid !== look.gid) {
    await handle.chown(look.uid, look.gid).catch(() => {});
  }
}

/**
 * Opens `path` as a dir, never one reached through a symlink in its last
 * component; null when it is a symlink, not a dir, missing, or swapped
 * meanwhile. The caller closes it.
 *
 * `O_NOFOLLOW` alone is not enough: under granular permissions (the
 * binary's), Deno resolves the path for its permission check and opens
 * the resolved one, following a link. So the name is lstat'ed first and
 * the open dir must be that same dir (device and inode).
 *
 * @example
 * ```ts
 * import { openDirNoFollow } from "./new_file.ts";
 * const dir = await openDirNoFollow("/srv/sessions/_turn_journal");
 * if (dir === null) console.log("not a plain dir");
 * else await dir.close();
 * ```
 */
export async function openDirNoFollow(
  path: string,
): Promise<FileHandle | null> {
  const named = await Deno.lstat(path).catch(() => null);
  if (named === null || !named.isDirectory) return null;
  const { constants } = await loadNodeFs();
  return await openSame(
    path,
    constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW,
    named,
  );
}

/**
 * Opens `path` with `flags` (`O_NOFOLLOW` added) when what it opens is
 * the file `identity` describes (its device and inode, from an lstat or
 * from a descriptor held already); else null. The caller closes it.
 *
 * @example
 * ```ts
 * import { openSame } from "./new_file.ts";
 * import { constants } from "node:fs";
 * declare const path: string;
 * const same = await openSame(path, constants.O_RDONLY, await Deno.lstat(path));
 * ```
 */
export async function openSame(
  path: string,
  flags: number,
  identity: { dev: number; ino: number | null },
): Promise<FileHandle | null> {
  const fs = await loadNodeFs();
  let handle: FileHandle;
  try {
    handle = await fs.promises.open(path, flags | fs.constants.O_NOFOLLOW);
  } catch {
    return null;
  }
  const opened = await handle.stat().catch(() => null);
  if (
    opened === null || Number(opened.dev) !== identity.dev ||
    Number(opened.ino) !== identity.ino
  ) {
    await handle.close();
    return null;
  }
  return handle;
}

/**
 * Gives `file`, open at `path`, `look`: on a second descriptor of the same
 * file (Deno's files cannot be chmodded), never on what a link swapped in
 * at `path` points to.
 *
 * @example
 * ```ts
 * import { giveLookOf, lookOf } from "./new_file.ts";
 * declare const file: Deno.FsFile;
 * await giveLookOf(file, "/srv/sessions/_hermes_fsck.lock.tmp", await lookOf("/srv/sessions"));
 * ```
 */
export async function giveLookOf(
  file: Deno.FsFile,
  path: string,
  look: FileLook,
): Promise<void> {
  const { constants } = await loadNodeFs();
  const handle = await openSame(path, constants.O_RDONLY, await file.stat());
  if (handle === null) return; // swapped: it keeps 0600 and this user
  try {
    await giveLook(handle, look);
  } finally {
    await handle.close();
  }
}
