/**
 * The run journal (since v0.51.71): `_run_journal/<sid>/<stream_id>.jsonl`,
 * one JSON event per line for each SSE event of one run (STORE_FORMAT.md
 * §2). The server reads a file whole (`read_text().splitlines()`), skips
 * blank lines, and keeps every line that is a JSON object as an event; a
 * line that is not (a torn last append, say) is malformed and skipped. A
 * byte that is not UTF-8 anywhere in the file makes its read fail, and
 * then every caller acts as if the file held nothing.
 *
 * Here a file is read as a stream, a chunk at a time, with two bounds
 * whatever its size: a line longer than `maxLineBytes` is skipped unread,
 * and nothing past `maxTotalBytes` is read; the stats say when a bound cut
 * the read. Lines are cut where Python's splitlines() cuts them, and
 * numbered as the server numbers them.
 *
 * What the server makes of the events, as models.py does it: the
 * authoritative terminal event ({@linkcode TerminalPick}), the run's
 * terminal state when that event belongs to the run
 * ({@linkcode runTerminalState}, {@linkcode eventOwnsRun}), whether the run
 * left output a user would see ({@linkcode isVisibleOutputEvent}), and that
 * output itself, event by event ({@linkcode runOutputItem},
 * {@linkcode readRunOutput}).
 *
 * @example
 * ```ts
 * import { summarizeRunJournal } from "./run_journal.ts";
 * const bytes = new TextEncoder().encode(
 *   '{"seq":1,"event_id":"r1:1","run_id":"r1","session_id":"s1","event":"token","payload":{"text":"Hi"}}\n',
 * );
 * const summary = summarizeRunJournal(bytes, "s1", "r1");
 * summary.hasVisibleOutput; // true
 * summary.terminalState; // null: the run never ended
 * ```
 * @module
 */

import {
  fileConsumer,
  type FileContents,
  type ReadAt,
  readAtBytes,
  type ReadResult,
} from "../io/file_read.ts";
import { parseJsonText } from "../io/file_read.ts";
import { isPlainObject, pyStrip, pyTruthy } from "../store/sidecar_summary.ts";
import { OTHER_BREAK } from "./turn_journal.ts";

/**
 * Bounds on the work of reading one run journal.
 *
 * @example
 * ```ts
 * import type { RunJournalLimits } from "./run_journal.ts";
 * const limits: RunJournalLimits = { maxLineBytes: 1 << 20, maxTotalBytes: 64 << 20 };
 * ```
 */
export interface RunJournalLimits {
  /** A longer line is skipped unread (and reported). */
  maxLineBytes: number;
  /** Nothing past this many bytes of the file is read (and that is reported). */
  maxTotalBytes: number;
}

/**
 * Default bounds: a line of 32 MiB (a `done` event carries the whole
 * session, which may be megabytes), 256 MiB of a file.
 *
 * @example
 * ```ts
 * const limits = { ...DEFAULT_RUN_JOURNAL_LIMITS, maxTotalBytes: 1 << 20 };
 * ```
 */
export const DEFAULT_RUN_JOURNAL_LIMITS: RunJournalLimits = {
  maxLineBytes: 32 * 1024 * 1024,
  maxTotalBytes: 256 * 1024 * 1024,
};

/** How many line numbers of one sort a summary keeps (counts are exact). */
const KEPT_LINES = 50;
/** The size of one read. */
const CHUNK_BYTES = 64 * 1024;

/**
 * How the lines of one run journal file read, whatever the events are.
 *
 * @example
 * ```ts
 * import { type RunJournalLineStats, summarizeRunJournal } from "./run_journal.ts";
 * declare const bytes: Uint8Array;
 * const stats: RunJournalLineStats = summarizeRunJournal(bytes, "s1", "r1");
 * if (stats.tornLastLine !== null) console.log("torn at line", stats.tornLastLine);
 * ```
 */
