/**
 * Tests of the parallel scan (core/scan/pool.ts, core/scan/worker.ts): on a
 * mixed store (every kind of damage the benchmark makes, plus a sidecar
 * nested too deep to send between threads and one that does not parse),
 * the workers give exactly the snapshot and the findings of the scan in one
 * thread.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { auditStore } from "../core/run/audit.ts";
import { scanStore, type StoreSnapshot } from "../core/scan/snapshot.ts";
import {
  defaultWorkerCount,
  MAX_SCAN_WORKERS,
  MIN_BYTES_FOR_WORKERS,
  runScanTasks,
  startScanWorkers,
} from "../core/scan/pool.ts";
import type { ScanFileResult, ScanTask } from "../core/scan/task.ts";
import { builtinChecks } from "../checks/builtin.ts";
import { ensureBenchStore } from "../tools/bench_store.ts";
import { runCli } from "./fixtures.ts";

type BenchStore = Awaited<ReturnType<typeof ensureBenchStore>>;

/** Runs `test` on a damaged bench store built in a temp dir, then removes it. */
async function withBenchStore(
  spec: { sessions: number; damagePercent: number; seed: number },
  test: (bench: BenchStore) => Promise<void>,
): Promise<void> {
  const cache = await Deno.makeTempDir({ prefix: "hermes-fsck-workers-" });
  try {
    await test(await ensureBenchStore(cache, { ...spec, repairTargets: 0 }));
  } finally {
    await Deno.remove(cache, { recursive: true });
  }
}

/** The snapshot as plain data, without its state.db connection. */
function plainSnapshot(store: StoreSnapshot): unknown {
  const { stateDb: _db, ...rest } = store;
  return { ...rest, sessions: [...store.sessions.entries()] };
}

Deno.test("scan workers: the same snapshot and findings as one thread, on a mixed damaged store", async () => {
  await withBenchStore(
    { sessions: 300, damagePercent: 40, seed: 3 },
    async (bench) => {
      const deep = "[".repeat(100_000) + "]".repeat(100_000);
      await Deno.writeTextFile(
        join(bench.sessionDir, "deep_one.json"),
        `{"session_id": "deep_one", "title": ${deep}, "messages": []}`,
      );
      await Deno.writeTextFile(
        join(bench.sessionDir, "torn_one.json"),
        '{"session_id": "torn_one", "messages": [{"role": "us',
      );
      const scan = {
        sessionDir: bench.sessionDir,
        stateDbPath: bench.stateDbPath,
      };
      const now = Date.now();
      const sequential = await auditStore({
        scan: { ...scan, workers: 0 },
        checks: builtinChecks,
        checkOptions: { now },
      });
      const parallel = await auditStore({
        scan: { ...scan, workers: 2 },
        checks: builtinChecks,
        checkOptions: { now },
      });
      sequential.store.stateDb.close();
      parallel.store.stateDb.close();
      assert.ok(sequential.store.sessions.size > 250);
      // The deep title, read in this thread by both, cannot be compared
      // recursively either: checked by hand, then left out.
      for (const store of [sequential.store, parallel.store]) {
        const live = store.sessions.get("deep_one")?.live?.read;
        assert.ok(live?.ok && Array.isArray(live.value.meta.title));
        live.value.meta.title = "deep";
      }
      assert.deepEqual(
        plainSnapshot({ ...parallel.store, scannedAt: 0 }),
        plainSnapshot({ ...sequential.store, scannedAt: 0 }),
      );
      assert.deepEqual(parallel.findings, sequential.findings);
      const kinds = new Set(sequential.findings.map((f) => f.kind));
      for (
        const kind of [
          "shrunken_live",
          "orphan_backup",
          "index_missing_entry",
          "turn_journal_pending_unconfirmed",
          "stale_temp",
          "state_db_missing_sidecar",
        ]
      ) {
        assert.ok(kinds.has(kind), `the store should show ${kind}`);
      }
      const torn = sequential.store.sessions.get("torn_one")?.live?.read;
      assert.ok(torn && !torn.ok && torn.problem.reason === "invalid_json");
    },
  );
});

