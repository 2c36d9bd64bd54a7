/**
 * Tests of core/state_db/state_db.ts on real SQLite files (node:sqlite): every schema
 * the agent has had, a database that is not one, and one that is locked.
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import {
  normalizeId,
  openStateDb,
  type StateDb,
  type StateDbReader,
} from "../core/state_db/state_db.ts";
import { FULL_SCHEMA, OLD_SCHEMA, withStore } from "./fixtures.ts";

/** Opens state.db, asserts it is readable, and closes it after `fn`. */
function withReader(path: string, fn: (db: StateDbReader) => void): void {
  const db = openStateDb(path);
  try {
    assert.equal(db.status, "ok", JSON.stringify(db));
    fn(db as StateDbReader);
  } finally {
    db.close();
  }
}

function unreadable(db: StateDb) {
  assert.equal(db.status, "unreadable", `status ${db.status}`);
  return db as Extract<StateDb, { status: "unreadable" }>;
}

Deno.test("state_db: full schema: webui rows with every column and their message counts", async () => {
  await withStore((store) => {
    store.stateDb({
      sessions: [
        {
          id: "s1",
          source: "webui",
          title: "First",
          model: "m1",
          started_at: 100,
          parent_session_id: null,
          message_count: 2,
          workspace: "/work/a",
          worktree_path: "/work/wt",
          worktree_branch: "feat",
          worktree_repo_root: "/work/repo",
          worktree_created_at: 99,
          ended_at: null,
          end_reason: null,
        },
        { id: "s2", source: "webui", title: "Second", started_at: 200 },
        { id: "cli1", source: "cli", title: "CLI", started_at: 300 },
      ],
      messages: [
        { id: 1, session_id: "s1", role: "user", content: "a", timestamp: 1 },
        {
          id: 2,
          session_id: "s1",
          role: "assistant",
          content: "b",
          timestamp: 2,
        },
        { id: 3, session_id: "cli1", role: "user", content: "c", timestamp: 3 },
      ],
    }, FULL_SCHEMA);
    withReader(store.stateDbPath, (db) => {
      assert.equal(db.path, store.stateDbPath);
      assert.equal(db.canListWebuiRows, true);
      assert.deepEqual(
        [...db.sessionColumns].sort(),
        [...FULL_SCHEMA.sessions].sort(),
      );
      assert.deepEqual(
        [...db.messageColumns].sort(),
        [...FULL_SCHEMA.messages!].sort(),
      );
      assert.deepEqual(db.webuiRows.map((r) => r.id), ["s2", "s1"]);
      const s1 = db.webuiRows.find((r) => r.id === "s1")!;
      assert.equal(s1.messageCount, 2);
      assert.equal(s1.rawId, "s1");
      assert.deepEqual(s1.columns, {
        source: "webui",
        title: "First",
        model: "m1",
        started_at: 100,
        parent_session_id: null,
        message_count: 2,
        workspace: "/work/a",
        worktree_path: "/work/wt",
        worktree_branch: "feat",
        worktree_repo_root: "/work/repo",
        worktree_created_at: 99,
      });
      const s2 = db.webuiRows.find((r) => r.id === "s2")!;
      assert.equal(s2.messageCount, 0);
      assert.equal(s2.columns.model, null);
      assert.deepEqual(db.messagesFor({ rawId: "s1" }), [
        { role: "user", content: "a", timestamp: 1 },
        { role: "assistant", content: "b", timestamp: 2 },
      ]);
      assert.deepEqual(db.messagesFor({ rawId: "s2" }), []);
      assert.deepEqual(db.messagesFor({ rawId: "nope" }), []);
    });
  });
});

Deno.test("state_db: non-webui rows are excluded from webuiRows but present in sessionIds", async () => {
  await withStore((store) => {
    store.stateDb({
      sessions: [
        { id: "w1", source: "webui", started_at: 1 },
        { id: "c1", source: "cli", started_at: 2 },
        { id: "t1", source: "telegram", started_at: 3 },
        { id: "n1", source: null, started_at: 4 },
        { id: "u1", source: "WebUI", started_at: 5 },
      ],
      messages: [
        { id: 1, session_id: "c1", role: "user", content: "x", timestamp: 1 },
      ],
    });
    withReader(store.stateDbPath, (db) => {
      assert.deepEqual(db.webuiRows.map((r) => r.id), ["w1"]);
      assert.deepEqual(
        [...db.sessionIds].sort(),
        ["c1", "n1", "t1", "u1", "w1"],
      );
    });
  });
});

