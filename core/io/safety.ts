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
 * still be undone. Independent actions are applied as a group, as a
 * database groups commits: all their records and new files are made
 * durable at once, then the store files change, then the store's dirs are
 * synced once, then the records of how they ended (docs/safety.md, "Group
 * commit"). It refuses paths that leave the session dir, symlinks
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

import { basename, dirname, isAbsolute, join } from "./path.ts";
import type { Action, ActionOutcome, Expectation } from "../plugins/action.ts";
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
import { TOOL_VERSION } from "../run/version.ts";

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
 * import { StoreWriter, newRunId } from "./safety.ts";
 * declare const sessionDir: string;
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
 * import { StoreWriter, newRunId } from "./safety.ts";
 * declare const sessionDir: string;
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
   * import { StoreWriter } from "./safety.ts";
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
   * import { StoreWriter } from "./safety.ts";
   * import type { Action } from "../plugins/action.ts";
   * declare const writer: StoreWriter;
   * declare const action: Action;
   * const outcome = await writer.apply(action);
   * if (outcome.status === "skipped") console.log(outcome.detail);
   * ```
   */
  async apply(action: Action): Promise<ActionOutcome> {
    return (await this.applyBatch([action]))[0];
  }

  /**
   * Applies actions that do not depend on one another (each is checked
   * against the file it was planned on, and one's outcome changes nothing
   * for the others), in order, with their durable writes grouped: the
   * records and new files of all of them are made durable together before
   * any store file changes, and the store's dirs are synced once for all
   * (see docs/safety.md). Writes and removals of distinct paths are
   * grouped; an append or a truncation, or a second action on a path,
   * starts a new group. Never throws for store problems: the outcomes say
   * what happened, one per action, in order.
   *
   * @example
   * ```ts
   * import { StoreWriter } from "./safety.ts";
   * import type { Action } from "../plugins/action.ts";
   * declare const writer: StoreWriter;
   * declare const restoreA: Action;
   * declare const restoreB: Action;
   * const outcomes = await writer.applyBatch([restoreA, restoreB]);
   * console.log(outcomes.map((o) => o.status));
   * ```
   */
  async applyBatch(actions: readonly Action[]): Promise<ActionOutcome[]> {
    const outcomes: ActionOutcome[] = [];
    let group: Action[] = [];
    const paths = new Set<string>();
    const commit = async () => {
      if (group.length > 0) outcomes.push(...await this.#commit(group));
      group = [];
      paths.clear();
    };
    for (const action of actions) {
      const inPlace = action.op === "append" || action.op === "truncate";
      if (inPlace || paths.has(action.path)) await commit();
      group.push(action);
      paths.add(action.path);
      if (inPlace) await commit();
    }
    await commit();
    return outcomes;
  }

  /**
   * Marks the run finished in its header.
   *
   * @example
   * ```ts
   * import { StoreWriter } from "./safety.ts";
   * declare const writer: StoreWriter;
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

  /**
   * One group: writes and removals of distinct paths, or one append or
   * truncation. The write-ahead rule holds for each action: its record
   * (and a write's new file) is durable before its store file changes.
   */
  async #commit(actions: readonly Action[]): Promise<ActionOutcome[]> {
    for (const action of actions) await this.#beforeApply?.(action);
    const items: Item[] = [];
    // A store dir is checked once a group: its actions are applied together.
    const checkedDirs = new Set<string>();
    const hashes = await Promise.all(
      actions.map((action) =>
        action.op === "write" || action.op === "append"
          ? sha256Hex(action.data)
          : ""
      ),
    );
    for (const [i, action] of actions.entries()) {
      items.push(await this.#begin(action, hashes[i], checkedDirs));
    }
    await this.#writeAhead(items);
    const [first] = items;
    if (first.action.op === "append" || first.action.op === "truncate") {
      if (!first.outcome) {
        await this.#changeInPlace(first).catch((error) =>
          this.#settleError(first, error)
        );
      }
    } else {
      await this.#moveAside(items);
      await this.#linkIn(items);
      await this.#syncStoreDirs(items);
      await this.#removeTemps(items);
    }
    for (const item of items) {
      const outcome = item.outcome ?? {
        status: "applied",
        ...(item.moved ? { quarantined: item.entry.quarantined } : {}),
      };
      const entry = item.entry;
      entry.status = outcome.status;
      if (outcome.reason) entry.reason = outcome.reason;
      if (outcome.detail) entry.detail = outcome.detail;
      if (outcome.quarantined) entry.quarantined = outcome.quarantined;
      else delete entry.quarantined;
      item.outcome = outcome;
    }
    if (this.#runDirReady) await this.#recordEnds(items);
    return items.map((item) => item.outcome!);
  }

  /** The action's record (pending) and where its store file is. */
  async #begin(
    action: Action,
    dataHash: string,
    checkedDirs: Set<string>,
  ): Promise<Item> {
    const entry: ManifestEntry = {
      seq: this.#entries.length + 1,
      op: action.op,
      path: action.path,
      note: action.note,
      status: "pending",
      before: action.expect.exists
        ? { sha256: action.expect.sha256, size: action.expect.size }
        : null,
      after: action.op === "write"
        ? { sha256: dataHash, size: action.data.length }
        : null,
      ...(action.op === "append"
        ? {
          tail: {
            offset: action.expect.size,
            size: action.data.length,
            sha256: dataHash,
          },
        }
        : {}),
      at: new Date().toISOString(),
    };
    this.#entries.push(entry);
    const item: Item = { action, entry, changed: false, moved: false };
    try {
      item.target = await resolveInStore(
        this.sessionDir,
        action.path,
        checkedDirs,
      );
      // An append replaces nothing, so it keeps nothing.
      if (action.expect.exists && action.op !== "append") {
        entry.quarantined = quarantinePath(this.runId, entry.seq, action.path);
      }
    } catch (error) {
      await this.#settleError(item, error);
    }
    return item;
  }

  /**
   * The write-ahead half: every action's pending record, and every write's
   * new file in a temp beside its target, all fsynced together (their
   * fsyncs run at once, so the filesystem commits them as one), then the
   * records renamed into place and the records' dir fsynced once. Nothing
   * of the store has changed yet.
   */
  async #writeAhead(items: Item[]): Promise<void> {
    const live = items.filter((item) => !item.outcome);
    if (live.length === 0) return;
    try {
      await this.#openRunDir();
    } catch (error) {
      for (const item of live) await this.#settleError(item, error);
      return;
    }
    const writes = live.filter((item) => item.action.op === "write");
    const [failed] = await Promise.all([
      this.#writeRecords(live),
      inParallel(writes, async (item) => {
        const action = item.action as Extract<Action, { op: "write" }>;
        const target = item.target!;
        const look = await lookOf(
          action.expect.exists ? target : dirname(target),
          (action.sources ?? []).map((source) =>
            isAbsolute(source) ? source : join(this.sessionDir, source)
          ),
        );
        const temp = join(
          dirname(target),
          fitName(
            "",
            basename(target),
            `.hermes-fsck.tmp.${Deno.pid}.${randomHex(4)}`,
          ),
        );
        try {
          await createNoFollow(temp, action.data, look);
          item.temp = temp;
        } catch (error) {
          item.tempError = error;
        }
      }),
    ]);
    for (const [item, error] of failed) await this.#settleError(item, error);
    for (const item of writes) {
      if (item.outcome) continue;
      if (item.tempError !== undefined) {
        await this.#settleError(item, item.tempError);
        continue;
      }
      await this.#step("temp written").catch((error) =>
        this.#settleError(item, error)
      );
    }
  }

  /**
   * Renames each replaced or removed file into the quarantine, once its
   * identity is still the one planned on, then checks on the open file
   * that what moved is exactly those bytes; a file the server saved
   * meanwhile is put back and its action skipped. The quarantine's dir is
   * fsynced once for all, before any new file is linked in.
   */
  async #moveAside(items: Item[]): Promise<void> {
    const moving = items.filter((item) =>
      !item.outcome && item.action.expect.exists
    );
    for (const item of moving) {
      const expect = item.action.expect as Expectation & { exists: true };
      const target = item.target!;
      const changed = (detail: string, quarantined?: string) => {
        item.outcome = {
          status: "skipped",
          reason: "store_changed",
          detail: `${item.action.path} ${detail}`,
          ...(quarantined ? { quarantined } : {}),
        };
      };
      try {
        const before = sameIdentity(target, expect);
        if (before !== null) {
          changed(before);
          continue;
        }
        const quarantined = join(this.sessionDir, item.entry.quarantined!);
        // Synchronous in this loop: a hop to the I/O threads per call costs
        // more than the call.
        Deno.renameSync(target, quarantined);
        item.moved = true;
        await this.#step("moved aside");
        const after = await identical(quarantined, expect);
        if (after === null) continue;
        // The server saved between the check and the rename: put its file
        // back. If it saved yet again, its newest file stays in place and
        // the one moved here is kept in quarantine.
        let putBack = false;
        try {
          await Deno.link(quarantined, target);
          await Deno.remove(quarantined);
          putBack = true;
        } catch { /* a newer file is in place; keep ours in quarantine */ }
        item.moved = false;
        await fsyncDir(dirname(target));
        // A symlink (or other non-file) swapped in holds no bytes of the
        // store, and a record naming it fails validation, which would
        // block undo of the whole run: only a regular file is named.
        const kept = !putBack && await isRegularFile(quarantined);
        changed(after, kept ? item.entry.quarantined : undefined);
      } catch (error) {
        await this.#settleError(item, error);
      }
    }
    const moved = moving.filter((item) => item.moved && !item.outcome);
    if (moved.length === 0) return;
    try {
      await fsyncDir(join(this.sessionDir, this.runDir, "files"));
    } catch (error) {
      for (const item of moved) await this.#settleError(item, error);
    }
  }

  /**
   * Links each write's new file in, create-or-fail (a save that landed
   * meanwhile wins); a removal is done once its file is moved aside.
   */
  async #linkIn(items: Item[]): Promise<void> {
    for (const item of items) {
      if (item.outcome) continue;
      if (item.action.op === "remove") {
        item.changed = true;
        continue;
      }
      try {
        Deno.linkSync(item.temp!, item.target!);
        item.changed = true;
      } catch (error) {
        if (error instanceof Deno.errors.AlreadyExists) {
          item.outcome = {
            status: "skipped",
            reason: "exists",
            detail: `${item.action.path} appeared while hermes-fsck was ` +
              "writing it; the new file was kept",
            ...(item.moved ? { quarantined: item.entry.quarantined } : {}),
          };
        } else await this.#settleError(item, error);
        continue;
      }
      await this.#step("linked").catch((error) =>
        this.#settleError(item, error)
      );
    }
  }

  /** Fsyncs each store dir a change was made in, once. */
  async #syncStoreDirs(items: Item[]): Promise<void> {
    const changed = items.filter((item) => item.changed && !item.outcome);
    const dirs = new Map<string, Item[]>();
    for (const item of changed) {
      const dir = dirname(item.target!);
      dirs.set(dir, [...dirs.get(dir) ?? [], item]);
    }
    for (const [dir, of] of dirs) {
      try {
        await fsyncDir(dir);
      } catch (error) {
        for (const item of of) await this.#settleError(item, error);
      }
    }
    for (const item of changed) {
      if (item.outcome) continue;
      await this.#step("dir synced").catch((error) =>
        this.#settleError(item, error)
      );
    }
  }

  async #removeTemps(items: Item[]): Promise<void> {
    const temps = items.filter((item) => item.temp !== undefined);
    await inParallel(temps, (item) => Deno.remove(item.temp!).catch(() => {}));
    for (const item of temps) {
      try {
        await this.#step("temp removed");
      } catch (error) {
        if (!item.outcome || item.outcome.status !== "failed") {
          await this.#settleError(item, error);
        }
      }
    }
  }

  /**
   * An append or a truncation, in place under the file's lock (see
   * locked_append.ts). A truncation's cut bytes are kept in quarantine and
   * recorded before the file is cut.
   */
  async #changeInPlace(item: Item): Promise<void> {
    const action = item.action as Extract<
      Action,
      { op: "append" | "truncate" }
    >;
    const entry = item.entry;
    const target = item.target!;
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
          const [failed] = await this.#writeRecords([item]);
          if (failed) throw failed[1];
        },
      );
    if (!done.ok) {
      item.outcome = {
        status: "skipped",
        reason: done.reason,
        detail: `${action.path} ${done.detail}`,
      };
      return;
    }
    item.changed = true;
    entry.after = done.after;
    await this.#step(action.op === "append" ? "appended" : "truncated");
    if (action.op === "truncate") item.moved = true;
  }

  /**
   * What an error means for an action: refused; applied (the change is in
   * place and only what follows failed: it stands, and undo can revert
   * it); or failed, with a file moved aside put back, so the store is as
   * it was. Bytes still in quarantine are pointed at, so undo can put
   * them back.
   */
  async #settleError(item: Item, error: unknown): Promise<void> {
    const { action, entry, target } = item;
    const kept = entry.quarantined && join(this.sessionDir, entry.quarantined);
    let outcome: ActionOutcome;
    if (error instanceof RefusedPath) {
      outcome = { status: "skipped", reason: "refused", detail: error.message };
    } else if (item.changed) {
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
      // Create-or-fail: a save that landed meanwhile wins, and the moved
      // file stays in quarantine.
      if (kept && target && await putBack(kept, target)) {
        outcome.detail += "; the old file was put back";
      }
      item.moved = false;
    }
    // As after a move: only a regular file moved aside is named (a link
    // swapped in holds nothing of the store, and would fail validation).
    if (kept && (await isRegularFile(kept))) {
      outcome.quarantined = entry.quarantined;
    }
    item.outcome = outcome;
  }

  /**
   * The records of how the actions ended. A record that cannot be written
   * leaves the outcome standing; its record still says `pending`, which
   * the next repair's roll-back and `undo` read safely, so a full disk or
   * a filesystem turned read-only does not crash the run.
   */
  async #recordEnds(items: Item[]): Promise<void> {
    for (const [item, error] of await this.#writeRecords(items)) {
      const outcome = item.outcome!;
      item.outcome = {
        ...outcome,
        detail: outcome.status === "failed"
          ? `${outcome.detail}; its record could not be updated either`
          : `${outcome.detail ? `${outcome.detail}; ` : ""}its record in ` +
            `${this.runDir}/actions could not be updated (${errorText(error)})${
              ioHint(error)
            }`,
      };
    }
  }

  /** Makes the run's dirs and writes its header, the first time. */
  async #openRunDir(): Promise<void> {
    if (this.#runDirReady) return;
    const subs = [
      dirname(RUNS_DIR),
      RUNS_DIR,
      this.runDir,
      `${this.runDir}/files`,
      `${this.runDir}/actions`,
    ];
    // One level at a time, never through a symlink: a `_hermes_fsck`
    // planted as a link would send the quarantine (the store's old files)
    // and the records out of the session dir. The tool's own dirs belong
    // to the session dir's owner, as its files do: a run as root must not
    // lock the server's user out of the next.
    const owner = await lookOf(this.sessionDir);
    for (const sub of subs) await makePlainDir(this.sessionDir, sub, owner);
    // Ready once the header is written: a run whose header failed (its dir
    // swapped for a link meanwhile, say) records and changes nothing, names
    // no run to undo, and tries again at its next group.
    await this.#writeRecord("run.json", this.#header);
    this.#runDirReady = true;
  }

  /**
   * Writes the items' records, each atomically (a temp, fsynced, renamed
   * into place), with the fsyncs at once and one fsync of the dir after
   * the renames. Returns the items whose record failed, with the error.
   */
  async #writeRecords(items: Item[]): Promise<[Item, unknown][]> {
    const dir = join(this.sessionDir, this.runDir, "actions");
    const look = await lookOf(this.sessionDir);
    const errors = new Map<Item, unknown>();
    const renamed: Item[] = [];
    // Renamed as soon as each is durable: replacing a record frees the
    // old one's inode, which costs a wait each, overlapped here.
    await inParallel(items, async (item) => {
      const path = join(dir, recordName(item.entry.seq));
      try {
        Deno.renameSync(await recordTemp(path, item.entry, look), path);
        renamed.push(item);
      } catch (error) {
        errors.set(item, error);
      }
    });
    renamed.sort((a, b) => a.entry.seq - b.entry.seq);
    try {
      if (renamed.length > 0) await fsyncDir(dir);
    } catch (error) {
      for (const item of renamed) errors.set(item, error);
    }
    for (const item of renamed) {
      if (errors.has(item)) continue;
      await this.#step(`recorded actions/${recordName(item.entry.seq)}`)
        .catch((error) => errors.set(item, error));
    }
    return items.filter((item) => errors.has(item)).map((item) => [
      item,
      errors.get(item),
    ]);
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

