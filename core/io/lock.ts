/**
 * The repair lock: one file in the session dir that keeps two repairs (or
 * a repair and an undo) apart. It names its holder (pid, host, start time,
 * command, when it was taken), and the holder keeps it open with an
 * exclusive advisory lock (flock) while it runs, which the kernel drops
 * when the process dies, however it dies. That flock, not the host name,
 * is how a holder is known to be alive: a container that is killed and
 * started again has a new host name but the same kernel (or the same lock
 * server, on a network filesystem that has one), so a lock whose flock
 * anyone can take is held by nobody, whichever host it names, and is taken
 * over; the takeover is reported. Only where the filesystem has no
 * advisory locks does the old rule decide: a lock of this very host whose
 * process is provably gone.
 *
 * What is at the lock's name is untrusted: a FIFO, symlink, dir or device
 * there is refused at once (exit 8), never opened or waited on, and only a
 * few KB of a regular file are read.
 *
 * @example
 * ```ts
 * import { acquireLock } from "./lock.ts";
 * const lock = await acquireLock("/srv/sessions", "repair");
 * try {
 *   // repair the store
 * } finally {
 *   await lock.release();
 * }
 * ```
 * @module
 */

import { join } from "./path.ts";
import {
  createLockFile,
  type ExistingLockFile,
  openExistingLock,
  removeLockFile,
  stillAt,
  tryLockOf,
} from "./lock_file.ts";

/** The lock file's name in the session dir (`_`: the server ignores it). */
export const LOCK_FILE = "_hermes_fsck.lock";

/**
 * What the lock file holds.
 *
 * @example
 * ```ts
 * import type { Report } from "../report/report.ts";
 * declare const report: Report;
 * const holder = report.repair?.staleLock;
 * if (holder) console.log(`took over the lock of pid ${holder.pid} on ${holder.host}`);
 * ```
 */
export interface LockHolder {
  /** Process id of the holder (0 when the record could not be read). */
  pid: number;
  /** Host name of the holder. */
  host: string;
  /** The holder's start time in clock ticks since boot (Linux), or null. */
  processStart: string | null;
  /** What the holder runs: `repair` or `undo`. */
  command: string;
  /** When it took the lock, ISO 8601. */
  acquiredAt: string;
}

/** Raised when another live process holds the lock, or may. */
export class LockHeldError extends Error {
  constructor(
    readonly path: string,
    readonly holder: LockHolder | null,
    /** Set when the filesystem has no advisory locks: the error code. */
    readonly noAdvisoryLocks: string | null = null,
  ) {
    super(
      noAdvisoryLocks
        ? `the lock ${path} names ${
          describe(holder)
        } as its holder, and this filesystem ` +
          `has no advisory locks (${noAdvisoryLocks}), so hermes-fsck cannot ` +
          `tell whether that process still runs: if no hermes-fsck is ` +
          `running on any machine that mounts this store, remove the file ` +
          `and run again`
        : `${describe(holder)} is running and holds the lock ${path} ` +
          `(it keeps the file locked while it lives); wait for it to finish`,
    );
  }
}

/** A held lock. */
export interface Lock {
  /** The stale holder that was taken over, if any. */
  tookOverFrom: LockHolder | null;
  /** Removes the lock file if it is still ours. */
  release(): Promise<void>;
}

/**
 * Takes the lock of a session dir, or throws {@linkcode LockHeldError}
 * (another process holds it) or an error naming the path (what is there
 * is no lock file, or cannot be made).
 *
 * @example
 * ```ts
 * import { acquireLock } from "./lock.ts";
 * declare const sessionDir: string;
 * const lock = await acquireLock(sessionDir, "repair");
 * if (lock.tookOverFrom) console.error(`took over a stale lock of pid ${lock.tookOverFrom.pid}`);
 * ```
 */
