/**
 * `sidecar-identity`: a sidecar whose `session_id` is not its file name's
 * (live or `.bak`), and a live sidecar without what the server needs to
 * load it, are unsafe and never rewritten.
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
  text,
  withStore,
} from "./check_support.ts";

const only = { only: ["sidecar-identity"] };

Deno.test("session_id_mismatch: a live sidecar naming another session is unsafe and never rewritten", async () => {
  await withStore(async (store) => {
    const other = JSON.stringify(
      makeSidecar("other", { messages: 3 }),
      null,
      2,
    );
    await store.writeRaw("abc.json", other);

    const report = await audit(store, only);
    const [finding] = ofKind(report, "session_id_mismatch");
    assert.ok(finding, JSON.stringify(report.findings));
    assert.equal(finding.category, "unsafe_to_repair");
    assert.equal(finding.sessionId, "abc");
    assert.deepEqual(finding.paths, ["abc.json"]);
    assert.equal(finding.evidence.sessionIdInFile, "other");
    assert.equal(finding.evidence.file, "live");
    assert.equal(finding.evidence.liveMessages, 3);
    assert.match(finding.message, /"other"/);

    await repair(store);
    assert.equal(await text(store, "abc.json"), other);
    assert.equal(await store.exists("other.json"), false);
  });
});

Deno.test("session_id_mismatch: a .bak naming another session is reported on the backup", async () => {
  await withStore(async (store) => {
    await store.sidecar("abc", { messages: 2 });
    await store.writeRaw(
      "abc.json.bak",
      JSON.stringify(makeSidecar("zzz", { messages: 1 })),
    );
    const report = await audit(store, only);
    const [finding] = ofKind(report, "session_id_mismatch");
    assert.deepEqual(finding.paths, ["abc.json.bak"]);
    assert.equal(finding.evidence.file, "backup");
    assert.equal(finding.evidence.sessionIdInFile, "zzz");
  });
});

Deno.test("sidecar_missing_keys: only what the server cannot keep as this session is listed (defaulted keys are not)", async () => {
  await withStore(async (store) => {
    const { title: _t, created_at: _c, ...noMeta } = makeSidecar("nometa");
    await store.writeRaw("nometa.json", JSON.stringify(noMeta));
    const { session_id: _s, ...noId } = makeSidecar("noid");
    await store.writeRaw("noid.json", JSON.stringify(noId));
    await store.writeRaw(
      "dictmsgs.json",
      JSON.stringify({ ...makeSidecar("dictmsgs"), messages: { a: 1 } }),
    );
    await store.writeRaw("emptyid.json", JSON.stringify(makeSidecar("")));
    await store.writeRaw("listy.json", "[1, 2]");

    const report = await audit(store, only);
    const missing = new Map(
      ofKind(report, "sidecar_missing_keys").map((f) => [
        f.sessionId,
        f.evidence.missing,
      ]),
    );
    assert.deepEqual(Object.fromEntries(missing), {
      noid: ["session_id"],
      dictmsgs: ["messages"],
      emptyid: ["session_id"],
      listy: ["session_id"],
    });
    const listy = ofKind(report, "sidecar_missing_keys").find((f) =>
      f.sessionId === "listy"
    );
    assert.equal(listy?.evidence.shape, "array");
    assert.match(listy?.message ?? "", /JSON array, not an object/);
    assert.equal(listy?.category, "unsafe_to_repair");
    // An empty or missing session_id is missing, not a mismatch.
    assert.deepEqual(ofKind(report, "session_id_mismatch"), []);
  });
});

Deno.test("sidecar_missing_keys: a live file a parsable .bak will replace is shrunken_live instead", async () => {
  await withStore(async (store) => {
    await store.writeRaw("listy.json", "[1]");
    const bak = await store.backup("listy", { messages: 2 });
    const report = await audit(store);
    assert.deepEqual(kindsOf(report), ["shrunken_live"]);
    await repair(store);
    assert.deepEqual(await store.readJson("listy.json"), bak);
    assertClean(await audit(store));
  });
});

Deno.test("sidecar-identity: whole sessions under their own id are not reported", async () => {
  await withStore(async (store) => {
    await store.sidecar("abc", { messages: 3 });
    await store.backup("abc", { messages: 1 });
    await store.sidecar("empty", { messages: 0 });
    const report = await audit(store, only);
    assert.deepEqual(report.findings, []);
  });
});

Deno.test("sidecar-identity CLI: audit and repair exit 4 and the files keep every byte", async () => {
  await withStore(async (store) => {
    const foreign = JSON.stringify(makeSidecar("bbb"));
    await store.writeRaw("aaa.json", foreign);
    await store.writeRaw("keys.json", '{"title": "keys", "messages": []}');
    await store.index([{ session_id: "aaa" }, { session_id: "keys" }]);

    const audited = await cliJson(store, ["audit"]);
    assert.equal(audited.code, 4);
    assert.deepEqual(kindsOf(audited.report), [
      "session_id_mismatch",
      "sidecar_missing_keys",
    ]);
    assert.equal(audited.report.status, "needs_manual_review");

    const repaired = await cliJson(store, ["repair"]);
    assert.equal(repaired.code, 4);
    assert.equal(await text(store, "aaa.json"), foreign);
    assert.equal(
      await text(store, "keys.json"),
      '{"title": "keys", "messages": []}',
    );
    const again = await cliJson(store, ["repair"]);
    assert.equal(again.code, 4);
    assert.deepEqual(kindsOf(again.report), kindsOf(audited.report));
  });
});
