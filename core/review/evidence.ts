/**
 * The evidence of one session, for a person deciding what hermes-fsck
 * cannot: every version of it that exists (live sidecar, `.bak`, stale
 * temps, its state.db row in its profile's db, its turn journal) with
 * message counts, times and title, and a message-level diff: which
 * messages not every version holds, each as role and a bounded excerpt.
 * `show` prints it and the review page renders it; both read only.
 *
 * Every store file is read through core/io/file_read.ts (no-follow, regular
 * files only, size-bounded); a file that cannot be read is a version with
 * the reason, never an exception. Everything taken from the store is cut
 * and escaped (core/report/excerpt.ts) before it is kept.
 *
 * @example
 * ```ts
 * import { EvidenceReader } from "./evidence.ts";
 * const reader = await EvidenceReader.open({ sessionDir: "/srv/sessions", stateDbPath: null, profiles: null });
 * const evidence = await reader.session("abc");
 * for (const v of evidence?.versions ?? []) console.log(v.label, v.messageCount);
 * reader.close();
 * ```
 * @module
 */

import { cut, excerpt } from "../report/excerpt.ts";
import {
  parseJsonBytes,
  readJsonFile,
  readRegularFile,
  type ReadResult,
} from "../io/file_read.ts";
import { sha256Hex } from "../io/hash.ts";
import { listJournalFiles } from "../journal/turn_journal_files.ts";
import { readRunOutput } from "../journal/run_journal.ts";
import {
  listRunJournals,
  type RunJournalName,
} from "../journal/run_journal_files.ts";
import { profileOf } from "../store/profile_home.ts";
import { ProfileStateDbs } from "../state_db/profile_state_db.ts";
import { isValidSessionId } from "../store/session_id.ts";
import {
  isPlainObject,
  lastMessageTimestamp,
  messageText,
  pyStrip,
  toTimestamp,
} from "../store/sidecar_summary.ts";
import {
  DEFAULT_MAX_FILE_BYTES,
  SUMMARIZED_TEMP_ORIGINS,
} from "../scan/snapshot.ts";
import {
  openStateDb,
  type SqlValue,
  type StateDb,
} from "../state_db/state_db.ts";
import {
  backupName,
  classifyName,
  pathIn,
  sidecarName,
  TOMBSTONE_FILE,
} from "../store/layout.ts";
import { tombstoneSummary } from "../store/tombstone.ts";
import {
  createdAtKey,
  isTerminalEvent,
  summarizeJournal,
  type TurnState,
} from "../journal/turn_journal.ts";

/** Longest excerpt of a message, in code points. */
export const MESSAGE_EXCERPT = 160;
/** Longest title, in code points. */
export const TITLE_EXCERPT = 120;
/** Most diff entries kept for a session; the rest are counted. */
export const MAX_DIFF_ENTRIES = 40;
/** Most temps of one session looked at; the rest are counted. */
export const MAX_TEMPS = 10;
/** Most journal turns kept; the rest are counted. */
export const MAX_TURNS = 30;

/** Run journals listed per session (a session has one per turn it ran). */
const MAX_RUN_JOURNALS = 20;

/** Tool names listed per run journal. */
const MAX_TOOLS_NAMED = 5;

/**
 * Where a version of a session comes from; the name `resolve --keep` uses
 * for it (`run-journal` is the seam for issue 21's run-journal output).
 *
 * @example
 * ```ts
 * import type { VersionSource } from "./evidence.ts";
 * const source: VersionSource = "bak";
 * ```
 */
export type VersionSource =
  | "live"
  | "bak"
  | "temp"
  | "state-db"
  | "journal"
  | "run-journal";

/**
 * One version of a session as it is on disk now.
 *
 * @example
 * ```ts
 * import type { SessionEvidence, SessionVersion } from "./evidence.ts";
 * declare const evidence: SessionEvidence;
 * const v: SessionVersion = evidence.versions[0];
 * console.log(v.label, v.status, v.messageCount, v.title);
 * ```
 */
