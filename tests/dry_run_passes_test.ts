/**
 * `repair --dry-run` shows every pass a real run makes (issue 24): on
 * damaged stores, one of them needing three passes (a restore from the
 * backup, then the stream the backup left open, then the index), the dry
 * run lists pass by pass the repairs, paths and bytes the real run on an
 * identical copy of the store applies, and leaves its own store as it was,
 * bytes and times. The runs share one clock (`now`), since a repair stamps
 * what it writes with the run's time; the CLI's runs, each on its own
 * clock, are compared on what does not depend on it.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { builtinChecks } from "../checks/builtin.ts";
import { builtinRepairs } from "../repairs/builtin.ts";
import { type RepairRecord, runRepair } from "../core/run/repair_engine.ts";
import { sha256Hex } from "../core/io/hash.ts";
import type { Report } from "../core/report/report.ts";
import {
  type CliResult,
  runCli,
  storeArgs,
  type TestStore,
  withStore,
} from "./fixtures.ts";
import { buildDamagedStore } from "./safety_support.ts";
import { buildFuzzStore } from "./fuzz_support.ts";

/** Each file and dir below `dir`: its type, size, mtime and bytes' hash. */
async function tree(dir: string, into = new Map<string, string>()) {
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    const info = await Deno.lstat(path);
    const bytes = entry.isFile
      ? await sha256Hex(await Deno.readFile(path))
      : "";
    into.set(path, `${info.size} ${info.mtime?.getTime()} ${bytes}`);
    if (entry.isDirectory) await tree(path, into);
  }
  return into;
}

/** A copy of the store's root (times kept: a temp's age is its mtime's). */
async function copyOf(store: TestStore): Promise<string> {
  const copy = `${store.root}-copy`;
  const cp = await new Deno.Command("cp", { args: ["-a", store.root, copy] })
    .output();
  assert.equal(cp.code, 0, new TextDecoder().decode(cp.stderr));
  return copy;
}

/** Each action as `pass repair status op path bytes sha256`. */
function rows(records: readonly RepairRecord[], exact: boolean): string[] {
  return records.flatMap((record) => {
    const status = record.status === "planned" ? "applied" : record.status;
    const head = `${record.pass} ${record.repair} ${status}`;
    if (record.actions.length === 0) return [`${head} (${record.detail})`];
    return record.actions.map((a) =>
      `${head} ${a.op} ${a.path}` +
      (exact ? ` ${a.bytes} ${a.sha256 ?? ""}` : "")
    );
  });
}

/** Runs repair on `sessionDir` in-process at time `now`. */
async function repairAt(
  sessionDir: string,
  stateDbPath: string,
  dryRun: boolean,
  now: number,
  alsoRepair: string[],
) {
  const run = await runRepair({
    scan: { sessionDir, stateDbPath },
    checks: builtinChecks,
    repairs: builtinRepairs,
    checkOptions: { now, serverStopped: true },
    dryRun,
    alsoRepair,
  });
  run.store.stateDb.close();
  run.store.profileDbs?.close();
  return run;
}

/**
 * Dry run on `store`, real run on a copy, at one time: the same actions
 * pass by pass, the dry run's store untouched, and each file the real run
 * wrote last holds the bytes the dry run planned for it last.
 */
async function assertSamePlan(
  store: TestStore,
  alsoRepair: string[] = [],
): Promise<RepairRecord[]> {
  const copy = await copyOf(store);
  try {
    const now = Date.now();
    const before = await tree(store.root);
    const dry = await repairAt(
      store.sessionDir,
      store.stateDbPath,
      true,
      now,
      alsoRepair,
    );
    assert.deepEqual(await tree(store.root), before, "the dry run wrote");
    const realDir = join(copy, "webui", "sessions");
    const real = await repairAt(
      realDir,
      join(copy, "hermes", "state.db"),
      false,
      now,
      alsoRepair,
    );
    assert.deepEqual(rows(dry.records, true), rows(real.records, true));
    assert.equal(dry.passes, real.passes);
    const lastWrite = new Map<string, string | null>();
    for (const record of dry.records) {
      for (const a of record.actions) {
        if (a.op === "write") lastWrite.set(a.path, a.sha256!);
        if (a.op === "remove") lastWrite.set(a.path, null);
      }
    }
    for (const [path, sha256] of lastWrite) {
      const now = await Deno.readFile(join(realDir, path)).catch(() => null);
      assert.equal(now && await sha256Hex(now), sha256, path);
    }
    return dry.records;
  } finally {
    await Deno.remove(copy, { recursive: true });
  }
}

