/**
 * `index-drift`: an index entry whose `message_count`, `title`,
 * `updated_at` or `last_message_at` disagrees with the server's compact
 * entry of its sidecar, or that lacks `last_message_at`, is fixed by
 * rebuilding the index.
 *
 * @module
 */

import assert from "node:assert/strict";
import { makeSidecar } from "./fixtures.ts";
import {
  assertClean,
  audit,
  cliJson,
  kindsOf,
  ofKind,
  repair,
  serverIndex,
  withStore,
} from "./check_support.ts";

const only = { only: ["index-drift"] };

Deno.test("index_entry_drift: each differing field is named with both values", async () => {
  await withStore(async (store) => {
    const a = await store.sidecar("aaa", { messages: 5 });
    const b = await store.sidecar("bbb", { messages: 2, title: "New title" });
    const c = await store.sidecar("ccc", { messages: 2 });
    const [ea, eb, ec] = [a, b, c].map((s) => serverIndex([s])[0]);
    await store.index([
      { ...ea, message_count: 3 },
      { ...eb, title: "Old title" },
      { ...ec, updated_at: 1778400000, last_message_at: 1778400000 },
    ]);

    const report = await audit(store, only);
    const drift = new Map(
      ofKind(report, "index_entry_drift").map((f) => [f.sessionId, f]),
    );
    assert.deepEqual([...drift.keys()], ["aaa", "bbb", "ccc"]);
    const fa = drift.get("aaa")!;
    assert.equal(fa.category, "repairable");
    assert.equal(fa.repair, "rebuild_index");
    assert.deepEqual(fa.paths, ["aaa.json", "_index.json"]);
    assert.deepEqual(fa.evidence.fields, ["message_count"]);
    assert.deepEqual(fa.evidence.indexed, { message_count: 3 });
    assert.deepEqual(fa.evidence.expected, { message_count: 5 });
    assert.match(
      fa.message,
      /message_count \(3 in the index, 5 in the sidecar\)/,
    );
    assert.deepEqual(drift.get("bbb")!.evidence.expected, {
      title: "New title",
    });
    assert.deepEqual(drift.get("ccc")!.evidence.fields, [
      "updated_at",
      "last_message_at",
    ]);

    const repaired = await repair(store);
    assert.equal(repaired.status, "ok", JSON.stringify(repaired.findings));
    assert.deepEqual(
      await store.readJson("_index.json"),
      serverIndex([a, b, c]),
    );
    assertClean(await audit(store));
  });
});

Deno.test("index_missing_last_message_at: an old index without last_message_at is rebuilt", async () => {
  await withStore(async (store) => {
    const a = await store.sidecar("aaa", { messages: 3 });
    const { last_message_at: _, ...old } = serverIndex([a])[0];
    await store.index([old]);

    const report = await audit(store, only);
    assert.deepEqual(kindsOf(report), ["index_missing_last_message_at"]);
    const [finding] = report.findings;
    assert.equal(finding.sessionId, "aaa");
    assert.equal(finding.repair, "rebuild_index");

    await repair(store);
    const [entry] = await store.readJson("_index.json") as Record<
      string,
      unknown
    >[];
    assert.equal(entry.last_message_at, 1778458002);
    assertClean(await audit(store));
  });
});

Deno.test("index-drift: the entry the server shows (the last of an id) is compared", async () => {
  await withStore(async (store) => {
    const a = await store.sidecar("aaa", { messages: 2 });
    const [entry] = serverIndex([a]);
    await store.index([{ ...entry, message_count: 9 }, entry]);
    assert.deepEqual((await audit(store, only)).findings, []);
    await store.index([entry, { ...entry, message_count: 9 }]);
    assert.deepEqual(kindsOf(await audit(store, only)), ["index_entry_drift"]);
  });
});

Deno.test("index-drift: matching entries, pending messages and timestamps of another spelling agree", async () => {
  await withStore(async (store) => {
    const a = await store.sidecar("aaa", { messages: 4 });
    const pending = await store.sidecar("pend", {
      messages: 0,
      pending_user_message: "hello",
      pending_started_at: 1778459999,
    });
    const [ea, ep] = [serverIndex([a])[0], serverIndex([pending])[0]];
    assert.equal(ep.message_count, 1);
    assert.equal(ep.last_message_at, 1778459999);
    // A timestamp spelled as a string of the same number agrees.
    await store.index([{ ...ea, updated_at: "1778458000.5" }, ep]);
    assert.deepEqual((await audit(store, only)).findings, []);
    assertClean(await audit(store));
  });
});

Deno.test("index-drift: sidecars that are not whole sessions under their own id are not compared", async () => {
  await withStore(async (store) => {
    // No updated_at: the server would stamp the time of writing, so that
    // field cannot drift; the missing key is sidecar-identity's finding.
    const { updated_at: _u, ...noUpdated } = makeSidecar("noupd", {
      messages: 1,
    });
    await store.writeRaw("noupd.json", JSON.stringify(noUpdated));
    await store.writeRaw("other.json", JSON.stringify(makeSidecar("zzz")));
    await store.writeRaw("broken.json", "{");
    await store.index([
      {
        session_id: "noupd",
        title: "Session noupd",
        message_count: 1,
        updated_at: 5,
        last_message_at: 1778458000,
      },
      {
        session_id: "other",
        title: "wrong",
        message_count: 7,
        last_message_at: 1,
      },
      {
        session_id: "broken",
        title: "x",
        message_count: 1,
        last_message_at: 1,
      },
    ]);
    assert.deepEqual((await audit(store, only)).findings, []);
  });
});

Deno.test("index-drift CLI: audit exits 4, repair rebuilds (exit 1), a second repair changes nothing (exit 0)", async () => {
  await withStore(async (store) => {
    const a = await store.sidecar("aaa", { messages: 6 });
    await store.index([{ ...serverIndex([a])[0], message_count: 2 }]);

    const audited = await cliJson(store, ["audit"]);
    assert.equal(audited.code, 4);
    assert.deepEqual(kindsOf(audited.report), ["index_entry_drift"]);

    const repaired = await cliJson(store, ["repair"]);
    assert.equal(repaired.code, 1);
    const [entry] = await store.readJson("_index.json") as Record<
      string,
      unknown
    >[];
    assert.equal(entry.message_count, 6);

    const again = await cliJson(store, ["repair"]);
    assert.equal(again.code, 0);
    assert.deepEqual(again.report.repair?.actions, []);
  });
});
