/**
 * The summary of a sidecar straight from its bytes, without materialising
 * its messages: one validating pass over the file (core/json/json_scan.ts) keeps
 * the metadata and, of each message, only what the summary reads (its
 * role; the timestamps of the last ones). The result is exactly
 * `summarizeSidecar(JSON.parse(text))` at a fraction of the memory and
 * time: a parsed 6 MB session is tens of MB of objects, its skeleton a few
 * hundred KB.
 *
 * Anything unusual (the file does not parse, `context_messages` is
 * present, user texts are wanted, the top level is not an object) goes the
 * plain way: decode, `JSON.parse`, summarize. So a malformed file is
 * reported with the same reason and offset as ever.
 *
 * @example
 * ```ts
 * import { summarizeSidecarBytes } from "./sidecar_scan.ts";
 * const r = summarizeSidecarBytes(new TextEncoder().encode(
 *   '{"session_id": "a", "messages": [{"role": "user", "content": "hi"}]}',
 * ));
 * if (r.ok) r.value.messageCount; // 1
 * ```
 * @module
 */

import { type Parsed, parseJsonBytes } from "../io/file_read.ts";
import {
  lastMessageTimestamp,
  type SidecarSummary,
  type SummarizeOptions,
  summarizeSidecar,
} from "../store/sidecar_summary.ts";
import {
  bytesEqual,
  parseJsonSpan,
  skipJsonString,
  skipJsonValue,
  skipWhitespace,
} from "../json/json_scan.ts";

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Summarizes a sidecar's bytes; the same result as parsing them with
 * `parseJsonBytes` and summarizing with `summarizeSidecar`.
 *
 * @example
 * ```ts
 * import { summarizeSidecarBytes } from "./sidecar_scan.ts";
 * summarizeSidecarBytes(new TextEncoder().encode("[1,")).ok; // false, at byte 3
 * ```
 */
export function summarizeSidecarBytes(
  bytes: Uint8Array,
  options: SummarizeOptions = {},
): Parsed<SidecarSummary> {
  const wantsTexts = options.collectUserTexts ||
    (options.userTextsAmong !== undefined && options.userTextsAmong.size > 0);
  const skeleton = wantsTexts ? null : sidecarSkeleton(bytes);
  if (skeleton !== null) {
    return { ok: true, value: summarizeSidecar(skeleton, options) };
  }
  const parsed = parseJsonBytes(bytes);
  if (!parsed.ok) return parsed;
  return { ok: true, value: summarizeSidecar(parsed.value, options) };
}

/**
 * Stands in for a `messages` list in the text given to JSON.parse; no
 * server writes a string with a NUL in it there.
 */
const MESSAGES_MARK = "\u0000hermes-fsck:messages";
const MESSAGES_MARK_BYTES = new TextEncoder().encode(
  JSON.stringify(MESSAGES_MARK),
);
const NULL_BYTES = new TextEncoder().encode("null");

/**
 * The sidecar with its messages cut down to what the summary reads, or null
 * when the file must be parsed the plain way (it is not valid JSON, its top
 * level is not an object, or it has `context_messages`, whose texts the
 * summary reads). The metadata is parsed by JSON.parse itself, from the
 * file with its bulk values replaced by stand-ins, so key order, duplicate
 * keys and `__proto__` come out as they always do.
 */
