/**
 * Differential test of repairs: on two copies of each seeded damaged store
 * (every generation, tests/store_generator.ts), today's server runs its own
 * `python3 -m api.session_recovery --repair-safe` (df65251d5, in
 * `../shared/upstream/`) and hermes-fsck runs `repair --server-stopped`.
 * Then:
 *
 * - every sidecar the server restored or created, hermes-fsck restored or
 *   created too, with every message the server's holds, in order; or its
 *   report keeps an `unsafe_to_repair` finding on that session, or names
 *   the repair it declined for it and why (an unreadable delete tombstone:
 *   the server reads it as empty and resurrects, hermes-fsck waits);
 * - hermes-fsck creates no sidecar the server did not (so nothing the
 *   server refuses to resurrect, a tombstoned session above all, comes
 *   back).
 *
 * Skips, saying so, when `../shared/upstream` or python3 is absent.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { Report } from "../core/report/report.ts";
import { runCli, storeArgs, TestStore } from "./fixtures.ts";
import { pool, seededRandom } from "./safety_support.ts";
import { Dice, generatedStore, type Generation } from "./store_generator.ts";
import { runServerRecovery, upstreamDir } from "./upstream_store_support.ts";

const TODAY = "hermes-webui-df65251d5";
const oracleDir = await upstreamDir(TODAY);
const skip = oracleDir.startsWith("skipped");
if (skip) console.warn(`repair parity ${oracleDir}`);

const SEED = 0x4e_9a12;
const STORES_PER_GENERATION = 6;

/** The sidecars of a session dir: id to bytes. */
async function sidecars(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for await (const entry of Deno.readDir(dir)) {
    if (
      !entry.isFile || !entry.name.endsWith(".json") ||
      entry.name.startsWith("_")
    ) continue;
    files.set(
      entry.name.slice(0, -".json".length),
      await Deno.readTextFile(join(dir, entry.name)),
    );
  }
  return files;
}

/** A sidecar's messages as role and text, or null when it does not parse. */
function messagesOf(text: string | undefined): string[] | null {
  if (text === undefined) return null;
  try {
    const value = JSON.parse(text);
    if (!Array.isArray(value?.messages)) return null;
    return value.messages.map((m: { role?: unknown; content?: unknown }) =>
      `${String(m?.role)}: ${
        typeof m?.content === "string" ? m.content : JSON.stringify(m?.content)
      }`
    );
  } catch {
    return null;
  }
}

/** Whether `part` appears in `whole` in order (other messages between). */
function inOrder(part: string[], whole: string[]): boolean {
  let i = 0;
  for (const message of whole) if (message === part[i]) i++;
  return i === part.length;
}

/** A copy of a store (session dir and state.db) in a new temp dir. */
async function copyOf(store: TestStore): Promise<TestStore> {
  const copy = await TestStore.create();
  await new Deno.Command("cp", {
    args: ["-a", `${store.root}/.`, copy.root],
  }).output();
  return copy;
}

/** Repairs copies of one store with both tools and compares the sidecars. */
async function assertRepairsAtLeastAsGood(
  store: TestStore,
  withStateDb: boolean,
  label: string,
): Promise<{ serverRestored: number }> {
  const [server, ours] = [await copyOf(store), await copyOf(store)];
  try {
    const before = await sidecars(store.sessionDir);
    const [, result] = await Promise.all([
      runServerRecovery(
        oracleDir,
        "--repair-safe",
        server.sessionDir,
        withStateDb ? server.stateDbPath : null,
      ),
      runCli([
        "repair",
        "--server-stopped",
        "--format",
        "json",
        ...storeArgs(ours, withStateDb),
      ]),
    ]);
    assert.ok(
      [0, 1, 4, 5].includes(result.code),
      `${label}: hermes-fsck repair exited ${result.code}:\n${result.stderr}`,
    );
    const report = JSON.parse(result.stdout) as Report;
    const serverAfter = await sidecars(server.sessionDir);
    const oursAfter = await sidecars(ours.sessionDir);
    let serverRestored = 0;
    for (const [id, text] of serverAfter) {
      if (before.get(id) === text) continue; // the server left it alone
      serverRestored++;
      const want = messagesOf(text) ?? [];
      const got = messagesOf(oursAfter.get(id));
      if (got !== null && inOrder(want, got)) continue;
      // The reason: an unsafe finding on the session, or the repair that
      // declined it, saying why (a delete tombstone that cannot be read).
      const reason = report.findings.find((f) =>
        f.sessionId === id && f.category === "unsafe_to_repair"
      ) ?? report.repair?.actions.find((a) =>
        a.sessionId === id && a.status === "skipped" && a.detail
      );
      assert.ok(
        reason,
        `${label}: the server restored ${id}.json (${want.length} messages) ` +
          `but hermes-fsck has ${
            got === null ? "no readable sidecar" : `${got.length} messages`
          } and no unsafe finding or declined repair on ${id} saying why; its findings: ${
            report.findings.map((f) =>
              `${f.kind} ${f.sessionId ?? ""}`
            )
              .join(", ")
          }`,
      );
    }
    for (const id of oursAfter.keys()) {
      if (before.has(id) || serverAfter.has(id)) continue;
      assert.fail(
        `${label}: hermes-fsck created ${id}.json, which the server's ` +
          `repair-safe does not bring back`,
      );
    }
    return { serverRestored };
  } finally {
    await server.cleanup();
    await ours.cleanup();
  }
}