export interface SessionVersion {
  /** Where it comes from. */
  source: VersionSource;
  /** A short name for people: `live`, `bak`, `temp <name>`, `state-db`. */
  label: string;
  /** Its file, relative to the session dir (absolute for a state.db). */
  path: string;
  /** `ok` when it could be read as a session, else `unreadable`. */
  status: "ok" | "unreadable";
  /** Why it could not be read (or is not a session), else null. */
  problem: string | null;
  /** Messages it holds (journal: submitted prompts), null when unknown. */
  messageCount: number | null;
  /** Its title, cut and escaped; null when it has none. */
  title: string | null;
  /** Its `created_at` (state.db: `started_at`), ISO 8601, or null. */
  createdAt: string | null;
  /** Its `updated_at` (journal: its newest event), ISO 8601, or null. */
  updatedAt: string | null;
  /** Timestamp of its last non-tool message, ISO 8601, or null. */
  lastMessageAt: string | null;
  /** The file's modification time, ISO 8601, or null. */
  modifiedAt: string | null;
  /** The file's size in bytes, or null. */
  size: number | null;
  /** SHA-256 of the file's bytes as read, or null. */
  sha256: string | null;
  /** Messages of the diff only this version holds. */
  unique: number;
  /** Messages of the diff other versions hold and this one lacks. */
  missing: number;
}

/**
 * A message that not every version holds (or holds as often).
 *
 * @example
 * ```ts
 * import type { DiffEntry } from "./evidence.ts";
 * const e: DiffEntry = { role: "user", excerpt: "hi", truncated: false, at: null, counts: [1, 0] };
 * ```
 */
export interface DiffEntry {
  /** Its role, cut and escaped. */
  role: string;
  /** The start of its text, cut and escaped. */
  excerpt: string;
  /** True when the text is longer than the excerpt. */
  truncated: boolean;
  /** Its timestamp, ISO 8601, or null. */
  at: string | null;
  /**
   * How often each version holds it, by the index in `versions`; null for
   * a version not compared, or one that cannot be said to lack it (a
   * journal holds only the prompts of recent turns).
   */
  counts: (number | null)[];
}

/**
 * A turn of the session's turn journal.
 *
 * @example
 * ```ts
 * import type { JournalTurn } from "./evidence.ts";
 * const t: JournalTurn = { turnId: "t1", state: "submitted", at: null, excerpt: "hi", file: "_turn_journal/abc.jsonl" };
 * ```
 */
export interface JournalTurn {
  /** Its turn id, cut and escaped. */
  turnId: string;
  /** Its latest event (`submitted`, `completed`, ...), cut and escaped. */
  state: string;
  /** When it was submitted, ISO 8601, or null. */
  at: string | null;
  /** The start of its prompt, cut and escaped ("" when none). */
  excerpt: string;
  /** The journal file of its latest event. */
  file: string;
}

/**
 * Everything the store holds of one session.
 *
 * @example
 * ```ts
 * import { EvidenceReader, type SessionEvidence } from "./evidence.ts";
 * declare const reader: EvidenceReader;
 * const e: SessionEvidence | null = await reader.session("abc");
 * e?.diff.entries.forEach((d) => console.log(d.role, d.excerpt, d.counts));
 * ```
 */
export interface SessionEvidence {
  /** The session id. */
  sessionId: string;
  /** Its named profile (from the live sidecar, else the `.bak`), or null. */
  profile: string | null;
  /**
   * True when `_deleted_webui_sessions.json` lists it (it was deleted);
   * null when that file cannot be read.
   */
  deleted: boolean | null;
  /** The versions that exist, live first. */
  versions: SessionVersion[];
  /** Temps of the session beyond those looked at. */
  versionsOmitted: number;
  /** Where its state.db stood, when one was looked at. */
  stateDb: { path: string | null; status: string; detail: string | null };
  /** The message-level diff of the readable versions. */
  diff: {
    /** Messages every compared version holds (as often). */
    shared: number;
    /** Messages not every version holds, oldest first, at most 40. */
    entries: DiffEntry[];
    /** Such messages beyond those listed. */
    omitted: number;
  };
  /** Its journal turns, in the order the journal leaves them. */
  turns: JournalTurn[];
  /** Turns beyond those listed. */
  turnsOmitted: number;
  /** What its run journals (`_run_journal/<sid>/`) hold, by file name. */
  runJournals: RunJournalEvidence[];
  /** Run journals beyond those listed. */
  runJournalsOmitted: number;
}