/**
 * A live sidecar wiped to one message beside its backup of 30 that a turn
 * left streaming: pass 1 restores the backup, pass 2 ends the turn it
 * brought back, pass 3 indexes what pass 2 wrote.
 */
async function buildThreePassStore(store: TestStore): Promise<void> {
  await store.sidecar("wiped", { messages: 1 });
  await store.backup("wiped", {
    messages: 30,
    active_stream_id: "s1",
    pending_user_message: "hello?",
    pending_started_at: 1778458000.5,
  });
  await store.sidecar("healthy", { messages: 2 });
}

Deno.test("dry run: a store that takes three passes is planned pass by pass as the real run applies it", async () => {
  await withStore(async (store) => {
    await buildThreePassStore(store);
    const records = await assertSamePlan(store);
    assert.deepEqual(
      records.map((r) => `${r.pass} ${r.repair}`),
      ["1 restore_from_bak", "2 recover_stale_stream", "3 rebuild_index"],
    );
  });
});

Deno.test("dry run: a backup a restore leaves redundant is planned away in the pass after the restore, as the real run does with --also-repair", async () => {
  await withStore(async (store) => {
    await buildThreePassStore(store);
    const records = await assertSamePlan(store, ["redundant_backup"]);
    assert.ok(
      records.some((r) =>
        r.pass === 2 && r.repair === "remove_redundant_backup" &&
        r.actions.some((a) => a.op === "remove" && a.path === "wiped.json.bak")
      ),
      rows(records, true).join("\n"),
    );
  });
});

Deno.test("dry run: the damaged store of the safety tests (a pending turn, an orphan backup, a stale index) is planned as the real run applies it", async () => {
  await withStore(async (store) => {
    await buildDamagedStore(store);
    const records = await assertSamePlan(store);
    assert.ok(records.some((r) => r.pass >= 2), rows(records, true).join("\n"));
  });
});

// Fuzz stores whose real run takes a second pass (found by running both
// on the fuzz's stores): a stale temp, a broken index, a truncated
// backup or journal.
for (const index of [4, 8, 16, 22]) {
  Deno.test(`dry run: fuzz store 1/${index} is planned as the real run applies it`, async () => {
    await withStore(async (store) => {
      const sibling = `${store.root}-sibling`;
      try {
        await buildFuzzStore(1, index, store, sibling);
        const records = await assertSamePlan(store);
        assert.ok(records.length > 0, "the fuzz store has something to repair");
      } finally {
        await Deno.remove(sibling, { recursive: true }).catch(() => {});
      }
    });
  });
}

function show(r: CliResult): string {
  return `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
}

Deno.test("dry run: the CLI's dry run lists the passes its real run makes, changes nothing, and never ends with 'add --dry-run'", async () => {
  await withStore(async (store) => {
    await buildThreePassStore(store);
    const copy = await copyOf(store);
    try {
      const before = await tree(store.root);
      const args = ["repair", ...storeArgs(store, false), "--server-stopped"];
      const text = await runCli([...args, "--dry-run"]);
      assert.equal(text.code, 4, show(text));
      const dry = await runCli([...args, "--dry-run", "--format", "json"]);
      assert.equal(dry.code, 4, show(dry));
      assert.deepEqual(await tree(store.root), before, "the dry run wrote");
      const real = await runCli([
        "repair",
        "--session-dir",
        join(copy, "webui", "sessions"),
        "--no-state-db",
        "--server-stopped",
        "--format",
        "json",
      ]);
      assert.equal(real.code, 1, show(real));
      const planned = JSON.parse(dry.stdout) as Report;
      const done = JSON.parse(real.stdout) as Report;
      assert.deepEqual(
        rows(planned.repair!.actions, false),
        rows(done.repair!.actions, false),
      );
      assert.equal(planned.repair!.passes, done.repair!.passes);
      for (const pass of [2, 3]) {
        assert.match(
          text.stdout,
          new RegExp(
            `^ {2}Pass ${pass}, planned on the store as pass ${
              pass - 1
            } would leave it`,
            "m",
          ),
        );
      }
      assert.doesNotMatch(text.stdout, /add --dry-run/);
      assert.match(
        text.stdout.trimEnd().split("\n").at(-1)!,
        /without --dry-run/,
      );
    } finally {
      await Deno.remove(copy, { recursive: true });
    }
  });
});
