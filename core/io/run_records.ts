/**
 * The run records of `_hermes_fsck/runs/<run>/`, read as untrusted input.
 * The session dir's owner can write there, so a record is never believed
 * because the tool once wrote one like it: each file is read with the
 * store's reader (no-follow, regular files only, a small size bound), and
 * each field is checked against what the writer would have made: the run id
 * is its dir's name, `seq` its file's, the path one the writer accepts, the
 * quarantine exactly the name the writer gives that seq and path, inside
 * the run's own plain `files/` dir. A run with any record that fails is
 * returned with its problems and no actions, so nothing acts on it.
 *
 * @example
 * ```ts
 * import { listRuns } from "./run_records.ts";
 * const { runs, invalid } = await listRuns("/srv/sessions");
 * for (const bad of invalid) console.log(bad.runId, bad.problems[0].problem);
 * ```
 * @module
 */

import { dirname, join } from "./path.ts";
import type { Action, ActionOutcome } from "../plugins/action.ts";
import { parseJsonBytes, readRegularFile } from "./file_read.ts";
import { sha256HexOfText } from "./hash.ts";
import { JOURNAL_DIR } from "../store/layout.ts";

/** The dir, inside the session dir, that holds every run's quarantine. */
export const RUNS_DIR = "_hermes_fsck/runs";

/**
 * The largest record file read: a record is a few hundred bytes, and its
 * free text (a note, an error) a few hundred more.
 *
 * @example
 * ```ts
 * import { RECORD_MAX_BYTES } from "./run_records.ts";
 * import { readRegularFile } from "./file_read.ts";
 * declare const recordPath: string;
 * await readRegularFile(recordPath, RECORD_MAX_BYTES);
 * ```
 */
export const RECORD_MAX_BYTES = 64 * 1024;

/** Sizes above this (1 TiB) describe no file a run could have read. */
const MAX_RECORDED_SIZE = 2 ** 40;

/** The longest file name the filesystems the store lives on allow, in bytes. */
const NAME_MAX = 255;

/**
 * Bytes and hash of a file version.
 *
 * @example
 * ```ts
 * import type { FileVersion } from "./run_records.ts";
 * const version: FileVersion = { sha256: "e3b0c442...", size: 0 };
 * ```
 */
export interface FileVersion {
  /** SHA-256 of the bytes, hex. */
  sha256: string;
  /** Size in bytes. */
  size: number;
}

/**
 * One action of a run, as recorded in `actions/NNNN.json`.
 *
 * @example
 * ```ts
 * import type { Manifest } from "./run_records.ts";
 * declare const manifest: Manifest;
 * for (const entry of manifest.entries) console.log(entry.seq, entry.op, entry.path, entry.status);
 * ```
 */
export interface ManifestEntry {
  /** Its place in the run, from 1. */
  seq: number;
  /** Write, remove, append or truncate. */
  op: Action["op"];
  /** Path relative to the session dir. */
  path: string;
  /** What the action is for, for a person. */
  note: string;
  /** `pending` while it runs; a run killed mid-action leaves it pending. */
  status: ActionOutcome["status"] | "pending";
  /**
   * Why it was skipped or failed; `interrupted` when the run died after
   * moving the old file aside and a later run put that file back.
   */
  reason?: ActionOutcome["reason"] | "interrupted";
  /** The error or the change that stopped it. */
  detail?: string;
  /**
   * Where the old bytes are (or were to go), relative to the session dir:
   * always {@linkcode quarantinePath} of the run, seq and path.
   */
  quarantined?: string;
  /** The file before the action; null when it did not exist. */
  before: FileVersion | null;
  /** The file the action writes; null for a removal, append or truncation. */
  after: FileVersion | null;
  /**
   * For an append or a truncation: the bytes added or cut off, at the end
   * of the file (`offset` is the file's size without them). Undo takes an
   * append back only while the file still ends with exactly these bytes.
   */
  tail?: FileVersion & { offset: number };
  /** When it was last recorded, ISO 8601. */
  at: string;
}

/**
 * The header of a run, `run.json`.
 *
 * @example
 * ```ts
 * import type { Manifest, RunHeader } from "./run_records.ts";
 * declare const manifest: Manifest;
 * const header: RunHeader = manifest;
 * console.log(header.command, header.finishedAt ?? "did not finish");
 * ```
 */
