/**
 * Acknowledged findings: the record that a person reviewed an
 * `unsafe_to_repair` finding and chose to leave it, in
 * `<session dir>/_hermes_fsck/acknowledged.json`, keyed by the finding's
 * stable id and the SHA-256 of every file it names. While those files are
 * unchanged the finding is reported with `acknowledged` (note and time)
 * and does not set exit bit 4; once any of them changes, it is raised
 * again.
 *
 * The file is written atomically by the safety layer (core/io/safety.ts,
 * `writeToolFile`) and read back as untrusted input: the store's owner may
 * plant anything there. A symlink, FIFO, a file too big, one that does not
 * parse or has another shape acknowledges nothing and is reported as an
 * `acknowledged_invalid` finding.
 *
 * @example
 * ```ts
 * import { applyAcknowledgements } from "./acknowledged.ts";
 * import type { Report } from "../report/report.ts";
 * declare const sessionDir: string;
 * declare const report: Report;
 * const { findings, problem } = await applyAcknowledgements(sessionDir, report.findings, 1 << 28);
 * ```
 * @module
 */

import { dirname, isAbsolute, join } from "../io/path.ts";
import { parseJsonBytes, readRegularFile } from "../io/file_read.ts";
import type { Finding } from "../report/finding.ts";
import { type AuditResult, summarizeFindings } from "../run/audit.ts";
import { PIPELINE_KINDS, toFinding } from "../plugins/pipeline.ts";
import { sha256Hex } from "../io/hash.ts";

/**
 * Where the record is, relative to the session dir.
 *
 * @example
 * ```ts
 * import { ACKNOWLEDGED_FILE } from "./acknowledged.ts";
 * import { join } from "node:path";
 * declare const sessionDir: string;
 * join(sessionDir, ACKNOWLEDGED_FILE); // <session dir>/_hermes_fsck/acknowledged.json
 * ```
 */
export const ACKNOWLEDGED_FILE = "_hermes_fsck/acknowledged.json";

/**
 * The biggest record read: thousands of findings with notes.
 *
 * @example
 * ```ts
 * import { ACKNOWLEDGED_MAX_BYTES } from "./acknowledged.ts";
 * ACKNOWLEDGED_MAX_BYTES; // 4 MiB
 * ```
 */
export const ACKNOWLEDGED_MAX_BYTES = 4 * 1024 * 1024;

/**
 * The most characters a note may have.
 *
 * @example
 * ```ts
 * import { NOTE_MAX_CHARS } from "./acknowledged.ts";
 * declare const note: string;
 * if (note.length > NOTE_MAX_CHARS) throw new Error("note too long");
 * ```
 */
export const NOTE_MAX_CHARS = 2000;

const MAX_ENTRIES = 20_000;
const MAX_FILES = 64;
const ID = /^[0-9a-f]{16}$/;
const SHA = /^[0-9a-f]{64}$/;
const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

/**
 * The state of one file a finding names, when it was acknowledged:
 * `sha256` of a regular file, `absent`, or `other` (not a regular file, or
 * not readable; compared by that state alone).
 *
 * @example
 * ```ts
 * import type { FileState } from "./acknowledged.ts";
 * const state: FileState = { path: "abc.json.bak", sha256: "e3b0c442..." };
 * ```
 */
export interface FileState {
  /** As the finding names it: relative to the session dir, or absolute. */
  path: string;
  /** Its SHA-256, for a regular file. */
  sha256?: string;
  /** `absent` or `other` when there is no hash. */
  state?: "absent" | "other";
}

/**
 * One acknowledged finding.
 *
 * @example
 * ```ts
 * import type { Acknowledgement } from "./acknowledged.ts";
 * const entry: Acknowledgement = {
 *   findingId: "0123456789abcdef", kind: "orphan_backup_without_state_row",
 *   note: "deleted on purpose", at: "2026-12-05T10:00:00.000Z",
 *   files: [{ path: "abc.json.bak", sha256: "e3b0c442..." }],
 * };
 * ```
 */
export interface Acknowledgement {
  /** The finding's stable id. */
  findingId: string;
  /** Its kind, for people reading the file. */
  kind: string;
  /** Its session, if any. */
  sessionId?: string;
  /** What the person said, or null. */
  note: string | null;
  /** When, ISO 8601. */
  at: string;
  /** The files the finding names, as they were. */
  files: FileState[];
}

/**
 * The record as read: its acknowledgements, or why it is not valid.
 *
 * @example
 * ```ts
 * import { readAcknowledgements } from "./acknowledged.ts";
 * const read = await readAcknowledgements("/srv/sessions");
 * if (!read.ok) console.log(read.problem);
 * ```
 */
export type AcknowledgedRead =
  | { ok: true; entries: Acknowledgement[] }
  | { ok: false; problem: string };

