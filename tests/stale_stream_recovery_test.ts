/**
 * A stale stream closed as today's server closes it (issue 21), with
 * fixtures only (no python): the guards, the `interrupted` marker with its
 * cause and the lazy-retry keys, the recovered prompt in
 * `context_messages`, the run journal's output (text, reasoning kept out
 * of the context, tool cards), a completed run closed without a marker,
 * the run's gateway error, ownership, and what hermes-fsck will not read
 * (a symlinked run-journal dir) left for the server; undo puts every byte
 * back. The server-code oracle of the same cases is
 * tests/run_crash_support_test.ts.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { makeSidecar, runCli, storeArgs, type TestStore } from "./fixtures.ts";
import {
  audit,
  kindsOf,
  ofKind,
  repair,
  text,
  withStore,
} from "./check_support.ts";
import { interruptedText } from "../core/journal/interrupted_marker.ts";

const PROMPT = "Explain the plan, step by step.";
const STREAM = "run0mid0text01";
const HOUR_AGO = Math.round(Date.now() / 1000 - 3600) + 0.25;

type Row = Record<string, unknown>;

/** A sidecar as today's server saves it mid-turn (keys newer than G0). */
async function headSidecar(
  store: TestStore,
  id: string,
  fields: Record<string, unknown> = {},
): Promise<string> {
  const messages = [
    { role: "user", content: "Earlier question", timestamp: 1778450000 },
    { role: "assistant", content: "Earlier answer.", timestamp: 1778450010 },
  ];
  const doc = makeSidecar(id, {
    messages,
    active_stream_id: STREAM,
    pending_user_message: PROMPT,
    pending_attachments: [],
    pending_started_at: HOUR_AGO,
    pre_compression_snapshot: false,
    read_only: false,
    message_count: 2,
    pending_user_source: null,
    context_messages: messages,
    ...fields,
  });
  const raw = JSON.stringify(doc, null, 2).replace(
    '"title": "Session ' + id + '"',
    '"title": "Caf\\u00e9 ' + id + '"',
  );
  await store.writeRaw(`${id}.json`, raw);
  return raw;
}

/** One run-journal line as the server's `append_run_event` writes it. */
function runEvent(
  sid: string,
  run: string,
  seq: number,
  event: string,
  payload: Row = {},
  terminalState: string | null = null,
): string {
  return JSON.stringify({
    version: 1,
    event_id: `${run}:${seq}`,
    seq,
    run_id: run,
    session_id: sid,
    event,
    type: event,
    created_at: HOUR_AGO + seq,
    terminal: terminalState !== null,
    terminal_state: terminalState,
    payload,
  }) + "\n";
}

/** Writes `_run_journal/<sid>/<run>.jsonl` from (event, payload, state) rows. */
async function runJournal(
  store: TestStore,
  sid: string,
  run: string,
  events: [string, Row?, (string | null)?][],
): Promise<string> {
  const lines = events.map(([event, payload, state], i) =>
    runEvent(sid, run, i + 1, event, payload ?? {}, state ?? null)
  ).join("");
  const name = `_run_journal/${sid}/${run}.jsonl`;
  await Deno.mkdir(store.path(`_run_journal/${sid}`), { recursive: true });
  await store.writeRaw(name, lines);
  return name;
}

function tokens(text: string, size = 7): [string, Row][] {
  const out: [string, Row][] = [];
  for (let i = 0; i < text.length; i += size) {
    out.push(["token", { text: text.slice(i, i + size) }]);
  }
  return out;
}

async function doc(
  store: TestStore,
  id: string,
): Promise<
  Row & { messages: Row[]; context_messages: Row[]; tool_calls: Row[] }
> {
  return await store.readJson(`${id}.json`) as Row & {
    messages: Row[];
    context_messages: Row[];
    tool_calls: Row[];
  };
}

const PROCESS_RESTART = "Evidence: the WebUI process started after this " +
  "turn began, so this looks like a real process crash or restart.";

