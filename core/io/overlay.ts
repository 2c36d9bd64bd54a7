/**
 * A dry run's store: the files on disk with the actions planned so far
 * laid over them in memory (a write gives a file its new bytes, a removal
 * makes it vanish, an append adds to its bytes, a truncation cuts them),
 * so a dry run audits and plans pass after pass as a real run would,
 * writing nothing anywhere. While an overlay is active, the store's
 * readers ({@linkcode overlaidFile} in file_read.ts, the listings and
 * lstats below) see it; the scan's worker threads do not, so the scan of
 * an overlaid store runs in this thread.
 *
 * A file the overlay made has an identity no file on disk has (a made-up
 * inode, the time it was planned): an expectation planned on it is one of
 * the plan, not of the disk.
 *
 * @example
 * ```ts
 * import { StoreOverlay, withOverlay } from "./overlay.ts";
 * import type { Expectation } from "../plugins/action.ts";
 * import { type AuditOptions, auditStore } from "../run/audit.ts";
 * declare const expect: Expectation & { exists: true };
 * declare const options: AuditOptions;
 * const overlay = new StoreOverlay("/srv/sessions");
 * await overlay.apply({ op: "remove", path: "abc.json.bak", expect, note: "" });
 * await withOverlay(overlay, () => auditStore(options));
 * ```
 * @module
 */

import { dirname, resolve } from "./path.ts";
import type { Action, ActionOutcome } from "../plugins/action.ts";
import { sha256Hex } from "./hash.ts";

/**
 * A file the overlay holds: its bytes and made-up identity.
 *
 * @example
 * ```ts
 * const file: OverlaidFile | null | undefined = overlaidFile("/srv/sessions/abc.json");
 * if (file) console.log(file.data.length, file.identity.ino);
 * ```
 */
export interface OverlaidFile {
  /** The bytes it would have. */
  data: Uint8Array;
  /** Its made-up identity (size, the time it was planned, a made-up inode). */
  identity: FileIdentity;
}

/** A file's identity, as file_read.ts's `FileIdentity` (not imported: it reads through this file). */
interface FileIdentity {
  size: number;
  mtimeMs: number;
  ino: number;
  dev: number;
}

/** Made-up inodes count down from here, far from any real one. */
let nextIno = Number.MAX_SAFE_INTEGER;

/**
 * The planned files of one store, by absolute path: bytes, or null for a
 * file planned away.
 *
 * @example
 * ```ts
 * const overlay = new StoreOverlay("/srv/sessions");
 * overlay.size; // 0
 * ```
 */
export class StoreOverlay {
  readonly #files = new Map<string, OverlaidFile | null>();
  readonly #dir: string;

  /** An empty overlay of the session dir `sessionDir`. */
  constructor(sessionDir: string) {
    this.#dir = resolve(sessionDir);
  }

  /** How many paths the overlay changes. */
  get size(): number {
    return this.#files.size;
  }

  /**
   * The overlay's file at `path` (absolute): its bytes, null when it is
   * planned away, undefined when the overlay leaves it as on disk.
   */
  file(path: string): OverlaidFile | null | undefined {
    return this.#files.get(resolve(path));
  }

  /**
   * The names the overlay changes in dir `dir`: each with its file, or
   * null when removed.
   */
  entriesIn(dir: string): Map<string, OverlaidFile | null> {
    const wanted = resolve(dir);
    const entries = new Map<string, OverlaidFile | null>();
    for (const [path, file] of this.#files) {
      if (dirname(path) === wanted) {
        entries.set(path.slice(wanted.length + 1), file);
      }
    }
    return entries;
  }

  /** Whether a file the overlay made lies under `dir`. */
  holdsFilesUnder(dir: string): boolean {
    const prefix = resolve(dir) + "/";
    for (const [path, file] of this.#files) {
      if (file && path.startsWith(prefix)) return true;
    }
    return false;
  }

  /**
   * Lays `action` over the store, as the safety layer would apply it,
   * after checking its expectation against the store as the overlay has
   * it (the safety layer checks the same against the disk): skipped,
   * changing nothing, when it does not hold.
   */
  async apply(action: Action): Promise<ActionOutcome> {
    const path = resolve(this.#dir, action.path);
    const now = await this.#current(path);
    const expect = action.expect;
    if (expect.exists !== (now !== null)) {
      return {
        status: "skipped",
        reason: expect.exists ? "store_changed" : "exists",
        detail: expect.exists
          ? `${action.path} is gone by then: an action planned before this one removes it`
          : `${action.path} exists by then: an action planned before this one makes it`,
      };
    }
    if (expect.exists && now && expect.sha256 !== await sha256Hex(now)) {
      return {
        status: "skipped",
        reason: "store_changed",
        detail:
          `${action.path} is changed by an action planned before this one`,
      };
    }
    const made = (data: Uint8Array) =>
      this.#files.set(path, {
        data,
        identity: {
          size: data.length,
          mtimeMs: Date.now(),
          ino: nextIno--,
          dev: 0,
        },
      });
    switch (action.op) {
      case "write":
        made(action.data);
        break;
      case "remove":
        this.#files.set(path, null);
        break;
      case "append": {
        const joined = new Uint8Array(now!.length + action.data.length);
        joined.set(now!);
        joined.set(action.data, now!.length);
        made(joined);
        break;
      }
      case "truncate":
        made(now!.slice(0, action.size));
        break;
    }
    return { status: "applied" };
  }

  /** Each action applied in turn, as the safety layer's batch. */
  async applyBatch(actions: readonly Action[]): Promise<ActionOutcome[]> {
    const outcomes: ActionOutcome[] = [];
    for (const action of actions) outcomes.push(await this.apply(action));
    return outcomes;
  }

  /** The bytes at `path` as the overlay has it, null when there is none. */
  async #current(path: string): Promise<Uint8Array | null> {
    const file = this.#files.get(path);
    if (file !== undefined) return file?.data ?? null;
    try {
      return await Deno.readFile(path);
    } catch {
      return null;
    }
  }
}