function sidecarSkeleton(b: Uint8Array): Record<string, unknown> | null {
  let i = skipWhitespace(b, 0);
  if (b[i] !== 0x7b) return null;
  // The file's bytes minus the bulk values, as [start, end) pieces.
  const pieces: Uint8Array[] = [];
  let copiedTo = 0;
  const standIn = (start: number, end: number, bytes: Uint8Array) => {
    pieces.push(b.subarray(copiedTo, start), bytes);
    copiedTo = end;
  };
  let messages: unknown[] | null = null;
  i = skipWhitespace(b, i + 1);
  if (b[i] !== 0x7d) {
    for (;;) {
      const keyStart = i;
      i = skipJsonString(b, i);
      if (i < 0) return null;
      const key = keyAt(b, keyStart, i);
      i = skipWhitespace(b, i);
      if (b[i] !== 0x3a) return null;
      i = skipWhitespace(b, i + 1);
      const valueStart = i;
      if (key === "messages" && b[i] === 0x5b) {
        messages = [];
        i = scanMessages(b, i, messages);
        if (i < 0) return null;
        standIn(valueStart, i, MESSAGES_MARK_BYTES);
      } else {
        i = skipJsonValue(b, i);
        if (i < 0) return null;
        if (key === "context_messages") return null;
        // The summary never reads tool_calls: null keeps its place.
        if (key === "tool_calls") standIn(valueStart, i, NULL_BYTES);
      }
      i = skipWhitespace(b, i);
      if (b[i] === 0x2c) {
        i = skipWhitespace(b, i + 1);
        continue;
      }
      if (b[i] === 0x7d) break;
      return null;
    }
  }
  if (skipWhitespace(b, i + 1) !== b.length) return null;
  pieces.push(b.subarray(copiedTo));
  const skeleton = JSON.parse(decodePieces(pieces)) as Record<string, unknown>;
  // The last `messages` key wins, as in JSON.parse; only a list was replaced.
  if (skeleton.messages === MESSAGES_MARK) skeleton.messages = messages;
  return skeleton;
}

function decodePieces(pieces: Uint8Array[]): string {
  let length = 0;
  for (const piece of pieces) length += piece.length;
  const joined = new Uint8Array(length);
  let at = 0;
  for (const piece of pieces) {
    joined.set(piece, at);
    at += piece.length;
  }
  return utf8.decode(joined);
}

/**
 * A top-level member name, when it is one the skeleton treats apart
 * (`messages`, `tool_calls`, `context_messages`); null for any other. Names
 * are compared as bytes: only one spelled with escapes is decoded.
 */
function keyAt(b: Uint8Array, start: number, end: number): string | null {
  if (bytesEqual(b, start, end, '"messages"')) return "messages";
  if (bytesEqual(b, start, end, '"tool_calls"')) return "tool_calls";
  if (bytesEqual(b, start, end, '"context_messages"')) {
    return "context_messages";
  }
  for (let k = start; k < end; k++) {
    if (b[k] === 0x5c) return parseJsonSpan(b, start, end) as string;
  }
  return null;
}

/** Fields of a message the summary may read, by number. */
const ROLE = 0;
const TS = 1;
const TIMESTAMP = 2;
const PARTIAL = 3;
const CONTENT = 4;
const OTHER = -1;
/** Start and end of each of TS, TIMESTAMP, PARTIAL, CONTENT. */
const SPAN_SLOTS = 8;

/**
 * Scans the messages list at `i` into `out`: per message an object with its
 * role (null for an element that is not an object: the summary only asks
 * whether it is one). Then, from the end, the timestamps of the messages
 * `lastMessageTimestamp` looks at are filled in. Returns the index past
 * the list, or -1.
 */
