/**
 * The safety layer: the only code that writes to the store. Every write is
 * a uniquely named temp in the target's dir, fsynced, then linked into place
 * (create-or-fail) and the dir fsynced. A file that is replaced or removed
 * is first renamed into the run's quarantine (`_hermes_fsck/runs/<run>/`),
 * which is atomic and keeps its bytes; the layer then checks that what it
 * moved is exactly the file the plan was made on, and puts it back if the
 * server saved meanwhile. So a concurrent save is never overwritten, and
 * every byte that was ever in place is either still there or in quarantine.
 *
 * Each action is recorded before it starts (write-ahead) and again when it
 * ends, in `actions/NNNN.json` of the run, so a run killed at any step can
 * still be undone. It refuses paths that leave the session dir, symlinks
 * and non-regular files, and gives new files the owner and mode of the file
 * they replace (or of the session dir).
 *
 * @example
 * ```ts
 * import { newRunId, StoreWriter } from "./safety.ts";
 * const writer = await StoreWriter.open("/srv/sessions", newRunId());
 * const outcome = await writer.apply({
 *   op: "write", path: "abc.json", data: new TextEncoder().encode("{}"),
 *   expect: { exists: false }, note: "create abc.json",
 * });
 * await writer.close();
 * ```
 * @module
 */

import { basename, dirname, isAbsolute, join } from "node:path";
import type { Action, ActionOutcome, Expectation } from "./action.ts";
import { readRegularFile } from "./file_read.ts";
import { appendLocked, truncateLocked } from "./locked_append.ts";
import { randomHex, sha256Hex } from "./hash.ts";
import {
  createNoFollow,
  type FileLook,
  giveLook,
  lookOf,
  openDirNoFollow,
} from "./new_file.ts";
import {
  fitName,
  isRunId,
  isStorePath,
  listRuns,
  type Manifest,
  type ManifestEntry,
  plainRunsDir,
  quarantinePath,
  recordName,
  type RunHeader,
  RUNS_DIR,
} from "./run_records.ts";
import { TOOL_VERSION } from "./version.ts";

export {
  type FileVersion,
  isRunId,
  listRuns,
  type Manifest,
  type ManifestEntry,
  quarantinePath,
  readRun,
  type RunHeader,
  RUNS_DIR,
} from "./run_records.ts";

/**
 * Options of {@linkcode StoreWriter.open}.
 *
 * @example
 * ```ts
 * const writer = await StoreWriter.open(sessionDir, newRunId(), { command: "repair" });
 * ```
 */
export interface WriterOptions {
  /**
   * For crash tests: exit the process abruptly after this many durable
   * steps (set from `HERMES_FSCK_FAULT_AFTER_STEPS`).
   */
  faultAfterSteps?: number;
  /**
   * For fault tests: what happens at step `faultAfterSteps`. `crash` (the
   * default) exits the process abruptly; `io_error` makes that one step
   * fail with an I/O error, as a failing disk would, and the run goes on
   * (set from `HERMES_FSCK_FAULT_KIND`).
   */
  faultKind?: "crash" | "io_error";
  /** What the run is, for its header (default `repair`). */
  command?: string;
  /**
   * For interleaving tests: awaited before each action is applied (it was
   * planned on the store as it was), so a test can change the store in
   * between, as a server saving at that instant would.
   */
  beforeApply?: (action: Action) => Promise<void>;
  /** For an undo run: the run it undoes. */
  undoes?: string;
}

/**
 * Writes to one session dir on behalf of one run.
 *
 * @example
 * ```ts
 * const writer = await StoreWriter.open(sessionDir, newRunId());
 * ```
 */
export class StoreWriter {
  /** The run's id. */
  readonly runId: string;
  /** The session dir it writes to, absolute. */
  readonly sessionDir: string;
  /** The run's dir, relative to the session dir. */
  readonly runDir: string;
  #header: RunHeader;
  #entries: ManifestEntry[] = [];
  #steps = 0;
  /**
   * Set once the current action's change is in place (its new file linked
   * in, or its old file moved aside for a remove): an error after that
   * point does not undo the change, so the action counts as applied.
   */
  #changed = false;
  #faultAfter: number | undefined;
  #faultKind: "crash" | "io_error";
  #runDirReady = false;
  #beforeApply: WriterOptions["beforeApply"];

