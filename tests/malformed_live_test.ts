/**
 * `malformed-live`: a live sidecar that does not parse is unsafe, with the
 * reason and byte offset of the error, unless a parsable `.bak` makes it
 * `shrunken_live` (restored, the server's semantics) or a newer interrupted
 * save replaces it.
 *
 * @module
 */

import assert from "node:assert/strict";
import { makeSidecar, runCli, storeArgs } from "./fixtures.ts";
import {
  assertClean,
  audit,
  cliJson,
  kindsOf,
  makeOld,
  ofKind,
  repair,
  serverIndex,
  STALE_AGE_MS,
  text,
  withStore,
} from "./check_support.ts";

const only = { only: ["malformed-live", "shrunken-live", "temp-files"] };

Deno.test("malformed_live: a truncated live file without a .bak is unsafe, with the offset of the error", async () => {
  await withStore(async (store) => {
    const full = JSON.stringify(makeSidecar("cut", { messages: 4 }), null, 2);
    const cut = full.slice(0, 100);
    await store.writeRaw("cut.json", cut);

    const report = await audit(store);
    const [finding] = ofKind(report, "malformed_live");
    assert.ok(finding, JSON.stringify(report.findings, null, 2));
    assert.equal(finding.category, "unsafe_to_repair");
    assert.equal(finding.sessionId, "cut");
    assert.deepEqual(finding.paths, ["cut.json"]);
    assert.equal(finding.evidence.problem, "invalid_json");
    assert.equal(finding.evidence.offset, 100);
    assert.equal(finding.evidence.liveMessages, -1);
    assert.equal(finding.evidence.bakMessages, -1);
    assert.match(finding.message, /at byte 100/);
    assert.match(finding.message, /no cut\.json\.bak/);
    assert.equal(report.status, "needs_manual_review");

    // Never touched by repair.
    const repaired = await repair(store);
    assert.equal(ofKind(repaired, "malformed_live").length, 1);
    assert.equal(await text(store, "cut.json"), cut);
    assert.equal(await store.exists("_hermes_fsck"), false);
  });
});

Deno.test("malformed_live: empty files and invalid UTF-8 give their own reason and offset", async () => {
  await withStore(async (store) => {
    await store.writeRaw("empty.json", "");
    const bytes = new TextEncoder().encode('{"session_id": "x"}');
    const bad = new Uint8Array([...bytes.slice(0, 5), 0xff, ...bytes.slice(5)]);
    await store.writeRaw("badutf8.json", bad);

    const report = await audit(store, only);
    const byId = new Map(
      ofKind(report, "malformed_live").map((f) => [f.sessionId, f]),
    );
    assert.equal(byId.get("empty")?.evidence.problem, "empty");
    assert.equal(byId.get("badutf8")?.evidence.problem, "invalid_utf8");
    assert.equal(byId.get("badutf8")?.evidence.offset, 5);
  });
});

Deno.test("malformed_live: a .bak that does not parse either is named in the finding", async () => {
  await withStore(async (store) => {
    await store.writeRaw("both.json", "{");
    await store.writeRaw("both.json.bak", "[");
    await store.writeRaw("listbak.json", "{");
    await store.writeRaw("listbak.json.bak", "[1, 2]");

    const report = await audit(store, only);
    const both = ofKind(report, "malformed_live").find((f) =>
      f.sessionId === "both"
    );
    assert.deepEqual(both?.paths, ["both.json", "both.json.bak"]);
    assert.equal(both?.evidence.backupProblem, "invalid_json");
    const listbak = ofKind(report, "malformed_live").find((f) =>
      f.sessionId === "listbak"
    );
    assert.match(listbak?.message ?? "", /not a session with a messages list/);
    assert.deepEqual(kindsOf(report), ["malformed_live"]);
  });
});

Deno.test("malformed_live: with a parsable .bak it is shrunken_live, restored, and the second run is clean", async () => {
  await withStore(async (store) => {
    await store.writeRaw("abc.json", '{"session_id": "abc", "mess');
    const bak = await store.backup("abc", { messages: 3 });

    const report = await audit(store);
    assert.deepEqual(kindsOf(report), ["shrunken_live"]);

    const repaired = await repair(store);
    assert.equal(repaired.status, "ok", JSON.stringify(repaired.findings));
    assert.deepEqual(await store.readJson("abc.json"), bak);
    assertClean(await audit(store));
  });
});

Deno.test("malformed_live: a newer interrupted save replaces it instead", async () => {
  await withStore(async (store) => {
    await store.writeRaw("abc.json", "{");
    const save = makeSidecar("abc", { messages: 5 });
    await store.writeRaw("abc.tmp.11.22", JSON.stringify(save, null, 2));
    await makeOld(store, "abc.tmp.11.22", STALE_AGE_MS);

    const report = await audit(store);
    assert.deepEqual(kindsOf(report), ["interrupted_save"]);
    await repair(store);
    assert.deepEqual(await store.readJson("abc.json"), save);
    assertClean(await audit(store));
  });
});

Deno.test("malformed_live: a live sidecar that parses is not reported", async () => {
  await withStore(async (store) => {
    await store.sidecar("fine", { messages: 2 });
    await store.sidecar("zero", { messages: 0 });
    const report = await audit(store);
    assert.deepEqual(report.findings, []);
    assert.equal(report.status, "ok");
  });
});

Deno.test("malformed_live CLI: audit exits 4 with the offset; repair keeps the bytes and exits 4", async () => {
  await withStore(async (store) => {
    await store.writeRaw("cut.json", '{"session_id": "cut",');
    const fine = await store.sidecar("fine", { messages: 1 });
    // The index of the saves before cut.json was torn.
    await store.index([...serverIndex([fine]), { session_id: "cut" }]);

    const { code, report } = await cliJson(store, ["audit"]);
    assert.equal(code, 4);
    const [finding] = ofKind(report, "malformed_live");
    assert.equal(finding.evidence.offset, 21);

    const webui = await runCli([
      "audit",
      ...storeArgs(store, false),
      "--format",
      "webui-json",
    ]);
    // The server's own audit has no item for a malformed live sidecar
    // without a .bak, and webui-json prints what the server prints; the
    // exit code still says a problem remains.
    assert.equal(webui.code, 4);
    assert.deepEqual(JSON.parse(webui.stdout).items, []);

    const repaired = await cliJson(store, ["repair"]);
    assert.equal(repaired.code, 4);
    assert.equal(await text(store, "cut.json"), '{"session_id": "cut",');
    const second = await cliJson(store, ["repair"]);
    assert.equal(second.code, 4);
    assert.deepEqual(kindsOf(second.report), ["malformed_live"]);
  });
});
