/**
 * The repair lock's file, at the level of files: made create-or-fail (or
 * renamed over a stale one) already holding an exclusive advisory lock
 * (flock), opened when it already exists without following it or waiting
 * on it, and removed only while it is still the file this process holds.
 * The session dir belongs to a user who may swap any name in it at any
 * instant, so every step checks, on an open descriptor, that the file it
 * acts on is the one it looked at.
 *
 * @example
 * ```ts
 * import { createLockFile, removeLockFile } from "./lock_file.ts";
 * const held = await createLockFile("/srv/sessions/_hermes_fsck.lock", "{}\n");
 * if (held) await removeLockFile("/srv/sessions/_hermes_fsck.lock", held);
 * ```
 * @module
 */

import { dirname } from "./path.ts";
import { openRegularFile } from "./file_read.ts";
import { randomHex } from "./hash.ts";
import { giveLookOf, lookOf } from "./new_file.ts";
import { fsyncDir, ioHint } from "./safety.ts";

/** The most of a lock file that is read: a lock record is a short line. */
export const LOCK_RECORD_MAX_BYTES = 4096;

/**
 * A lock file this process holds: open, and locked with flock unless the
 * filesystem has no advisory locks (`advisory` false).
 *
 * @example
 * ```ts
 * import { type HeldLockFile, createLockFile } from "./lock_file.ts";
 * declare const path: string;
 * const held: HeldLockFile | null = await createLockFile(path, "{}\n");
 * if (held && !held.advisory) console.error("no flock here");
 * ```
 */
export interface HeldLockFile {
  /** The open file; the flock lasts until it is closed or the process dies. */
  file: Deno.FsFile;
  /** Its fstat, to know it by inode later. */
  info: Deno.FileInfo;
  /** False when the filesystem refused the flock (ENOLCK, ENOTSUP). */
  advisory: boolean;
}

/**
 * Makes the lock file, already locked: the record is written and locked
 * under a temp name, given the session dir's owner and mode through its
 * descriptor, fsynced, then linked into place create-or-fail (null when
 * the name is taken), or with `replace` renamed over what is there (for a
 * takeover, while this process holds the flock of the stale file). So no
 * other process ever sees the lock unlocked while its maker lives.
 *
 * @example
 * ```ts
 * import { createLockFile } from "./lock_file.ts";
 * const held = await createLockFile("/srv/sessions/_hermes_fsck.lock", "{}\n");
 * if (held === null) console.log("someone else's lock is there");
 * ```
 */
export async function createLockFile(
  path: string,
  text: string,
  options: { replace?: boolean } = {},
): Promise<HeldLockFile | null> {
  const temp = `${path}.tmp.${Deno.pid}.${randomHex(4)}`;
  let file: Deno.FsFile;
  try {
    // createNew is O_CREAT|O_EXCL: it never follows a symlink nor opens a
    // FIFO that is already there.
    file = await Deno.open(temp, {
      read: true,
      write: true,
      createNew: true,
      mode: 0o600,
    });
  } catch (error) {
    throw cannotCreate(path, error);
  }
  let placed = false;
  try {
    const advisory = await lockNew(file);
    await giveLookOf(file, temp, await lookOf(dirname(path)));
    const data = new TextEncoder().encode(text);
    let written = 0;
    while (written < data.length) {
      written += await file.write(data.subarray(written));
    }
    await file.sync();
    try {
      if (options.replace) await Deno.rename(temp, path);
      else await Deno.link(temp, path);
    } catch (error) {
      if (!options.replace && error instanceof Deno.errors.AlreadyExists) {
        return null;
      }
      throw error;
    }
    placed = true;
    await fsyncDir(dirname(path));
    return { file, info: await file.stat(), advisory };
  } catch (error) {
    throw cannotCreate(path, error);
  } finally {
    if (!(placed && options.replace)) await Deno.remove(temp).catch(() => {});
    if (!placed) file.close();
  }
}

/**
 * A lock file that exists, opened to see whether its holder still lives:
 * its first bytes (the record), and an open handle to try its flock on.
 *
 * @example
 * ```ts
 * import { type ExistingLockFile, openExistingLock } from "./lock_file.ts";
 * declare const path: string;
 * const existing: ExistingLockFile | null = await openExistingLock(path);
 * ```
 */
export interface ExistingLockFile {
  /** Open read-write (a handle is what a flock is taken on). */
  file: Deno.FsFile;
  /** Its fstat. */
  info: Deno.FileInfo;
  /** Its first {@linkcode LOCK_RECORD_MAX_BYTES} bytes, as text. */
  text: string;
}

/**
 * Raised when what is at the lock's name is no lock file hermes-fsck made:
 * a FIFO, a symlink, a dir, a device or a socket. It is never opened.
 *
 * @example
 * ```ts
 * import { openExistingLock, LockFileRefusedError } from "./lock_file.ts";
 * declare const path: string;
 * try { await openExistingLock(path); }
 * catch (error) { if (error instanceof LockFileRefusedError) console.error(error.message); }
 * ```
 */
export class LockFileRefusedError extends Error {
  constructor(readonly path: string, what: string) {
    super(
      `the lock ${path} ${what}; hermes-fsck never makes one like it and ` +
        `does not open it: if no hermes-fsck is running, remove it ` +
        `(rm -r '${path}') and run again`,
    );
  }
}

/**
 * Opens the lock file that is there, without following a symlink or
 * waiting on a FIFO, and reads at most {@linkcode LOCK_RECORD_MAX_BYTES}
 * of it; null when it is gone, or was replaced by another regular file
 * meanwhile (look again). Throws {@linkcode LockFileRefusedError} for
 * anything but a regular file. The caller closes the file.
 *
 * @example
 * ```ts
 * import { openExistingLock } from "./lock_file.ts";
 * const existing = await openExistingLock("/srv/sessions/_hermes_fsck.lock");
 * if (existing) existing.file.close();
 * ```
 */
