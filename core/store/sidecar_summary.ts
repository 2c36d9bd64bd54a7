/**
 * What the checks need to know of a sidecar or backup, taken from its parsed
 * JSON in one pass so the parsed document can be dropped at once: memory
 * stays bounded by the largest single file, not by the store.
 *
 * @example
 * ```ts
 * import { summarizeSidecar } from "./sidecar_summary.ts";
 * const s = summarizeSidecar({ session_id: "a", messages: [{ role: "user", content: "hi" }] });
 * s.messageCount; // 1
 * s.meta.session_id; // "a"
 * ```
 * @module
 */

import { contextHasCompactionMarker } from "./compaction_marker.ts";
import {
  isPlainObject,
  messageText,
  pyInt,
  pyStrip,
  pyTruthy,
} from "./python_values.ts";

export { isPlainObject, messageText, pyInt, pyStrip, pyTruthy };

/** Top-level keys kept out of `meta` because they can be huge. */
const BULK_KEYS = new Set(["messages", "tool_calls", "context_messages"]);

/**
 * A sidecar (or backup) as the checks see it.
 *
 * @example
 * ```ts
 * import { type SidecarSummary, summarizeSidecar } from "./sidecar_summary.ts";
 * const summary: SidecarSummary = summarizeSidecar({ session_id: "a", messages: [] });
 * summary.messageCount; // 0
 * ```
 */
export interface SidecarSummary {
  /** What the top level of the JSON is. */
  shape: "object" | "array" | "scalar";
  /** `len(messages)` when `messages` is a list, else -1 (as the server counts). */
  messageCount: number;
  /** Every top-level key except `messages`, `tool_calls`, `context_messages`. */
  meta: Record<string, unknown>;
  /** Top-level keys in file order. */
  keys: string[];
  /** `len(context_messages)` when it is a list, else null. */
  contextMessageCount: number | null;
  /**
   * True when `context_messages` holds a compaction marker as today's
   * server recognises one (see compaction_marker.ts).
   */
  contextHasCompactionMarker: boolean;
  /**
   * Timestamp of the last non-tool message, as today's server computes it
   * (an assistant `_partial` marker without text does not count).
   */
  lastMessageAt: number | null;
  /** The same as older servers computed it, `_partial` markers counted. */
  lastMessageAtWithPartials: number | null;
  /** Messages whose role is exactly `user` (today's server's count). */
  userMessageCount: number;
  /**
   * Trimmed texts of user messages, when asked for (journal checks): all of
   * them with `collectUserTexts`, or only those in `userTextsAmong`.
   */
  userTexts?: Set<string>;
}

/**
 * Options for {@linkcode summarizeSidecar}.
 *
 * @example
 * ```ts
 * import { summarizeSidecar } from "./sidecar_summary.ts";
 * declare const value: unknown;
 * summarizeSidecar(value, { userTextsAmong: new Set(["hello"]) }).userTexts; // Set { "hello" } if a user said it
 * ```
 */
export interface SummarizeOptions {
  /** Also collect the texts of user messages (costs memory per message). */
  collectUserTexts?: boolean;
  /**
   * Collect only the user texts that are in this set. The scan passes the
   * texts of a journal's pending turns, the only ones the journal check
   * looks up, so a session's summary does not hold every prompt it has.
   */
  userTextsAmong?: ReadonlySet<string>;
}

/**
 * Summarizes a parsed sidecar.
 *
 * @example
 * ```ts
 * import { summarizeSidecar } from "./sidecar_summary.ts";
 * summarizeSidecar([1, 2]).messageCount; // -1: a list is not a session
 * ```
 */
