/**
 * Differential test of the discoverability checks against the server's own
 * audit: `python3 -m api.session_discoverability` of today's release, run
 * from `../shared/upstream/hermes-webui-df65251d5` (or
 * `$HERMES_FSCK_UPSTREAM`) on a copy of the same stores, with the server's
 * configured dirs pointed at the copy so its session list is that store's.
 * The sets of (session, kind) must agree: the server's kinds map to
 * hermes-fsck's, a cause another check reports is found by that check,
 * and the differences hermes-fsck makes on purpose (see `explain
 * api_missing_messageful`) are listed here, each with its reason.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { Finding } from "../core/report/finding.ts";
import type { Report } from "../core/report/report.ts";
import { runCli, runCommand, TestStore } from "./fixtures.ts";
import { serverIndex } from "./check_support.ts";
import { upstreamDir, upstreamStore } from "./upstream_store_support.ts";

const TODAY = "hermes-webui-df65251d5";

/** hermes-fsck's discoverability kinds, as the server names them. */
function serverKindOf(finding: Finding): string | null {
  switch (finding.kind) {
    case "persisted_source_flag_stale":
    case "source_misclassified":
    case "api_missing_messageful":
    case "lineage_missing_visible_representative":
      return finding.kind;
    case "index_source_flag_stale":
      return "persisted_source_flag_stale";
    case "background_session_hidden":
      return finding.evidence.preCompressionSnapshot
        ? "lineage_missing_visible_representative"
        : "api_missing_messageful";
    default:
      return null;
  }
}

/** Other kinds that report a cause the server's audit reports by `kind`. */
const MAPPED: Record<string, string[]> = {
  api_missing_messageful: [
    "malformed_live",
    "shrunken_live",
    "interrupted_save",
    "index_missing_file",
    "invalid_session_id",
    "session_id_mismatch",
    "sidecar_missing_keys",
  ],
  lineage_missing_visible_representative: [
    "malformed_live",
    "shrunken_live",
    "index_missing_file",
  ],
  state_db_messageful_missing_sidecar: [
    // A sidecar that does not parse counts as missing to the server.
    "malformed_live",
    "shrunken_live",
    "interrupted_save",
    "state_db_missing_sidecar",
    "state_db_deleted_webui_tombstone",
  ],
};

interface Paths {
  sessionDir: string;
  stateDb: string;
}

/** The server's items as "sid kind", or why it cannot run (a skip). */
async function serverItems(paths: Paths): Promise<string[] | string> {
  const cwd = await upstreamDir(TODAY);
  if (cwd.startsWith("skipped:")) return cwd;
  // The server's audit starts an index rebuild and may leave a temp: it
  // runs on a copy. Its dirs: <base>/webui/sessions, <base>/hermes/state.db.
  const base = join(paths.sessionDir, "..", "..");
  const copy = await Deno.makeTempDir({ prefix: "hermes-fsck-discover-" });
  try {
    const copied = await runCommand("cp", ["-a", `${base}/.`, copy]);
    assert.equal(copied.code, 0, copied.stderr);
    const sessionDir = join(copy, "webui", "sessions");
    const stateDb = join(copy, "hermes", "state.db");
    let result;
    try {
      result = await runCommand("python3", [
        "-m",
        "api.session_discoverability",
        "--session-dir",
        sessionDir,
        "--state-db",
        stateDb,
      ], {
        cwd,
        env: {
          HOME: join(copy, "home"),
          HERMES_WEBUI_STATE_DIR: join(copy, "webui"),
          HERMES_HOME: join(copy, "hermes"),
        },
      });
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        return "skipped: python3 is not on PATH";
      }
      throw error;
    }
    assert.equal(result.code, 0, result.stderr);
    const items = JSON.parse(result.stdout).items as {
      session_id: string;
      kind: string;
    }[];
    return items.map((item) => `${item.session_id} ${item.kind}`).sort();
  } finally {
    await Deno.remove(copy, { recursive: true });
  }
}

