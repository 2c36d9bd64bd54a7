/**
 * The stale-stream-state check and the recover_stale_stream repair: a turn
 * a stopped server left streaming is recovered as the server's own
 * `_repair_stale_pending` would, only with --server-stopped and after the
 * 30-second grace; without the flag it is info with a hint, so the exit
 * code lets an init script start the server.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { topLevelSpans } from "../core/json/json_edit.ts";
import {
  makeMessages,
  makeSidecar,
  storeArgs,
  type TestStore,
} from "./fixtures.ts";
import {
  audit,
  kindsOf,
  ofKind,
  quarantined,
  repair,
  text,
  withStore,
} from "./check_support.ts";
import { cli, show } from "./safety_support.ts";

const MARKER = "**Previous turn did not complete.**";
const PROMPT = "What  is\nthe answer?";

/** An hour ago, in the server's seconds. */
function anHourAgo(): number {
  return Math.round(Date.now() / 1000 - 3600) + 0.25;
}

/** Stream state a turn left behind, started `startedAt`. */
function streaming(startedAt: number | null = anHourAgo()) {
  return {
    active_stream_id: "stream-1",
    pending_user_message: PROMPT,
    pending_attachments: [{ name: "diagram.png", path: "/tmp/diagram.png" }],
    pending_started_at: startedAt,
  };
}

/**
 * Writes a sidecar as the server would, with two values JSON.stringify
 * would spell differently (`0.0`, `\u00e9`), so byte preservation shows.
 */
async function writeSidecar(
  store: TestStore,
  id: string,
  fields: Record<string, unknown>,
): Promise<string> {
  const raw = JSON.stringify(
    makeSidecar(id, { title: "Café", threshold_tokens: 123.25, ...fields }),
    null,
    2,
  ).replace('"Café"', '"Caf\\u00e9"').replace("123.25", "0.0");
  await store.writeRaw(`${id}.json`, raw);
  return raw;
}

const CHANGED = [
  "active_stream_id",
  "pending_user_message",
  "pending_attachments",
  "pending_started_at",
  "updated_at",
  "messages",
  "tool_calls",
  "input_tokens",
  "output_tokens",
  "estimated_cost",
];

/** The text with the values the repair may change masked out. */
function masked(raw: string): string {
  const spans = [...topLevelSpans(raw)!.entries()]
    .filter(([key]) => CHANGED.includes(key))
    .map(([, span]) => span)
    .sort((a, b) => b.start - a.start);
  let out = raw;
  for (const span of spans) {
    out = out.slice(0, span.start) + "@" + out.slice(span.end);
  }
  return out;
}

async function sidecarDoc(
  store: TestStore,
  id: string,
): Promise<Record<string, unknown> & { messages: Record<string, unknown>[] }> {
  return await store.readJson(`${id}.json`) as Record<string, unknown> & {
    messages: Record<string, unknown>[];
  };
}

async function writeCore(
  store: TestStore,
  id: string,
  core: Record<string, unknown>,
): Promise<string> {
  const dir = join(store.hermesHome, "sessions");
  await Deno.mkdir(dir, { recursive: true });
  const path = join(dir, `session_${id}.json`);
  await Deno.writeTextFile(path, JSON.stringify(core));
  return path;
}

Deno.test("stale-stream-state: without --server-stopped it is info with a hint, and repair changes nothing (exit 0)", async () => {
  await withStore(async (store) => {
    const raw = await writeSidecar(store, "s1", {
      messages: 4,
      ...streaming(),
    });
    await store.syncIndex(); // the index the server's save wrote beside it
    const report = await audit(store);
    const [finding] = ofKind(report, "stream_state_unconfirmed");
    assert.ok(finding, kindsOf(report).join());
    assert.equal(finding.category, "info");
    assert.equal(finding.sessionId, "s1");
    assert.match(finding.message, /--server-stopped/);
    assert.equal(finding.evidence.activeStreamId, "stream-1");
    assert.equal(report.exitCode, 0);

    const repaired = await repair(store);
    assert.deepEqual(repaired.repair!.actions, []);
    assert.equal(repaired.exitCode, 0);
    assert.equal(await text(store, "s1.json"), raw);
  });
});

