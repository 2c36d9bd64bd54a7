/**
 * The server's state.db self-heal of an unfinished turn
 * (`_sync_sidecar_from_state_db_if_newer`, since v0.51.702), computed for
 * the transcripts where its result can be proved: state.db's rows (as
 * `StateDbReader.transcriptFor` reads them) merged into `messages` and
 * `context_messages` append-only, as `reconciled_state_db_messages_for_session`
 * and `merge_session_messages_append_only` merge them, honouring the
 * truncation watermark. The server's merger has many paths (stable message
 * ids, provider `api_content` sidecars, multimodal mirrors, compacted
 * contexts, chronological inserts); a transcript that would take one of
 * them, or whose result would depend on what JavaScript cannot see (an
 * integer timestamp against a float one, Unicode case folding, Python's set
 * order), is not healed here: the result is a skip saying why, and the
 * server's own heal stays the way. Pure: nothing is read or written.
 *
 * @example
 * ```ts
 * import { healFromStateDb } from "./state_db_heal.ts";
 * import type { StateDbReader, StateDbSessionRow } from "./state_db.ts";
 * declare const doc: Record<string, unknown>;
 * declare const reader: StateDbReader;
 * declare const row: StateDbSessionRow;
 * const healed = healFromStateDb(doc, reader.transcriptFor(row));
 * if (!("skip" in healed)) console.log(healed.messages.length);
 * ```
 * @module
 */

import {
  normalizedText,
  type RecoverySession,
} from "../journal/recovered_context.ts";
import { isPlainObject, pyStrip, pyTruthy } from "../store/sidecar_summary.ts";
import { workingCopy } from "../journal/journal_output.ts";
import type { RunOutput } from "../journal/run_journal.ts";
import {
  closeStaleTurn,
  type StaleOutcome,
} from "../journal/stale_recovery.ts";

/**
 * What the heal makes of a sidecar: its new `messages` and
 * `context_messages`, or why it cannot be proved here.
 *
 * @example
 * ```ts
 * import type { HealResult } from "./state_db_heal.ts";
 * const result: HealResult = { skip: "state.db holds nothing new" };
 * ```
 */
export type HealResult =
  | { messages: unknown[]; context: unknown[] }
  | { skip: string };

/** A merge outside what is proved here. */
class Unproved extends Error {}

function unproved(why: string): never {
  throw new Unproved(why);
}

/**
 * The sidecar `session` (a parsed `<sid>.json`) after the server's
 * state.db heal with `rows` (state.db's messages of the session, in the
 * server's shape), or a skip: the server would not heal it (nothing new),
 * or its result is not proved here.
 *
 * @example
 * ```ts
 * import { healFromStateDb } from "./state_db_heal.ts";
 * healFromStateDb({ messages: [] }, [{ role: "user", content: "hi", timestamp: 1.5 }]);
 * // { messages: [{ role: "user", ... }], context: [{ role: "user", ... }] }
 * ```
 */
export function healFromStateDb(
  session: Record<string, unknown>,
  rows: Record<string, unknown>[],
): HealResult {
  const messages = session.messages;
  if (!Array.isArray(messages)) return { skip: "it has no messages list" };
  if (rows.length === 0) {
    return { skip: "state.db has no rows the server reads" };
  }
  try {
    const watermark = timeSetting(session.truncation_watermark);
    const boundary = timeSetting(session.truncation_boundary);
    for (const row of rows) checkShape(row, "a state.db row");
    for (const message of messages) checkShape(message, "a sidecar message");
    const merged = mergeAppendOnly(messages, rows, watermark, boundary);
    if (merged.length <= messages.length) {
      return { skip: "state.db holds nothing the server's heal would add" };
    }
    const context = session.context_messages;
    let local = messages;
    if (Array.isArray(context) && context.length > 0) {
      if (pyTruthy(session.is_cli_session)) {
        unproved("it is a CLI session, whose context the server may swap");
      }
      for (const message of context) {
        checkShape(message, "a context message");
        const text = String(message.content ?? "").toLowerCase();
        const lead = pyStrip(text);
        if (
          lead.startsWith("[context compaction") ||
          lead.startsWith("context compaction")
        ) unproved("its context was compacted");
      }
      local = context;
    }
    const delta = local.length > 0 ? deltaAfterContext(local, rows) : rows;
    return {
      messages: merged,
      context: mergeAppendOnly(local, delta, watermark, boundary),
    };
  } catch (error) {
    if (error instanceof Unproved) return { skip: error.message };
    throw error;
  }
}