export interface RunHeader {
  /** The tool that made the run. */
  tool: "hermes-fsck";
  /** Its release. */
  version: string;
  /** The run's id, also its dir name. */
  runId: string;
  /** What made the run: `repair` or `undo`. */
  command: string;
  /** For an undo run: the run it undoes. */
  undoes?: string;
  /** The session dir, absolute. */
  sessionDir: string;
  /** When it started, ISO 8601. */
  startedAt: string;
  /** When it finished; null for a run that did not. */
  finishedAt: string | null;
}

/**
 * A run: its header and its actions in order.
 *
 * @example
 * ```ts
 * import { listRuns, type Manifest } from "./run_records.ts";
 * declare const sessionDir: string;
 * const { runs } = await listRuns(sessionDir);
 * runs.map((run: Manifest) => [run.runId, run.entries.length]);
 * ```
 */
export interface Manifest extends RunHeader {
  /** The actions, in order. */
  entries: ManifestEntry[];
}

/**
 * A record of a run (or an entry of the runs dir) that fails validation.
 *
 * @example
 * ```ts
 * import type { RunRecordProblem } from "./run_records.ts";
 * const problem: RunRecordProblem = {
 *   runId: "20261121T050102Z-a1b2c3",
 *   record: "_hermes_fsck/runs/20261121T050102Z-a1b2c3/actions/0001.json",
 *   problem: "has a seq that is not its file's number",
 * };
 * ```
 */
export interface RunRecordProblem {
  /** The run's dir name, as listed (JSON-quoted in messages when odd). */
  runId: string;
  /** The record or dir, relative to the session dir. */
  record: string;
  /** What is wrong, a phrase that follows the record's path. */
  problem: string;
}

/**
 * A run whose records fail validation: nothing acts on it.
 *
 * @example
 * ```ts
 * import type { InvalidRun } from "./run_records.ts";
 * const bad: InvalidRun = { runId: "x", problems: [] };
 * ```
 */
export interface InvalidRun {
  /** The run's dir name. */
  runId: string;
  /** Every problem found, at least one. */
  problems: RunRecordProblem[];
}

/**
 * A run as read: valid, with its actions, or invalid, with its problems.
 *
 * @example
 * ```ts
 * import { readRun } from "./run_records.ts";
 * declare const sessionDir: string;
 * declare const runId: string;
 * const read = await readRun(sessionDir, runId);
 * if (read && !read.ok) console.log(read.problems);
 * ```
 */
export type ReadRun =
  | { ok: true; run: Manifest }
  | ({ ok: false } & InvalidRun);

/**
 * True for a well-formed run id (no path separators, nothing to escape).
 *
 * @example
 * ```ts
 * import { isRunId } from "./run_records.ts";
 * isRunId("20261121T050102Z-a1b2c3"); // true
 * isRunId("../x"); // false
 * ```
 */
export function isRunId(runId: string): boolean {
  return /^[0-9A-Za-z][0-9A-Za-z_-]{0,100}$/.test(runId);
}

/**
 * True for a path the writer accepts: one name in the session dir, or
 * `_turn_journal/<name>`; no empty, `.` or `..` part, backslash or NUL.
 *
 * @example
 * ```ts
 * import { isStorePath } from "./run_records.ts";
 * isStorePath("abc.json"); // true
 * isStorePath("_turn_journal/abc.jsonl"); // true
 * isStorePath("../etc/passwd"); // false
 * ```
 */
export function isStorePath(rel: string): boolean {
  const parts = rel.split("/");
  const allowed = parts.length === 1 ||
    (parts.length === 2 && parts[0] === JOURNAL_DIR);
  return allowed &&
    !parts.some((p) => p === "" || p === "." || p === "..") &&
    !rel.includes("\\") && !rel.includes("\0");
}

const encoder = new TextEncoder();

/**
 * `head + name + tail` when that fits the 255-byte limit on a file name (a
 * store file's name may itself be near it), else `name` cut at a character
 * boundary and followed by `~` and 16 hex digits of its SHA-256, so that
 * two long names still differ.
 *
 * @example
 * ```ts
 * import { fitName } from "./run_records.ts";
 * fitName("0001-", "abc.json", ""); // "0001-abc.json"
 * fitName("", "a".repeat(250), ".tmp").length; // 255
 * ```
 */
export function fitName(head: string, name: string, tail: string): string {
  const whole = head + name + tail;
  if (encoder.encode(whole).length <= NAME_MAX) return whole;
  const mark = `~${sha256HexOfText(name).slice(0, 16)}`;
  let room = NAME_MAX - encoder.encode(head + mark + tail).length;
  let cut = "";
  for (const char of name) {
    const bytes = encoder.encode(char).length;
    if (bytes > room) break;
    cut += char;
    room -= bytes;
  }
  return head + cut + mark + tail;
}

