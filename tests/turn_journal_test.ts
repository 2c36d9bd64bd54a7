/**
 * Tests of core/journal/turn_journal.ts: a turn's state is its event with the
 * greatest `created_at` (ties: the later line); damaged lines are counted
 * and skipped, never fatal.
 */

import { concatBytes } from "./fixtures.ts";
import assert from "node:assert/strict";
import {
  isTerminalEvent,
  summarizeJournal,
  type TurnState,
} from "../core/journal/turn_journal.ts";

const encoder = new TextEncoder();

function journal(...lines: (Record<string, unknown> | string)[]): Uint8Array {
  return encoder.encode(
    lines.map((l) => (typeof l === "string" ? l : JSON.stringify(l)))
      .join("\n") + "\n",
  );
}

function turn(
  summary: ReturnType<typeof summarizeJournal>,
  id: string,
): TurnState {
  const state = summary.turns.get(id);
  assert.ok(state, `turn ${id} missing`);
  return state;
}

const ev = (
  event: string,
  turnId: string,
  createdAt: unknown,
  extra: Record<string, unknown> = {},
) => ({
  version: 1,
  event,
  turn_id: turnId,
  session_id: "abc",
  ...(createdAt === undefined ? {} : { created_at: createdAt }),
  ...extra,
});

Deno.test("turn_journal: the latest event is the one with the greatest created_at, not the last line", () => {
  const summary = summarizeJournal(journal(
    ev("submitted", "t1", 100, { content: "hi" }),
    ev("completed", "t1", 300),
    ev("assistant_started", "t1", 200),
    ev("submitted", "t2", 50.5, { content: "second" }),
    ev("worker_started", "t2", 50.25),
  ));
  assert.equal(summary.lines, 5);
  assert.equal(summary.malformedCount, 0);
  const t1 = turn(summary, "t1");
  assert.equal(t1.latest.event, "completed");
  assert.equal(t1.latestLine, 2);
  assert.equal(t1.latestCreatedAt, 300);
  assert.equal(t1.maxCreatedAt, 300);
  assert.equal(t1.terminalEvents, 1);
  assert.deepEqual(t1.terminalLines, [2]);
  assert.ok(isTerminalEvent(t1.latest));
  const t2 = turn(summary, "t2");
  assert.equal(t2.latest.event, "submitted");
  assert.equal(t2.latest.content, "second");
  assert.equal(t2.latestLine, 4);
  assert.equal(t2.terminalEvents, 0);
  assert.ok(!isTerminalEvent(t2.latest));
});

Deno.test("turn_journal: equal created_at goes to the later line", () => {
  const summary = summarizeJournal(journal(
    ev("submitted", "t1", 1778458282.1, { content: "hi" }),
    ev("worker_started", "t1", 1778458282.1),
    ev("assistant_started", "t1", 1778458282.1),
  ));
  const t1 = turn(summary, "t1");
  assert.equal(t1.latest.event, "assistant_started");
  assert.equal(t1.latestLine, 3);
  // And the other way round: an earlier created_at on a later line loses.
  const back = summarizeJournal(journal(
    ev("interrupted", "t1", 10, { reason: "x" }),
    ev("assistant_started", "t1", 9),
  ));
  assert.equal(turn(back, "t1").latest.event, "interrupted");
});

Deno.test("turn_journal: malformed lines are counted with their line numbers and skipped", () => {
  const summary = summarizeJournal(journal(
    "not json",
    ev("submitted", "t1", 1, { content: "hi" }),
    "[1, 2]",
    '"a string"',
    "null",
    "42",
    '{"event": "completed", "turn_id": "t1", "created_at": 2', // cut short
    "",
    ev("worker_started", "t1", 1.5),
  ));
  assert.equal(summary.malformedCount, 6);
  assert.deepEqual(summary.malformedLines, [1, 3, 4, 5, 6, 7]);
  // The blank line is neither malformed nor an event, but it is a line.
  assert.equal(summary.lines, 9);
  const t1 = turn(summary, "t1");
  assert.equal(t1.latest.event, "worker_started");
  assert.equal(t1.latestLine, 9);
  assert.equal(t1.terminalEvents, 0);
});

Deno.test("turn_journal: the malformed count is exact beyond the kept line numbers", () => {
  const lines: string[] = [];
  for (let i = 0; i < 120; i++) lines.push(`garbage ${i}`);
  const summary = summarizeJournal(journal(...lines));
  assert.equal(summary.malformedCount, 120);
  assert.ok(summary.malformedLines.length >= 1);
  assert.ok(summary.malformedLines.length <= 120);
  assert.deepEqual(
    summary.malformedLines,
    Array.from({ length: summary.malformedLines.length }, (_, i) => i + 1),
  );
  assert.equal(summary.turns.size, 0);
});