export interface RunJournalLineStats {
  /** Lines as the server numbers them (splitlines()), those read. */
  lines: number;
  /** Lines that are JSON objects: the events. */
  events: number;
  /**
   * Lines that are not JSON objects, except a torn last line: exact count.
   * A line skipped for its length is not counted here.
   */
  malformedCount: number;
  /** The first of those line numbers (1-based). */
  malformedLines: number[];
  /**
   * The last line, when it is not a JSON object and has no newline: an
   * append cut short. The server skips it too; null when there is none.
   */
  tornLastLine: number | null;
  /** The file's last byte is not a newline. */
  endsWithoutNewline: boolean;
  /**
   * The first line holding bytes that are not UTF-8: the server's read of
   * the whole file fails on it, so to the server the file holds nothing.
   * Null when all of it is UTF-8.
   */
  invalidUtf8Line: number | null;
  /** Lines longer than `maxLineBytes`, skipped unread: exact count. */
  oversizedCount: number;
  /** The first of those line numbers. */
  oversizedLines: number[];
  /**
   * Where the read stopped because `maxTotalBytes` was reached, with more
   * of the file after it; null when the file was read to its end.
   */
  cutAtByte: number | null;
  /** Bytes read. */
  bytesRead: number;
}

/**
 * Reads one run journal's lines from `readAt`, calling `onEvent` with each
 * event (a JSON object) and its line number, in file order; returns what
 * the lines were. The read is bounded by `limits` whatever the file's size;
 * memory holds one line (at most `maxLineBytes`) and one chunk.
 *
 * @example
 * ```ts
 * import { readRunJournalLines, DEFAULT_RUN_JOURNAL_LIMITS } from "./run_journal.ts";
 * import { readAtBytes } from "../io/file_read.ts";
 * declare const bytes: Uint8Array;
 * const seen: number[] = [];
 * const stats = readRunJournalLines(readAtBytes(bytes), DEFAULT_RUN_JOURNAL_LIMITS,
 *   (_event, line) => seen.push(line));
 * ```
 */
export function readRunJournalLines(
  readAt: ReadAt,
  limits: RunJournalLimits,
  onEvent: (event: Record<string, unknown>, line: number) => void,
): RunJournalLineStats {
  const stats: RunJournalLineStats = {
    lines: 0,
    events: 0,
    malformedCount: 0,
    malformedLines: [],
    tornLastLine: null,
    endsWithoutNewline: false,
    invalidUtf8Line: null,
    oversizedCount: 0,
    oversizedLines: [],
    cutAtByte: null,
    bytesRead: 0,
  };
  const maxLine = Math.max(1, limits.maxLineBytes);
  const chunk = new Uint8Array(CHUNK_BYTES);
  let line = new Uint8Array(Math.min(maxLine, CHUNK_BYTES));
  let lineLength = 0;
  let oversized = false;
  let lastByte = -1;
  const append = (part: Uint8Array) => {
    if (oversized) return;
    if (lineLength + part.length > maxLine) {
      oversized = true;
      return;
    }
    if (lineLength + part.length > line.length) {
      const bigger = new Uint8Array(
        Math.min(maxLine, Math.max(line.length * 2, lineLength + part.length)),
      );
      bigger.set(line.subarray(0, lineLength));
      line = bigger;
    }
    line.set(part, lineLength);
    lineLength += part.length;
  };
  const finish = (terminated: boolean) => {
    if (oversized) {
      stats.lines++;
      stats.oversizedCount++;
      keep(stats.oversizedLines, stats.lines);
    } else {
      readSegment(line.subarray(0, lineLength), terminated, stats, onEvent);
    }
    lineLength = 0;
    oversized = false;
  };
  let position = 0;
  for (;;) {
    const room = limits.maxTotalBytes - position;
    if (room <= 0) {
      // More after the bound? One byte tells.
      if (readAt(new Uint8Array(1), position) > 0) stats.cutAtByte = position;
      break;
    }
    const view = room < chunk.length ? chunk.subarray(0, room) : chunk;
    const read = readAt(view, position);
    if (read === 0) break;
    position += read;
    const bytes = view.subarray(0, read);
    lastByte = bytes[read - 1];
    let start = 0;
    while (start < read) {
      const newline = bytes.indexOf(0x0a, start);
      if (newline < 0) {
        append(bytes.subarray(start));
        break;
      }
      append(bytes.subarray(start, newline));
      finish(true);
      start = newline + 1;
    }
  }
  stats.bytesRead = position;
  // A line the bound cut is not torn: it was never read whole.
  if (stats.cutAtByte === null && (lineLength > 0 || oversized)) finish(false);
  stats.endsWithoutNewline = lastByte !== -1 && lastByte !== 0x0a;
  return stats;
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * One piece of the file between two \n (or the end): one or more lines to
 * the server, whose splitlines() also cuts at \r, \x0b, \x0c, \x1c-\x1e,
 * \x85, \u2028 and \u2029 (its JSON writer leaves the last two raw inside
 * strings). \n never occurs inside a UTF-8 character, so a piece is whole
 * characters.
 */
function readSegment(
  bytes: Uint8Array,
  terminated: boolean,
  stats: RunJournalLineStats,
  onEvent: (event: Record<string, unknown>, line: number) => void,
): void {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    stats.lines++;
    stats.invalidUtf8Line ??= stats.lines;
    malformed(stats, terminated);
    return;
  }
  let pieces: string[];
  if (!OTHER_BREAK.test(text)) pieces = [text];
  else {
    pieces = text.split(new RegExp(`\\r\\n|${OTHER_BREAK.source}`));
    // splitlines() ends a line at its last break and yields nothing after
    // it; a \r right before this piece's \n is one break with it.
    if (pieces.length > 1 && pieces[pieces.length - 1] === "") {
      if (!terminated || text.endsWith("\r")) pieces.pop();
    }
  }
  pieces.forEach((piece, i) => {
    stats.lines++;
    if (pyStrip(piece) === "") return;
    const parsed = parseJsonText(piece);
    if (!parsed.ok || !isPlainObject(parsed.value)) {
      malformed(stats, terminated || i < pieces.length - 1);
      return;
    }
    stats.events++;
    onEvent(parsed.value, stats.lines);
  });
}

