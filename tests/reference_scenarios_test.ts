/**
 * The Hermes WebUI server's own recovery tests (seed `004_*`, and the tests
 * its history in seed `001_*` describes), ported to hermes-fsck: the same
 * store shapes, checked through the library (`runPipeline`) and, for the
 * exit codes and the server's report shape, through the CLI. "The seed
 * module" below is the server's own `api/session_recovery.py` of the seed's
 * commit, `../shared/upstream/hermes-webui-f6ce79185c/` (its tests in
 * `tests/webui_parity_seed_test.ts` run it as an oracle).
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { Finding } from "../core/report/finding.ts";
import type { Repair } from "../core/plugins/repair.ts";
import type { Report } from "../core/report/report.ts";
import { type PipelineOptions, runPipeline } from "../core/run/run.ts";
import { newRunId, StoreWriter } from "../core/io/safety.ts";
import type { StateDbSessionRow } from "../core/state_db/state_db.ts";
import { builtinRepairs } from "../repairs/builtin.ts";
import {
  materializeFromStateDb,
  stateDbRowToSidecar,
} from "../repairs/materialize_from_state_db.ts";
import { restoreFromBak } from "../repairs/restore_from_bak.ts";
import {
  type CliResult,
  makeSidecar,
  OLD_SCHEMA,
  runCli,
  storeArgs,
  TestStore,
  withStore,
} from "./fixtures.ts";
import { serverIndex } from "./check_support.ts";

// ---------------------------------------------------------------- helpers

type Extra = Partial<PipelineOptions>;

function audit(store: TestStore, extra: Extra = {}): Promise<Report> {
  return runPipeline({
    command: "audit",
    sessionDir: store.sessionDir,
    stateDbPath: store.stateDbPath,
    hermesHome: store.hermesHome,
    ...extra,
  });
}

function repair(store: TestStore, extra: Extra = {}): Promise<Report> {
  return runPipeline({
    command: "repair",
    sessionDir: store.sessionDir,
    stateDbPath: store.stateDbPath,
    hermesHome: store.hermesHome,
    ...extra,
  });
}

/**
 * The kinds of the problems among `findings` (repairable and unsafe ones,
 * which decide status and exit code), sorted. Info findings are left out:
 * they are worth knowing but change nothing here.
 */
function kinds(findings: readonly Finding[]): string[] {
  return findings.filter((f) => f.category !== "info").map((f) => f.kind)
    .sort();
}

function only(findings: readonly Finding[], kind: string): Finding[] {
  return findings.filter((f) => f.kind === kind);
}

function bytes(store: TestStore, name: string): Promise<Uint8Array> {
  return Deno.readFile(store.path(name));
}

async function messagesOf(store: TestStore, name: string): Promise<unknown[]> {
  const doc = await store.readJson(name) as { messages: unknown[] };
  return doc.messages;
}

/** Every regular file below `dir`, recursively, as absolute paths. */
async function filesBelow(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) out.push(...await filesBelow(path));
    else if (entry.isFile) out.push(path);
  }
  return out;
}

/** Files below the run's quarantine dir whose bytes equal `expected`. */
async function quarantinedCopies(
  store: TestStore,
  runDir: string,
  expected: Uint8Array,
): Promise<string[]> {
  const found: string[] = [];
  for (const path of await filesBelow(join(store.sessionDir, runDir))) {
    const data = await Deno.readFile(path);
    if (
      data.length === expected.length && data.every((b, i) => b === expected[i])
    ) found.push(path);
  }
  return found;
}

/** Names left behind by hermes-fsck's own atomic writes. */
async function fsckTemps(store: TestStore): Promise<string[]> {
  return (await filesBelow(store.sessionDir))
    .filter((p) => p.includes(".hermes-fsck.tmp."));
}

/**
 * The seed tests' `_make_session_on_disk`: a realistic sidecar with `n`
 * messages and (by default) a stale stream, as the server saves it.
 */
async function makeSessionOnDisk(
  store: TestStore,
  sid: string,
  n: number,
  withActiveStream = true,
): Promise<Record<string, unknown>> {
  return await store.sidecar(sid, {
    messages: n,
    title: "A long conversation",
    workspace: "",
    model: "MiniMax-M2.7",
    model_provider: "ollama-cloud",
    created_at: 1.0,
    updated_at: 2.0,
    active_stream_id: withActiveStream ? "a".repeat(32) : null,
    pending_user_message: withActiveStream
      ? "What is the meaning of life?"
      : null,
  });
}

/** The seed tests' orphan shape: the live file copied to .bak, then removed. */
async function orphanize(store: TestStore, sid: string): Promise<Uint8Array> {
  const data = await bytes(store, `${sid}.json`);
  await store.writeRaw(`${sid}.json.bak`, data);
  await Deno.remove(store.path(`${sid}.json`));
  await store.syncIndex();
  return data;
}

function parseCliJson(result: CliResult): Record<string, unknown> {
  try {
    return JSON.parse(result.stdout);
  } catch {
    throw new Error(
      `CLI printed no JSON (exit ${result.code}):\n${result.stdout}\n${result.stderr}`,
    );
  }
}

// ------------------------------------------------- seed 004: shrunken live

Deno.test("shrunken live (1000 -> 0 messages) is restored byte for byte from its .bak", async () => {
  await withStore(async (store) => {
    const sid = "s_test_1557";
    const session = await makeSessionOnDisk(store, sid, 1000);
    const bakBytes = await bytes(store, `${sid}.json`);
    await store.writeRaw(`${sid}.json.bak`, bakBytes);
    // Now corrupt the live file: empty messages (the #1558 wipe).
    await store.writeRaw(
      `${sid}.json`,
      JSON.stringify({ ...session, messages: [] }),
    );
    await store.syncIndex(); // the wiping save wrote the index too
    const oldLive = await bytes(store, `${sid}.json`);

    const before = await audit(store);
    assert.deepEqual(kinds(before.findings), ["shrunken_live"]);
    const [finding] = only(before.findings, "shrunken_live");
    assert.equal(finding.sessionId, sid);
    assert.equal(finding.category, "repairable");
    assert.equal(finding.repair, "restore_from_bak");
    assert.equal(finding.evidence.liveMessages, 0);
    assert.equal(finding.evidence.bakMessages, 1000);
    assert.equal(before.status, "warn");
    // The audit changed nothing.
    assert.deepEqual(await bytes(store, `${sid}.json`), oldLive);

    const report = await repair(store);
    assert.equal(report.exitCode, 1);
    assert.equal(report.status, "ok");
    assert.deepEqual(only(report.findings, "shrunken_live"), []);
    // Live is now the backup's bytes, exactly; the backup is still there.
    assert.deepEqual(await bytes(store, `${sid}.json`), bakBytes);
    assert.deepEqual(await bytes(store, `${sid}.json.bak`), bakBytes);
    assert.equal((await messagesOf(store, `${sid}.json`)).length, 1000);
    // The wiped live file was not thrown away: it is in the run's quarantine.
    const runDir = report.repair?.runDir;
    assert.ok(runDir, "a repair that replaced a file names its run dir");
    assert.ok(runDir.startsWith("_hermes_fsck/"));
    assert.equal(
      (await quarantinedCopies(store, runDir, oldLive)).length,
      1,
      "the replaced live bytes are kept in the quarantine dir",
    );
    assert.deepEqual(await fsckTemps(store), []);
  });
});

