/**
 * Hostile state.db files (issue 7), through the CLI: not a SQLite file,
 * truncated, zero-filled, tables missing, columns holding values of the
 * wrong type, row ids that would leave the session dir, and a write
 * transaction of another process holding the lock. state.db is read, never
 * written; the run goes on without it and says so, on stderr (the path and
 * what to do) and in a finding. (Also covered elsewhere: a failed
 * quick_check and WAL files in state_db_health_test.ts, a lock held in this
 * process in state_db_access_test.ts, `../` ids in undo_lock_test.ts.)
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { withStore } from "./fixtures.ts";
import { cli, dirArgs, show, treeBytes, treeDiff } from "./safety_support.ts";
import { healthySession } from "./state_db_support.ts";
import {
  assertNoCrashInside,
  assertSurvived,
  parsedReport,
} from "./hostile_support.ts";

/** What each damaged state.db must be called, and what the operator is told. */
const DAMAGE: {
  name: string;
  damage: (bytes: Uint8Array) => Uint8Array | string;
  problem: string;
  says: RegExp;
}[] = [
  {
    name: "not a SQLite file",
    damage: () => "this is a text file where state.db should be\n".repeat(40),
    problem: "not_a_database",
    says: /is not a SQLite database; check the --state-db path/,
  },
  {
    name: "zero-filled",
    damage: (bytes) => new Uint8Array(bytes.length),
    problem: "not_a_database",
    says: /is not a SQLite database/,
  },
  {
    name: "truncated to its header",
    damage: (bytes) => bytes.subarray(0, 100),
    problem: "corrupt",
    says: /is corrupt \(.*\); restore it from a backup/,
  },
  {
    name: "truncated to its first page",
    damage: (bytes) => bytes.subarray(0, (bytes[16] << 8) | bytes[17]),
    problem: "corrupt",
    says: /is corrupt/,
  },
];

Deno.test("hostile state.db: not SQLite, zero-filled or truncated: reported with the path and what to do; the run goes on without it", async () => {
  for (const { name, damage, problem, says } of DAMAGE) {
    await withStore(async (store) => {
      await healthySession(store);
      await store.sidecar("shrunk", { messages: 1 });
      await store.backup("shrunk", { messages: 3 });
      const damaged = damage(await Deno.readFile(store.stateDbPath));
      if (typeof damaged === "string") {
        await Deno.writeTextFile(store.stateDbPath, damaged);
      } else await Deno.writeFile(store.stateDbPath, damaged);
      const bytes = await Deno.readFile(store.stateDbPath);
      const r = await cli(
        ["repair", ...dirArgs(store), "--format", "json"],
        store,
      );
      assertSurvived(r, new Set([5]), name);
      const escaped = store.stateDbPath.replaceAll(".", "\\.");
      assert.match(
        r.stderr,
        new RegExp(`warning: state\\.db ${escaped} .*; checked without it`),
        name,
      );
      assert.match(r.stderr, says, name);
      const report = parsedReport(r);
      assertNoCrashInside(report, name);
      const finding = report.findings.find((f) =>
        f.kind === "state_db_unreadable"
      );
      assert.equal(finding?.evidence.problem, problem, name);
      assert.deepEqual(finding?.paths, [store.stateDbPath]);
      // It went on: the shrunk session was restored (the repair wrote
      // nothing to state.db).
      assert.ok(
        report.repair!.actions.some((a) =>
          a.repair === "restore_from_bak" && a.status === "applied"
        ),
        name,
      );
      assert.deepEqual(await Deno.readFile(store.stateDbPath), bytes, name);
    });
  }
});

