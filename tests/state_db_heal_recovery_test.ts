/**
 * state.db ahead of a dead turn whose run journal holds text state.db
 * lacks, with fixtures only (no python): `repair --server-stopped` does the
 * server's state.db heal itself and keeps the journal's text, once; without
 * --server-stopped it is info with a hint and nothing is written; a
 * transcript whose merge is not proved here stays info; `undo` puts every
 * byte back. The server-code oracle of the same case is
 * tests/state_db_heal_recovery_upstream_test.ts.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { runCli, storeArgs, type TestStore } from "./fixtures.ts";
import { withStore } from "./check_support.ts";
import {
  crashWithStateDbAhead as crash,
  HEAL_CASE,
} from "./state_db_heal_support.ts";

const { SID, STREAM, PARTIAL, EARLIER, STATE_ROWS } = HEAL_CASE;
type Row = Record<string, unknown>;

async function cli(store: TestStore, command: string, ...more: string[]) {
  const result = await runCli([
    command,
    ...storeArgs(store),
    "--format",
    "json",
    ...more,
  ]);
  const report = JSON.parse(result.stdout);
  return {
    code: result.code,
    report,
    drift: (report.findings as Row[]).filter((f) =>
      f.check === "state-db-sidecar-drift"
    ),
    raw: result.stdout + result.stderr,
  };
}

/** Every file of the session dir but hermes-fsck's own records. */
async function tree(dir: string, prefix = ""): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for await (const entry of Deno.readDir(join(dir, prefix))) {
    const name = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (name === "_hermes_fsck") continue;
    if (entry.isDirectory) Object.assign(out, await tree(dir, name));
    else out[name] = await Deno.readTextFile(join(dir, name));
  }
  return out;
}

Deno.test("state.db ahead, journal text it lacks: without --server-stopped it is info with a hint, and repair writes nothing", async () => {
  await withStore(async (store) => {
    await crash(store);
    const before = await tree(store.sessionDir);
    const repaired = await cli(store, "repair");
    assert.deepEqual(
      repaired.drift.map((f) => [f.kind, f.category]),
      [["sidecar_behind_state_db_self_heals", "info"]],
      repaired.raw,
    );
    const message = String(repaired.drift[0].message);
    assert.match(message, /drops the turn's partial output: 9 journaled/);
    assert.match(message, /hermes-fsck repair --server-stopped/);
    assert.deepEqual(await tree(store.sessionDir), before);
  });
});

Deno.test("state.db ahead, journal text it lacks: repair --server-stopped heals from state.db and keeps the text once; undo puts every byte back", async () => {
  await withStore(async (store) => {
    await crash(store);
    const before = await tree(store.sessionDir);
    const audited = await cli(store, "audit", "--server-stopped");
    assert.deepEqual(
      audited.drift.map((f) => [f.kind, f.category]),
      [["state_db_heal_drops_run_output", "repairable"]],
      audited.raw,
    );
    assert.deepEqual(await tree(store.sessionDir), before);
    const repaired = await cli(store, "repair", "--server-stopped");
    assert.equal(repaired.code, 1, repaired.raw);
    assert.deepEqual(repaired.drift, [], repaired.raw);
    const after = await store.readJson(`${SID}.json`) as Row & {
      messages: Row[];
      context_messages: Row[];
    };
    // The server names a tool row after its tool_name.
    const healed = [
      ...EARLIER,
      ...STATE_ROWS.slice(2, 4),
      { ...STATE_ROWS[4], name: "terminal" },
    ];
    const partial = {
      role: "assistant",
      content: PARTIAL,
      _recovered_from_run_journal: true,
      _recovered_stream_id: STREAM,
    };
    assert.deepEqual(after.messages.slice(0, 5), healed);
    const [text, marker, ...rest] = after.messages.slice(5);
    assert.deepEqual(rest, []);
    assert.deepEqual({ ...text, timestamp: 0 }, { ...partial, timestamp: 0 });
    assert.equal(marker.type, "interrupted");
    assert.equal(marker._error, true);
    assert.match(String(marker.content), /^\*\*Response interrupted\.\*\*/);
    assert.deepEqual(
      after.context_messages.map((m) => m.content),
      [...healed.map((m) => m.content), PARTIAL],
    );
    assert.equal(after.active_stream_id, null);
    assert.equal(after.pending_user_message, null);
    assert.equal(after.message_count, 7);
    const again = await cli(store, "audit", "--server-stopped");
    assert.deepEqual(again.drift, [], again.raw);

    const undone = await runCli([
      "undo",
      repaired.report.repair.runId,
      "--session-dir",
      store.sessionDir,
    ]);
    assert.ok(undone.code < 4, undone.stdout + undone.stderr);
    assert.deepEqual(await tree(store.sessionDir), before);
  });
});

Deno.test("state.db ahead, journal text it lacks, a merge not proved here (message ids): info naming why, nothing written", async () => {
  await withStore(async (store) => {
    await crash(store, {
      messages: EARLIER.map((m, i) => ({ ...m, id: `m${i}` })),
    });
    const before = await tree(store.sessionDir);
    const repaired = await cli(store, "repair", "--server-stopped");
    assert.deepEqual(
      repaired.drift.map((f) => f.kind),
      ["sidecar_behind_state_db_self_heals"],
      repaired.raw,
    );
    assert.match(
      String(repaired.drift[0].message),
      /cannot rebuild the server's heal of it: a sidecar message carries a message id/,
    );
    assert.equal(
      (await tree(store.sessionDir))[`${SID}.json`],
      before[`${SID}.json`],
    );
  });
});