Deno.test("a save that shrank 1000 -> 500 is restored; a .bak with fewer messages than live never is", async () => {
  await withStore(async (store) => {
    // test_save_writes_bak_when_messages_shrink: live 500, .bak 1000.
    await store.backup("shrunk", { messages: 1000 });
    await store.sidecar("shrunk", { messages: 500 });
    // test_save_does_not_write_bak_when_messages_grow: the conversation grew
    // past an old backup; that backup is stale, never a restore source.
    await store.backup("grown", { messages: 1000 });
    await store.sidecar("grown", { messages: 1001 });
    const grownLive = await bytes(store, "grown.json");
    const grownBak = await bytes(store, "grown.json.bak");

    const before = await audit(store);
    const shrunken = only(before.findings, "shrunken_live");
    assert.deepEqual(shrunken.map((f) => f.sessionId), ["shrunk"]);
    assert.equal(shrunken[0].evidence.liveMessages, 500);
    assert.equal(shrunken[0].evidence.bakMessages, 1000);

    const report = await repair(store);
    assert.equal(report.exitCode, 1);
    assert.equal((await messagesOf(store, "shrunk.json")).length, 1000);
    assert.deepEqual(
      await bytes(store, "shrunk.json"),
      await bytes(store, "shrunk.json.bak"),
    );
    assert.deepEqual(await bytes(store, "grown.json"), grownLive);
    assert.deepEqual(await bytes(store, "grown.json.bak"), grownBak);
  });
});

Deno.test("stale stream state never costs messages: audit reads only, repair keeps all 1000", async () => {
  await withStore(async (store) => {
    // test_metadata_only_save_raises_to_prevent_wipe: a 1000-message
    // session with a stale active_stream_id after a server restart.
    const sid = "s_test_1557";
    await makeSessionOnDisk(store, sid, 1000, true);
    const original = await store.readJson(`${sid}.json`) as {
      messages: unknown[];
    };
    const snapshot = await store.snapshot();

    await audit(store, { serverStopped: true });
    assert.deepEqual(await store.snapshot(), snapshot, "audit writes nothing");

    // With a server that may be running, nothing is touched.
    await repair(store);
    assert.deepEqual(await store.snapshot(), snapshot);

    await repair(store, { serverStopped: true });
    const after = await messagesOf(store, `${sid}.json`);
    assert.ok(
      after.length >= 1000,
      `repair shrank messages to ${after.length}`,
    );
    assert.deepEqual(after.slice(0, 1000), original.messages);
  });
});

Deno.test("repair --server-stopped clears a stale stream without losing messages", async () => {
  await withStore(async (store) => {
    // test_clear_stale_stream_state_preserves_messages: the stream flag must
    // actually be cleared, and the 1000 messages survive (growth by the
    // pending turn and an error marker is fine). STORE_FORMAT.md §5.
    const sid = "s_test_1557";
    await makeSessionOnDisk(store, sid, 1000, true);
    const original = await store.readJson(`${sid}.json`) as {
      messages: unknown[];
    };
    const report = await repair(store, { serverStopped: true });
    const doc = await store.readJson(`${sid}.json`) as
      & Record<
        string,
        unknown
      >
      & { messages: unknown[] };
    assert.ok(doc.messages.length >= 1000);
    assert.deepEqual(doc.messages.slice(0, 1000), original.messages);
    assert.equal(doc.active_stream_id, null, "stale active_stream_id kept");
    assert.equal(doc.pending_user_message, null);
    assert.ok(report.exitCode < 4, `exit code ${report.exitCode}`);
  });
});

// ------------------------------------------------------ seed 004: orphans

Deno.test("orphan .bak (293 messages) recreates the missing live sidecar", async () => {
  await withStore(async (store) => {
    const sid = "s_test_1557";
    await makeSessionOnDisk(store, sid, 293);
    const bakBytes = await orphanize(store, sid);

    const before = await audit(store);
    assert.deepEqual(kinds(before.findings), ["orphan_backup"]);
    assert.equal(
      only(before.findings, "orphan_backup")[0].evidence.bakMessages,
      293,
    );
    assert.equal(
      only(before.findings, "orphan_backup")[0].evidence.liveMessages,
      -1,
    );
    assert.equal(before.summary.sessions, 0);

    const report = await repair(store);
    assert.equal(report.exitCode, 1);
    assert.equal(report.summary.sessions, 1);
    assert.deepEqual(await bytes(store, `${sid}.json`), bakBytes);
    assert.deepEqual(await bytes(store, `${sid}.json.bak`), bakBytes);
    assert.equal((await messagesOf(store, `${sid}.json`)).length, 293);
  });
});

Deno.test("index is rebuilt after an orphan restore: the stale [] index lists the session", async () => {
  await withStore(async (store) => {
    const sid = "s_test_1557";
    await makeSessionOnDisk(store, sid, 42);
    await orphanize(store, sid);
    await store.index([]);

    const report = await repair(store);
    assert.equal(report.exitCode, 1);
    const index = await store.readJson("_index.json") as Record<
      string,
      unknown
    >[];
    assert.ok(Array.isArray(index));
    assert.deepEqual(index.map((e) => e.session_id), [sid]);
    assert.equal(index[0].message_count, 42);
    for (const entry of index) {
      assert.ok("last_message_at" in entry, "entry without last_message_at");
    }
    // The last non-tool message's timestamp (makeMessages: 1778458000 + i).
    assert.equal(index[0].last_message_at, 1778458000 + 41);
    assert.equal(index[0].title, "A long conversation");
    // Nothing is left for a second audit.
    const again = await audit(store);
    assert.equal(again.status, "ok");
    assert.equal(again.summary.repairable, 0);
  });
});

