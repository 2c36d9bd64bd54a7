/**
 * In-place changes to an append-only store file (the turn journal) under
 * the advisory lock its writers take. The server appends each journal event
 * with `O_APPEND` under an exclusive `flock` on the journal file itself, and
 * may hold the file open across a repair: a rename would leave it appending
 * to the old inode, so these changes never rename. The file is opened
 * no-follow, checked on the descriptor (a regular file, the inode planned
 * on), locked, and only then checked for exactly the bytes planned on.
 * Waiting for the lock is bounded: a lock held longer than an append takes
 * means another process is at work, and the change is skipped.
 *
 * @example
 * ```ts
 * import { appendLocked } from "./locked_append.ts";
 * import type { Expectation } from "../plugins/action.ts";
 * declare const expect: Expectation & { exists: true };
 * const done = await appendLocked("/srv/sessions/_turn_journal/abc.jsonl",
 *   expect, new TextEncoder().encode('{"event":"interrupted"}\n'));
 * if (!done.ok) console.log(done.reason, done.detail);
 * ```
 * @module
 */

import type * as NodeFs from "node:fs";
import { type Fs, loadNodeFs } from "./node_fs.ts";
import type { Expectation } from "../plugins/action.ts";
import { sha256Hex } from "./hash.ts";

/**
 * How long a change waits for another process to release the file's lock.
 * The server holds it for one event's write and fsync.
 *
 * @example
 * ```ts
 * import { appendLocked, LOCK_WAIT_MS } from "./locked_append.ts";
 * import type { Expectation } from "../plugins/action.ts";
 * declare const path: string;
 * declare const expect: Expectation & { exists: true };
 * declare const bytes: Uint8Array;
 * await appendLocked(path, expect, bytes, LOCK_WAIT_MS);
 * ```
 */
export const LOCK_WAIT_MS = 1000;

/** How often a held lock is tried again. */
const LOCK_RETRY_MS = 25;

/**
 * Why an in-place change did not happen.
 *
 * @example
 * ```ts
 * import type { LockedRefusal } from "./locked_append.ts";
 * const refusal: LockedRefusal = { ok: false, reason: "locked", detail: "..." };
 * ```
 */
export interface LockedRefusal {
  ok: false;
  /** `store_changed`: not the file planned on; `locked`: the lock stayed held. */
  reason: "store_changed" | "locked";
  /** A phrase to follow the file's name. */
  detail: string;
}

/**
 * A change that was made: the file's bytes before and after.
 *
 * @example
 * ```ts
 * import type { LockedChange } from "./locked_append.ts";
 * const done: LockedChange = { ok: true, after: { sha256: "...", size: 10 }, cut: new Uint8Array() };
 * ```
 */
export interface LockedChange {
  ok: true;
  /** The whole file after the change. */
  after: { sha256: string; size: number };
  /** For a truncation, the bytes cut off; empty for an append. */
  cut: Uint8Array;
}

/**
 * What runs between the checks and a truncation, with the bytes it will
 * cut and the file it will leave (to keep them and record the action
 * before the file changes).
 *
 * @example
 * ```ts
 * import type { BeforeChange } from "./locked_append.ts";
 * declare const keptPath: string;
 * const keep: BeforeChange = async (cut) => await Deno.writeFile(keptPath, cut);
 * ```
 */
export type BeforeChange = (
  cut: Uint8Array,
  after: { sha256: string; size: number },
) => Promise<void>;

/**
 * Appends `data` to the file `expect` describes, in place, holding its
 * `flock`; refuses unless the file is still exactly that one (inode, size,
 * bytes).
 *
 * @example
 * ```ts
 * import { appendLocked } from "./locked_append.ts";
 * import type { Expectation } from "../plugins/action.ts";
 * declare const path: string;
 * declare const expect: Expectation & { exists: true };
 * declare const bytes: Uint8Array;
 * const done = await appendLocked(path, expect, bytes);
 * ```
 */
export function appendLocked(
  path: string,
  expect: Expectation & { exists: true },
  data: Uint8Array,
  waitMs: number = LOCK_WAIT_MS,
): Promise<LockedChange | LockedRefusal> {
  return changeLocked(path, expect, waitMs, async (fs, fd, bytes) => {
    let written = 0;
    while (written < data.length) {
      written += fs.writeSync(fd, data, written, data.length - written);
    }
    fs.fsyncSync(fd);
    const whole = new Uint8Array(bytes.length + data.length);
    whole.set(bytes);
    whole.set(data, bytes.length);
    return {
      ok: true,
      after: { sha256: await sha256Hex(whole), size: whole.length },
      cut: new Uint8Array(),
    };
  });
}

/**
 * Cuts the file `expect` describes back to `size` bytes, in place, holding
 * its `flock`; refuses unless the file is still exactly that one. The cut
 * bytes are handed to `beforeChange` first (to be kept), so a kill at any
 * point loses nothing.
 *
 * @example
 * ```ts
 * import { type BeforeChange, truncateLocked } from "./locked_append.ts";
 * import type { Expectation } from "../plugins/action.ts";
 * declare const path: string;
 * declare const expect: Expectation & { exists: true };
 * declare const keep: BeforeChange;
 * const done = await truncateLocked(path, expect, 120, keep);
 * ```
 */