/**
 * One run journal of the session: the output a run streamed, which a
 * crashed turn may still hold.
 *
 * @example
 * ```ts
 * import type { RunJournalEvidence } from "./evidence.ts";
 * const r: RunJournalEvidence = { file: "_run_journal/abc/r1.jsonl", streamId: "r1",
 *   ended: null, textEvents: 3, toolCards: 1, reasoningEvents: 0, excerpt: "Hel", tools: ["terminal"], problem: null };
 * ```
 */
export interface RunJournalEvidence {
  /** Its path in the session dir. */
  file: string;
  /** The stream (run) id of its name. */
  streamId: string;
  /** The run's own terminal state (e.g. `completed`), or null: it never ended. */
  ended: string | null;
  /** Text deltas and interim messages. */
  textEvents: number;
  /** Tool cards. */
  toolCards: number;
  /** Display-only reasoning events. */
  reasoningEvents: number;
  /** The start of its text, cut and escaped. */
  excerpt: string;
  /** Names of its first tool cards, cut and escaped. */
  tools: string[];
  /** Why it could not be read whole (or was torn), cut; null when it was. */
  problem: string | null;
}

/**
 * Where the evidence is read from.
 *
 * @example
 * ```ts
 * import type { EvidenceOptions } from "./evidence.ts";
 * const options: EvidenceOptions = { sessionDir: "/srv/sessions", stateDbPath: "/root/.hermes/state.db", profiles: null };
 * ```
 */
export interface EvidenceOptions {
  /** The session dir, absolute. */
  sessionDir: string;
  /** The default home's state.db (or `--state-db`), or null for none. */
  stateDbPath: string | null;
  /** Named profiles' homes, as the audit uses them; null for one db. */
  profiles: { base: string; defaultStateDb: string } | null;
  /** Files larger than this are reported, not read. */
  maxFileBytes?: number;
}

/** A message of a version, as the diff compares it. */
interface Message {
  role: string;
  text: string;
  at: number | null;
}

/** A version and the messages it holds. */
interface Read {
  version: SessionVersion;
  messages: Message[] | null;
  /** True when it holds only user prompts (a journal). */
  promptsOnly: boolean;
}

/**
 * Reads the evidence of sessions of one store: the session dir and its
 * journal dir are listed once, each state.db opened once.
 *
 * @example
 * ```ts
 * import { type EvidenceOptions, EvidenceReader } from "./evidence.ts";
 * declare const options: EvidenceOptions;
 * const reader = await EvidenceReader.open(options);
 * try { await reader.session("abc"); } finally { reader.close(); }
 * ```
 */
export class EvidenceReader {
  #options: EvidenceOptions;
  #max: number;
  #temps: Map<string, string[]>;
  #journals: Map<string, string[]>;
  #runJournals: Map<string, RunJournalName[]>;
  #deleted: Set<string> | null;
  #defaultDb: StateDb | null = null;
  #profileDbs: ProfileStateDbs | null;

  private constructor(
    options: EvidenceOptions,
    temps: Map<string, string[]>,
    journals: Map<string, string[]>,
    runJournals: Map<string, RunJournalName[]>,
    deleted: Set<string> | null,
  ) {
    this.#options = options;
    this.#max = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
    this.#temps = temps;
    this.#journals = journals;
    this.#runJournals = runJournals;
    this.#deleted = deleted;
    this.#profileDbs = options.profiles
      ? new ProfileStateDbs(
        options.profiles.base,
        options.profiles.defaultStateDb,
      )
      : null;
  }