Deno.test("state_db: webui rows are ordered by started_at descending, NULL as 0", async () => {
  await withStore((store) => {
    store.stateDb({
      sessions: [
        { id: "mid", source: "webui", started_at: 200 },
        { id: "nul", source: "webui", started_at: null },
        { id: "new", source: "webui", started_at: 1778458282.5 },
        { id: "old", source: "webui", started_at: 100 },
        { id: "neg", source: "webui", started_at: -5 },
      ],
    });
    withReader(store.stateDbPath, (db) => {
      assert.deepEqual(db.webuiRows.map((r) => r.id), [
        "new",
        "mid",
        "old",
        "nul",
        "neg",
      ]);
    });
  });
});

Deno.test("state_db: messages are ordered by timestamp, then id", async () => {
  await withStore((store) => {
    store.stateDb({
      sessions: [{ id: "s1", source: "webui", started_at: 1 }],
      messages: [
        { id: 5, session_id: "s1", role: "user", content: "e", timestamp: 30 },
        { id: 3, session_id: "s1", role: "user", content: "c", timestamp: 10 },
        { id: 1, session_id: "s1", role: "user", content: "a", timestamp: 20 },
        { id: 2, session_id: "s1", role: "user", content: "b", timestamp: 10 },
        {
          id: 4,
          session_id: "s1",
          role: "user",
          content: "d",
          timestamp: 10.5,
        },
      ],
    });
    withReader(store.stateDbPath, (db) => {
      assert.deepEqual(
        db.messagesFor({ rawId: "s1" }).map((m) => m.content),
        ["b", "c", "d", "a", "e"],
      );
    });
  });
});

Deno.test("state_db: old schema: missing optional columns are null, messages in rowid order", async () => {
  await withStore((store) => {
    store.stateDb({
      sessions: [
        { id: "first", source: "webui", title: "One" },
        { id: "second", source: "webui", title: "Two" },
        { id: "cli", source: "cli" },
      ],
      messages: [
        { session_id: "first", role: "user", content: "z" },
        { session_id: "first", role: "assistant", content: "a" },
        { session_id: "first", role: "user", content: "m" },
      ],
    }, OLD_SCHEMA);
    withReader(store.stateDbPath, (db) => {
      assert.equal(db.canListWebuiRows, true);
      assert.equal(db.messageColumns.has("timestamp"), false);
      // Without started_at, rows come in table order.
      assert.deepEqual(db.webuiRows.map((r) => r.id), ["first", "second"]);
      const first = db.webuiRows[0];
      assert.equal(first.columns.title, "One");
      assert.equal(first.columns.started_at, null);
      assert.equal(first.columns.workspace, null);
      assert.equal(first.columns.worktree_path, null);
      assert.equal(first.messageCount, 3);
      assert.deepEqual(db.messagesFor({ rawId: "first" }), [
        { role: "user", content: "z", timestamp: null },
        { role: "assistant", content: "a", timestamp: null },
        { role: "user", content: "m", timestamp: null },
      ]);
    });
  });
});

Deno.test("state_db: no messages table: rows listed, no messages, counts 0", async () => {
  await withStore((store) => {
    store.stateDb({
      sessions: [{ id: "s1", source: "webui", started_at: 1 }],
    }, { sessions: FULL_SCHEMA.sessions, messages: null });
    withReader(store.stateDbPath, (db) => {
      assert.equal(db.messageColumns.size, 0);
      assert.deepEqual(db.webuiRows.map((r) => [r.id, r.messageCount]), [
        ["s1", 0],
      ]);
      assert.deepEqual(db.messagesFor({ rawId: "s1" }), []);
    });
  });
});

Deno.test("state_db: no sessions table: readable, nothing listed", async () => {
  await withStore((store) => {
    const db = new DatabaseSync(store.stateDbPath);
    db.exec(
      "CREATE TABLE messages (id, session_id, role, content, timestamp)",
    );
    db.exec(
      "INSERT INTO messages VALUES (1, 's1', 'user', 'hi', 1)",
    );
    db.close();
    withReader(store.stateDbPath, (reader) => {
      assert.equal(reader.sessionColumns.size, 0);
      assert.equal(reader.canListWebuiRows, false);
      assert.equal(reader.sessionIds.size, 0);
      assert.deepEqual(reader.webuiRows, []);
    });
  });
});

