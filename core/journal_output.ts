/**
 * What a dead run left in its run journal (`_run_journal/<sid>/<run>.jsonl`,
 * since v0.51.71), recovered into a session as today's server recovers it
 * (`_append_journaled_partial_output`, since v0.51.81): streamed text
 * (`token`, `interim_assistant`) becomes assistant rows, `reasoning` stays
 * display-only (kept out of `context_messages`), `tool`/`tool_complete`
 * become tool cards hung on an assistant row; every recovered row carries
 * `_recovered_from_run_journal` and `_recovered_stream_id`. A gateway error
 * the run ended with is recovered as its own row (since exp-v0.52.159, only
 * when the terminal event provably belongs to the run). Pure: the events
 * come from the run-journal reader (core/run_journal.ts); nothing is read
 * or written here.
 *
 * @example
 * ```ts
 * import { appendJournaledOutput } from "./journal_output.ts";
 * const session = { session_id: "s1", messages: [], tool_calls: [] };
 * appendJournaledOutput(session, events, "run1", { dedupeExisting: false, nowSeconds: Date.now() / 1000 });
 * ```
 * @module
 */

import { isPlainObject, pyStrip, pyTruthy } from "./sidecar_summary.ts";
import {
  appendRecoveredToContext,
  matchesPendingCheckpoint,
  matchesPendingText,
  normalizedText,
  type RecoverySession,
} from "./recovered_context.ts";

type Event = Record<string, unknown>;

/** Python's `str(x or '')`, for the strings the server reads from events. */
function pyStr(value: unknown): string {
  if (!pyTruthy(value)) return "";
  if (typeof value === "string") return value;
  if (typeof value === "boolean") return "True";
  if (typeof value === "number") return String(value);
  try {
    return JSON.stringify(value) ?? "";
  } catch {
    return "";
  }
}

function payloadOf(event: Event): Record<string, unknown> {
  return isPlainObject(event.payload) ? event.payload : {};
}

function eventName(event: Event): string {
  return pyStr(pyTruthy(event.event) ? event.event : event.type);
}

/**
 * True when the journal holds output a user would see
 * (`_run_journal_has_visible_output`): text, reasoning, or a tool card.
 *
 * @example
 * ```ts
 * journalHasVisibleOutput([{ event: "token", payload: { text: "hi" } }]); // true
 * ```
 */
export function journalHasVisibleOutput(events: readonly unknown[]): boolean {
  for (const raw of events) {
    if (!isPlainObject(raw)) continue;
    const name = eventName(raw);
    const payload = payloadOf(raw);
    if (name === "token" && pyStr(payload.text)) return true;
    if (name === "interim_assistant") {
      if (pyTruthy(payload.already_streamed)) continue;
      if (pyStrip(pyStr(payload.text))) return true;
    }
    if (name === "reasoning") {
      const text = pyStr(
        [payload.text, payload.reasoning, payload.thinking].find(pyTruthy),
      );
      if (pyStrip(text)) return true;
    }
    if (name === "tool") return true;
  }
  return false;
}

/**
 * True when an event belongs to the run: its `session_id`, `run_id` and
 * `event_id` (`<run>:<seq>`, integer `seq` >= 1) say so
 * (`_run_journal_event_owns_run`).
 *
 * @example
 * ```ts
 * eventOwnsRun({ seq: 1, session_id: "s", run_id: "r", event_id: "r:1" }, "s", "r"); // true
 * ```
 */
export function eventOwnsRun(
  event: unknown,
  sessionId: string,
  streamId: string | null,
): event is Event {
  if (!isPlainObject(event) || !streamId) return false;
  const seq = event.seq;
  if (typeof seq !== "number" || !Number.isInteger(seq) || seq < 1) {
    return false;
  }
  return event.session_id === sessionId && event.run_id === streamId &&
    event.event_id === `${streamId}:${seq}`;
}

/**
 * The terminal event that settles a run: the last truthy-`terminal` event
 * that is not `stream_end`, else the last `stream_end`
 * (`select_authoritative_terminal_event`).
 *
 * @example
 * ```ts
 * authoritativeTerminal([{ event: "done", terminal: true }, { event: "stream_end", terminal: true }])?.event; // "done"
 * ```
 */
export function authoritativeTerminal(
  events: readonly unknown[],
): Event | null {
  const terminals = events.filter((e): e is Event =>
    isPlainObject(e) && pyTruthy(e.terminal)
  );
  for (let i = terminals.length - 1; i >= 0; i--) {
    if (terminals[i].event !== "stream_end") return terminals[i];
  }
  return terminals.at(-1) ?? null;
}

