/**
 * The discoverability checks (source-flags, sidebar-visibility), through
 * the CLI on real stores with a real state.db: each kind of the server's
 * discoverability audit shows up as its hermes-fsck kind, with its
 * category and exit code; causes other checks report are not reported
 * twice; healthy stores stay clean.
 */

import assert from "node:assert/strict";
import { auditStore } from "../core/run/audit.ts";
import type { Finding } from "../core/report/finding.ts";
import { builtinChecks } from "../checks/builtin.ts";
import type { Report } from "../core/report/report.ts";
import {
  type CliResult,
  runCli,
  storeArgs,
  type TestStore,
  withStore,
} from "./fixtures.ts";
import { serverIndex } from "./check_support.ts";
import { healthySession } from "./state_db_support.ts";

/** The kinds the two discoverability checks report. */
const OURS = new Set([
  "persisted_source_flag_stale",
  "index_source_flag_stale",
  "source_misclassified",
  "api_missing_messageful",
  "lineage_missing_visible_representative",
  "background_session_hidden",
]);

async function auditCli(
  store: TestStore,
): Promise<CliResult & { report: Report }> {
  const result = await runCli([
    "audit",
    ...storeArgs(store),
    "--format",
    "json",
  ]);
  return { ...result, report: JSON.parse(result.stdout) };
}

/** (session, kind) of every finding, sorted. */
function pairs(findings: Finding[]): string[] {
  return findings.map((f) => `${f.sessionId} ${f.kind}`).sort();
}

function discoverability(report: { findings: Finding[] }): Finding[] {
  return report.findings.filter((f) => OURS.has(f.kind));
}

const messages = (sid: string, n = 2) =>
  Array.from({ length: n }, (_, i) => ({
    id: null,
    session_id: sid,
    role: i % 2 ? "assistant" : "user",
    content: `m${i}`,
    timestamp: 1778458000 + i,
  }));

Deno.test("discoverability: a WebUI session whose sidecar or index entry says is_cli_session is persisted_source_flag_stale (info, exit 0)", async () => {
  await withStore(async (store) => {
    const flagged = await store.sidecar("flagged", {
      source_tag: "webui",
      is_cli_session: true,
    });
    const fine = await store.sidecar("indexonly");
    const entries = serverIndex([flagged, fine]).map((e) =>
      e.session_id === "indexonly"
        ? { ...e, is_cli_session: true, session_source: "webui" }
        : e
    );
    await store.index(entries);
    store.stateDb({
      sessions: [{ id: "flagged", source: "webui", title: "F" }],
      messages: messages("flagged"),
    });
    const { code, report } = await auditCli(store);
    assert.deepEqual(pairs(discoverability(report)), [
      "flagged persisted_source_flag_stale",
      "indexonly index_source_flag_stale",
    ]);
    const [first, second] = discoverability(report);
    assert.equal(first.category, "info");
    assert.equal(first.severity, "warning");
    assert.deepEqual(first.evidence.webuiOriginIn, [
      "sidecar",
      "index",
      "state_db",
    ]);
    assert.equal(first.evidence.sidecarIsCliSession, true);
    assert.match(
      first.message,
      /flagged\.json and _index\.json mark WebUI session flagged/,
    );
    assert.deepEqual(second.paths, ["indexonly.json", "_index.json"]);
    assert.match(
      second.message,
      /_index\.json marks .* but indexonly\.json does not/,
    );
    assert.equal(second.repair, "rebuild_index");
    assert.equal(first.repair, undefined);
    assert.equal(code, 0);
  });
});

Deno.test("discoverability: a WebUI session the list files under CLI is source_misclassified (info)", async () => {
  await withStore(async (store) => {
    // `source` says webui, but the Session the list loads drops `source`;
    // its tag says cli and nothing in state.db corrects it.
    await store.sidecar("misfiled", {
      source: "webui",
      source_tag: "cli",
      is_cli_session: true,
    });
    await healthySession(store);
    const { code, report } = await auditCli(store);
    assert.deepEqual(pairs(discoverability(report)), [
      "misfiled source_misclassified",
    ]);
    const [found] = discoverability(report);
    assert.equal(found.category, "info");
    // The server's save keeps the index beside the sidecar: listed from it.
    assert.equal(found.evidence.listedFrom, "index");
    assert.match(found.message, /files WebUI session misfiled under CLI/);
    assert.equal(code, 0);
  });
});

