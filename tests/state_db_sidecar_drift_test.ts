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
import { runEvent } from "./run_journal_support.ts";
import { retriedSession } from "./checks/db_support.ts";
import type { Finding } from "../core/report/finding.ts";

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

/** A turn left streaming `streamId`, with state.db 2 rows ahead of it. */
async function lostStream(store: TestStore, streamId: string): Promise<void> {
  await store.sidecar("lost_stream", {
    messages: 2,
    active_stream_id: streamId,
    pending_user_message: "and then?",
    pending_started_at: 1778458002,
  });
  stateDbWith(store, { lost_stream: 4 });
}

/**
 * `repair --server-stopped` of a lost stream: its one finding, after
 * checking it is the self-heal info, exit 0 and nothing written.
 */
async function leftToTheServer(
  store: TestStore,
  serverStopped = true,
): Promise<Finding> {
  const before = await store.snapshot();
  const report = await repair(store, { withStateDb: true, serverStopped });
  assert.deepEqual(kindsOf(report), ["sidecar_behind_state_db_self_heals"]);
  const [finding] = report.findings;
  assert.equal(finding.category, "info");
  assert.equal(report.exitCode, 0);
  assert.deepEqual(await store.snapshot(), before, "nothing written");
  return finding;
}

Deno.test("state-db-sidecar-drift: an unfinished turn state.db is ahead of is the server's to heal: info, and no stale_stream_state to clear it first", async () => {
  await withStore(async (store) => {
    await lostStream(store, "stream-1");
    const finding = await leftToTheServer(store);
    assert.match(finding.message, /next full load/);
  });
});

// With --server-stopped this one is repaired (tests/state_db_heal_recovery_test.ts).
Deno.test("state-db-sidecar-drift: an unfinished turn state.db is ahead of whose run journal holds output, without --server-stopped: the finding says the server's heal drops it, and the stream stays set", async () => {
  await withStore(async (store) => {
    await lostStream(store, "run1");
    const journal = "_run_journal/lost_stream/run1.jsonl";
    await store.writeRaw(
      journal,
      ["The answer ", "is 42"].map((text, i) =>
        runEvent("lost_stream", "run1", i + 1, "token", { text }) + "\n"
      ).join(""),
    );
    const finding = await leftToTheServer(store, false);
    assert.match(
      finding.message,
      /heal drops the turn's partial output: 2 journaled text deltas \(16 characters of text\) in _run_journal\/lost_stream\/run1\.jsonl/,
    );
    assert.match(finding.message, /run `hermes-fsck repair --server-stopped`/);
    assert.equal(finding.evidence.runJournal, journal);
    assert.equal(finding.evidence.textEvents, 2);
    assert.equal(finding.evidence.textChars, 16);
  });
});

/** Writes the retried session: its sidecar from `fields`, state.db's rows. */
async function retriedStore(
  store: TestStore,
  fields: (messages: Record<string, unknown>[]) => Record<string, unknown>,
  stateRows = 6,
): Promise<void> {
  const { sidecar, state } = retriedSession();
  await store.sidecar("retried", fields(sidecar));
  store.stateDb({
    sessions: [{ id: "retried", source: "webui", title: "t" }],
    messages: state.slice(0, stateRows),
  });
}

Deno.test("state-db-sidecar-drift: state.db keeping the turn a retry removed before the resend is info, naming its rows", async () => {
  await withStore(async (store) => {
    await retriedStore(store, (messages) => ({
      messages,
      truncation_watermark: 1778458010,
      truncation_boundary: 1778458001,
    }));
    const report = await audit(store, { withStateDb: true });
    assert.deepEqual(kindsOf(report), ["state_db_keeps_removed_turn"]);
    const [finding] = report.findings;
    assert.equal(finding.category, "info");
    assert.equal(finding.evidence.removedRowCount, 2);
    assert.deepEqual(
      (finding.evidence.removedRows as { text: string }[]).map((r) => r.text),
      ["second question", "a poor second answer"],
    );
    assert.match(finding.message, /#4 "assistant" "a poor second answer"/);
    assert.equal(report.exitCode, 0);
  });
});

Deno.test("state-db-sidecar-drift: a retry cannot explain rows lost elsewhere: unsafe, naming the rows the sidecar lacks", async () => {
  await withStore(async (store) => {
    // The answer to the resent question is gone from the sidecar too.
    await retriedStore(store, (messages) => ({
      messages: messages.slice(0, 3),
      truncation_watermark: 1778458010,
      truncation_boundary: 1778458001,
    }));
    const report = await audit(store, { withStateDb: true });
    assert.deepEqual(kindsOf(report), ["sidecar_behind_state_db"]);
    const [finding] = report.findings;
    assert.equal(finding.category, "unsafe_to_repair");
    assert.deepEqual(
      (finding.evidence.missingRows as { text: string }[]).map((r) => r.text),
      ["a poor second answer", "second question", "a better second answer"],
    );
    assert.equal(finding.evidence.missingRowCount, 3);
    assert.match(finding.message, /state\.db rows it lacks: #4 "assistant"/);
    assert.equal(report.exitCode, 4);
  });
});

Deno.test("state-db-sidecar-drift: without a truncation boundary a removed turn cannot be told from a lost one: unsafe", async () => {
  await withStore(async (store) => {
    await retriedStore(store, (messages) => ({
      messages,
      truncation_watermark: 1778458010,
    }));
    const report = await audit(store, { withStateDb: true });
    assert.deepEqual(kindsOf(report), ["sidecar_behind_state_db"]);
    assert.equal(report.findings[0].evidence.missingRowCount, 2);
  });
});

Deno.test("state-db-sidecar-drift: an undo with no turn since (watermark still at the boundary) is info; rows after its save, or a watermark past the boundary with nothing after, are not", async () => {
  await withStore(async (store) => {
    const undo = (messages: Record<string, unknown>[]) => ({
      messages: messages.slice(0, 2),
      truncation_watermark: 1778458001,
      truncation_boundary: 1778458001,
      updated_at: 1778458005,
    });
    await retriedStore(store, undo, 4);
    const undone = await audit(store, { withStateDb: true });
    assert.deepEqual(kindsOf(undone), ["state_db_keeps_removed_turn"]);
    assert.equal(undone.findings[0].evidence.removedRowCount, 2);
    assert.equal(undone.exitCode, 0);

    await Deno.remove(store.stateDbPath);
    await retriedStore(store, undo); // two rows newer than the undo's save
    const later = await audit(store, { withStateDb: true });
    assert.deepEqual(kindsOf(later), ["sidecar_behind_state_db"]);

    await Deno.remove(store.stateDbPath);
    await retriedStore(store, (messages) => ({
      ...undo(messages),
      truncation_watermark: 1778458010,
    }), 4);
    const lost = await audit(store, { withStateDb: true });
    assert.deepEqual(kindsOf(lost), ["sidecar_behind_state_db"]);
    assert.equal(lost.exitCode, 4);
  });
});