  /**
   * Lists the store once and reads its tombstone.
   *
   * @example
   * ```ts
   * import { EvidenceReader } from "./evidence.ts";
   * declare const sessionDir: string;
   * const reader = await EvidenceReader.open({ sessionDir, stateDbPath: null, profiles: null });
   * ```
   */
  static async open(options: EvidenceOptions): Promise<EvidenceReader> {
    const temps = new Map<string, string[]>();
    for (const entry of Deno.readDirSync(options.sessionDir)) {
      const named = classifyName(entry.name);
      if (
        named.type === "temp" && named.sessionId !== undefined &&
        SUMMARIZED_TEMP_ORIGINS.has(named.origin)
      ) {
        const list = temps.get(named.sessionId);
        if (list) list.push(entry.name);
        else temps.set(named.sessionId, [entry.name]);
      }
    }
    for (const list of temps.values()) list.sort();
    const journals = new Map<string, string[]>();
    for (const s of listJournalFiles(options.sessionDir).sessions) {
      journals.set(s.sessionId, s.names);
    }
    const tombstone = await readJsonFile(
      pathIn(options.sessionDir, TOMBSTONE_FILE),
      options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES,
    );
    let deleted: Set<string> | null = new Set();
    if (tombstone.ok) {
      const summary = tombstoneSummary(tombstone.value);
      deleted = summary.valid ? summary.ids : null;
    } else if (tombstone.problem.reason !== "missing") deleted = null;
    // Only ids that pass the sidecar rule name a dir or a file here.
    const runJournals = new Map<string, RunJournalName[]>();
    for (const s of listRunJournals(options.sessionDir).sessions) {
      runJournals.set(s.sessionId, s.files);
    }
    return new EvidenceReader(options, temps, journals, runJournals, deleted);
  }

