/**
 * The session-ids check: an id outside the server's charset is reported
 * from every source (sidecar, backup and journal file names, state.db
 * webui rows, the session_id of journal lines) and never becomes a path,
 * not even during a repair. An invalid id in the index is an entry without
 * a sidecar, which the server sweeps (index_missing_file, repairable).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { Finding } from "../core/report/finding.ts";
import { auditStore } from "../core/run/audit.ts";
import { builtinChecks } from "../checks/builtin.ts";
import {
  audit,
  kindsOf,
  ofKind,
  repair,
  serverIndex,
  withStore,
} from "./check_support.ts";
import { cli, show } from "./safety_support.ts";
import { storeArgs, type TestStore } from "./fixtures.ts";

function bySource(findings: Finding[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const f of findings) {
    const source = String(f.evidence.source);
    (out[source] ??= []).push(String(f.evidence.id));
  }
  for (const ids of Object.values(out)) ids.sort();
  return out;
}

/** A finished turn's event naming `sessionId` on its line. */
function finished(sessionId: unknown): Record<string, unknown> {
  return {
    event: "completed",
    turn_id: "t1",
    session_id: sessionId,
    created_at: 1,
  };
}

/**
 * Session `s1` (sidecar, journal whose line names `lineId`, webui row) and
 * one more state.db row with a message.
 */
async function oneSessionAnd(
  store: TestStore,
  lineId: unknown,
  row: { id: string; source: string },
): Promise<void> {
  await store.index(serverIndex([await store.sidecar("s1", { messages: 2 })]));
  await store.journal("s1", [finished(lineId)]);
  store.stateDb({
    sessions: [{ id: "s1", source: "webui" }, row],
    messages: [
      { id: 1, session_id: row.id, role: "user", content: "hi", timestamp: 1 },
    ],
  });
}

/** Invalid ids in every place a session id can come from. */
async function everySource(store: TestStore): Promise<void> {
  await store.sidecar("s1", { messages: 2 });
  await store.writeRaw("Bad.Id.json", JSON.stringify({ messages: [] }));
  await store.writeRaw("Bad.Bak.json.bak", JSON.stringify({ messages: [] }));
  // Names no journal id can have (".", "..", which the journal charset
  // allows but no rule may), one the server's journal rule accepts and no
  // sidecar id can have ("a.b": an orphan journal, never an invalid id), and
  // one neither allows.
  await store.writeRaw("_turn_journal/..jsonl", "");
  await store.writeRaw("_turn_journal/...jsonl", "");
  await store.writeRaw("_turn_journal/a.b.jsonl", "");
  await store.writeRaw("_turn_journal/sp ace.jsonl", "");
  await store.journal("s1", [
    {
      event: "submitted",
      turn_id: "t1",
      session_id: "s1",
      created_at: 1,
      content: "message 0",
    },
    { event: "completed", turn_id: "t1", session_id: "../evil", created_at: 2 },
    { event: "completed", turn_id: "t2", session_id: 42, created_at: 3 },
    { event: "completed", turn_id: "t3", session_id: "../evil", created_at: 4 },
    { event: "completed", turn_id: "t4", session_id: "..", created_at: 5 },
  ]);
  await store.index([
    { session_id: "s1", title: "ok", message_count: 2 },
    { session_id: "../../x", title: "evil", message_count: 1 },
    { session_id: "..", title: "dot dot", message_count: 1 },
  ]);
  store.stateDb({
    sessions: [
      { id: "s1", source: "webui", title: "ok" },
      { id: "../../x", source: "webui", title: "evil" },
      { id: "a/b", source: "webui", title: "slash" },
      { id: ".", source: "webui", title: "dot" },
      { id: "..", source: "webui", title: "dot dot" },
      { id: "a.b", source: "webui", title: "a dot" },
      { id: null, source: "webui", title: "no id" },
      { id: "Weird-CLI-Id", source: "cli", title: "not a webui session" },
    ],
    messages: [
      {
        id: 1,
        session_id: "../../x",
        role: "user",
        content: "hi",
        timestamp: 1,
      },
      { id: 2, session_id: "a/b", role: "user", content: "hi", timestamp: 1 },
      { id: 3, session_id: "..", role: "user", content: "hi", timestamp: 1 },
      { id: 4, session_id: ".", role: "user", content: "hi", timestamp: 1 },
    ],
  });
}