async function ourReport(paths: Paths): Promise<Report> {
  const result = await runCli([
    "audit",
    "--session-dir",
    paths.sessionDir,
    "--state-db",
    paths.stateDb,
    "--format",
    "json",
  ]);
  return JSON.parse(result.stdout);
}

/**
 * Runs both on a store and compares. `agentRows`: state.db rows of other
 * sources than webui, which the server reports and hermes-fsck does not.
 * `ours`: "sid kind" pairs (server names) only hermes-fsck reports, on
 * purpose. Logs a skip when the server's code or python3 is absent.
 */
async function compare(
  t: Deno.TestContext,
  paths: Paths,
  expected: { agentRows?: string[]; ours?: string[]; server: string[] },
): Promise<void> {
  const server = await serverItems(paths);
  if (typeof server === "string") {
    console.log(`${t.name}: ${server}`);
    return;
  }
  assert.deepEqual(server, [...expected.server].sort(), "the server's items");
  const report = await ourReport(paths);
  const mine = report.findings.flatMap((f) => {
    const kind = serverKindOf(f);
    return kind ? [`${f.sessionId} ${kind}`] : [];
  }).sort();
  for (const item of server) {
    const [sid, kind] = item.split(" ");
    if (mine.includes(item)) continue;
    if (
      kind === "state_db_messageful_missing_sidecar" &&
      expected.agentRows?.includes(sid)
    ) continue;
    const others = report.findings.filter((f) =>
      f.sessionId === sid && (MAPPED[kind] ?? []).includes(f.kind)
    );
    assert.ok(
      others.length > 0,
      `${item}: neither this kind nor one it maps to is reported`,
    );
  }
  const onlyOurs = mine.filter((item) => !server.includes(item));
  assert.deepEqual(onlyOurs, [...(expected.ours ?? [])].sort());
}

function pathsOf(store: TestStore): Paths {
  return { sessionDir: store.sessionDir, stateDb: store.stateDbPath };
}

async function withTestStore(
  build: (store: TestStore) => Promise<void>,
  check: (store: TestStore) => Promise<void>,
): Promise<void> {
  const store = await TestStore.create();
  try {
    await build(store);
    await check(store);
  } finally {
    await store.cleanup();
  }
}

const rows = (sid: string, source: string, n = 2, first = 1) => ({
  session: { id: sid, source, title: `t ${sid}`, started_at: first },
  messages: Array.from({ length: n }, (_, i) => ({
    session_id: sid,
    role: i % 2 ? "assistant" : "user",
    content: `${sid} ${i}`,
    timestamp: 1778458000 + i,
  })),
});

function stateDb(store: TestStore, list: ReturnType<typeof rows>[]): void {
  store.stateDb({
    sessions: list.map((r) => r.session),
    messages: list.flatMap((r) => r.messages).map((m, i) => ({
      ...m,
      id: i + 1,
    })),
  });
}

async function flagStore(store: TestStore, indexed: boolean): Promise<void> {
  const made = [
    await store.sidecar("x1", {
      source: "webui",
      source_tag: "cli",
      is_cli_session: true,
    }),
    await store.sidecar("x2", { source_tag: "webui", is_cli_session: true }),
    await store.sidecar("x3", {
      session_source: "webui",
      is_cli_session: true,
    }),
    await store.sidecar("x4", { source_tag: "cli", is_cli_session: true }),
    // Imported from the CLI: no WebUI origin, no finding.
    await store.sidecar("x5", { source_tag: "cli", is_cli_session: true }),
    await store.sidecar("x6", { source_tag: "webui" }),
  ];
  // Only the index entry of x7 says CLI: a stale entry.
  made.push(await store.sidecar("x7", { source_tag: "webui" }));
  if (indexed) {
    await store.index(
      serverIndex(made).map((e) =>
        e.session_id === "x7" ? { ...e, is_cli_session: true } : e
      ),
    );
  }
  stateDb(store, [rows("x4", "webui"), rows("x6", "webui")]);
}