  private constructor(
    sessionDir: string,
    runId: string,
    options: WriterOptions,
  ) {
    this.sessionDir = sessionDir;
    this.runId = runId;
    this.runDir = `${RUNS_DIR}/${runId}`;
    this.#faultAfter = options.faultAfterSteps;
    this.#faultKind = options.faultKind ?? "crash";
    this.#beforeApply = options.beforeApply;
    this.#header = {
      tool: "hermes-fsck",
      version: TOOL_VERSION,
      runId,
      command: options.command ?? "repair",
      ...(options.undoes ? { undoes: options.undoes } : {}),
      sessionDir,
      startedAt: new Date().toISOString(),
      finishedAt: null,
    };
  }

  /**
   * Opens a writer on a session dir (resolved to its real path once, so a
   * symlink planted later cannot redirect writes).
   *
   * @example
   * ```ts
   * const writer = await StoreWriter.open("/srv/sessions", "run-1");
   * ```
   */
  static async open(
    sessionDir: string,
    runId: string,
    options: WriterOptions = {},
  ): Promise<StoreWriter> {
    if (!isRunId(runId)) {
      throw new TypeError(`invalid run id ${JSON.stringify(runId)}`);
    }
    const real = await Deno.realPath(sessionDir);
    return new StoreWriter(real, runId, options);
  }

  /** The run so far. */
  get manifest(): Readonly<Manifest> {
    return { ...this.#header, entries: this.#entries };
  }

  /** Whether the run wrote anything to its dir (a quarantine or a record). */
  get hasRunDir(): boolean {
    return this.#runDirReady;
  }

  /**
   * Applies one action. Never throws for store problems: the outcome says
   * what happened.
   *
   * @example
   * ```ts
   * const outcome = await writer.apply(action);
   * if (outcome.status === "skipped") console.log(outcome.detail);
   * ```
   */
  async apply(action: Action): Promise<ActionOutcome> {
    await this.#beforeApply?.(action);
    const seq = this.#entries.length + 1;
    const entry: ManifestEntry = {
      seq,
      op: action.op,
      path: action.path,
      note: action.note,
      status: "pending",
      before: action.expect.exists
        ? { sha256: action.expect.sha256, size: action.expect.size }
        : null,
      after: action.op === "write"
        ? { sha256: await sha256Hex(action.data), size: action.data.length }
        : null,
      ...(action.op === "append"
        ? {
          tail: {
            offset: action.expect.size,
            size: action.data.length,
            sha256: await sha256Hex(action.data),
          },
        }
        : {}),
      at: new Date().toISOString(),
    };
    this.#entries.push(entry);
    let outcome: ActionOutcome;
    let target: string | undefined;
    this.#changed = false;
    try {
      target = await this.#resolve(action.path);
      // An append replaces nothing, so it keeps nothing.
      if (action.expect.exists && action.op !== "append") {
        entry.quarantined = quarantinePath(this.runId, seq, action.path);
      }
      await this.#persist(entry);
      outcome = action.op === "write"
        ? await this.#write(target, action, entry)
        : action.op === "remove"
        ? await this.#remove(target, action, entry)
        : await this.#changeInPlace(target, action, entry);
    } catch (error) {
      const kept = entry.quarantined &&
        join(this.sessionDir, entry.quarantined);
      if (error instanceof RefusedPath) {
        outcome = {
          status: "skipped",
          reason: "refused",
          detail: error.message,
        };
      } else if (this.#changed) {
        // The change is in place and only what follows failed (syncing the
        // dir, removing the temp): it stands, and undo can revert it.
        outcome = {
          status: "applied",
          detail: `${action.path} was changed, but then ${errorText(error)}${
            ioHint(error)
          }; the change may not survive a power cut`,
        };
      } else {
        outcome = {
          status: "failed",
          reason: "io_error",
          detail: `${action.path}: ${errorText(error)}${ioHint(error)}`,
        };
        // Failed means the store is as it was: a file moved aside before
        // the error is put back (create-or-fail: a save that landed
        // meanwhile wins, and the moved file stays in quarantine).
        if (kept && target && await putBack(kept, target)) {
          outcome.detail += "; the old file was put back";
        }
      }
      // Bytes still in quarantine are pointed at, so undo can put them back.
      if (kept && (await exists(kept))) {
        outcome.quarantined = entry.quarantined;
      }
    }
    entry.status = outcome.status;
    if (outcome.reason) entry.reason = outcome.reason;
    if (outcome.detail) entry.detail = outcome.detail;
    if (outcome.quarantined) entry.quarantined = outcome.quarantined;
    else delete entry.quarantined;
    if (this.#runDirReady) {
      try {
        await this.#persist(entry);
      } catch (error) {
        // The outcome stands; its record still says `pending`, which the
        // next repair's roll-back and `undo` read safely. A full disk or a
        // filesystem turned read-only must not crash the run.
        outcome = {
          ...outcome,
          detail: outcome.status === "failed"
            ? `${outcome.detail}; its record could not be updated either`
            : `${outcome.detail ? `${outcome.detail}; ` : ""}its record in ` +
              `${this.runDir}/actions could not be updated (${
                errorText(error)
              })${ioHint(error)}`,
        };
      }
    }
    return outcome;
  }

  /**
   * Marks the run finished in its header.
   *
   * @example
   * ```ts
   * await writer.close();
   * ```
   */
  async close(): Promise<void> {
    if (!this.#runDirReady) return;
    this.#header.finishedAt = new Date().toISOString();
    try {
      await this.#writeRecord("run.json", this.#header);
    } catch {
      // A full disk: the run is listed as not finished, which is safe (its
      // actions' records are what undo and the roll-back read).
    }
  }

  async #write(
    target: string,
    action: Extract<Action, { op: "write" }>,
    entry: ManifestEntry,
  ): Promise<ActionOutcome> {
    const dir = dirname(target);
    const look = await lookOf(
      action.expect.exists ? target : dir,
      (action.sources ?? []).map((source) =>
        isAbsolute(source) ? source : join(this.sessionDir, source)
      ),
    );
    const temp = await this.#writeTemp(
      dir,
      basename(target),
      action.data,
      look,
    );
    try {
      if (!action.expect.exists) {
        return await this.#linkNew(temp, target, action.path);
      }
      const moved = await this.#moveAside(
        target,
        action.expect,
        entry,
        action.path,
      );
      if (!moved.ok) return moved.outcome;
      const linked = await this.#linkNew(temp, target, action.path);
      return { ...linked, quarantined: moved.quarantined };
    } finally {
      await Deno.remove(temp).catch(() => {});
      await this.#step("temp removed");
    }
  }

  /**
   * An append or a truncation, in place under the file's lock (see
   * locked_append.ts). A truncation's cut bytes are kept in quarantine and
   * recorded before the file is cut.
   */
  async #changeInPlace(
    target: string,
    action: Extract<Action, { op: "append" | "truncate" }>,
    entry: ManifestEntry,
  ): Promise<ActionOutcome> {
    const done = action.op === "append"
      ? await appendLocked(target, action.expect, action.data)
      : await truncateLocked(
        target,
        action.expect,
        action.size,
        async (cut, after) => {
          const kept = join(this.sessionDir, entry.quarantined!);
          await createNoFollow(kept, cut, await lookOf(target));
          await fsyncDir(dirname(kept));
          entry.after = after;
          entry.tail = {
            offset: action.size,
            size: cut.length,
            sha256: await sha256Hex(cut),
          };
          await this.#persist(entry);
        },
      );
    if (!done.ok) {
      return {
        status: "skipped",
        reason: done.reason,
        detail: `${action.path} ${done.detail}`,
      };
    }
    this.#changed = true;
    entry.after = done.after;
    await this.#step(action.op === "append" ? "appended" : "truncated");
    return {
      status: "applied",
      ...(action.op === "truncate" ? { quarantined: entry.quarantined } : {}),
    };
  }

  async #remove(
    target: string,
    action: Extract<Action, { op: "remove" }>,
    entry: ManifestEntry,
  ): Promise<ActionOutcome> {
    const moved = await this.#moveAside(
      target,
      action.expect,
      entry,
      action.path,
    );
    if (!moved.ok) return moved.outcome;
    this.#changed = true;
    await fsyncDir(dirname(target));
    await this.#step("dir synced");
    return { status: "applied", quarantined: moved.quarantined };
  }

  /** Links a finished temp into place; fails if anything is there. */
  async #linkNew(
    temp: string,
    target: string,
    rel: string,
  ): Promise<ActionOutcome> {
    try {
      await Deno.link(temp, target);
      this.#changed = true;
    } catch (error) {
      if (error instanceof Deno.errors.AlreadyExists) {
        return {
          status: "skipped",
          reason: "exists",
          detail:
            `${rel} appeared while hermes-fsck was writing it; the new file was kept`,
        };
      }
      throw error;
    }
    await this.#step("linked");
    await fsyncDir(dirname(target));
    await this.#step("dir synced");
    return { status: "applied" };
  }

  /**
   * Renames the current file into quarantine, then checks it is the file
   * the plan was made on; if not, puts it back and reports the change.
   */
  async #moveAside(
    target: string,
    expect: Expectation,
    entry: ManifestEntry,
    rel: string,
  ): Promise<
    { ok: true; quarantined: string } | { ok: false; outcome: ActionOutcome }
  > {
    const changed = (detail: string, quarantined?: string): {
      ok: false;
      outcome: ActionOutcome;
    } => ({
      ok: false,
      outcome: {
        status: "skipped",
        reason: "store_changed",
        detail: `${rel} ${detail}`,
        ...(quarantined ? { quarantined } : {}),
      },
    });
    if (!expect.exists || !entry.quarantined) {
      throw new Error("internal: nothing to move aside");
    }
    const before = await identical(target, expect);
    if (before !== null) return changed(before);
    const quarantined = join(this.sessionDir, entry.quarantined);
    await Deno.rename(target, quarantined);
    await this.#step("moved aside");
    const after = await identical(quarantined, expect);
    if (after !== null) {
      // The server saved between the check and the rename: put its file
      // back. If it saved yet again, its newest file stays in place and the
      // one moved here is kept in quarantine.
      let putBack = false;
      try {
        await Deno.link(quarantined, target);
        await Deno.remove(quarantined);
        putBack = true;
      } catch { /* a newer file is in place; keep ours in quarantine */ }
      await fsyncDir(dirname(target));
      return changed(after, putBack ? undefined : entry.quarantined);
    }
    await fsyncDir(dirname(quarantined));
    return { ok: true, quarantined: entry.quarantined };
  }

  async #writeTemp(
    dir: string,
    name: string,
    data: Uint8Array,
    look: FileLook,
  ): Promise<string> {
    const temp = join(
      dir,
      fitName("", name, `.hermes-fsck.tmp.${Deno.pid}.${randomHex(4)}`),
    );
    await createNoFollow(temp, data, look);
    await this.#step("temp written");
    return temp;
  }

  #resolve(rel: string): Promise<string> {
    return resolveInStore(this.sessionDir, rel);
  }

  async #persist(entry: ManifestEntry): Promise<void> {
    if (!this.#runDirReady) {
      const subs = [
        dirname(RUNS_DIR),
        RUNS_DIR,
        this.runDir,
        `${this.runDir}/files`,
        `${this.runDir}/actions`,
      ];
      // One level at a time, never through a symlink: a `_hermes_fsck`
      // planted as a link would send the quarantine (the store's old
      // files) and the records out of the session dir. The tool's own dirs
      // belong to the session dir's owner, as its files do: a run as root
      // must not lock the server's user out of the next.
      const owner = await lookOf(this.sessionDir);
      for (const sub of subs) {
        await makePlainDir(this.sessionDir, sub, owner);
      }
      this.#runDirReady = true;
      await this.#writeRecord("run.json", this.#header);
    }
    await this.#writeRecord(`actions/${recordName(entry.seq)}`, entry);
  }

  async #writeRecord(name: string, value: unknown): Promise<void> {
    await writeRecordFile(
      join(this.sessionDir, this.runDir, name),
      value,
      this.sessionDir,
    );
    await this.#step(`recorded ${name}`);
  }

  async #step(_label: string): Promise<void> {
    this.#steps++;
    const fault = this.#faultAfter;
    if (this.#faultKind === "io_error" && this.#steps === fault) {
      throw new Error(
        `injected I/O error after step ${this.#steps} (HERMES_FSCK_FAULT_KIND)`,
      );
    }
    if (
      this.#faultKind === "crash" && fault !== undefined && this.#steps >= fault
    ) {
      // Simulates a crash: no cleanup, no report, no unwinding.
      Deno.exit(137);
    }
    await Promise.resolve();
  }
}