Deno.test("stale-stream-state: healthy sidecars (no stream, or a stream without a pending prompt) are not reported", async () => {
  await withStore(async (store) => {
    await store.sidecar("idle", { messages: 2 });
    await store.sidecar("nopending", {
      messages: 2,
      active_stream_id: "stream-2",
      pending_user_message: null,
    });
    await store.sidecar("emptyprompt", {
      messages: 2,
      active_stream_id: "stream-3",
      pending_user_message: "",
    });
    for (const serverStopped of [false, true]) {
      const report = await audit(store, { serverStopped });
      assert.deepEqual(report.findings, [], JSON.stringify(report.findings));
      assert.equal(report.exitCode, 0);
    }
  });
});

Deno.test("stale-stream-state: with --server-stopped the prompt is appended, the marker added, the stream cleared, other bytes kept", async () => {
  await withStore(async (store) => {
    const startedAt = anHourAgo();
    const raw = await writeSidecar(store, "s1", {
      messages: 4,
      ...streaming(startedAt),
    });
    const before = await audit(store, { serverStopped: true });
    const [finding] = ofKind(before, "stale_stream_state");
    assert.ok(finding, kindsOf(before).join());
    assert.equal(finding.category, "repairable");
    assert.equal(finding.repair, "recover_stale_stream");
    assert.equal(before.exitCode, 4);

    const report = await repair(store, { serverStopped: true });
    assert.equal(report.exitCode, 1, JSON.stringify(report.repair!.actions));
    const doc = await sidecarDoc(store, "s1");
    assert.equal(doc.messages.length, 6);
    assert.deepEqual(doc.messages.slice(0, 4), makeMessages(4));
    assert.deepEqual(doc.messages[4], {
      role: "user",
      content: PROMPT,
      timestamp: Math.trunc(startedAt),
      _recovered: true,
      attachments: [{ name: "diagram.png", path: "/tmp/diagram.png" }],
    });
    assert.equal(doc.messages[5].role, "assistant");
    assert.equal(doc.messages[5].content, MARKER);
    assert.equal(doc.messages[5]._error, true);
    assert.equal(doc.active_stream_id, null);
    assert.equal(doc.pending_user_message, null);
    assert.deepEqual(doc.pending_attachments, []);
    assert.equal(doc.pending_started_at, null);
    assert.ok(
      (doc.updated_at as number) > Date.now() / 1000 - 60,
      "updated_at touched, as Session.save() does",
    );

    // Every byte outside the changed values is the server's.
    const after = await text(store, "s1.json");
    assert.equal(masked(after), masked(raw));
    assert.ok(after.includes('"title": "Caf\\u00e9"'));
    assert.ok(after.includes('"threshold_tokens": 0.0'));
    const span = topLevelSpans(raw)!.get("messages")!;
    const oldMessages = raw.slice(span.start, span.end - 1).trimEnd();
    assert.ok(after.includes(oldMessages), "old messages kept byte for byte");
    // The replaced file is in the quarantine.
    const kept = await quarantined(store);
    assert.ok(kept.some((p) => p.endsWith("-s1.json")), kept.join());

    const again = await audit(store, { serverStopped: true });
    assert.deepEqual(again.findings, []);
    assert.equal(again.exitCode, 0);
  });
});

Deno.test("stale-stream-state: a prompt already saved as the last message is not added twice", async () => {
  await withStore(async (store) => {
    const messages = [
      ...makeMessages(2),
      { role: "user", content: "What is   the answer?\n", timestamp: 1 },
    ];
    await store.sidecar("s1", { messages, ...streaming() });
    const report = await repair(store, { serverStopped: true });
    assert.equal(report.exitCode, 1);
    const doc = await sidecarDoc(store, "s1");
    assert.equal(doc.messages.length, 4);
    assert.deepEqual(doc.messages.slice(0, 3), messages);
    assert.equal(doc.messages[3].content, MARKER);
    assert.equal(doc.active_stream_id, null);
  });
});