Deno.test("session-ids: valid ids everywhere give no finding", async () => {
  await withStore(async (store) => {
    await oneSessionAnd(store, "s1", { id: "Weird-CLI-Id", source: "cli" });
    const report = await audit(store, { withStateDb: true });
    assert.deepEqual(ofKind(report, "invalid_session_id"), []);
  });
});

Deno.test("session-ids: every source is reported, each with its source and place", async () => {
  await withStore(async (store) => {
    await everySource(store);
    const report = await audit(store, { withStateDb: true });
    const found = ofKind(report, "invalid_session_id");
    assert.deepEqual(bySource(found), {
      sidecar: ["Bad.Id"],
      backup: ["Bad.Bak"],
      journal: [".", "..", "sp ace"],
      state_db: ["", ".", "..", "../../x", "a.b", "a/b"],
      journal_line: ["..", "../evil", "42"],
    });
    assert.ok(found.every((f) => f.category === "unsafe_to_repair"));
    // The server sweeps index entries without a sidecar, invalid ids too.
    const swept = ofKind(report, "index_missing_file");
    assert.deepEqual(swept.map((f) => f.sessionId), ["..", "../../x"]);
    assert.ok(swept.every((f) => f.category === "repairable"));
    const line = found.find((f) => f.evidence.id === "../evil")!;
    assert.deepEqual(line.paths, ["_turn_journal/s1.jsonl"]);
    assert.equal(line.evidence.line, 2);
    assert.equal(line.evidence.events, 2);
    const dots = found.find((f) =>
      f.evidence.source === "journal_line" && f.evidence.id === ".."
    )!;
    assert.match(dots.message, /outside \[A-Za-z0-9_-\]/);
    assert.match(line.message, /Line 2 of _turn_journal\/s1\.jsonl/);
    const number = found.find((f) => f.evidence.id === "42")!;
    assert.match(number.message, /is a number, not a string/);
    const empty = found.find((f) =>
      f.evidence.source === "state_db" && f.evidence.id === ""
    )!;
    assert.match(empty.message, /is empty/);
    // Finding ids are distinct and stable.
    assert.equal(new Set(found.map((f) => f.id)).size, found.length);
    const again = await audit(store, { withStateDb: true });
    assert.deepEqual(
      ofKind(again, "invalid_session_id").map((f) => f.id),
      found.map((f) => f.id),
    );
  });
});

Deno.test("session-ids: a repair never turns an invalid id into a path", async () => {
  await withStore(async (store) => {
    await everySource(store);
    const outside = join(store.root, "webui", "x.json");
    const report = await repair(store, { withStateDb: true });
    for (const record of report.repair!.actions) {
      for (const action of record.actions) {
        assert.ok(
          !/\.\.|\/x\.json|a\/b|evil/.test(action.path),
          `action on ${action.path}`,
        );
      }
    }
    assert.equal(await store.exists("../x.json"), false);
    await assert.rejects(Deno.lstat(outside));
    await assert.rejects(Deno.lstat(join(store.root, "x.json")));
    // The index is rebuilt without the invalid entry; the rest stays unsafe.
    const index = await store.readJson("_index.json") as {
      session_id: string;
    }[];
    assert.deepEqual(index.map((e) => e.session_id), ["s1"]);
    assert.ok(kindsOf(report).includes("invalid_session_id"));
    assert.ok(!bySource(ofKind(report, "invalid_session_id")).index);
    assert.equal(report.exitCode, 5);
  });
});

Deno.test("session-ids CLI: invalid ids exit 4 and stay reported, changing nothing", async () => {
  await withStore(async (store) => {
    await oneSessionAnd(store, "../evil", { id: "../../x", source: "webui" });
    const before = await store.snapshot();
    const args = [...storeArgs(store), "--format", "json"];
    for (const command of ["audit", "repair"]) {
      const r = await cli([command, ...args], store);
      assert.equal(r.code, 4, show(r));
      const report = JSON.parse(r.stdout);
      assert.deepEqual(
        bySource(
          report.findings.filter((f: Finding) =>
            f.kind === "invalid_session_id"
          ),
        ),
        { state_db: ["../../x"], journal_line: ["../evil"] },
      );
    }
    assert.deepEqual(await store.snapshot(), before);
  });
});

