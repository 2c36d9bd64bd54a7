/**
 * The model-facing copy of a recovered turn (since v0.51.72): today's
 * server appends a recovered prompt, and recovered run-journal output, to
 * `context_messages` as well as to `messages`, so the model's next turn
 * sees them. Its projection drops `reasoning`, `_error` rows and
 * reasoning-only rows; an empty `context_messages` is first filled with the
 * projection of every visible message; a row the tail already holds is not
 * added twice (`_append_recovered_turn_to_context`).
 *
 * @example
 * ```ts
 * import { appendRecoveredToContext } from "./recovered_context.ts";
 * const session = { messages: [{ role: "user", content: "hi", timestamp: 1 }], context_messages: [] };
 * appendRecoveredToContext(session, session.messages[0]);
 * session.context_messages.length; // 1
 * ```
 * @module
 */

import { isPlainObject, pyTruthy } from "../store/sidecar_summary.ts";
import { pyInt } from "../store/sidecar_summary.ts";

// Python's str.isspace() set, which str.split() splits on.
const PY_SPACE = new Set(
  "\t\n\v\f\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003" +
    "\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000",
);

/** Python's `" ".join(text.split())`. */
function collapseSpace(text: string): string {
  const words: string[] = [];
  let start = -1;
  for (let i = 0; i <= text.length; i++) {
    const space = i === text.length || PY_SPACE.has(text[i]);
    if (space && start >= 0) {
      words.push(text.slice(start, i));
      start = -1;
    } else if (!space && start < 0) start = i;
  }
  return words.join(" ");
}

/**
 * The server's `_normalize_journal_recovery_text`: `str(value or "")`
 * split on whitespace and joined by one space. A list of parts compares by
 * its JSON text here, where Python would use its repr; both are stable.
 *
 * @example
 * ```ts
 * import { normalizedText } from "./recovered_context.ts";
 * normalizedText(" a \n b "); // "a b"
 * normalizedText(null); // ""
 * ```
 */
export function normalizedText(value: unknown): string {
  if (!pyTruthy(value)) return "";
  const text = typeof value === "string"
    ? value
    : typeof value === "number" || typeof value === "boolean"
    ? pyScalar(value)
    : safeJson(value);
  return collapseSpace(text);
}

function pyScalar(value: number | boolean): string {
  if (typeof value === "boolean") return value ? "True" : "False";
  return String(value);
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? "";
  } catch {
    // Nested too deep to render: no text compares equal to it.
    return "\u0000unrenderable";
  }
}

/**
 * A session as the recovery code changes it: the parsed sidecar object,
 * whose `messages` (and, once touched, `context_messages`) are lists.
 *
 * @example
 * ```ts
 * import type { RecoverySession } from "./recovered_context.ts";
 * const s: RecoverySession = { messages: [] };
 * ```
 */
export type RecoverySession = Record<string, unknown> & { messages: unknown[] };

/**
 * True when `message` is a user message with the pending prompt's text,
 * time (as `int()`), source (`webui` when unset) and attachments: the
 * server's `_message_matches_pending_checkpoint`.
 *
 * @example
 * ```ts
 * import { matchesPendingCheckpoint } from "./recovered_context.ts";
 * matchesPendingCheckpoint({ role: "user", content: "hi", timestamp: 5.5 }, "hi", 5, null, []); // true
 * ```
 */
export function matchesPendingCheckpoint(
  message: unknown,
  pendingText: unknown,
  timestamp: unknown,
  source: unknown,
  attachments: unknown,
): boolean {
  if (!isPlainObject(message) || message.role !== "user") return false;
  const messageTs = pyInt(message.timestamp);
  const expectedTs = pyInt(timestamp);
  if (messageTs === null || expectedTs === null) return false;
  const sourceOf = (v: unknown) => pyTruthy(v) ? v : "webui";
  return normalizedText(message.content) === normalizedText(pendingText) &&
    messageTs === expectedTs &&
    sameValue(sourceOf(message._source), sourceOf(source)) &&
    sameValue(pyList(message.attachments), pyList(attachments));
}

/**
 * True when `message` is a user message with the pending prompt's text
 * (`_message_matches_pending_text`).
 *
 * @example
 * ```ts
 * import { matchesPendingText } from "./recovered_context.ts";
 * matchesPendingText({ role: "user", content: "a  b" }, "a b"); // true
 * ```
 */
export function matchesPendingText(
  message: unknown,
  pendingText: unknown,
): boolean {
  return isPlainObject(message) && message.role === "user" &&
    normalizedText(message.content) === normalizedText(pendingText);
}