Deno.test("turn_journal: events without a string turn_id are counted, not turned into turns", () => {
  const summary = summarizeJournal(journal(
    { event: "submitted", created_at: 1, content: "no id" },
    { event: "submitted", turn_id: "", created_at: 1 },
    { event: "submitted", turn_id: 7, created_at: 1 },
    { event: "submitted", turn_id: null, created_at: 1 },
    ev("submitted", "t1", 1, { content: "ok" }),
  ));
  assert.equal(summary.missingTurnIdCount, 4);
  assert.equal(summary.malformedCount, 0);
  assert.deepEqual([...summary.turns.keys()], ["t1"]);
});

Deno.test("turn_journal: created_at is read as the server's float(value or 0), 0 where float() refuses it, and never throws", () => {
  // [value, its sort key, whether the server would write it]
  const cases: [unknown, number, boolean][] = [
    [undefined, 0, false],
    [null, 0, true],
    ["1778458282.1", 1778458282.1, true],
    [" 1_000.5 ", 1000.5, true],
    ["yesterday", 0, false],
    ["", 0, false],
    [true, 1, false],
    [[1], 0, false],
    [{ t: 1 }, 0, false],
  ];
  for (const [value, key, readable] of cases) {
    const summary = summarizeJournal(journal(
      ev("submitted", "t1", 5, { content: "hi" }),
      ev("completed", "t1", value),
    ));
    const t1 = turn(summary, "t1");
    const shown = JSON.stringify(value);
    assert.equal(
      t1.latest.event,
      key >= 5 ? "completed" : "submitted",
      `created_at ${shown} sorts as ${key}`,
    );
    assert.equal(summary.badCreatedAtCount, readable ? 0 : 1, shown);
    assert.equal(t1.maxCreatedAt, Math.max(5, key));
    // Still a terminal event of the turn.
    assert.equal(t1.terminalEvents, 1);
  }
  // A bad created_at sorts as 0: after a negative one.
  const first = summarizeJournal(journal(
    ev("completed", "t1", "nope"),
    ev("submitted", "t1", -5, { content: "hi" }),
  ));
  assert.equal(turn(first, "t1").latest.event, "completed");
  // Only bad ones: all sort as 0, and the later line wins.
  const only = summarizeJournal(journal(
    ev("submitted", "t1", undefined, { content: "hi" }),
    ev("worker_started", "t1", "x"),
  ));
  const t1 = turn(only, "t1");
  assert.equal(t1.latest.event, "worker_started");
  assert.equal(t1.latestCreatedAt, 0);
  assert.equal(t1.maxCreatedAt, 0);
  assert.equal(only.badCreatedAtCount, 2);
});

Deno.test("turn_journal: huge and negative numbers are numbers", () => {
  const summary = summarizeJournal(encoder.encode(
    '{"event":"submitted","turn_id":"t1","created_at":-1e308}\n' +
      '{"event":"completed","turn_id":"t1","created_at":1e308}\n',
  ));
  assert.equal(turn(summary, "t1").latest.event, "completed");
  assert.equal(turn(summary, "t1").maxCreatedAt, 1e308);
  assert.equal(summary.badCreatedAtCount, 0);
});

Deno.test("turn_journal: two terminal events are a collision, with their lines", () => {
  const summary = summarizeJournal(journal(
    ev("submitted", "t1", 1, { content: "hi" }),
    ev("completed", "t1", 2),
    ev("submitted", "t2", 1, { content: "other" }),
    ev("interrupted", "t1", 3, { reason: "server_restart" }),
  ));
  const t1 = turn(summary, "t1");
  assert.equal(t1.terminalEvents, 2);
  assert.deepEqual(t1.terminalLines, [2, 4]);
  assert.equal(t1.latest.event, "interrupted");
  assert.equal(turn(summary, "t2").terminalEvents, 0);
  // A terminal event as the very first event of a turn counts too.
  const lone = summarizeJournal(journal(
    ev("completed", "t3", 1),
    ev("completed", "t3", 1),
  ));
  assert.equal(turn(lone, "t3").terminalEvents, 2);
  assert.deepEqual(turn(lone, "t3").terminalLines, [1, 2]);
});

Deno.test("turn_journal: a final line without newline is read and flagged", () => {
  const text = JSON.stringify(ev("submitted", "t1", 1, { content: "hi" })) +
    "\n" + JSON.stringify(ev("worker_started", "t1", 2));
  const summary = summarizeJournal(encoder.encode(text));
  assert.equal(summary.endsWithoutNewline, true);
  assert.equal(summary.lines, 2);
  assert.equal(turn(summary, "t1").latest.event, "worker_started");
  assert.equal(summary.malformedCount, 0);

  const withNewline = summarizeJournal(encoder.encode(text + "\n"));
  assert.equal(withNewline.endsWithoutNewline, false);
  assert.equal(withNewline.lines, 2);

  // A cut-short final line is malformed, and the rest still counts.
  const cut = summarizeJournal(encoder.encode(
    JSON.stringify(ev("submitted", "t1", 1, { content: "hi" })) +
      '\n{"event": "comp',
  ));
  assert.equal(cut.endsWithoutNewline, true);
  assert.deepEqual(cut.malformedLines, [2]);
  assert.equal(turn(cut, "t1").latest.event, "submitted");

  const empty = summarizeJournal(new Uint8Array());
  assert.equal(empty.lines, 0);
  assert.equal(empty.endsWithoutNewline, false);
  assert.equal(empty.turns.size, 0);
});

