/**
 * `_index.json` as today's server keeps it: a missing index is one
 * store-wide finding that is rebuilt; entries without a sidecar, which the
 * server sweeps by itself, are rebuilt and never unsafe; sessions in
 * `_pruned_webui_orphans.json` are not missing from the index; entries
 * written from a persisted `message_count`, or past an empty `_partial`
 * marker, agree with their sidecar.
 *
 * @module
 */

import assert from "node:assert/strict";
import { auditStore } from "../core/run/audit.ts";
import { builtinChecks } from "../checks/builtin.ts";
import { compactEntry } from "../core/store/compact_entry.ts";
import { summarizeSidecar } from "../core/store/sidecar_summary.ts";
import {
  audit,
  cliJson,
  ofKind,
  serverIndex,
  withStore,
} from "./check_support.ts";
import { runCli, storeArgs, type TestStore } from "./fixtures.ts";
import { runServerRecovery, upstreamDir } from "./upstream_store_support.ts";

/**
 * `audit --format webui-json` of hermes-fsck and the server's own audit
 * (from `dir`) of one store, asserted byte for byte equal.
 */
async function webuiJsonOfBoth(dir: string, store: TestStore) {
  const ours = await runCli([
    "audit",
    ...storeArgs(store, false),
    "--format",
    "webui-json",
  ]);
  const server = await runServerRecovery(
    dir,
    "--audit",
    store.sessionDir,
    null,
  );
  assert.equal(ours.stdout.replace(/\n$/, ""), server);
  return { ours, server };
}

/** The findings that make an audit exit 4. */
function problems(findings: { kind: string; category: string }[]): string[] {
  return findings.filter((f) => f.category !== "info").map((f) =>
    `${f.kind} (${f.category})`
  );
}

Deno.test("index_absent: a missing _index.json is one finding for the store, rebuilt by repair (exit 1), then clean", async () => {
  await withStore(async (store) => {
    const sidecars = [];
    for (const id of ["a1", "b2", "c3", "d4"]) {
      sidecars.push(await store.sidecar(id, { messages: 2 }));
    }
    await Deno.remove(store.path("_index.json"));
    const audited = await cliJson(store, ["audit"]);
    assert.equal(audited.code, 4);
    const found = ofKind(audited.report, "index_absent");
    assert.equal(found.length, 1);
    assert.equal(found[0].category, "repairable");
    assert.equal(found[0].repair, "rebuild_index");
    assert.deepEqual(found[0].paths, ["_index.json"]);
    assert.equal(found[0].sessionId, undefined);
    // No per-session finding about the index besides it.
    assert.deepEqual(problems(audited.report.findings), [
      "index_absent (repairable)",
    ]);
    // Part by part (one session a part), still one finding.
    for (const partSessions of [1, 3]) {
      const byParts = await auditStore({
        scan: { sessionDir: store.sessionDir, stateDbPath: null },
        checks: builtinChecks,
        partSessions,
      });
      byParts.store.stateDb.close();
      assert.deepEqual(
        byParts.findings.map((f) => f.kind),
        ["index_absent"],
        `parts of ${partSessions}`,
      );
    }

    const repaired = await cliJson(store, ["repair"]);
    assert.equal(repaired.code, 1);
    const index = await store.readJson("_index.json") as Record<
      string,
      unknown
    >[];
    // The rebuild's time stands in for nothing here: every sidecar has its
    // created_at and updated_at.
    assert.deepEqual(index, serverIndex(sidecars));
    const again = await cliJson(store, ["audit"]);
    assert.equal(again.code, 0);
    assert.deepEqual(again.report.findings, []);
  });
});

Deno.test("index_absent: no finding for a store without sidecars", async () => {
  await withStore(async (store) => {
    assert.deepEqual((await audit(store)).findings, []);
    await store.writeRaw(
      "_deleted_webui_sessions.json",
      '{"version": 1, "ids": []}',
    );
    assert.deepEqual((await audit(store)).findings, []);
  });
});

/** A store of two sessions and an index without "emptyorphan". */
async function prunedStore(
  store: TestStore,
  pruned: unknown,
  orphanMessages = 0,
): Promise<void> {
  const kept = [
    await store.sidecar("chat_1", { messages: 2 }),
    await store.sidecar("Chat-2", { messages: 4 }),
  ];
  await store.sidecar("emptyorphan", {
    messages: orphanMessages,
    title: "Draft",
    message_count: orphanMessages,
  });
  await store.index(serverIndex(kept));
  await store.writeRaw(
    "_pruned_webui_orphans.json",
    typeof pruned === "string" ? pruned : JSON.stringify(pruned, null, 2),
  );
}