Deno.test("hostile state.db: tables missing: the checks that need them are named as skipped, the rest run", async () => {
  await withStore(async (store) => {
    await store.sidecar("s1", { messages: 2 });
    await store.backup("orphan", { messages: 2 });
    const db = new DatabaseSync(store.stateDbPath);
    db.exec("CREATE TABLE notes (body TEXT)");
    db.close();
    const r = await cli(
      ["audit", ...dirArgs(store), "--format", "json"],
      store,
    );
    assertSurvived(r, new Set([4]));
    const report = parsedReport(r);
    assertNoCrashInside(report);
    const old = report.findings.find((f) => f.kind === "state_db_old_schema");
    assert.match(
      old?.message ?? "",
      /lacks the sessions table, the messages table/,
    );
    assert.ok(report.findings.some((f) => f.kind === "orphan_backup"));
  });
});

Deno.test("hostile state.db: columns of the wrong type and ids that leave the store never crash and never become paths", async () => {
  await withStore(async (store) => {
    const db = new DatabaseSync(store.stateDbPath);
    db.exec(
      `CREATE TABLE sessions (id TEXT, source TEXT, title TEXT, model TEXT,
        started_at REAL, parent_session_id TEXT, message_count INTEGER,
        workspace TEXT, worktree_path TEXT, worktree_branch TEXT,
        worktree_repo_root TEXT, worktree_created_at REAL)`,
    );
    db.exec(
      `CREATE TABLE messages (id INTEGER, session_id TEXT, role TEXT,
        content TEXT, timestamp REAL, tool_calls TEXT)`,
    );
    const session = db.prepare(
      `INSERT INTO sessions VALUES (?, 'webui', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const message = db.prepare(
      "INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?)",
    );
    const blob = new Uint8Array([0xff, 0x00, 0xfe]);
    // Every optional column of the wrong type, one row per type.
    const wrong = [7, 1.5, "text", blob, null];
    for (const [i, value] of wrong.entries()) {
      const id = `typed${i}`;
      session.run(
        id,
        value,
        value,
        typeof value === "string" ? "yesterday" : value,
        value,
        typeof value === "number" ? "many" : value,
        value,
        value ?? "/work/tree",
        value,
        value,
        value,
      );
      message.run(1, id, value, value, value, value);
      message.run(2, id, "user", "a real message", "noon", "[not json");
    }
    // Ids of every type and ids that would leave the session dir.
    const hostile = [
      42,
      4.5,
      blob,
      "",
      "  padded  ",
      "..",
      ".",
      "a/b",
      "/abs",
      "../../x",
      "x\u0000y",
      "UP.PER",
      "_system",
      "x".repeat(300),
    ];
    for (const [i, id] of hostile.entries()) {
      db.prepare(
        "INSERT INTO sessions (id, source, title) VALUES (?, 'webui', 'x')",
      ).run(id);
      message.run(100 + i, id, "user", "escape?", 1, null);
    }
    db.close();
    const outside = store.root;
    const before = await treeBytes(outside);
    const r = await cli(
      ["repair", ...dirArgs(store), "--format", "json"],
      store,
    );
    assertSurvived(r, new Set([5]));
    const report = parsedReport(r);
    assertNoCrashInside(report);
    // Each typed row became a sidecar that parses, with its messages, but
    // the one whose message is a BLOB: that one is left, with the reason.
    for (let i = 0; i < wrong.length; i++) {
      if (wrong[i] === blob) {
        assert.equal(await store.exists(`typed${i}.json`), false);
        const skipped = report.repair!.actions.find((a) =>
          a.repair === "materialize_from_state_db" &&
          /BLOB/.test(a.detail ?? "")
        );
        assert.match(
          skipped?.detail ?? "",
          new RegExp(
            `state\.db ${store.stateDbPath} holds a message of typed${i} as a BLOB.*; rebuild typed${i}\.json by hand`,
          ),
        );
        continue;
      }
      const sidecar = await store.readJson(`typed${i}.json`) as {
        session_id: string;
        messages: unknown[];
      };
      assert.equal(sidecar.session_id, `typed${i}`);
      assert.equal(sidecar.messages.length, 2, `typed${i}`);
    }
    // Nothing was written anywhere but the session dir, and there only
    // sidecars of valid ids (a padded id is stripped, as the server strips
    // it), the index and the tool's own files.
    const after = await treeBytes(outside);
    const changed = treeDiff(before, after).filter((d) =>
      !/^added webui\/sessions\/(typed\d\.json|padded\.json|42\.json|_index\.json|_hermes_fsck.*)$/
        .test(d)
    );
    assert.deepEqual(changed, []);
    const invalid = report.findings.filter((f) =>
      f.kind === "invalid_session_id" && f.evidence.source === "state_db"
    ).map((f) => f.evidence.id);
    for (const id of ["..", "a/b", "/abs", "../../x", "UP.PER", "_system"]) {
      assert.ok(invalid.includes(id), `${id} not reported: ${invalid}`);
    }
  });
});

Deno.test("hostile state.db: a write transaction of another process: waited on briefly, then checked without it, and said so", async () => {
  await withStore(async (store) => {
    await healthySession(store);
    await store.sidecar("shrunk", { messages: 1 });
    await store.backup("shrunk", { messages: 3 });
    // Another process opens a write transaction and keeps it open.
    const holder = new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        `import { DatabaseSync } from "node:sqlite";
const db = new DatabaseSync(${JSON.stringify(store.stateDbPath)});
db.exec("BEGIN EXCLUSIVE");
db.exec("INSERT INTO sessions (id, source) VALUES ('writing', 'cli')");
console.log("locked");
for await (const _ of Deno.stdin.readable) { /* until stdin closes */ }
db.exec("ROLLBACK");`,
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const reader = holder.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
    try {
      const { value } = await reader.read();
      assert.match(value ?? "", /locked/);
      const started = performance.now();
      const r = await cli(
        ["repair", ...dirArgs(store), "--format", "json"],
        store,
      );
      const elapsed = performance.now() - started;
      assert.ok(elapsed < 20_000, `waited ${elapsed} ms`);
      assertSurvived(r, new Set([5]));
      assert.match(
        r.stderr,
        /is locked by another process \(waited \d+ ms\); run again when the agent is idle, or stop the agent first; checked without it/,
        show(r),
      );
      const report = parsedReport(r);
      assertNoCrashInside(report);
      assert.ok(report.findings.some((f) => f.kind === "state_db_locked"));
      assert.ok(
        report.repair!.actions.some((a) =>
          a.repair === "restore_from_bak" && a.status === "applied"
        ),
      );
    } finally {
      await holder.stdin.close();
      reader.releaseLock();
      await holder.stdout.cancel().catch(() => {});
      await holder.status;
    }
    // Released: the next run reads it.
    const free = await cli(["audit", ...dirArgs(store)], store);
    assertSurvived(free, new Set([0]));
  });
});

Deno.test("hostile state.db: WAL files present (a writer killed mid-transaction) are read as SQLite reads them, never deleted", async () => {
  await withStore(async (store) => {
    await healthySession(store);
    const script = `import { DatabaseSync } from "node:sqlite";
const db = new DatabaseSync(${JSON.stringify(store.stateDbPath)});
db.exec("PRAGMA journal_mode=WAL");
db.exec("INSERT INTO sessions (id, source, title) VALUES ('late', 'webui', 'Late')");
db.exec("INSERT INTO messages (id, session_id, role, content, timestamp) VALUES (9, 'late', 'user', 'only in the wal', 5)");
db.exec("BEGIN");
db.exec("INSERT INTO sessions (id, source) VALUES ('uncommitted', 'webui')");
Deno.exit(9);`;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", script],
    }).output();
    assert.equal(out.code, 9);
    const wal = join(store.hermesHome, "state.db-wal");
    assert.ok((await Deno.stat(wal)).size > 0);
    const r = await cli(
      ["repair", ...dirArgs(store), "--format", "json"],
      store,
    );
    assertSurvived(r, new Set([1]));
    assertNoCrashInside(parsedReport(r));
    // The committed row in the -wal was materialized; the uncommitted one not.
    const late = await store.readJson("late.json") as { messages: unknown[] };
    assert.equal(late.messages.length, 1);
    assert.equal(await store.exists("uncommitted.json"), false);
    assert.ok(await Deno.lstat(wal));
  });
});
