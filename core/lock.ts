/**
 * The repair lock: one file in the session dir, created create-or-fail
 * (through the safety layer's primitives, like every write), that
 * keeps two repairs (or a repair and an undo) apart. It names its holder:
 * pid, host, the process's start time and when it was taken; and the holder
 * keeps it open with an exclusive advisory lock (flock) while it runs,
 * which the kernel drops when the process dies, however it dies. That is
 * how a holder is known to be alive: under the binary's permissions Deno
 * denies every read of /proc, so the pid cannot be looked up there. A lock
 * of this host that nobody holds locked (and, where /proc can be read, whose
 * pid is gone or now belongs to a process that started later) is stale: it
 * is taken over, and the takeover is reported.
 *
 * @example
 * ```ts
 * import { acquireLock } from "./lock.ts";
 * const lock = await acquireLock("/srv/sessions", "repair");
 * try { ... } finally { await lock.release(); }
 * ```
 * @module
 */

import { join } from "node:path";
import {
  createExclusiveLocked,
  linkFile,
  removeFile,
  renameFile,
} from "./safety.ts";

/** The lock file's name in the session dir (`_`: the server ignores it). */
export const LOCK_FILE = "_hermes_fsck.lock";

/**
 * What the lock file holds.
 *
 * @example
 * ```ts
 * const holder = report.repair?.staleLock;
 * if (holder) console.log(`took over the lock of pid ${holder.pid} on ${holder.host}`);
 * ```
 */
export interface LockHolder {
  /** Process id of the holder. */
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

/** Raised when another live process holds the lock. */
export class LockHeldError extends Error {
  constructor(readonly path: string, readonly holder: LockHolder | null) {
    super(
      holder
        ? `another hermes-fsck (${holder.command}, pid ${holder.pid} on ${holder.host}, since ${holder.acquiredAt}) holds the lock ${path}; wait for it to finish, or remove the file if that process is gone`
        : `the lock ${path} exists but cannot be read; remove it if no hermes-fsck is running`,
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
 * Takes the lock of a session dir, or throws {@linkcode LockHeldError}.
 *
 * @example
 * ```ts
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
    processStart: processStart(Deno.pid),
    command,
    acquiredAt: new Date().toISOString(),
  };
  const text = JSON.stringify(me) + "\n";
  let tookOverFrom: LockHolder | null = null;
  for (let attempt = 0; attempt < 3; attempt++) {
    const held = await createExclusiveLocked(path, text);
    if (held) {
      return {
        tookOverFrom,
        release: async () => {
          try {
            // Only remove the file if it still holds our own record; it
            // stays locked until it is gone, so nobody judges it stale.
            const current = await readHolderText(path);
            if (current === text) await removeFile(path);
          } finally {
            held.close();
          }
        },
      };
    }
    const current = await openHolder(path);
    if (current === null) continue; // released meanwhile: try again
    try {
      const holder = parseHolder(current.text);
      if (!holder || !(await isStale(holder, me.host, current.file))) {
        throw new LockHeldError(path, holder);
      }
      // Move the stale lock aside, then check it is the one judged stale:
      // if another process took it over in between, put its lock back.
      const aside = `${path}.stale.${Deno.pid}`;
      if (!(await renameFile(path, aside))) continue;
      if ((await readHolderText(aside)) !== current.text) {
        await linkFile(aside, path);
        await removeFile(aside);
        continue;
      }
      await removeFile(aside);
      tookOverFrom = holder;
    } finally {
      current.file.close();
    }
  }
  throw new LockHeldError(
    path,
    parseHolder((await readHolderText(path)) ?? ""),
  );
}

/** Opens the lock file and reads it through that handle; null when gone. */
async function openHolder(
  path: string,
): Promise<{ file: Deno.FsFile; text: string } | null> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
  try {
    const chunks: Uint8Array[] = [];
    const buffer = new Uint8Array(4096);
    let total = 0;
    for (;;) {
      const n = await file.read(buffer);
      if (n === null || n === 0) break;
      chunks.push(buffer.slice(0, n));
      total += n;
      if (total > 1 << 16) break; // a lock record is small
    }
    const bytes = new Uint8Array(total);
    let offset = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, offset);
      offset += chunk.length;
    }
    return { file, text: new TextDecoder().decode(bytes) };
  } catch (error) {
    file.close();
    throw error;
  }
}

async function readHolderText(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch {
    return null;
  }
}

function parseHolder(text: string): LockHolder | null {
  try {
    const value = JSON.parse(text);
    return typeof value?.pid === "number" && typeof value?.host === "string"
      ? value
      : null;
  } catch {
    return null;
  }
}

/**
 * A holder is stale only when provably dead on this very host: nobody holds
 * its lock file locked (a live hermes-fsck always does; `file` is that file,
 * and after a true answer this process holds the lock), and where /proc can
 * be read, no process runs with its pid and start time.
 */
async function isStale(
  holder: LockHolder,
  host: string,
  file: Deno.FsFile,
): Promise<boolean> {
  if (holder.host !== host) return false;
  try {
    if (!(await file.tryLock(true))) return false;
  } catch {
    return false; // no advisory locks on this filesystem: cannot tell
  }
  const start = processStart(holder.pid);
  if (start === null) return true; // no such process, or /proc is not readable
  return holder.processStart !== null && start !== holder.processStart;
}

/** The process's start time from /proc (Linux), or null when it does not exist. */
function processStart(pid: number): string | null {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // Field 22, counted after the command name, which may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[19] ?? null;
  } catch {
    return null;
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