/**
 * The run's settled state when its authoritative terminal event belongs to
 * it and is marked `terminal: true` (`_run_journal_terminal_state`), e.g.
 * `completed`; null otherwise.
 *
 * @example
 * ```ts
 * runTerminalState(events, "s1", "run1") === "completed";
 * ```
 */
export function runTerminalState(
  events: readonly unknown[],
  sessionId: string,
  streamId: string | null,
): string | null {
  const terminal = authoritativeTerminal(events);
  if (!eventOwnsRun(terminal, sessionId, streamId)) return null;
  if (terminal.terminal !== true) return null;
  return pyStr(terminal.terminal_state) || null;
}

/**
 * A gateway error the run ended with, which the server never saved: the
 * run's own terminal `apperror` whose payload embeds this session with an
 * `_error` assistant row after its last user message
 * (`_recoverable_unsaved_gateway_terminal_error`).
 *
 * @example
 * ```ts
 * const found = gatewayTerminalError(events, "s1", "run1");
 * if (found) console.log(found.eventId, found.message.content);
 * ```
 */
export function gatewayTerminalError(
  events: readonly unknown[],
  sessionId: string,
  streamId: string | null,
): GatewayError | null {
  if (!streamId) return null;
  const event = authoritativeTerminal(events);
  if (
    !event || event.event !== "apperror" || event.type !== "apperror" ||
    event.terminal !== true || !eventOwnsRun(event, sessionId, streamId)
  ) return null;
  const payload = event.payload;
  if (!isPlainObject(payload) || payload.session_id !== sessionId) return null;
  const embedded = payload.session;
  if (!isPlainObject(embedded) || embedded.session_id !== sessionId) {
    return null;
  }
  if (
    payload.terminal_session_persisted === true &&
    payload.terminal_session_persisted_session_id === sessionId
  ) return null;
  const messages = embedded.messages;
  if (!Array.isArray(messages)) return null;
  let userIdx = -1;
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i];
    if (isPlainObject(message) && message.role === "user") {
      userIdx = i;
      break;
    }
  }
  if (userIdx < 0) return null;
  let candidate: Record<string, unknown> | null = null;
  for (let i = messages.length - 1; i > userIdx; i--) {
    const message = messages[i];
    if (isPlainObject(message) && message.role === "assistant") {
      candidate = message;
      break;
    }
  }
  if (
    !candidate || candidate._error !== true ||
    typeof candidate.content !== "string" || !pyStrip(candidate.content)
  ) return null;
  return {
    eventId: event.event_id as string,
    streamId,
    message: { ...candidate },
  };
}

/**
 * A gateway error row found in a run journal.
 *
 * @example
 * ```ts
 * const error: GatewayError = { eventId: "r:3", streamId: "r", message: { role: "assistant" } };
 * ```
 */
export interface GatewayError {
  /** The terminal event's `event_id`. */
  eventId: string;
  /** The run. */
  streamId: string;
  /** The embedded `_error` assistant row. */
  message: Record<string, unknown>;
}

/** Where the current turn starts (`_pending_recovery_turn_start`). */
function pendingTurnStart(session: RecoverySession): number | null {
  const pending = session.pending_user_message;
  if (!pyTruthy(pending)) return null;
  for (let i = session.messages.length - 1; i >= 0; i--) {
    const message = session.messages[i];
    if (
      matchesPendingCheckpoint(
        message,
        pending,
        session.pending_started_at,
        session.pending_user_source,
        session.pending_attachments,
      ) || matchesPendingText(message, pending)
    ) return i;
  }
  return null;
}

/**
 * Puts a gateway error row at the transcript's tail, or tags an equal
 * error row of the current turn (`_materialize_unsaved_gateway_terminal_error`).
 * True when the error is in the session afterwards.
 *
 * @example
 * ```ts
 * placeGatewayError(session, "run1", found);
 * ```
 */
export function placeGatewayError(
  session: RecoverySession,
  streamId: string | null,
  recovery: GatewayError | null,
): boolean {
  if (!recovery || !recovery.eventId) return false;
  const { eventId, message: candidate } = recovery;
  for (const existing of session.messages) {
    if (isPlainObject(existing) && existing._recovered_event_id === eventId) {
      return true;
    }
  }
  const start = pendingTurnStart(session);
  if (start !== null) {
    const tail = session.messages.slice(start + 1).reverse();
    for (const existing of tail) {
      if (!isPlainObject(existing)) continue;
      const stream = existing._recovered_stream_id;
      if (pyTruthy(stream) && stream !== streamId) continue;
      if (
        existing.role === "assistant" && existing._error === true &&
        existing.content === candidate.content
      ) {
        existing._recovered_from_run_journal = true;
        existing._recovered_stream_id = streamId;
        existing._recovered_event_id = eventId;
        return true;
      }
    }
  }
  session.messages.push({
    ...candidate,
    _recovered_from_run_journal: true,
    _recovered_stream_id: streamId,
    _recovered_event_id: eventId,
  });
  return true;
}

