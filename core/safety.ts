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
 * It refuses paths that leave the session dir, symlinks, and non-regular
 * files, and gives new files the owner and mode of the file they replace
 * (or of the session dir).
 *
 * @example
 * ```ts
 * import { StoreWriter } from "./safety.ts";
 * const writer = await StoreWriter.open("/srv/sessions", "20261121T050000Z-ab12cd");
 * const outcome = await writer.apply({
 *   op: "write", path: "abc.json", data: new TextEncoder().encode("{}"),
 *   expect: { exists: false }, note: "create abc.json",
 * });
 * await writer.close();
 * ```
 * @module
 */

import { basename, dirname, join } from "node:path";
import { randomBytes } from "node:crypto";
import type { Action, ActionOutcome, Expectation } from "./action.ts";
import { readRegularFile } from "./file_read.ts";
import { sha256Hex } from "./hash.ts";
import { JOURNAL_DIR } from "./store_layout.ts";
import { TOOL_VERSION } from "./version.ts";

/** The dir, inside the session dir, that holds every run's quarantine. */
export const RUNS_DIR = "_hermes_fsck/runs";

/** One entry of a run's manifest. */
export interface ManifestEntry {
  seq: number;
  op: Action["op"];
  path: string;
  note: string;
  status: ActionOutcome["status"];
  reason?: ActionOutcome["reason"];
  detail?: string;
  /** Where the old bytes are, relative to the session dir. */
  quarantined?: string;
  before: { sha256: string; size: number } | null;
  after: { sha256: string; size: number } | null;
  at: string;
}

/** A run's manifest: what it changed and where the old bytes are. */
export interface Manifest {
  tool: string;
  version: string;
  runId: string;
  sessionDir: string;
  startedAt: string;
  finishedAt: string | null;
  entries: ManifestEntry[];
}

/** Options of {@linkcode StoreWriter.open}. */
export interface WriterOptions {
  /**
   * For crash tests: exit the process abruptly after this many durable
   * steps (set from `HERMES_FSCK_FAULT_AFTER_STEPS`).
   */
  faultAfterSteps?: number;
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
  readonly runId: string;
  readonly sessionDir: string;
  /** The run's dir, relative to the session dir. */
  readonly runDir: string;
  #manifest: Manifest;
  #steps = 0;
  #faultAfter: number | undefined;
  #runDirReady = false;

  private constructor(
    sessionDir: string,
    runId: string,
    options: WriterOptions,
  ) {
    this.sessionDir = sessionDir;
    this.runId = runId;
    this.runDir = `${RUNS_DIR}/${runId}`;
    this.#faultAfter = options.faultAfterSteps;
    this.#manifest = {
      tool: "hermes-fsck",
      version: TOOL_VERSION,
      runId,
      sessionDir,
      startedAt: new Date().toISOString(),
      finishedAt: null,
      entries: [],
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
    if (!/^[0-9A-Za-z_-]+$/.test(runId)) {
      throw new TypeError(`invalid run id ${JSON.stringify(runId)}`);
    }
    const real = await Deno.realPath(sessionDir);
    return new StoreWriter(real, runId, options);
  }

  /** How many actions were applied so far. */
  get appliedCount(): number {
    return this.#manifest.entries.filter((e) => e.status === "applied").length;
  }

  /** The manifest so far. */
  get manifest(): Readonly<Manifest> {
    return this.#manifest;
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
    const seq = this.#manifest.entries.length + 1;
    let outcome: ActionOutcome;
    try {
      const target = await this.#resolve(action.path);
      outcome = action.op === "write"
        ? await this.#write(target, action, seq)
        : await this.#remove(target, action, seq);
    } catch (error) {
      outcome = error instanceof RefusedPath
        ? { status: "skipped", reason: "refused", detail: error.message }
        : {
          status: "failed",
          reason: "io_error",
          detail: `${action.path}: ${errorText(error)}`,
        };
    }
    await this.#record(seq, action, outcome);
    return outcome;
  }