Deno.test("discoverability: a sidecar the server cannot load and no index entry lists is api_missing_messageful, or lineage_missing_visible_representative for a snapshot (unsafe, exit 4)", async () => {
  await withStore(async (store) => {
    await store.sidecar("badws", { workspace: 5 });
    await store.sidecar("badtree", {
      worktree_path: ["x"],
      pre_compression_snapshot: true,
    });
    // Parses but cannot load, yet an index entry keeps it listed.
    const listed = await store.sidecar("listed", { workspace: null });
    // Cannot load, but no messages: nothing to find.
    await store.sidecar("empty", { workspace: 1, messages: 0 });
    const ok = await store.sidecar("ok");
    await store.index(serverIndex([ok, listed]));
    store.stateDb({ sessions: [], messages: [] });
    const { code, report } = await auditCli(store);
    assert.deepEqual(pairs(discoverability(report)), [
      "badtree lineage_missing_visible_representative",
      "badws api_missing_messageful",
    ]);
    const byId = new Map(
      discoverability(report).map((f) => [f.sessionId, f]),
    );
    const badws = byId.get("badws")!;
    assert.equal(badws.category, "unsafe_to_repair");
    assert.equal(badws.evidence.loadProblem, "workspace is not a string");
    assert.equal(badws.evidence.messageCount, 2);
    assert.match(
      badws.message,
      /badws\.json holds 2 messages but the server cannot load it/,
    );
    assert.equal(
      byId.get("badtree")!.evidence.loadProblem,
      "worktree_path is not a string",
    );
    assert.equal(code, 4);
  });
});

Deno.test("discoverability: a cron session without a project is background_session_hidden (info); with a project, or a webui state.db row, it is listed", async () => {
  await withStore(async (store) => {
    await store.sidecar("nightly", { source_tag: "cron" });
    await store.sidecar("cron_42", {});
    await store.sidecar("hooked", { source_tag: "webhook", messages: 0 });
    await store.sidecar("projected", { source_tag: "cron", project_id: "p1" });
    await store.sidecar("adopted", { source_tag: "kanban" });
    store.stateDb({
      sessions: [{ id: "adopted", source: "webui", title: "A" }],
      messages: messages("adopted"),
    });
    const { code, report } = await auditCli(store);
    assert.deepEqual(pairs(discoverability(report)), [
      "cron_42 background_session_hidden",
      "nightly background_session_hidden",
    ]);
    const nightly = discoverability(report).find((f) =>
      f.sessionId === "nightly"
    )!;
    assert.equal(nightly.category, "info");
    assert.equal(nightly.evidence.source, "cron");
    assert.match(nightly.message, /is a cron session without a project/);
    assert.equal(code, 0);
  });
});

Deno.test("discoverability: the audit's other causes are reported once, by their own kinds; agent rows of other sources are no finding", async () => {
  await withStore(async (store) => {
    await store.writeRaw("torn.json", '{"session_id": "torn", "messa');
    await store.sidecar("elsewhere", { session_id: "other_id" });
    const ok = await store.sidecar("ok");
    await store.index([
      ...serverIndex([ok]),
      {
        session_id: "gone",
        title: "g",
        message_count: 3,
        last_message_at: 1,
        updated_at: 1,
      },
    ]);
    store.stateDb({
      sessions: [
        { id: "ok", source: "webui", title: "ok" },
        { id: "lost", source: "webui", title: "L", started_at: 1 },
        { id: "terminal", source: "cli", title: "T", started_at: 1 },
        { id: "chat", source: "telegram", title: "C", started_at: 1 },
      ],
      messages: [
        ...messages("ok"),
        ...messages("lost"),
        ...messages("terminal"),
        ...messages("chat"),
      ].map((m, i) => ({ ...m, id: i + 1 })),
    });
    const { report } = await auditCli(store);
    assert.deepEqual(pairs(discoverability(report)), []);
    const kinds = pairs(report.findings.filter((f) => f.sessionId));
    for (
      const expected of [
        "gone index_missing_file",
        "lost state_db_missing_sidecar",
        "torn malformed_live",
        "elsewhere session_id_mismatch",
      ]
    ) assert.ok(kinds.includes(expected), `${expected} in ${kinds}`);
    assert.ok(!kinds.some((k) => /^(terminal|chat) /.test(k)), `${kinds}`);
  });
});

Deno.test("discoverability: a healthy store with an index, state.db and every source of WebUI session is clean (exit 0, no finding of these checks)", async () => {
  await withStore(async (store) => {
    await healthySession(store);
    const s1 = JSON.parse(await Deno.readTextFile(store.path("s1.json")));
    const tagged = await store.sidecar("tagged", {
      source_tag: "webui",
      session_source: "webui",
      is_cli_session: false,
    });
    const snap = await store.sidecar("snap", {
      pre_compression_snapshot: true,
    });
    const tip = await store.sidecar("tip", { parent_session_id: "snap" });
    const cronProject = await store.sidecar("cron_9", { project_id: "p" });
    await store.index(serverIndex([s1, tagged, snap, tip, cronProject]));
    const { code, report } = await auditCli(store);
    assert.deepEqual(pairs(discoverability(report)), []);
    assert.equal(code, 0, report.findings.map((f) => f.kind).join(", "));
  });
});