function malformed(stats: RunJournalLineStats, terminated: boolean): void {
  if (!terminated) {
    stats.tornLastLine = stats.lines;
    return;
  }
  stats.malformedCount++;
  keep(stats.malformedLines, stats.lines);
}

function keep(lines: number[], line: number): void {
  if (lines.length < KEPT_LINES) lines.push(line);
}

/** Events after which a run is over, in the journal's sense. */
export const RUN_TERMINAL_EVENTS: ReadonlySet<string> = new Set([
  "done",
  "cancel",
  "apperror",
  "error",
  "stream_end",
]);

/**
 * Picks the authoritative terminal event of a run as the server's
 * `select_authoritative_terminal_event` does, one event at a time: among
 * events whose `terminal` is truthy, the last that is not `stream_end`
 * (transport closure), else the last `stream_end`.
 *
 * @example
 * ```ts
 * import { TerminalPick } from "./run_journal.ts";
 * const pick = new TerminalPick();
 * pick.add({ event: "done", terminal: true }, 3);
 * pick.add({ event: "stream_end", terminal: true }, 4);
 * pick.result()?.event.event; // "done"
 * ```
 */
export class TerminalPick {
  #semantic: { event: Record<string, unknown>; line: number } | null = null;
  #last: { event: Record<string, unknown>; line: number } | null = null;

  /**
   * Takes the next event of the file.
   *
   * @example
   * ```ts
   * import { TerminalPick } from "./run_journal.ts";
   * declare const pick: TerminalPick;
   * declare const event: Record<string, unknown>;
   * declare const line: number;
   * pick.add(event, line);
   * ```
   */
  add(event: Record<string, unknown>, line: number): void {
    if (!pyTruthy(event.terminal)) return;
    this.#last = { event, line };
    if (event.event !== "stream_end") this.#semantic = { event, line };
  }

  /**
   * The authoritative terminal event and its line, or null when no event
   * is terminal.
   *
   * @example
   * ```ts
   * import { TerminalPick } from "./run_journal.ts";
   * declare const pick: TerminalPick;
   * const terminal = pick.result();
   * ```
   */
  result(): { event: Record<string, unknown>; line: number } | null {
    return this.#semantic ?? this.#last;
  }
}

