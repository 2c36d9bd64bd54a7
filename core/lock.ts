/**
 * The repair lock: one file in the session dir, created with O_EXCL (through
 * the safety layer's primitives, like every write), that
 * keeps two repairs (or a repair and an undo) apart. It names its holder:
 * pid, host, the process's start time and when it was taken. A lock whose
 * holder is dead on this host (no such pid, or the pid now belongs to a
 * process that started later) is taken over, and the takeover is reported.
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
import { createExclusive, linkFile, removeFile, renameFile } from "./safety.ts";

/** The lock file's name in the session dir (`_`: the server ignores it). */
export const LOCK_FILE = "_hermes_fsck.lock";

/** What the lock file holds. */
export interface LockHolder {
  pid: number;
  host: string;
  /** The holder's start time in clock ticks since boot (Linux), or null. */
  processStart: string | null;
  command: string;
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
    if (await createExclusive(path, text)) {
      return {
        tookOverFrom,
        release: async () => {
          // Only remove the file if it still holds our own record.
          const current = await readHolderText(path);
          if (current === text) await removeFile(path);
        },
      };
    }
    const currentText = await readHolderText(path);
    if (currentText === null) continue; // released meanwhile: try again
    const holder = parseHolder(currentText);
    if (!holder || !isStale(holder, me.host)) {
      throw new LockHeldError(path, holder);
    }
    // Move the stale lock aside, then check it is the one judged stale: if
    // another process took it over in between, put its lock back.
    const aside = `${path}.stale.${Deno.pid}`;
    if (!(await renameFile(path, aside))) continue;
    if ((await readHolderText(aside)) !== currentText) {
      await linkFile(aside, path);
      await removeFile(aside);
      continue;
    }
    await removeFile(aside);
    tookOverFrom = holder;
  }
  throw new LockHeldError(
    path,
    parseHolder((await readHolderText(path)) ?? ""),
  );
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

/** A holder is stale only when provably dead on this very host. */
function isStale(holder: LockHolder, host: string): boolean {
  if (holder.host !== host || Deno.build.os !== "linux") return false;
  const start = processStart(holder.pid);
  if (start === null) return true; // no such process
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
