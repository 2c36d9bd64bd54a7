/**
 * Tests of the audit part by part (core/scan/store_part.ts, core/plugins/check_engine.ts,
 * `ScanOptions.parts`): on damaged stores whose findings come in several
 * orders (state.db rows newest first, index positions, temp names, phases),
 * checking the store a few sessions at a time gives exactly the findings,
 * counts and status of checking it whole, with or without workers; a check
 * of the older `run()` shape keeps the whole store. The damaged
 * store's index is big enough to be read a part at a time, the fuzz
 * stores' small enough to be read whole.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { type AuditOptions, auditStore } from "../core/run/audit.ts";
import { defineCheck } from "../core/plugins/check.ts";
import { builtinChecks } from "../checks/builtin.ts";
import { ensureBenchStore } from "../tools/bench_store.ts";
import { TestStore } from "./fixtures.ts";
import { buildFuzzStore } from "./fuzz_support.ts";

type BenchStore = Awaited<ReturnType<typeof ensureBenchStore>>;

/** A fixed `now`, so the two audits judge temps' ages alike. */
const NOW = Date.parse("2026-11-21T12:00:00Z");

/** Audits whole, then in parts of each size; asserts the same result. */
async function assertSameByParts(
  scan: AuditOptions["scan"],
  sizes: number[],
  workers: number[] = [0],
): Promise<string[]> {
  const whole = await auditStore({
    scan: { ...scan, workers: 0 },
    checks: builtinChecks,
    checkOptions: { now: NOW },
  });
  whole.store.stateDb.close();
  for (const partSessions of sizes) {
    for (const w of workers) {
      const byParts = await auditStore({
        scan: { ...scan, workers: w },
        checks: builtinChecks,
        checkOptions: { now: NOW },
        partSessions,
      });
      byParts.store.stateDb.close();
      const what = `parts of ${partSessions}, ${w} workers`;
      assert.equal(byParts.store.sessions.size, 0, `${what}: no session kept`);
      assert.deepEqual(byParts.findings, whole.findings, what);
      assert.deepEqual(byParts.summary, whole.summary, what);
      assert.equal(byParts.status, whole.status, what);
    }
  }
  return whole.findings.map((f) => `${f.kind}:${f.evidence.source ?? ""}`);
}

/** Adds what the bench store lacks: ids out of order in every source. */
async function addDisorder(bench: BenchStore): Promise<void> {
  const dir = bench.sessionDir;
  const indexPath = join(dir, "_index.json");
  const index = JSON.parse(await Deno.readTextFile(indexPath));
  // Listed ids without a sidecar and invalid ids, each at the start and
  // the end, against id order; an entry that is not an object.
  index.unshift({ session_id: "zz_listed_gone" }, { session_id: "zz+bad" });
  index.splice(40, 0, { session_id: "../outside" }, 7);
  index.push({ session_id: "aa_listed_gone" }, { session_id: "aa+bad" });
  // Entries of 9 KB make an index over the size parsed whole, so the audit
  // by parts reads its entries a part at a time from the file.
  for (const entry of index) {
    if (typeof entry === "object") entry.pad = "x".repeat(9000);
  }
  await Deno.writeTextFile(indexPath, JSON.stringify(index));
  assert.ok((await Deno.stat(indexPath)).size > 2 << 20);
  // Rows newest first is not id order: zz is newest, aa oldest.
  const db = new DatabaseSync(bench.stateDbPath);
  const row = db.prepare(
    "INSERT INTO sessions (id, source, title, started_at) VALUES (?, 'webui', 't', ?)",
  );
  const message = db.prepare(
    "INSERT INTO messages (session_id, role, content, timestamp) VALUES (?, 'user', 'hi', 1)",
  );
  for (
    const [id, startedAt] of [
      ["zz_row_gone", 9e12],
      ["aa_row_gone", 1],
      ["mm_row_empty", 5e12],
      ["Row Bad", 7e12],
      ["zz+row+bad", 8e12],
      ["aa+row+bad", 2],
      ["", 3e12],
      ["mm_deleted", 4e12],
    ] as const
  ) {
    row.run(id, startedAt);
    if (id !== "mm_row_empty") message.run(id);
  }
  // Two sidecars behind state.db, the first id oldest and the last newest.
  const sidecars: [string, unknown[]][] = [];
  for (const entry of Deno.readDirSync(dir)) {
    const id = /^([a-z0-9_]+)\.json$/.exec(entry.name)?.[1];
    if (!id) continue;
    try {
      const { messages } = JSON.parse(
        await Deno.readTextFile(join(dir, entry.name)),
      );
      if (Array.isArray(messages)) sidecars.push([id, messages]);
    } catch { /* a damaged one */ }
  }
  sidecars.sort(([a], [b]) => (a < b ? -1 : 1));
  for (
    const [[id, messages], startedAt] of [
      [sidecars[0], 0.5],
      [sidecars.at(-1)!, 9.5e12],
    ] as const
  ) {
    db.prepare("UPDATE sessions SET started_at = ? WHERE id = ?")
      .run(startedAt, id);
    db.prepare("DELETE FROM messages WHERE session_id = ?").run(id);
    for (let i = 0; i < messages.length + 5; i++) message.run(id);
  }
  db.close();
  await Deno.writeTextFile(
    join(dir, "_deleted_webui_sessions.json"),
    JSON.stringify({ version: 1, ids: ["mm_deleted", "zz_never_was"] }),
  );
  // Invalid names, and temps of sessions at both ends and of the index.
  await Deno.writeTextFile(join(dir, "Upper Case.json"), "{}");
  await Deno.writeTextFile(join(dir, "bad+id.json.bak"), "{}");
  const old = new Date(NOW - 3 * 86_400_000);
  for (const name of ["aa_temp_only.tmp.1.2", "zz_temp_only.tmp.1.2"]) {
    await Deno.writeTextFile(join(dir, name), '{"messages": []}');
    await Deno.utime(join(dir, name), old, old);
  }
  // Temps that name no session are in every part; by name, one sorts
  // first and one among the sessions' temps.
  for (const name of ["_index.tmp.3.4", "zz+no+id.tmp.5.6"]) {
    await Deno.writeTextFile(join(dir, name), "[]");
    await Deno.utime(join(dir, name), old, old);
  }
}