class RefusedPath extends Error {}

/**
 * Creates `rel` (a dir of the tool's own) in the session dir unless it is
 * there and gives it the owner and group of `owner`, on its descriptor;
 * refuses one that is a symlink or not a directory, so nothing is ever
 * written through it.
 */
async function makePlainDir(
  sessionDir: string,
  rel: string,
  owner: FileLook,
): Promise<void> {
  const path = join(sessionDir, rel);
  try {
    await Deno.mkdir(path, { mode: 0o700 });
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
  }
  const dir = await openDirNoFollow(path);
  if (dir === null) {
    const info = await Deno.lstat(path).catch(() => null);
    throw new RefusedPath(
      `refused to keep the run's records in ${path}: it is ${
        info?.isSymlink ? "a symlink" : "not a directory"
      }; move it out of the session dir and run again`,
    );
  }
  try {
    await giveLook(dir, { ...owner, mode: null });
  } finally {
    await dir.close();
  }
}

/**
 * Writes a file of the tool's own in `_hermes_fsck/` (for example
 * `acknowledged.json`) atomically, as a run's records are written: the
 * dir made or checked one level at a time and never through a symlink,
 * the file written to a new temp (no-follow, create-or-fail), fsynced and
 * renamed into place, the dir fsynced. It takes the session dir's owner
 * and mode without execute bits. Throws when the dir is a symlink or not
 * a dir.
 *
 * @example
 * ```ts
 * await writeToolFile("/srv/sessions", "acknowledged.json", { version: 1, acknowledged: [] });
 * ```
 */