Deno.test("stale stream (today's sidecar, no run journal): prompt in messages and context, marker armed for the server's retry, bytes kept", async () => {
  await withStore(async (store) => {
    const raw = await headSidecar(store, "s1", { truncation_watermark: 5.5 });
    const report = await repair(store, { serverStopped: true });
    assert.equal(report.exitCode, 1, JSON.stringify(report.repair!.actions));
    const after = await doc(store, "s1");
    const prompt = {
      role: "user",
      content: PROMPT,
      timestamp: Math.trunc(HOUR_AGO),
      _recovered: true,
    };
    assert.deepEqual(after.messages[2], prompt);
    const marker = after.messages[3];
    assert.equal(after.messages.length, 4);
    assert.equal(marker.role, "assistant");
    assert.equal(marker._error, true);
    assert.equal(marker.type, "interrupted");
    assert.equal(marker.interruption_cause, "process_restart");
    assert.equal(
      marker.content,
      "**Response interrupted.**\n\nThe live response stream stopped " +
        `before this turn finished. ${PROCESS_RESTART} Recovering the ` +
        "partial output from the run journal \u2014 reload this session to retry.",
    );
    assert.equal(marker._pending_journal_recovery, true);
    assert.equal(marker._journal_retry_stream_id, STREAM);
    assert.equal(marker._journal_retry_attempts, 0);
    assert.equal(marker._journal_retry_first_seen_ts, marker.timestamp);
    // The model's next turn sees the prompt, never the marker.
    assert.deepEqual(after.context_messages.at(-1), prompt);
    assert.equal(after.context_messages.length, 3);
    assert.equal(after.message_count, 4);
    assert.equal(after.truncation_watermark, Math.trunc(HOUR_AGO));
    for (
      const key of [
        "active_stream_id",
        "pending_user_message",
        "pending_started_at",
        "pending_user_source",
      ]
    ) assert.equal(after[key], null, key);
    assert.deepEqual(after.pending_attachments, []);
    const written = await text(store, "s1.json");
    assert.ok(written.includes('"title": "Caf\\u00e9 s1"'), "bytes kept");
    assert.equal(
      written.slice(0, raw.indexOf('"updated_at"')),
      raw.slice(0, raw.indexOf('"updated_at"')),
    );
    const again = await audit(store, { serverStopped: true });
    assert.deepEqual(again.findings, []);
  });
});

Deno.test("stale stream with a run journal: partial text and reasoning recovered (reasoning kept out of the context), tool cards, the recovered-output marker", async () => {
  await withStore(async (store) => {
    await headSidecar(store, "s1");
    const ls = { command: "ls -la /srv" };
    await runJournal(store, "s1", STREAM, [
      ["reasoning", { text: "The user wants a plan." }],
      ...tokens("Listing the files first."),
      ["tool", { name: "terminal", preview: "ls -la /srv", args: ls }],
      ["tool_complete", {
        name: "terminal",
        preview: "a.log b.log",
        duration: 0.4,
        is_error: false,
      }],
      ...tokens("Two logs."),
      ["metering", { tps: 3 }],
      ["tool", {
        name: "terminal",
        preview: "wc -l",
        args: { command: "wc -l" },
      }],
    ]);
    const report = await repair(store, { serverStopped: true });
    assert.equal(report.exitCode, 1, JSON.stringify(report.repair!.actions));
    const after = await doc(store, "s1");
    const rows = after.messages.slice(2);
    assert.deepEqual(rows.map((m) => m.content).slice(0, 3), [
      PROMPT,
      "Listing the files first.",
      "Two logs.",
    ]);
    assert.equal(rows[1].reasoning, "The user wants a plan.");
    assert.equal(rows[1]._recovered_from_run_journal, true);
    assert.equal(rows[1]._recovered_stream_id, STREAM);
    assert.equal(rows[1].timestamp, Math.trunc(HOUR_AGO + 1));
    assert.equal(
      rows[3].content,
      interruptedText("process_restart", "recovered"),
    );
    assert.equal(rows[3]._pending_journal_recovery, undefined);
    assert.deepEqual(
      after.tool_calls.map((t) => [
        t.name,
        t.preview,
        t.snippet,
        t.done,
        t.assistant_msg_idx,
        t.tid,
        t.is_error,
        t.duration,
      ]),
      [
        [
          "terminal",
          "a.log b.log",
          "a.log b.log",
          true,
          3,
          "journal-6",
          false,
          0.4,
        ],
        [
          "terminal",
          "wc -l",
          "wc -l",
          false,
          4,
          "journal-11",
          undefined,
          undefined,
        ],
      ],
    );
    assert.deepEqual(after.tool_calls[0].args, { command: "ls -la /srv" });
    // Context: the earlier turn, the prompt, the text, no reasoning, no marker.
    assert.deepEqual(after.context_messages.slice(2).map((m) => m.content), [
      PROMPT,
      "Listing the files first.",
      "Two logs.",
    ]);
    assert.ok(after.context_messages.every((m) => !("reasoning" in m)));
  });
});

