/**
 * Tests of the index entries and state.db rows read a part of the store at
 * a time (core/scan/index_scan.ts `summarizeIndexByParts`, core/state_db/state_db.ts
 * `OpenStateDbOptions.partOf`): each part gets exactly what the whole read
 * gives for its ids; an index written in place meanwhile stops the audit
 * with an error that names it, one renamed over it does not matter; state.db
 * rows deleted or changed meanwhile are left out, not misplaced.
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { openRegularFile } from "../core/io/file_read.ts";
import {
  summarizeIndexByParts,
  summarizeIndexFile,
} from "../core/scan/index_scan.ts";
import { scanStore } from "../core/scan/snapshot.ts";
import {
  openStateDb,
  type StateDbReader,
  type StateDbSessionRow,
} from "../core/state_db/state_db.ts";
import { type TestStore, withStore } from "./fixtures.ts";

/** Three parts: ids before "h", from "h" to before "p", from "p" on. */
const partOf = (id: string) => (id < "h" ? 0 : id < "p" ? 1 : 2);
const PARTS = 3;

/** An index in every part, out of id order, with entries that are not sessions. */
function mixedIndex(): unknown[] {
  const entries: unknown[] = [];
  for (let i = 0; i < 30; i++) {
    const id = `${"zcqkamx"[i % 7]}${i}`;
    entries.push({
      session_id: id,
      title: `Title ${i} é`,
      message_count: i,
      updated_at: 1700000000.5 + i,
      workspace: "/w",
    });
    if (i % 9 === 4) entries.push(7, { session_id: 12 }, { title: "no id" });
  }
  return entries;
}

/** Opens the store's index and reads it by parts. */
async function indexByParts(store: TestStore, parseWholeUpTo?: number) {
  const path = store.path("_index.json");
  const opened = await openRegularFile(path, 1 << 30);
  assert.ok(opened.ok);
  return summarizeIndexByParts(opened.file, path, 1 << 30, partOf, {
    parseWholeUpTo,
  });
}

/** The index read whole, as a whole-store scan reads it. */
async function indexWhole(store: TestStore) {
  const path = store.path("_index.json");
  const opened = await openRegularFile(path, 1 << 30);
  assert.ok(opened.ok);
  const { readAt, identity } = opened.file;
  const read = summarizeIndexFile(readAt, identity.size, 1 << 30)!.value;
  opened.file.close();
  assert.ok(read.ok);
  return read.value;
}

Deno.test("index by parts: each part gets the entries of its ids, in list order; the summary keeps the rest", async () => {
  await withStore(async (store) => {
    await store.index(mixedIndex());
    const whole = await indexWhole(store);
    const { read, parts, bytes } = await indexByParts(store, 0);
    assert.ok(read.ok && parts);
    assert.equal(bytes, (await Deno.stat(store.path("_index.json"))).size);
    assert.deepEqual(read.value.entries, []);
    assert.deepEqual(read.value.badEntries, whole.badEntries);
    assert.equal(read.value.badEntries.length, 9);
    for (let k = 0; k < PARTS; k++) {
      const expected = whole.entries.filter((e) => partOf(e.sessionId) === k);
      assert.ok(expected.length > 0);
      assert.deepEqual(plain(parts.take()), expected, `part ${k}`);
    }
    // Past the last part there is nothing.
    assert.deepEqual(parts.take(), []);
    parts.close();
  });
});

Deno.test("index by parts: a small index, or one that is not a list, is read whole", async () => {
  await withStore(async (store) => {
    await store.index(mixedIndex());
    const small = await indexByParts(store);
    assert.equal(small.parts, null);
    assert.ok(small.read.ok);
    assert.deepEqual(small.read.value, await indexWhole(store));

    await store.writeRaw("_index.json", '{"sessions": []}');
    const object = await indexByParts(store, 0);
    assert.equal(object.parts, null);
    assert.ok(object.read.ok && object.read.value.shape === "object");

    await store.writeRaw("_index.json", '[{"session_id": "a"},');
    const broken = await indexByParts(store, 0);
    assert.equal(broken.parts, null);
    assert.ok(!broken.read.ok);
    assert.equal(broken.read.problem.reason, "invalid_json");
  });
});