export async function writeToolFile(
  sessionDir: string,
  name: string,
  value: unknown,
): Promise<void> {
  if (!/^[a-z_]+\.json$/.test(name)) {
    throw new TypeError(`invalid tool file name ${JSON.stringify(name)}`);
  }
  const real = await Deno.realPath(sessionDir);
  try {
    await makePlainDir(real, dirname(RUNS_DIR), await lookOf(real));
  } catch (error) {
    if (error instanceof RefusedPath) {
      throw new Error(error.message.replace("the run's records", name));
    }
    throw error;
  }
  await writeRecordFile(join(real, dirname(RUNS_DIR), name), value, real);
}

/**
 * Writes a record of a run atomically: temp, fsync, rename, fsync dir. It
 * takes the owner and mode of `ownerOf` (the session dir) without its
 * execute bits.
 */
async function writeRecordFile(
  path: string,
  value: unknown,
  ownerOf: string,
): Promise<void> {
  const temp = `${path}.tmp.${Deno.pid}`;
  await Deno.remove(temp).catch(() => {}); // left by a dead run of this pid
  await createNoFollow(
    temp,
    new TextEncoder().encode(JSON.stringify(value, null, 2) + "\n"),
    await lookOf(ownerOf),
  );
  await Deno.rename(temp, path);
  await fsyncDir(dirname(path));
}