/** Options of {@linkcode appendJournaledOutput}. */
export interface JournalOutputOptions {
  /** Match rows the session already has instead of adding them again. */
  dedupeExisting: boolean;
  /** The repair's clock, in seconds. */
  nowSeconds: number;
}

/** The server's `_truncate_journal_tool_args`. */
function truncatedArgs(args: unknown): Record<string, string> {
  if (!isPlainObject(args)) return {};
  const out: Record<string, string> = {};
  for (const key of Object.keys(args).slice(0, 4)) {
    const text = pyRepr(args[key]);
    const chars = [...text];
    out[key] = chars.slice(0, 120).join("") + (chars.length > 120 ? "..." : "");
  }
  return out;
}

/** Python's `str()` of a JSON value (dicts and lists as Python prints them). */
function pyRepr(value: unknown, depth = 0): string {
  if (value === null || value === undefined) return "None";
  if (typeof value === "boolean") return value ? "True" : "False";
  if (typeof value === "number") {
    return Number.isInteger(value) && !Object.is(value, -0) &&
        Math.abs(value) < 1e16
      ? String(value)
      : pyFloatRepr(value);
  }
  if (typeof value === "string") return depth === 0 ? value : quoted(value);
  if (depth > 64) return "...";
  if (Array.isArray(value)) {
    return `[${value.map((v) => pyRepr(v, depth + 1)).join(", ")}]`;
  }
  if (isPlainObject(value)) {
    return `{${
      Object.entries(value).map(([k, v]) =>
        `${quoted(k)}: ${pyRepr(v, depth + 1)}`
      ).join(", ")
    }}`;
  }
  return String(value);
}

function pyFloatRepr(value: number): string {
  if (Number.isNaN(value)) return "nan";
  if (!Number.isFinite(value)) return value > 0 ? "inf" : "-inf";
  let text = String(value);
  if (/e/.test(text)) {
    text = text.replace(/e([+-])(\d)$/, "e$10$2");
  } else if (!text.includes(".")) text += ".0";
  return text;
}

/** Python's repr of a str: single quotes unless it holds one and no double. */
function quoted(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (ch === "\\") out += "\\\\";
    else if (ch === quote) out += "\\" + ch;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (code < 0x20 || code === 0x7f) {
      out += "\\x" + code.toString(16).padStart(2, "0");
    } else out += ch;
  }
  return out + quote;
}

/**
 * Recovers a dead run's visible output into the session, in the server's
 * shapes and order; true when anything was added (or reasoning attached).
 * With `dedupeExisting`, text the session already has (an assistant row of
 * equal text, or one holding it when it is 24+ characters) and tool cards
 * it already shows are matched instead of added again.
 *
 * @example
 * ```ts
 * appendJournaledOutput(session, events, "run1", { dedupeExisting: true, nowSeconds: 1778458282 });
 * ```
 */
