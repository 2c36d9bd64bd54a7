/**
 * A pending turn only the turn journal holds (across pid shards) is
 * recovered as today's server closes a dead stream (issue 21): the prompt
 * as a `_recovered` row at int() of its time, in `messages` and
 * `context_messages`, the output its run journaled, today's `interrupted`
 * marker with `process_restart`; a sidecar only the seed-era server wrote
 * gets that server's marker. The closing event is appended to the journal
 * in place (the file's old bytes stay its prefix), never rewritten.
 */

import assert from "node:assert/strict";
import { makeSidecar, type TestStore } from "./fixtures.ts";
import { repair, withStore } from "./check_support.ts";
import {
  G0_MARKER_TEXT,
  interruptedText,
} from "../core/journal/interrupted_marker.ts";

type Row = Record<string, unknown>;

const PROMPT = "This prompt only the journal has.";

function lines(events: Row[]): string {
  return events.map((e) => JSON.stringify(e) + "\n").join("");
}

/** The earlier turn in one pid's shard, the lost submit in another's. */
function shards(stream: string): [string, string][] {
  return [
    [
      "_turn_journal/s1~101.jsonl",
      lines([
        {
          version: 1,
          event: "submitted",
          turn_id: "t0",
          session_id: "s1",
          created_at: 10,
          role: "user",
          content: "Earlier question",
        },
        {
          version: 1,
          event: "completed",
          turn_id: "t0",
          session_id: "s1",
          created_at: 11,
          terminal: true,
        },
      ]),
    ],
    [
      "_turn_journal/s1~202.jsonl",
      lines([
        {
          version: 1,
          event: "submitted",
          turn_id: "t1",
          session_id: "s1",
          stream_id: stream,
          created_at: 1778458282.75,
          role: "user",
          content: PROMPT,
        },
      ]),
    ],
  ];
}

const EARLIER = [
  { role: "user", content: "Earlier question", timestamp: 10 },
  { role: "assistant", content: "Earlier answer.", timestamp: 11 },
];

/** `s1.json` as a server after the seed's writes it (`read_only`). */
async function todaysSidecar(store: TestStore, fields: Row): Promise<void> {
  await store.writeRaw(
    "s1.json",
    JSON.stringify(
      makeSidecar("s1", { messages: EARLIER, read_only: false, ...fields }),
      null,
      2,
    ),
  );
}

Deno.test("pending turn across shards, today's sidecar: prompt in messages and context, the run's journaled text, today's marker; the shard gains one line", async () => {
  await withStore(async (store) => {
    await todaysSidecar(store, { message_count: 2, context_messages: [] });
    for (const [name, text] of shards("run1")) await store.writeRaw(name, text);
    await Deno.mkdir(store.path("_run_journal/s1"), { recursive: true });
    await store.writeRaw(
      "_run_journal/s1/run1.jsonl",
      JSON.stringify({
        version: 1,
        event_id: "run1:1",
        seq: 1,
        run_id: "run1",
        session_id: "s1",
        event: "token",
        type: "token",
        created_at: 1778458283.5,
        terminal: false,
        terminal_state: null,
        payload: { text: "Half an answer" },
      }) + "\n",
    );
    const names = shards("run1").map(([name]) => name);
    const before = await Promise.all(
      names.map((name) => Deno.readFile(store.path(name))),
    );
    const report = await repair(store, { serverStopped: true });
    assert.equal(report.exitCode, 1, JSON.stringify(report.repair!.actions));
    const doc = await store.readJson("s1.json") as Row & {
      messages: Row[];
      context_messages: Row[];
    };
    const prompt = {
      role: "user",
      content: PROMPT,
      timestamp: 1778458282,
      _recovered: true,
    };
    assert.deepEqual(doc.messages.slice(2, 4), [prompt, {
      role: "assistant",
      content: "Half an answer",
      timestamp: 1778458283,
      _recovered_from_run_journal: true,
      _recovered_stream_id: "run1",
    }]);
    const marker = doc.messages[4];
    assert.equal(marker.type, "interrupted");
    assert.equal(marker.interruption_cause, "process_restart");
    assert.equal(
      marker.content,
      interruptedText("process_restart", "recovered"),
    );
    assert.equal(doc.messages.length, 5);
    assert.equal(doc.message_count, 5);
    // An empty context is filled from the visible messages first.
    assert.deepEqual(doc.context_messages.map((m) => m.content), [
      "Earlier question",
      "Earlier answer.",
      PROMPT,
      "Half an answer",
    ]);
    // Appended in place to the shard the server reads last: every old
    // byte stays, one closing line is added in all.
    const added: Row[] = [];
    for (const [i, name] of names.entries()) {
      const after = await Deno.readFile(store.path(name));
      assert.deepEqual(after.subarray(0, before[i].length), before[i], name);
      const tail = new TextDecoder().decode(after.subarray(before[i].length));
      for (const line of tail.split("\n").filter(Boolean)) {
        added.push(JSON.parse(line));
      }
    }
    assert.deepEqual(added.map((e) => [e.event, e.turn_id, e.terminal]), [[
      "interrupted",
      "t1",
      true,
    ]]);
  });
});

Deno.test("pending turn, a sidecar only the seed-era server wrote: the seed's marker, no context change", async () => {
  await withStore(async (store) => {
    await store.sidecar("s1", { messages: EARLIER });
    for (const [name, text] of shards("run1")) await store.writeRaw(name, text);
    const report = await repair(store, { serverStopped: true });
    assert.equal(report.exitCode, 1, JSON.stringify(report.repair!.actions));
    const doc = await store.readJson("s1.json") as Row & { messages: Row[] };
    assert.deepEqual(doc.messages.slice(2).map((m) => m.content), [
      PROMPT,
      G0_MARKER_TEXT,
    ]);
    assert.equal(doc.messages[3]._error, true);
    assert.ok(!("context_messages" in doc));
  });
});

Deno.test("pending turn the sidecar still streams: closed once, by the stale-stream repair (one prompt, one marker)", async () => {
  await withStore(async (store) => {
    await todaysSidecar(store, {
      active_stream_id: "run1",
      pending_user_message: PROMPT,
      pending_started_at: 1778458282.75,
    });
    for (const [name, text] of shards("run1")) await store.writeRaw(name, text);
    const report = await repair(store, { serverStopped: true });
    assert.equal(report.exitCode, 1, JSON.stringify(report.repair!.actions));
    const doc = await store.readJson("s1.json") as Row & { messages: Row[] };
    assert.deepEqual(doc.messages.slice(2).map((m) => [m.role, m.type]), [
      ["user", undefined],
      ["assistant", "interrupted"],
    ]);
    assert.equal(doc.messages[2].content, PROMPT);
    assert.equal(doc.messages[3]._journal_retry_stream_id, "run1");
    assert.deepEqual(report.findings, []);
  });
});