Deno.test("orphan .bak is skipped when a readable state.db lacks the session row", async () => {
  await withStore(async (store) => {
    const sid = "s_test_1557";
    await makeSessionOnDisk(store, sid, 12);
    await orphanize(store, sid);
    store.stateDb({ sessions: [{ id: "different_session" }] }, {
      sessions: ["id"],
      messages: null,
    });
    const snapshot = await store.snapshot();

    const before = await audit(store);
    assert.deepEqual(kinds(before.findings), [
      "orphan_backup_without_state_row",
    ]);
    assert.equal(
      only(before.findings, "orphan_backup_without_state_row")[0].category,
      "unsafe_to_repair",
    );
    assert.equal(
      only(before.findings, "orphan_backup_without_state_row")[0].sessionId,
      sid,
    );
    assert.equal(
      only(before.findings, "orphan_backup_without_state_row")[0].evidence
        .bakMessages,
      12,
    );

    const report = await repair(store);
    assert.equal(report.exitCode, 4);
    assert.equal(report.status, "needs_manual_review");
    assert.equal(await store.exists(`${sid}.json`), false);
    assert.deepEqual(await store.snapshot(), snapshot, "nothing was written");
    assert.equal(await store.exists("_hermes_fsck"), false);
    assert.equal(report.repair?.runId, null);
  });
});

Deno.test("orphan .bak is restored when state.db has the row (any source) or has no sessions table (fail open), never when state.db cannot be read (fail closed)", async () => {
  // With the row (a cli-source row still means the session exists).
  await withStore(async (store) => {
    await store.sidecar("kept", { messages: 9 });
    await orphanize(store, "kept");
    store.stateDb({ sessions: [{ id: "kept", source: "cli" }] });
    const report = await repair(store);
    assert.deepEqual(kinds(report.repair!.before.findings), ["orphan_backup"]);
    assert.equal(report.exitCode, 1);
    assert.equal((await messagesOf(store, "kept.json")).length, 9);
  });
  // A state.db without a sessions table cannot tell: restore stays allowed.
  await withStore(async (store) => {
    await store.sidecar("kept", { messages: 9 });
    await orphanize(store, "kept");
    store.stateDb({}, { sessions: ["whatever"], messages: null });
    const report = await repair(store);
    assert.deepEqual(kinds(report.repair!.before.findings), ["orphan_backup"]);
    assert.equal((await messagesOf(store, "kept.json")).length, 9);
  });
  // A state.db that is not a database cannot tell a delete from a loss:
  // the backup is left, and both are reported as unsafe (exit 4).
  await withStore(async (store) => {
    await store.sidecar("kept", { messages: 9 });
    await orphanize(store, "kept");
    await Deno.writeTextFile(store.stateDbPath, "this is not sqlite\n");
    const report = await repair(store);
    assert.deepEqual(kinds(report.repair!.before.findings), [
      "orphan_backup_state_db_unreadable",
      "state_db_unreadable",
    ]);
    assert.equal(await store.exists("kept.json"), false);
    assert.equal(report.exitCode, 4);
  });
});

Deno.test("tombstoned orphan .bak is never restored", async () => {
  await withStore(async (store) => {
    const sid = "deleted_one";
    await store.sidecar(sid, { messages: 20 });
    await orphanize(store, sid);
    await store.tombstone([sid]);
    // Even with state.db still holding its webui row and messages.
    store.stateDb({
      sessions: [{ id: sid, source: "webui", title: "gone" }],
      messages: [
        { id: 1, session_id: sid, role: "user", content: "hi", timestamp: 1 },
      ],
    });
    const snapshot = await store.snapshot();

    const before = await audit(store);
    assert.deepEqual(kinds(before.findings), [
      "state_db_deleted_webui_tombstone",
    ]);
    const [finding] = only(
      before.findings,
      "state_db_deleted_webui_tombstone",
    );
    assert.equal(finding.category, "unsafe_to_repair");
    assert.equal(finding.sessionId, sid);
    assert.equal(finding.evidence.hasBackup, true);
    assert.equal(finding.evidence.hasStateDbRow, true);

    const report = await repair(store);
    assert.equal(report.exitCode, 4);
    assert.equal(await store.exists(`${sid}.json`), false);
    assert.deepEqual(await store.snapshot(), snapshot);
    assert.equal(await store.exists("_hermes_fsck"), false);
  });
});

Deno.test("tombstoned state.db webui row with messages is never materialized", async () => {
  await withStore(async (store) => {
    const sid = "deleted_two";
    await store.tombstone([sid]);
    store.stateDb({
      sessions: [{ id: sid, source: "webui", title: "gone", started_at: 5 }],
      messages: [
        { id: 1, session_id: sid, role: "user", content: "q", timestamp: 6 },
        {
          id: 2,
          session_id: sid,
          role: "assistant",
          content: "a",
          timestamp: 7,
        },
      ],
    });
    const before = await audit(store);
    assert.deepEqual(kinds(before.findings), [
      "state_db_deleted_webui_tombstone",
    ]);
    assert.equal(
      only(before.findings, "state_db_deleted_webui_tombstone")[0].evidence
        .hasStateDbRow,
      true,
    );
    assert.equal(
      only(before.findings, "state_db_deleted_webui_tombstone")[0].evidence
        .hasBackup,
      false,
    );

    const report = await repair(store);
    assert.equal(report.exitCode, 4);
    assert.equal(await store.exists(`${sid}.json`), false);
    assert.equal(await store.exists("_index.json"), false);
  });
});

// ------------------------------------------- seed 004: non-session JSON

Deno.test("_index.json is skipped and never counted as a session", async () => {
  await withStore(async (store) => {
    const sid = "s_test_1557";
    await makeSessionOnDisk(store, sid, 1000);
    const live = await bytes(store, `${sid}.json`);
    await store.index([
      { session_id: sid, title: "Test", updated_at: 1.0 },
      { session_id: "other", title: "Other", updated_at: 2.0 },
    ]);

    const before = await audit(store);
    assert.equal(before.summary.sessions, 1);
    // The seed's index entries are minimal: besides the seed module's
    // index_missing_file, hermes-fsck also names what they lack.
    const indexKinds = new Set([
      "index_missing_file",
      "index_missing_last_message_at",
      "index_entry_drift",
    ]);
    assert.ok(kinds(before.findings).includes("index_missing_file"));
    for (const kind of kinds(before.findings)) {
      assert.ok(indexKinds.has(kind), `unexpected ${kind}`);
    }
    assert.equal(
      only(before.findings, "index_missing_file")[0].sessionId,
      "other",
    );
    for (const f of before.findings) {
      assert.ok(!f.sessionId?.startsWith("_"), `finding on ${f.sessionId}`);
    }

    const report = await repair(store);
    assert.equal(report.summary.sessions, 1);
    assert.equal(report.exitCode, 1);
    assert.deepEqual(await bytes(store, `${sid}.json`), live, "not restored");
    const index = await store.readJson("_index.json") as {
      session_id: string;
    }[];
    assert.deepEqual(index.map((e) => e.session_id), [sid]);
  });
});