Deno.test("index by parts: written in place after the walk, a part is refused with an error naming the file", async () => {
  await withStore(async (store) => {
    const path = store.path("_index.json");
    await store.index([{ session_id: "a1" }, { session_id: "z1" }]);
    // Grown: the size tells.
    const grown = await indexByParts(store, 0);
    await store.index([{ session_id: "a1" }, { session_id: "z1", x: 1 }]);
    assert.throws(
      () => grown.parts!.take(),
      (error: Error) =>
        error.message.startsWith(path) &&
        error.message.includes("run the audit again"),
    );
    grown.parts!.close();
    // The same size and mtime, other ids: the entries read again tell.
    await store.index([{ session_id: "a1" }, { session_id: "z1" }]);
    const before = await Deno.stat(path);
    const swapped = await indexByParts(store, 0);
    await store.index([{ session_id: "z1" }, { session_id: "a1" }]);
    await Deno.utime(path, before.atime!, before.mtime!);
    assert.throws(() => swapped.parts!.take(), /written to while/);
    swapped.parts!.close();
  });
});

Deno.test("index by parts: an index renamed over the old one meanwhile does not matter", async () => {
  await withStore(async (store) => {
    await store.index(mixedIndex());
    const whole = await indexWhole(store);
    const { parts } = await indexByParts(store, 0);
    await store.writeRaw(
      "_index.json.new",
      JSON.stringify([{ session_id: "b" }]),
    );
    await Deno.rename(store.path("_index.json.new"), store.path("_index.json"));
    for (let k = 0; k < PARTS; k++) {
      const expected = whole.entries.filter((e) => partOf(e.sessionId) === k);
      assert.deepEqual(plain(parts!.take()), expected, `part ${k}`);
    }
    parts!.close();
  });
});

Deno.test("index by parts: the scan stops with the error when the index is written in place mid-audit", async () => {
  await withStore(async (store) => {
    // Over the size read whole, so the scan reads it by parts.
    const pad = "x".repeat(1 << 20);
    const ids = ["a1", "m1", "z1"];
    for (const id of ids) await store.sidecar(id, { messages: 1 });
    await store.index(ids.map((id) => ({ session_id: id, pad })));
    let parts = 0;
    await assert.rejects(
      scanStore({
        sessionDir: store.sessionDir,
        stateDbPath: null,
        workers: 0,
        parts: {
          sessions: 1,
          async onPart() {
            if (parts++ === 0) {
              await store.index(ids.map((id) => ({ session_id: id, pad: 1 })));
            }
          },
        },
      }),
      (error: Error) =>
        error.message.startsWith(store.path("_index.json")) &&
        error.message.includes("written to while hermes-fsck read it"),
    );
    assert.equal(parts, 1);
  });
});

/** The fields of a row a check reads. */
function rowFacts(row: StateDbSessionRow) {
  return {
    id: row.id,
    rawId: row.rawId,
    messageCount: row.messageCount,
    position: row.position,
    columns: { ...row.columns },
  };
}

/** A state.db with rows in every part, odd ids, and rows of other sources. */
function writeMixedStateDb(store: TestStore): void {
  const sessions = [];
  const messages = [];
  const ids: (string | number | null)[] = [
    "zeta",
    " bravo ",
    "kilo",
    42,
    null,
    "",
    "alpha",
    "papa",
    "hotel",
    "Quebec",
    "x-ray",
  ];
  for (const [i, id] of ids.entries()) {
    sessions.push({
      id,
      source: i % 4 === 3 ? "cli" : "webui",
      title: `T${i}`,
      model: "m",
      started_at: (i * 7919) % 13,
    });
    for (let m = 0; m < i % 5; m++) {
      messages.push({
        session_id: id,
        role: "user",
        content: "hi",
        timestamp: m,
      });
    }
  }
  store.stateDb({ sessions, messages });
}

/** Every part's rows and ids of a reader opened by parts. */
function takeAll(reader: StateDbReader) {
  const rows: ReturnType<typeof rowFacts>[][] = [];
  const ids: string[][] = [];
  for (let k = 0; k < PARTS; k++) {
    rows.push(reader.parts!.webuiRows.take().map(rowFacts));
    // A list, which may name an id twice (NULL and '' are both ''): the
    // part makes a set of it.
    ids.push([...new Set(reader.parts!.sessionIds.take())].sort());
  }
  return { rows, ids };
}