/**
 * True when an event belongs to the run of `streamId` in session
 * `sessionId`, as the server's `_run_journal_event_owns_run` decides
 * (since exp-v0.52.159): an integer `seq` of at least 1, and its
 * `session_id`, `run_id` and `event_id` (`<streamId>:<seq>`) all match.
 *
 * @example
 * ```ts
 * import { eventOwnsRun } from "./run_journal.ts";
 * eventOwnsRun({ seq: 2, session_id: "s1", run_id: "r1", event_id: "r1:2" }, "s1", "r1"); // true
 * eventOwnsRun({ seq: 2, session_id: "s2", run_id: "r1", event_id: "r1:2" }, "s1", "r1"); // false
 * ```
 */
export function eventOwnsRun(
  event: unknown,
  sessionId: string,
  streamId: string | null,
): boolean {
  if (!isPlainObject(event) || !streamId) return false;
  const seq = event.seq;
  if (typeof seq !== "number" || !Number.isInteger(seq) || seq < 1) {
    return false;
  }
  return event.session_id === sessionId && event.run_id === streamId &&
    event.event_id === `${streamId}:${seq}`;
}

/**
 * The run's terminal state as the server's `_run_journal_terminal_state`
 * gives it: the authoritative terminal event's `terminal_state`, when that
 * event belongs to the run and its `terminal` is exactly `true`; else null.
 * `"completed"` means the run finished: the server then closes a stale
 * stream without an error marker (since v0.51.154).
 *
 * @example
 * ```ts
 * import { runTerminalState } from "./run_journal.ts";
 * runTerminalState(
 *   { event: "done", seq: 5, session_id: "s1", run_id: "r1", event_id: "r1:5", terminal: true, terminal_state: "completed" },
 *   "s1", "r1",
 * ); // "completed"
 * ```
 */
export function runTerminalState(
  terminal: Record<string, unknown> | null,
  sessionId: string,
  streamId: string | null,
): string | null {
  if (!terminal || !eventOwnsRun(terminal, sessionId, streamId)) return null;
  if (terminal.terminal !== true) return null;
  const state = terminal.terminal_state;
  return pyTruthy(state) ? pyStr(state) : null;
}

/**
 * The name the server's recovery reads an event by:
 * `str(event.get('event') or event.get('type') or '')`.
 *
 * @example
 * ```ts
 * import { runEventName } from "./run_journal.ts";
 * runEventName({ type: "token" }); // "token"
 * ```
 */
export function runEventName(event: Record<string, unknown>): string {
  if (pyTruthy(event.event)) return pyStr(event.event);
  if (pyTruthy(event.type)) return pyStr(event.type);
  return "";
}

/**
 * True when one event is output a user would have seen, as the server's
 * `_run_journal_has_visible_output` decides: a `token` with text, an
 * `interim_assistant` not `already_streamed` with text that is not blank,
 * a `reasoning` with text that is not blank, or any `tool`.
 *
 * @example
 * ```ts
 * import { isVisibleOutputEvent } from "./run_journal.ts";
 * isVisibleOutputEvent({ event: "token", payload: { text: "Hi" } }); // true
 * isVisibleOutputEvent({ event: "metering", payload: {} }); // false
 * ```
 */
export function isVisibleOutputEvent(event: Record<string, unknown>): boolean {
  const item = runOutputItem(event, 0);
  if (!item) return false;
  switch (item.type) {
    case "token":
    case "tool":
      return true;
    case "interim":
      return !item.alreadyStreamed && item.text !== "";
    case "reasoning":
      return pyStrip(item.text) !== "";
    default:
      return false;
  }
}

/**
 * One event of a run as the server's recovery of a dead stream
 * (`_append_journaled_partial_output`) reads it; the fields are the
 * values it takes, already put through its `str()`, `or` and `strip()`.
 *
 * @example
 * ```ts
 * import type { RunOutputItem } from "./run_journal.ts";
 * const item: RunOutputItem = { type: "token", text: "Hi", createdAt: 1.5, seq: 1, line: 1 };
 * ```
 */