  /**
   * Marks the run finished in its manifest.
   *
   * @example
   * ```ts
   * await writer.close();
   * ```
   */
  async close(): Promise<void> {
    if (!this.#runDirReady) return;
    this.#manifest.finishedAt = new Date().toISOString();
    await this.#writeManifest();
  }

  async #write(
    target: string,
    action: Extract<Action, { op: "write" }>,
    seq: number,
  ): Promise<ActionOutcome> {
    const dir = dirname(target);
    const reference = action.expect.exists ? target : dir;
    const temp = await this.#writeTemp(
      dir,
      basename(target),
      action.data,
      reference,
    );
    try {
      if (!action.expect.exists) {
        return await this.#linkNew(temp, target, action.path);
      }
      const moved = await this.#moveAside(
        target,
        action.expect,
        seq,
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

  async #remove(
    target: string,
    action: Extract<Action, { op: "remove" }>,
    seq: number,
  ): Promise<ActionOutcome> {
    const moved = await this.#moveAside(
      target,
      action.expect,
      seq,
      action.path,
    );
    if (!moved.ok) return moved.outcome;
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
    seq: number,
    rel: string,
  ): Promise<
    | { ok: true; quarantined: string }
    | { ok: false; outcome: ActionOutcome }
  > {
    const changed = (
      detail: string,
    ): { ok: false; outcome: ActionOutcome } => ({
      ok: false,
      outcome: {
        status: "skipped",
        reason: "store_changed",
        detail: `${rel} ${detail}`,
      },
    });
    if (!expect.exists) throw new Error("internal: nothing to move aside");
    const before = await identical(target, expect);
    if (before !== null) return changed(before);
    await this.#prepareRunDir();
    const quarantinedRel = `${this.runDir}/files/${
      String(seq).padStart(4, "0")
    }-${basename(target)}`;
    const quarantined = join(this.sessionDir, quarantinedRel);
    await Deno.rename(target, quarantined);
    await this.#step("moved aside");
    const after = await identical(quarantined, expect);
    if (after !== null) {
      // The server saved between the check and the rename: put its file
      // back. If it saved yet again, its newest file stays and the one we
      // moved is kept in quarantine.
      try {
        await Deno.link(quarantined, target);
        await Deno.remove(quarantined);
      } catch { /* a newer file is in place; keep ours in quarantine */ }
      await fsyncDir(dirname(target));
      return changed(after);
    }
    await fsyncDir(dirname(quarantined));
    return { ok: true, quarantined: quarantinedRel };
  }

  async #writeTemp(
    dir: string,
    name: string,
    data: Uint8Array,
    ownerOf: string,
  ): Promise<string> {
    const temp = join(
      dir,
      `${name}.hermes-fsck.tmp.${Deno.pid}.${randomBytes(4).toString("hex")}`,
    );
    const file = await Deno.open(temp, {
      write: true,
      createNew: true,
      mode: 0o600,
    });
    try {
      let written = 0;
      while (written < data.length) {
        written += await file.write(data.subarray(written));
      }
      await matchOwnerAndMode(temp, ownerOf);
      await file.sync();
    } finally {
      file.close();
    }
    await this.#step("temp written");
    return temp;
  }

  async #resolve(rel: string): Promise<string> {
    const parts = rel.split("/");
    const allowed = (parts.length === 1) ||
      (parts.length === 2 && parts[0] === JOURNAL_DIR);
    if (
      !allowed || parts.some((p) => p === "" || p === "." || p === "..") ||
      rel.includes("\\") || rel.includes("\0")
    ) {
      throw new RefusedPath(
        `refused to write ${JSON.stringify(rel)}: it leaves the session dir`,
      );
    }
    const target = join(this.sessionDir, ...parts);
    const parent = dirname(target);
    const info = await Deno.lstat(parent).catch(() => null);
    if (!info?.isDirectory || info.isSymlink) {
      throw new RefusedPath(
        `refused to write ${rel}: ${dirname(rel)} is not a plain directory`,
      );
    }
    const realParent = await Deno.realPath(parent);
    if (realParent !== parent) {
      throw new RefusedPath(
        `refused to write ${rel}: its directory resolves outside the session dir`,
      );
    }
    const existing = await Deno.lstat(target).catch(() => null);
    if (existing && (existing.isSymlink || !existing.isFile)) {
      throw new RefusedPath(
        `refused to write ${rel}: it is a ${
          existing.isSymlink ? "symlink" : "non-regular file"
        }`,
      );
    }
    return target;
  }

  async #prepareRunDir(): Promise<void> {
    if (this.#runDirReady) return;
    await Deno.mkdir(join(this.sessionDir, this.runDir, "files"), {
      recursive: true,
      mode: 0o700,
    });
    this.#runDirReady = true;
    await this.#writeManifest();
  }

  async #record(
    seq: number,
    action: Action,
    outcome: ActionOutcome,
  ): Promise<void> {
    const before = action.expect.exists
      ? { sha256: action.expect.sha256, size: action.expect.size }
      : null;
    const after = action.op === "write" && outcome.status === "applied"
      ? { sha256: sha256Hex(action.data), size: action.data.length }
      : null;
    const entry: ManifestEntry = {
      seq,
      op: action.op,
      path: action.path,
      note: action.note,
      status: outcome.status,
      before,
      after,
      at: new Date().toISOString(),
    };
    if (outcome.reason) entry.reason = outcome.reason;
    if (outcome.detail) entry.detail = outcome.detail;
    if (outcome.quarantined) entry.quarantined = outcome.quarantined;
    this.#manifest.entries.push(entry);
    if (outcome.status === "applied" || outcome.quarantined) {
      await this.#prepareRunDir();
      await this.#writeManifest();
    }
  }

  async #writeManifest(): Promise<void> {
    const dir = join(this.sessionDir, this.runDir);
    const temp = join(dir, `manifest.json.tmp.${Deno.pid}`);
    const data = new TextEncoder().encode(
      JSON.stringify(this.#manifest, null, 2) + "\n",
    );
    const file = await Deno.open(temp, {
      write: true,
      create: true,
      truncate: true,
      mode: 0o600,
    });
    try {
      let written = 0;
      while (written < data.length) {
        written += await file.write(data.subarray(written));
      }
      await file.sync();
    } finally {
      file.close();
    }
    await Deno.rename(temp, join(dir, "manifest.json"));
    await fsyncDir(dir);
    await this.#step("manifest written");
  }

  async #step(_label: string): Promise<void> {
    this.#steps++;
    if (this.#faultAfter !== undefined && this.#steps >= this.#faultAfter) {
      // Simulates a crash: no cleanup, no report, no unwinding.
      Deno.exit(137);
    }
    await Promise.resolve();
  }
}

class RefusedPath extends Error {}

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
  if (!read.ok || sha256Hex(read.value) !== expect.sha256) {
    return "changed after it was checked (its content differs)";
  }
  return null;
}

/**
 * The expectation that describes a file as it is now, from its bytes and
 * identity; null when it does not exist.
 *
 * @example
 * ```ts
 * const expect = await expectationOf("/srv/sessions/abc.json");
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
      sha256: sha256Hex(read.value),
    },
    bytes: read.value,
  };
}

async function matchOwnerAndMode(
  temp: string,
  reference: string,
): Promise<void> {
  const ref = await Deno.stat(reference).catch(() => null);
  if (!ref) return;
  const isDir = ref.isDirectory;
  const mode = ref.mode === null
    ? null
    : isDir
    ? ref.mode & 0o666
    : ref.mode & 0o7777;
  if (mode !== null) await Deno.chmod(temp, mode).catch(() => {});
  if (ref.uid !== null && ref.gid !== null) {
    // Only root may give a file away; as the owner, this is a no-op.
    await Deno.chown(temp, ref.uid, ref.gid).catch(() => {});
  }
}

async function fsyncDir(dir: string): Promise<void> {
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
export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  return `${stamp}-${randomBytes(3).toString("hex")}`;
}