/**
 * The name, in a run's `files/`, of the bytes action `seq` moves aside from
 * `path`: `NNNN-<name>`, fitted to the name limit by {@linkcode fitName};
 * the record keeps the full path.
 *
 * @example
 * ```ts
 * import { quarantineName } from "./run_records.ts";
 * quarantineName(1, "abc.json"); // "0001-abc.json"
 * quarantineName(2, "_turn_journal/abc.jsonl"); // "0002-abc.jsonl"
 * ```
 */
export function quarantineName(seq: number, path: string): string {
  const name = path.slice(path.lastIndexOf("/") + 1);
  return fitName(`${String(seq).padStart(4, "0")}-`, name, "");
}

/**
 * Where action `seq` of run `runId` keeps the bytes it moves aside from
 * `path`, relative to the session dir.
 *
 * @example
 * ```ts
 * import { quarantinePath } from "./run_records.ts";
 * quarantinePath("20261121T050102Z-a1b2c3", 1, "abc.json");
 * // "_hermes_fsck/runs/20261121T050102Z-a1b2c3/files/0001-abc.json"
 * ```
 */
export function quarantinePath(
  runId: string,
  seq: number,
  path: string,
): string {
  return `${RUNS_DIR}/${runId}/files/${quarantineName(seq, path)}`;
}

/**
 * The file name of action `seq`'s record in `actions/`.
 *
 * @example
 * ```ts
 * import { recordName } from "./run_records.ts";
 * recordName(3); // "0003.json"
 * ```
 */
export function recordName(seq: number): string {
  return `${String(seq).padStart(4, "0")}.json`;
}

/**
 * True when the runs dir (`_hermes_fsck/runs`) is missing or made of plain
 * dirs; false when a part of it is a symlink or a file, whose content is
 * not the tool's and must be neither read as runs nor deleted.
 *
 * @example
 * ```ts
 * import { plainRunsDir } from "./run_records.ts";
 * if (!(await plainRunsDir("/srv/sessions"))) console.log("not ours");
 * ```
 */
export async function plainRunsDir(sessionDir: string): Promise<boolean> {
  for (const rel of [dirname(RUNS_DIR), RUNS_DIR]) {
    const info = await Deno.lstat(join(sessionDir, rel)).catch(() => null);
    if (info === null) return true;
    if (info.isSymlink || !info.isDirectory) return false;
  }
  return true;
}

/**
 * Reads and validates one run; null when there is no such run dir.
 * `unfinishedOnly` skips (null) a run whose valid header says it finished,
 * without reading its actions.
 *
 * @example
 * ```ts
 * import { readRun } from "./run_records.ts";
 * const read = await readRun("/srv/sessions", "20261121T050102Z-a1b2c3");
 * if (read?.ok) console.log(read.run.entries.length);
 * ```
 */