/**
 * The turn of a sidecar whose state.db is ahead, closed as the server's
 * heal closes it plus the run journal's output that heal would drop
 * (core/journal/stale_recovery.ts): the changed copy of `doc` (the original is
 * left as it was) and what was done, or why the heal is not proved here.
 *
 * @example
 * ```ts
 * import { closeHealedTurn } from "./state_db_heal.ts";
 * import type { StateDbReader, StateDbSessionRow } from "./state_db.ts";
 * import type { StreamJournal } from "../journal/stream_journal.ts";
 * declare const doc: Record<string, unknown>;
 * declare const journal: StreamJournal;
 * declare const reader: StateDbReader;
 * declare const row: StateDbSessionRow;
 * const closed = closeHealedTurn(doc, reader.transcriptFor(row), journal.output, Date.now() / 1000);
 * if (!("skip" in closed) && closed.outcome.recoveredOutput) console.log("output kept");
 * ```
 */
export function closeHealedTurn(
  doc: Record<string, unknown>,
  rows: Record<string, unknown>[],
  journal: RunOutput | null,
  nowSeconds: number,
): { after: RecoverySession; outcome: StaleOutcome } | { skip: string } {
  const healed = healFromStateDb(doc, rows);
  if ("skip" in healed) return healed;
  const after = workingCopy(doc as typeof doc & { messages: unknown[] });
  const outcome = closeStaleTurn(after, {
    era: "head",
    journal,
    core: null,
    nowSeconds,
    healed,
  });
  return { after, outcome };
}

/** A truncation setting as the server's `float()` takes it; null unset. */
function timeSetting(value: unknown): number | null {
  if (value === null || value === undefined || value === "") return null;
  if (typeof value === "number") return value;
  return unproved("its truncation watermark is not a plain number");
}

/** The message shapes the merge is proved for. */
function checkShape(
  message: unknown,
  what: string,
): asserts message is Record<string, unknown> {
  if (!isPlainObject(message)) unproved(`${what} is not an object`);
  if (pyTruthy(message.id) || pyTruthy(message.message_id)) {
    unproved(`${what} carries a message id`);
  }
  for (
    const key of [
      "api_content",
      "_row_id",
      "_state_db_row_id",
      "_db_row_id",
      "state_db_row_id",
    ]
  ) {
    const value = message[key];
    if (value !== undefined && value !== null && value !== "") {
      unproved(`${what} carries provider content (${key})`);
    }
  }
  if (typeof message.role !== "string") unproved(`${what} has no role`);
  for (const key of ["content", "tool_call_id", "tool_name", "name"]) {
    const value = message[key];
    if (pyTruthy(value) && typeof value !== "string") {
      unproved(`${what} has a ${key} that is not text`);
    }
  }
  const time = message.timestamp;
  if (
    time !== undefined && time !== null && time !== "" &&
    (typeof time !== "number" || Math.abs(time) >= 1e15)
  ) unproved(`${what} has a timestamp that is not a plain number`);
  if (pyTruthy(message.tool_calls) && holdsNumber(message.tool_calls)) {
    unproved(`${what} has tool calls holding numbers`);
  }
}

/** A JSON value with a number anywhere in it (Python tells 1 from 1.0). */
function holdsNumber(value: unknown, depth = 0): boolean {
  if (typeof value === "number") return true;
  if (depth > 64) return true;
  if (Array.isArray(value)) return value.some((v) => holdsNumber(v, depth + 1));
  if (isPlainObject(value)) {
    return Object.values(value).some((v) => holdsNumber(v, depth + 1));
  }
  return false;
}