Deno.test("a list-shaped JSON file counts -1 messages, never crashes the scan", async () => {
  await withStore(async (store) => {
    // A sidecar whose top level is a list (the seed module's `_msg_count`
    // on `[{"session_id": "x"}]`), listed by no index.
    await store.writeRaw("listy.json", JSON.stringify([{ session_id: "x" }]));
    await store.sidecar("fine", { messages: 3 });
    await store.index([{ session_id: "fine", updated_at: 1 }]);
    // And an orphan backup of the same shape.
    await store.writeRaw("listbak.json.bak", JSON.stringify([{ a: 1 }]));

    const report = await audit(store);
    assert.deepEqual(only(report.findings, "check_failed"), []);
    assert.equal(report.summary.sessions, 2);
    // No rebuild can list it (it is no session object): not an index
    // entry to add, but a sidecar a person must look at.
    assert.deepEqual(only(report.findings, "index_missing_entry"), []);
    const entry = only(report.findings, "sidecar_missing_keys");
    assert.deepEqual(entry.map((f) => f.sessionId), ["listy"]);
    assert.equal(entry[0].evidence.liveMessages, -1);
    const malformed = only(report.findings, "malformed_orphan_backup");
    assert.deepEqual(malformed.map((f) => f.sessionId), ["listbak"]);
    assert.equal(malformed[0].evidence.bakMessages, -1);
    assert.equal(malformed[0].category, "unsafe_to_repair");
  });
});

// ------------------------------------------------------- idempotence

async function cleanStore(store: TestStore): Promise<void> {
  const sid = "s_test_1557";
  await makeSessionOnDisk(store, sid, 1000, false);
  await store.sidecar("second", { messages: 4, updated_at: 1778458100 });
  // The index the server itself would write for these two sidecars.
  await store.index(serverIndex([
    await store.readJson("second.json") as Record<string, unknown>,
    await store.readJson(`${sid}.json`) as Record<string, unknown>,
  ]));
  await store.journal("second", [
    {
      version: 1,
      event: "submitted",
      turn_id: "20260511T001122Z-abcdef123456",
      session_id: "second",
      created_at: 1778458282.1,
      role: "user",
      content: "a finished turn",
    },
    {
      version: 1,
      event: "completed",
      turn_id: "20260511T001122Z-abcdef123456",
      session_id: "second",
      created_at: 1778458290.0,
    },
  ]);
  store.stateDb({
    sessions: [{ id: "second", source: "webui", started_at: 1 }],
    messages: [{ id: 1, session_id: "second", role: "user", content: "x" }],
  });
}

Deno.test("CLI: repair of a clean store is a no-op (exit 0, every byte unchanged, no _hermes_fsck)", async () => {
  await withStore(async (store) => {
    await cleanStore(store);
    const snapshot = await store.snapshot();

    const auditRun = await runCli(["audit", ...storeArgs(store)]);
    assert.equal(auditRun.code, 0, auditRun.stderr);
    const result = await runCli([
      "repair",
      ...storeArgs(store),
      "--format",
      "json",
    ]);
    assert.equal(result.code, 0, result.stderr);
    const report = parseCliJson(result) as unknown as Report;
    assert.equal(report.status, "ok");
    assert.equal(report.summary.sessions, 2);
    assert.deepEqual(report.repair?.actions, []);
    assert.equal(report.repair?.runId, null);
    assert.deepEqual(await store.snapshot(), snapshot);
    assert.equal(await store.exists("_hermes_fsck"), false);
  });
});

Deno.test("repair twice on a damaged store: the second run changes nothing and exits 0", async () => {
  await withStore(async (store) => {
    // shrunken live, orphan backup, a stale index, a lost sidecar that
    // state.db still has, and a pending journal turn: all repairable.
    await store.backup("shrunk", { messages: 30 });
    await store.sidecar("shrunk", { messages: 2 });
    await store.sidecar("orphan", { messages: 5 });
    await orphanize(store, "orphan");
    await store.sidecar("journaled", { messages: 2 });
    await store.journal("journaled", [{
      version: 1,
      event: "submitted",
      turn_id: "t1",
      session_id: "journaled",
      created_at: 1778458282.1,
      role: "user",
      content: "lost prompt",
    }]);
    await store.index([{ session_id: "ghost", updated_at: 1 }]);
    store.stateDb({
      sessions: [
        { id: "orphan", source: "cli", started_at: 1 },
        { id: "lost", source: "webui", started_at: 2, title: "Lost" },
      ],
      messages: [
        { id: 1, session_id: "lost", role: "user", content: "q", timestamp: 3 },
        {
          id: 2,
          session_id: "lost",
          role: "assistant",
          content: "a",
          timestamp: 4,
        },
      ],
    });
    const damaged = await store.snapshot();
    const before = await audit(store, { serverStopped: true });
    assert.deepEqual(await store.snapshot(), damaged, "audit writes nothing");
    assert.deepEqual(kinds(before.findings), [
      "index_missing_entry",
      "index_missing_entry",
      "index_missing_file",
      "orphan_backup",
      "shrunken_live",
      "state_db_missing_sidecar",
      "turn_journal_pending_turn",
    ]);

    const first = await repair(store, { serverStopped: true });
    assert.equal(first.exitCode, 1);
    assert.equal(first.status, "ok");
    assert.equal(first.summary.repairable, 0);
    assert.equal(first.summary.unsafe_to_repair, 0);
    const index = await store.readJson("_index.json") as {
      session_id: string;
    }[];
    assert.deepEqual(
      index.map((e) => e.session_id).sort(),
      ["journaled", "lost", "orphan", "shrunk"],
    );

    const repaired = await store.snapshot();
    const second = await repair(store, { serverStopped: true });
    assert.equal(second.exitCode, 0);
    assert.equal(second.status, "ok");
    assert.deepEqual(second.repair?.actions, []);
    assert.equal(second.repair?.runId, null);
    assert.deepEqual(await store.snapshot(), repaired);
  });
});

Deno.test("repair twice with an unsafe finding left: 5, then 4 with nothing changed", async () => {
  await withStore(async (store) => {
    await store.backup("shrunk", { messages: 30 });
    await store.sidecar("shrunk", { messages: 2 });
    await store.writeRaw("broken.json.bak", '{"session_id": "broken", "mess');
    const first = await repair(store);
    assert.equal(first.exitCode, 5);
    const repaired = await store.snapshot();
    const second = await repair(store);
    assert.equal(second.exitCode, 4);
    assert.deepEqual(kinds(second.findings), ["malformed_orphan_backup"]);
    assert.deepEqual(second.repair?.actions, []);
    assert.deepEqual(await store.snapshot(), repaired);
  });
});

// ---------------------------------------- seed 001: state.db sidecars