/** One action of a group, as it goes. */
interface Item {
  action: Action;
  /** Its record. */
  entry: ManifestEntry;
  /** Its store file, absolute; unset when the path was refused. */
  target?: string;
  /** Set once it ended (skipped, failed, or an error after its change). */
  outcome?: ActionOutcome;
  /** Its change is in place: an error after this does not undo it. */
  changed: boolean;
  /** Its old file (or a truncation's cut bytes) is in the quarantine. */
  moved: boolean;
  /** A write's new file, fsynced, beside its target. */
  temp?: string;
  /** Why that temp could not be written. */
  tempError?: unknown;
}

/** How many files are written and fsynced at once. */
const PARALLEL = 64;

/**
 * Runs `work` on every item, at most {@linkcode PARALLEL} at once: fsyncs
 * issued together are committed together by a journaling filesystem,
 * where one after another each waits for its own commit.
 */
async function inParallel<T>(
  items: readonly T[],
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(
    Array.from({ length: Math.min(PARALLEL, items.length) }, worker),
  );
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
 * import { writeToolFile } from "./safety.ts";
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
  await Deno.rename(await recordTemp(path, value, await lookOf(ownerOf)), path);
  await fsyncDir(dirname(path));
}

/**
 * A record's bytes in a fsynced temp beside `path` (`<path>.tmp.<pid>`),
 * with `look`; returns the temp, for the caller to rename into place.
 */