export type RunOutputItem =
  & {
    /** The event's `created_at` when a number (a bool counts, as in Python), else null. */
    createdAt: number | null;
    /** The event's `seq` as written (the server tags tool cards with it). */
    seq: unknown;
    /** Its line in the file. */
    line: number;
  }
  & (
    /** A text delta (`payload.text`, never empty). */
    | { type: "token"; text: string }
    /** Display-only reasoning (`text`, `reasoning` or `thinking`, never empty). */
    | { type: "reasoning"; text: string }
    /**
     * An interim assistant message: its text stripped (empty only when
     * `alreadyStreamed`, which only closes the text so far).
     */
    | { type: "interim"; text: string; alreadyStreamed: boolean }
    /** A tool card: `name` (`"tool"` when none), `preview`, raw `args`. */
    | { type: "tool"; name: string; preview: string; args: unknown }
    /**
     * A tool finished: `name` ("" matches any), `preview` when truthy,
     * `duration` when not null, `isError` as Python's bool().
     */
    | {
      type: "tool_complete";
      name: string;
      preview: string | null;
      duration: unknown;
      isError: boolean;
    }
    /** A terminal event name (`done`, `stream_end`, `cancel`, `apperror`, `error`): it closes the text so far. */
    | { type: "terminal"; event: string }
  );

/**
 * What the server's recovery makes of one event, or null for events it
 * passes over (metering, a token without text, ...).
 *
 * @example
 * ```ts
 * import { runOutputItem } from "./run_journal.ts";
 * runOutputItem({ event: "tool", seq: 3, payload: { name: "terminal", preview: "ls" } }, 3);
 * // { type: "tool", name: "terminal", preview: "ls", args: {}, seq: 3, createdAt: null, line: 3 }
 * ```
 */
export function runOutputItem(
  event: Record<string, unknown>,
  line: number,
): RunOutputItem | null {
  const name = runEventName(event);
  const payload = isPlainObject(event.payload) ? event.payload : {};
  const raw = event.created_at;
  const base = {
    createdAt: typeof raw === "number"
      ? raw
      : typeof raw === "boolean"
      ? (raw ? 1 : 0)
      : null,
    seq: event.seq,
    line,
  };
  const text = (value: unknown) => pyTruthy(value) ? pyStr(value) : "";
  switch (name) {
    case "reasoning": {
      const value = text(
        pyTruthy(payload.text)
          ? payload.text
          : pyTruthy(payload.reasoning)
          ? payload.reasoning
          : payload.thinking,
      );
      return value ? { ...base, type: "reasoning", text: value } : null;
    }
    case "token": {
      const value = text(payload.text);
      return value ? { ...base, type: "token", text: value } : null;
    }
    case "interim_assistant": {
      if (pyTruthy(payload.already_streamed)) {
        return { ...base, type: "interim", text: "", alreadyStreamed: true };
      }
      const value = pyStrip(text(payload.text));
      return value
        ? { ...base, type: "interim", text: value, alreadyStreamed: false }
        : null;
    }
    case "tool":
      return {
        ...base,
        type: "tool",
        name: text(payload.name) || "tool",
        preview: text(payload.preview),
        args: pyTruthy(payload.args) ? payload.args : {},
      };
    case "tool_complete":
      return {
        ...base,
        type: "tool_complete",
        name: text(payload.name),
        preview: pyTruthy(payload.preview) ? pyStr(payload.preview) : null,
        duration: payload.duration ?? null,
        isError: pyTruthy(payload.is_error),
      };
    default:
      return RUN_TERMINAL_EVENTS.has(name)
        ? { ...base, type: "terminal", event: name }
        : null;
  }
}

/**
 * Python's `str()` of a JSON value, for the server's `str(...)` of event
 * fields. The server writes strings there; for other values this is close
 * enough to tell empty from not (a float that JSON wrote as `1.0` reads
 * back as `1` here, and a list or dict is a stand-in: `[...]`, `{...}`).
 *
 * @example
 * ```ts
 * import { pyStr } from "./run_journal.ts";
 * pyStr("hi"); // "hi"
 * pyStr(true); // "True"
 * ```
 */
export function pyStr(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === null || value === undefined) return "None";
  if (typeof value === "boolean") return value ? "True" : "False";
  if (typeof value === "number") {
    if (Number.isNaN(value)) return "nan";
    if (!Number.isFinite(value)) return value > 0 ? "inf" : "-inf";
    return String(value);
  }
  // Python's repr of a list or dict: only ever tested for being empty
  // (and the server writes strings there), so a stand-in serves, and no
  // megabyte of nested values is spelled out.
  if (Array.isArray(value)) return value.length ? "[...]" : "[]";
  return isPlainObject(value) && Object.keys(value).length ? "{...}" : "{}";
}

