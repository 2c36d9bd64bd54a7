/**
 * The redundant-backup check and the remove_redundant_backup repair: a
 * `.bak` with no more messages than its live file is info, removed through
 * the quarantine only with `--also-repair redundant_backup`, and only when
 * all its messages are in the live file.
 */

import assert from "node:assert/strict";
import { makeMessages } from "./fixtures.ts";
import {
  audit,
  cliJson,
  kindsOf,
  ofKind,
  quarantined,
  repair,
  text,
  withStore,
} from "./check_support.ts";

Deno.test("redundant-backup: a .bak with no more messages than live is info; a bigger one or none is not", async () => {
  await withStore(async (store) => {
    await store.sidecar("grown", { messages: 5 });
    await store.backup("grown", { messages: 3 });
    await store.sidecar("same", { messages: 4 });
    await store.backup("same", { messages: 4 });
    // Healthy: no backup at all, and a backup that is a restore source.
    await store.sidecar("alone", { messages: 2 });
    await store.sidecar("shrunk", { messages: 2 });
    await store.backup("shrunk", { messages: 6 });

    const report = await audit(store);
    const found = ofKind(report, "redundant_backup");
    assert.deepEqual(found.map((f) => f.sessionId), ["grown", "same"]);
    const [grown, same] = found;
    assert.equal(grown.category, "info");
    assert.equal(grown.repair, "remove_redundant_backup");
    assert.deepEqual(grown.paths, ["grown.json.bak", "grown.json"]);
    assert.equal(grown.evidence.liveMessages, 5);
    assert.equal(grown.evidence.bakMessages, 3);
    assert.equal(same.evidence.bakMessages, 4);
    assert.match(grown.message, /3 messages/);
    assert.ok(!found.some((f) => f.sessionId === "shrunk"));
    assert.deepEqual(ofKind(report, "shrunken_live").map((f) => f.sessionId), [
      "shrunk",
    ]);
  });
});

Deno.test("redundant-backup: a healthy store has no finding and exits 0", async () => {
  await withStore(async (store) => {
    await store.sidecar("alone", { messages: 3 });
    const report = await audit(store);
    assert.deepEqual(ofKind(report, "redundant_backup"), []);
    assert.equal(report.exitCode, 0);
  });
});

Deno.test("redundant-backup: repair leaves it alone unless asked; --also-repair quarantines it, then the store is clean", async () => {
  await withStore(async (store) => {
    await store.sidecar("grown", { messages: 5 });
    await store.backup("grown", { messages: 3 });
    const live = await text(store, "grown.json");
    const bak = await text(store, "grown.json.bak");

    const plain = await repair(store);
    assert.equal(plain.exitCode, 0, "info alone is clean");
    assert.deepEqual(plain.repair!.actions, []);
    assert.equal(await text(store, "grown.json.bak"), bak);

    const asked = await repair(store, { alsoRepair: ["redundant_backup"] });
    const records = asked.repair!.actions.filter((r) =>
      r.repair === "remove_redundant_backup"
    );
    assert.equal(records.length, 1, JSON.stringify(asked.repair!.actions));
    assert.equal(records[0].status, "applied", records[0].detail);
    assert.equal(asked.exitCode, 1);
    assert.equal(await store.exists("grown.json.bak"), false);
    assert.equal(await text(store, "grown.json"), live, "live untouched");
    const kept = await quarantined(store);
    assert.equal(kept.length, 1);
    assert.match(kept[0], /grown\.json\.bak$/);
    assert.equal(await text(store, kept[0]), bak, "backup bytes kept");

    const again = await audit(store);
    assert.deepEqual(again.findings, []);
    assert.equal(again.exitCode, 0);
  });
});

Deno.test("redundant-backup: a backup whose messages differ from live is kept even when asked", async () => {
  await withStore(async (store) => {
    // The #1558 shape: live was wiped, then grew past the backup with new
    // messages; the backup holds the only copy of the old conversation.
    await store.sidecar("wiped", { messages: makeMessages(6, "new") });
    await store.backup("wiped", { messages: makeMessages(4, "old") });
    const bak = await text(store, "wiped.json.bak");
    const report = await repair(store, { alsoRepair: ["redundant_backup"] });
    const record = report.repair!.actions.find((r) =>
      r.repair === "remove_redundant_backup"
    );
    assert.ok(record, "the repair was attempted");
    assert.equal(record.status, "skipped");
    assert.match(record.detail ?? "", /message 0 .* differs/);
    assert.equal(await text(store, "wiped.json.bak"), bak);
    assert.deepEqual(await quarantined(store), []);
    assert.deepEqual(kindsOf(report), ["redundant_backup"]);
    assert.equal(report.exitCode, 0);
  });
});

Deno.test("redundant-backup CLI: repair --also-repair redundant_backup removes it (exit 1), a second audit is clean (exit 0)", async () => {
  await withStore(async (store) => {
    await store.sidecar("same", { messages: 4 });
    await store.backup("same", { messages: 4 });
    const first = await cliJson(store, ["audit"]);
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(kindsOf(first.report), ["redundant_backup"]);

    const fixed = await cliJson(store, [
      "repair",
      "--also-repair",
      "redundant_backup",
    ]);
    assert.equal(fixed.code, 1, JSON.stringify(fixed.report.repair, null, 2));
    assert.equal(await store.exists("same.json.bak"), false);
    assert.equal((await quarantined(store)).length, 1);

    const second = await cliJson(store, ["audit"]);
    assert.equal(second.code, 0);
    assert.deepEqual(second.report.findings, []);
  });
});