Deno.test("index_pruned_orphan: a session kept out of the index on purpose audits clean (exit 0)", async () => {
  await withStore(async (store) => {
    await prunedStore(store, { version: 1, ids: ["emptyorphan", "gone1"] });
    const before = await store.snapshot();
    const audited = await cliJson(store, ["audit"]);
    assert.equal(audited.code, 0, audited.stdout);
    assert.deepEqual(problems(audited.report.findings), []);
    const [info] = ofKind(audited.report, "index_pruned_orphan");
    assert.equal(info.sessionId, "emptyorphan");
    assert.equal(info.category, "info");
    assert.deepEqual(info.paths, [
      "emptyorphan.json",
      "_pruned_webui_orphans.json",
    ]);
    // Nothing to repair: repair changes nothing and exits 0.
    const repaired = await cliJson(store, ["repair"]);
    assert.equal(repaired.code, 0, repaired.stdout);
    assert.deepEqual(await store.snapshot(), before);
  });
});

Deno.test("index_pruned_orphan: webui-json prints what today's server's audit prints (index_missing_entry)", async () => {
  const dir = await upstreamDir("hermes-webui-df65251d5");
  if (dir.startsWith("skipped")) {
    console.warn(dir);
    return;
  }
  await withStore(async (store) => {
    await prunedStore(store, { version: 1, ids: ["emptyorphan"] });
    const { ours, server } = await webuiJsonOfBoth(dir, store);
    assert.match(server, /"index_missing_entry"/);
    assert.equal(ours.code, 0, "the pruned orphan is info for the exit code");
  });
});

Deno.test("index_pruned_orphan: the version and ids are read as the server reads them", async () => {
  for (
    const [pruned, kept] of [
      [{ version: "1", ids: [" emptyorphan "] }, true],
      [{ version: 1.0, ids: ["emptyorphan"] }, true],
      [{ ids: ["emptyorphan"] }, false], // no version: 0
      [{ version: 2, ids: ["emptyorphan"] }, false],
      [{ version: 1, ids: "emptyorphan" }, false],
      [["emptyorphan"], false],
      ["{torn", false],
    ] as [unknown, boolean][]
  ) {
    await withStore(async (store) => {
      await prunedStore(store, pruned);
      const report = await audit(store);
      const label = JSON.stringify(pruned);
      assert.equal(
        ofKind(report, "index_pruned_orphan").length,
        kept ? 1 : 0,
        label,
      );
      assert.equal(
        ofKind(report, "index_missing_entry").length,
        kept ? 0 : 1,
        label,
      );
    });
  }
});

Deno.test("index_pruned_orphan: a listed session that has messages is missing from the index", async () => {
  await withStore(async (store) => {
    await prunedStore(store, { version: 1, ids: ["emptyorphan"] }, 2);
    const report = await audit(store);
    assert.deepEqual(
      ofKind(report, "index_missing_entry").map((f) => f.sessionId),
      ["emptyorphan"],
    );
    assert.deepEqual(ofKind(report, "index_pruned_orphan"), []);
  });
});

Deno.test("index_missing_file: entries without a sidecar, invalid ids too, are rebuilt, never unsafe", async () => {
  await withStore(async (store) => {
    const a = await store.sidecar("abc", { messages: 2 });
    await store.index([
      ...serverIndex([a]),
      { session_id: "lost1", title: "Lost", message_count: 4 },
      { session_id: "../../x", title: "evil", message_count: 1 },
      { session_id: "..", title: "dots", message_count: 0 },
    ]);
    const audited = await cliJson(store, ["audit"]);
    assert.equal(audited.code, 4, audited.stdout);
    assert.deepEqual(problems(audited.report.findings), [
      "index_missing_file (repairable)",
      "index_missing_file (repairable)",
      "index_missing_file (repairable)",
    ]);
    assert.deepEqual(
      ofKind(audited.report, "index_missing_file").map((f) => f.sessionId),
      ["..", "../../x", "lost1"],
    );
    assert.deepEqual(ofKind(audited.report, "invalid_session_id"), []);
    const repaired = await cliJson(store, ["repair"]);
    assert.equal(repaired.code, 1, repaired.stdout);
    assert.deepEqual(await store.readJson("_index.json"), serverIndex([a]));
    assert.equal((await cliJson(store, ["audit"])).code, 0);
  });
});

Deno.test("index-drift: an entry from the persisted message_count agrees with its sidecar", async () => {
  await withStore(async (store) => {
    // The server's materialize copies state.db's count, which may disagree
    // with the messages; the index takes the persisted one.
    const a = await store.sidecar("abc", { messages: 3, message_count: 5 });
    await store.index(serverIndex([a]));
    assert.equal(
      (await store.readJson("_index.json") as Record<string, unknown>[])[0]
        .message_count,
      5,
    );
    const audited = await cliJson(store, ["audit"]);
    assert.equal(audited.code, 0, audited.stdout);
    assert.deepEqual(audited.report.findings, []);
  });
});