Deno.test("stale stream whose run completed: closed without a marker, the prompt and the output recovered once", async () => {
  await withStore(async (store) => {
    await headSidecar(store, "s1");
    await runJournal(store, "s1", STREAM, [
      ...tokens("6 times 7 is 42."),
      ["done", { usage: {} }, "completed"],
      ["stream_end", { session_id: "s1" }, "completed"],
    ]);
    const report = await repair(store, { serverStopped: true });
    assert.equal(report.exitCode, 1, JSON.stringify(report.repair!.actions));
    const after = await doc(store, "s1");
    assert.deepEqual(after.messages.slice(2).map((m) => [m.role, m.content]), [
      ["user", PROMPT],
      ["assistant", "6 times 7 is 42."],
    ]);
    assert.ok(after.messages.every((m) => m.type !== "interrupted"));
    assert.equal(after.active_stream_id, null);
  });
});

Deno.test("stale stream: another run's completion at the stream's path is not this run's (ownership); a gateway error of the run replaces the marker", async () => {
  await withStore(async (store) => {
    await headSidecar(store, "foreign");
    const lines = [
      ...tokens("Disk usage is 40 percent."),
      ["done", {}, "completed"] as [string, Row, string],
    ].map(([event, payload, state], i) =>
      runEvent("foreign", "other-run", i + 1, event, payload, state ?? null)
    ).join("");
    await Deno.mkdir(store.path("_run_journal/foreign"), { recursive: true });
    await store.writeRaw(`_run_journal/foreign/${STREAM}.jsonl`, lines);

    await headSidecar(store, "gateway");
    const error = {
      role: "assistant",
      content: "**Rate limited:** try again in a minute.",
      timestamp: 1778450100,
      _error: true,
    };
    await runJournal(store, "gateway", STREAM, [
      ...tokens("Reading"),
      ["apperror", {
        type: "rate_limit",
        session_id: "gateway",
        session: {
          session_id: "gateway",
          messages: [{ role: "user", content: PROMPT }, error],
        },
        terminal_session_persisted: false,
      }, "errored"],
    ]);
    const report = await repair(store, { serverStopped: true });
    assert.equal(report.exitCode, 1, JSON.stringify(report.repair!.actions));

    const foreign = await doc(store, "foreign");
    const marker = foreign.messages.at(-1)!;
    assert.equal(marker.type, "interrupted", "not closed as completed");
    assert.equal(foreign.messages.at(-2)!.content, "Disk usage is 40 percent.");

    const gateway = await doc(store, "gateway");
    const rows = gateway.messages.slice(2);
    assert.deepEqual(rows.map((m) => m.content), [
      PROMPT,
      "Reading",
      error.content,
    ]);
    assert.equal(rows[2]._recovered_event_id, `${STREAM}:2`);
    assert.equal(rows[2]._recovered_from_run_journal, true);
    assert.ok(rows.every((m) => m.type !== "interrupted"));
  });
});

Deno.test("stale stream guards: a pre-compression snapshot and a parent a child names are info, left alone even with --server-stopped (exit 0)", async () => {
  await withStore(async (store) => {
    const snapshot = await headSidecar(store, "snap", {
      pre_compression_snapshot: true,
    });
    const parent = await headSidecar(store, "parent");
    // Its run journal holds output: still the continuation's, left alone.
    await runJournal(store, "parent", STREAM, tokens("Working on it"));
    await store.writeRaw(
      "child.json",
      JSON.stringify(
        makeSidecar("child", { parent_session_id: "parent", messages: 2 }),
        null,
        2,
      ),
    );
    const indexed = await headSidecar(store, "indexed");
    // A child whose parent_session_id lies past the 4096 characters the
    // server reads of a sidecar: only its index row names the parent.
    await store.writeRaw(
      "kid.json",
      JSON.stringify(
        makeSidecar("kid", {
          title: "x".repeat(5000),
          parent_session_id: "indexed",
        }),
        null,
        2,
      ),
    );
    await store.writeRaw(
      "_index.json",
      JSON.stringify([{ session_id: "kid", parent_session_id: "indexed" }]),
    );
    const report = await repair(store, { serverStopped: true });
    const guarded = ofKind(report, "stream_state_compression_parent");
    assert.deepEqual(
      guarded.map((f) => [f.sessionId, f.evidence.reason]).sort(),
      [
        ["indexed", "continuation"],
        ["parent", "continuation"],
        ["snap", "pre_compression_snapshot"],
      ],
    );
    assert.ok(guarded.every((f) => f.category === "info"));
    assert.deepEqual(
      report.findings.filter((f) => f.sessionId === "parent").map((f) =>
        f.kind
      ),
      ["stream_state_compression_parent"],
    );
    assert.equal(await text(store, "snap.json"), snapshot);
    assert.equal(await text(store, "parent.json"), parent);
    assert.equal(await text(store, "indexed.json"), indexed);
    assert.ok(report.exitCode < 4, kindsOf(report).join());
  });
});

