/**
 * Differential test: `hermes-fsck audit --format webui-json`, run as an
 * operator runs it, prints byte for byte what today's server's own audit
 * prints (`python3 -m api.session_recovery --audit` of df65251d5,
 * exp-v0.52.262, in `../shared/upstream/`) on the same store: seeded
 * stores of every generation G0..G4, healthy and damaged
 * (tests/store_generator.ts), each audited by both as real subprocesses.
 * Skips, saying so, when `../shared/upstream` or python3 is absent.
 *
 * Left out on purpose, because hermes-fsck reports those stores otherwise
 * by design and says why in its own kinds: ids that fail the sidecar rule,
 * a `.bak` whose `session_id` names another session, FIFOs, symlinks and
 * dirs named like store files, journal values the server crashes on.
 *
 * @module
 */

import assert from "node:assert/strict";
import { runCli, storeArgs, TestStore } from "./fixtures.ts";
import { pool, seededRandom } from "./safety_support.ts";
import {
  Dice,
  type GeneratedStore,
  generatedStore,
  type Generation,
} from "./store_generator.ts";
import { runServerRecovery, upstreamDir } from "./upstream_store_support.ts";

const TODAY = "hermes-webui-df65251d5";
const oracleDir = await upstreamDir(TODAY);
const skip = oracleDir.startsWith("skipped");
if (skip) console.warn(`webui-json parity ${oracleDir}`);

const SEED = 0x20_0822;
const STORES_PER_GENERATION = 14;
const HEALTHY_STORES = 3; // the first of each generation
const SHARD_STORES = 12;

/**
 * Whether hermes-fsck reads per-process journal shards yet: another part of
 * issue 20 teaches the core to. Until then the stores with shards are a
 * test of their own, ignored; set true when that work is merged.
 */
const SHARDS_READ = true;

/**
 * Whether hermes-fsck's shrink guards read the manual-compression mode as
 * today's server does (trimmed, any case), another part of issue 20. Until
 * then the stores spell it "manual" only; set true when that is merged.
 */
const GUARDS_AS_TODAY = true;
const MANUAL_MODES = GUARDS_AS_TODAY
  ? ["manual", "Manual", " MANUAL "]
  : ["manual"];

interface Outcome {
  kinds: string[];
  shards: boolean;
}

/** Audits one store with both and asserts the same stdout. */
async function assertParity(
  store: TestStore,
  withStateDb: boolean,
  label: string,
): Promise<string[]> {
  const [server, ours] = await Promise.all([
    runServerRecovery(
      oracleDir,
      "--audit",
      store.sessionDir,
      withStateDb ? store.stateDbPath : null,
    ),
    runCli([
      "audit",
      "--format",
      "webui-json",
      ...storeArgs(store, withStateDb),
    ]),
  ]);
  assert.ok(
    ours.code === 0 || ours.code === 4,
    `${label}: hermes-fsck exited ${ours.code}:\n${ours.stderr}`,
  );
  if (ours.stdout.replace(/\n$/, "") !== server) {
    const files = [...(await store.snapshot(store.sessionDir))]
      .map(([name, body]) => `--- ${name}\n${body.slice(0, 600)}`).join("\n");
    assert.equal(
      ours.stdout.replace(/\n$/, ""),
      server,
      `${label}: hermes-fsck (actual) differs from the server (expected); the store:\n${files}`,
    );
  }
  const audit = JSON.parse(server) as { items: { kind: string }[] };
  return audit.items.map((item) => item.kind);
}

/**
 * Builds `count` stores from one seed (one after another, so the seed alone
 * decides every store), audits each with both tools three at a time, and
 * returns what the server reported.
 */
async function runStores(
  seed: number,
  count: number,
  build: (dice: Dice, store: TestStore, n: number) => Promise<GeneratedStore>,
): Promise<Outcome[]> {
  const dice = new Dice(seededRandom(seed));
  const stores: TestStore[] = [];
  const outcomes: Outcome[] = [];
  try {
    const built: GeneratedStore[] = [];
    for (let n = 0; n < count; n++) {
      stores.push(await TestStore.create());
      built.push(await build(dice, stores[n], n));
    }
    await pool(stores.map((store, n) => ({ store, n })), 3, async (c) => {
      const { generation, withStateDb, shards } = built[c.n];
      const kinds = await assertParity(
        c.store,
        withStateDb,
        `G${generation} store #${c.n} (seed ${seed})`,
      );
      outcomes.push({ kinds, shards });
    });
  } finally {
    await Promise.all(stores.map((store) => store.cleanup()));
  }
  return outcomes;
}

for (const generation of [0, 1, 2, 3, 4] as Generation[]) {
  Deno.test({
    name:
      `webui-json parity with today's server: ${STORES_PER_GENERATION} seeded G${generation} stores`,
    ignore: skip,
  }, async () => {
    const outcomes = await runStores(
      SEED + generation,
      STORES_PER_GENERATION,
      (dice, store, n) =>
        generatedStore(dice, store, generation, {
          healthy: n < HEALTHY_STORES,
          shards: false,
          manualModes: MANUAL_MODES,
        }),
    );
    // Not vacuous: damaged stores the server reports, and healthy ones.
    const seen = new Set(outcomes.flatMap((o) => o.kinds));
    for (const kind of ["shrunken_live", "malformed_orphan_backup"]) {
      assert.ok(seen.has(kind), `no G${generation} store had ${kind}`);
    }
    assert.ok(
      seen.has("orphan_backup") || seen.has("orphan_backup_without_state_row"),
    );
    assert.ok(outcomes.some((o) => o.kinds.length === 0));
    if (generation >= 3) {
      assert.ok(seen.has("state_db_deleted_webui_tombstone"));
    }
  });
}

Deno.test({
  name:
    `webui-json parity with today's server: ${SHARD_STORES} seeded G2-G4 stores with journal shards`,
  ignore: skip || !SHARDS_READ,
}, async () => {
  const outcomes = await runStores(
    SEED + 100,
    SHARD_STORES,
    (dice, store, n) =>
      generatedStore(dice, store, (2 + n % 3) as Generation, {
        manualModes: MANUAL_MODES,
      }),
  );
  assert.ok(outcomes.some((o) => o.shards));
  assert.ok(
    outcomes.some((o) =>
      o.shards && o.kinds.includes("turn_journal_pending_turn")
    ),
  );
});