function scanMessages(b: Uint8Array, i: number, out: unknown[]): number {
  // Per message, where its `_ts`, `timestamp`, `_partial` and `content`
  // values start and end (-1: absent), eight numbers in a row.
  const spans: number[] = [];
  i = skipWhitespace(b, i + 1);
  if (b[i] === 0x5d) return i + 1;
  for (;;) {
    const at = spans.length;
    for (let k = 0; k < SPAN_SLOTS; k++) spans.push(-1);
    if (b[i] === 0x7b) {
      const message: Record<string, unknown> = {};
      i = skipWhitespace(b, i + 1);
      if (b[i] === 0x7d) i++;
      else {
        for (;;) {
          const keyStart = i;
          i = skipJsonString(b, i);
          if (i < 0) return -1;
          const field = messageField(b, keyStart, i);
          i = skipWhitespace(b, i);
          if (b[i] !== 0x3a) return -1;
          i = skipWhitespace(b, i + 1);
          const valueStart = i;
          i = skipJsonValue(b, i);
          if (i < 0) return -1;
          // A repeated key: the last one wins, as in JSON.parse.
          if (field === ROLE) message.role = roleAt(b, valueStart, i);
          else if (field !== OTHER) {
            spans[at + (field - 1) * 2] = valueStart;
            spans[at + (field - 1) * 2 + 1] = i;
          }
          i = skipWhitespace(b, i);
          if (b[i] === 0x2c) {
            i = skipWhitespace(b, i + 1);
            continue;
          }
          if (b[i] === 0x7d) {
            i++;
            break;
          }
          return -1;
        }
      }
      out.push(message);
    } else {
      i = skipJsonValue(b, i);
      if (i < 0) return -1;
      out.push(null);
    }
    i = skipWhitespace(b, i);
    if (b[i] === 0x2c) {
      i = skipWhitespace(b, i + 1);
      continue;
    }
    if (b[i] !== 0x5d) return -1;
    fillLastFields(b, out, spans);
    return i + 1;
  }
}

function fillLastFields(
  b: Uint8Array,
  messages: unknown[],
  spans: number[],
): void {
  // lastMessageTimestamp stops at the first message (from the end) with a
  // time that is not an empty `_partial` marker (the older rule, which
  // counts those, stops at or before it): only the fields up to it are
  // ever read. A marker's content is read only for an assistant marker.
  const names = ["_ts", "timestamp", "_partial", "content"];
  for (let k = messages.length - 1; k >= 0; k--) {
    const message = messages[k] as Record<string, unknown> | null;
    if (!message) continue;
    const at = k * SPAN_SLOTS;
    for (let f = 0; f < names.length; f++) {
      if (spans[at + f * 2] < 0) continue;
      if (
        f === CONTENT - 1 && !(message.role === "assistant" && message._partial)
      ) {
        continue;
      }
      message[names[f]] = parseJsonSpan(
        b,
        spans[at + f * 2],
        spans[at + f * 2 + 1],
      );
    }
    if (lastMessageTimestamp([message]) !== null) break;
  }
}

/** Which field of a message a key is, when the summary may read it. */
function messageField(b: Uint8Array, start: number, end: number): number {
  // The key with its quotes: "role" is 6 bytes, "timestamp" 11, "_ts" 5,
  // "_partial" 10, "content" 9; the length picks the one comparison.
  switch (end - start) {
    case 6:
      if (bytesEqual(b, start, end, '"role"')) return ROLE;
      break;
    case 11:
      if (bytesEqual(b, start, end, '"timestamp"')) return TIMESTAMP;
      break;
    case 5:
      if (bytesEqual(b, start, end, '"_ts"')) return TS;
      break;
    case 10:
      if (bytesEqual(b, start, end, '"_partial"')) return PARTIAL;
      break;
    case 9:
      if (bytesEqual(b, start, end, '"content"')) return CONTENT;
      break;
  }
  // A key spelled with escapes ("\u0072ole") is still that key.
  for (let k = start; k < end; k++) {
    if (b[k] !== 0x5c) continue;
    const key = parseJsonSpan(b, start, end);
    if (key === "role") return ROLE;
    if (key === "timestamp") return TIMESTAMP;
    if (key === "_ts") return TS;
    if (key === "_partial") return PARTIAL;
    if (key === "content") return CONTENT;
    return OTHER;
  }
  return OTHER;
}

/** A role value; the usual spellings without decoding anything. */
function roleAt(b: Uint8Array, start: number, end: number): unknown {
  if (bytesEqual(b, start, end, '"user"')) return "user";
  if (bytesEqual(b, start, end, '"assistant"')) return "assistant";
  if (bytesEqual(b, start, end, '"tool"')) return "tool";
  return parseJsonSpan(b, start, end);
}