export function appendJournaledOutput(
  session: RecoverySession,
  journal: readonly unknown[] | null,
  streamId: string | null,
  options: JournalOutputOptions,
): boolean {
  if (!streamId || !journal) return false;
  const events = journal.filter(isPlainObject);
  if (events.length === 0) return false;
  const now = options.nowSeconds;
  const dedupe = options.dedupeExisting;
  const messages = session.messages;
  let appendedAny = false;
  let assistantParts: string[] = [];
  let reasoningParts: string[] = [];
  let startedAt: number | null = null;
  let currentIdx: number | null = null;
  const toolCards: Record<string, unknown>[] = [];
  const initialCount = messages.length;
  const claimed = new Set<number>();

  const contentMatchCanReceiveReasoning = (existingIdx: number): boolean => {
    let ownerIdx: number | null = null;
    for (let i = existingIdx - 1; i >= 0; i--) {
      const candidate = messages[i];
      if (isPlainObject(candidate) && candidate.role === "user") {
        ownerIdx = i;
        break;
      }
    }
    if (ownerIdx === null) return false;
    const pending = normalizedText(session.pending_user_message);
    const checkpoint = (m: unknown) =>
      matchesPendingCheckpoint(
        m,
        session.pending_user_message,
        session.pending_started_at,
        session.pending_user_source,
        session.pending_attachments,
      );
    if (pending && !checkpoint(messages[ownerIdx])) return false;
    for (let i = existingIdx + 1; i < initialCount; i++) {
      const candidate = messages[i];
      if (!isPlainObject(candidate) || candidate.role !== "user") continue;
      if (pending && checkpoint(candidate) && pyTruthy(candidate._recovered)) {
        continue;
      }
      return false;
    }
    return true;
  };

  const contextOf = (message: Record<string, unknown>) => {
    const projection = { ...message };
    delete projection.reasoning;
    appendRecoveredToContext(session, projection);
  };

  const attachReasoning = (
    message: Record<string, unknown>,
    reasoning: string,
  ): boolean => {
    if (!reasoning) return false;
    if (pyStrip(pyStr(message.reasoning))) return false;
    message.reasoning = reasoning;
    return true;
  };

  const findExisting = (content: string, excluded: Set<number>) => {
    const candidate = normalizedText(content);
    if (!candidate) return null;
    const stop = Math.min(messages.length, initialCount);
    let substring: number | null = null;
    for (let i = 0; i < stop; i++) {
      if (excluded.has(i)) continue;
      const message = messages[i];
      if (!isPlainObject(message) || message.role !== "assistant") continue;
      if (pyTruthy(message._error)) continue;
      const existing = normalizedText(message.content);
      if (!existing) continue;
      if (existing === candidate) return i;
      if (
        substring === null && [...candidate].length >= 24 &&
        existing.includes(candidate)
      ) substring = i;
    }
    return substring;
  };

  const flush = (): number | null => {
    const content = pyStrip(assistantParts.join(""));
    const reasoning = pyStrip(reasoningParts.join(""));
    assistantParts = [];
    reasoningParts = [];
    if (!content && !reasoning) return currentIdx;
    if (dedupe && content) {
      const excluded = new Set(claimed);
      let existingIdx: number | null = null;
      for (;;) {
        const found = findExisting(content, excluded);
        if (found === null) break;
        if (!reasoning || contentMatchCanReceiveReasoning(found)) {
          existingIdx = found;
          break;
        }
        excluded.add(found);
      }
      if (existingIdx !== null) {
        claimed.add(existingIdx);
        currentIdx = existingIdx;
        startedAt = null;
        const existing = messages[existingIdx] as Record<string, unknown>;
        contextOf(existing);
        if (attachReasoning(existing, reasoning)) appendedAny = true;
        return existingIdx;
      }
    }
    if (dedupe && reasoning && !content) {
      for (let i = 0; i < initialCount; i++) {
        if (claimed.has(i)) continue;
        const m = messages[i];
        if (!isPlainObject(m)) continue;
        if (
          pyTruthy(m._recovered_from_run_journal) &&
          m._recovered_stream_id === streamId && m.role === "assistant" &&
          !pyStrip(pyStr(m.content)) && pyStrip(pyStr(m.reasoning)) === reasoning
        ) {
          claimed.add(i);
          currentIdx = i;
          startedAt = null;
          return i;
        }
      }
    }
    const row: Record<string, unknown> = {
      role: "assistant",
      content,
      timestamp: Math.trunc(startedAt || now),
      _recovered_from_run_journal: true,
      _recovered_stream_id: streamId,
    };
    attachReasoning(row, reasoning);
    messages.push(row);
    contextOf(row);
    currentIdx = messages.length - 1;
    startedAt = null;
    appendedAny = true;
    return currentIdx;
  };

  const ensureAnchor = (createdAt: number | null): number => {
    const idx = flush();
    if (idx !== null) return idx;
    for (let i = messages.length - 1; i >= 0; i--) {
      const m = messages[i];
      if (!isPlainObject(m)) continue;
      if (
        pyTruthy(m._recovered_from_run_journal) &&
        m._recovered_stream_id === streamId && m.role === "assistant" &&
        !pyStrip(pyStr(m.content)) && !pyStrip(pyStr(m.reasoning))
      ) {
        currentIdx = i;
        return i;
      }
    }
    messages.push({
      role: "assistant",
      content: "",
      timestamp: Math.trunc(createdAt || now),
      _recovered_from_run_journal: true,
      _recovered_stream_id: streamId,
    });
    currentIdx = messages.length - 1;
    appendedAny = true;
    return currentIdx;
  };

  for (const event of events) {
    const name = eventName(event);
    const payload = payloadOf(event);
    const createdAt = typeof event.created_at === "number"
      ? event.created_at
      : null;
    if (name === "reasoning") {
      const text = pyStr(
        [payload.text, payload.reasoning, payload.thinking].find(pyTruthy),
      );
      if (!text) continue;
      if (
        assistantParts.length === 0 && reasoningParts.length === 0 &&
        startedAt === null
      ) startedAt = createdAt || now;
      reasoningParts.push(text);
    } else if (name === "token") {
      const text = pyStr(payload.text);
      if (!text) continue;
      if (assistantParts.length === 0 && startedAt === null) {
        startedAt = createdAt || now;
      }
      assistantParts.push(text);
    } else if (name === "interim_assistant") {
      if (pyTruthy(payload.already_streamed)) {
        flush();
        continue;
      }
      const text = pyStrip(pyStr(payload.text));
      if (!text) continue;
      if (assistantParts.length === 0 && startedAt === null) {
        startedAt = createdAt || now;
      }
      const joined = assistantParts.join("");
      if (assistantParts.length > 0 && !/[\n ]$/.test(joined)) {
        assistantParts.push("\n\n");
      }
      assistantParts.push(text);
      flush();
    } else if (name === "tool") {
      let anchor = flush();
      if (anchor === null) anchor = ensureAnchor(createdAt);
      const toolName = pyStr(payload.name) || "tool";
      const preview = pyStr(payload.preview);
      if (dedupe && toolAlreadyPresent(session, toolName, preview, streamId)) {
        currentIdx = anchor;
        continue;
      }
      const seq = pyTruthy(event.seq) ? pyRepr(event.seq) : null;
      toolCards.push({
        name: toolName,
        preview,
        snippet: preview,
        tid: `journal-${seq ?? toolCards.length + 1}`,
        assistant_msg_idx: anchor,
        args: truncatedArgs(pyTruthy(payload.args) ? payload.args : {}),
        done: false,
        _recovered_from_run_journal: true,
        _recovered_stream_id: streamId,
      });
      appendedAny = true;
      currentIdx = anchor;
    } else if (name === "tool_complete") {
      const toolName = pyStr(payload.name);
      for (let i = toolCards.length - 1; i >= 0; i--) {
        const card = toolCards[i];
        if (pyTruthy(card.done)) continue;
        if (!toolName || card.name === toolName) {
          card.done = true;
          if (pyTruthy(payload.preview)) {
            card.preview = pyStr(payload.preview);
            card.snippet = pyStr(payload.preview);
          }
          if (payload.duration !== null && payload.duration !== undefined) {
            card.duration = payload.duration;
          }
          card.is_error = pyTruthy(payload.is_error ?? false);
          break;
        }
      }
    } else if (
      ["done", "stream_end", "cancel", "apperror", "error"].includes(name)
    ) {
      flush();
    }
  }
  flush();
  if (toolCards.length > 0) {
    const existing = Array.isArray(session.tool_calls)
      ? session.tool_calls
      : pyTruthy(session.tool_calls)
      ? [session.tool_calls]
      : [];
    session.tool_calls = [...existing, ...toolCards];
    appendedAny = true;
  }
  return appendedAny;
}