export async function readRun(
  sessionDir: string,
  runId: string,
  options: { unfinishedOnly?: boolean } = {},
): Promise<ReadRun | null> {
  if (!isRunId(runId) || !(await plainRunsDir(sessionDir))) return null;
  const runRel = `${RUNS_DIR}/${runId}`;
  const problems: RunRecordProblem[] = [];
  const fail = (record: string, problem: string): ReadRun => ({
    ok: false,
    runId,
    problems: [...problems, { runId, record, problem }],
  });
  const dirKind = await kindOf(join(sessionDir, runRel));
  if (dirKind === "missing") return null;
  if (dirKind !== "dir") {
    return fail(runRel, `is ${dirKind}, not a run dir`);
  }
  const headerRel = `${runRel}/run.json`;
  const header = await readRecord(sessionDir, headerRel);
  if (!header.ok) {
    // A run killed (or still starting) between making its dirs and writing
    // its header has nothing to read or act on.
    if (header.missing && await emptyRun(join(sessionDir, runRel))) {
      return null;
    }
    return fail(headerRel, header.problem);
  }
  const headerProblem = headerError(header.value, runId);
  if (headerProblem) return fail(headerRel, headerProblem);
  const run: Manifest = { ...(header.value as RunHeader), entries: [] };
  if (options.unfinishedOnly && run.finishedAt !== null) return null;

  const filesKind = await kindOf(join(sessionDir, runRel, "files"));
  if (filesKind !== "dir" && filesKind !== "missing") {
    problems.push({
      runId,
      record: `${runRel}/files`,
      problem: `is ${filesKind}, not the run's quarantine dir`,
    });
  }
  const actionsRel = `${runRel}/actions`;
  const actionsKind = await kindOf(join(sessionDir, actionsRel));
  const names: string[] = [];
  if (actionsKind === "dir") {
    try {
      for await (const item of Deno.readDir(join(sessionDir, actionsRel))) {
        // Temps of records being written (`NNNN.json.tmp.<pid>`) are not
        // records; anything else named like one is checked.
        if (/^\d+\.json$/.test(item.name)) names.push(item.name);
      }
    } catch (error) {
      problems.push({
        runId,
        record: actionsRel,
        problem: `cannot be listed (${errorText(error)})`,
      });
    }
  } else if (actionsKind !== "missing") {
    problems.push({
      runId,
      record: actionsRel,
      problem: `is ${actionsKind}, not the run's records dir`,
    });
  }
  names.sort();
  for (const name of names) {
    const rel = `${actionsRel}/${name}`;
    const read = await readRecord(sessionDir, rel);
    if (!read.ok) {
      problems.push({ runId, record: rel, problem: read.problem });
      continue;
    }
    const problem = entryError(read.value, runId, name) ??
      await quarantineError(
        sessionDir,
        read.value as ManifestEntry,
        filesKind === "dir",
      );
    if (problem) problems.push({ runId, record: rel, problem });
    else run.entries.push(read.value as ManifestEntry);
  }
  if (problems.length > 0) return { ok: false, runId, problems };
  run.entries.sort((a, b) => a.seq - b.seq);
  return { ok: true, run };
}

/**
 * Every run of a session dir: the valid ones oldest first, and the ones
 * (and entries of the runs dir) that fail validation.
 *
 * @example
 * ```ts
 * import { listRuns } from "./run_records.ts";
 * const { runs, invalid } = await listRuns("/srv/sessions");
 * ```
 */
export async function listRuns(
  sessionDir: string,
  options: { unfinishedOnly?: boolean } = {},
): Promise<{ runs: Manifest[]; invalid: InvalidRun[] }> {
  const runs: Manifest[] = [];
  const invalid: InvalidRun[] = [];
  if (!(await plainRunsDir(sessionDir))) {
    const problem = {
      runId: "",
      record: RUNS_DIR,
      problem:
        "is not a plain directory (a part of it is a symlink or a file), " +
        "so no run in it was read",
    };
    return { runs, invalid: [{ runId: "", problems: [problem] }] };
  }
  const names: { name: string; plain: boolean }[] = [];
  try {
    for await (const item of Deno.readDir(join(sessionDir, RUNS_DIR))) {
      names.push({ name: item.name, plain: item.isDirectory });
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) {
      const problem = `cannot be listed (${errorText(error)})`;
      invalid.push({
        runId: "",
        problems: [{ runId: "", record: RUNS_DIR, problem }],
      });
    }
  }
  names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const { name, plain } of names) {
    if (!plain || !isRunId(name)) {
      // A run's temp header or the like is not a run; a stray name is
      // reported, never followed or deleted.
      // The name is the owner's choice: escaped, so it cannot forge lines.
      const shown = JSON.stringify(name).slice(1, -1);
      const record = `${RUNS_DIR}/${shown}`;
      const problem = !isRunId(name)
        ? "is not named like a run of hermes-fsck"
        : "is not a plain directory";
      invalid.push({
        runId: shown,
        problems: [{ runId: shown, record, problem }],
      });
      continue;
    }
    const read = await readRun(sessionDir, name, options);
    if (read === null) continue;
    if (read.ok) runs.push(read.run);
    else invalid.push({ runId: read.runId, problems: read.problems });
  }
  runs.sort((a, b) =>
    a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : 0
  );
  return { runs, invalid };
}

/**
 * One line per problem, each naming its record, for messages.
 *
 * @example
 * ```ts
 * import { type InvalidRun, describeProblems } from "./run_records.ts";
 * declare const bad: InvalidRun;
 * describeProblems(bad.problems); // "_hermes_fsck/runs/x/run.json is a symbolic link, ..."
 * ```
 */
export function describeProblems(problems: RunRecordProblem[]): string[] {
  return problems.map((p) => `${p.record} ${p.problem}`);
}

