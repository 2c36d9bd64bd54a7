/**
 * A dead turn state.db is ahead of, whose run journal holds text state.db
 * lacks, built from fixtures (no python): the store of
 * tests/state_db_heal_recovery_test.ts and the check's own test.
 *
 * @example
 * ```ts
 * import { crash } from "./state_db_heal_support.ts";
 * import { withStore } from "./check_support.ts";
 * await withStore((store) => crash(store));
 * ```
 * @module
 */

import { makeSidecar, type TestStore } from "./fixtures.ts";
import { runEvent } from "./run_journal_support.ts";

export const SID = "s1";
export const STREAM = "run0statedb002";
export const PROMPT = "List the files, then count the lines.";
export const STARTED = Math.round(Date.now() / 1000 - 3600) + 0.25;
export const PARTIAL = "Two logs. Counting lines now.";

export type Row = Record<string, unknown>;

export const EARLIER = [
  { role: "user", content: "Earlier question", timestamp: 1778450000 },
  { role: "assistant", content: "Earlier answer.", timestamp: 1778450010 },
];

const CALL = [{
  id: "call_1",
  type: "function",
  function: { name: "terminal", arguments: '{"command": "ls -la /srv"}' },
}];

/** The agent's rows: the earlier turn, the prompt, its first step. */
export const STATE_ROWS: Row[] = [
  { ...EARLIER[0], timestamp: 1778450000.5 },
  { ...EARLIER[1], timestamp: 1778450010.5 },
  { role: "user", content: PROMPT, timestamp: STARTED + 0.2 },
  {
    role: "assistant",
    content: "Listing the files first.",
    timestamp: STARTED + 3.5,
    tool_calls: CALL,
  },
  {
    role: "tool",
    content: "a.log b.log",
    timestamp: STARTED + 5.5,
    tool_call_id: "call_1",
    tool_name: "terminal",
  },
];

/**
 * Writes the crash into `store`: the sidecar (with `fields` over it), its
 * run journal, and a state.db holding `rows` (the agent's, by default).
 *
 * @example
 * ```ts
 * await crash(store, {}, EARLIER); // state.db no further than the sidecar
 * ```
 */
export async function crash(
  store: TestStore,
  fields: Row = {},
  rows: Row[] = STATE_ROWS,
): Promise<void> {
  await store.writeRaw(
    `${SID}.json`,
    JSON.stringify(
      makeSidecar(SID, {
        messages: EARLIER,
        context_messages: EARLIER,
        active_stream_id: STREAM,
        pending_user_message: PROMPT,
        pending_attachments: [],
        pending_started_at: STARTED,
        pending_user_source: null,
        message_count: 2,
        ...fields,
      }),
      null,
      2,
    ),
  );
  const events: [string, Row][] = [
    ...tokens("Listing the files first."),
    ["tool", { name: "terminal", preview: "ls -la /srv", args: {} }],
    ["tool_complete", { name: "terminal", preview: "a.log b.log" }],
    ...tokens(PARTIAL),
  ];
  await store.syncIndex();
  await Deno.mkdir(store.path(`_run_journal/${SID}`), { recursive: true });
  await store.writeRaw(
    `_run_journal/${SID}/${STREAM}.jsonl`,
    events.map(([name, payload], i) =>
      runEvent(SID, STREAM, i + 1, name, payload) + "\n"
    ).join(""),
  );
  store.stateDb({
    sessions: [{ id: SID, source: "webui", title: "t" }],
    messages: rows.map((row, i) => ({
      id: i + 1,
      session_id: SID,
      role: row.role as string,
      content: row.content as string,
      timestamp: row.timestamp as number,
      tool_calls: row.tool_calls ? JSON.stringify(row.tool_calls) : null,
      tool_call_id: (row.tool_call_id as string) ?? null,
      tool_name: (row.tool_name as string) ?? null,
    })),
  }, {
    sessions: ["id", "source", "title"],
    messages: [
      "id",
      "session_id",
      "role",
      "content",
      "timestamp",
      "tool_calls",
      "tool_call_id",
      "tool_name",
    ],
  });
}

export function tokens(text: string, size = 7): [string, Row][] {
  const out: [string, Row][] = [];
  for (let i = 0; i < text.length; i += size) {
    out.push(["token", { text: text.slice(i, i + size) }]);
  }
  return out;
}
