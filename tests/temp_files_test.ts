/**
 * `temp-files`: temps younger than an hour are left alone (info); stale
 * ones that hold nothing the store lacks go to quarantine; an interrupted
 * newest save is promoted over the live file; a stale temp holding
 * messages nothing else has is kept for review. Every temp name of
 * STORE_FORMAT.md §1 is covered.
 *
 * @module
 */

import assert from "node:assert/strict";
import { auditStore } from "../core/run/audit.ts";
import { isSkip, type RepairContext } from "../core/plugins/repair.ts";
import { expectationOf } from "../core/io/safety.ts";
import { builtinChecks } from "../checks/builtin.ts";
import { promoteTemp } from "../repairs/promote_temp.ts";
import { makeSidecar, type SidecarFields, type TestStore } from "./fixtures.ts";
import {
  assertClean,
  audit,
  cliJson,
  kindsOf,
  makeOld,
  ofKind,
  quarantined,
  repair,
  serverIndex,
  STALE_AGE_MS,
  text,
  withStore,
} from "./check_support.ts";

const only = { only: ["temp-files"] };

/** Writes a temp holding a sidecar of `id`, `ageMs` old; returns its bytes. */
async function sidecarTemp(
  store: TestStore,
  name: string,
  id: string,
  fields: SidecarFields,
  ageMs = STALE_AGE_MS,
): Promise<string> {
  const content = JSON.stringify(makeSidecar(id, fields), null, 2);
  await store.writeRaw(name, content);
  await makeOld(store, name, ageMs);
  return content;
}

/** A shrink generation of the server: a uuid4 as hex. */
const SHRINK_GENERATION = "0123456789ab4def8123456789abcdef";

Deno.test("young_temp: a temp less than an hour old is info and left alone", async () => {
  await withStore(async (store) => {
    await store.sidecar("abc", { messages: 2 });
    const temp = await sidecarTemp(store, "abc.tmp.11.22", "abc", {
      messages: 9,
      updated_at: 1778460000,
    }, 5 * 60 * 1000);

    const report = await audit(store);
    assert.deepEqual(kindsOf(report), ["young_temp"]);
    const [finding] = report.findings;
    assert.equal(finding.category, "info");
    assert.equal(finding.sessionId, "abc");
    assert.equal(finding.evidence.origin, "sidecar_save");
    assert.equal(finding.evidence.tempMessages, 9);
    assert.match(finding.message, /5 minutes old\) may be a save in progress/);
    assert.equal(report.status, "ok");

    const repaired = await repair(store);
    assert.equal(repaired.exitCode, 0);
    assert.equal(await text(store, "abc.tmp.11.22"), temp);
    assert.equal(await store.exists("_hermes_fsck"), false);
  });
});

Deno.test("stale_temp: every temp name of the store format is moved to quarantine, bytes kept", async () => {
  await withStore(async (store) => {
    const live = JSON.stringify(makeSidecar("abc", { messages: 3 }), null, 2);
    await store.writeRaw("abc.json", live);
    const temps: Record<string, string> = {
      "abc.tmp.1.2": await sidecarTemp(store, "abc.tmp.1.2", "abc", {
        messages: 2,
      }),
      "abc.json.bak.tmp.1.2": await sidecarTemp(
        store,
        "abc.json.bak.tmp.1.2",
        "abc",
        { messages: 3 },
      ),
      "abc.json.reconcile.tmp.1.2": await sidecarTemp(
        store,
        "abc.json.reconcile.tmp.1.2",
        "abc",
        { messages: 1 },
      ),
      "abc.json.recover.tmp": '{"session_id": "abc", "mess',
      "_index.tmp.1.2": "[]",
      "_index.tmp.recovery.1.2": '[{"session_id": "abc"}]',
      "abc.json.hermes-fsck.tmp.7.0a1b": live,
      "xyz.tmp.3.4": JSON.stringify(makeSidecar("other", { messages: 50 })),
    };
    for (const [name, content] of Object.entries(temps)) {
      await store.writeRaw(name, content);
      await makeOld(store, name, 2 * STALE_AGE_MS);
    }

    const report = await audit(store, only);
    const stale = ofKind(report, "stale_temp");
    assert.deepEqual(
      stale.map((f) => f.paths[0]).sort(),
      Object.keys(temps).sort(),
    );
    assert.ok(stale.every((f) => f.repair === "remove_stale_temp"));
    const torn = stale.find((f) => f.paths[0] === "abc.json.recover.tmp");
    assert.equal(torn?.evidence.tempMessages, -1);
    assert.match(torn?.message ?? "", /holds no complete session/);
    const index = stale.find((f) => f.paths[0] === "_index.tmp.1.2");
    assert.equal(index?.sessionId, undefined);
    assert.equal(index?.evidence.origin, "index_save");

    const repaired = await repair(store);
    assert.equal(repaired.status, "ok", JSON.stringify(repaired.findings));
    for (const name of Object.keys(temps)) {
      assert.equal(await store.exists(name), false, name);
    }
    assert.equal(await text(store, "abc.json"), live);
    const kept = await quarantined(store);
    assert.equal(kept.length, Object.keys(temps).length);
    for (const [name, content] of Object.entries(temps)) {
      const path = kept.find((p) => p.endsWith(`-${name}`));
      assert.ok(path, name);
      assert.equal(await text(store, path), content, name);
    }
    assertClean(await audit(store));
  });
});

