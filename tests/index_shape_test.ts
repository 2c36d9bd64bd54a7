/**
 * `index-shape`: an `_index.json` that does not parse, is not a list, or has
 * entries without a string `session_id` is rebuilt from the sidecars.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  assertClean,
  audit,
  cliJson,
  ofKind,
  quarantined,
  repair,
  serverIndex,
  text,
  withStore,
} from "./check_support.ts";

const only = { only: ["index-shape"] };

Deno.test("index_unparsable: a torn _index.json is rebuilt from the sidecars, old bytes in quarantine", async () => {
  await withStore(async (store) => {
    const a = await store.sidecar("aaa", { messages: 3 });
    const b = await store.sidecar("bbb", {
      messages: 1,
      updated_at: 1778459000,
    });
    await store.writeRaw("_index.json", '[{"session_id": "aaa", "ti');

    const report = await audit(store, only);
    const [finding] = ofKind(report, "index_unparsable");
    assert.ok(finding, JSON.stringify(report.findings));
    assert.equal(finding.category, "repairable");
    assert.equal(finding.repair, "rebuild_index");
    assert.deepEqual(finding.paths, ["_index.json"]);
    assert.equal(finding.evidence.problem, "invalid_json");
    assert.equal(finding.evidence.offset, 26);

    const repaired = await repair(store);
    assert.equal(repaired.status, "ok", JSON.stringify(repaired.findings));
    assert.deepEqual(await store.readJson("_index.json"), serverIndex([b, a]));
    const kept = await quarantined(store);
    assert.equal(kept.length, 1);
    assert.equal(
      await text(store, kept[0]),
      '[{"session_id": "aaa", "ti',
    );
    assertClean(await audit(store));
  });
});

Deno.test("index_unparsable: an empty _index.json", async () => {
  await withStore(async (store) => {
    await store.sidecar("aaa");
    await store.writeRaw("_index.json", "");
    const [finding] = ofKind(await audit(store, only), "index_unparsable");
    assert.equal(finding.evidence.problem, "empty");
  });
});

Deno.test("index_not_list: an index that is an object or a scalar is rebuilt", async () => {
  for (const content of ['{"aaa": {"session_id": "aaa"}}', "42", "null"]) {
    await withStore(async (store) => {
      const a = await store.sidecar("aaa");
      await store.writeRaw("_index.json", content);
      const [finding] = ofKind(await audit(store, only), "index_not_list");
      assert.ok(finding, content);
      assert.equal(finding.repair, "rebuild_index");
      assert.equal(
        finding.evidence.shape,
        content.startsWith("{") ? "object" : "scalar",
      );
      await repair(store);
      assert.deepEqual(await store.readJson("_index.json"), serverIndex([a]));
      assertClean(await audit(store));
    });
  }
});

Deno.test("index_malformed_entry: entries that are not objects or lack a string session_id", async () => {
  await withStore(async (store) => {
    const a = await store.sidecar("aaa", { messages: 2 });
    const [good] = serverIndex([a]);
    await store.index([good, 42, { title: "no id" }, { session_id: 7 }, null]);

    const report = await audit(store, only);
    const [finding] = ofKind(report, "index_malformed_entry");
    assert.equal(finding.category, "repairable");
    assert.deepEqual(finding.evidence.positions, [1, 2, 3, 4]);
    assert.equal(finding.evidence.count, 4);
    assert.match(finding.message, /4 entries .* positions 1, 2, 3, 4/);

    await repair(store);
    assert.deepEqual(await store.readJson("_index.json"), [good]);
    assertClean(await audit(store));
  });
});

Deno.test("index-shape: a well-formed index, an empty list, or no index at all is not reported", async () => {
  await withStore(async (store) => {
    const a = await store.sidecar("aaa");
    assert.deepEqual((await audit(store, only)).findings, []);
    await store.index([]);
    assert.deepEqual((await audit(store, only)).findings, []);
    await store.index(serverIndex([a]));
    const report = await audit(store);
    assert.deepEqual(report.findings, []);
  });
});

Deno.test("index-shape CLI: audit exits 4, repair rebuilds (exit 1), then audit exits 0", async () => {
  await withStore(async (store) => {
    const a = await store.sidecar("aaa", { messages: 4 });
    await store.writeRaw("_index.json", "{not json");

    const audited = await cliJson(store, ["audit"]);
    assert.equal(audited.code, 4);
    assert.equal(ofKind(audited.report, "index_unparsable").length, 1);

    const repaired = await cliJson(store, ["repair"]);
    assert.equal(repaired.code, 1);
    const records = repaired.report.repair?.actions ?? [];
    assert.deepEqual(records.map((r) => [r.repair, r.status]), [
      ["rebuild_index", "applied"],
    ]);
    assert.deepEqual(await store.readJson("_index.json"), serverIndex([a]));

    const again = await cliJson(store, ["audit"]);
    assert.equal(again.code, 0);
    assert.deepEqual(again.report.findings, []);
  });
});