Deno.test("turn_journal: invalid UTF-8 in one line spoils only that line", () => {
  const bytes = concatBytes(
    JSON.stringify(ev("submitted", "t1", 1, { content: "héllo" })) + "\n",
    '{"event": "completed", "turn_id": "t1", "created_at": 5, "content": "',
    [0xff, 0xfe],
    '"}\n',
    JSON.stringify(ev("worker_started", "t1", 2)) + "\n",
    JSON.stringify(ev("submitted", "t2", 3, { content: "😀" })) + "\n",
  );
  const summary = summarizeJournal(bytes);
  assert.equal(summary.lines, 4);
  assert.deepEqual(summary.malformedLines, [2]);
  const t1 = turn(summary, "t1");
  // The spoiled terminal event does not count.
  assert.equal(t1.latest.event, "worker_started");
  assert.equal(t1.terminalEvents, 0);
  assert.equal(turn(summary, "t2").latest.content, "😀");
});

Deno.test("turn_journal: CRLF line endings are read like LF", () => {
  const lines = [
    ev("submitted", "t1", 1, { content: "hi" }),
    ev("worker_started", "t1", 2),
    ev("submitted", "t2", 3, { content: "x" }),
    ev("completed", "t2", 4),
  ].map((e) => JSON.stringify(e));
  const summary = summarizeJournal(encoder.encode(lines.join("\r\n") + "\r\n"));
  assert.equal(summary.malformedCount, 0);
  assert.equal(summary.lines, 4);
  assert.equal(summary.endsWithoutNewline, false);
  assert.equal(turn(summary, "t1").latest.event, "worker_started");
  assert.equal(turn(summary, "t1").latest.turn_id, "t1");
  assert.equal(turn(summary, "t2").terminalEvents, 1);
  // A lone "\r" line is blank, not malformed.
  const blank = summarizeJournal(encoder.encode(lines[0] + "\r\n\r\n"));
  assert.equal(blank.malformedCount, 0);
});

Deno.test("turn_journal: files read in order into one map merge as the server merges shards (ties go to the later file)", () => {
  const turns = new Map<string, TurnState>();
  // Shard 0: t1 submitted at 10, t2 ended at 30; shard 1 (read later):
  // t1 ended at 10 (a tie: the later file wins), t2 submitted at 20.
  summarizeJournal(
    journal(
      ev("submitted", "t1", 10, { content: "a" }),
      ev("completed", "t2", 30),
    ),
    { file: 0, turns },
  );
  const second = summarizeJournal(
    journal(
      "torn",
      ev("interrupted", "t1", 10),
      ev("submitted", "t2", 20, { content: "b" }),
    ),
    { file: 1, turns },
  );
  const t1 = turns.get("t1")!;
  assert.equal(t1.latest.event, "interrupted");
  assert.deepEqual([t1.latestFile, t1.latestLine], [1, 2]);
  const t2 = turns.get("t2")!;
  assert.equal(t2.latest.event, "completed");
  assert.deepEqual([t2.latestFile, t2.latestLine], [0, 2]);
  assert.equal(second.turnCount, 2);
  assert.deepEqual(second.malformedLines, [1], "lines are per file");
});

Deno.test("turn_journal: the terminal flag does not decide; the event name does, as in the server's is_terminal_turn_event", () => {
  assert.equal(isTerminalEvent({ event: "completed", terminal: false }), true);
  assert.equal(
    isTerminalEvent({ event: "worker_started", terminal: true }),
    false,
  );
  const summary = summarizeJournal(journal(
    ev("submitted", "t1", 1, { content: "hi" }),
    ev("assistant_started", "t1", 2, { terminal: true }),
  ));
  assert.equal(turn(summary, "t1").terminalEvents, 0);
});

Deno.test("turn_journal: lines are cut where Python's splitlines() cuts them", () => {
  // json.dumps(ensure_ascii=False) leaves U+2028 raw in a string: the
  // server reads that event as two malformed lines.
  const summary = summarizeJournal(encoder.encode(
    '{"event":"submitted","turn_id":"t1","content":"a\u2028b"}\n' +
      '{"event":"submitted","turn_id":"t2","content":"c"}\r\n' +
      "   \n",
  ));
  assert.deepEqual(summary.malformedLines, [1, 2]);
  assert.deepEqual([...summary.turns.keys()], ["t2"]);
  assert.equal(turn(summary, "t2").latestLine, 3);
  assert.equal(summary.lines, 4);
});