/**
 * A run journal as the checks see it: its lines, and what the server
 * makes of its events for the run of `streamId` in session `sessionId`.
 *
 * @example
 * ```ts
 * import { type RunJournalSummary, summarizeRunJournal } from "./run_journal.ts";
 * declare const bytes: Uint8Array;
 * const summary: RunJournalSummary = summarizeRunJournal(bytes, "s1", "r1");
 * if (summary.terminalState === "completed") console.log("the run finished");
 * ```
 */
export interface RunJournalSummary extends RunJournalLineStats {
  /** The authoritative terminal event (see {@linkcode TerminalPick}), or null. */
  terminal: {
    /** Its `event` (e.g. `done`), when a string. */
    event: string | null;
    /** Its line. */
    line: number;
    /** It belongs to the run ({@linkcode eventOwnsRun}). */
    owned: boolean;
  } | null;
  /**
   * The run's terminal state to the server ({@linkcode runTerminalState}),
   * e.g. `completed`; null when the run has none (it never ended, or its
   * terminal event is not its own).
   */
  terminalState: string | null;
  /** Some event is visible output ({@linkcode isVisibleOutputEvent}). */
  hasVisibleOutput: boolean;
  /** Characters of text deltas (`token`, `interim_assistant`). */
  textChars: number;
  /** Text delta events. */
  textEvents: number;
  /** Characters of display-only reasoning. */
  reasoningChars: number;
  /** Tool cards (`tool` events). */
  toolCards: number;
  /** Events that do not belong to the run ({@linkcode eventOwnsRun}). */
  foreignEvents: number;
  /** The first line of such an event, or null. */
  firstForeignLine: number | null;
  /** The `seq` of the last event when an integer, else 0 (as the server's summary). */
  lastSeq: number;
}

/**
 * The {@linkcode FileContents} of a run journal read as a
 * {@linkcode RunJournalSummary}, for {@linkcode fileConsumer}: give it a
 * `maxBytes` of `Infinity`, since the reader applies `limits` itself and
 * reads any size in bounded memory.
 *
 * @example
 * ```ts
 * import { runJournalSummaryContents } from "./run_journal.ts";
 * import { fileConsumer } from "../io/file_read.ts";
 * const read = await fileConsumer(runJournalSummaryContents("s1", "r1"));
 * const r = read("/srv/sessions/_run_journal/s1/r1.jsonl", Infinity);
 * ```
 */
export function runJournalSummaryContents(
  sessionId: string,
  streamId: string,
  limits: RunJournalLimits = DEFAULT_RUN_JOURNAL_LIMITS,
): FileContents<RunJournalSummary> {
  return (readAt) => {
    const value = summarizeRunJournalAt(readAt, sessionId, streamId, limits);
    return { value: { ok: true, value }, bytes: value.bytesRead };
  };
}

/**
 * Summarizes a run journal held in memory (tests, small files).
 *
 * @example
 * ```ts
 * import { summarizeRunJournal } from "./run_journal.ts";
 * summarizeRunJournal(new TextEncoder().encode("torn"), "s1", "r1").tornLastLine; // 1
 * ```
 */
export function summarizeRunJournal(
  bytes: Uint8Array,
  sessionId: string,
  streamId: string,
  limits: RunJournalLimits = DEFAULT_RUN_JOURNAL_LIMITS,
): RunJournalSummary {
  return summarizeRunJournalAt(readAtBytes(bytes), sessionId, streamId, limits);
}