Deno.test("stale-stream-state: an empty session takes the core transcript (tool calls, tokens), with no marker when it holds the prompt", async () => {
  await withStore(async (store) => {
    await store.sidecar("s1", { messages: [], ...streaming() });
    const core = [
      { role: "user", content: "hello", timestamp: 10 },
      { role: "assistant", content: "hi", timestamp: 11 },
      { role: "user", content: "What is the answer?", timestamp: 12 },
      { role: "assistant", content: "42", timestamp: 13 },
    ];
    const corePath = await writeCore(store, "s1", {
      session_id: "s1",
      messages: core,
      tool_calls: [{ id: "call-1", name: "search" }],
      input_tokens: 420,
      output_tokens: 17,
      estimated_cost: null,
    });
    const coreBytes = await Deno.readTextFile(corePath);
    const report = await repair(store, { serverStopped: true });
    assert.equal(report.exitCode, 1, JSON.stringify(report.repair!.actions));
    const doc = await sidecarDoc(store, "s1");
    assert.deepEqual(doc.messages, core);
    assert.deepEqual(doc.tool_calls, [{ id: "call-1", name: "search" }]);
    assert.equal(doc.input_tokens, 420);
    assert.equal(doc.output_tokens, 17);
    assert.equal(doc.estimated_cost, null, "a null cost is not copied");
    assert.equal(doc.active_stream_id, null);
    assert.equal(doc.pending_user_message, null);
    assert.equal(await Deno.readTextFile(corePath), coreBytes, "read-only");
    const again = await audit(store, { serverStopped: true });
    assert.deepEqual(again.findings, []);
  });
});

Deno.test("stale-stream-state: a core transcript without the prompt keeps the prompt after it, with the marker", async () => {
  await withStore(async (store) => {
    await store.sidecar("s1", { messages: [], ...streaming() });
    const core = makeMessages(2, "core");
    await writeCore(store, "s1", { messages: core });
    const report = await repair(store, { serverStopped: true });
    assert.equal(report.exitCode, 1);
    const doc = await sidecarDoc(store, "s1");
    assert.equal(doc.messages.length, 4);
    assert.deepEqual(doc.messages.slice(0, 2), core);
    assert.equal(doc.messages[2].content, PROMPT);
    assert.equal(doc.messages[2]._recovered, true);
    assert.equal(doc.messages[3].content, MARKER);
  });
});

Deno.test("stale-stream-state: an empty session without a core transcript gets the prompt and the marker", async () => {
  await withStore(async (store) => {
    await store.sidecar("s1", { messages: [], ...streaming(null) });
    const report = await repair(store, { serverStopped: true });
    assert.equal(report.exitCode, 1);
    const doc = await sidecarDoc(store, "s1");
    assert.deepEqual(doc.messages.map((m) => m.content), [PROMPT, MARKER]);
    // No pending_started_at: the recovered prompt is stamped now.
    assert.ok((doc.messages[0].timestamp as number) > Date.now() / 1000 - 60);
  });
});

Deno.test("stale-stream-state: a core transcript that cannot be read stops the repair (exit 4), nothing changes", async () => {
  await withStore(async (store) => {
    await store.sidecar("s1", { messages: [], ...streaming() });
    const dir = join(store.hermesHome, "sessions");
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(join(dir, "session_s1.json"), '{"messages": [');
    const raw = await text(store, "s1.json");
    const report = await repair(store, { serverStopped: true });
    const record = report.repair!.actions.find((r) =>
      r.repair === "recover_stale_stream"
    );
    assert.equal(record?.status, "skipped");
    assert.match(record?.detail ?? "", /core transcript .* may be in it/);
    assert.equal(report.exitCode, 4);
    assert.equal(await text(store, "s1.json"), raw);
  });
});

