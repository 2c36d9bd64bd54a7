/**
 * recover_stale_stream: a turn a stopped server left streaming is closed
 * as the server of the sidecar's era closes it: the pending prompt kept,
 * the run journal's output recovered, the marker; a run its journal says
 * completed closed without one; and, where state.db is ahead of the
 * sidecar, the server's heal from state.db done first so the journal's
 * text it would drop is kept. Only with `--server-stopped`.
 * @module
 */
import { testRepair } from "../repair_tester.ts";
import { streamingSidecar, writeRun } from "../checks/stream_support.ts";
import { crashWithStateDbAhead, HEAL_CASE } from "../state_db_heal_support.ts";
import type { TestStore } from "../fixtures.ts";

type Row = Record<string, unknown>;

const stopped = ["--server-stopped"];
const PROMPT = "what is the answer?";
const G0_MARKER = "**Previous turn did not complete.**";
const RECOVERED_MARKER =
  /^\*\*Response interrupted\.\*\*\n\n.*The partial output above was recovered from the run journal/s;

/** What a message must be: its role and content (or a test of it). */
type Want = [string, string | RegExp];

/**
 * A sidecar whose turn is closed: no stream, no pending prompt, the two
 * messages before (`earlier`), then `tail`; `context` the contents of
 * `context_messages` (undefined: the key absent).
 */
function closed(
  earlier: string[],
  tail: Want[],
  context?: string[],
): (text: string) => boolean {
  return (text) => {
    const doc = JSON.parse(text) as Row & {
      messages: Row[];
      context_messages?: Row[];
    };
    const want: Want[] = [
      ...earlier.map((c, i): Want => [i % 2 === 0 ? "user" : "assistant", c]),
      ...tail,
    ];
    return doc.active_stream_id === null &&
      doc.pending_user_message === null &&
      doc.messages.length === want.length &&
      want.every(([role, content], i) => {
        const m = doc.messages[i];
        return m.role === role &&
          (typeof content === "string"
            ? m.content === content
            : content.test(String(m.content)));
      }) &&
      JSON.stringify(doc.context_messages?.map((m) => m.content)) ===
        JSON.stringify(context);
  };
}

const before2 = ["message 0", "message 1"];

/** The session's one index entry, with `count` messages. */
function indexed(id: string, count: number): (text: string) => boolean {
  return (text) => {
    const entries = JSON.parse(text) as Row[];
    return entries.length === 1 && entries[0].session_id === id &&
      entries[0].message_count === count;
  };
}

async function withOutput(s: TestStore, events: [string, Row?][]) {
  await streamingSidecar(s, "s1", "run1");
  await writeRun(s, "s1", "run1", events);
}

const { SID, PARTIAL, EARLIER, STATE_ROWS } = HEAL_CASE;

testRepair("recover_stale_stream", {
  leaveAlone: [{
    name: "a dead stream, without --server-stopped",
    store: (s) => streamingSidecar(s, "s1", "run1"),
  }, {
    name: "a turn that began seconds ago",
    args: stopped,
    store: (s) =>
      streamingSidecar(s, "s1", "run1", {
        pending_started_at: Date.now() / 1000 - 5,
      }),
  }, {
    name: "a pre-compression snapshot left streaming",
    args: stopped,
    store: (s) =>
      streamingSidecar(s, "s1", "run1", { pre_compression_snapshot: true }),
  }, {
    name: "state.db ahead, journal text it lacks, without --server-stopped",
    store: (s) => crashWithStateDbAhead(s),
  }],
  repaired: [{
    name: "a turn a stopped server left streaming, a seed-era sidecar",
    args: stopped,
    store: (s) => streamingSidecar(s, "s1", "run1"),
    before: [{
      kind: "stale_stream_state",
      sessionId: "s1",
      category: "repairable",
    }],
    files: {
      "s1.json": closed(before2, [["user", PROMPT], ["assistant", G0_MARKER]]),
      "_index.json": indexed("s1", 4),
    },
    followedBy: ["rebuild_index"],
  }, {
    name: "a dead stream whose run journal holds output",
    args: stopped,
    store: (s) => withOutput(s, [["token", { text: "The answer" }]]),
    before: [{
      kind: "stale_stream_unrecovered_output",
      sessionId: "s1",
      paths: ["s1.json", "_run_journal/s1/run1.jsonl"],
      category: "repairable",
    }],
    files: {
      "s1.json": closed(
        before2,
        [
          ["user", PROMPT],
          ["assistant", "The answer"],
          ["assistant", RECOVERED_MARKER],
        ],
        [...before2, PROMPT, "The answer"],
      ),
      "_index.json": indexed("s1", 5),
    },
    followedBy: ["rebuild_index"],
  }, {
    name: "a run its journal says completed: closed without a marker",
    args: stopped,
    store: (s) => withOutput(s, [["token", { text: "The answer" }], ["done"]]),
    before: [{
      kind: "stream_run_completed",
      sessionId: "s1",
      category: "repairable",
    }],
    files: {
      "s1.json": closed(
        before2,
        [["user", PROMPT], ["assistant", "The answer"]],
        [...before2, PROMPT, "The answer"],
      ),
      "_index.json": indexed("s1", 4),
    },
    followedBy: ["rebuild_index"],
  }, {
    name: "state.db ahead, journal text it lacks: healed, the text kept once",
    args: stopped,
    store: (s) => crashWithStateDbAhead(s),
    before: [{
      kind: "state_db_heal_drops_run_output",
      sessionId: SID,
      category: "repairable",
    }],
    files: {
      [`${SID}.json`]: closed(
        EARLIER.map((m) => m.content),
        [
          ...STATE_ROWS.slice(2).map((m): Want => [
            String(m.role),
            String(m.content),
          ]),
          ["assistant", PARTIAL],
          ["assistant", RECOVERED_MARKER],
        ],
        [...STATE_ROWS.map((m) => String(m.content)), PARTIAL],
      ),
      "_index.json": indexed(SID, 7),
    },
    followedBy: ["rebuild_index"],
  }],
});
