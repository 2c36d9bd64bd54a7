/**
 * `recover_stale_stream`: finishes a turn a stopped server left streaming,
 * as the server's own `_repair_stale_pending` does on load (seed `003_*`,
 * `_apply_core_sync_or_error_marker`): the pending prompt becomes a
 * `_recovered` user message (unless the last message already is it), an
 * `_error` assistant marker follows, and `active_stream_id` and `pending_*`
 * are cleared. A session with no messages takes the agent's core transcript
 * instead when it has messages. Only with `--server-stopped`, and never
 * within the 30-second grace. The sidecar is edited in place: every byte
 * outside the values it changes stays as the server wrote it.
 *
 * @example
 * ```ts
 * import { recoverStaleStream } from "./recover_stale_stream.ts";
 * const plan = await recoverStaleStream.plan([finding], context);
 * ```
 * @module
 */

import { namedProfileHome, profileOf } from "../core/profile_home.ts";
import { join } from "node:path";
import {
  hasStreamState,
  pendingAgeSeconds,
  STALE_PENDING_GRACE_SECONDS,
} from "../checks/stale_stream_state.ts";
import { parseJsonBytes, readRegularFile } from "../core/file_read.ts";
import {
  appendToTopLevelArray,
  replaceTopLevelValue,
  topLevelSpans,
} from "../core/json_edit.ts";
import { defineRepair, type PlanSkip } from "../core/repair.ts";
import { isValidSessionId } from "../core/session_id.ts";
import { isPlainObject, messageText } from "../core/sidecar_summary.ts";
import { DEFAULT_MAX_FILE_BYTES } from "../core/snapshot.ts";
import { sidecarName } from "../core/store_layout.ts";
import { INCOMPLETE_TURN_MARKER } from "./recover_pending_turn.ts";
import { sameJson } from "./same_json.ts";
import { MAX_WRITE_DEPTH, nestedDeeperThan } from "./nesting.ts";

/** Token fields the server copies from a core transcript when set. */
const CORE_TOKEN_FIELDS = ["input_tokens", "output_tokens", "estimated_cost"];

