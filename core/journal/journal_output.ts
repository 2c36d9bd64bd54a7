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
 * come from the run-journal reader (core/journal/run_journal.ts); nothing is read
 * or written here.
 *
 * @example
 * ```ts
 * import { appendJournaledOutput } from "./journal_output.ts";
 * import type { RunOutput } from "./run_journal.ts";
 * declare const output: RunOutput;
 * const session = { session_id: "s1", messages: [], tool_calls: [] };
 * appendJournaledOutput(session, output, "run1", { dedupeExisting: false, nowSeconds: Date.now() / 1000 });
 * ```
 * @module
 */

import { isPlainObject, pyStrip, pyTruthy } from "../store/sidecar_summary.ts";
import {
  eventOwnsRun,
  pyStr as pyStrOf,
  type RunOutput,
  type RunOutputItem,
} from "./run_journal.ts";
import {
  appendRecoveredToContext,
  matchesPendingCheckpoint,
  matchesPendingText,
  normalizedText,
  type RecoverySession,
} from "./recovered_context.ts";

/** Python's `str(x or '')`. */
function pyStr(value: unknown): string {
  return pyTruthy(value) ? pyStrOf(value) : "";
}

/**
 * True when the run left output a user would see, as the server's
 * `_run_journal_has_visible_output` decides: text, reasoning that is not
 * blank, or a tool card. A journal the server cannot read (not UTF-8)
 * shows it nothing.
 *
 * @example
 * ```ts
 * import { journalHasVisibleOutput } from "./journal_output.ts";
 * import { runOutputOf } from "./run_journal.ts";
 * declare const bytes: Uint8Array;
 * journalHasVisibleOutput(runOutputOf(bytes, "s1", "r1")); // true when it streamed text
 * ```
 */
export function journalHasVisibleOutput(output: RunOutput | null): boolean {
  return serverView(output).some((item) =>
    item.type === "token" || item.type === "tool" ||
    (item.type === "interim" && !item.alreadyStreamed && item.text !== "") ||
    (item.type === "reasoning" && pyStrip(item.text) !== "")
  );
}

/**
 * The items the server reads from the journal: none when its read of the
 * file fails (bytes that are not UTF-8).
 */
function serverView(output: RunOutput | null): RunOutputItem[] {
  if (!output || output.stats.invalidUtf8Line !== null) return [];
  return output.items;
}

/**
 * The run's settled state to the server (`_run_journal_terminal_state`),
 * e.g. `completed`; null when it has none or the file cannot be read.
 *
 * @example
 * ```ts
 * import { journalTerminalState } from "./journal_output.ts";
 * import type { RunOutput } from "./run_journal.ts";
 * declare const output: RunOutput;
 * journalTerminalState(output) === "completed";
 * ```
 */
export function journalTerminalState(output: RunOutput | null): string | null {
  if (!output || output.stats.invalidUtf8Line !== null) return null;
  return output.terminalState;
}

/**
 * A gateway error the run ended with, which the server never saved: the
 * run's own terminal `apperror` whose payload embeds this session with an
 * `_error` assistant row after its last user message
 * (`_recoverable_unsaved_gateway_terminal_error`).
 *
 * @example
 * ```ts
 * import { gatewayTerminalError } from "./journal_output.ts";
 * import type { RunOutput } from "./run_journal.ts";
 * declare const output: RunOutput;
 * const found = gatewayTerminalError(output, "s1", "run1");
 * if (found) console.log(found.eventId, found.message.content);
 * ```
 */