async function recordTemp(
  path: string,
  value: unknown,
  look: FileLook,
): Promise<string> {
  const temp = `${path}.tmp.${Deno.pid}`;
  try {
    Deno.removeSync(temp); // left by a dead run of this pid
  } catch { /* none: the usual case */ }
  await createNoFollow(
    temp,
    new TextEncoder().encode(JSON.stringify(value, null, 2) + "\n"),
    look,
  );
  return temp;
}

/**
 * The absolute path of a store file, refusing anything that leaves the
 * session dir (a path outside the dir or its journal dir, a symlinked
 * dir) and anything in place that is not a regular file.
 */
async function resolveInStore(
  sessionDir: string,
  rel: string,
  checkedDirs: Set<string> = new Set(),
): Promise<string> {
  // The same rule run records are checked by (isStorePath).
  if (!isStorePath(rel)) {
    throw new RefusedPath(
      `refused to write ${JSON.stringify(rel)}: it leaves the session dir`,
    );
  }
  const target = join(sessionDir, ...rel.split("/"));
  const parent = dirname(target);
  if (!checkedDirs.has(parent)) {
    await checkStoreDir(parent, rel);
    checkedDirs.add(parent);
  }
  let existing: Deno.FileInfo | null = null;
  try {
    existing = Deno.lstatSync(target);
  } catch { /* a new file */ }
  if (existing && (existing.isSymlink || !existing.isFile)) {
    throw new RefusedPath(
      `refused to write ${rel}: it is a ${
        existing.isSymlink ? "symlink" : "non-regular file"
      }; put the file itself in its place and run repair again`,
    );
  }
  return target;
}

