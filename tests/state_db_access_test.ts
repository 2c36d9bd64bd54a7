/**
 * The state-db-access check on real files: a state.db that is not a
 * database, one another process keeps locked, and one a killed writer left
 * with a hot journal. Each is reported with its own kind, and the run goes
 * on without state.db; state.db's bytes are never changed.
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { audit, kindsOf, ofKind, repair, withStore } from "./check_support.ts";
import { storeArgs } from "./fixtures.ts";
import { cli, show } from "./safety_support.ts";
import {
  exists,
  healthySession,
  holdExclusiveLock,
  leaveHotJournal,
} from "./state_db_support.ts";

Deno.test("state-db-access: a readable state.db has no finding", async () => {
  await withStore(async (store) => {
    await healthySession(store);
    const report = await audit(store, { withStateDb: true });
    assert.deepEqual(report.findings, []);
    assert.equal(report.stateDb.status, "ok");
  });
});

Deno.test("state-db-access: a file that is not a database is state_db_unreadable; the other checks still run", async () => {
  await withStore(async (store) => {
    await store.sidecar("shrunk", { messages: 1 });
    await store.backup("shrunk", { messages: 3 });
    await Deno.writeTextFile(store.stateDbPath, "not sqlite\n".repeat(50));
    const report = await audit(store, { withStateDb: true });
    const [finding] = ofKind(report, "state_db_unreadable");
    assert.ok(finding, kindsOf(report).join());
    assert.equal(finding.category, "unsafe_to_repair");
    assert.equal(finding.evidence.problem, "not_a_database");
    assert.ok(kindsOf(report).includes("shrunken_live"));
    assert.equal(report.exitCode, 4);
  });
});

Deno.test("state-db-access: a lock held past the wait is state_db_locked, and the run goes on", async () => {
  await withStore(async (store) => {
    await healthySession(store);
    await store.sidecar("shrunk", { messages: 1 });
    await store.backup("shrunk", { messages: 3 });
    const release = holdExclusiveLock(store.stateDbPath);
    let report;
    const started = Date.now();
    try {
      report = await audit(store, { withStateDb: true });
    } finally {
      release();
    }
    assert.ok(Date.now() - started < 10_000, "waited briefly, not forever");
    const [finding] = ofKind(report, "state_db_locked");
    assert.ok(finding, kindsOf(report).join());
    assert.equal(finding.category, "unsafe_to_repair");
    assert.equal(finding.evidence.problem, "locked");
    assert.deepEqual(finding.paths, [store.stateDbPath]);
    assert.ok(kindsOf(report).includes("shrunken_live"), "went on without it");
    assert.equal(report.exitCode, 4);
    // Once the lock is gone the same store reads again.
    const again = await audit(store, { withStateDb: true });
    assert.deepEqual(ofKind(again, "state_db_locked"), []);
  });
});

Deno.test("state-db-access: a hot journal left by a killed writer is state_db_needs_rollback; a writer's open clears it", async () => {
  await withStore(async (store) => {
    await healthySession(store);
    await leaveHotJournal(store.stateDbPath);
    const journal = store.stateDbPath + "-journal";
    assert.ok(await exists(journal));
    const dbBytes = await Deno.readFile(store.stateDbPath);
    const journalBytes = await Deno.readFile(journal);

    const report = await repair(store, { withStateDb: true });
    const [finding] = ofKind(report, "state_db_needs_rollback");
    assert.ok(finding, kindsOf(report).join());
    assert.equal(finding.category, "unsafe_to_repair");
    assert.equal(finding.evidence.problem, "hot_journal");
    assert.match(finding.message, /hot rollback journal/);
    assert.equal(report.stateDb.status, "unreadable");
    assert.equal(report.exitCode, 4);
    assert.deepEqual(await Deno.readFile(store.stateDbPath), dbBytes);
    assert.deepEqual(await Deno.readFile(journal), journalBytes);

    // The agent (any writer) rolls the journal back when it opens state.db.
    const writer = new DatabaseSync(store.stateDbPath);
    writer.prepare("SELECT count(*) FROM sessions").get();
    writer.close();
    const again = await audit(store, { withStateDb: true });
    assert.deepEqual(again.findings, []);
    assert.equal(again.exitCode, 0);
  });
});

Deno.test("state-db-access CLI: a locked state.db warns, exits 4, and the next run after the lock exits 0", async () => {
  await withStore(async (store) => {
    await healthySession(store);
    const args = ["audit", ...storeArgs(store), "--format", "json"];
    const release = holdExclusiveLock(store.stateDbPath);
    let locked;
    try {
      locked = await cli(args, store);
    } finally {
      release();
    }
    assert.equal(locked.code, 4, show(locked));
    assert.match(locked.stderr, /locked/);
    const report = JSON.parse(locked.stdout);
    assert.deepEqual(
      report.findings.map((f: { kind: string }) => f.kind),
      ["state_db_locked"],
    );
    const free = await cli(args, store);
    assert.equal(free.code, 0, show(free));
  });
});
