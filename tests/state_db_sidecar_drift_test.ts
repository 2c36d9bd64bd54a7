/**
 * The state-db-sidecar-drift check: a webui row of state.db with more
 * messages than its live sidecar is unsafe (the sidecar lost turns the
 * agent still has), with both counts; a sidecar the user cleared on purpose
 * is info; nothing is ever rewritten.
 */

import assert from "node:assert/strict";
import { type MessageRow, storeArgs, type TestStore } from "./fixtures.ts";
import { audit, kindsOf, ofKind, repair, withStore } from "./check_support.ts";
import { cli, show } from "./safety_support.ts";

function rows(id: string, count: number): MessageRow[] {
  return Array.from({ length: count }, (_, i) => ({
    id: i + 1,
    session_id: id,
    role: i % 2 === 0 ? "user" : "assistant",
    content: `message ${i}`,
    timestamp: 1778458000 + i,
  }));
}

function stateDbWith(store: TestStore, counts: Record<string, number>): void {
  store.stateDb({
    sessions: Object.keys(counts).map((id) => ({
      id,
      source: "webui",
      title: id,
    })),
    messages: Object.entries(counts).flatMap(([id, n]) => rows(id, n)),
  });
}

Deno.test("state-db-sidecar-drift: equal counts, or a sidecar with more, give no finding", async () => {
  await withStore(async (store) => {
    await store.sidecar("same", { messages: 4 });
    await store.sidecar("ahead", { messages: 6 }); // recovered turns, markers
    stateDbWith(store, { same: 4, ahead: 4 });
    const report = await audit(store, { withStateDb: true });
    assert.deepEqual(report.findings, []);
    assert.equal(report.exitCode, 0);
  });
});

Deno.test("state-db-sidecar-drift: state.db with more messages than the sidecar is unsafe, with both counts, never repaired", async () => {
  await withStore(async (store) => {
    await store.sidecar("behind", { messages: 2 });
    stateDbWith(store, { behind: 5 });
    const before = await store.snapshot();
    const report = await repair(store, { withStateDb: true });
    assert.deepEqual(kindsOf(report), ["sidecar_behind_state_db"]);
    const [finding] = report.findings;
    assert.equal(finding.category, "unsafe_to_repair");
    assert.equal(finding.sessionId, "behind");
    assert.deepEqual(finding.paths, ["behind.json", store.stateDbPath]);
    assert.equal(finding.evidence.liveMessages, 2);
    assert.equal(finding.evidence.stateDbMessages, 5);
    assert.equal(finding.evidence.bakMessages, -1);
    assert.match(finding.message, /state\.db has 5 messages .* holds 2/);
    assert.deepEqual(report.repair!.actions, []);
    assert.equal(report.exitCode, 4);
    assert.deepEqual(await store.snapshot(), before, "nothing written");
    const again = await audit(store, { withStateDb: true });
    assert.deepEqual(again.findings.map((f) => f.id), [finding.id]);
  });
});

Deno.test("state-db-sidecar-drift: a sidecar the user cleared is info, kept as it is", async () => {
  await withStore(async (store) => {
    await store.sidecar("cleared", {
      messages: 0,
      clear_generation: "c0ffee",
    });
    await store.sidecar("shrunk", {
      messages: 1,
      intentional_shrink_generation: "0123456789ab4def8123456789abcdef",
    });
    stateDbWith(store, { cleared: 8, shrunk: 8 });
    const report = await audit(store, { withStateDb: true });
    const kept = ofKind(report, "sidecar_behind_state_db_kept");
    assert.deepEqual(kept.map((f) => f.sessionId), ["cleared", "shrunk"]);
    assert.deepEqual(kept.map((f) => f.evidence.guard), [
      "clear_generation",
      "intentional_shrink_generation",
    ]);
    assert.ok(kept.every((f) => f.category === "info"));
    assert.deepEqual(ofKind(report, "sidecar_behind_state_db"), []);
    assert.equal(report.exitCode, 0);
  });
});

Deno.test("state-db-sidecar-drift: a state.db that cannot count messages, or no state.db, says nothing", async () => {
  await withStore(async (store) => {
    await store.sidecar("s1", { messages: 1 });
    store.stateDb({ sessions: [{ id: "s1", source: "webui" }] }, {
      sessions: ["id", "source"],
      messages: null,
    });
    const noMessages = await audit(store, { withStateDb: true });
    assert.deepEqual(
      noMessages.findings.filter((f) => f.check === "state-db-sidecar-drift"),
      [],
    );
    const noDb = await audit(store);
    assert.deepEqual(noDb.findings, []);
  });
});

Deno.test("state-db-sidecar-drift CLI: exit 4 on both runs, and explain says how to review", async () => {
  await withStore(async (store) => {
    await store.sidecar("behind", { messages: 1 });
    stateDbWith(store, { behind: 3 });
    const args = storeArgs(store);
    for (const command of ["audit", "repair"]) {
      const r = await cli([command, ...args], store);
      assert.equal(r.code, 4, show(r));
      assert.match(r.stdout, /sidecar_behind_state_db/);
    }
    const explained = await cli(["explain", "sidecar_behind_state_db"], store);
    assert.equal(explained.code, 0, show(explained));
    assert.match(explained.stdout, /unsafe_to_repair/);
    assert.match(explained.stdout, /To review/);
    assert.match(explained.stdout, /sqlite3/);
  });
});
