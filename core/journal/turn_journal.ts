/**
 * The turn journal: one JSON event per line, in the legacy
 * `_turn_journal/<sid>.jsonl` and (since v0.51.255) in one shard a server
 * process, `<sid>~<pid>.jsonl`. The server reads a session's files in order
 * (core/journal/turn_journal_files.ts) and stably sorts all their events by `created_at`
 * read as a float (missing, null, or a value float() refuses count as 0).
 * The state of a turn is then its last event among those with its greatest
 * `created_at`: ties go to the later file, then the later line. Lines that
 * are not JSON objects are malformed and skipped, never fatal. A turn is
 * over when that event is `completed` or `interrupted`, whatever its
 * `terminal` flag says (the server derives it from the name).
 *
 * @example
 * ```ts
 * import { summarizeJournal } from "./turn_journal.ts";
 * const j = summarizeJournal(new TextEncoder().encode(
 *   '{"event":"submitted","turn_id":"t1","created_at":1,"content":"hi"}\n',
 * ));
 * j.turns.get("t1")?.latest.event; // "submitted"
 * ```
 * @module
 */

import { isPlainObject, messageText } from "../store/sidecar_summary.ts";

/** Events after which a turn is over. */
export const TERMINAL_EVENTS: ReadonlySet<string> = new Set([
  "completed",
  "interrupted",
]);

/** How many malformed line numbers a summary keeps (the count is exact). */
const KEPT_LINE_NUMBERS = 50;

/**
 * One turn as the journal leaves it.
 *
 * @example
 * ```ts
 * import type { JournalSummary, TurnState } from "./turn_journal.ts";
 * declare const journal: JournalSummary;
 * const turn: TurnState | undefined = journal.turns.get("t1");
 * console.log(turn?.latest.event, turn?.terminalEvents);
 * ```
 */
export interface TurnState {
  /** The `turn_id` of its events. */
  turnId: string;
  /** The event that decides the turn's state. */
  latest: Record<string, unknown>;
  /** 1-based line of that event. */
  latestLine: number;
  /** Which of the session's journal files holds it (0 when read alone). */
  latestFile: number;
  /** Sort key of that event: its `created_at` as the server reads it. */
  latestCreatedAt: number;
  /** How many terminal events the turn has (more than one is a collision). */
  terminalEvents: number;
  /** Lines of its terminal events. */
  terminalLines: number[];
  /** For each of those lines, which journal file it is in. */
  terminalFiles: number[];
  /** Names of its terminal events, in line order (e.g. `completed`). */
  terminalEventNames: string[];
  /** The greatest sort key among its events. */
  maxCreatedAt: number;
}

/** How many distinct `session_id` values a summary keeps. */
const KEPT_SESSION_IDS = 20;

/**
 * A `session_id` value found on a journal line.
 *
 * @example
 * ```ts
 * import type { JournalSummary } from "./turn_journal.ts";
 * declare const journal: JournalSummary;
 * for (const { value, line } of journal.sessionIds) console.log(value, line);
 * ```
 */
export interface JournalSessionId {
  /** The value as the line holds it. */
  value: unknown;
  /** 1-based line of its first occurrence. */
  line: number;
  /** How many events carry it. */
  count: number;
}

/**
 * A journal file as the checks see it.
 *
 * @example
 * ```ts
 * import { type JournalSummary, summarizeJournal } from "./turn_journal.ts";
 * declare const bytes: Uint8Array;
 * const journal: JournalSummary = summarizeJournal(bytes);
 * console.log(journal.lines, journal.malformedCount, journal.turns.size);
 * ```
 */