Deno.test("interrupted_save: a newer save with more messages is promoted, the old live file quarantined", async () => {
  await withStore(async (store) => {
    const old = await store.sidecar("abc", { messages: 3 });
    const oldBytes = await text(store, "abc.json");
    await store.index(serverIndex([old]));
    const save = await sidecarTemp(store, "abc.tmp.11.22", "abc", {
      messages: 5,
      updated_at: 1778459000,
    });

    const report = await audit(store);
    assert.deepEqual(kindsOf(report), ["interrupted_save"]);
    const [finding] = report.findings;
    assert.equal(finding.category, "repairable");
    assert.equal(finding.repair, "promote_temp");
    assert.deepEqual(finding.paths, ["abc.tmp.11.22", "abc.json"]);
    assert.equal(finding.evidence.tempMessages, 5);
    assert.equal(finding.evidence.liveMessages, 3);

    const repaired = await repair(store);
    assert.equal(repaired.status, "ok", JSON.stringify(repaired.findings));
    assert.equal(await text(store, "abc.json"), save);
    assert.equal(await store.exists("abc.tmp.11.22"), false);
    const kept = await quarantined(store);
    const oldLive = kept.find((p) => p.endsWith("-abc.json"));
    assert.ok(oldLive);
    assert.equal(await text(store, oldLive), oldBytes);
    assert.ok(kept.some((p) => p.endsWith("-abc.tmp.11.22")));
    // The index follows the promoted sidecar.
    const [entry] = await store.readJson("_index.json") as Record<
      string,
      unknown
    >[];
    assert.equal(entry.message_count, 5);
    assertClean(await audit(store));
  });
});

Deno.test("interrupted_save: with the live file missing it is recreated (no state.db to say it was deleted)", async () => {
  await withStore(async (store) => {
    const save = await sidecarTemp(store, "abc.tmp.1.2", "abc", {
      messages: 2,
    });
    const report = await audit(store);
    assert.deepEqual(kindsOf(report), ["interrupted_save"]);
    assert.equal(report.findings[0].evidence.liveMessages, -1);
    await repair(store);
    assert.equal(await text(store, "abc.json"), save);
    assertClean(await audit(store));
  });
});

