/**
 * A turn that died while state.db was ahead of its sidecar, and whose run
 * journal holds text state.db lacks: the store of issue 21's last case,
 * with fixtures only (no python), for the tests of the state.db heal.
 *
 * @example
 * ```ts
 * import { TestStore } from "./fixtures.ts";
 * import { crashWithStateDbAhead } from "./state_db_heal_support.ts";
 * const store = await TestStore.create();
 * await crashWithStateDbAhead(store);
 * ```
 * @module
 */

import { makeSidecar, type TestStore } from "./fixtures.ts";
import { runEvent } from "./run_journal_support.ts";

/** The session that died. */
const SID = "s1";
/** Its run. */
const STREAM = "run0statedb002";
/** The prompt of the turn that died. */
const PROMPT = "List the files, then count the lines.";
/** When the turn began, an hour ago, in the server's seconds. */
const STARTED = Math.round(Date.now() / 1000 - 3600) + 0.25;
/** The text the run journal holds past state.db's rows. */
const PARTIAL = "Two logs. Counting lines now.";

type Row = Record<string, unknown>;

/** The turn before, in the sidecar and in state.db. */
const EARLIER = [
  { role: "user", content: "Earlier question", timestamp: 1778450000 },
  { role: "assistant", content: "Earlier answer.", timestamp: 1778450010 },
];

const CALL = [{
  id: "call_1",
  type: "function",
  function: { name: "terminal", arguments: '{"command": "ls -la /srv"}' },
}];

/** The agent's rows: the earlier turn, the prompt, its first step. */
const STATE_ROWS: Row[] = [
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
 * What the store of {@linkcode crashWithStateDbAhead} holds, for the
 * assertions on it.
 *
 * @example
 * ```ts
 * const { SID, PARTIAL } = HEAL_CASE; // the session, the text state.db lacks
 * ```
 */
export const HEAL_CASE = {
  SID,
  STREAM,
  PROMPT,
  STARTED,
  PARTIAL,
  EARLIER,
  STATE_ROWS,
} as const;

/**
 * Writes the sidecar (with `fields` over it) left streaming, the run
 * journal, the index and state.db ahead of the sidecar.
 *
 * @example
 * ```ts
 * import { TestStore } from "./fixtures.ts";
 * const store = await TestStore.create();
 * await crashWithStateDbAhead(store, { messages: [] });
 * ```
 */
export async function crashWithStateDbAhead(
  store: TestStore,
  fields: Record<string, unknown> = {},
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
    messages: STATE_ROWS.map((row, i) => ({
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

function tokens(text: string, size = 7): [string, Row][] {
  const out: [string, Row][] = [];
  for (let i = 0; i < text.length; i += size) {
    out.push(["token", { text: text.slice(i, i + size) }]);
  }
  return out;
}