Deno.test("state.db by parts: each part gets the rows and ids of its sessions, with their places and counts", async () => {
  await withStore((store) => {
    writeMixedStateDb(store);
    const whole = openStateDb(store.stateDbPath);
    const byParts = openStateDb(store.stateDbPath, { partOf });
    try {
      assert.ok(whole.status === "ok" && byParts.status === "ok");
      assert.equal(whole.parts, undefined);
      assert.deepEqual(byParts.webuiRows, []);
      assert.equal(byParts.sessionIds.size, 0);
      const { rows, ids } = takeAll(byParts);
      for (let k = 0; k < PARTS; k++) {
        assert.deepEqual(
          rows[k],
          whole.webuiRows.filter((r) => partOf(r.id) === k).map(rowFacts),
          `rows of part ${k}`,
        );
        assert.deepEqual(
          ids[k],
          [...whole.sessionIds].filter((id) => partOf(id) === k).sort(),
          `ids of part ${k}`,
        );
        assert.ok(rows[k].length > 0, `part ${k} has rows`);
      }
      // The rows of a part can still give their messages.
      const bravo = openStateDb(store.stateDbPath, { partOf });
      assert.ok(bravo.status === "ok");
      const row = bravo.parts!.webuiRows.take().find((r) => r.id === "bravo")!;
      assert.equal(bravo.messagesFor(row).length, 1);
      bravo.close();
    } finally {
      whole.close();
      byParts.close();
    }
  });
});

Deno.test("state.db by parts: rows deleted, renamed or moved to another source since the first pass are left out", async () => {
  await withStore((store) => {
    writeMixedStateDb(store);
    const reader = openStateDb(store.stateDbPath, { partOf });
    try {
      assert.ok(reader.status === "ok");
      const writer = new DatabaseSync(store.stateDbPath);
      writer.exec(`DELETE FROM sessions WHERE id = 'kilo'`);
      // Renamed into another part: not in its old part, nor in the new.
      writer.exec(`UPDATE sessions SET id = 'adam' WHERE id = 'zeta'`);
      writer.exec(`UPDATE sessions SET source = 'cli' WHERE id = 'hotel'`);
      writer.exec(
        `INSERT INTO sessions (id, source) VALUES ('bob', 'webui')`,
      );
      writer.close();
      const { rows, ids } = takeAll(reader);
      const rowIds = rows.flat().map((r) => r.id);
      const allIds = ids.flat();
      for (const gone of ["kilo", "zeta", "adam", "hotel", "bob"]) {
        assert.ok(!rowIds.includes(gone), `no row ${gone}`);
      }
      for (const gone of ["kilo", "zeta", "adam", "bob"]) {
        assert.ok(!allIds.includes(gone), `no id ${gone}`);
      }
      assert.ok(allIds.includes("hotel"), "hotel is still a session");
      assert.deepEqual(rowIds.sort(), [
        "",
        "",
        "Quebec",
        "alpha",
        "bravo",
        "x-ray",
      ]);
    } finally {
      reader.close();
    }
  });
});

Deno.test("state.db by parts: a sessions table without rowids is read whole", async () => {
  await withStore((store) => {
    const db = new DatabaseSync(store.stateDbPath);
    db.exec(
      `CREATE TABLE sessions (id TEXT PRIMARY KEY, source TEXT) WITHOUT ROWID;
       INSERT INTO sessions VALUES ('a', 'webui'), ('z', 'webui');`,
    );
    db.close();
    const reader = openStateDb(store.stateDbPath, { partOf });
    try {
      assert.ok(reader.status === "ok");
      assert.equal(reader.parts, undefined);
      assert.deepEqual(reader.webuiRows.map((r) => r.id).sort(), ["a", "z"]);
      assert.deepEqual([...reader.sessionIds].sort(), ["a", "z"]);
    } finally {
      reader.close();
    }
  });
});

/** Entries as plain data: a part's entries read their fields on demand. */
function plain(entries: unknown[]): unknown[] {
  return JSON.parse(JSON.stringify(entries));
}