Deno.test("store parts: the same findings as the whole store, on a damaged store with ids out of order everywhere", async () => {
  const cache = await Deno.makeTempDir({ prefix: "hermes-fsck-parts-" });
  try {
    const bench = await ensureBenchStore(cache, {
      sessions: 240,
      damagePercent: 40,
      seed: 4,
      repairTargets: 0,
    });
    await addDisorder(bench);
    const found = await assertSameByParts(
      { sessionDir: bench.sessionDir, stateDbPath: bench.stateDbPath },
      [1, 3, 50, 1000],
      [0, 2],
    );
    // The store shows every order the merge has to restore, so a merge
    // that only concatenated the parts would fail above.
    for (
      const kind of [
        "invalid_session_id:sidecar",
        "invalid_session_id:backup",
        "invalid_session_id:state_db",
        "index_missing_file:",
        "index_missing_entry:",
        "index_malformed_entry:",
        "state_db_missing_sidecar:",
        "state_db_orphan_webui_row:",
        "state_db_deleted_webui_tombstone:",
        "stale_temp:",
        "shrunken_live:",
        "sidecar_behind_state_db:",
        "turn_journal_pending_unconfirmed:",
      ]
    ) {
      assert.ok(found.includes(kind), `the store should show ${kind}`);
    }
  } finally {
    await Deno.remove(cache, { recursive: true });
  }
});

Deno.test("store parts: the same findings as the whole store, on 40 fuzz stores checked a session or two at a time", async () => {
  for (let index = 0; index < 40; index++) {
    const store = await TestStore.create();
    const sibling = `${store.root}-sibling`;
    try {
      const damage = await buildFuzzStore(11, index, store, sibling);
      const withDb = await Deno.lstat(store.stateDbPath).then(
        () => true,
        () => false,
      );
      await assertSameByParts(
        {
          sessionDir: store.sessionDir,
          stateDbPath: withDb ? store.stateDbPath : null,
        },
        [1, 2],
      ).catch((error) => {
        throw new Error(`fuzz case 11/${index} (${damage.join("; ")})`, {
          cause: error,
        });
      });
    } finally {
      await store.cleanup();
      await Deno.remove(sibling, { recursive: true }).catch(() => {});
    }
  }
});

Deno.test("store parts: a missing session dir is still checked against state.db", async () => {
  const store = await TestStore.create();
  try {
    store.stateDb({
      sessions: [{ id: "only_in_db", source: "webui", started_at: 1 }],
      messages: [{
        id: 1,
        session_id: "only_in_db",
        role: "user",
        content: "x",
      }],
    });
    const found = await assertSameByParts({
      sessionDir: join(store.root, "no-such-dir"),
      stateDbPath: store.stateDbPath,
    }, [1]);
    assert.deepEqual(found, ["state_db_missing_sidecar:"]);
  } finally {
    await store.cleanup();
  }
});

Deno.test("store parts: a check of the older run() shape keeps the whole store; a visitor check is given one session at a time while the audit holds a part", async () => {
  const store = await TestStore.create();
  try {
    for (const id of ["a1", "b2", "c3"]) {
      await store.writeRaw(`${id}.json`, JSON.stringify({ session_id: id }));
    }
    const seen: number[] = [];
    const older = defineCheck({
      id: "count-sessions",
      title: "Sessions seen",
      description: "Notes how many sessions each run of it sees.",
      kinds: [],
      partwise: true,
      run(part) {
        seen.push(part.sessions.size);
        return [];
      },
    });
    const scan = { sessionDir: store.sessionDir, stateDbPath: null };
    const whole = await auditStore({
      scan,
      checks: [...builtinChecks, older],
      partSessions: 1,
    });
    assert.deepEqual(seen, [3]);
    assert.equal(whole.store.sessions.size, 3);
    assert.equal(whole.summary.sessions, 3);
    const visited: [string, number][] = [];
    const visiting = defineCheck({
      id: "count-sessions",
      title: "Sessions seen",
      description: "Notes each session it is given and what it holds.",
      kinds: {},
      create: () => ({
        session(s) {
          visited.push([s.sessionId, s.store.sessions.size]);
        },
      }),
    });
    const byParts = await auditStore({
      scan,
      checks: [...builtinChecks, visiting],
      partSessions: 2,
    });
    assert.deepEqual(visited, [["a1", 1], ["b2", 1], ["c3", 1]]);
    assert.equal(byParts.store.sessions.size, 0);
    assert.equal(byParts.summary.sessions, 3);
  } finally {
    await store.cleanup();
  }
});