/**
 * The absolute path of a store file, refusing anything that leaves the
 * session dir (a path outside the dir or its journal dir, a symlinked
 * dir) and anything in place that is not a regular file.
 */
async function resolveInStore(
  sessionDir: string,
  rel: string,
): Promise<string> {
  // The same rule run records are checked by (isStorePath).
  if (!isStorePath(rel)) {
    throw new RefusedPath(
      `refused to write ${JSON.stringify(rel)}: it leaves the session dir`,
    );
  }
  const target = join(sessionDir, ...rel.split("/"));
  const parent = dirname(target);
  // Opened, not looked up: a link in its place is refused by the kernel.
  const dir = await openDirNoFollow(parent);
  await dir?.close();
  if (dir === null) {
    throw new RefusedPath(
      `refused to write ${rel}: ${
        dirname(rel)
      } is not a plain directory; put the directory itself in its place ` +
        "and run repair again",
    );
  }
  if ((await Deno.realPath(parent)) !== parent) {
    throw new RefusedPath(
      `refused to write ${rel}: its directory resolves outside the session ` +
        "dir; put the directory itself in its place and run repair again",
    );
  }
  const existing = await Deno.lstat(target).catch(() => null);
  if (existing && (existing.isSymlink || !existing.isFile)) {
    throw new RefusedPath(
      `refused to write ${rel}: it is a ${
        existing.isSymlink ? "symlink" : "non-regular file"
      }; put the file itself in its place and run repair again`,
    );
  }
  return target;
}