/** What the merge compares of one message. */
interface Keys {
  message: Record<string, unknown>;
  role: string;
  time: number | null;
  /** Legacy merge key: the time to the second. */
  merge: string;
  /** Dedup key: the full time (see {@linkcode dedupKnown}). */
  dedup: string;
  /** An integral, non-zero time, which Python prints as `7` or `7.0`. */
  dedupAmbiguous: boolean;
  content: string;
  visible: string;
  /** The visible key's text (the fuzzy match compares it). */
  visibleText: string;
}

function text(value: unknown): string {
  return pyTruthy(value) ? String(value) : "";
}

function keysOf(message: Record<string, unknown>, fromStateDb: boolean): Keys {
  const role = message.role as string;
  const content = text(message.content);
  const time = typeof message.timestamp === "number" ? message.timestamp : null;
  const toolCalls = pyTruthy(message.tool_calls)
    ? canonical(message.tool_calls)
    : "";
  const callId = text(message.tool_call_id);
  const toolName = text(message.tool_name) || text(message.name);
  let shown = normalizedText(content);
  // state.db keeps the prompt the model saw, workspace tag first.
  if (fromStateDb && role === "user") shown = withoutWorkspaceTag(shown);
  const second = time === null ? "" : String(Math.trunc(time));
  return {
    message,
    role,
    time,
    merge: JSON.stringify([
      "legacy",
      role,
      content,
      second,
      callId,
      toolName,
      toolCalls,
    ]),
    dedup: JSON.stringify([
      "legacy",
      role,
      content,
      time === null || time === 0 ? "" : time,
      callId,
      toolName,
      toolCalls,
    ]),
    dedupAmbiguous: time !== null && time !== 0 && Number.isInteger(time),
    content: JSON.stringify([role, shown, callId, toolName]),
    visible: JSON.stringify([role, shown, toolCalls]),
    visibleText: shown,
  };
}

/** A JSON value as text with sorted keys: equal values, equal text. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (isPlainObject(value)) {
    return `{${
      Object.keys(value).sort().map((k) =>
        `${JSON.stringify(k)}:${canonical(value[k])}`
      ).join(",")
    }}`;
  }
  return JSON.stringify(value) ?? "null";
}

const WORKSPACE_TAG = /^\s*\[Workspace::v1:\s*(?:\\.|[^\]\\])+\]\s*/;
const LEGACY_WORKSPACE_TAG = /^\s*\[Workspace:[^\]]+\]\s*/;

/** The server's `_strip_workspace_prefix(..., include_legacy=True)`, collapsed. */
function withoutWorkspaceTag(shown: string): string {
  // JavaScript's \s takes U+FEFF, Python's does not.
  if (shown.includes("\ufeff")) unproved("a prompt holds a U+FEFF");
  let stripped = shown.replace(WORKSPACE_TAG, "");
  if (stripped === shown) stripped = shown.replace(LEGACY_WORKSPACE_TAG, "");
  return normalizedText(pyStrip(stripped));
}

/** `dedup` of `keys` is in `seen`, decided as Python decides it. */
function dedupKnown(seen: Set<string>, keys: Keys): boolean {
  if (!seen.has(keys.dedup)) return false;
  if (keys.dedupAmbiguous) {
    unproved("two messages differ only in how a timestamp is typed");
  }
  return true;
}

/** Python's `len()` of a str. */
function pyLen(value: string): number {
  let n = 0;
  for (const _ of value) n++;
  return n;
}

/** `" ".join(re.findall(r"\w+", value.casefold()))`, for ASCII text. */
function looseText(value: string): string {
  // deno-lint-ignore no-control-regex
  if (/[^\x00-\x7f]/.test(value)) {
    unproved("a near-duplicate test on non-ASCII text");
  }
  return (value.toLowerCase().match(/\w+/g) ?? []).join(" ");
}

