/**
 * Orphan backups with a state.db that exists but cannot be read: not a
 * database, mode 000 (read by a process without root's override), a hot
 * journal left by a killed writer, an exclusive lock held by another
 * process. The session's row is gone from state.db (it was deleted before
 * the delete tombstone existed), so restoring the `.bak` would resurrect
 * it: `repair` must leave it and say why and what to do. With no state.db
 * at all the backup is still restored, as the server does.
 */

import assert from "node:assert/strict";
import {
  type CliResult,
  runCli,
  storeArgs,
  type TestStore,
} from "./fixtures.ts";
import { cli, show, withStore } from "./safety_support.ts";
import { RUN_LIMIT_MS, WITHOUT_DAC_OVERRIDE } from "./hostile_support.ts";
import {
  healthySession,
  holdExclusiveLock,
  leaveHotJournal,
} from "./state_db_support.ts";

/** A store whose `gone` session was deleted before tombstones: only its .bak is left. */
async function deletedBeforeTombstones(store: TestStore): Promise<void> {
  await healthySession(store);
  await store.backup("gone", { messages: 4 });
}

interface Reported {
  kind: string;
  category: string;
  message: string;
  evidence: Record<string, unknown>;
}

/** Asserts the deleted session stayed deleted and the finding says why. */
async function assertLeftDeleted(
  store: TestStore,
  r: CliResult,
  cause: RegExp,
): Promise<void> {
  assert.equal(r.code, 4, show(r));
  assert.equal(await store.exists("gone.json"), false, "resurrected");
  assert.equal(await store.exists("gone.json.bak"), true);
  const findings: Reported[] = JSON.parse(r.stdout).findings;
  const found = findings.find((f) => f.kind.startsWith("orphan_backup"));
  assert.ok(found, show(r));
  assert.equal(found.kind, "orphan_backup_state_db_unreadable");
  assert.equal(found.category, "unsafe_to_repair");
  assert.match(found.message, /gone\.json is missing/);
  assert.match(found.message, /not restored/);
  assert.match(found.message, cause);
  assert.ok(found.message.includes(store.stateDbPath), found.message);
}

const repairArgs = (store: TestStore) => [
  "repair",
  "--format",
  "json",
  ...storeArgs(store),
];

Deno.test("orphan backup, readable state.db without its row: left alone (control)", async () => {
  await withStore(async (store) => {
    await deletedBeforeTombstones(store);
    const r = await cli(repairArgs(store), store);
    assert.equal(r.code, 4, show(r));
    assert.equal(await store.exists("gone.json"), false);
    assert.match(r.stdout, /orphan_backup_without_state_row/);
  });
});

Deno.test("orphan backup, no state.db at all: restored as the server does", async () => {
  await withStore(async (store) => {
    await store.backup("lost", { messages: 4 });
    const r = await cli(
      ["repair", "--format", "json", ...storeArgs(store, false)],
      store,
    );
    assert.equal(r.code, 1, show(r));
    assert.equal(await store.exists("lost.json"), true);
  });
});

Deno.test("orphan backup, state.db not a database: not restored, the finding says so", async () => {
  await withStore(async (store) => {
    await deletedBeforeTombstones(store);
    await Deno.writeTextFile(store.stateDbPath, "not sqlite\n".repeat(50));
    const r = await cli(repairArgs(store), store);
    await assertLeftDeleted(store, r, /is not a SQLite database.*--state-db/);
  });
});

Deno.test("orphan backup, state.db held locked by another process: not restored", async () => {
  await withStore(async (store) => {
    await deletedBeforeTombstones(store);
    const release = holdExclusiveLock(store.stateDbPath);
    let r;
    try {
      r = await cli(repairArgs(store), store);
    } finally {
      release();
    }
    await assertLeftDeleted(store, r, /locked by another process.*agent/);
  });
});

Deno.test("orphan backup, state.db with a hot journal: not restored", async () => {
  await withStore(async (store) => {
    await deletedBeforeTombstones(store);
    await leaveHotJournal(store.stateDbPath);
    const r = await cli(repairArgs(store), store);
    await assertLeftDeleted(store, r, /hot rollback journal.*start the agent/);
  });
});

Deno.test({
  name: "orphan backup, state.db mode 000 for the reader: not restored",
  ignore: WITHOUT_DAC_OVERRIDE === null,
  async fn() {
    await withStore(async (store) => {
      await deletedBeforeTombstones(store);
      await Deno.chmod(store.stateDbPath, 0o000);
      // The store is the reader's own, as it would be after the drop to
      // the store owner's uid: only state.db is closed to it.
      const r = await runCli(repairArgs(store), {
        prefix: WITHOUT_DAC_OVERRIDE!,
        timeoutMs: RUN_LIMIT_MS,
      });
      await assertLeftDeleted(store, r, /permission denied.*permissions/);
    });
  },
});