export function summarizeSidecar(
  value: unknown,
  options: SummarizeOptions = {},
): SidecarSummary {
  if (!isPlainObject(value)) {
    return {
      shape: Array.isArray(value) ? "array" : "scalar",
      messageCount: -1,
      meta: {},
      keys: [],
      contextMessageCount: null,
      contextHasCompactionMarker: false,
      lastMessageAt: null,
      lastMessageAtWithPartials: null,
      userMessageCount: 0,
    };
  }
  const meta: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    if (!BULK_KEYS.has(key)) meta[key] = value[key];
  }
  const messages = Array.isArray(value.messages) ? value.messages : null;
  const context = Array.isArray(value.context_messages)
    ? value.context_messages
    : null;
  const summary: SidecarSummary = {
    shape: "object",
    messageCount: messages ? messages.length : -1,
    meta,
    keys: Object.keys(value),
    contextMessageCount: context ? context.length : null,
    contextHasCompactionMarker: context
      ? contextHasCompactionMarker(context)
      : false,
    lastMessageAt: messages ? lastMessageTimestamp(messages) : null,
    lastMessageAtWithPartials: messages
      ? lastMessageTimestamp(messages, false)
      : null,
    userMessageCount: 0,
  };
  if (messages) {
    let users = 0;
    const among = options.userTextsAmong;
    const texts = options.collectUserTexts || among
      ? new Set<string>()
      : undefined;
    // Only look at texts when some could be kept.
    const wantTexts = texts !== undefined && (!among || among.size > 0);
    for (const message of messages) {
      if (!isUserMessage(message)) continue;
      // Today's server counts only the exact role; the looser rule serves
      // the texts, which older servers compared that way.
      if ((message as Record<string, unknown>).role === "user") users++;
      if (wantTexts && isPlainObject(message) && message.role === "user") {
        const text = pyStrip(messageText(message.content));
        if (!among || among.has(text)) texts.add(text);
      }
    }
    summary.userMessageCount = users;
    if (texts) summary.userTexts = texts;
  }
  return summary;
}

function isUserMessage(message: unknown): boolean {
  if (!isPlainObject(message) || message.role == null) return false;
  const role = message.role;
  // The common spellings first: stripping and lowering every role of a
  // 2,000-message session is measurable.
  if (role === "user") return true;
  if (role === "assistant" || role === "tool" || role === "system") {
    return false;
  }
  // Python's str() of a number, list or dict is never "user"; String() of a
  // list nested 100,000 deep would overflow the stack.
  if (typeof role !== "string") return false;
  return pyStrip(role).toLowerCase() === "user";
}

/**
 * A timestamp as the server reads one: a number, or a string holding a
 * number. Anything else is null.
 *
 * @example
 * ```ts
 * import { toTimestamp } from "./sidecar_summary.ts";
 * toTimestamp("1778458282.1"); // 1778458282.1
 * toTimestamp("yesterday"); // null
 * ```
 */
export function toTimestamp(raw: unknown): number | null {
  if (typeof raw === "number") return Number.isFinite(raw) ? raw : null;
  if (typeof raw === "boolean") return raw ? 1 : 0;
  if (
    typeof raw === "string" &&
    /^\s*[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?\s*$/i.test(raw)
  ) {
    return Number(raw);
  }
  return null;
}

/**
 * The timestamp of the last message that is not a tool message, as the
 * server takes it (`_ts or timestamp`, as a number); null when none has one.
 * Today's server also passes over an assistant `_partial` marker without
 * text (`skipEmptyPartials`, the default); older ones did not.
 *
 * @example
 * ```ts
 * import { lastMessageTimestamp } from "./sidecar_summary.ts";
 * lastMessageTimestamp([{ role: "user", timestamp: 5 }, { role: "tool", timestamp: 9 }]); // 5
 * ```
 */
export function lastMessageTimestamp(
  messages: unknown[],
  skipEmptyPartials = true,
): number | null {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i];
    if (isPlainObject(message) && message.role === "tool") continue;
    if (!isPlainObject(message)) continue;
    if (skipEmptyPartials && isEmptyPartial(message)) continue;
    // Python's `a or b`: a falsy `_ts` falls through to `timestamp`.
    const raw = pyTruthy(message._ts) ? message._ts : message.timestamp;
    const ts = raw == null ? null : toTimestamp(raw);
    if (ts) return ts;
  }
  return null;
}

/** An assistant `_partial` marker with no text, as today's server tells it. */
function isEmptyPartial(message: Record<string, unknown>): boolean {
  if (message.role !== "assistant" || !pyTruthy(message._partial)) {
    return false;
  }
  const content = "content" in message ? message.content : "";
  if (!Array.isArray(content)) return isBlank(content);
  for (const part of content) {
    if (isPlainObject(part)) {
      const text = pyTruthy(part.text) ? part.text : part.content;
      if (part.type === "text" && !isBlank(text)) return false;
    } else if (!isBlank(part)) return false;
  }
  return true;
}

/** Whether Python's `str(x or '').strip()` is empty. */
function isBlank(value: unknown): boolean {
  if (!pyTruthy(value)) return true;
  return typeof value === "string" && pyStrip(value) === "";
}