Deno.test("stale stream: a pending prompt of another source keeps it (_source), attachments go with it", async () => {
  await withStore(async (store) => {
    const attachments = [{ name: "a.png", path: "/tmp/a.png" }];
    await headSidecar(store, "s1", {
      pending_user_source: "telegram",
      pending_attachments: attachments,
    });
    const report = await repair(store, { serverStopped: true });
    assert.equal(report.exitCode, 1);
    const after = await doc(store, "s1");
    assert.deepEqual(after.messages[2], {
      role: "user",
      content: PROMPT,
      timestamp: Math.trunc(HOUR_AGO),
      _recovered: true,
      _source: "telegram",
      attachments,
    });
  });
});

Deno.test("stale stream: a run journal dir that is a symlink is never followed; the stream stays for the server (exit 4, sidecar unchanged)", async () => {
  await withStore(async (store) => {
    const raw = await headSidecar(store, "s1");
    const elsewhere = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(
        join(elsewhere, `${STREAM}.jsonl`),
        runEvent("s1", STREAM, 1, "token", { text: "secret from elsewhere" }),
      );
      await Deno.mkdir(store.path("_run_journal"), { recursive: true });
      await Deno.symlink(elsewhere, store.path("_run_journal/s1"));
      const report = await repair(store, { serverStopped: true });
      const record = report.repair!.actions.find((r) =>
        r.repair === "recover_stale_stream"
      );
      assert.equal(record?.status, "skipped");
      assert.match(record?.detail ?? "", /symbolic link.*does not follow/);
      assert.equal(await text(store, "s1.json"), raw);
      assert.ok(!(await text(store, "s1.json")).includes("secret"));
      assert.equal(report.exitCode & 4, 4);
    } finally {
      await Deno.remove(elsewhere, { recursive: true });
    }
  });
});

Deno.test("stale stream: a run journal that is not UTF-8 is nothing to the server, so the marker is armed, the stream named", async () => {
  await withStore(async (store) => {
    await headSidecar(store, "s1");
    await Deno.mkdir(store.path("_run_journal/s1"), { recursive: true });
    const line = new TextEncoder().encode(
      runEvent("s1", STREAM, 1, "token", { text: "Hello" }),
    );
    await store.writeRaw(
      `_run_journal/s1/${STREAM}.jsonl`,
      new Uint8Array([...line, 0xff, 0x0a]),
    );
    const report = await repair(store, { serverStopped: true });
    assert.equal(report.exitCode, 1);
    const marker = (await doc(store, "s1")).messages.at(-1)!;
    assert.equal(marker._pending_journal_recovery, true);
    assert.equal(marker._journal_retry_stream_id, STREAM);
  });
});

Deno.test("stale stream: a torn last line of the run journal is skipped, the text before it recovered", async () => {
  await withStore(async (store) => {
    await headSidecar(store, "s1");
    const name = await runJournal(
      store,
      "s1",
      STREAM,
      tokens("Autumn wind rises"),
    );
    const bytes = await Deno.readFile(store.path(name));
    await store.writeRaw(name, bytes.subarray(0, bytes.length - 20));
    const report = await repair(store, { serverStopped: true });
    assert.equal(report.exitCode, 1);
    const rows = (await doc(store, "s1")).messages.slice(2);
    assert.equal(rows[1].content, "Autumn wind ri");
    assert.equal(
      rows[2].content,
      interruptedText("process_restart", "recovered"),
    );
  });
});

Deno.test("stale stream CLI: undo of the repair puts every byte of the store back", async () => {
  await withStore(async (store) => {
    await headSidecar(store, "s1");
    await runJournal(store, "s1", STREAM, [
      ["reasoning", { text: "Thinking." }],
      ...tokens("Partial answer"),
      ["tool", { name: "terminal", preview: "ls" }],
    ]);
    const before = await tree(store.sessionDir);
    const repaired = await runCli([
      "repair",
      "--server-stopped",
      ...storeArgs(store, false),
      "--format",
      "json",
    ]);
    assert.equal(repaired.code, 1, repaired.stderr);
    const runId = JSON.parse(repaired.stdout).repair.runId;
    assert.notDeepEqual(await tree(store.sessionDir), before);
    const undone = await runCli([
      "undo",
      runId,
      "--session-dir",
      store.sessionDir,
    ]);
    assert.ok(undone.code < 4, undone.stdout + undone.stderr);
    assert.deepEqual(await tree(store.sessionDir), before);
  });
});

/** Every file of a store but hermes-fsck's own records, with its bytes. */
async function tree(dir: string, prefix = ""): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for await (const entry of Deno.readDir(join(dir, prefix))) {
    const name = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (name === "_hermes_fsck") continue;
    if (entry.isDirectory) Object.assign(out, await tree(dir, name));
    else out[name] = await Deno.readTextFile(join(dir, name)).catch(() => "?");
  }
  return out;
}
