/**
 * What today's server writes in normal use is no problem: a sidecar
 * without the keys the server defaults, and an index entry that kept the
 * message_count loaded at start, audit with exit 0. A sidecar without
 * session_id stays unsafe.
 *
 * @module
 */

import assert from "node:assert/strict";
import { cliJson, serverIndex, withStore } from "./check_support.ts";

Deno.test("defaulted keys (title, timestamps, messages) are no finding; a missing session_id stays unsafe", async () => {
  await withStore(async (store) => {
    const a = await store.sidecar("api-Chat_7", { messages: 2 });
    await store.writeRaw(
      "nokeys.json",
      JSON.stringify({ session_id: "nokeys" }),
    );
    await store.index(serverIndex([a]));
    await store.writeRaw(
      "noid.json",
      JSON.stringify({ title: "t", messages: [] }),
    );
    const { report } = await cliJson(store, ["audit"]);
    const kinds = report.findings.filter((f) =>
      f.kind === "sidecar_missing_keys"
    )
      .map((f) => [f.sessionId, f.category]);
    assert.deepEqual(kinds, [["noid", "unsafe_to_repair"]]);
  });
});

Deno.test("index entry with the message_count loaded at start is info, exit 0", async () => {
  await withStore(async (store) => {
    const a = await store.sidecar("abc123", { messages: 4, message_count: 4 });
    await store.index([{ ...serverIndex([a])[0], message_count: 2 }]);
    const { code, report } = await cliJson(store, ["audit"]);
    const f = report.findings.find((x) => x.sessionId === "abc123")!;
    assert.equal(f.kind, "index_count_at_load");
    assert.equal(f.category, "info");
    assert.equal(code, 0);
  });
});