/**
 * A healthy store of ids today's server accepts (since v0.51.149): `-` and
 * upper case, and ids that are a prefix of another up to a `-`, whose file
 * names sort in another order than the ids themselves.
 */
async function todaysIds(store: TestStore): Promise<void> {
  const ids = ["api-Chat_7", "A-b_9", "a", "a-b", "a-b-c", "Z"];
  const sidecars = [];
  for (const id of ids) sidecars.push(await store.sidecar(id, { messages: 2 }));
  await store.index(serverIndex(sidecars));
  for (const id of ["a", "a-b-c", "api-Chat_7"]) {
    await store.journal(id, [
      {
        event: "submitted",
        turn_id: "t1",
        session_id: id,
        created_at: 1,
        content: "message 0",
      },
      { event: "completed", turn_id: "t1", session_id: id, created_at: 2 },
    ]);
  }
}

Deno.test("session-ids CLI: ids with '-' and upper case audit clean (exit 0)", async () => {
  await withStore(async (store) => {
    await todaysIds(store);
    const before = await store.snapshot();
    const r = await cli(
      ["audit", ...storeArgs(store, false), "--format", "json"],
      store,
    );
    assert.equal(r.code, 0, show(r));
    assert.deepEqual(JSON.parse(r.stdout).findings, []);
    assert.deepEqual(await store.snapshot(), before);
    // Part by part, "a-b.json" lists before "a.json": each session still
    // comes once, with all its files.
    for (const partSessions of [1, 2]) {
      const byParts = await auditStore({
        scan: { sessionDir: store.sessionDir, stateDbPath: null },
        checks: builtinChecks,
        partSessions,
      });
      byParts.store.stateDb.close();
      assert.deepEqual(byParts.findings, [], `parts of ${partSessions}`);
    }
  });
});

Deno.test("session-ids: '.' and '..' ids never reach a path, audit or repair", async () => {
  await withStore(async (store) => {
    await todaysIds(store);
    // What "_run_journal/<sid>/" or "<sid>.json" would name for these ids.
    await store.writeRaw("_run_journal/keep.jsonl", "x\n");
    await store.writeRaw("_turn_journal/..jsonl", "");
    await store.writeRaw("_turn_journal/...jsonl", "");
    await store.index([
      ...serverIndex([await store.sidecar("a")]),
      { session_id: ".", title: "dot", message_count: 1 },
      { session_id: "..", title: "dot dot", message_count: 1 },
    ]);
    store.stateDb({
      sessions: [
        { id: ".", source: "webui", title: "dot" },
        { id: "..", source: "webui", title: "dot dot" },
      ],
      messages: [
        { id: 1, session_id: ".", role: "user", content: "hi", timestamp: 1 },
        { id: 2, session_id: "..", role: "user", content: "hi", timestamp: 1 },
      ],
    });
    const outside = await store.snapshot(store.root);
    const r = await cli(
      ["repair", ...storeArgs(store), "--format", "json"],
      store,
    );
    assert.equal(r.code & 4, 4, show(r));
    const report = JSON.parse(r.stdout);
    const ids = bySource(
      report.findings.filter((f: Finding) => f.kind === "invalid_session_id"),
    );
    assert.deepEqual(ids.state_db, [".", ".."]);
    assert.deepEqual(ids.journal, [".", ".."]);
    for (const record of report.repair?.actions ?? []) {
      for (const action of record.actions) {
        assert.ok(
          !/(^|\/)\.\.?(\/|\.json|$)/.test(action.path),
          `action on ${action.path}`,
        );
      }
    }
    // Nothing outside the session dir changed, and nothing was made from
    // a dot id inside it.
    const after = await store.snapshot(store.root);
    for (const [name, content] of outside) {
      if (name.includes("webui/sessions/")) continue;
      assert.equal(after.get(name), content, name);
    }
    for (const name of after.keys()) {
      if (name.includes("webui/sessions/")) continue;
      assert.ok(outside.has(name), `new file ${name}`);
    }
    for (const name of [".json", "..json", "_run_journal/..json"]) {
      assert.equal(await store.exists(name), false, name);
    }
    assert.equal(await store.exists("_run_journal/keep.jsonl"), true);
  });
});