Deno.test("materialize from state.db keeps worktree fields, workspace, message_count, created_at; orders by timestamp, id", async () => {
  await withStore(async (store) => {
    store.stateDb({
      sessions: [
        {
          id: "wt_session",
          source: "webui",
          title: "Worktree task",
          model: "gpt-x",
          started_at: 1778450000.25,
          message_count: 7,
          workspace: "/repo/.worktrees/feat",
          worktree_path: "/repo/.worktrees/feat",
          worktree_branch: "feat/recovery",
          worktree_repo_root: "/repo",
          worktree_created_at: 1778449999.5,
        },
        {
          id: "plain_session",
          source: "webui",
          title: "Plain",
          model: "m",
          started_at: 1778451000,
        },
        // Not a WebUI session: never materialized.
        { id: "cli_session", source: "cli", started_at: 3 },
      ],
      messages: [
        // Inserted out of order: rowid order is c, e, b; (timestamp, id)
        // order is b, c, e.
        {
          id: 3,
          session_id: "wt_session",
          role: "assistant",
          content: "c",
          timestamp: 1778450100,
        },
        {
          id: 1,
          session_id: "wt_session",
          role: "user",
          content: "e",
          timestamp: 1778450200,
        },
        {
          id: 2,
          session_id: "wt_session",
          role: "user",
          content: "b",
          timestamp: 1778450100,
        },
        {
          id: 10,
          session_id: "plain_session",
          role: "user",
          content: "hello",
          timestamp: 1778451000,
        },
        {
          id: 11,
          session_id: "plain_session",
          role: "assistant",
          content: "hi",
          timestamp: 1778451001,
        },
        { id: 20, session_id: "cli_session", role: "user", content: "x" },
      ],
    });

    const before = await audit(store);
    assert.deepEqual(
      only(before.findings, "state_db_missing_sidecar").map((f) => f.sessionId)
        .sort(),
      ["plain_session", "wt_session"],
    );
    const report = await repair(store);
    assert.equal(report.exitCode, 1);
    assert.equal(await store.exists("cli_session.json"), false);

    const wt = await store.readJson("wt_session.json") as Record<
      string,
      unknown
    >;
    assert.equal(wt.session_id, "wt_session");
    assert.equal(wt.title, "Worktree task");
    assert.equal(wt.model, "gpt-x");
    assert.equal(wt.workspace, "/repo/.worktrees/feat");
    assert.equal(wt.worktree_path, "/repo/.worktrees/feat");
    assert.equal(wt.worktree_branch, "feat/recovery");
    assert.equal(wt.worktree_repo_root, "/repo");
    assert.equal(wt.worktree_created_at, 1778449999.5);
    assert.equal(wt.created_at, 1778450000.25);
    assert.equal(wt.message_count, 7, "the row's message_count is kept");
    assert.equal(wt.updated_at, 1778450200);
    assert.deepEqual(wt.messages, [
      { role: "user", content: "b", timestamp: 1778450100 },
      { role: "assistant", content: "c", timestamp: 1778450100 },
      { role: "user", content: "e", timestamp: 1778450200 },
    ]);

    const plain = await store.readJson("plain_session.json") as Record<
      string,
      unknown
    >;
    assert.equal(plain.workspace, "");
    assert.equal(plain.worktree_path, null);
    assert.equal(plain.worktree_branch, null);
    assert.equal(plain.worktree_repo_root, null);
    assert.equal(plain.worktree_created_at, null);
    assert.equal(plain.message_count, 2);
    assert.equal(plain.created_at, 1778451000);

    // Then the index is rebuilt, and only the worktree session carries the
    // worktree keys there (so the sidebar keeps it).
    const index = await store.readJson("_index.json") as Record<
      string,
      unknown
    >[];
    const byId = new Map(index.map((e) => [e.session_id, e]));
    assert.deepEqual([...byId.keys()].sort(), ["plain_session", "wt_session"]);
    assert.equal(
      byId.get("wt_session")?.worktree_path,
      "/repo/.worktrees/feat",
    );
    // The entry takes the persisted count, as today's server's compact().
    assert.equal(byId.get("wt_session")?.message_count, 7);
    assert.equal("worktree_path" in byId.get("plain_session")!, false);
    for (const e of index) assert.ok("last_message_at" in e);

    // Round trip: the materialized sidecars read back as sessions with
    // their messages, so a second audit finds nothing; no temp is left.
    const again = await audit(store);
    assert.equal(again.status, "ok");
    assert.equal(again.summary.repairable + again.summary.unsafe_to_repair, 0);
    assert.equal(again.summary.sessions, 2);
    assert.deepEqual(await fsckTemps(store), []);
  });
});

Deno.test("materialize from an old-schema state.db: workspace '', worktree null, message_count = messages", async () => {
  await withStore(async (store) => {
    store.stateDb({
      sessions: [{ id: "old_session", source: "webui", title: "Old" }],
      messages: [
        { session_id: "old_session", role: "user", content: "q1" },
        { session_id: "old_session", role: "assistant", content: "a1" },
        { session_id: "old_session", role: "user", content: "q2" },
      ],
    }, OLD_SCHEMA);
    const report = await repair(store);
    assert.equal(report.exitCode, 1);
    const doc = await store.readJson("old_session.json") as Record<
      string,
      unknown
    >;
    assert.equal(doc.session_id, "old_session");
    assert.equal(doc.title, "Old");
    assert.equal(doc.workspace, "");
    assert.equal(doc.worktree_path, null);
    assert.equal(doc.worktree_branch, null);
    assert.equal(doc.worktree_repo_root, null);
    assert.equal(doc.worktree_created_at, null);
    assert.equal(doc.message_count, 3);
    assert.equal(doc.model, "unknown");
    assert.deepEqual(doc.messages, [
      { role: "user", content: "q1" },
      { role: "assistant", content: "a1" },
      { role: "user", content: "q2" },
    ]);
  });
});

Deno.test("an orphan .bak that state.db can also rebuild is restored from the .bak; materialize steps aside", async () => {
  await withStore(async (store) => {
    const sid = "both_sources";
    await store.sidecar(sid, { messages: 8, title: "From the WebUI" });
    const bakBytes = await orphanize(store, sid);
    store.stateDb({
      sessions: [{ id: sid, source: "webui", started_at: 1, title: "db" }],
      messages: [
        { id: 1, session_id: sid, role: "user", content: "q", timestamp: 2 },
      ],
    });
    const before = await audit(store);
    assert.deepEqual(kinds(before.findings), [
      "orphan_backup",
      "state_db_missing_sidecar",
    ]);
    const report = await repair(store);
    assert.equal(report.exitCode, 1);
    assert.deepEqual(await bytes(store, `${sid}.json`), bakBytes);
    assert.equal(report.status, "ok");
  });
});