Deno.test("stale-stream-state: a turn younger than 30 s is info even with --server-stopped, and left alone", async () => {
  await withStore(async (store) => {
    await store.sidecar("s1", {
      messages: 2,
      ...streaming(Date.now() / 1000 - 5),
    });
    const raw = await text(store, "s1.json");
    const report = await repair(store, { serverStopped: true });
    assert.deepEqual(kindsOf(report), ["stream_state_in_grace"]);
    assert.equal(ofKind(report, "stream_state_in_grace")[0].category, "info");
    assert.deepEqual(report.repair!.actions, []);
    assert.equal(report.exitCode, 0);
    assert.equal(await text(store, "s1.json"), raw);
  });
});

Deno.test("stale-stream-state CLI: audit exits 0 with the hint; repair --server-stopped exits 1; a second run is clean", async () => {
  await withStore(async (store) => {
    await store.sidecar("s1", { messages: 2, ...streaming() });
    const args = storeArgs(store, false);

    const audited = await cli(["audit", ...args], store);
    assert.equal(audited.code, 0, show(audited));
    assert.match(audited.stdout, /stream_state_unconfirmed/);
    assert.match(audited.stdout, /--server-stopped/);

    const repaired = await cli(
      ["repair", "--server-stopped", ...args, "--format", "json"],
      store,
    );
    assert.equal(repaired.code, 1, show(repaired));
    const doc = await sidecarDoc(store, "s1");
    assert.deepEqual(doc.messages.slice(2).map((m) => m.content), [
      PROMPT,
      MARKER,
    ]);

    const second = await cli(["repair", "--server-stopped", ...args], store);
    assert.equal(second.code, 0, show(second));
  });
});

Deno.test("stale-stream-state: keys a sidecar lacks are inserted in the server's places (metadata before messages, tool_calls after)", async () => {
  await withStore(async (store) => {
    for (
      const [id, raw] of [
        [
          "compact",
          '{"session_id": "compact", "active_stream_id": "x", ' +
          '"pending_user_message": "hi", "messages": []}',
        ],
        [
          "pretty",
          JSON.stringify(
            {
              session_id: "pretty",
              active_stream_id: "x",
              pending_user_message: "hi",
              messages: [],
              extra: 1,
            },
            null,
            2,
          ),
        ],
      ]
    ) {
      await store.writeRaw(`${id}.json`, raw);
      await writeCore(store, id, {
        messages: [{ role: "user", content: "hi" }, {
          role: "assistant",
          content: "hello",
        }],
        tool_calls: [{ id: "c1" }],
        input_tokens: 5,
      });
    }
    const report = await repair(store, { serverStopped: true });
    const records = report.repair!.actions.filter((r) =>
      r.repair === "recover_stale_stream"
    );
    assert.deepEqual(records.map((r) => r.status), ["applied", "applied"]);
    // These hand-made sidecars lack required keys (another check's
    // finding); the stream state is gone.
    assert.deepEqual(
      report.findings.filter((f) => f.check === "stale-stream-state"),
      [],
    );
    for (const id of ["compact", "pretty"]) {
      const after = await text(store, `${id}.json`);
      const doc = JSON.parse(after);
      assert.deepEqual(Object.keys(doc), [
        "session_id",
        "active_stream_id",
        "pending_user_message",
        "input_tokens",
        "messages",
        "tool_calls",
        ...(id === "pretty" ? ["extra"] : []),
      ]);
      assert.equal(doc.input_tokens, 5);
      assert.deepEqual(doc.tool_calls, [{ id: "c1" }]);
      assert.equal(doc.messages.length, 2);
      assert.equal(doc.pending_user_message, null);
      assert.equal(after.includes("\n"), id === "pretty", "style kept");
    }
  });
});