Deno.test("scan workers: used only for stores big enough to pay for them", async () => {
  assert.equal(defaultWorkerCount(5000, MIN_BYTES_FOR_WORKERS - 1), 0);
  const cores = navigator.hardwareConcurrency;
  assert.equal(
    defaultWorkerCount(5000, MIN_BYTES_FOR_WORKERS),
    cores < 2 ? 0 : Math.min(cores - 1, MAX_SCAN_WORKERS),
  );
  assert.equal(defaultWorkerCount(1, 1e12), cores < 2 ? 0 : 1);
  // An empty store reads nothing, in any thread.
  const dir = await Deno.makeTempDir({ prefix: "hermes-fsck-empty-" });
  try {
    const store = await scanStore({ sessionDir: dir, stateDbPath: null });
    assert.deepEqual(store.stats, { filesRead: 0, bytesRead: 0 });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("scan workers: --workers 0 and --workers 2 give the same report; a bad count is a usage error", async () => {
  await withBenchStore(
    { sessions: 120, damagePercent: 30, seed: 5 },
    async (bench) => {
      const args = (workers: string) => [
        "audit",
        "--format",
        "json",
        `--workers=${workers}`,
        "--session-dir",
        bench.sessionDir,
        "--state-db",
        bench.stateDbPath,
      ];
      const one = await runCli(args("0"));
      const three = await runCli(args("2"));
      assert.equal(one.code, 4, one.stderr);
      assert.equal(three.code, 4, three.stderr);
      // Everything but a temp's age, which moves with the clock.
      const findings = (stdout: string) =>
        JSON.parse(
          stdout,
          (key, value) => key === "ageSeconds" ? undefined : value,
        ).findings;
      assert.ok(findings(one.stdout).length > 10);
      assert.deepEqual(findings(three.stdout), findings(one.stdout));
      for (const bad of ["-1", "4", "two", "1.5"]) {
        const result = await runCli(args(bad));
        assert.equal(result.code, 16, bad);
        assert.match(
          result.stderr,
          /--workers must be a whole number from 0 to 3/,
        );
      }
    },
  );
});

Deno.test("scan workers: started before the tasks exist, they read them all; with no task they are ended", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hermes-fsck-early-" });
  try {
    const tasks: ScanTask[] = [];
    for (let i = 0; i < 40; i++) {
      const id = `s${i}`;
      await Deno.writeTextFile(
        join(dir, `${id}.json`),
        JSON.stringify({ session_id: id, messages: [{ role: "user" }] }),
      );
      tasks.push({
        dir,
        sessionId: id,
        files: [{ name: `${id}.json`, kind: "sidecar" }],
      });
    }
    // runScanTasks empties the list it is given: the last case gets its own.
    const failingTasks = tasks.slice(0, 5);
    // The workers load their modules while this thread makes the tasks.
    const workers = startScanWorkers(2);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const seen = new Map<string, ScanFileResult[]>();
    let firstDone = false;
    await runScanTasks(tasks, {
      workers,
      maxBytes: 1 << 20,
      first: async () => {
        // This thread's own work runs before it reads any session.
        assert.equal(seen.size, 0);
        await Promise.resolve();
        firstDone = true;
      },
      onResults: (task, results) => {
        seen.set(task.sessionId, results);
      },
    });
    assert.ok(firstDone);
    assert.equal(seen.size, 40);
    for (const results of seen.values()) {
      const read = results[0].read;
      assert.ok(read.ok && "messageCount" in read.value);
      assert.equal(read.value.messageCount, 1);
    }
    // Every task ran; none was left to this thread by a failed worker.
    assert.deepEqual(await workers!.finished, []);
    // Workers started for a store with nothing to read are ended, and the
    // thread's own work still runs.
    const unused = startScanWorkers(1);
    let ranFirst = false;
    await runScanTasks([], {
      workers: unused,
      maxBytes: 1 << 20,
      first: () => Promise.resolve(void (ranFirst = true)),
      onResults: () => {},
    });
    assert.ok(ranFirst);
    await assert.rejects(unused!.finished, /scan workers closed/);
    // This thread's own work failing ends the workers as well.
    const failing = startScanWorkers(1);
    await assert.rejects(
      runScanTasks(failingTasks, {
        workers: failing,
        maxBytes: 1 << 20,
        first: () => Promise.reject(new Error("index unreadable")),
        onResults: () => {},
      }),
      /index unreadable/,
    );
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stillRunning = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error("still running")), 5_000);
    });
    try {
      await assert.rejects(
        Promise.race([failing!.finished, stillRunning]),
        /scan workers closed/,
      );
    } finally {
      clearTimeout(timer);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
