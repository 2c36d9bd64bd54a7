/**
 * The session-ids check: an id outside the server's charset is reported
 * from every source (sidecar, backup and journal file names, index entries,
 * state.db webui rows, the session_id of journal lines) and never becomes
 * a path, not even during a repair.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { Finding } from "../core/finding.ts";
import { audit, kindsOf, ofKind, repair, withStore } from "./check_support.ts";
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
  await store.sidecar("s1", { messages: 2 });
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
  await store.writeRaw("Bad-Id.json", JSON.stringify({ messages: [] }));
  await store.writeRaw("Bad.Bak.json.bak", JSON.stringify({ messages: [] }));
  // A name the journal charset allows but no sidecar id can have, and one
  // neither allows.
  await store.writeRaw("_turn_journal/Upper-Case.jsonl", "");
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
  ]);
  await store.index([
    { session_id: "s1", title: "ok", message_count: 2 },
    { session_id: "../../x", title: "evil", message_count: 1 },
  ]);
  store.stateDb({
    sessions: [
      { id: "s1", source: "webui", title: "ok" },
      { id: "../../x", source: "webui", title: "evil" },
      { id: "a/b", source: "webui", title: "slash" },
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
      sidecar: ["Bad-Id"],
      backup: ["Bad.Bak"],
      journal: ["Upper-Case", "sp ace"],
      index: ["../../x"],
      state_db: ["", "../../x", "a/b"],
      journal_line: ["../evil", "42"],
    });
    assert.ok(found.every((f) => f.category === "unsafe_to_repair"));
    const line = found.find((f) => f.evidence.id === "../evil")!;
    assert.deepEqual(line.paths, ["_turn_journal/s1.jsonl"]);
    assert.equal(line.evidence.line, 2);
    assert.equal(line.evidence.events, 2);
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