/**
 * Reads the record, trusting nothing: no symlink is followed, nothing but
 * a regular file is opened, nothing over {@linkcode ACKNOWLEDGED_MAX_BYTES}
 * is read, and every field is checked. A missing record is an empty one.
 *
 * @example
 * ```ts
 * import { readAcknowledgements } from "./acknowledged.ts";
 * const read = await readAcknowledgements("/srv/sessions");
 * if (read.ok) console.log(read.entries.length);
 * ```
 */
export async function readAcknowledgements(
  sessionDir: string,
): Promise<AcknowledgedRead> {
  const dir = join(sessionDir, dirname(ACKNOWLEDGED_FILE));
  const info = await Deno.lstat(dir).catch((error) => error as Error);
  if (info instanceof Deno.errors.NotFound) return { ok: true, entries: [] };
  if (info instanceof Error) {
    return { ok: false, problem: `cannot be looked at (${info.message})` };
  }
  if (info.isSymlink || !info.isDirectory) {
    return {
      ok: false,
      problem: `is not read: ${dirname(ACKNOWLEDGED_FILE)} is ${
        info.isSymlink ? "a symlink" : "not a directory"
      }`,
    };
  }
  const read = await readRegularFile(
    join(sessionDir, ACKNOWLEDGED_FILE),
    ACKNOWLEDGED_MAX_BYTES,
  );
  if (!read.ok) {
    return read.problem.reason === "missing"
      ? { ok: true, entries: [] }
      : { ok: false, problem: read.problem.detail };
  }
  const parsed = parseJsonBytes(read.value);
  if (!parsed.ok) return { ok: false, problem: parsed.problem.detail };
  const problem = shapeProblem(parsed.value);
  if (problem) return { ok: false, problem };
  return {
    ok: true,
    entries: (parsed.value as { acknowledged: Acknowledgement[] })
      .acknowledged,
  };
}

/**
 * The record's content for a list of acknowledgements, as the writer
 * stores it.
 *
 * @example
 * ```ts
 * import { type Acknowledgement, acknowledgedRecord } from "./acknowledged.ts";
 * declare const entry: Acknowledgement;
 * const value = acknowledgedRecord([entry]); // { version: 1, acknowledged: [entry] }
 * ```
 */
export function acknowledgedRecord(
  entries: Acknowledgement[],
): { version: 1; acknowledged: Acknowledgement[] } {
  return { version: 1, acknowledged: entries };
}

/**
 * The states of the files a finding names, now. Files are read as store
 * files are (no symlink followed, nothing but regular files, at most
 * `maxBytes`).
 *
 * @example
 * ```ts
 * import { fileStates } from "./acknowledged.ts";
 * import type { Finding } from "../report/finding.ts";
 * declare const finding: Finding;
 * const files = await fileStates("/srv/sessions", finding.paths, 1 << 28);
 * ```
 */
export async function fileStates(
  sessionDir: string,
  paths: readonly string[],
  maxBytes: number,
): Promise<FileState[]> {
  const states: FileState[] = [];
  for (const path of paths) {
    const read = await readRegularFile(
      isAbsolute(path) ? path : join(sessionDir, path),
      maxBytes,
    );
    states.push(
      read.ok ? { path, sha256: await sha256Hex(read.value) } : {
        path,
        state: read.problem.reason === "missing" ? "absent" : "other",
      },
    );
  }
  return states;
}

/**
 * True when every file of `was` is in the same state in `now`.
 *
 * @example
 * ```ts
 * import { type Acknowledgement, sameFiles, fileStates } from "./acknowledged.ts";
 * import type { Finding } from "../report/finding.ts";
 * declare const entry: Acknowledgement;
 * declare const dir: string;
 * declare const finding: Finding;
 * declare const max: number;
 * sameFiles(entry.files, await fileStates(dir, finding.paths, max)); // false once one changed
 * ```
 */
export function sameFiles(was: FileState[], now: FileState[]): boolean {
  return was.length === now.length &&
    was.every((file, i) =>
      file.path === now[i].path && file.sha256 === now[i].sha256 &&
      file.state === now[i].state
    );
}

/**
 * Marks the findings whose acknowledgement still holds (every file they
 * name unchanged), and says why the record was not read, if it was not.
 *
 * @example
 * ```ts
 * import { applyAcknowledgements } from "./acknowledged.ts";
 * import type { AuditResult } from "../run/audit.ts";
 * declare const dir: string;
 * declare const audit: AuditResult;
 * const { findings, problem } = await applyAcknowledgements(dir, audit.findings, 1 << 28);
 * ```
 */