export interface JournalSummary {
  /** Lines in the file, not counting a final empty one. */
  lines: number;
  /** Malformed lines (not a JSON object): exact count. */
  malformedCount: number;
  /** The first malformed line numbers (1-based). */
  malformedLines: number[];
  /** Events without a string `turn_id`. */
  missingTurnIdCount: number;
  /** The first lines of events without a string `turn_id` (1-based). */
  missingTurnIdLines: number[];
  /**
   * Events whose `created_at` is missing or not a time (a string float()
   * refuses, a list, an object, a boolean); `null` is not counted: the
   * server writes it for a submitted turn without a start time.
   */
  badCreatedAtCount: number;
  /** The first lines of those events. */
  badCreatedAtLines: number[];
  /**
   * The distinct `session_id` values of its events (any JSON type), each
   * with the first line it is on; at most 20 are kept. Checks validate them:
   * a journal line's id must never become a path.
   */
  sessionIds: JournalSessionId[];
  /**
   * Turns by id (of every file summarized into the same map, see
   * {@linkcode JournalReadOptions}). In a store snapshot they are kept per
   * session, not per file (core/scan/snapshot.ts).
   */
  turns: Map<string, TurnState>;
  /** How many turns the map holds. */
  turnCount: number;
  /** True when the last line has no newline (an append was cut short). */
  endsWithoutNewline: boolean;
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Where Python's str.splitlines() breaks a line. */
// deno-lint-ignore no-control-regex -- Python's line breaks are control characters
const PY_LINE_BREAK = /\r\n|[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]/;
/**
 * A line break of Python's str.splitlines() other than \n: when a text has
 * none, \n alone cuts its lines.
 *
 * @example
 * ```ts
 * import { OTHER_BREAK } from "./turn_journal.ts";
 * OTHER_BREAK.test("a\u2028b"); // true: the server cuts the line there
 * ```
 */
// deno-lint-ignore no-control-regex -- as above
export const OTHER_BREAK = /[\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]/;

/**
 * How a file is read as one of a session's journal files.
 *
 * @example
 * ```ts
 * import { type TurnState, summarizeJournal } from "./turn_journal.ts";
 * declare const names: string[];
 * declare function bytesOf(file: number): Uint8Array;
 * const turns = new Map<string, TurnState>();
 * names.forEach((_, file) => summarizeJournal(bytesOf(file), { file, turns }));
 * ```
 */
export interface JournalReadOptions {
  /** Its place among the session's files, in the server's read order. */
  file?: number;
  /**
   * The turns of the files before it: its events are added, so the files
   * read in order leave the server's merged view in this map.
   */
  turns?: Map<string, TurnState>;
}

/**
 * Reads every event of a journal file, line by line.
 *
 * @example
 * ```ts
 * import { summarizeJournal } from "./turn_journal.ts";
 * summarizeJournal(new TextEncoder().encode("not json\n")).malformedLines; // [1]
 * ```
 */
export function summarizeJournal(
  bytes: Uint8Array,
  options: JournalReadOptions = {},
): JournalSummary {
  const file = options.file ?? 0;
  const summary: JournalSummary = {
    lines: 0,
    malformedCount: 0,
    malformedLines: [],
    missingTurnIdCount: 0,
    missingTurnIdLines: [],
    badCreatedAtCount: 0,
    badCreatedAtLines: [],
    sessionIds: [],
    turns: options.turns ?? new Map(),
    turnCount: 0,
    endsWithoutNewline: bytes.length > 0 && bytes[bytes.length - 1] !== 0x0a,
  };
  let start = 0;
  let lineNumber = 0;
  // The whole file is decoded at once when it is valid UTF-8 (the usual
  // case, and much cheaper than a decode per line); else a line at a time,
  // so only the lines with bad bytes are malformed. UTF-8 never has a 0x0a
  // inside a character, so both ways cut the same lines.
  const text = decodeOrNull(bytes);
  const length = text === null ? bytes.length : text.length;
  // The server cuts lines with str.splitlines(), which also breaks at \r,
  // \x0b, \x0c, \x1c-\x1e, \x85, \u2028 and \u2029 (its JSON writer leaves
  // all but \r raw inside strings): the same lines, numbered the same.
  const breaks = text !== null && OTHER_BREAK.test(text)
    ? new RegExp(PY_LINE_BREAK.source, "g")
    : null;
  while (start < length) {
    let end: number;
    let next: number;
    if (breaks) {
      breaks.lastIndex = start;
      const found = breaks.exec(text!);
      end = found ? found.index : length;
      next = found ? end + found[0].length : length;
    } else {
      end = text === null
        ? bytes.indexOf(0x0a, start)
        : text.indexOf("\n", start);
      if (end < 0) end = length;
      next = end + 1;
    }
    lineNumber++;
    readLine(
      text === null
        ? decodeOrNull(bytes.subarray(start, end))
        : text.slice(start, end),
      lineNumber,
      file,
      summary,
    );
    start = next;
  }
  summary.lines = lineNumber;
  summary.turnCount = summary.turns.size;
  return summary;
}

function decodeOrNull(bytes: Uint8Array): string | null {
  try {
    return utf8.decode(bytes);
  } catch {
    return null;
  }
}

/** One line; null when its bytes are not UTF-8. */
function readLine(
  line: string | null,
  lineNumber: number,
  file: number,
  summary: JournalSummary,
): void {
  // The server skips lines that are only whitespace (str.strip()).
  if (line !== null && pyIsBlank(line)) return;
  let event: unknown;
  try {
    event = line === null ? undefined : JSON.parse(line);
  } catch {
    event = undefined;
  }
  if (!isPlainObject(event)) {
    summary.malformedCount++;
    keepLine(summary.malformedLines, lineNumber);
    return;
  }
  if ("session_id" in event) {
    noteSessionId(summary, event.session_id, lineNumber);
  }
  const turnId = event.turn_id;
  if (typeof turnId !== "string" || turnId === "") {
    summary.missingTurnIdCount++;
    keepLine(summary.missingTurnIdLines, lineNumber);
    return;
  }
  const time = createdAtKey(event.created_at);
  if (!time.readable) {
    summary.badCreatedAtCount++;
    keepLine(summary.badCreatedAtLines, lineNumber);
  }
  const key = time.key;
  const isTerminal = isTerminalEvent(event);
  const turn = summary.turns.get(turnId);
  if (!turn) {
    summary.turns.set(turnId, {
      turnId,
      latest: event,
      latestLine: lineNumber,
      latestFile: file,
      latestCreatedAt: key,
      terminalEvents: isTerminal ? 1 : 0,
      terminalLines: isTerminal ? [lineNumber] : [],
      terminalFiles: isTerminal ? [file] : [],
      terminalEventNames: isTerminal ? [event.event as string] : [],
      maxCreatedAt: key,
    });
    return;
  }
  // Lines come in file order, then line order: the later one wins a tie,
  // as after the server's stable sort.
  if (key >= turn.latestCreatedAt) {
    turn.latest = event;
    turn.latestLine = lineNumber;
    turn.latestFile = file;
    turn.latestCreatedAt = key;
  }
  if (isTerminal) {
    turn.terminalEvents++;
    turn.terminalLines.push(lineNumber);
    turn.terminalFiles.push(file);
    turn.terminalEventNames.push(event.event as string);
  }
  turn.maxCreatedAt = Math.max(turn.maxCreatedAt, key);
}

function keepLine(lines: number[], lineNumber: number): void {
  if (lines.length < KEPT_LINE_NUMBERS) lines.push(lineNumber);
}

function noteSessionId(
  summary: JournalSummary,
  value: unknown,
  lineNumber: number,
): void {
  // A journal normally holds one string id, so the common case is one
  // strict comparison per line; other values compare as JSON, so "1" and 1
  // stay apart.
  const known = summary.sessionIds.find((s) =>
    s.value === value ||
    (typeof s.value !== "string" && typeof value !== "string" &&
      JSON.stringify(s.value) === JSON.stringify(value))
  );
  if (known) known.count++;
  else if (summary.sessionIds.length < KEPT_SESSION_IDS) {
    summary.sessionIds.push({ value, line: lineNumber, count: 1 });
  }
}

/** Python's `str.isspace()` characters (a BOM is not one). */
const PY_BLANK =
  // deno-lint-ignore no-control-regex -- Python's whitespace has control characters
  /^[\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$/;

/** True when Python's `str.strip()` leaves nothing of the line. */
function pyIsBlank(line: string): boolean {
  return PY_BLANK.test(line);
}

/** A decimal float literal as Python's float() takes it (`_` between digits). */
const PY_FLOAT =
  /^[+-]?(?:(?:\d(?:_?\d)*)?\.?\d(?:_?\d)*|\d(?:_?\d)*\.)(?:[eE][+-]?\d(?:_?\d)*)?$/;
const PY_INFINITY = /^[+-]?(?:inf|infinity)$/i;

/**
 * How the server sorts an event by its `created_at`: `float(value or 0)`,
 * and 0 where float() refuses the value. `readable` is false for a value
 * the server would not write (missing, or refused by float()).
 *
 * @example
 * ```ts
 * import { createdAtKey } from "./turn_journal.ts";
 * createdAtKey(12.5); // { key: 12.5, readable: true }
 * createdAtKey(null); // { key: 0, readable: true }
 * createdAtKey("soon"); // { key: 0, readable: false }
 * ```
 */
export function createdAtKey(
  value: unknown,
): { key: number; readable: boolean } {
  if (typeof value === "number") return { key: value, readable: true };
  if (value === null) return { key: 0, readable: true };
  if (typeof value === "string") {
    const text = value.trim();
    if (PY_FLOAT.test(text)) {
      return { key: Number(text.replaceAll("_", "")), readable: true };
    }
    if (PY_INFINITY.test(text)) {
      return {
        key: text.startsWith("-") ? -Infinity : Infinity,
        readable: true,
      };
    }
    return { key: 0, readable: false };
  }
  if (typeof value === "boolean") {
    return { key: value ? 1 : 0, readable: false };
  }
  return { key: 0, readable: false };
}

/**
 * True when a turn's deciding event ends the turn.
 *
 * @example
 * ```ts
 * import { isTerminalEvent } from "./turn_journal.ts";
 * isTerminalEvent({ event: "completed" }); // true
 * ```
 */
export function isTerminalEvent(event: Record<string, unknown>): boolean {
  // Only a string names an event; String() of a list nested 100,000 deep
  // would overflow the stack.
  return typeof event.event === "string" && TERMINAL_EVENTS.has(event.event);
}

/**
 * The text of an event's `content`, as the server's `str(content or '')`
 * reads it for strings; lists of parts give their text.
 *
 * @example
 * ```ts
 * import { eventText } from "./turn_journal.ts";
 * eventText("hi"); // "hi"
 * eventText(null); // ""
 * ```
 */
export function eventText(content: unknown): string {
  if (content === null || content === undefined || content === false) return "";
  if (typeof content === "string" || Array.isArray(content)) {
    return messageText(content);
  }
  if (typeof content === "number" || content === true) {
    return content === 0 ? "" : String(content);
  }
  return "";
}