function summarizeRunJournalAt(
  readAt: ReadAt,
  sessionId: string,
  streamId: string,
  limits: RunJournalLimits,
): RunJournalSummary {
  const pick = new TerminalPick();
  let hasVisibleOutput = false;
  let textChars = 0;
  let textEvents = 0;
  let reasoningChars = 0;
  let toolCards = 0;
  let foreignEvents = 0;
  let firstForeignLine: number | null = null;
  let lastSeq = 0;
  const stats = readRunJournalLines(readAt, limits, (event, line) => {
    pick.add(event, line);
    if (!eventOwnsRun(event, sessionId, streamId)) {
      foreignEvents++;
      firstForeignLine ??= line;
    }
    lastSeq = typeof event.seq === "number" && Number.isInteger(event.seq)
      ? event.seq
      : 0;
    const item = runOutputItem(event, line);
    if (!item) return;
    if (!hasVisibleOutput && isVisibleOutputEvent(event)) {
      hasVisibleOutput = true;
    }
    if (item.type === "token" || (item.type === "interim" && item.text)) {
      textChars += item.text.length;
      textEvents++;
    } else if (item.type === "reasoning") reasoningChars += item.text.length;
    else if (item.type === "tool") toolCards++;
  });
  const terminal = pick.result();
  return {
    ...stats,
    terminal: terminal && {
      event: typeof terminal.event.event === "string"
        ? terminal.event.event
        : null,
      line: terminal.line,
      owned: eventOwnsRun(terminal.event, sessionId, streamId),
    },
    terminalState: runTerminalState(
      terminal?.event ?? null,
      sessionId,
      streamId,
    ),
    hasVisibleOutput,
    textChars,
    textEvents,
    reasoningChars,
    toolCards,
    foreignEvents,
    firstForeignLine,
    lastSeq,
  };
}

/**
 * A run's output as the server's recovery would take it from the file: the
 * items in file order, the authoritative terminal event and the run's
 * terminal state, and how the lines read.
 *
 * @example
 * ```ts
 * import { readRunOutput } from "./run_journal.ts";
 * declare const path: string;
 * const read = await readRunOutput(path, "s1", "r1");
 * if (read.ok) console.log(read.value.terminalState);
 * ```
 */
export interface RunOutput {
  /** The events the recovery uses ({@linkcode runOutputItem}), in file order. */
  items: RunOutputItem[];
  /** The authoritative terminal event and its line, or null. */
  terminal: { event: Record<string, unknown>; line: number } | null;
  /** {@linkcode runTerminalState} of it. */
  terminalState: string | null;
  /** How the lines read (bounds, torn or malformed lines, invalid UTF-8). */
  stats: RunJournalLineStats;
}

/**
 * Reads a run journal file for its output, no-follow and regular-file-only
 * (core/io/file_read.ts), bounded by `limits` whatever its size: for the
 * repair that recovers a dead stream's output. `sessionId` and `streamId`
 * must be the ones its path was built from (both pass the sidecar rule).
 *
 * @example
 * ```ts
 * import { readRunOutput } from "./run_journal.ts";
 * const r = await readRunOutput("/srv/sessions/_run_journal/s1/r1.jsonl", "s1", "r1");
 * if (r.ok) for (const item of r.value.items) console.log(item.type);
 * ```
 */
export async function readRunOutput(
  path: string,
  sessionId: string,
  streamId: string,
  limits: RunJournalLimits = DEFAULT_RUN_JOURNAL_LIMITS,
): Promise<ReadResult<RunOutput>> {
  const read = await fileConsumer<RunOutput>((readAt) => {
    const value = runOutputAt(readAt, sessionId, streamId, limits);
    return { value: { ok: true, value }, bytes: value.stats.bytesRead };
  });
  return read(path, Infinity);
}

/**
 * {@linkcode readRunOutput} of bytes in memory.
 *
 * @example
 * ```ts
 * import { runOutputOf } from "./run_journal.ts";
 * declare const bytes: Uint8Array;
 * runOutputOf(bytes, "s1", "r1").items.length;
 * ```
 */
export function runOutputOf(
  bytes: Uint8Array,
  sessionId: string,
  streamId: string,
  limits: RunJournalLimits = DEFAULT_RUN_JOURNAL_LIMITS,
): RunOutput {
  return runOutputAt(readAtBytes(bytes), sessionId, streamId, limits);
}

function runOutputAt(
  readAt: ReadAt,
  sessionId: string,
  streamId: string,
  limits: RunJournalLimits,
): RunOutput {
  const items: RunOutputItem[] = [];
  const pick = new TerminalPick();
  const stats = readRunJournalLines(readAt, limits, (event, line) => {
    pick.add(event, line);
    const item = runOutputItem(event, line);
    if (item) items.push(item);
  });
  const terminal = pick.result();
  return {
    items,
    terminal,
    terminalState: runTerminalState(
      terminal?.event ?? null,
      sessionId,
      streamId,
    ),
    stats,
  };
}