/** The `recover_stale_stream` repair. */
export const recoverStaleStream = defineRepair({
  id: "recover_stale_stream",
  title: "Finish a turn a stopped server left streaming",
  description:
    "Appends the pending prompt (or takes the core transcript of an empty " +
    "session) and an error marker, and clears the stream state; only with " +
    "--server-stopped.",
  fixes: ["stale_stream_state"],
  scope: "finding",
  async plan([finding], context) {
    if (!context.options.serverStopped) {
      return {
        skip: "--server-stopped was not given, so a server may still own " +
          "the stream",
      };
    }
    const id = finding.sessionId;
    if (!isValidSessionId(id)) return { skip: "the session id is not valid" };
    const name = sidecarName(id);
    const read = await context.read(name);
    if (!read.ok) return { skip: `${name} ${read.problem}` };
    if (!read.bytes) return { skip: `${name} is gone` };
    const parsed = parseJsonBytes(read.bytes);
    if (!parsed.ok || !isPlainObject(parsed.value)) {
      return { skip: `${name} no longer parses as a session` };
    }
    const doc = parsed.value;
    if (!hasStreamState(doc)) {
      return { skip: `${name} no longer has stream state` };
    }
    const nowMs = context.options.now;
    if (
      pendingAgeSeconds(doc.pending_started_at, nowMs) <
        STALE_PENDING_GRACE_SECONDS
    ) {
      return {
        skip: `the turn began less than ${STALE_PENDING_GRACE_SECONDS} s ago`,
      };
    }
    if (!Array.isArray(doc.messages)) {
      return { skip: `${name} has no messages list` };
    }
    let core: CoreTranscript | null = null;
    if (doc.messages.length === 0) {
      const found = await findCoreTranscript(
        context.store.hermesHome,
        id,
        doc.profile,
        context.store.profileDbs?.base ?? null,
      );
      if (found && "skip" in found) return found;
      core = found;
    }
    const nowSeconds = nowMs / 1000;
    const base = core ? core.messages : doc.messages;
    const prompt = recoveredPrompt(doc, nowSeconds);
    const marker = {
      role: "assistant",
      content: INCOMPLETE_TURN_MARKER,
      timestamp: Math.trunc(nowSeconds),
      _error: true,
    };
    // The server's two outcomes: a transcript that holds the prompt is the
    // whole turn (no marker); otherwise the prompt is kept, unless it is
    // already the last message, and the marker says the turn broke off.
    // Where the server would take a transcript that lacks the prompt and
    // drop it, the prompt and the marker are appended after the transcript.
    const appended = core
      ? (isLastUserMessage(base, doc.pending_user_message)
        ? []
        : [prompt, marker])
      : isLastMessage(base, doc.pending_user_message)
      ? [marker]
      : [prompt, marker];
    // As Session.save() after the server's repair: the stream state is
    // cleared and updated_at touched. Keys the file lacks stay absent (the
    // server's defaults for them are the cleared values).
    const changes: [string, unknown, Anchor][] = [
      ["active_stream_id", null, BEFORE_MESSAGES],
      ["pending_user_message", null, BEFORE_MESSAGES],
    ];
    for (
      const [key, value] of [
        ["pending_attachments", []],
        ["pending_started_at", null],
        ["updated_at", nowSeconds],
      ] as const
    ) {
      if (key in doc) changes.push([key, value, BEFORE_MESSAGES]);
    }
    if (core) {
      const toolCalls = "tool_calls" in core.doc ? core.doc.tool_calls : [];
      changes.push(["tool_calls", toolCalls, AFTER_MESSAGES]);
      for (const key of CORE_TOKEN_FIELDS) {
        const value = core.doc[key];
        if (value !== null && value !== undefined) {
          changes.push([key, value, BEFORE_MESSAGES]);
        }
      }
    }
    const tooDeep = {
      skip: `${name} holds a pending message (or a transcript) nested ` +
        "too deep to write back; finish the turn by hand",
    };
    if (nestedDeeperThan(appended, MAX_WRITE_DEPTH)) return tooDeep;
    if (core && nestedDeeperThan(core.messages, MAX_WRITE_DEPTH)) {
      return tooDeep;
    }
    let text: string | null = new TextDecoder().decode(read.bytes);
    try {
      if (core) text = replaceTopLevelValue(text, "messages", core.messages);
      if (text !== null) {
        text = appendToTopLevelArray(text, "messages", appended);
      }
      for (const [key, value, anchor] of changes) {
        if (text === null) break;
        text = setTopLevelValue(text, key, value, anchor);
      }
    } catch (error) {
      // Written indented, a value nested 100,000 deep overflows the stack.
      if (!(error instanceof RangeError)) throw error;
      return tooDeep;
    }
    const expected: Record<string, unknown> = {
      ...doc,
      messages: [...base, ...appended],
    };
    for (const [key, value] of changes) expected[key] = value;
    // The edit is checked against the document it should produce, so a
    // text edit gone wrong is a skip, never a damaged sidecar.
    const edited = text === null ? null : parseJsonBytes(
      new TextEncoder().encode(text),
    );
    if (!edited?.ok || !sameJson(edited.value, expected)) {
      return { skip: `${name} could not be edited safely` };
    }
    const what = [
      core
        ? `take ${core.messages.length} messages from the core transcript ${core.path}`
        : "",
      appended.includes(prompt) ? "append the pending prompt" : "",
      appended.includes(marker) ? "add an error marker" : "",
      "clear the stream state",
    ].filter(Boolean).join(", ");
    return {
      repair: "recover_stale_stream",
      findingIds: [finding.id],
      sessionId: id,
      summary: `Recover ${name}: ${what}.`,
      actions: [{
        op: "write",
        path: name,
        data: new TextEncoder().encode(text!),
        expect: read.expect,
        note: `finish the stale stream of ${name}`,
      }],
    };
  },
});

/** The `_recovered` user message the server makes of a pending prompt. */
function recoveredPrompt(
  doc: Record<string, unknown>,
  nowSeconds: number,
): Record<string, unknown> {
  const started = doc.pending_started_at;
  const message: Record<string, unknown> = {
    role: "user",
    content: doc.pending_user_message,
    // The original send time keeps the turn in its place in the history.
    timestamp: typeof started === "number" && started > 0
      ? Math.trunc(started)
      : Math.trunc(nowSeconds),
    _recovered: true,
  };
  const attachments = doc.pending_attachments;
  if (Array.isArray(attachments) && attachments.length > 0) {
    message.attachments = [...attachments];
  }
  return message;
}

/**
 * True when the very last message is a user message holding the pending
 * prompt, whitespace-normalized: the server's "already checkpointed" test.
 */
