/**
 * state.db ahead of a dead turn whose run journal holds text state.db
 * lacks, with fixtures only (no python): `repair --server-stopped` does the
 * server's state.db heal itself and keeps the journal's text, once; without
 * --server-stopped it is info with a hint and nothing is written; a
 * transcript whose merge is not proved here stays info; `undo` puts every
 * byte back. The server-code oracle of the same case is
 * tests/state_db_heal_recovery_upstream_test.ts.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { makeSidecar, runCli, storeArgs, type TestStore } from "./fixtures.ts";
import { withStore } from "./check_support.ts";
import { runEvent } from "./run_journal_support.ts";

const SID = "s1";
const STREAM = "run0statedb002";
const PROMPT = "List the files, then count the lines.";
const STARTED = Math.round(Date.now() / 1000 - 3600) + 0.25;
const PARTIAL = "Two logs. Counting lines now.";

type Row = Record<string, unknown>;

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

async function crash(store: TestStore, fields: Row = {}): Promise<void> {
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

async function cli(store: TestStore, command: string, ...more: string[]) {
  const result = await runCli([
    command,
    ...storeArgs(store),
    "--format",
    "json",
    ...more,
  ]);
  const report = JSON.parse(result.stdout);
  return {
    code: result.code,
    report,
    drift: (report.findings as Row[]).filter((f) =>
      f.check === "state-db-sidecar-drift"
    ),
    raw: result.stdout + result.stderr,
  };
}

/** Every file of the session dir but hermes-fsck's own records. */
async function tree(dir: string, prefix = ""): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for await (const entry of Deno.readDir(join(dir, prefix))) {
    const name = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (name === "_hermes_fsck") continue;
    if (entry.isDirectory) Object.assign(out, await tree(dir, name));
    else out[name] = await Deno.readTextFile(join(dir, name));
  }
  return out;
}

Deno.test("state.db ahead, journal text it lacks: without --server-stopped it is info with a hint, and repair writes nothing", async () => {
  await withStore(async (store) => {
    await crash(store);
    const before = await tree(store.sessionDir);
    const repaired = await cli(store, "repair");
    assert.deepEqual(
      repaired.drift.map((f) => [f.kind, f.category]),
      [["sidecar_behind_state_db_self_heals", "info"]],
      repaired.raw,
    );
    const message = String(repaired.drift[0].message);
    assert.match(message, /drops the turn's partial output: 9 journaled/);
    assert.match(message, /hermes-fsck repair --server-stopped/);
    assert.deepEqual(await tree(store.sessionDir), before);
  });
});

Deno.test("state.db ahead, journal text it lacks: repair --server-stopped heals from state.db and keeps the text once; undo puts every byte back", async () => {
  await withStore(async (store) => {
    await crash(store);
    const before = await tree(store.sessionDir);
    const audited = await cli(store, "audit", "--server-stopped");
    assert.deepEqual(
      audited.drift.map((f) => [f.kind, f.category]),
      [["state_db_heal_drops_run_output", "repairable"]],
      audited.raw,
    );
    assert.deepEqual(await tree(store.sessionDir), before);
    const repaired = await cli(store, "repair", "--server-stopped");
    assert.equal(repaired.code, 1, repaired.raw);
    assert.deepEqual(repaired.drift, [], repaired.raw);
    const after = await store.readJson(`${SID}.json`) as Row & {
      messages: Row[];
      context_messages: Row[];
    };
    // The server names a tool row after its tool_name.
    const healed = [
      ...EARLIER,
      ...STATE_ROWS.slice(2, 4),
      { ...STATE_ROWS[4], name: "terminal" },
    ];
    const partial = {
      role: "assistant",
      content: PARTIAL,
      _recovered_from_run_journal: true,
      _recovered_stream_id: STREAM,
    };
    assert.deepEqual(after.messages.slice(0, 5), healed);
    const [text, marker, ...rest] = after.messages.slice(5);
    assert.deepEqual(rest, []);
    assert.deepEqual({ ...text, timestamp: 0 }, { ...partial, timestamp: 0 });
    assert.equal(marker.type, "interrupted");
    assert.equal(marker._error, true);
    assert.match(String(marker.content), /^\*\*Response interrupted\.\*\*/);
    assert.deepEqual(
      after.context_messages.map((m) => m.content),
      [...healed.map((m) => m.content), PARTIAL],
    );
    assert.equal(after.active_stream_id, null);
    assert.equal(after.pending_user_message, null);
    assert.equal(after.message_count, 7);
    const again = await cli(store, "audit", "--server-stopped");
    assert.deepEqual(again.drift, [], again.raw);

    const undone = await runCli([
      "undo",
      repaired.report.repair.runId,
      "--session-dir",
      store.sessionDir,
    ]);
    assert.ok(undone.code < 4, undone.stdout + undone.stderr);
    assert.deepEqual(await tree(store.sessionDir), before);
  });
});

Deno.test("state.db ahead, journal text it lacks, a merge not proved here (message ids): info naming why, nothing written", async () => {
  await withStore(async (store) => {
    await crash(store, {
      messages: EARLIER.map((m, i) => ({ ...m, id: `m${i}` })),
    });
    const before = await tree(store.sessionDir);
    const repaired = await cli(store, "repair", "--server-stopped");
    assert.deepEqual(
      repaired.drift.map((f) => f.kind),
      ["sidecar_behind_state_db_self_heals"],
      repaired.raw,
    );
    assert.match(
      String(repaired.drift[0].message),
      /cannot rebuild the server's heal of it: a sidecar message carries a message id/,
    );
    assert.equal(
      (await tree(store.sessionDir))[`${SID}.json`],
      before[`${SID}.json`],
    );
  });
});