Deno.test("index-drift: last_message_at past an empty _partial marker, as today's and older servers write it, agrees", async () => {
  const messages = [
    { role: "user", content: "q", timestamp: 1778458000 },
    { role: "assistant", content: "a", timestamp: 1778458001 },
    { role: "user", content: "q2", timestamp: 1778458002 },
    { role: "assistant", content: "", _partial: true, timestamp: 1778458009 },
  ];
  for (const written of [1778458002, 1778458009]) {
    await withStore(async (store) => {
      const a = await store.sidecar("abc", { messages });
      const entry = compactEntry("abc", summarizeSidecar(a), 0);
      assert.equal(entry.last_message_at, 1778458002);
      await store.index([{ ...entry, last_message_at: written }]);
      const audited = await cliJson(store, ["audit"]);
      assert.equal(audited.code, 0, `${written}: ${audited.stdout}`);
      assert.deepEqual(audited.report.findings, []);
    });
  }
  // Any other value is still drift.
  await withStore(async (store) => {
    const a = await store.sidecar("abc", { messages });
    const entry = compactEntry("abc", summarizeSidecar(a), 0);
    await store.index([{ ...entry, last_message_at: 1778458001 }]);
    const report = await audit(store);
    assert.deepEqual(
      ofKind(report, "index_entry_drift").map((f) => f.evidence.fields),
      [["last_message_at"]],
    );
  });
});

Deno.test("rebuild_index: a sidecar is listed only under its own file name's id, never under another session_id inside it", async () => {
  await withStore(async (store) => {
    const a = await store.sidecar("abc", { messages: 2 });
    // A copy under another name, with more messages: sidecar-identity's
    // finding. The server's rebuild keys entries by the inner id (and would
    // list the copy's 3 messages under abc); hermes-fsck leaves the copy
    // out, so its rebuild never makes an entry no run can fix (issue 24).
    const copy = {
      ...a,
      message_count: 3,
      messages: [
        ...(a.messages as unknown[]),
        { role: "user", content: "more", timestamp: 1778458100 },
      ],
    };
    await store.writeRaw("abd.json", JSON.stringify(copy, null, 2));
    // One the server cannot load (workspace null makes Path(None) raise).
    await store.sidecar("nul", { messages: 1, workspace: null });
    await store.writeRaw("_index.json", "{torn");
    await cliJson(store, ["repair"]);
    const index = await store.readJson("_index.json") as Record<
      string,
      unknown
    >[];
    assert.deepEqual(index.map((e) => [e.session_id, e.message_count]), [[
      "abc",
      2,
    ]]);
  });
});

Deno.test("index_unsaved_chat: an entry of a chat never saved (message_count 0) is info, exit 0; dropped on request; webui-json prints the server's index_missing_file", async () => {
  await withStore(async (store) => {
    const a = await store.sidecar("abc", { messages: 2 });
    const listed = [
      ...serverIndex([a]),
      { session_id: "newchat1", title: "Untitled", message_count: 0 },
    ];
    await store.index(listed);
    const audited = await cliJson(store, ["audit"]);
    assert.equal(audited.code, 0, audited.stdout);
    const found = ofKind(audited.report, "index_unsaved_chat");
    assert.deepEqual(
      found.map((f) => [f.sessionId, f.category]),
      [["newchat1", "info"]],
    );
    assert.match(found[0].message, /chat without messages/);
    // A plain repair leaves the index alone, as for every info finding.
    assert.equal((await cliJson(store, ["repair"])).code, 0);
    assert.deepEqual(await store.readJson("_index.json"), listed);

    const dir = await upstreamDir("hermes-webui-df65251d5");
    if (dir.startsWith("skipped")) console.warn(dir);
    else {
      const { server } = await webuiJsonOfBoth(dir, store);
      assert.match(server, /"index_missing_file"/);
    }

    const dropped = await cliJson(store, [
      "repair",
      "--also-repair",
      "index_unsaved_chat",
    ]);
    assert.equal(dropped.code, 1, dropped.stdout);
    assert.deepEqual(await store.readJson("_index.json"), serverIndex([a]));
    assert.deepEqual(
      ofKind((await cliJson(store, ["audit"])).report, "index_unsaved_chat"),
      [],
    );
  });
});

Deno.test("index_unsaved_chat: more ghosts than are listed one by one are one info finding with their count", async () => {
  await withStore(async (store) => {
    const a = await store.sidecar("abc", { messages: 2 });
    const ghosts = Array.from({ length: 1005 }, (_, i) => ({
      session_id: `new${String(i).padStart(4, "0")}`,
      title: "Untitled",
      message_count: 0,
    }));
    await store.index([...serverIndex([a]), ...ghosts]);
    const audited = await cliJson(store, ["audit"]);
    assert.equal(audited.code, 0, audited.stdout);
    const found = ofKind(audited.report, "index_unsaved_chat");
    assert.equal(found.length, 1);
    assert.equal(found[0].evidence.count, 1005);
    assert.deepEqual(ofKind(audited.report, "index_missing_file"), []);
  });
});