export async function acquireLock(
  sessionDir: string,
  command: string,
): Promise<Lock> {
  const path = join(sessionDir, LOCK_FILE);
  const me: LockHolder = {
    pid: Deno.pid,
    host: hostName(),
    processStart: processStart(Deno.pid).start,
    command,
    acquiredAt: new Date().toISOString(),
  };
  const text = JSON.stringify(me) + "\n";
  let last: LockHolder | null = null;
  // Each pass either ends, or saw the lock change under it (released,
  // replaced): a few passes are plenty, and then it is busy.
  for (let attempt = 0; attempt < 5; attempt++) {
    const made = await createLockFile(path, text);
    if (made) return heldLock(path, made, null);
    const existing = await openExistingLock(path);
    if (existing === null) continue; // released or replaced meanwhile
    try {
      const holder = parseHolder(existing);
      last = holder;
      const state = await tryLockOf(existing.file);
      if (state === "held") {
        // A racer that took it over holds the old file until its own is in
        // place: look again, to name the live holder, not the dead one.
        if (!(await stillAt(path, existing.info))) continue;
        throw new LockHeldError(path, holder);
      }
      if (state !== "free" && !deadOnThisHost(holder, me.host)) {
        throw new LockHeldError(path, holder, state.unsupported);
      }
      // This process now holds the stale file's flock (or, without
      // advisory locks, judged its process gone): if the name still is
      // that file, no other hermes-fsck can change it until the new lock,
      // locked before it is visible, is renamed over it.
      if (!(await stillAt(path, existing.info))) continue;
      const replaced = await createLockFile(path, text, { replace: true });
      return heldLock(path, replaced!, holder);
    } finally {
      existing.file.close();
    }
  }
  throw new LockHeldError(path, last);
}

function heldLock(
  path: string,
  held: { file: Deno.FsFile; info: Deno.FileInfo },
  tookOverFrom: LockHolder | null,
): Lock {
  return { tookOverFrom, release: () => removeLockFile(path, held) };
}

/**
 * The holder a lock file names. A record that cannot be read still names
 * a holder (pid 0, host unknown), so a takeover of it is reported too.
 * Every field is cleaned: the file is the store owner's to write, and its
 * text ends up on a terminal.
 */
function parseHolder(existing: ExistingLockFile): LockHolder {
  let value: Record<string, unknown> = {};
  try {
    const parsed = JSON.parse(existing.text);
    if (parsed && typeof parsed === "object") value = parsed;
  } catch { /* not a record hermes-fsck wrote */ }
  const text = (field: unknown, fallback: string) =>
    typeof field === "string" && field !== ""
      ? field.replace(/[\p{Cc}\p{Cf}]/gu, "?").slice(0, 200)
      : fallback;
  return {
    pid: Number.isSafeInteger(value.pid) && (value.pid as number) > 0
      ? value.pid as number
      : 0,
    host: text(value.host, "an unknown host"),
    processStart: typeof value.processStart === "string"
      ? text(value.processStart, "")
      : null,
    command: text(value.command, "unknown command"),
    acquiredAt: text(
      value.acquiredAt,
      existing.info.mtime?.toISOString() ?? "an unknown time",
    ),
  };
}

/** The holder, for a message: "another hermes-fsck (repair, pid 7 on h, since t)". */
function describe(holder: LockHolder | null): string {
  return holder && holder.pid > 0
    ? `another hermes-fsck (${holder.command}, pid ${holder.pid} on ` +
      `${holder.host}, since ${holder.acquiredAt})`
    : "another process (its record in the lock cannot be read)";
}

/**
 * The rule for filesystems without advisory locks: a holder is gone only
 * when it ran on this very host and /proc shows its pid gone, or reused by
 * a process that started at another time. Under the binary's permissions
 * Deno denies every read of /proc, so there it never is: the operator
 * removes the lock.
 */
function deadOnThisHost(holder: LockHolder, host: string): boolean {
  if (holder.pid <= 0 || holder.host !== host) return false;
  const now = processStart(holder.pid);
  if (now.gone) return true;
  return now.start !== null && holder.processStart !== null &&
    now.start !== holder.processStart;
}

/**
 * A process's start time from /proc (Linux): `gone` when /proc says there
 * is no such process, `start` null when /proc cannot be read.
 */
function processStart(pid: number): { gone: boolean; start: string | null } {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // Field 22, counted after the command name, which may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { gone: false, start: fields[19] ?? null };
  } catch (error) {
    return { gone: error instanceof Deno.errors.NotFound, start: null };
  }
}

function hostName(): string {
  for (const path of ["/proc/sys/kernel/hostname", "/etc/hostname"]) {
    try {
      const name = Deno.readTextFileSync(path).trim();
      if (name) return name;
    } catch { /* try the next */ }
  }
  return Deno.env.get("HOSTNAME") ?? Deno.env.get("COMPUTERNAME") ??
    "unknown-host";
}