let active: StoreOverlay | null = null;

/**
 * Runs `body` with the store's readers seeing `overlay`, then lets it go.
 *
 * @example
 * ```ts
 * import { type AuditOptions, auditStore } from "../run/audit.ts";
 * declare const overlay: StoreOverlay;
 * declare const options: AuditOptions;
 * const audit = await withOverlay(overlay, () => auditStore(options));
 * ```
 */
export async function withOverlay<T>(
  overlay: StoreOverlay,
  body: () => Promise<T>,
): Promise<T> {
  const before = active;
  active = overlay;
  try {
    return await body();
  } finally {
    active = before;
  }
}

/**
 * Whether an overlay that changes anything is active: the scan then stays
 * in this thread, where the overlay is seen.
 *
 * @example
 * ```ts
 * declare const defaultWorkers: number;
 * const workers = overlayActive() ? 0 : defaultWorkers;
 * ```
 */
export function overlayActive(): boolean {
  return (active?.size ?? 0) > 0;
}

/**
 * The active overlay's file at `path`: its bytes, null when planned away,
 * undefined when the disk has it as it is (or no overlay is active).
 *
 * @example
 * ```ts
 * const planned = overlaidFile("/srv/sessions/abc.json");
 * if (planned === null) console.log("planned away");
 * ```
 */
export function overlaidFile(path: string): OverlaidFile | null | undefined {
  return active?.size ? active.file(path) : undefined;
}

/**
 * `Deno.lstatSync` through the active overlay: a planned file is a
 * regular file of its planned size, a file planned away is not found, a
 * dir that holds only planned files is a dir.
 *
 * @example
 * ```ts
 * storeLstatSync("/srv/sessions/abc.json").isFile;
 * ```
 */
export function storeLstatSync(path: string): Deno.FileInfo {
  const file = overlaidFile(path);
  if (file === null) {
    throw new Deno.errors.NotFound(`${path} is planned away (dry run)`);
  }
  if (file) return fileInfo(file.identity, "file");
  try {
    return Deno.lstatSync(path);
  } catch (error) {
    if (
      !(error instanceof Deno.errors.NotFound) || !active?.holdsFilesUnder(path)
    ) throw error;
    return fileInfo(madeDirIdentity(path), "dir");
  }
}

/**
 * `Deno.readDirSync` through the active overlay: planned files appear,
 * files planned away vanish.
 *
 * @example
 * ```ts
 * for (const entry of storeReadDirSync("/srv/sessions")) console.log(entry.name);
 * ```
 */
export function storeReadDirSync(dir: string): Iterable<Deno.DirEntry> {
  const changes = active?.size ? active.entriesIn(dir) : null;
  if (!changes) return Deno.readDirSync(dir);
  const entries: Deno.DirEntry[] = [];
  try {
    for (const entry of Deno.readDirSync(dir)) {
      if (!changes.has(entry.name)) entries.push(entry);
    }
  } catch (error) {
    if (
      !(error instanceof Deno.errors.NotFound) || !active?.holdsFilesUnder(dir)
    ) throw error;
  }
  for (const [name, file] of changes) {
    if (file) {
      entries.push({
        name,
        isFile: true,
        isDirectory: false,
        isSymlink: false,
      });
    }
  }
  return entries;
}

const madeDirs = new Map<string, FileIdentity>();

/** One made-up identity per dir the overlay makes, so it stays the same dir. */
function madeDirIdentity(path: string): FileIdentity {
  const key = resolve(path);
  let identity = madeDirs.get(key);
  if (!identity) {
    identity = { size: 0, mtimeMs: Date.now(), ino: nextIno--, dev: 0 };
    madeDirs.set(key, identity);
  }
  return identity;
}

function fileInfo(identity: FileIdentity, type: "file" | "dir"): Deno.FileInfo {
  const mtime = new Date(identity.mtimeMs);
  return {
    isFile: type === "file",
    isDirectory: type === "dir",
    isSymlink: false,
    size: identity.size,
    mtime,
    atime: mtime,
    birthtime: null,
    ctime: mtime,
    dev: identity.dev,
    ino: identity.ino,
    mode: null,
    nlink: 1,
    uid: null,
    gid: null,
    rdev: null,
    blksize: null,
    blocks: null,
    isBlockDevice: false,
    isCharDevice: false,
    isFifo: false,
    isSocket: false,
  };
}