function isLastMessage(messages: unknown[], pending: unknown): boolean {
  const last = messages.at(-1);
  const prompt = normalized(pending);
  return prompt !== "" && isPlainObject(last) && last.role === "user" &&
    normalized(last.content) === prompt;
}

/**
 * True when the last user message is the pending prompt. In a core
 * transcript the agent's reply follows the prompt, so the last message is
 * not the one to compare.
 */
function isLastUserMessage(messages: unknown[], pending: unknown): boolean {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i];
    if (isPlainObject(message) && message.role === "user") {
      return isLastMessage(messages.slice(i, i + 1), pending);
    }
  }
  return false;
}

function normalized(content: unknown): string {
  // A list of parts compares by its text, where the server's str() would
  // compare a Python repr and append the same prompt twice.
  const text = typeof content === "string" || Array.isArray(content)
    ? messageText(content)
    : String(content ?? "");
  return text.split(/\s+/).filter(Boolean).join(" ");
}

interface CoreTranscript {
  path: string;
  doc: Record<string, unknown>;
  messages: unknown[];
}

/**
 * The agent's core transcript of a session, when one with messages exists:
 * `$HERMES_HOME/sessions/session_<sid>.json`, or the named profile's home
 * below `profiles/` first. Read directly and read-only: it lies outside the
 * session dir and is never written. One that exists but cannot be read is
 * a skip, since the session's conversation may be in it.
 */
async function findCoreTranscript(
  hermesHome: string | null,
  id: string,
  profile: unknown,
  profilesBase: string | null,
): Promise<CoreTranscript | PlanSkip | null> {
  if (hermesHome === null) {
    return {
      skip: "the session has no messages and the agent's home is not " +
        "known, so its core transcript cannot be consulted",
    };
  }
  const file = `session_${id}.json`;
  const paths = [join(hermesHome, "sessions", file)];
  // Only a name that passes the server's profile rule becomes a path.
  const named = profileOf(profile);
  if (named !== null) {
    paths.unshift(
      join(
        namedProfileHome(profilesBase ?? hermesHome, named),
        "sessions",
        file,
      ),
    );
  }
  for (const path of paths) {
    const read = await readRegularFile(path, DEFAULT_MAX_FILE_BYTES);
    if (!read.ok) {
      if (read.problem.reason === "missing") continue;
      return {
        skip: `the core transcript ${path} ${read.problem.detail}, and the ` +
          "session's messages may be in it",
      };
    }
    const parsed = parseJsonBytes(read.value);
    if (!parsed.ok || !isPlainObject(parsed.value)) {
      return {
        skip: `the core transcript ${path} ${
          parsed.ok ? "is not a JSON object" : parsed.problem.detail
        }, and the session's messages may be in it`,
      };
    }
    const messages = parsed.value.messages;
    if (Array.isArray(messages) && messages.length > 0) {
      return { path, doc: parsed.value, messages };
    }
  }
  return null;
}

/** Where a key the file lacks is inserted: metadata before `messages`. */
type Anchor = { key: string; side: "before" | "after" };
const BEFORE_MESSAGES: Anchor = { key: "messages", side: "before" };
const AFTER_MESSAGES: Anchor = { key: "messages", side: "after" };

/**
 * Sets a top-level value, keeping every other byte: replaces it when the
 * key exists, else inserts it next to `anchor` in the file's style. Null
 * when neither is possible.
 */
function setTopLevelValue(
  text: string,
  key: string,
  value: unknown,
  anchor: Anchor,
): string | null {
  const replaced = replaceTopLevelValue(text, key, value);
  if (replaced !== null) return replaced;
  const span = topLevelSpans(text)?.get(anchor.key);
  if (!span) return null;
  const pretty = text.slice(0, span.start).includes("\n");
  const lineStart = text.lastIndexOf("\n", span.start - 1) + 1;
  const indent = pretty ? /^[ \t]*/.exec(text.slice(lineStart))![0] : "";
  const rendered = pretty
    ? JSON.stringify(value, null, 2).replaceAll("\n", "\n" + indent)
    : JSON.stringify(value);
  const entry = `${JSON.stringify(key)}: ${rendered}`;
  const separator = pretty ? `,\n${indent}` : ", ";
  if (anchor.side === "after") {
    return text.slice(0, span.end) + separator + entry + text.slice(span.end);
  }
  const keyStart = text.lastIndexOf(JSON.stringify(anchor.key), span.start);
  if (keyStart < 0 || lineStart > keyStart && pretty) return null;
  return text.slice(0, keyStart) + entry + separator + text.slice(keyStart);
}