export function truncateLocked(
  path: string,
  expect: Expectation & { exists: true },
  size: number,
  beforeChange: BeforeChange,
  waitMs: number = LOCK_WAIT_MS,
): Promise<LockedChange | LockedRefusal> {
  return changeLocked(path, expect, waitMs, async (fs, fd, bytes) => {
    if (!Number.isSafeInteger(size) || size < 0 || size > bytes.length) {
      return {
        ok: false,
        reason: "store_changed",
        detail: `is shorter than the ${size} bytes to keep`,
      };
    }
    const cut = bytes.slice(size);
    const after = { sha256: await sha256Hex(bytes.subarray(0, size)), size };
    await beforeChange(cut, after);
    fs.ftruncateSync(fd, size);
    fs.fsyncSync(fd);
    return { ok: true, after, cut };
  });
}

async function changeLocked(
  path: string,
  expect: Expectation & { exists: true },
  waitMs: number,
  change: (
    fs: Fs,
    fd: number,
    bytes: Uint8Array,
  ) => Promise<LockedChange | LockedRefusal>,
): Promise<LockedChange | LockedRefusal> {
  const fs = await loadNodeFs();
  const changed = (detail: string): LockedRefusal => ({
    ok: false,
    reason: "store_changed",
    detail,
  });
  let linkStat: NodeFs.Stats;
  try {
    linkStat = fs.lstatSync(path);
  } catch {
    return changed("was removed after it was checked");
  }
  if (!linkStat.isFile()) return changed("is no longer a regular file");
  if (linkStat.ino !== expect.ino) {
    return changed("was replaced after it was checked");
  }
  // O_NONBLOCK: a FIFO swapped in after the lstat is not waited on. The
  // descriptor is checked to be the inode looked at, because Deno may
  // resolve a path before it opens it.
  let fd: number;
  try {
    fd = fs.openSync(
      path,
      fs.constants.O_RDWR | fs.constants.O_APPEND | fs.constants.O_NOFOLLOW |
        fs.constants.O_NONBLOCK,
    );
  } catch (error) {
    if (swapped(error)) return changed("was replaced while being opened");
    throw error;
  }
  let lockFile: Deno.FsFile | null = null;
  try {
    const stat = fs.fstatSync(fd);
    if (!sameFile(stat, linkStat) || !stat.isFile()) {
      return changed("was replaced while being opened");
    }
    // node:fs has no flock and Deno.open has no O_NOFOLLOW, so the lock is
    // taken on a second descriptor of the same inode (flock conflicts by
    // inode). That open is by path: a name swapped just before it is opened
    // (read-write, so a FIFO does not block it), then refused below,
    // unread and unwritten; run as the store's owner (the privilege drop),
    // such an open has no more rights than that owner.
    try {
      lockFile = await Deno.open(path, { read: true, write: true });
    } catch (error) {
      if (swapped(error)) return changed("was replaced while being opened");
      throw error;
    }
    const lockStat = await lockFile.stat();
    if (lockStat.ino !== stat.ino || lockStat.dev !== stat.dev) {
      return changed("was replaced while being opened");
    }
    if (!(await lockWithin(lockFile, waitMs))) {
      return {
        ok: false,
        reason: "locked",
        detail: `stayed locked by another process (the server appending?) ` +
          `for ${waitMs} ms, so it was left as it is; run repair again ` +
          `when no other process writes it`,
      };
    }
    const now = fs.fstatSync(fd);
    if (now.size !== expect.size || now.ino !== expect.ino) {
      return changed("changed after it was checked (it was appended to)");
    }
    const bytes = new Uint8Array(expect.size);
    let read = 0;
    while (read < bytes.length) {
      const n = fs.readSync(fd, bytes, read, bytes.length - read, read);
      if (n === 0) break;
      read += n;
    }
    if (
      read !== expect.size || (await sha256Hex(bytes)) !== expect.sha256
    ) {
      return changed("changed after it was checked (its content differs)");
    }
    return await change(fs, fd, bytes);
  } finally {
    lockFile?.close(); // releases the lock
    fs.closeSync(fd);
  }
}

/** An open that failed because the name no longer holds the file. */
function swapped(error: unknown): boolean {
  const code = (error as { code?: string })?.code;
  return error instanceof Deno.errors.NotFound ||
    code === "ENOENT" || code === "ELOOP" || code === "ENXIO" ||
    code === "ENOTDIR";
}

function sameFile(a: NodeFs.Stats, b: NodeFs.Stats): boolean {
  return a.ino === b.ino && a.dev === b.dev;
}

async function lockWithin(file: Deno.FsFile, waitMs: number): Promise<boolean> {
  const deadline = Date.now() + waitMs;
  while (!(await file.tryLock(true))) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, LOCK_RETRY_MS));
  }
  return true;
}