export async function openExistingLock(
  path: string,
): Promise<ExistingLockFile | null> {
  // The store's reader: lstat, then a no-follow, non-blocking open, checked
  // by fstat to be a regular file and the one lstat saw.
  const opened = await openRegularFile(path, Number.MAX_SAFE_INTEGER);
  if (!opened.ok) {
    if (opened.problem.reason === "missing") return null;
    // Swapped between lstat and open, and a regular file there now (a
    // racer renaming its new lock over the stale one): look again.
    if (opened.problem.reason === "not_regular_file" && opened.identity) {
      const now = await Deno.lstat(path).catch(() => null);
      if (now === null || now.isFile) return null;
    }
    if (opened.problem.reason === "not_regular_file") {
      throw new LockFileRefusedError(path, opened.problem.detail);
    }
    throw new Error(
      `cannot read the lock ${path}: it ${opened.problem.detail}; run as ` +
        `the owner of the session dir, or as root`,
    );
  }
  const seen = opened.file.identity;
  let text: string;
  try {
    const head = new Uint8Array(LOCK_RECORD_MAX_BYTES);
    const n = opened.file.readAt(head, 0);
    text = new TextDecoder().decode(head.subarray(0, n));
  } finally {
    opened.file.close();
  }
  // A flock is taken on a Deno file, and Deno has no no-follow open: open
  // it read-write, which never waits on a FIFO swapped in meanwhile, and
  // check by fstat, before any use, that it is the file read above.
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true, write: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    if (error instanceof Deno.errors.IsADirectory) {
      throw new LockFileRefusedError(path, "is a directory");
    }
    throw new Error(
      `cannot open the lock ${path} to see whether its holder still runs ` +
        `(${errorText(error)})${ioHint(error)}`,
      { cause: error },
    );
  }
  try {
    const info = await file.stat();
    if (!info.isFile) {
      throw new LockFileRefusedError(
        path,
        "was replaced by something that is not a regular file",
      );
    }
    if (info.ino !== seen.ino || info.dev !== seen.dev) {
      file.close();
      return null;
    }
    return { file, info, text };
  } catch (error) {
    file.close();
    throw error;
  }
}

/**
 * Whether the name `path` still is the file `info` describes (same inode).
 *
 * @example
 * ```ts
 * import { type HeldLockFile, stillAt } from "./lock_file.ts";
 * declare const path: string;
 * declare const held: HeldLockFile;
 * if (await stillAt(path, held.info)) console.log("still ours");
 * ```
 */
export async function stillAt(
  path: string,
  info: Deno.FileInfo,
): Promise<boolean> {
  const now = await Deno.lstat(path).catch(() => null);
  return now !== null && now.isFile && now.ino === info.ino &&
    now.dev === info.dev;
}

/**
 * Removes the lock file if its name still is the file held, then closes
 * it: the flock lasts until the name is gone, so nobody judges it stale.
 *
 * @example
 * ```ts
 * import { type HeldLockFile, removeLockFile } from "./lock_file.ts";
 * declare const held: HeldLockFile;
 * await removeLockFile("/srv/sessions/_hermes_fsck.lock", held);
 * ```
 */
export async function removeLockFile(
  path: string,
  held: { file: Deno.FsFile; info: Deno.FileInfo },
): Promise<void> {
  try {
    if (await stillAt(path, held.info)) await Deno.remove(path).catch(() => {});
  } finally {
    held.file.close();
  }
}

/**
 * Tries the exclusive flock of an open lock file without waiting: `free`
 * (this process now holds it), `held` (a live process does), or the error
 * code when the filesystem has no advisory locks.
 *
 * @example
 * ```ts
 * import { type ExistingLockFile, tryLockOf } from "./lock_file.ts";
 * declare const existing: ExistingLockFile;
 * const state = await tryLockOf(existing.file);
 * if (state === "held") console.log("its holder is alive");
 * ```
 */
export async function tryLockOf(
  file: Deno.FsFile,
): Promise<"free" | "held" | { unsupported: string }> {
  try {
    return (await file.tryLock(true)) ? "free" : "held";
  } catch (error) {
    const code = locksUnsupported(error);
    if (code) return { unsupported: code };
    throw error;
  }
}

/**
 * The error code when `error` says the filesystem has no advisory locks
 * (ENOLCK: an NFS mount without a lock manager; ENOTSUP, EOPNOTSUPP,
 * ENOSYS: a filesystem that has none), else null.
 *
 * @example
 * ```ts
 * import { locksUnsupported } from "./lock_file.ts";
 * locksUnsupported(Object.assign(new Error("x"), { code: "ENOLCK" })); // "ENOLCK"
 * ```
 */
export function locksUnsupported(error: unknown): string | null {
  const code = (error as { code?: unknown })?.code;
  if (
    typeof code === "string" &&
    ["ENOLCK", "ENOTSUP", "EOPNOTSUPP", "ENOSYS"].includes(code)
  ) {
    return code;
  }
  return error instanceof Deno.errors.NotSupported ? "ENOTSUP" : null;
}

/** Locks a file nobody else can have opened yet; false without flock. */
async function lockNew(file: Deno.FsFile): Promise<boolean> {
  try {
    await file.lock(true);
    return true;
  } catch (error) {
    if (locksUnsupported(error)) return false;
    throw error;
  }
}

function cannotCreate(path: string, error: unknown): Error {
  if (error instanceof Error && error.message.startsWith("cannot create")) {
    return error;
  }
  return new Error(
    `cannot create the lock ${path} (${errorText(error)})${ioHint(error)}`,
    { cause: error },
  );
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