/**
 * True when the last user message holds the pending prompt
 * (`_latest_user_matches_pending_text`).
 *
 * @example
 * ```ts
 * import { latestUserMatchesPendingText } from "./recovered_context.ts";
 * latestUserMatchesPendingText([{ role: "user", content: "a" }, { role: "assistant" }], "a"); // true
 * ```
 */
export function latestUserMatchesPendingText(
  messages: unknown[],
  pendingText: unknown,
): boolean {
  if (!pyTruthy(pendingText)) return false;
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i];
    if (isPlainObject(message) && message.role === "user") {
      return matchesPendingText(message, pendingText);
    }
  }
  return false;
}

/**
 * Python's `list(x or [])` of a JSON value: a list as it is, a string's
 * characters, an object's keys.
 *
 * @example
 * ```ts
 * import { pyList } from "./recovered_context.ts";
 * pyList(null); // []
 * ```
 */
export function pyList(value: unknown): unknown[] {
  if (!pyTruthy(value)) return [];
  if (Array.isArray(value)) return [...value];
  if (typeof value === "string") return [...value];
  if (isPlainObject(value)) return Object.keys(value);
  return [];
}

function sameValue(a: unknown, b: unknown): boolean {
  return safeJson(canonical(a)) === safeJson(canonical(b));
}

/** Objects with sorted keys, so Python's `==` (order-free) is mirrored. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (isPlainObject(value)) {
    return Object.fromEntries(
      Object.keys(value).sort().map((k) => [k, canonical(value[k])]),
    );
  }
  return value;
}

/** True when content is a non-empty list of only reasoning parts. */
function reasoningOnly(content: unknown): boolean {
  if (!Array.isArray(content) || content.length === 0) return false;
  let sawReasoning = false;
  for (const part of content) {
    if (!isPlainObject(part)) {
      if (normalizedText(part) !== "") return false;
      continue;
    }
    const type = String(part.type ?? "").toLowerCase();
    if (type === "thinking" || type === "reasoning") {
      const text = [part.thinking, part.reasoning, part.text].find(pyTruthy);
      if (normalizedText(text) !== "") sawReasoning = true;
      continue;
    }
    if (
      type === "text" &&
      normalizedText([part.text, part.content].find(pyTruthy)) !== ""
    ) return false;
    if (type !== "text") return false;
  }
  return sawReasoning;
}

/**
 * The model-facing copy of a message, or null when the model must not see
 * it (`_recovered_model_context_projection`).
 *
 * @example
 * ```ts
 * import { contextProjection } from "./recovered_context.ts";
 * contextProjection({ role: "assistant", content: "x", reasoning: "r" }); // { role: "assistant", content: "x" }
 * contextProjection({ role: "assistant", content: "!", _error: true }); // null
 * ```
 */
export function contextProjection(
  message: unknown,
): Record<string, unknown> | null {
  if (!isPlainObject(message)) return null;
  const projected: Record<string, unknown> = { ...message };
  delete projected.reasoning;
  if (pyTruthy(projected._error)) return null;
  if (reasoningOnly(projected.content)) {
    if (pyTruthy(projected.tool_calls)) projected.content = "";
    else return null;
  }
  if (
    normalizedText(projected.content) === "" &&
    !pyTruthy(projected.tool_call_id) && !pyTruthy(projected.tool_calls)
  ) return null;
  return projected;
}

/**
 * Appends a recovered message's projection to `context_messages` as the
 * server does: a non-list becomes `[]`, an empty one is first filled with
 * the projection of every message, and a row the tail already holds (the
 * same prompt checkpoint, or the same text among the last 8 rows of its
 * role) is not added again.
 *
 * @example
 * ```ts
 * import { appendRecoveredToContext } from "./recovered_context.ts";
 * const s = { messages: [], context_messages: [] };
 * appendRecoveredToContext(s, { role: "user", content: "hi", timestamp: 1 });
 * ```
 */
export function appendRecoveredToContext(
  session: RecoverySession,
  recovered: Record<string, unknown>,
): void {
  let context = session.context_messages;
  if (!Array.isArray(context)) {
    context = [];
    session.context_messages = context;
  }
  const list = context as unknown[];
  if (list.length === 0) {
    for (const message of session.messages) {
      const projected = contextProjection(message);
      if (projected) list.push(projected);
    }
  }
  const projected = contextProjection(recovered);
  if (!projected) return;
  const text = normalizedText(projected.content);
  if (text) {
    if (projected.role === "user") {
      if (
        matchesPendingCheckpoint(
          list.at(-1),
          projected.content,
          projected.timestamp,
          projected._source,
          projected.attachments,
        )
      ) return;
    } else {
      for (const existing of list.slice(-8).reverse()) {
        if (!isPlainObject(existing) || existing.role !== projected.role) {
          continue;
        }
        if (normalizedText(existing.content) === text) return;
      }
    }
  }
  list.push({ ...projected });
}