for (const indexed of [false, true]) {
  Deno.test(
    `discoverability differential: source flags, ${
      indexed ? "listed from the index" : "listed by a full scan"
    }`,
    async (t) => {
      await withTestStore((s) => flagStore(s, indexed), async (store) => {
        await compare(t, pathsOf(store), {
          server: [
            "x1 source_misclassified",
            "x2 persisted_source_flag_stale",
            "x3 persisted_source_flag_stale",
            "x4 persisted_source_flag_stale",
            ...(indexed ? ["x7 persisted_source_flag_stale"] : []),
          ],
        });
      });
    },
  );
}

Deno.test("discoverability differential: sessions the list leaves out, and the causes other checks report", async (t) => {
  await withTestStore(async (store) => {
    await store.sidecar("badws", { workspace: 5 });
    await store.sidecar("badsnap", {
      created_workspace: 7,
      pre_compression_snapshot: true,
    });
    const listed = await store.sidecar("listed", { workspace: null });
    await store.sidecar("nightly", { source_tag: "cron" });
    await store.sidecar("cron_42", {});
    await store.sidecar("hooked", { source_tag: "webhook", messages: 0 });
    const projected = await store.sidecar("projected", {
      source_tag: "cron",
      project_id: "p1",
    });
    await store.sidecar("adopted", { source_tag: "kanban" });
    const ok = await store.sidecar("ok");
    await store.writeRaw("torn.json", '{"session_id": "torn", "messa');
    await store.index([
      ...serverIndex([ok, listed, projected]),
      {
        session_id: "gone",
        title: "g",
        message_count: 3,
        last_message_at: 1,
        updated_at: 1,
      },
    ]);
    await store.tombstone(["deleted"]);
    stateDb(store, [
      rows("ok", "webui"),
      rows("adopted", "webui"),
      rows("torn", "webui"),
      rows("lost", "webui"),
      rows("deleted", "webui"),
      rows("terminal", "cli"),
      rows("chat", "telegram"),
    ]);
  }, async (store) => {
    await compare(t, pathsOf(store), {
      server: [
        "badsnap lineage_missing_visible_representative",
        "badws api_missing_messageful",
        "cron_42 api_missing_messageful",
        "nightly api_missing_messageful",
        "gone api_missing_messageful",
        "torn state_db_messageful_missing_sidecar",
        "lost state_db_messageful_missing_sidecar",
        "deleted state_db_messageful_missing_sidecar",
        "terminal state_db_messageful_missing_sidecar",
        "chat state_db_messageful_missing_sidecar",
      ],
      agentRows: ["terminal", "chat"],
    });
  });
});

Deno.test("discoverability differential: a hidden session whose lineage is listed is still reported by hermes-fsck, on purpose", async (t) => {
  await withTestStore(async (store) => {
    await store.sidecar("snapcron", {
      source_tag: "cron",
      pre_compression_snapshot: true,
    });
    await store.sidecar("tip", { parent_session_id: "snapcron" });
    await store.sidecar("broken", { workspace: ["w"] });
    await store.sidecar("child", { parent_session_id: "broken" });
    // The server never indexes a sidecar it cannot load.
    const entries = JSON.parse(
      await Deno.readTextFile(store.path("_index.json")),
    );
    await store.index(
      entries.filter((e: { session_id: string }) => e.session_id !== "broken"),
    );
    stateDb(store, []);
  }, async (store) => {
    await compare(t, pathsOf(store), {
      server: [],
      // Listed relatives do not make these files' own messages reachable.
      ours: [
        "broken api_missing_messageful",
        "snapcron lineage_missing_visible_representative",
      ],
    });
  });
});

Deno.test("discoverability differential: a healthy store the server's own code wrote is clean for both", async (t) => {
  const built = await upstreamStore(TODAY, ["abc123", "api-Chat_7"]);
  if (typeof built === "string") {
    console.log(`${t.name}: ${built}`);
    return;
  }
  try {
    await compare(t, built, { server: [] });
    const report = await ourReport(built);
    assert.deepEqual(
      report.findings.filter((f) => f.category !== "info").map((f) => f.kind),
      [],
    );
  } finally {
    await Deno.remove(built.root, { recursive: true });
  }
});