/** Refuses `parent`, the dir of store path `rel`, unless it is a plain dir in the session dir. */
async function checkStoreDir(parent: string, rel: string): Promise<void> {
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
}

/**
 * What the operator can do about a failed write, as a clause to append to
 * its message: the common causes by their error code.
 *
 * @example
 * ```ts
 * import { ioHint } from "./safety.ts";
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
 * Null when the name `path` still holds the file `expect` was planned on,
 * by what `lstat` tells (a regular file of that inode, size and mtime),
 * else a phrase saying how it differs: the cheap check before a file is
 * moved aside; {@linkcode identical} then checks what was moved.
 */
function sameIdentity(
  path: string,
  expect: Expectation & { exists: true },
): string | null {
  let info: Deno.FileInfo | null = null;
  try {
    info = Deno.lstatSync(path);
  } catch { /* gone */ }
  if (!info) return "was removed after it was checked";
  if (info.isSymlink || !info.isFile) return "is no longer a regular file";
  if (
    info.size !== expect.size || (info.ino ?? 0) !== expect.ino ||
    (info.mtime?.getTime() ?? 0) !== Math.trunc(expect.mtimeMs)
  ) {
    return "changed after it was checked (the server may have saved it)";
  }
  return null;
}

/**
 * Null when the file at `path` is the one `expect` describes, else a
 * phrase saying how it differs: identity and bytes both taken from one
 * open descriptor (no link followed), so what is checked is what was read.
 */