/**
 * What the operator can do about a failed write, as a clause to append to
 * its message: the common causes by their error code.
 *
 * @example
 * ```ts
 * ioHint(Object.assign(new Error("..."), { code: "ENOSPC" })); // "; the disk is full: ..."
 * ```
 */
export function ioHint(error: unknown): string {
  switch ((error as { code?: string })?.code) {
    case "EROFS":
      return "; the filesystem is read-only: remount it read-write and run " +
        "repair again (audit writes nothing)";
    case "ENOSPC":
    case "EDQUOT":
      return "; the disk is full: free some space and run repair again";
    case "EACCES":
    case "EPERM":
      return "; permission denied: run as the owner of the session dir, " +
        "or as root";
    default:
      return "; check the disk and run repair again";
  }
}

/**
 * Returns null when the file at `path` is the one `expect` describes, else
 * a phrase saying how it differs.
 */
async function identical(
  path: string,
  expect: Expectation & { exists: true },
): Promise<string | null> {
  const info = await Deno.lstat(path).catch(() => null);
  if (!info) return "was removed after it was checked";
  if (info.isSymlink || !info.isFile) return "is no longer a regular file";
  if (
    info.size !== expect.size || (info.ino ?? 0) !== expect.ino ||
    (info.mtime?.getTime() ?? 0) !== Math.trunc(expect.mtimeMs)
  ) {
    return "changed after it was checked (the server may have saved it)";
  }
  const read = await readRegularFile(path, expect.size + 1);
  if (!read.ok || (await sha256Hex(read.value)) !== expect.sha256) {
    return "changed after it was checked (its content differs)";
  }
  return null;
}

/**
 * The expectation that describes a file as it is now, with its bytes; an
 * `exists: false` expectation when it does not exist.
 *
 * @example
 * ```ts
 * const now = await expectationOf("/srv/sessions/abc.json", 1 << 30);
 * ```
 */
export async function expectationOf(
  path: string,
  maxBytes: number,
): Promise<
  { expect: Expectation; bytes: Uint8Array | null } | { problem: string }
> {
  const read = await readRegularFile(path, maxBytes);
  if (!read.ok) {
    if (read.problem.reason === "missing") {
      return { expect: { exists: false }, bytes: null };
    }
    return { problem: read.problem.detail };
  }
  return {
    expect: {
      exists: true,
      size: read.identity.size,
      mtimeMs: read.identity.mtimeMs,
      ino: read.identity.ino,
      sha256: await sha256Hex(read.value),
    },
    bytes: read.value,
  };
}