/** `_matching_visible_duplicate` against one key's text and role. */
function fuzzyMatches(candidate: Keys, existing: Keys): boolean {
  if (candidate.role !== existing.role) return false;
  const content = candidate.visibleText;
  const other = existing.visibleText;
  if (!content || !other) return false;
  if (Math.max(pyLen(content), pyLen(other)) > 200_000) return false;
  if (content.includes(other) || other.includes(content)) return true;
  const loose = looseText(content);
  const looseOther = looseText(other);
  return !!loose && !!looseOther &&
    (loose.includes(looseOther) || looseOther.includes(loose));
}

/** The server's `_sidecar_has_terminal_partial_error`. */
function terminalPartialError(messages: unknown[]): boolean {
  const rows = messages.filter(isPlainObject);
  const roleOf = (m: Record<string, unknown>) =>
    String(pyTruthy(m.role) ? m.role : "").toLowerCase();
  let latest = -1;
  rows.forEach((m, i) => {
    if (roleOf(m) === "assistant" && pyTruthy(m._error)) latest = i;
  });
  if (latest < 0) return false;
  if (
    rows.slice(latest + 1).some((m) =>
      ["user", "assistant"].includes(roleOf(m))
    )
  ) {
    return false;
  }
  let start = 0;
  for (let i = latest - 1; i >= 0; i--) {
    if (roleOf(rows[i]) === "user") {
      start = i + 1;
      break;
    }
  }
  return rows.slice(start, latest).some((m) =>
    roleOf(m) === "assistant" && pyTruthy(m._partial)
  );
}

/** The server's `state_db_delta_after_context`. */
function deltaAfterContext(
  context: unknown[],
  rows: Record<string, unknown>[],
): Record<string, unknown>[] {
  const first = context[0];
  const singleRow = isPlainObject(first) && pyTruthy(first._recovered) &&
    String(pyTruthy(first.role) ? first.role : "") === "user";
  const ours = context.map((m) =>
    keysOf(m as Record<string, unknown>, false).content
  );
  const theirs = rows.map((m) => keysOf(m, true).content);
  let bestLength = 0;
  let bestOffset = 0;
  for (
    let offset = 0;
    offset < Math.min(ours.length, theirs.length);
    offset++
  ) {
    let length = 0;
    while (
      offset + length < ours.length && length < theirs.length &&
      ours[offset + length] === theirs[length]
    ) length++;
    if (length > bestLength) {
      bestLength = length;
      bestOffset = offset;
    }
  }
  if (bestLength < (singleRow && bestOffset === 0 ? 1 : 2)) return rows;
  let ourIndex = bestLength;
  let theirIndex = bestLength;
  while (ourIndex < ours.length && theirIndex < theirs.length) {
    if (theirs[theirIndex] === ours[ourIndex]) ourIndex++;
    theirIndex++;
  }
  return ourIndex === ours.length
    ? rows.slice(theirIndex)
    : rows.slice(bestLength);
}

/**
 * `merge_session_messages_append_only(local, rows, ...)` for the shapes
 * {@linkcode checkShape} admits; throws {@linkcode Unproved} where a path
 * not rebuilt here would decide.
 */
