/**
 * The compaction marker as today's server recognises it in a backup's
 * `context_messages` (STORE_FORMAT.md §4): the sign that the backup was
 * written after a compression, so restoring it does not undo one.
 *
 * A message counts when two tests the server makes both pass: the synthetic
 * card test (role set and not `tool`; the text of its `text`, `input_text`
 * and `output_text` parts, or its string content, trimmed and lower-cased,
 * starts with `[context compaction`, or with `context compaction` when the
 * message has a truthy `_compressed_summary`, or is a task-list or
 * session-arc card), and the prompt-summary test (the plain text of the
 * message, left-trimmed and lower-cased, starts with `[context compaction`
 * or `context compaction`). A part whose `type` is a list or an object makes
 * the server's test raise, which it treats as "no marker check"; so does
 * this function, from that message on.
 *
 * @example
 * ```ts
 * import { contextHasCompactionMarker } from "./compaction_marker.ts";
 * contextHasCompactionMarker([{ role: "user", content: " [Context compaction] ..." }]); // true
 * contextHasCompactionMarker([{ role: "user", content: "context compaction", _compressed_summary: true }]); // true
 * contextHasCompactionMarker([{ role: "tool", content: "[context compaction]" }]); // false
 * ```
 * @module
 */

import {
  isPlainObject,
  messageText,
  pyStrip,
  pyTruthy,
} from "./python_values.ts";

const BRACKETED = "[context compaction";
const UNBRACKETED = "context compaction";
const CARD_PREFIXES = [
  "[your active task list was preserved across context compression]",
  "[session arc summary",
];
const CARD_PART_TYPES = new Set(["text", "input_text", "output_text"]);

/** The server's marker test raised: it then counts no marker. */
const RAISES = Symbol("raises");

/**
 * True when `context` (a `context_messages` list) holds a compaction
 * marker as today's server tests for one.
 *
 * @example
 * ```ts
 * import { contextHasCompactionMarker } from "./compaction_marker.ts";
 * contextHasCompactionMarker([]); // false
 * ```
 */
export function contextHasCompactionMarker(context: unknown[]): boolean {
  for (const message of context) {
    const card = isMarkerCard(message);
    if (card === RAISES) return false;
    if (!card) continue;
    const text = pyLstrip(
      messageText((message as Record<string, unknown>).content).toLowerCase(),
    );
    if (text.startsWith(BRACKETED) || text.startsWith(UNBRACKETED)) {
      return true;
    }
  }
  return false;
}

function isMarkerCard(message: unknown): boolean | typeof RAISES {
  if (!isPlainObject(message)) return false;
  const role = message.role;
  if (!pyTruthy(role) || role === "tool") return false;
  const raw = "content" in message ? message.content : "";
  const text = cardText(raw);
  if (text === RAISES) return RAISES;
  const lowered = pyStrip(text).toLowerCase();
  return lowered.startsWith(BRACKETED) ||
    (pyTruthy(message._compressed_summary) &&
      lowered.startsWith(UNBRACKETED)) ||
    CARD_PREFIXES.some((prefix) => lowered.startsWith(prefix));
}

/**
 * The card test's text: parts joined by newlines, each its `text` or else
 * its `content`. Python's `str()` of a number, list or object never starts
 * like a marker, so such a value stands in as one non-space character.
 */
function cardText(content: unknown): string | typeof RAISES {
  if (!Array.isArray(content)) return strOf(content);
  const pieces: string[] = [];
  for (const part of content) {
    if (!isPlainObject(part)) continue;
    const type = part.type;
    // A list or object is unhashable: the server's set lookup raises.
    if (typeof type === "object" && type !== null) return RAISES;
    if (typeof type !== "string" || !CARD_PART_TYPES.has(type)) continue;
    pieces.push(
      strOf(pyTruthy(part.text) ? part.text : part.content),
    );
  }
  return pieces.join("\n");
}

function strOf(value: unknown): string {
  if (!pyTruthy(value)) return "";
  return typeof value === "string" ? value : "x";
}

function pyLstrip(text: string): string {
  const stripped = pyStrip(text + "x");
  return stripped.slice(0, -1);
}
