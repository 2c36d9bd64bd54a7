/**
 * Real damage to a real state.db, for the tests of the state.db checks: a
 * healthy session to compare against, an index page broken so that
 * `PRAGMA quick_check` fails while the rows still read, a writer killed in
 * the middle of a write, and a lock held by another connection.
 *
 * @example
 * ```ts
 * import { crashWhileWriting, healthySession } from "./state_db_support.ts";
 * await healthySession(store);
 * await crashWhileWriting(store.stateDbPath, 'db.exec("BEGIN");');
 * ```
 * @module
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import type { TestStore } from "./fixtures.ts";

/**
 * A healthy webui session `s1`: a sidecar of 2 messages and a state.db row
 * with the same 2 messages.
 *
 * @example
 * ```ts
 * await healthySession(store);
 * ```
 */
export async function healthySession(store: TestStore): Promise<void> {
  await store.sidecar("s1", { messages: 2 });
  store.stateDb({
    sessions: [{ id: "s1", source: "webui", title: "One" }],
    messages: [
      { id: 1, session_id: "s1", role: "user", content: "q", timestamp: 1 },
      {
        id: 2,
        session_id: "s1",
        role: "assistant",
        content: "a",
        timestamp: 2,
      },
    ],
  });
}

/**
 * Damages one leaf page of an index no query of hermes-fsck uses, so the
 * rows still read but `PRAGMA quick_check` fails.
 *
 * @example
 * ```ts
 * corruptUnusedIndex(store.stateDbPath);
 * ```
 */
export function corruptUnusedIndex(path: string): void {
  const db = new DatabaseSync(path);
  db.exec("CREATE TABLE notes (body TEXT)");
  const insert = db.prepare("INSERT INTO notes (body) VALUES (?)");
  db.exec("BEGIN");
  for (let i = 0; i < 2000; i++) insert.run(`note number ${i} `.repeat(3));
  db.exec("COMMIT");
  db.exec("CREATE INDEX notes_body ON notes (body)");
  db.close();
  const bytes = Deno.readFileSync(path);
  const pageSize = (bytes[16] << 8) | bytes[17];
  const last = bytes.length - pageSize;
  assert.equal(bytes[last], 0x0a, "the last page is an index leaf");
  bytes.fill(0x41, last + pageSize - 600, last + pageSize - 500);
  Deno.writeFileSync(path, bytes);
}

/**
 * Runs `code` (with `db` open on `path`) in a Deno subprocess that then
 * exits without closing it: the state a killed agent leaves.
 *
 * @example
 * ```ts
 * await crashWhileWriting(path, 'db.exec("PRAGMA journal_mode=WAL");');
 * ```
 */
export async function crashWhileWriting(
  path: string,
  code: string,
): Promise<void> {
  const script = `import { DatabaseSync } from "node:sqlite";
const db = new DatabaseSync(${JSON.stringify(path)});
${code}
Deno.exit(9);`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 9, new TextDecoder().decode(out.stderr));
}

/**
 * Leaves a hot rollback journal beside a database: a writer with a tiny
 * cache spills pages into it mid-write and is killed before it commits.
 *
 * @example
 * ```ts
 * await leaveHotJournal(store.stateDbPath);
 * ```
 */
export async function leaveHotJournal(path: string): Promise<void> {
  await crashWhileWriting(
    path,
    `db.exec("PRAGMA cache_size=1");
db.exec("BEGIN");
for (let i = 0; i < 3000; i++) db.exec("INSERT INTO sessions (id, source, title) VALUES ('x" + i + "', 'cli', '" + "t".repeat(200) + "')");`,
  );
}

/**
 * Holds an exclusive lock on a database (as a writer in rollback-journal
 * mode does mid-write) until the returned function is called.
 *
 * @example
 * ```ts
 * const release = holdExclusiveLock(store.stateDbPath);
 * try { ... } finally { release(); }
 * ```
 */
export function holdExclusiveLock(path: string): () => void {
  const db = new DatabaseSync(path);
  db.exec("BEGIN EXCLUSIVE");
  db.exec("UPDATE sessions SET title = title");
  return () => {
    db.exec("ROLLBACK");
    db.close();
  };
}

/**
 * Whether a path exists (without following a symlink).
 *
 * @example
 * ```ts
 * await exists(store.stateDbPath + "-wal");
 * ```
 */
export async function exists(path: string): Promise<boolean> {
  return await Deno.lstat(path).then(() => true, () => false);
}