  /**
   * The evidence of a session, or null when the store holds nothing of
   * it (no file, no journal, no state.db row).
   *
   * @example
   * ```ts
   * import { EvidenceReader } from "./evidence.ts";
   * declare const reader: EvidenceReader;
   * const evidence = await reader.session("abc");
   * ```
   */
  async session(sessionId: string): Promise<SessionEvidence | null> {
    if (!isValidSessionId(sessionId)) return null;
    const reads: Read[] = [];
    let profile: string | null = null;
    const files: [VersionSource, string, string][] = [
      ["live", "live", sidecarName(sessionId)],
      ["bak", "bak", backupName(sessionId)],
    ];
    const temps = this.#temps.get(sessionId) ?? [];
    for (const name of temps.slice(0, MAX_TEMPS)) {
      files.push(["temp", `temp ${cut(name, 80)}`, name]);
    }
    for (const [source, label, name] of files) {
      const read = await this.#sidecar(source, label, name);
      if (!read) continue;
      reads.push(read.read);
      profile ??= read.profile;
    }
    const db = this.#dbFor(profile);
    const row = this.#stateDbVersion(db, sessionId);
    if (row) reads.push(row);
    const journal = await this.#journal(sessionId);
    if (journal) reads.push(journal.read);
    const runFiles = this.#runJournals.get(sessionId) ?? [];
    const runs: RunJournalEvidence[] = [];
    for (const file of runFiles.slice(0, MAX_RUN_JOURNALS)) {
      runs.push(await this.#runJournal(sessionId, file));
    }
    if (reads.length === 0 && runs.length === 0) return null;
    return {
      sessionId,
      profile,
      deleted: this.#deleted === null ? null : this.#deleted.has(sessionId),
      versions: reads.map((r) => r.version),
      versionsOmitted: Math.max(0, temps.length - MAX_TEMPS),
      stateDb: {
        path: db.path,
        status: db.status,
        detail: db.status === "unreadable" ? cut(db.detail, 300) : null,
      },
      diff: diffOf(reads),
      turns: journal?.turns ?? [],
      turnsOmitted: journal?.omitted ?? 0,
      runJournals: runs,
      runJournalsOmitted: Math.max(0, runFiles.length - MAX_RUN_JOURNALS),
    };
  }

  /** Closes the state.dbs opened. */
  close(): void {
    this.#defaultDb?.close();
    this.#profileDbs?.close();
  }

  async #sidecar(
    source: VersionSource,
    label: string,
    name: string,
  ): Promise<{ read: Read; profile: string | null } | null> {
    const bytes = await readRegularFile(
      pathIn(this.#options.sessionDir, name),
      this.#max,
    );
    if (!bytes.ok && bytes.problem.reason === "missing") return null;
    const version = fileVersion(source, label, name, bytes);
    if (!bytes.ok) return { read: unreadable(version, bytes), profile: null };
    version.sha256 = await sha256Hex(bytes.value);
    const parsed = parseJsonBytes(bytes.value);
    if (!parsed.ok) {
      version.problem = cut(`${name} ${parsed.problem.detail}`, 300);
      return {
        read: { version, messages: null, promptsOnly: false },
        profile: null,
      };
    }
    const value = parsed.value;
    if (!isPlainObject(value) || !Array.isArray(value.messages)) {
      version.problem = `${cut(name, 100)} ${
        isPlainObject(value)
          ? "has no list of messages"
          : "is not a JSON object, so not a session"
      }`;
      return {
        read: { version, messages: null, promptsOnly: false },
        profile: isPlainObject(value) ? profileOf(value.profile) : null,
      };
    }
    version.status = "ok";
    version.messageCount = value.messages.length;
    version.title = titleOf(value.title);
    version.createdAt = isoOf(toTimestamp(value.created_at));
    version.updatedAt = isoOf(toTimestamp(value.updated_at));
    version.lastMessageAt = isoOf(lastMessageTimestamp(value.messages));
    const messages = value.messages.map((m) =>
      isPlainObject(m)
        ? message(m.role, m.content, m._ts ?? m.timestamp)
        : message("(not a message)", JSON.stringify(m) ?? "", null)
    );
    return {
      read: { version, messages, promptsOnly: false },
      profile: profileOf(value.profile),
    };
  }

  #dbFor(profile: string | null): StateDb {
    if (profile !== null && this.#profileDbs) {
      const entry = this.#profileDbs.open(profile);
      if (entry) return entry.db;
    }
    this.#defaultDb ??= openStateDb(this.#options.stateDbPath, {
      lookup: true,
    });
    return this.#defaultDb;
  }

  #stateDbVersion(db: StateDb, sessionId: string): Read | null {
    if (db.status !== "ok" || !db.path) return null;
    const row = db.lookup?.webuiRow(sessionId) ??
      db.webuiRows.find((r) => r.id === sessionId);
    if (!row) return null;
    const rows = db.messagesFor(row);
    const messages = rows.map((m) =>
      message(sqlText(m.role), sqlText(m.content), sqlNumber(m.timestamp))
    );
    let last: number | null = null;
    for (const m of messages) if (m.role !== "tool" && m.at) last = m.at;
    const started = sqlNumber(row.columns.started_at);
    return {
      version: {
        ...emptyVersion("state-db", "state-db", db.path),
        status: "ok",
        messageCount: rows.length,
        title: row.columns.title === null
          ? null
          : titleOf(sqlText(row.columns.title)),
        createdAt: isoOf(started),
        lastMessageAt: isoOf(last),
      },
      messages,
      promptsOnly: false,
    };
  }

  async #runJournal(
    sessionId: string,
    file: RunJournalName,
  ): Promise<RunJournalEvidence> {
    const evidence: RunJournalEvidence = {
      file: cut(file.name, 200),
      streamId: cut(file.streamId, 80),
      ended: null,
      textEvents: 0,
      toolCards: 0,
      reasoningEvents: 0,
      excerpt: "",
      tools: [],
      problem: null,
    };
    const read = await readRunOutput(
      pathIn(this.#options.sessionDir, file.name),
      sessionId,
      file.streamId,
      { maxLineBytes: this.#max, maxTotalBytes: this.#max },
    );
    if (!read.ok) {
      evidence.problem = cut(`${file.name} ${read.problem.detail}`, 300);
      return evidence;
    }
    const output = read.value;
    evidence.ended = output.terminalState === null
      ? null
      : cut(output.terminalState, 40);
    let text = "";
    for (const item of output.items) {
      if (item.type === "token" || item.type === "interim") {
        evidence.textEvents++;
        if (text.length < MESSAGE_EXCERPT * 2) text += item.text;
      } else if (item.type === "reasoning") evidence.reasoningEvents++;
      else if (item.type === "tool") {
        evidence.toolCards++;
        if (evidence.tools.length < MAX_TOOLS_NAMED) {
          evidence.tools.push(cut(item.name, 60));
        }
      }
    }
    evidence.excerpt = cut(text, MESSAGE_EXCERPT);
    const stats = output.stats;
    const problems = [
      stats.cutAtByte !== null || stats.oversizedCount > 0
        ? "read cut at --max-file-size"
        : "",
      stats.tornLastLine !== null ? "last line torn" : "",
      stats.malformedCount > 0 ? `${stats.malformedCount} malformed lines` : "",
      stats.invalidUtf8Line !== null ? "bytes that are not UTF-8" : "",
    ].filter(Boolean);
    if (problems.length > 0) evidence.problem = problems.join(", ");
    return evidence;
  }

  async #journal(
    sessionId: string,
  ): Promise<{ read: Read; turns: JournalTurn[]; omitted: number } | null> {
    const names = this.#journals.get(sessionId);
    if (!names || names.length === 0) return null;
    const turns = new Map<string, TurnState>();
    const prompts = new Map<string, { text: string; at: number | null }>();
    let newest: number | null = null;
    let size = 0;
    let modified = 0;
    let problem: string | null = null;
    for (const [file, name] of names.entries()) {
      const read = await readRegularFile(
        pathIn(this.#options.sessionDir, name),
        this.#max,
      );
      if (!read.ok) {
        problem ??= cut(`${name} ${read.problem.detail}`, 300);
        continue;
      }
      size += read.identity.size;
      modified = Math.max(modified, read.identity.mtimeMs);
      summarizeJournal(read.value, { file, turns });
      const text = new TextDecoder().decode(read.value);
      for (const line of text.split("\n")) {
        if (!line.includes('"submitted"')) continue;
        let event: unknown;
        try {
          event = JSON.parse(line);
        } catch {
          continue;
        }
        if (
          !isPlainObject(event) || event.event !== "submitted" ||
          typeof event.turn_id !== "string"
        ) continue;
        const at = createdAtKey(event.created_at);
        const when = at.readable && at.key > 0 ? at.key : null;
        prompts.set(event.turn_id, {
          text: messageText(event.content),
          at: when,
        });
        if (when !== null) newest = Math.max(newest ?? when, when);
      }
    }
    const list: JournalTurn[] = [];
    for (const turn of turns.values()) {
      if (list.length >= MAX_TURNS) break;
      const prompt = prompts.get(turn.turnId);
      list.push({
        turnId: cut(turn.turnId, 80),
        state: cut(
          typeof turn.latest.event === "string" ? turn.latest.event : "?",
          40,
        ) + (isTerminalEvent(turn.latest) ? "" : " (open)"),
        at: isoOf(prompt?.at ?? null),
        excerpt: cut(prompt?.text ?? "", MESSAGE_EXCERPT),
        file: cut(names[turn.latestFile] ?? "", 120),
      });
    }
    const version: SessionVersion = {
      ...emptyVersion(
        "journal",
        "journal",
        names.length === 1 ? names[0] : `${names.length} journal files`,
      ),
      status: problem === null ? "ok" : "unreadable",
      problem,
      messageCount: prompts.size,
      updatedAt: isoOf(newest),
      modifiedAt: modified > 0 ? isoOfMs(modified) : null,
      size,
    };
    return {
      read: {
        version,
        messages: problem === null
          ? [...prompts.values()].map((p) => message("user", p.text, p.at))
          : null,
        promptsOnly: true,
      },
      turns: list,
      omitted: Math.max(0, turns.size - MAX_TURNS),
    };
  }
}

function emptyVersion(
  source: VersionSource,
  label: string,
  path: string,
): SessionVersion {
  return {
    source,
    label,
    path: cut(path, 300),
    status: "unreadable",
    problem: null,
    messageCount: null,
    title: null,
    createdAt: null,
    updatedAt: null,
    lastMessageAt: null,
    modifiedAt: null,
    size: null,
    sha256: null,
    unique: 0,
    missing: 0,
  };
}

function fileVersion(
  source: VersionSource,
  label: string,
  name: string,
  read: ReadResult<Uint8Array>,
): SessionVersion {
  const version = emptyVersion(source, label, name);
  const identity = read.identity;
  if (identity) {
    version.size = identity.size;
    version.modifiedAt = isoOfMs(identity.mtimeMs);
  }
  return version;
}

function unreadable(
  version: SessionVersion,
  read: Extract<ReadResult<Uint8Array>, { ok: false }>,
): Read {
  version.problem = cut(`${version.path} ${read.problem.detail}`, 300);
  return { version, messages: null, promptsOnly: false };
}

function message(role: unknown, content: unknown, at: unknown): Message {
  return {
    role: typeof role === "string" ? pyStrip(role) : cut(String(role), 40),
    text: pyStrip(messageText(content)),
    at: toTimestamp(at),
  };
}

function titleOf(raw: unknown): string | null {
  if (typeof raw !== "string") return raw == null ? null : cut(String(raw), 40);
  return cut(raw, TITLE_EXCERPT);
}

function sqlText(value: SqlValue): string {
  if (value instanceof Uint8Array) return `(${value.length} bytes of binary)`;
  return value === null ? "" : String(value);
}

function sqlNumber(value: SqlValue): number | null {
  return typeof value === "bigint"
    ? Number(value)
    : value instanceof Uint8Array
    ? null
    : toTimestamp(value);
}

/** Seconds since the epoch as ISO 8601; null when not a plausible time. */
function isoOf(seconds: number | null): string | null {
  if (seconds === null || !Number.isFinite(seconds) || seconds <= 0) {
    return null;
  }
  return isoOfMs(seconds * 1000);
}

function isoOfMs(ms: number): string | null {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/**
 * The diff of the versions that could be read: a message is keyed by its
 * role and its stripped text, counted in each version; one that some
 * version holds less often than another is listed.
 */
function diffOf(reads: Read[]): SessionEvidence["diff"] {
  const compared = reads.filter((r) => r.messages !== null);
  const entries = new Map<
    string,
    { role: string; text: string; at: number | null; counts: number[] }
  >();
  for (const [i, read] of compared.entries()) {
    for (const m of read.messages!) {
      const key = `${m.role}\u0000${m.text}`;
      let entry = entries.get(key);
      if (!entry) {
        entry = { ...m, counts: compared.map(() => 0) };
        entries.set(key, entry);
      }
      entry.counts[i]++;
      if (entry.at === null) entry.at = m.at;
    }
  }
  const listed: DiffEntry[] = [];
  let shared = 0;
  let differing = 0;
  const listedOrder: { at: number | null; entry: DiffEntry }[] = [];
  for (const entry of entries.values()) {
    // A journal holds only the prompts of recent turns: it never lacks a
    // message, it only adds the prompts no sidecar holds.
    const covers = compared.map((r, i) =>
      !r.promptsOnly || entry.counts[i] > 0
    );
    const most = Math.max(...entry.counts.filter((_, i) => covers[i]));
    const differs = compared.some((_, i) =>
      covers[i] && entry.counts[i] < most
    );
    if (!differs) {
      shared += most;
      continue;
    }
    differing++;
    for (const [i, read] of compared.entries()) {
      if (!covers[i]) continue;
      const others = Math.max(
        0,
        ...entry.counts.filter((_, j) => j !== i && covers[j]),
      );
      if (entry.counts[i] > others) read.version.unique++;
      if (entry.counts[i] < others) read.version.missing++;
    }
    if (listedOrder.length < MAX_DIFF_ENTRIES * 4) {
      const text = excerpt(entry.text, MESSAGE_EXCERPT);
      listedOrder.push({
        at: entry.at,
        entry: {
          role: cut(entry.role, 40),
          excerpt: text.text,
          truncated: text.truncated,
          at: isoOf(entry.at),
          counts: reads.map((r) => {
            const i = compared.indexOf(r);
            return i < 0 || !covers[i] ? null : entry.counts[i];
          }),
        },
      });
    }
  }
  listedOrder.sort((a, b) =>
    a.at === b.at ? 0 : a.at === null ? 1 : b.at === null ? -1 : a.at - b.at
  );
  for (const { entry } of listedOrder.slice(0, MAX_DIFF_ENTRIES)) {
    listed.push(entry);
  }
  return { shared, entries: listed, omitted: differing - listed.length };
}