/**
 * Fsyncs a dir, so a link, rename or removal in it is durable; a
 * filesystem that cannot fsync a dir is fine.
 *
 * @example
 * ```ts
 * await fsyncDir("/srv/sessions");
 * ```
 */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await Deno.open(dir, { read: true });
  try {
    await handle.sync();
  } catch {
    /* some filesystems cannot fsync a dir; the rename is done */
  } finally {
    handle.close();
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * A new run id: UTC time and a random suffix, e.g. `20261121T050102Z-a1b2c3`.
 *
 * @example
 * ```ts
 * newRunId(); // "20261121T050102Z-a1b2c3"
 * ```
 */
export function newRunId(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  return `${stamp}-${randomHex(3)}`;
}

/**
 * Puts a file moved aside back at its path, when the path is empty:
 * create-or-fail, so a save that lands meanwhile wins (and the moved file
 * stays where it is). True when it was put back.
 */
async function putBack(kept: string, target: string): Promise<boolean> {
  try {
    if (await exists(target)) return false;
    await Deno.link(kept, target);
  } catch {
    return false;
  }
  await Deno.remove(kept).catch(() => {});
  await fsyncDir(dirname(target)).catch(() => {});
  return true;
}

/** An action of a dead run whose old file a later run put back. */
export interface RolledBackAction {
  runId: string;
  seq: number;
  path: string;
}

/**
 * Finishes what runs that died mid-action left half done. A run killed
 * between moving a file into its quarantine and linking the new file in
 * leaves no file at that path: its bytes are only in the quarantine, where
 * the server does not look. For each such action (still `pending` in a run
 * that never finished, its path empty, its quarantined file holding
 * exactly the bytes it was planned on) the old file is put back,
 * create-or-fail (a save that appeared meanwhile wins), and the action is
 * recorded as failed (`interrupted`), so `undo` of that run leaves it
 * alone. Call it only while holding the lock: then no run that has not
 * finished is still alive.
 *
 * @example
 * ```ts
 * const lock = await acquireLock(sessionDir, "repair");
 * const putBack = await rollBackInterruptedActions(sessionDir);
 * ```
 */
export async function rollBackInterruptedActions(
  sessionDir: string,
): Promise<RolledBackAction[]> {
  const real = await Deno.realPath(sessionDir);
  const done: RolledBackAction[] = [];
  // Only runs whose every record passes validation (run_records.ts): a
  // record the tool did not write is reported by the audit, never acted on.
  const { runs } = await listRuns(real, { unfinishedOnly: true });
  for (const run of runs) {
    for (const entry of run.entries) {
      if (
        entry.status !== "pending" || entry.op !== "write" || !entry.before ||
        entry.quarantined === undefined
      ) continue;
      let target: string;
      try {
        target = await resolveInStore(real, entry.path);
      } catch {
        continue; // refused paths were never written
      }
      if (await exists(target)) continue; // the move never happened, or a save landed
      const kept = join(real, entry.quarantined);
      // No more than the recorded size: bigger bytes cannot match.
      const read = await readRegularFile(kept, entry.before.size);
      if (!read.ok || (await sha256Hex(read.value)) !== entry.before.sha256) {
        continue;
      }
      try {
        await Deno.link(kept, target);
      } catch {
        continue; // a file appeared meanwhile: it wins
      }
      await fsyncDir(dirname(target));
      const record: ManifestEntry = {
        ...entry,
        status: "failed",
        reason: "interrupted",
        detail:
          `the run was interrupted after moving ${entry.path} aside; the old file was put back`,
        at: new Date().toISOString(),
      };
      delete record.quarantined;
      await writeRecordFile(
        join(real, RUNS_DIR, run.runId, "actions", recordName(entry.seq)),
        record,
        real,
      );
      await Deno.remove(kept).catch(() => {});
      await fsyncDir(dirname(kept));
      done.push({ runId: run.runId, seq: entry.seq, path: entry.path });
    }
  }
  return done;
}

/**
 * Deletes a run's dir, quarantine included: the one deletion the tool makes
 * of its own data, and only when the operator asks (`runs --prune`).
 *
 * @example
 * ```ts
 * await deleteRun("/srv/sessions", "20261121T050102Z-a1b2c3");
 * ```
 */
export async function deleteRun(
  sessionDir: string,
  runId: string,
): Promise<void> {
  if (!isRunId(runId)) {
    throw new TypeError(`invalid run id ${JSON.stringify(runId)}`);
  }
  const dir = join(sessionDir, RUNS_DIR, runId);
  const info = await Deno.lstat(dir);
  if (
    !info.isDirectory || info.isSymlink || !(await plainRunsDir(sessionDir))
  ) {
    throw new Error(`${dir} is not a run dir`);
  }
  await Deno.remove(dir, { recursive: true });
  await fsyncDir(join(sessionDir, RUNS_DIR));
}

async function exists(path: string): Promise<boolean> {
  return (await Deno.lstat(path).catch(() => null)) !== null;
}