Deno.test("state_db: a sessions table without source cannot list webui rows", async () => {
  await withStore((store) => {
    store.stateDb({ sessions: [{ id: "s1" }] }, {
      sessions: ["id", "title"],
      messages: null,
    });
    withReader(store.stateDbPath, (db) => {
      assert.equal(db.canListWebuiRows, false);
      assert.deepEqual(db.webuiRows, []);
      assert.deepEqual([...db.sessionIds], ["s1"]);
    });
  });
});

Deno.test("state_db: a file that is not a database is reported not_a_database", async () => {
  await withStore(async (store) => {
    await Deno.writeTextFile(
      store.stateDbPath,
      "this is not a SQLite database, just some text that is long enough " +
        "to fill a header page of one hundred bytes or more.\n".repeat(10),
    );
    const db = unreadable(openStateDb(store.stateDbPath));
    assert.equal(db.problem, "not_a_database");
    db.close();
  });
});

Deno.test("state_db: absent file, null path, and a directory", async () => {
  await withStore(async (store) => {
    const missing = openStateDb(store.stateDbPath);
    assert.equal(missing.status, "absent");
    missing.close();
    const none = openStateDb(null);
    assert.equal(none.status, "absent");
    assert.equal(none.path, null);
    await Deno.mkdir(store.stateDbPath);
    const dir = unreadable(openStateDb(store.stateDbPath));
    assert.equal(dir.problem, "not_regular_file");
  });
});

Deno.test("state_db: a database held by BEGIN EXCLUSIVE is reported locked within seconds", async () => {
  await withStore((store) => {
    store.stateDb({
      sessions: [{ id: "s1", source: "webui", started_at: 1 }],
    });
    const holder = new DatabaseSync(store.stateDbPath);
    try {
      holder.exec("BEGIN EXCLUSIVE");
      holder.exec("INSERT INTO sessions (id, source) VALUES ('s2', 'webui')");
      const started = performance.now();
      const db = openStateDb(store.stateDbPath);
      const elapsed = performance.now() - started;
      try {
        assert.equal(unreadable(db).problem, "locked");
        assert.ok(elapsed < 5000, `took ${elapsed} ms`);
      } finally {
        db.close();
      }
    } finally {
      holder.exec("ROLLBACK");
      holder.close();
    }
    // Once released, it reads again.
    withReader(store.stateDbPath, (db) => {
      assert.deepEqual(db.webuiRows.map((r) => r.id), ["s1"]);
    });
  });
});

Deno.test("state_db: a WAL-mode database is read, including rows not yet checkpointed", async () => {
  await withStore((store) => {
    store.stateDb({ sessions: [{ id: "s1", source: "webui", started_at: 1 }] });
    const writer = new DatabaseSync(store.stateDbPath);
    try {
      writer.exec("PRAGMA journal_mode = WAL");
      writer.exec("PRAGMA wal_autocheckpoint = 0");
      writer.exec(
        "INSERT INTO sessions (id, source, started_at) VALUES ('s2', 'webui', 2)",
      );
      withReader(store.stateDbPath, (db) => {
        assert.deepEqual(db.webuiRows.map((r) => r.id), ["s2", "s1"]);
      });
    } finally {
      writer.close();
    }
  });
});

Deno.test("state_db: ids are stripped as str(id or '').strip() and raw ids kept", async () => {
  await withStore((store) => {
    store.stateDb({
      sessions: [
        { id: "  padded \n", source: "webui", started_at: 3 },
        { id: "", source: "webui", started_at: 2 },
        { id: "plain", source: "cli", started_at: 1 },
      ],
    });
    withReader(store.stateDbPath, (db) => {
      assert.deepEqual(db.webuiRows.map((r) => [r.id, r.rawId]), [
        ["padded", "  padded \n"],
        ["", ""],
      ]);
      assert.ok(db.sessionIds.has("padded"));
      assert.ok(!db.sessionIds.has("  padded \n"));
      assert.ok(db.sessionIds.has("plain"));
    });
  });
  assert.equal(normalizeId(" abc "), "abc");
  assert.equal(normalizeId(null), "");
  assert.equal(normalizeId(0), "");
  assert.equal(normalizeId(7), "7");
  assert.equal(normalizeId(7n), "7");
});