Deno.test("a state.db webui row without messages is reported for review, never materialized", async () => {
  await withStore(async (store) => {
    store.stateDb({
      sessions: [{
        id: "empty_worktree",
        source: "webui",
        worktree_path: "/repo/.worktrees/empty",
        started_at: 9,
      }],
    });
    const snapshot = await store.snapshot();
    const report = await repair(store);
    assert.deepEqual(kinds(report.findings), ["state_db_orphan_webui_row"]);
    assert.equal(
      only(report.findings, "state_db_orphan_webui_row")[0].category,
      "unsafe_to_repair",
    );
    assert.equal(report.exitCode, 4);
    assert.equal(await store.exists("empty_worktree.json"), false);
    assert.deepEqual(await store.snapshot(), snapshot);
  });
  // The row mapping itself keeps an empty worktree session's worktree path
  // (the seed tests' third worktree test), so such a sidecar would stay
  // visible in the sidebar.
  const row: StateDbSessionRow = {
    id: "empty_worktree",
    rawId: "empty_worktree",
    position: 0,
    columns: {
      source: "webui",
      title: null,
      model: null,
      started_at: 9,
      parent_session_id: null,
      message_count: 0,
      workspace: "/repo/.worktrees/empty",
      worktree_path: "/repo/.worktrees/empty",
      worktree_branch: "empty",
      worktree_repo_root: "/repo",
      worktree_created_at: 8,
    },
    messageCount: 0,
  };
  const sidecar = stateDbRowToSidecar(row, []);
  assert.equal(sidecar.worktree_path, "/repo/.worktrees/empty");
  assert.equal(sidecar.workspace, "/repo/.worktrees/empty");
  assert.equal(sidecar.message_count, 0);
  assert.deepEqual(sidecar.messages, []);
});

Deno.test("create-or-fail: the safety layer never overwrites a file that exists", async () => {
  await withStore(async (store) => {
    await store.writeRaw("raced.json", '{"written": "by the server"}');
    const before = await bytes(store, "raced.json");
    const writer = await StoreWriter.open(store.sessionDir, newRunId());
    const outcome = await writer.apply({
      op: "write",
      path: "raced.json",
      data: new TextEncoder().encode('{"written": "by hermes-fsck"}'),
      expect: { exists: false },
      note: "materialize raced.json",
    });
    await writer.close();
    assert.equal(outcome.status, "skipped");
    assert.equal(outcome.reason, "exists");
    assert.deepEqual(await bytes(store, "raced.json"), before);
    assert.deepEqual(await fsckTemps(store), []);
  });
});

/**
 * Runs a repair during which the server saves `raced.json` right after
 * hermes-fsck planned to materialize it from state.db.
 */
async function raceMaterialize(
  store: TestStore,
): Promise<{ report: Report; serverBytes: Uint8Array }> {
  store.stateDb({
    sessions: [{ id: "raced", source: "webui", started_at: 1 }],
    messages: [
      { id: 1, session_id: "raced", role: "user", content: "q", timestamp: 2 },
    ],
  });
  const serverBytes = new TextEncoder().encode(
    JSON.stringify(makeSidecar("raced", { messages: 6 }), null, 2),
  );
  const racing: Repair = {
    ...materializeFromStateDb,
    async plan(findings, context) {
      const plan = await materializeFromStateDb.plan(findings, context);
      await store.writeRaw("raced.json", serverBytes);
      return plan;
    },
  };
  const report = await repair(store, {
    repairs: [
      racing,
      ...builtinRepairs.filter((r) => r.id !== materializeFromStateDb.id),
    ],
  });
  return { report, serverBytes };
}

Deno.test("create-or-fail end to end: a sidecar saved between plan and apply wins over materialize", async () => {
  await withStore(async (store) => {
    const { report, serverBytes } = await raceMaterialize(store);
    assert.deepEqual(await bytes(store, "raced.json"), serverBytes);
    const record = report.repair!.actions.find((a) =>
      a.repair === "materialize_from_state_db"
    );
    assert.equal(record?.status, "skipped");
    assert.equal(record?.actions[0].reason, "exists");
    assert.equal(report.exitCode & 1, 0, "nothing was repaired");
    assert.deepEqual(await fsckTemps(store), []);
  });
});

Deno.test("orphan restore is create-or-fail: a live file the server saves meanwhile wins", async () => {
  for (const when of ["before planning", "after planning"]) {
    await withStore(async (store) => {
      const sid = "orphan_raced";
      await store.sidecar(sid, { messages: 5 });
      const bakBytes = await orphanize(store, sid);
      // The server's newer save, with more messages than the backup.
      const serverBytes = new TextEncoder().encode(
        JSON.stringify(makeSidecar(sid, { messages: 9 }), null, 2),
      );
      const racing: Repair = {
        ...restoreFromBak,
        async plan(findings, context) {
          if (when === "before planning") {
            await store.writeRaw(`${sid}.json`, serverBytes);
          }
          const plan = await restoreFromBak.plan(findings, context);
          if (when === "after planning") {
            await store.writeRaw(`${sid}.json`, serverBytes);
          }
          return plan;
        },
      };
      const report = await repair(store, {
        repairs: [
          racing,
          ...builtinRepairs.filter((r) => r.id !== restoreFromBak.id),
        ],
      });
      assert.deepEqual(
        await bytes(store, `${sid}.json`),
        serverBytes,
        `server's save ${when} was overwritten`,
      );
      assert.deepEqual(await bytes(store, `${sid}.json.bak`), bakBytes);
      const record = report.repair!.actions.find((a) =>
        a.repair === "restore_from_bak"
      );
      assert.equal(record?.status, "skipped", when);
      assert.equal(report.exitCode & 1, 0, "nothing was repaired");
      assert.deepEqual(await fsckTemps(store), []);
    });
  }
});

Deno.test("after a repair skipped because the store moved, the report describes the store as it is now", async () => {
  await withStore(async (store) => {
    // The seed module's repair-safe always audits again for its `after`; a
    // report that says raced.json is missing while it exists misleads the
    // operator and turns a clean store into exit code 4.
    const { report } = await raceMaterialize(store);
    assert.equal(await store.exists("raced.json"), true);
    assert.deepEqual(
      only(report.findings, "state_db_missing_sidecar").map((f) => f.message),
      [],
      "the final findings claim a sidecar is missing that exists",
    );
    // The race itself is reported, not silent.
    const race = only(report.findings, "store_changed_during_repair");
    assert.equal(race.length, 1);
    assert.deepEqual(race[0].paths, ["raced.json"]);
    assert.equal(race[0].category, "info");
    assert.equal(race[0].evidence.repair, "materialize_from_state_db");
  });
});

