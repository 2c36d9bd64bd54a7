/**
 * recover_pending_turn: a submitted turn only the turn journal holds is
 * appended to the sidecar (the prompt as a `_recovered` row, then the
 * marker of the sidecar's era) and closed in the journal by one appended
 * `interrupted` event, every old byte of the journal kept; only with
 * `--server-stopped`.
 * @module
 */
import { testRepair } from "../repair_tester.ts";
import { submitted } from "../checks/journal_support.ts";
import { makeSidecar, type TestStore } from "../fixtures.ts";
import { G0_MARKER_TEXT } from "../../core/journal/interrupted_marker.ts";

type Row = Record<string, unknown>;

const stopped = ["--server-stopped"];
const PROMPT = "only the journal has this";
const journal = JSON.stringify(submitted("s1", "t1", PROMPT)) + "\n";

/** A sidecar of two messages and a journal whose only turn never ended. */
async function pending(s: TestStore, fields: Row = {}): Promise<void> {
  if (Object.keys(fields).length === 0) await s.sidecar("s1", { messages: 2 });
  else {
    await s.writeRaw(
      "s1.json",
      JSON.stringify(makeSidecar("s1", { messages: 2, ...fields }), null, 2),
    );
    await s.syncIndex();
  }
  await s.writeRaw("_turn_journal/s1.jsonl", journal);
}

/** The journal as before, plus one `interrupted` event closing `t1`. */
function closed(text: string): boolean {
  if (!text.startsWith(journal)) return false;
  const added = text.slice(journal.length).split("\n").filter(Boolean).map(
    (line) => JSON.parse(line) as Row,
  );
  return added.length === 1 && added[0].event === "interrupted" &&
    added[0].turn_id === "t1" && added[0].session_id === "s1";
}

/** The sidecar's two messages, then the recovered prompt and `marker`. */
function recovered(marker: (m: Row) => boolean) {
  return (text: string): boolean => {
    const doc = JSON.parse(text) as Row & { messages: Row[] };
    const [a, b, prompt, last, ...rest] = doc.messages;
    return rest.length === 0 && a.content === "message 0" &&
      b.content === "message 1" && prompt.role === "user" &&
      prompt.content === PROMPT && prompt._recovered === true &&
      marker(last);
  };
}

/** An index of one session, `s1`, with `count` messages. */
function indexed(count: number) {
  return (text: string): boolean => {
    const entries = JSON.parse(text) as Row[];
    return entries.length === 1 && entries[0].session_id === "s1" &&
      entries[0].message_count === count;
  };
}

testRepair("recover_pending_turn", {
  leaveAlone: [{
    name: "a pending turn while a server may be answering it",
    store: (s) => pending(s),
  }, {
    name: "an unfinished turn whose prompt the sidecar has",
    args: stopped,
    store: async (s) => {
      await s.sidecar("s1", { messages: 2 });
      await s.journal("s1", [submitted("s1", "t1", "message 0")]);
    },
  }],
  repaired: [{
    name: "a turn only the journal holds, a seed-era sidecar",
    args: stopped,
    store: (s) => pending(s),
    before: [{
      kind: "turn_journal_pending_turn",
      sessionId: "s1",
      category: "repairable",
    }],
    files: {
      "s1.json": recovered((m) =>
        m.role === "assistant" && m.content === G0_MARKER_TEXT &&
        m._error === true
      ),
      "_turn_journal/s1.jsonl": closed,
      "_index.json": indexed(4),
    },
    followedBy: ["rebuild_index"],
  }, {
    name: "a turn only the journal holds, today's sidecar",
    args: stopped,
    store: (s) => pending(s, { read_only: false, message_count: 2 }),
    before: [{ kind: "turn_journal_pending_turn", sessionId: "s1" }],
    files: {
      "s1.json": (text) =>
        recovered((m) =>
          m.type === "interrupted" &&
          m.interruption_cause === "process_restart"
        )(text) && (JSON.parse(text) as Row).message_count === 4,
      "_turn_journal/s1.jsonl": closed,
      "_index.json": indexed(4),
    },
    followedBy: ["rebuild_index"],
  }],
});