Deno.test("state_db: integer ids become their decimal strings", async () => {
  await withStore((store) => {
    store.stateDb({
      sessions: [
        { id: 42, source: "webui", started_at: 2 },
        { id: 7, source: "cli", started_at: 1 },
        { id: 0, source: "webui", started_at: 0 },
      ],
    });
    withReader(store.stateDbPath, (db) => {
      assert.deepEqual(db.webuiRows.map((r) => [r.id, r.rawId]), [
        ["42", 42],
        ["", 0],
      ]);
      assert.ok(db.sessionIds.has("42"));
      assert.ok(db.sessionIds.has("7"));
    });
  });
});

// A row whose id carries whitespace, or is an integer in a typeless schema,
// has its messages stored under that same raw id. messageCount joins on the
// raw id; messagesFor must find the same messages, or the audit calls the
// row repairable (state_db_missing_sidecar) while the repair finds nothing.
Deno.test("state_db: messagesFor a whitespace-padded id returns the messages its row counts", async () => {
  await withStore((store) => {
    store.stateDb({
      sessions: [{ id: " padded ", source: "webui", started_at: 2 }],
      messages: [
        {
          id: 1,
          session_id: " padded ",
          role: "user",
          content: "a",
          timestamp: 1,
        },
        {
          id: 2,
          session_id: " padded ",
          role: "assistant",
          content: "b",
          timestamp: 2,
        },
      ],
    });
    withReader(store.stateDbPath, (db) => {
      const [row] = db.webuiRows;
      assert.equal(row.id, "padded");
      assert.equal(row.messageCount, 2);
      assert.deepEqual(db.messagesFor(row).map((m) => m.content), [
        "a",
        "b",
      ]);
    });
  });
});

Deno.test("state_db: messagesFor an integer id returns the messages its row counts", async () => {
  await withStore((store) => {
    store.stateDb({
      sessions: [{ id: 42, source: "webui", started_at: 1 }],
      messages: [
        { id: 3, session_id: 42, role: "user", content: "c", timestamp: 3 },
      ],
    });
    withReader(store.stateDbPath, (db) => {
      const [row] = db.webuiRows;
      assert.equal(row.id, "42");
      assert.equal(row.messageCount, 1);
      assert.deepEqual(db.messagesFor(row).map((m) => m.content), ["c"]);
    });
  });
});

Deno.test("state_db: columns are read when asked for, by rowid, even for ids that repeat; tables without rowid are read in table order", async () => {
  await withStore((store) => {
    store.stateDb({
      sessions: [
        { id: "dup", source: "webui", title: "First of two", started_at: 2 },
        { id: "dup", source: "webui", title: "Second of two", started_at: 1 },
      ],
      messages: [],
    });
    withReader(store.stateDbPath, (db) => {
      assert.deepEqual(
        db.webuiRows.map((r) => r.columns.title),
        ["First of two", "Second of two"],
      );
    });
    // A table without rowid (no server makes one) still gives its columns.
    const path = store.stateDbPath;
    Deno.removeSync(path);
    const raw = new DatabaseSync(path);
    raw.exec(
      "CREATE TABLE sessions (id TEXT PRIMARY KEY, source TEXT, title TEXT) WITHOUT ROWID",
    );
    raw.exec(
      "CREATE TABLE messages (session_id TEXT, seq INTEGER, role TEXT, content TEXT, PRIMARY KEY (session_id, seq)) WITHOUT ROWID",
    );
    raw.exec("INSERT INTO sessions VALUES ('w', 'webui', 'No rowid')");
    raw.exec(
      "INSERT INTO messages VALUES ('w', 2, 'assistant', 'b'), ('w', 1, 'user', 'a')",
    );
    raw.close();
    withReader(path, (db) => {
      assert.equal(db.webuiRows.length, 1);
      assert.equal(db.webuiRows[0].columns.title, "No rowid");
      assert.equal(db.webuiRows[0].columns.model, null);
      assert.equal(db.webuiRows[0].messageCount, 2);
      // In table order: a table without rowid is stored by its key.
      assert.deepEqual(db.messagesFor(db.webuiRows[0]), [
        { role: "user", content: "a", timestamp: null },
        { role: "assistant", content: "b", timestamp: null },
      ]);
    });
  });
});