Deno.test("stale_temp_needs_review: a deleted session's save is never promoted nor removed", async () => {
  await withStore(async (store) => {
    // state.db lost the row (the session was deleted) ...
    store.stateDb({ sessions: [{ id: "other", source: "webui" }] });
    await sidecarTemp(store, "gone.tmp.1.2", "gone", { messages: 4 });
    // ... or the tombstone lists it.
    await store.tombstone(["dead"]);
    await sidecarTemp(store, "dead.tmp.1.2", "dead", { messages: 4 });

    const report = await audit(store, { ...only, withStateDb: true });
    const review = new Map(
      ofKind(report, "stale_temp_needs_review").map((f) => [f.sessionId, f]),
    );
    assert.match(
      String(review.get("gone")?.evidence.reason),
      /state\.db no longer has the session/,
    );
    assert.match(
      String(review.get("dead")?.evidence.reason),
      /delete tombstone/,
    );
    assert.equal(review.get("gone")?.category, "unsafe_to_repair");

    await repair(store, { withStateDb: true });
    for (const name of ["gone.tmp.1.2", "dead.tmp.1.2"]) {
      assert.equal(await store.exists(name), true, name);
    }
    assert.equal(await store.exists("gone.json"), false);
    assert.equal(await store.exists("dead.json"), false);
  });
});

Deno.test("stale_temp_needs_review: a temp older than the live file, or a backup temp, with messages nothing else has", async () => {
  await withStore(async (store) => {
    // The live file was saved after the temp (a later, shorter save).
    await store.sidecar("older", { messages: 1, updated_at: 1778460000 });
    await sidecarTemp(store, "older.tmp.1.2", "older", {
      messages: 6,
      updated_at: 1778459000,
    });
    // A backup write that never landed, while the live file shrank.
    await store.sidecar("bak", { messages: 1 });
    await sidecarTemp(store, "bak.json.bak.tmp.1.2", "bak", { messages: 8 });

    const report = await audit(store, only);
    const review = new Map(
      ofKind(report, "stale_temp_needs_review").map((f) => [f.sessionId, f]),
    );
    assert.deepEqual([...review.keys()].sort(), ["bak", "older"]);
    assert.match(
      String(review.get("older")?.evidence.reason),
      /saved after it/,
    );
    assert.match(
      review.get("older")?.message ?? "",
      /holds 6 messages, more than older\.json \(1 message\) and older\.json\.bak \(missing or unusable\), but the live file was saved after it/,
    );
    assert.match(
      String(review.get("bak")?.evidence.reason),
      /only the temp of a sidecar save is ever promoted/,
    );

    const repaired = await repair(store);
    assert.equal(repaired.exitCode, 4);
    assert.equal(await store.exists("older.tmp.1.2"), true);
    assert.equal(await store.exists("bak.json.bak.tmp.1.2"), true);
  });
});

Deno.test("stale_temp: an older temp whose messages the .bak has, or that the user shrank away, is removable", async () => {
  await withStore(async (store) => {
    await store.sidecar("older", { messages: 1, updated_at: 1778460000 });
    await store.backup("older", { messages: 6 });
    await sidecarTemp(store, "older.tmp.1.2", "older", {
      messages: 6,
      updated_at: 1778459000,
    });
    await store.sidecar("shrunk", {
      messages: 1,
      intentional_shrink_generation: SHRINK_GENERATION,
    });
    await sidecarTemp(store, "shrunk.tmp.1.2", "shrunk", { messages: 9 });

    const report = await audit(store, only);
    const stale = new Map(
      ofKind(report, "stale_temp").map((f) => [f.sessionId, f]),
    );
    assert.deepEqual([...stale.keys()].sort(), ["older", "shrunk"]);
    assert.equal(stale.get("shrunk")?.evidence.guard, "shrink_generation");
  });
});

Deno.test("stale_temp_needs_review: something that is not a regular file is never removed", async () => {
  await withStore(async (store) => {
    await Deno.mkdir(store.path("abc.tmp.1.2"));
    const report = await audit(store, only);
    assert.deepEqual(kindsOf(report), ["stale_temp_needs_review"]);
    assert.match(
      String(report.findings[0].evidence.reason),
      /not a regular file/,
    );
    await repair(store);
    assert.equal(
      (await Deno.stat(store.path("abc.tmp.1.2"))).isDirectory,
      true,
    );
  });
});