function mergeAppendOnly(
  local: unknown[],
  rows: Record<string, unknown>[],
  watermark: number | null,
  boundary: number | null,
): unknown[] {
  if (rows.length === 0) return [...local];
  const stateKeys = rows.map((row) => keysOf(row, true));
  if (local.length === 0) {
    let kept = stateKeys;
    if (watermark === 0) return [];
    if (watermark !== null) {
      kept = boundary !== null && boundary < watermark
        ? [
          ...kept.filter((k) => k.time !== null && k.time <= boundary),
          ...kept.filter((k) => k.time !== null && k.time >= watermark),
        ]
        : kept.filter((k) => k.time !== null && k.time <= watermark);
    }
    const seen = new Set<string>();
    const out: unknown[] = [];
    for (const keys of kept) {
      if (dedupKnown(seen, keys)) continue;
      seen.add(keys.dedup);
      out.push(keys.message);
    }
    return out;
  }
  const merged: unknown[] = [];
  const seenMerge = new Set<string>();
  const seenDedup = new Set<string>();
  const seenContent = new Set<string>();
  const ownKeys: Keys[] = [];
  const visibleCount = new Map<string, number>();
  const skipped = new Map<string, number>();
  let newest: number | null = null;
  for (const message of local) {
    const keys = keysOf(message as Record<string, unknown>, false);
    if (keys.time !== null) {
      newest = newest === null ? keys.time : Math.max(newest, keys.time);
    }
    seenMerge.add(keys.merge);
    seenDedup.add(keys.dedup);
    seenContent.add(keys.content);
    ownKeys.push(keys);
    visibleCount.set(keys.visible, (visibleCount.get(keys.visible) ?? 0) + 1);
    merged.push(message);
  }
  if (terminalPartialError(local)) return merged;
  // One representative a visible key (the server keeps a set of them).
  const visibleKeys = new Map<string, Keys>();
  for (const keys of ownKeys) {
    if (!visibleKeys.has(keys.visible)) visibleKeys.set(keys.visible, keys);
  }
  /**
   * `_matching_visible_duplicate` over the local keys: the exact key, else
   * the near duplicate. Which one the server finds first follows its set
   * order, so more than one that could still be skipped is not proved.
   */
  const matchingVisible = (keys: Keys): string | null => {
    if (visibleKeys.has(keys.visible)) return keys.visible;
    if (!keys.visibleText || visibleKeys.size > 1000) return null;
    const found = [...visibleKeys.entries()].filter(([, other]) =>
      other.visibleText && fuzzyMatches(keys, other)
    ).map(([key]) => key);
    if (found.length <= 1) return found[0] ?? null;
    const open = found.filter((key) =>
      (skipped.get(key) ?? 0) < (visibleCount.get(key) ?? 0)
    );
    if (open.length > 0) unproved("a message nearly repeats several others");
    return found[0];
  };
  const advancedByBoundary = watermark !== null && boundary !== null &&
    boundary < watermark;
  let replayed = 0;
  for (const keys of stateKeys) {
    const { time, role } = keys;
    if (replayed < ownKeys.length) {
      const expected = ownKeys[replayed];
      if (keys.visible === expected.visible || fuzzyMatches(keys, expected)) {
        replayed++;
        const matched = matchingVisible(keys);
        if (matched !== null) {
          skipped.set(matched, (skipped.get(matched) ?? 0) + 1);
        }
        seenDedup.add(keys.dedup);
        continue;
      }
    }
    const consumed = replayed >= ownKeys.length;
    const advanced = watermark !== null &&
      ((newest !== null && newest > watermark) ||
        (advancedByBoundary && consumed));
    const mergeSeen = seenMerge.has(keys.merge);
    const contentSeen = seenContent.has(keys.content);
    if (watermark !== null && time !== null) {
      if (
        time > watermark && !mergeSeen &&
        (!advanced || (newest !== null && time <= newest))
      ) continue;
      if (time < watermark && !mergeSeen && !contentSeen) continue;
      if (
        time === watermark && !mergeSeen && !contentSeen &&
        role.toLowerCase() === "user"
      ) continue;
    }
    if (dedupKnown(seenDedup, keys)) continue;
    const withinLocal = newest !== null && time !== null && time <= newest;
    if (withinLocal && mergeSeen) continue;
    const matched = matchingVisible(keys);
    if (matched !== null) {
      const count = skipped.get(matched) ?? 0;
      if (count < (visibleCount.get(matched) ?? 0)) {
        skipped.set(matched, count + 1);
        continue;
      }
    }
    if (withinLocal) {
      const postEdit = watermark !== null && time === watermark && consumed &&
        role.toLowerCase() !== "user" && !contentSeen;
      if (!postEdit) {
        const inserts = pyTruthy(keys.message.tool_calls)
          ? contentSeen && !seenDedup.has(keys.dedup)
          : role === "user" && !contentSeen;
        if (inserts) {
          unproved("a state.db row would be inserted mid-transcript");
        }
        continue;
      }
    }
    seenMerge.add(keys.merge);
    seenDedup.add(keys.dedup);
    seenContent.add(keys.content);
    merged.push(keys.message);
  }
  return merged;
}