export function gatewayTerminalError(
  output: RunOutput | null,
  sessionId: string,
  streamId: string | null,
): GatewayError | null {
  if (!streamId || !output || output.stats.invalidUtf8Line !== null) {
    return null;
  }
  const event = output.terminal?.event;
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
 * import type { GatewayError } from "./journal_output.ts";
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
 * import { type GatewayError, placeGatewayError } from "./journal_output.ts";
 * import type { RecoverySession } from "./recovered_context.ts";
 * declare const session: RecoverySession;
 * declare const found: GatewayError;
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
    for (let i = session.messages.length - 1; i > start; i--) {
      const existing = session.messages[i];
      if (!isPlainObject(existing)) continue;
      const stream = existing._recovered_stream_id;
      if (pyTruthy(stream) && stream !== streamId) continue;
      if (
        existing.role === "assistant" && existing._error === true &&
        existing.content === candidate.content
      ) {
        // A changed copy: the caller's original rows stay as they were.
        session.messages[i] = {
          ...existing,
          _recovered_from_run_journal: true,
          _recovered_stream_id: streamId,
          _recovered_event_id: eventId,
        };
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

/**
 * A copy of a session document whose lists (`messages`,
 * `context_messages`, `tool_calls`) the recovery may grow, sharing every
 * row with the original: the recovery replaces a row it changes, so the
 * original keeps its values for the in-place edit to compare with.
 *
 * @example
 * ```ts
 * import { workingCopy } from "./journal_output.ts";
 * declare const doc: Record<string, unknown> & { messages: unknown[] };
 * const after = workingCopy(doc);
 * after.messages.push({ role: "user" }); // doc.messages is unchanged
 * ```
 */
export function workingCopy(
  doc: Record<string, unknown> & { messages: unknown[] },
): RecoverySession {
  const copy: RecoverySession = { ...doc, messages: [...doc.messages] };
  for (const key of ["context_messages", "tool_calls"]) {
    if (Array.isArray(doc[key])) copy[key] = [...doc[key] as unknown[]];
  }
  return copy;
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
 * Lists are only appended to or given new elements, never changed inside,
 * so a shallow copy of the session ({@linkcode workingCopy}) keeps the
 * original as it was.
 * With `dedupeExisting`, text the session already has (an assistant row of
 * equal text, or one holding it when it is 24+ characters) and tool cards
 * it already shows are matched instead of added again.
 *
 * @example
 * ```ts
 * import { appendJournaledOutput } from "./journal_output.ts";
 * import type { RecoverySession } from "./recovered_context.ts";
 * import type { RunOutput } from "./run_journal.ts";
 * declare const session: RecoverySession;
 * declare const output: RunOutput;
 * appendJournaledOutput(session, output, "run1", { dedupeExisting: true, nowSeconds: 1778458282 });
 * ```
 */
export function appendJournaledOutput(
  session: RecoverySession,
  output: RunOutput | null,
  streamId: string | null,
  options: JournalOutputOptions,
): boolean {
  if (!streamId) return false;
  const items = serverView(output);
  if (items.length === 0) return false;
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
        // A changed copy: the caller's original rows stay as they were.
        const existing = {
          ...messages[existingIdx] as Record<string, unknown>,
        };
        contextOf(existing);
        if (attachReasoning(existing, reasoning)) {
          messages[existingIdx] = existing;
          appendedAny = true;
        }
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
          !pyStrip(pyStr(m.content)) &&
          pyStrip(pyStr(m.reasoning)) === reasoning
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

  for (const item of items) {
    const createdAt = item.createdAt;
    switch (item.type) {
      case "reasoning":
        if (
          assistantParts.length === 0 && reasoningParts.length === 0 &&
          startedAt === null
        ) startedAt = createdAt || now;
        reasoningParts.push(item.text);
        break;
      case "token":
        if (assistantParts.length === 0 && startedAt === null) {
          startedAt = createdAt || now;
        }
        assistantParts.push(item.text);
        break;
      case "interim": {
        if (item.alreadyStreamed) {
          flush();
          break;
        }
        if (assistantParts.length === 0 && startedAt === null) {
          startedAt = createdAt || now;
        }
        if (
          assistantParts.length > 0 && !/[\n ]$/.test(assistantParts.join(""))
        ) assistantParts.push("\n\n");
        assistantParts.push(item.text);
        flush();
        break;
      }
      case "tool": {
        let anchor = flush();
        if (anchor === null) anchor = ensureAnchor(createdAt);
        if (
          dedupe &&
          toolAlreadyPresent(session, item.name, item.preview, streamId)
        ) {
          currentIdx = anchor;
          break;
        }
        const seq = pyTruthy(item.seq) ? pyRepr(item.seq) : null;
        toolCards.push({
          name: item.name,
          preview: item.preview,
          snippet: item.preview,
          tid: `journal-${seq ?? toolCards.length + 1}`,
          assistant_msg_idx: anchor,
          args: truncatedArgs(item.args),
          done: false,
          _recovered_from_run_journal: true,
          _recovered_stream_id: streamId,
        });
        appendedAny = true;
        currentIdx = anchor;
        break;
      }
      case "tool_complete":
        for (let i = toolCards.length - 1; i >= 0; i--) {
          const card = toolCards[i];
          if (pyTruthy(card.done)) continue;
          if (!item.name || card.name === item.name) {
            card.done = true;
            if (item.preview !== null) {
              card.preview = item.preview;
              card.snippet = item.preview;
            }
            if (item.duration !== null) card.duration = item.duration;
            card.is_error = item.isError;
            break;
          }
        }
        break;
      case "terminal":
        flush();
        break;
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
 * import { type GatewayError, recoverJournaled } from "./journal_output.ts";
 * import type { RecoverySession } from "./recovered_context.ts";
 * import type { RunOutput } from "./run_journal.ts";
 * declare const session: RecoverySession;
 * declare const journal: RunOutput;
 * declare const found: GatewayError;
 * const [output, error] = recoverJournaled(session, journal, "run1", found, { dedupeExisting: false, nowSeconds: 1 });
 * ```
 */
export function recoverJournaled(
  session: RecoverySession,
  journal: RunOutput | null,
  streamId: string | null,
  gatewayError: GatewayError | null,
  options: JournalOutputOptions,
): [boolean, boolean] {
  const output = appendJournaledOutput(session, journal, streamId, options);
  const error = placeGatewayError(session, streamId, gatewayError);
  return [output, error];
}
