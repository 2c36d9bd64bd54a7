/**
 * The state-db-health check on real SQLite files: a database that fails
 * `PRAGMA quick_check`, old schemas (which columns are missing and which
 * checks that cost), and the `-wal` a crashed writer leaves without its
 * `-shm` (made by really killing a writer). hermes-fsck only reads
 * state.db, so no repair exists; every run leaves its bytes alone.
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { FULL_SCHEMA, OLD_SCHEMA, storeArgs } from "./fixtures.ts";
import { audit, kindsOf, ofKind, repair, withStore } from "./check_support.ts";
import { cli, show } from "./safety_support.ts";
import {
  corruptUnusedIndex,
  crashWhileWriting,
  exists,
  healthySession,
} from "./state_db_support.ts";

const HEALTH = "state-db-health";

function healthFindings(report: { findings: { check: string }[] }) {
  return report.findings.filter((f) => f.check === HEALTH);
}

Deno.test("state-db-health: a healthy, current state.db closed cleanly has no finding", async () => {
  await withStore(async (store) => {
    await healthySession(store);
    const report = await audit(store, { withStateDb: true });
    assert.deepEqual(report.findings, []);
    assert.equal(report.exitCode, 0);
  });
});

Deno.test("state-db-health: a state.db that fails PRAGMA quick_check is unsafe; the run goes on with what it read", async () => {
  await withStore(async (store) => {
    await healthySession(store);
    await store.sidecar("shrunk", { messages: 1 });
    await store.backup("shrunk", { messages: 3 });
    corruptUnusedIndex(store.stateDbPath);
    const dbBytes = await Deno.readFile(store.stateDbPath);

    const report = await repair(store, { withStateDb: true });
    const [finding] = ofKind(report, "state_db_quick_check_failed");
    assert.ok(finding, kindsOf(report).join());
    assert.equal(finding.category, "unsafe_to_repair");
    assert.deepEqual(finding.paths, [store.stateDbPath]);
    const problems = finding.evidence.problems as string[];
    assert.ok(problems.length >= 1 && problems.length <= 20);
    assert.match(finding.message, /quick_check/);
    assert.equal(report.stateDb.status, "ok", "the rows were still read");
    // The other repairs ran; state.db was only read.
    assert.ok(
      report.repair!.actions.some((r) =>
        r.repair === "restore_from_bak" && r.status === "applied"
      ),
    );
    assert.equal(report.exitCode, 5);
    assert.deepEqual(await Deno.readFile(store.stateDbPath), dbBytes);
    const again = await audit(store, { withStateDb: true });
    // (The restored session's backup is now redundant: info.)
    assert.deepEqual(kindsOf(again), [
      "redundant_backup",
      "state_db_quick_check_failed",
    ]);
  });
});

Deno.test("state-db-health: an old schema is info naming the missing columns and what they cost", async () => {
  await withStore(async (store) => {
    await store.sidecar("s1", { messages: 2 });
    store.stateDb({
      sessions: [{ id: "s1", source: "webui", title: "One" }],
      messages: [{ session_id: "s1", role: "user", content: "q" }],
    }, OLD_SCHEMA);
    const report = await audit(store, { withStateDb: true });
    const [finding] = ofKind(report, "state_db_old_schema");
    assert.ok(finding, kindsOf(report).join());
    assert.equal(finding.category, "info");
    const missing = finding.evidence.missingColumns as string[];
    for (
      const column of [
        "sessions.started_at",
        "sessions.workspace",
        "messages.timestamp",
        "messages.id",
      ]
    ) {
      assert.ok(missing.includes(column), `${column} in ${missing}`);
    }
    assert.ok(!missing.includes("sessions.title"));
    assert.deepEqual(finding.evidence.skippedChecks, []);
    assert.match(finding.message, /orders messages by rowid/);
    assert.equal(report.exitCode, 0);
  });
});

Deno.test("state-db-health: a schema without source or messages names the skipped checks", async () => {
  await withStore(async (store) => {
    store.stateDb({ sessions: [{ id: "s1" }] }, {
      sessions: ["id", "title"],
      messages: null,
    });
    const report = await audit(store, { withStateDb: true });
    const [finding] = ofKind(report, "state_db_old_schema");
    assert.ok(finding, kindsOf(report).join());
    assert.deepEqual(finding.evidence.missingTables, ["messages"]);
    assert.ok(
      (finding.evidence.missingColumns as string[]).includes("sessions.source"),
    );
    assert.deepEqual(finding.evidence.skippedChecks, [
      "state-db-sidecars",
      "state-db-sidecar-drift",
    ]);
    assert.match(finding.message, /the messages table/);
    assert.match(finding.message, /skipped: state-db-sidecars/);
  });
});

Deno.test("state-db-health: the full schema is current", async () => {
  await withStore(async (store) => {
    store.stateDb({}, FULL_SCHEMA);
    const report = await audit(store, { withStateDb: true });
    assert.deepEqual(healthFindings(report), []);
  });
});

Deno.test("state-db-health: a -wal left without its -shm by a killed writer is info; the open restores the -shm", async () => {
  await withStore(async (store) => {
    await healthySession(store);
    await crashWhileWriting(
      store.stateDbPath,
      `db.exec("PRAGMA journal_mode=WAL");
db.exec("INSERT INTO sessions (id, source, title) VALUES ('late', 'cli', 'x')");`,
    );
    const wal = store.stateDbPath + "-wal";
    assert.ok(await exists(wal), "the killed writer left a -wal");
    await Deno.remove(store.stateDbPath + "-shm");

    const report = await audit(store, { withStateDb: true });
    const [finding] = ofKind(report, "state_db_leftover_files");
    assert.ok(finding, kindsOf(report).join());
    assert.equal(finding.category, "info");
    assert.deepEqual(finding.paths, [wal]);
    assert.equal(finding.evidence.problem, "wal_without_shm");
    assert.match(finding.message, /keep the -wal/);
    assert.equal(report.exitCode, 0);
    // The committed row in the -wal was read.
    assert.equal(report.stateDb.status, "ok");
    // Opening it rebuilt the -shm, so the next run has nothing to say.
    const again = await audit(store, { withStateDb: true });
    assert.deepEqual(healthFindings(again), []);
  });
});

Deno.test("state-db-health: side files beside a missing state.db, or not regular, are reported", async () => {
  await withStore(async (store) => {
    await Deno.writeTextFile(store.stateDbPath + "-wal", "stale");
    await Deno.mkdir(store.stateDbPath + "-shm");
    const report = await audit(store, { withStateDb: true });
    assert.equal(report.stateDb.status, "absent");
    const found = ofKind(report, "state_db_leftover_files");
    assert.deepEqual(
      found.map((f) => f.evidence.problem),
      ["database_missing", "not_regular_file"],
    );
  });
});

Deno.test("state-db-health CLI: leftovers alone exit 0; a failed quick_check exits 4 both times", async () => {
  await withStore(async (store) => {
    await healthySession(store);
    await crashWhileWriting(
      store.stateDbPath,
      `db.exec("PRAGMA journal_mode=WAL");
db.exec("INSERT INTO sessions (id, source) VALUES ('late', 'cli')");`,
    );
    await Deno.remove(store.stateDbPath + "-shm");
    const args = storeArgs(store);
    const leftover = await cli(["audit", ...args], store);
    assert.equal(leftover.code, 0, show(leftover));
    assert.match(leftover.stdout, /state_db_leftover_files/);
    const clean = await cli(["audit", ...args], store);
    assert.equal(clean.code, 0, show(clean));
    assert.doesNotMatch(clean.stdout, /state_db_leftover_files/);

    // Checkpoint and close cleanly before damaging it.
    const db = new DatabaseSync(store.stateDbPath);
    db.exec("PRAGMA journal_mode=DELETE");
    db.close();
    corruptUnusedIndex(store.stateDbPath);
    for (let run = 0; run < 2; run++) {
      const r = await cli(["repair", ...args], store);
      assert.equal(r.code, 4, show(r));
      assert.match(r.stdout, /state_db_quick_check_failed/);
    }
  });
});