/** True when a run dir holds nothing but empty `files/` and `actions/`. */
async function emptyRun(dir: string): Promise<boolean> {
  try {
    for await (const item of Deno.readDir(dir)) {
      if (item.name !== "files" && item.name !== "actions") return false;
      if (!item.isDirectory) return false;
      for await (const _ of Deno.readDir(join(dir, item.name))) return false;
    }
  } catch {
    return false;
  }
  return true;
}

type FileKind = "missing" | "dir" | "file" | "a symbolic link" | "not a file";

async function kindOf(path: string): Promise<FileKind> {
  const info = await Deno.lstat(path).catch(() => null);
  if (info === null) return "missing";
  if (info.isSymlink) return "a symbolic link";
  if (info.isDirectory) return "dir";
  return info.isFile ? "file" : "not a file";
}

async function readRecord(
  sessionDir: string,
  rel: string,
): Promise<
  { ok: true; value: unknown } | {
    ok: false;
    problem: string;
    missing?: boolean;
  }
> {
  const read = await readRegularFile(join(sessionDir, rel), RECORD_MAX_BYTES);
  if (!read.ok) {
    const missing = read.problem.reason === "missing";
    return {
      ok: false,
      problem: missing ? "is missing" : read.problem.detail,
      missing,
    };
  }
  const parsed = parseJsonBytes(read.value);
  if (!parsed.ok) return { ok: false, problem: "is not valid JSON" };
  return { ok: true, value: parsed.value };
}