for (const generation of [0, 1, 2, 3, 4] as Generation[]) {
  Deno.test({
    name:
      `repair parity with today's server's --repair-safe: ${STORES_PER_GENERATION} seeded damaged G${generation} stores`,
    ignore: skip,
  }, async () => {
    const dice = new Dice(seededRandom(SEED + generation));
    const stores: TestStore[] = [];
    const built: { withStateDb: boolean }[] = [];
    let restored = 0;
    try {
      for (let n = 0; n < STORES_PER_GENERATION; n++) {
        stores.push(await TestStore.create());
        built.push(
          await generatedStore(dice, stores[n], generation, {
            shards: false,
            manualModes: ["manual"],
          }),
        );
      }
      await pool(stores.map((store, n) => ({ store, n })), 2, async (c) => {
        const { serverRestored } = await assertRepairsAtLeastAsGood(
          c.store,
          built[c.n].withStateDb,
          `G${generation} store #${c.n} (seed ${SEED + generation})`,
        );
        restored += serverRestored;
      });
    } finally {
      await Promise.all(stores.map((store) => store.cleanup()));
    }
    assert.ok(restored > 0, `the server restored nothing in G${generation}`);
  });
}

Deno.test({
  name:
    "repair parity: a shrunken live sidecar of a session in the delete tombstone is restored, as the server does (a live sidecar beats its tombstone entry)",
  ignore: skip,
}, async () => {
  const store = await TestStore.create();
  try {
    await store.sidecar("back_again", { messages: 2 });
    await store.backup("back_again", { messages: 6 });
    await store.tombstone(["back_again"]);
    const { serverRestored } = await assertRepairsAtLeastAsGood(
      store,
      false,
      "tombstoned live",
    );
    assert.equal(serverRestored, 1);
  } finally {
    await store.cleanup();
  }
});

Deno.test({
  name:
    "repair parity: an orphan backup whose id the tombstone lists as a number is not resurrected, as the server does not",
  ignore: skip,
}, async () => {
  const store = await TestStore.create();
  try {
    await store.backup("123", { messages: 4 });
    await store.writeRaw(
      "_deleted_webui_sessions.json",
      JSON.stringify({ version: "1", ids: [123] }),
    );
    store.stateDb({ sessions: [{ id: "123", source: "webui" }] });
    // The helper fails if hermes-fsck creates 123.json.
    await assertRepairsAtLeastAsGood(store, true, "numeric tombstone id");
  } finally {
    await store.cleanup();
  }
});

Deno.test({
  name:
    "repair parity: a session whose sidecar is lost while its webui index entry survives is materialized from state.db, as the server does; tombstoned, by neither",
  ignore: skip,
}, async () => {
  for (const tombstoned of [false, true]) {
    const store = await TestStore.create();
    try {
      await store.index([{
        session_id: "lostone",
        title: "lost",
        message_count: 2,
        source_tag: "webui",
      }]);
      store.stateDb({
        sessions: [{
          id: "lostone",
          source: "webui",
          title: "lost",
          started_at: 1778458000,
        }],
        messages: [
          { session_id: "lostone", role: "user", content: "q", timestamp: 1 },
          {
            session_id: "lostone",
            role: "assistant",
            content: "a",
            timestamp: 2,
          },
        ],
      });
      if (tombstoned) await store.tombstone(["lostone"]);
      // The server's index heuristic for deleted sessions gates none of its
      // repairs, only the durable tombstone does: the helper fails if
      // hermes-fsck brings back what the server does not, or the reverse.
      const { serverRestored } = await assertRepairsAtLeastAsGood(
        store,
        true,
        tombstoned ? "tombstoned ghost" : "ghost with a state.db row",
      );
      assert.equal(serverRestored, tombstoned ? 0 : 1);
    } finally {
      await store.cleanup();
    }
  }
});
