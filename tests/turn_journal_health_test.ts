/**
 * The turn-journal-health check: damaged lines are info with their line
 * numbers, a turn that ended twice is unsafe, a journal of a session that
 * exists nowhere is info, and missing or non-numeric `created_at` values
 * never crash a run.
 */

import assert from "node:assert/strict";
import { storeArgs, type TestStore } from "./fixtures.ts";
import { audit, kindsOf, ofKind, repair, withStore } from "./check_support.ts";
import { cli, show } from "./safety_support.ts";

function ev(
  sid: string,
  event: string,
  turnId: string,
  createdAt: unknown,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    version: 1,
    event,
    turn_id: turnId,
    session_id: sid,
    ...(createdAt === undefined ? {} : { created_at: createdAt }),
    ...extra,
  };
}

/** A finished turn: submitted, then completed. */
function finishedTurn(sid: string, turnId: string, at = 100) {
  return [
    ev(sid, "submitted", turnId, at, { content: "message 0" }),
    ev(sid, "completed", turnId, at + 1),
  ];
}

async function bytesOf(store: TestStore): Promise<Map<string, string>> {
  return await store.snapshot();
}

Deno.test("turn-journal-health: a healthy journal of a live session has no finding", async () => {
  await withStore(async (store) => {
    await store.sidecar("s1", { messages: 2 });
    await store.journal("s1", [
      ...finishedTurn("s1", "t1"),
      ...finishedTurn("s1", "t2", 200),
    ]);
    const report = await audit(store);
    assert.deepEqual(report.findings, []);
    assert.equal(report.exitCode, 0);
  });
});

Deno.test("turn-journal-health: malformed lines, events without turn_id and bad created_at are info with their lines", async () => {
  await withStore(async (store) => {
    await store.sidecar("s1", { messages: 2 });
    await store.journal("s1", [
      ev("s1", "submitted", "t1", 100, { content: "message 0" }),
      "not json at all",
      { event: "submitted", content: "no turn id", created_at: 1 },
      ev("s1", "worker_started", "t1", "yesterday"),
      ev("s1", "assistant_started", "t1", null),
      ev("s1", "completed", "t1", 103),
      '{"event": "completed", "turn_id": "t1", "created_at": 1', // torn
    ]);
    const report = await audit(store);
    assert.deepEqual(kindsOf(report), ["turn_journal_malformed_lines"]);
    const [finding] = report.findings;
    assert.equal(finding.category, "info");
    assert.equal(finding.sessionId, "s1");
    assert.deepEqual(finding.paths, ["_turn_journal/s1.jsonl"]);
    assert.deepEqual(finding.evidence.malformedLines, [2, 7]);
    assert.equal(finding.evidence.malformedCount, 2);
    assert.deepEqual(finding.evidence.missingTurnIdLines, [3]);
    // null is how the server stamps a turn without a start time: not bad.
    assert.deepEqual(finding.evidence.badCreatedAtLines, [4]);
    assert.match(
      finding.message,
      /2 lines that are not JSON objects \(line 2, 7\)/,
    );
    assert.match(finding.message, /missing or not a time \(line 4\)/);
    assert.equal(report.exitCode, 0, "info only");

    // Nothing to repair; a second run says the same and still exits 0.
    const before = await bytesOf(store);
    const repaired = await repair(store);
    assert.deepEqual(repaired.repair!.actions, []);
    assert.deepEqual(await bytesOf(store), before);
    const again = await audit(store);
    assert.deepEqual(again.findings.map((f) => f.id), [finding.id]);
    assert.equal(again.exitCode, 0);
  });
});

Deno.test("turn-journal-health: pending turns with missing or non-numeric created_at never crash audit or repair", async () => {
  await withStore(async (store) => {
    await store.sidecar("s1", { messages: 2 });
    await store.journal("s1", [
      ev("s1", "submitted", "t1", "soon", { content: "only in the journal" }),
      ev("s1", "submitted", "t2", undefined, { content: "another one" }),
      ev("s1", "submitted", "t3", { at: 1 }, { content: "and a third" }),
    ]);
    const report = await repair(store, { serverStopped: true });
    assert.ok(
      !report.repair!.before.findings.some((f) => f.kind === "check_failed"),
      JSON.stringify(report.repair!.before.findings),
    );
    const pending = report.repair!.before.findings.filter((f) =>
      f.kind === "turn_journal_pending_turn"
    );
    assert.deepEqual(pending.map((f) => f.evidence.turnId), ["t1", "t2", "t3"]);
    assert.ok(
      report.repair!.actions.every((r) => r.status === "applied"),
      JSON.stringify(report.repair!.actions),
    );
    assert.deepEqual(kindsOf(report), ["turn_journal_malformed_lines"]);
    assert.equal(report.exitCode, 1);
  });
});