Deno.test("a state.db row id like ../../x or a/b never becomes a path", async () => {
  await withStore(async (store) => {
    const escape = `../../../hermes_fsck_escape_${crypto.randomUUID()}`;
    const ids = ["../../x", "a/b", escape, "Up.per", " ../y"];
    store.stateDb({
      sessions: ids.map((id, i) => ({ id, source: "webui", started_at: i })),
      messages: ids.map((id, i) => ({
        id: i + 1,
        session_id: id,
        role: "user",
        content: `message ${i}`,
        timestamp: 100 + i,
      })),
    });
    const snapshot = await store.snapshot();

    const before = await audit(store);
    const invalid = only(before.findings, "invalid_session_id");
    assert.deepEqual(
      invalid.map((f) => f.evidence.id).sort(),
      ["../../x", "../y", "Up.per", "a/b", escape].sort(),
    );
    for (const f of invalid) {
      assert.equal(f.evidence.source, "state_db");
      assert.equal(f.category, "unsafe_to_repair");
    }
    assert.deepEqual(only(before.findings, "state_db_missing_sidecar"), []);

    const report = await repair(store);
    assert.equal(report.exitCode, 4);
    assert.deepEqual(report.repair?.actions, []);
    assert.deepEqual(await store.snapshot(), snapshot, "nothing was created");
    assert.equal(await store.exists("_hermes_fsck"), false);
    const outside = join(store.root, "..", `${escape.slice(9)}.json`);
    assert.equal(
      await Deno.lstat(outside).then(() => true, () => false),
      false,
      "nothing was written beside the temp root",
    );
  });
});

// ---------------------------------------------- seed 001: turn journal

Deno.test("a pending journal turn is recovered into the sidecar and closed in the journal", async () => {
  await withStore(async (store) => {
    const sid = "journaled";
    const turnId = "20260511T001122Z-abcdef123456";
    await store.sidecar(sid, {
      messages: 4,
      context_messages: [{ role: "user", content: "message 0" }],
      clear_generation: "g1",
      truncation_watermark: 0,
    });
    const original = new TextDecoder().decode(
      await bytes(store, `${sid}.json`),
    );
    const attachments = [{ name: "notes.txt", path: "/tmp/notes.txt" }];
    await store.journal(sid, [
      {
        version: 1,
        event: "submitted",
        turn_id: "20260511T000000Z-000000000000",
        session_id: sid,
        created_at: 1778458100,
        role: "user",
        content: "message 2",
      },
      {
        version: 1,
        event: "completed",
        turn_id: "20260511T000000Z-000000000000",
        session_id: sid,
        created_at: 1778458110,
      },
      "not json at all",
      {
        version: 1,
        event: "submitted",
        turn_id: turnId,
        session_id: sid,
        stream_id: "stream-1",
        created_at: 1778458282.1,
        role: "user",
        content: "Please finish the report",
        attachments,
        workspace: "/work/project",
        model: "test-model",
      },
    ]);
    const journalBefore = await bytes(store, `_turn_journal/${sid}.jsonl`);

    const before = await audit(store, { serverStopped: true });
    const pending = only(before.findings, "turn_journal_pending_turn");
    assert.equal(pending.length, 1);
    assert.equal(pending[0].sessionId, sid);
    assert.equal(pending[0].evidence.turnId, turnId);
    assert.equal(pending[0].evidence.event, "submitted");
    assert.equal(pending[0].evidence.liveMessages, 4);

    const report = await repair(store, { serverStopped: true });
    assert.equal(report.exitCode, 1);

    const doc = await store.readJson(`${sid}.json`) as {
      messages: Record<string, unknown>[];
      context_messages: Record<string, unknown>[];
    };
    assert.equal(doc.messages.length, 6);
    const prompt = {
      role: "user",
      content: "Please finish the report",
      timestamp: 1778458282, // int(), as the server stamps a recovered prompt
      _recovered: true,
      attachments,
    };
    assert.deepEqual(doc.messages[4], prompt);
    // A sidecar of a later server than the seed's (it has clear_generation)
    // gets today's marker, and the model's context gets the prompt.
    assert.equal(doc.messages[5].role, "assistant");
    assert.equal(doc.messages[5].type, "interrupted");
    assert.equal(doc.messages[5].interruption_cause, "process_restart");
    assert.match(
      String(doc.messages[5].content),
      /^\*\*Response interrupted\.\*\*\n\n.*no agent output was recovered\.$/s,
    );
    assert.equal(doc.messages[5]._error, true);
    assert.deepEqual(doc.context_messages, [
      { role: "user", content: "message 0" },
      prompt,
    ]);

    // Every byte outside the appended rows is as the server wrote it.
    const edited = new TextDecoder().decode(await bytes(store, `${sid}.json`));
    const head = original.indexOf('"messages": [');
    const tail = original.indexOf('"tool_calls"');
    const context = original.indexOf('"context_messages"');
    assert.ok(head > 0 && tail > head && context > tail);
    assert.equal(edited.slice(0, head), original.slice(0, head));
    const lastOld = original.lastIndexOf("}", tail);
    assert.equal(edited.slice(0, lastOld + 1), original.slice(0, lastOld + 1));
    const contextAt = edited.indexOf('"context_messages"');
    assert.equal(
      edited.slice(edited.indexOf('"tool_calls"'), contextAt),
      original.slice(tail, context),
    );

    // The journal keeps its bytes and gains an interrupted event.
    const journalAfter = await bytes(store, `_turn_journal/${sid}.jsonl`);
    assert.deepEqual(
      journalAfter.subarray(0, journalBefore.length),
      journalBefore,
    );
    const added = new TextDecoder().decode(
      journalAfter.subarray(journalBefore.length),
    ).trim().split("\n");
    assert.equal(added.length, 1);
    const event = JSON.parse(added[0]);
    assert.equal(event.event, "interrupted");
    assert.equal(event.turn_id, turnId);
    assert.equal(event.session_id, sid);
    assert.ok(event.created_at >= 1778458282.1);

    const again = await audit(store, { serverStopped: true });
    assert.deepEqual(only(again.findings, "turn_journal_pending_turn"), []);
    assert.equal(again.status, "ok");
  });
});

Deno.test("journal turns that are finished, already saved, or empty are not pending", async () => {
  await withStore(async (store) => {
    const sid = "quiet";
    await store.sidecar(sid, {
      messages: [
        { role: "user", content: "already saved", timestamp: 1 },
        { role: "assistant", content: "ok", timestamp: 2 },
      ],
    });
    const ev = (turn: string, event: string, extra = {}) => ({
      version: 1,
      event,
      turn_id: turn,
      session_id: sid,
      created_at: 1778458282,
      ...extra,
    });
    await store.journal(sid, [
      ev("t_done", "submitted", { content: "finished turn" }),
      // Terminal events that repeat the content are still terminal.
      {
        ...ev("t_done", "completed", { content: "finished turn" }),
        created_at: 1778458290,
      },
      ev("t_saved", "submitted", { content: "  already saved " }),
      ev("t_empty", "submitted", { content: "" }),
      ev("t_interrupted", "submitted", { content: "stopped" }),
      {
        ...ev("t_interrupted", "interrupted", {
          reason: "user",
          content: "stopped",
        }),
        created_at: 1778458300,
      },
      '{"truncated": ',
      ev("t_bad_time", "completed", { created_at: "soon", content: "late" }),
    ]);
    const snapshot = await store.snapshot();
    const report = await repair(store);
    assert.deepEqual(only(report.findings, "turn_journal_pending_turn"), []);
    assert.deepEqual(
      only(report.repair!.before.findings, "turn_journal_pending_turn"),
      [],
    );
    assert.deepEqual(only(report.findings, "check_failed"), []);
    assert.deepEqual(await store.snapshot(), snapshot);
  });
});