export async function applyAcknowledgements(
  sessionDir: string,
  findings: Finding[],
  maxBytes: number,
): Promise<{ findings: Finding[]; problem: string | null }> {
  const read = await readAcknowledgements(sessionDir);
  if (!read.ok) return { findings, problem: read.problem };
  if (read.entries.length === 0) return { findings, problem: null };
  const byId = new Map(read.entries.map((e) => [e.findingId, e]));
  const out: Finding[] = [];
  for (const finding of findings) {
    const entry = byId.get(finding.id);
    if (
      entry && finding.category === "unsafe_to_repair" &&
      sameFiles(
        entry.files,
        await fileStates(sessionDir, finding.paths, maxBytes),
      )
    ) {
      out.push({
        ...finding,
        acknowledged: { note: entry.note, at: entry.at },
      });
    } else out.push(finding);
  }
  return { findings: out, problem: null };
}

/**
 * An audit with its acknowledgements applied: acknowledged findings
 * marked, and an `acknowledged_invalid` finding added when the record
 * cannot be trusted.
 *
 * @example
 * ```ts
 * import { withAcknowledgements } from "./acknowledged.ts";
 * import type { RepairRun } from "../run/repair_engine.ts";
 * declare const sessionDir: string;
 * declare const run: RepairRun;
 * const audit = await withAcknowledgements(sessionDir, run.after, 1 << 28);
 * ```
 */
export async function withAcknowledgements(
  sessionDir: string,
  audit: AuditResult,
  maxBytes: number,
): Promise<AuditResult> {
  const { findings, problem } = await applyAcknowledgements(
    sessionDir,
    audit.findings,
    maxBytes,
  );
  if (problem === null) return { ...audit, findings };
  const info = PIPELINE_KINDS.find((k) => k.kind === "acknowledged_invalid")!;
  findings.push(toFinding("(pipeline)", info, {
    kind: info.kind,
    paths: [ACKNOWLEDGED_FILE],
    message: `${ACKNOWLEDGED_FILE} ${problem}; no finding is taken as ` +
      "acknowledged: look at it, move it out of the session dir and " +
      "acknowledge the findings again.",
    evidence: { problem },
  }));
  return summarizeFindings(findings, audit.summary.sessions);
}

/** Why a parsed record is not one hermes-fsck wrote, or null. */
function shapeProblem(value: unknown): string | null {
  if (!isRecord(value)) return "is not a JSON object";
  if (!onlyKeys(value, ["version", "acknowledged"])) {
    return "has a field hermes-fsck does not write";
  }
  if (value.version !== 1) return "has a version other than 1";
  const list = value.acknowledged;
  if (!Array.isArray(list)) return "has no list of acknowledged findings";
  if (list.length > MAX_ENTRIES) {
    return `lists more than ${MAX_ENTRIES} findings`;
  }
  const seen = new Set<string>();
  for (const [i, entry] of list.entries()) {
    const problem = entryProblem(entry);
    if (problem) return `has an invalid entry ${i + 1}: ${problem}`;
    const id = (entry as Acknowledgement).findingId;
    if (seen.has(id)) return `lists finding ${id} twice`;
    seen.add(id);
  }
  return null;
}

function entryProblem(entry: unknown): string | null {
  if (!isRecord(entry)) return "not an object";
  if (
    !onlyKeys(entry, ["findingId", "kind", "sessionId", "note", "at", "files"])
  ) return "a field hermes-fsck does not write";
  if (typeof entry.findingId !== "string" || !ID.test(entry.findingId)) {
    return "no valid findingId";
  }
  if (
    typeof entry.kind !== "string" || !/^[a-z0-9_]{1,100}$/.test(entry.kind)
  ) {
    return "no valid kind";
  }
  if (
    entry.sessionId !== undefined &&
    (typeof entry.sessionId !== "string" || entry.sessionId.length > 300)
  ) return "a sessionId that is not a short string";
  if (
    entry.note !== null &&
    (typeof entry.note !== "string" || entry.note.length > NOTE_MAX_CHARS)
  ) return `a note that is not text of at most ${NOTE_MAX_CHARS} characters`;
  if (typeof entry.at !== "string" || !ISO_TIME.test(entry.at)) {
    return "no valid time";
  }
  if (!Array.isArray(entry.files) || entry.files.length > MAX_FILES) {
    return `no list of at most ${MAX_FILES} files`;
  }
  for (const file of entry.files) {
    if (
      !isRecord(file) || !onlyKeys(file, ["path", "sha256", "state"]) ||
      typeof file.path !== "string" || file.path.length > 4096 ||
      (file.sha256 === undefined) === (file.state === undefined) ||
      (file.sha256 !== undefined &&
        (typeof file.sha256 !== "string" || !SHA.test(file.sha256))) ||
      (file.state !== undefined && file.state !== "absent" &&
        file.state !== "other")
    ) return "a file that is not a path with a sha256 or a state";
  }
  return null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function onlyKeys(value: Record<string, unknown>, keys: string[]): boolean {
  return Object.keys(value).every((key) => keys.includes(key));
}