Deno.test("turn-journal-health: a turn with two terminal events is an info collision (the server settles it by its latest event), never repaired", async () => {
  await withStore(async (store) => {
    await store.sidecar("s1", { messages: 2 });
    await store.journal("s1", [
      ev("s1", "submitted", "t1", 100, { content: "message 0" }),
      ev("s1", "interrupted", "t1", 101, { reason: "recovered" }),
      ev("s1", "completed", "t1", 102),
      ...finishedTurn("s1", "t2", 200),
    ]);
    const report = await audit(store);
    const collisions = ofKind(report, "turn_journal_collision");
    assert.equal(collisions.length, 1, kindsOf(report).join());
    const [collision] = collisions;
    assert.equal(collision.category, "info");
    assert.equal(collision.evidence.turnId, "t1");
    assert.deepEqual(collision.evidence.lines, [2, 3]);
    assert.deepEqual(collision.evidence.terminalEvents, [
      "interrupted",
      "completed",
    ]);
    assert.equal(report.exitCode, 0, "a healthy server can end a turn twice");

    const before = await bytesOf(store);
    const repaired = await repair(store);
    assert.deepEqual(repaired.repair!.actions, []);
    assert.equal(repaired.exitCode, 0);
    assert.deepEqual(await bytesOf(store), before, "nothing written");
  });
});

Deno.test("turn-journal-health: a journal of a session with no sidecar, backup or state.db row is an info orphan", async () => {
  await withStore(async (store) => {
    await store.journal("ghost", finishedTurn("ghost", "t1"));
    await store.journal("indb", finishedTurn("indb", "t1"));
    await store.journal("withbak", finishedTurn("withbak", "t1"));
    await store.backup("withbak", { messages: 2 });
    await store.journal("gone", finishedTurn("gone", "t1"));
    await store.tombstone(["gone"]);
    store.stateDb({
      sessions: [{ id: "indb", source: "cli", title: "CLI session" }],
    });

    const withDb = await audit(store, { withStateDb: true });
    const orphans = ofKind(withDb, "turn_journal_orphan");
    assert.deepEqual(orphans.map((f) => f.sessionId), ["ghost", "gone"]);
    assert.equal(orphans[0].category, "info");
    assert.deepEqual(orphans[0].paths, ["_turn_journal/ghost.jsonl"]);
    assert.equal(orphans[0].evidence.stateDb, "no_row");
    assert.equal(orphans[0].evidence.tombstoned, false);
    assert.equal(orphans[1].evidence.tombstoned, true);
    assert.match(orphans[1].message, /deleted/);

    // Without state.db nothing can hold the session but the session dir.
    const noDb = await audit(store);
    assert.deepEqual(
      ofKind(noDb, "turn_journal_orphan").map((f) => f.sessionId),
      ["ghost", "gone", "indb"],
    );
    assert.equal(
      ofKind(noDb, "turn_journal_orphan")[0].evidence.stateDb,
      "absent",
    );
  });
});

Deno.test("turn-journal-health: an unreadable state.db judges no journal an orphan", async () => {
  await withStore(async (store) => {
    await store.journal("ghost", finishedTurn("ghost", "t1"));
    await Deno.writeTextFile(store.stateDbPath, "not a database\n".repeat(20));
    const report = await audit(store, { withStateDb: true });
    assert.deepEqual(ofKind(report, "turn_journal_orphan"), []);
  });
});

Deno.test("turn-journal-health CLI: damaged lines and a collision exit 0, and repair leaves both", async () => {
  await withStore(async (store) => {
    await store.sidecar("s1", { messages: 2 });
    await store.journal("s1", [...finishedTurn("s1", "t1"), "{oops"]);
    const args = storeArgs(store, false);
    const info = await cli(["audit", ...args, "--format", "json"], store);
    assert.equal(info.code, 0, show(info));
    const kinds = JSON.parse(info.stdout).findings.map((f: { kind: string }) =>
      f.kind
    );
    assert.deepEqual(kinds, ["turn_journal_malformed_lines"]);

    await store.journal("s1", [
      ...finishedTurn("s1", "t1"),
      ev("s1", "interrupted", "t1", 300),
    ]);
    const ended = await cli(["repair", ...args], store);
    assert.equal(ended.code, 0, show(ended));
    assert.match(ended.stdout, /turn_journal_collision/);
    const again = await cli(["repair", ...args], store);
    assert.equal(again.code, 0, show(again));
  });
});