// ------------------------------------------------ unsafe and exit codes

Deno.test("unsafe findings are never touched: a malformed orphan backup keeps its bytes", async () => {
  await withStore(async (store) => {
    const raw = '{"session_id": "broken", "messages": [{"role": "user", "con';
    await store.writeRaw("broken.json.bak", raw);
    const before = await audit(store);
    assert.deepEqual(kinds(before.findings), ["malformed_orphan_backup"]);
    assert.equal(
      only(before.findings, "malformed_orphan_backup")[0].evidence.bakMessages,
      -1,
    );
    const report = await repair(store);
    assert.equal(report.exitCode, 4);
    assert.equal(await Deno.readTextFile(store.path("broken.json.bak")), raw);
    assert.equal(await store.exists("broken.json"), false);
    assert.equal(await store.exists("_hermes_fsck"), false);
  });
});

Deno.test("CLI: repair exit codes 1 (repaired, nothing left), 5 (repaired, unsafe left), 4 (unsafe only)", async () => {
  const stores = await Promise.all([0, 1, 2].map(() => TestStore.create()));
  try {
    const [repairedOnly, mixed, unsafeOnly] = stores;
    for (const store of [repairedOnly, mixed]) {
      await store.backup("shrunk", { messages: 30 });
      await store.sidecar("shrunk", { messages: 2 });
    }
    for (const store of [mixed, unsafeOnly]) {
      await store.writeRaw("broken.json.bak", '{"messages": [');
    }
    const unsafeSnapshot = await unsafeOnly.snapshot();
    const results = await Promise.all(
      stores.map((store) =>
        runCli(["repair", ...storeArgs(store, false), "--format", "json"])
      ),
    );
    assert.deepEqual(results.map((r) => r.code), [1, 5, 4]);
    for (const result of results) {
      const report = parseCliJson(result);
      assert.equal(report.exitCode, result.code);
    }
    assert.equal(
      (await messagesOf(repairedOnly, "shrunk.json")).length,
      30,
    );
    assert.equal((await messagesOf(mixed, "shrunk.json")).length, 30);
    assert.equal(
      await Deno.readTextFile(mixed.path("broken.json.bak")),
      '{"messages": [',
    );
    assert.deepEqual(await unsafeOnly.snapshot(), unsafeSnapshot);
  } finally {
    await Promise.all(stores.map((s) => s.cleanup()));
  }
});

Deno.test("CLI: webui-json gives the server's audit and repair-safe shapes", async () => {
  const store = await TestStore.create();
  const other = await TestStore.create();
  try {
    // A shrunken session (audit shape) and an orphan (repair counts).
    const sid = "s_test_1557";
    const session = await makeSessionOnDisk(store, sid, 1000);
    await store.writeRaw(`${sid}.json.bak`, await bytes(store, `${sid}.json`));
    await store.writeRaw(
      `${sid}.json`,
      JSON.stringify({ ...session, messages: [] }),
    );
    await store.sidecar("orphan_one", { messages: 293 });
    await orphanize(store, "orphan_one");
    await store.index([]);
    // Another store is what the environment names as the server's dir: the
    // repair must rebuild the index of the dir it was given, not that one.
    await other.sidecar("elsewhere", { messages: 1 });
    await other.index([]);
    const otherSnapshot = await other.snapshot();
    const env = {
      HERMES_WEBUI_STATE_DIR: join(other.root, "webui"),
      HERMES_HOME: other.hermesHome,
    };

    const auditRun = await runCli(
      ["audit", ...storeArgs(store, false), "--format", "webui-json"],
      { env },
    );
    assert.equal(auditRun.code, 4, auditRun.stderr);
    const audited = parseCliJson(auditRun);
    assert.equal(audited.status, "warn");
    assert.deepEqual(audited.summary, {
      ok: 1,
      repairable: 3,
      unsafe_to_repair: 0,
    });
    const items = audited.items as Record<string, unknown>[];
    assert.deepEqual(
      items.find((i) => i.kind === "shrunken_live"),
      {
        session_id: sid,
        kind: "shrunken_live",
        category: "repairable",
        recommendation: "restore_from_bak",
        live_messages: 0,
        bak_messages: 1000,
      },
    );
    assert.deepEqual(
      items.find((i) => i.kind === "orphan_backup"),
      {
        session_id: "orphan_one",
        kind: "orphan_backup",
        category: "repairable",
        recommendation: "restore_from_bak",
        live_messages: -1,
        bak_messages: 293,
      },
    );

    const repairRun = await runCli(
      ["repair", ...storeArgs(store, false), "--format", "webui-json"],
      { env },
    );
    assert.equal(repairRun.code, 1, repairRun.stderr);
    const repaired = parseCliJson(repairRun);
    assert.equal(repaired.clean, true);
    assert.equal(repaired.repaired, 2);
    const backupRepair = repaired.backup_repair as Record<string, unknown>;
    assert.equal(backupRepair.restored, 2);
    assert.equal(backupRepair.orphaned_backups, 1);
    assert.equal(backupRepair.scanned, 2);
    assert.equal((repaired.after as { status: string }).status, "ok");
    const index = await store.readJson("_index.json") as {
      session_id: string;
    }[];
    assert.deepEqual(index.map((e) => e.session_id).sort(), [
      "orphan_one",
      sid,
    ]);
    assert.deepEqual(await other.snapshot(), otherSnapshot);
  } finally {
    await store.cleanup();
    await other.cleanup();
  }
});

Deno.test("CLI: webui-json repair skips an orphan absent from state.db (restored 0, scanned 0)", async () => {
  await withStore(async (store) => {
    const sid = "s_test_1557";
    await makeSessionOnDisk(store, sid, 12);
    await orphanize(store, sid);
    store.stateDb({ sessions: [{ id: "different_session" }] }, {
      sessions: ["id"],
      messages: null,
    });
    const result = await runCli([
      "repair",
      ...storeArgs(store),
      "--format",
      "webui-json",
    ]);
    assert.equal(result.code, 4, result.stderr);
    const report = parseCliJson(result);
    const backupRepair = report.backup_repair as Record<string, unknown>;
    assert.equal(backupRepair.restored, 0);
    assert.equal(backupRepair.scanned, 0);
    assert.equal(backupRepair.orphaned_backups, 0);
    assert.equal(report.clean, false);
    assert.equal(await store.exists(`${sid}.json`), false);
  });
});