const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/;
const SHA256 = /^[0-9a-f]{64}$/;
const HEADER_KEYS = new Set([
  "tool",
  "version",
  "runId",
  "command",
  "undoes",
  "sessionDir",
  "startedAt",
  "finishedAt",
]);
const ENTRY_KEYS = new Set([
  "seq",
  "op",
  "path",
  "note",
  "status",
  "reason",
  "detail",
  "quarantined",
  "before",
  "after",
  "tail",
  "at",
]);
const STATUSES = new Set(["pending", "applied", "skipped", "failed"]);
const REASONS = new Set([
  "store_changed",
  "exists",
  "refused",
  "io_error",
  "locked",
  "interrupted",
]);
const OPS = new Set(["write", "remove", "append", "truncate"]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function shortText(value: unknown, max = 8192): boolean {
  return typeof value === "string" && value.length <= max;
}

function unknownKey(
  value: Record<string, unknown>,
  keys: Set<string>,
): string | null {
  const extra = Object.keys(value).find((key) => !keys.has(key));
  return extra === undefined ? null : JSON.stringify(extra).slice(0, 80);
}

/** Why a header is not one the tool wrote for run `runId`, or null. */
function headerError(value: unknown, runId: string): string | null {
  if (!isRecord(value)) return "is not a JSON object";
  const extra = unknownKey(value, HEADER_KEYS);
  if (extra) return `has a field hermes-fsck does not write (${extra})`;
  if (value.tool !== "hermes-fsck") {
    return "does not name hermes-fsck as its tool";
  }
  if (!shortText(value.version, 100)) return "has no valid version";
  if (value.runId !== runId) return "names another run than its dir";
  if (!["repair", "undo", "resolve"].includes(String(value.command))) {
    return "has a command that is neither repair, undo nor resolve";
  }
  if (
    value.undoes !== undefined &&
    (typeof value.undoes !== "string" || !isRunId(value.undoes))
  ) return "has an undoes that is not a run id";
  if (!shortText(value.sessionDir, 4096)) return "has no valid sessionDir";
  if (typeof value.startedAt !== "string" || !ISO_TIME.test(value.startedAt)) {
    return "has no valid startedAt";
  }
  if (
    value.finishedAt !== null &&
    (typeof value.finishedAt !== "string" || !ISO_TIME.test(value.finishedAt))
  ) return "has a finishedAt that is neither null nor a time";
  return null;
}

function versionError(value: unknown, field: string): string | null {
  if (value === null) return null;
  if (!isRecord(value)) return `has a ${field} that is not an object or null`;
  if (unknownKey(value, new Set(["sha256", "size"]))) {
    return `has a ${field} with a field hermes-fsck does not write`;
  }
  if (typeof value.sha256 !== "string" || !SHA256.test(value.sha256)) {
    return `has a ${field}.sha256 that is not a SHA-256 in hex`;
  }
  const size = value.size;
  if (
    typeof size !== "number" || !Number.isInteger(size) || size < 0 ||
    size > MAX_RECORDED_SIZE
  ) {
    return `has a ${field}.size that is not a whole number of bytes up to ` +
      `${MAX_RECORDED_SIZE}`;
  }
  return null;
}

/**
 * Why an entry's `tail` does not fit its op, or null: an append always
 * records the bytes it adds; a truncation records what it cuts once it
 * knows (a pending one may not yet); no other op has one.
 */
function tailError(value: unknown, op: string): string | null {
  if (value === undefined) {
    return op === "append" ? "is an append without its tail" : null;
  }
  if (op !== "append" && op !== "truncate") {
    return "has a tail, which only an append or a truncation has";
  }
  if (!isRecord(value)) return "has a tail that is not an object";
  const { offset, ...version } = value;
  if (
    typeof offset !== "number" || !Number.isInteger(offset) || offset < 0 ||
    offset > MAX_RECORDED_SIZE
  ) return "has a tail.offset that is not a whole number of bytes";
  return versionError(version, "tail");
}

/** Why an action record is not one the tool wrote as `name`, or null. */
function entryError(
  value: unknown,
  runId: string,
  name: string,
): string | null {
  if (!isRecord(value)) return "is not a JSON object";
  const extra = unknownKey(value, ENTRY_KEYS);
  if (extra) return `has a field hermes-fsck does not write (${extra})`;
  const seq = value.seq;
  if (
    typeof seq !== "number" || !Number.isSafeInteger(seq) || seq < 1 ||
    recordName(seq) !== name
  ) return "has a seq that is not its file's number";
  if (typeof value.op !== "string" || !OPS.has(value.op)) {
    return "has an op that is not write, remove, append or truncate";
  }
  if (typeof value.path !== "string" || !isStorePath(value.path)) {
    return "has a path that leaves the session dir (or is not a store path)";
  }
  if (!shortText(value.note)) return "has no valid note";
  if (typeof value.status !== "string" || !STATUSES.has(value.status)) {
    return "has an unknown status";
  }
  if (
    value.reason !== undefined &&
    (typeof value.reason !== "string" || !REASONS.has(value.reason))
  ) return "has an unknown reason";
  if (value.detail !== undefined && !shortText(value.detail)) {
    return "has a detail that is not a short text";
  }
  if (typeof value.at !== "string" || !ISO_TIME.test(value.at)) {
    return "has no valid time (at)";
  }
  const versions = versionError(value.before, "before") ??
    versionError(value.after, "after");
  if (versions) return versions;
  // A write records what it writes; an append or truncation the file it
  // leaves once it knows; a removal leaves nothing.
  if (
    (value.op === "write" && value.after === null) ||
    (value.op === "remove" && value.after !== null)
  ) return "has an after that does not fit its op";
  const tail = tailError(value.tail, value.op);
  if (tail) return tail;
  if (value.op === "append" && value.quarantined !== undefined) {
    return "names a quarantined file for an append, which replaces nothing";
  }
  if (value.quarantined !== undefined) {
    if (value.before === null) {
      return "names a quarantined file for a file that did not exist";
    }
    if (value.quarantined !== quarantinePath(runId, seq, value.path)) {
      return "names a quarantined file other than the one its run makes " +
        "for its seq and path";
    }
  }
  return null;
}

/**
 * Why an entry's quarantined file is not what it says, or null: it must be
 * a regular file in the run's plain `files/` (a pending action's may not
 * exist yet), as big as the bytes an applied action moved there.
 */
async function quarantineError(
  sessionDir: string,
  entry: ManifestEntry,
  filesDirPlain: boolean,
): Promise<string | null> {
  if (entry.quarantined === undefined) return null;
  if (!filesDirPlain) {
    return `names ${entry.quarantined}, but the run's files/ is not a plain dir`;
  }
  const info = await Deno.lstat(join(sessionDir, entry.quarantined)).catch(
    () => null,
  );
  if (info === null) {
    return entry.status === "pending"
      ? null
      : `names ${entry.quarantined}, which is missing`;
  }
  if (info.isSymlink || !info.isFile) {
    return `names ${entry.quarantined}, which is not a regular file`;
  }
  // A truncation keeps only the bytes it cut; a replacement the whole file.
  const kept = entry.op === "truncate" ? entry.tail?.size : entry.before!.size;
  if (entry.status === "applied" && info.size !== kept) {
    return `says ${entry.quarantined} holds ${kept} bytes, ` +
      `but it holds ${info.size}`;
  }
  return null;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