Deno.test("--server-stopped: no save can be in progress, so a young save temp is promoted (hermes-fsck temps still wait)", async () => {
  await withStore(async (store) => {
    await store.sidecar("abc", { messages: 1 });
    const save = await sidecarTemp(store, "abc.tmp.1.2", "abc", {
      messages: 4,
      updated_at: 1778459000,
    }, 0);
    await store.writeRaw("_index.tmp.3.4", "[");
    await store.writeRaw("abc.json.hermes-fsck.tmp.5.6f", "{}");

    const report = await audit(store, { serverStopped: true });
    assert.deepEqual(
      report.findings.map((f) => [f.kind, f.paths[0]]).sort(),
      [
        ["interrupted_save", "abc.tmp.1.2"],
        ["stale_temp", "_index.tmp.3.4"],
        ["young_temp", "abc.json.hermes-fsck.tmp.5.6f"],
      ],
    );
    const repaired = await repair(store, { serverStopped: true });
    assert.equal(await text(store, "abc.json"), save);
    assert.equal(await store.exists("_index.tmp.3.4"), false);
    assert.equal(await store.exists("abc.json.hermes-fsck.tmp.5.6f"), true);
    assert.equal(repaired.status, "ok");
  });
});

Deno.test("promote_temp judges the files again: a live file saved after the audit wins", async () => {
  await withStore(async (store) => {
    await store.sidecar("abc", { messages: 1 });
    await sidecarTemp(store, "abc.tmp.1.2", "abc", { messages: 4 });
    const result = await auditStore({
      scan: { sessionDir: store.sessionDir, stateDbPath: null },
      checks: builtinChecks,
    });
    try {
      const [finding] = result.findings;
      assert.equal(finding.kind, "interrupted_save");
      // The server saves the session again, now with 9 messages.
      await store.sidecar("abc", { messages: 9, updated_at: 1778460000 });
      const context: RepairContext = {
        store: result.store,
        findings: result.findings,
        options: { now: Date.now(), serverStopped: false },
        read: async (path) => {
          const r = await expectationOf(store.path(path), 1 << 30);
          return "problem" in r
            ? { ok: false, problem: r.problem }
            : { ok: true, ...r };
        },
      };
      const plan = await promoteTemp.plan([finding], context);
      assert.ok(isSkip(plan), JSON.stringify(plan));
      assert.match(plan.skip, /changed since the audit: it is now stale temp/);
    } finally {
      result.store.stateDb.close();
    }
  });
});

Deno.test("temp-files: a store without temps has no temp findings", async () => {
  await withStore(async (store) => {
    await store.sidecar("abc", { messages: 2 });
    await store.writeRaw("notes.txt", "not a temp");
    await store.writeRaw("abc.tmp", "no pid and tid: not a temp name");
    const report = await audit(store, only);
    assert.deepEqual(report.findings, []);
  });
});

Deno.test("temp-files CLI: audit exits 4, repair promotes and removes (exit 1), then audit exits 0", async () => {
  await withStore(async (store) => {
    await store.sidecar("abc", { messages: 2 });
    const save = await sidecarTemp(store, "abc.tmp.100.200", "abc", {
      messages: 3,
    });
    await store.writeRaw("_index.tmp.1.2", "[]");
    await makeOld(store, "_index.tmp.1.2", STALE_AGE_MS);
    await store.writeRaw("_index.tmp.3.4", "[]"); // young: left alone

    const audited = await cliJson(store, ["audit"]);
    assert.equal(audited.code, 4);
    assert.deepEqual(kindsOf(audited.report), [
      "interrupted_save",
      "stale_temp",
      "young_temp",
    ]);

    const repaired = await cliJson(store, ["repair"]);
    assert.equal(repaired.code, 1, repaired.stderr);
    const applied = (repaired.report.repair?.actions ?? []).map((
      r,
    ) => [r.repair, r.status]);
    assert.deepEqual(applied.slice(0, 2), [
      ["promote_temp", "applied"],
      ["remove_stale_temp", "applied"],
    ]);
    assert.equal(await text(store, "abc.json"), save);
    assert.equal(await store.exists("_index.tmp.1.2"), false);
    assert.equal(await store.exists("_index.tmp.3.4"), true);

    const again = await cliJson(store, ["audit"]);
    assert.equal(again.code, 0);
    assert.deepEqual(kindsOf(again.report), ["young_temp"]);
  });
});