async function identical(
  path: string,
  expect: Expectation & { exists: true },
): Promise<string | null> {
  const read = await readRegularFile(path, expect.size + 1);
  if (!read.ok) {
    return read.problem.reason === "missing"
      ? "was removed after it was checked"
      : read.problem.reason === "not_regular_file"
      ? "is no longer a regular file"
      : "changed after it was checked (its content differs)";
  }
  const now = read.identity;
  if (
    now.size !== expect.size || now.ino !== expect.ino ||
    now.mtimeMs !== Math.trunc(expect.mtimeMs)
  ) {
    return "changed after it was checked (the server may have saved it)";
  }
  if ((await sha256Hex(read.value)) !== expect.sha256) {
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
 * import { expectationOf } from "./safety.ts";
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
 * import { fsyncDir } from "./safety.ts";
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
 * import { newRunId } from "./safety.ts";
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
 * import { rollBackInterruptedActions } from "./safety.ts";
 * import { acquireLock } from "./lock.ts";
 * declare const sessionDir: string;
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
 * import { deleteRun } from "./safety.ts";
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

async function isRegularFile(path: string): Promise<boolean> {
  return (await Deno.lstat(path).catch(() => null))?.isFile === true;
}

async function exists(path: string): Promise<boolean> {
  return (await Deno.lstat(path).catch(() => null)) !== null;
}
