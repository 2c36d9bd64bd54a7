/**
 * The turn journal (`_turn_journal/<sid>.jsonl`): one JSON event per line.
 * The state of a turn is its event with the greatest `created_at`, ties going
 * to the later line. Lines that are not JSON objects are malformed and
 * skipped, never fatal; a `created_at` that is missing or not a number sorts
 * before every numeric one.
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

import { isPlainObject } from "./sidecar_summary.ts";

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
  /** Sort key of that event: its `created_at`, or -Infinity. */
  latestCreatedAt: number;
  /** How many terminal events the turn has (more than one is a collision). */
  terminalEvents: number;
  /** Lines of its terminal events. */
  terminalLines: number[];
  /** Names of its terminal events, in line order (e.g. `completed`). */
  terminalEventNames: string[];
  /** The greatest numeric `created_at` among its events, or null. */
  maxCreatedAt: number | null;
}

/** How many distinct `session_id` values a summary keeps. */
const KEPT_SESSION_IDS = 20;

/**
 * A `session_id` value found on a journal line.
 *
 * @example
 * ```ts
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
  /** Events whose `created_at` is missing or not a number. */
  badCreatedAtCount: number;
  /** The first lines of events whose `created_at` is missing or not a number. */
  badCreatedAtLines: number[];
  /**
   * The distinct `session_id` values of its events (any JSON type), each
   * with the first line it is on; at most 20 are kept. Checks validate them:
   * a journal line's id must never become a path.
   */
  sessionIds: JournalSessionId[];
  /**
   * Turns by id. In a store snapshot, only the turns a check can report:
   * settled turns (ended once, by their latest event) are dropped by the
   * scan to keep its memory small, and counted in `turnCount`.
   */
  turns: Map<string, TurnState>;
  /** How many turns the file has, settled ones included. */
  turnCount: number;
  /** True when the last line has no newline (an append was cut short). */
  endsWithoutNewline: boolean;
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Reads every event of a journal, line by line.
 *
 * @example
 * ```ts
 * summarizeJournal(new TextEncoder().encode("not json\n")).malformedLines; // [1]
 * ```
 */
export function summarizeJournal(bytes: Uint8Array): JournalSummary {
  const summary: JournalSummary = {
    lines: 0,
    malformedCount: 0,
    malformedLines: [],
    missingTurnIdCount: 0,
    missingTurnIdLines: [],
    badCreatedAtCount: 0,
    badCreatedAtLines: [],
    sessionIds: [],
    turns: new Map(),
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
  while (start < length) {
    let end = text === null
      ? bytes.indexOf(0x0a, start)
      : text.indexOf("\n", start);
    if (end < 0) end = length;
    lineNumber++;
    readLine(
      text === null
        ? decodeOrNull(bytes.subarray(start, end))
        : text.slice(start, end),
      lineNumber,
      summary,
    );
    start = end + 1;
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
  summary: JournalSummary,
): void {
  if (line === "" || line === "\r") return;
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
  const createdAt = numericCreatedAt(event.created_at);
  if (createdAt === null) {
    summary.badCreatedAtCount++;
    keepLine(summary.badCreatedAtLines, lineNumber);
  }
  const key = createdAt ?? -Infinity;
  const isTerminal = isTerminalEvent(event);
  const turn = summary.turns.get(turnId);
  if (!turn) {
    summary.turns.set(turnId, {
      turnId,
      latest: event,
      latestLine: lineNumber,
      latestCreatedAt: key,
      terminalEvents: isTerminal ? 1 : 0,
      terminalLines: isTerminal ? [lineNumber] : [],
      terminalEventNames: isTerminal ? [event.event as string] : [],
      maxCreatedAt: createdAt,
    });
    return;
  }
  if (key >= turn.latestCreatedAt) {
    turn.latest = event;
    turn.latestLine = lineNumber;
    turn.latestCreatedAt = key;
  }
  if (isTerminal) {
    turn.terminalEvents++;
    turn.terminalLines.push(lineNumber);
    turn.terminalEventNames.push(event.event as string);
  }
  if (createdAt !== null) {
    turn.maxCreatedAt = turn.maxCreatedAt === null
      ? createdAt
      : Math.max(turn.maxCreatedAt, createdAt);
  }
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

function numericCreatedAt(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

/**
 * True when a turn's deciding event ends the turn.
 *
 * @example
 * ```ts
 * isTerminalEvent({ event: "completed" }); // true
 * ```
 */
export function isTerminalEvent(event: Record<string, unknown>): boolean {
  // Only a string names an event; String() of a list nested 100,000 deep
  // would overflow the stack.
  return typeof event.event === "string" && TERMINAL_EVENTS.has(event.event);
}