Deno.test("discoverability: index_source_flag_stale is rebuilt only when asked (exit 1), the sidecar flag stays a person's call, undo puts the old index back", async () => {
  await withStore(async (store) => {
    const flagged = await store.sidecar("flagged", {
      source_tag: "webui",
      is_cli_session: true,
    });
    const stale = await store.sidecar("stale", { source_tag: "webui" });
    await store.index(
      serverIndex([flagged, stale]).map((e) =>
        e.session_id === "stale" ? { ...e, is_cli_session: true } : e
      ),
    );
    store.stateDb({ sessions: [], messages: [] });
    const before = await Deno.readTextFile(store.path("_index.json"));
    const sidecar = await Deno.readTextFile(store.path("flagged.json"));

    const plain = await runCli([
      "repair",
      ...storeArgs(store),
      "--format",
      "json",
    ]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(await Deno.readTextFile(store.path("_index.json")), before);

    const asked = await runCli([
      "repair",
      ...storeArgs(store),
      "--also-repair",
      "index_source_flag_stale",
      "--format",
      "json",
    ]);
    assert.equal(asked.code, 1, asked.stdout + asked.stderr);
    const runId = (JSON.parse(asked.stdout) as Report).repair!.runId!;
    const entries = JSON.parse(
      await Deno.readTextFile(store.path("_index.json")),
    ) as Record<string, unknown>[];
    const byId = new Map(entries.map((e) => [e.session_id, e]));
    assert.equal(byId.get("stale")!.is_cli_session, false);
    // The sidecar's own flag is data no server rebuilds: left as it is.
    assert.equal(byId.get("flagged")!.is_cli_session, true);
    assert.equal(await Deno.readTextFile(store.path("flagged.json")), sidecar);

    const after = await auditCli(store);
    assert.deepEqual(pairs(discoverability(after.report)), [
      "flagged persisted_source_flag_stale",
    ]);
    assert.equal(after.code, 0);

    const undo = await runCli([
      "undo",
      runId,
      "--session-dir",
      store.sessionDir,
    ]);
    assert.equal(undo.code, 1, undo.stdout + undo.stderr);
    assert.equal(await Deno.readTextFile(store.path("_index.json")), before);
  });
});

Deno.test("discoverability: checked a session at a time (as a big store is), the findings are those of the whole store", async () => {
  await withStore(async (store) => {
    const made = [
      await store.sidecar("aa_flag", {
        source_tag: "webui",
        is_cli_session: true,
      }),
      await store.sidecar("bb_stale", { source_tag: "webui" }),
      await store.sidecar("cc_cron", { source_tag: "cron" }),
      await store.sidecar("dd_misfiled", {
        source: "webui",
        source_tag: "cli",
        is_cli_session: true,
      }),
      await store.sidecar("ee_adopted", { source_tag: "kanban" }),
    ];
    await store.sidecar("ff_badws", { workspace: 3 });
    await store.index(
      serverIndex(made).map((e) =>
        e.session_id === "bb_stale" ? { ...e, is_cli_session: true } : e
      ),
    );
    store.stateDb({
      sessions: [{ id: "ee_adopted", source: "webui", title: "A" }],
      messages: messages("ee_adopted").map((m, i) => ({ ...m, id: i + 1 })),
    });
    const scan = {
      sessionDir: store.sessionDir,
      stateDbPath: store.stateDbPath,
      workers: 0,
    };
    const now = Date.now();
    const whole = await auditStore({
      scan,
      checks: builtinChecks,
      checkOptions: { now },
    });
    whole.store.stateDb.close();
    assert.deepEqual(pairs(discoverability(whole)), [
      "aa_flag persisted_source_flag_stale",
      "bb_stale index_source_flag_stale",
      "cc_cron background_session_hidden",
      "dd_misfiled source_misclassified",
      "ff_badws api_missing_messageful",
    ]);
    for (const partSessions of [1, 2]) {
      const parts = await auditStore({
        scan,
        checks: builtinChecks,
        checkOptions: { now },
        partSessions,
      });
      parts.store.stateDb.close();
      assert.deepEqual(
        parts.findings,
        whole.findings,
        `parts of ${partSessions}`,
      );
    }
  });
});