/** `_journal_tool_already_present`. */
function toolAlreadyPresent(
  session: RecoverySession,
  name: string,
  preview: string,
  streamId: string | null,
): boolean {
  const wanted = normalizedText(preview);
  const calls = Array.isArray(session.tool_calls) ? session.tool_calls : [];
  for (const call of calls) {
    if (!isPlainObject(call)) continue;
    if (pyStr(call.name) !== name) continue;
    const existing = normalizedText(
      [call.preview, call.snippet].find(pyTruthy) ?? "",
    );
    if (existing !== wanted) continue;
    if (streamId !== null) {
      const stream = call._recovered_stream_id;
      if (pyTruthy(stream) && pyStr(stream) !== streamId) continue;
    }
    return true;
  }
  return false;
}

/**
 * Readable output first, then the run's gateway error
 * (`_recover_journaled_output_and_terminal_error`): whether output was
 * recovered, and whether the error row was.
 *
 * @example
 * ```ts
 * const [output, error] = recoverJournaled(session, events, "run1", found, { dedupeExisting: false, nowSeconds: 1 });
 * ```
 */
export function recoverJournaled(
  session: RecoverySession,
  journal: readonly unknown[] | null,
  streamId: string | null,
  gatewayError: GatewayError | null,
  options: JournalOutputOptions,
): [boolean, boolean] {
  const output = appendJournaledOutput(session, journal, streamId, options);
  const error = placeGatewayError(session, streamId, gatewayError);
  return [output, error];
}
