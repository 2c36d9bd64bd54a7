/**
 * Crash test of issue 3: `repair` killed at every durable step of every
 * repair kind (the safety layer's `HERMES_FSCK_FAULT_AFTER_STEPS`, which
 * exits the process with 137 and no cleanup), and with SIGKILL at random
 * times. After each kill:
 * (a) no message that existed before is gone from all of the live file,
 *     the `.bak` and the run quarantines, and the journal's pending turn is
 *     still in the journal or in the sidecar;
 * (b) the next `repair` completes and the store then audits clean;
 * (c) undoing the completing run and then the crashed run gives back the
 *     original store byte for byte.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { makeMessages, TestStore } from "./fixtures.ts";
import {
  actionsOf,
  assertNoMessageLost,
  atFaultPoint,
  buildDamagedStore,
  cli,
  completeAndAudit,
  completeThenUndo,
  copyTree,
  dirArgs,
  faultCli,
  originalOf,
  pathsAt,
  PENDING,
  pool,
  reportOf,
  runDirs,
  RUNS,
  seededRandom,
  show,
  spawnCli,
  submittedEvent,
  withStore,
} from "./safety_support.ts";

const FAULT = "HERMES_FSCK_FAULT_AFTER_STEPS";

Deno.test("crash: repair killed after each durable step loses nothing, completes on rerun, undoes to the original bytes", async () => {
  const pristine = await TestStore.create();
  const work = await Deno.makeTempDir({ prefix: "hermes-fsck-crash-" });
  try {
    await buildDamagedStore(pristine);
    const original = await originalOf(pristine, PENDING);

    // A whole run, with a fault point it never reaches: every repair kind
    // is applied and the store ends clean.
    const whole = pathsAt(join(work, "whole"));
    await copyTree(pristine.root, whole.root);
    const full = await faultCli(
      ["repair", "--server-stopped", ...dirArgs(whole), "--format", "json"],
      whole,
      { [FAULT]: "1000000" },
    );
    assert.equal(full.code, 1, show(full));
    const applied = reportOf(full).repair!.actions.flatMap((record) =>
      record.actions.filter((a) => a.status === "applied").map((a) =>
        `${record.repair} ${a.path}`
      )
    ).sort();
    assert.deepEqual(applied, [
      "materialize_from_state_db fromdb.json",
      "rebuild_index _index.json",
      "recover_pending_turn _turn_journal/pending.jsonl",
      "recover_pending_turn pending.json",
      "restore_from_bak orphan.json",
      "restore_from_bak shrunk.json",
    ]);
    const fullRun = reportOf(full).repair!.runId!;
    const fullPaths = (await actionsOf(whole, fullRun)).map((a) => a.path);

    // Crash after step N, for N = 1, 2, ... until a run no longer crashes:
    // that N - 1 is the number of durable steps of a whole run.
    let completesAt = Infinity;
    const failures: string[] = [];
    const interrupted = new Set<string>();
    const steps = Array.from({ length: 400 }, (_, i) => i + 1);
    await pool(steps, 4, async (n) => {
      if (n > completesAt) return;
      await atFaultPoint(
        pristine.root,
        join(work, `n${n}`),
        failures,
        async (store) => {
          const crashed = await faultCli(
            [
              "repair",
              "--server-stopped",
              ...dirArgs(store),
              "--format",
              "json",
            ],
            store,
            { [FAULT]: String(n) },
          );
          if (crashed.code !== 137) {
            assert.equal(
              crashed.code,
              1,
              `fault after ${n}: ${show(crashed)}`,
            );
            completesAt = Math.min(completesAt, n);
            return;
          }
          const context = `fault after step ${n}`;
          await assertNoMessageLost(
            store.sessionDir,
            original.messages,
            original.pending,
            context,
          );
          const [crashedRun, ...others] = await runDirs(store.sessionDir);
          assert.ok(crashedRun, `${context}: no run dir`);
          assert.deepEqual(others, [], `${context}: more than one run dir`);
          for (const action of await actionsOf(store, crashedRun)) {
            if (action.status === "pending") interrupted.add(action.path);
          }
          await completeThenUndo(store, original, context, [crashedRun]);
        },
      );
    });
    const total = completesAt - 1;
    assert.ok(Number.isFinite(completesAt), "the run never completed");
    // At least: a temp, a link and a dir fsync per action, and the records.
    assert.ok(total >= 4 * fullPaths.length, `only ${total} steps`);
    assert.deepEqual(
      failures.sort(),
      [],
      `${failures.length} of ${total} crash points failed`,
    );
    // Every action was caught in the middle by some crash point.
    assert.deepEqual([...interrupted].sort(), [...fullPaths].sort());
  } finally {
    await pristine.cleanup();
    await Deno.remove(work, { recursive: true });
  }
});

/**
 * A bigger damaged store: 60 sessions, a quarter each shrunk, orphaned
 * backups, pending journal turns and healthy ones; some rows only in
 * state.db; an empty index.
 */
const SESSIONS = 60;

async function buildLargeStore(
  store: TestStore,
): Promise<{ sid: string; content: string }[]> {
  const pending: { sid: string; content: string }[] = [];
  const sessions = [];
  const messages = [];
  for (let i = 0; i < SESSIONS; i++) {
    const sid = `s${String(i).padStart(3, "0")}`;
    sessions.push({ id: sid, source: "webui", title: `Session ${sid}` });
    switch (i % 4) {
      case 0:
        await store.sidecar(sid, { messages: makeMessages(3, `${sid} live`) });
        await store.backup(sid, { messages: makeMessages(12, `${sid} bak`) });
        break;
      case 1:
        await store.backup(sid, { messages: makeMessages(6, `${sid} bak`) });
        break;
      case 2: {
        const content = `${sid}: the turn only the journal has`;
        await store.sidecar(sid, { messages: makeMessages(4, sid) });
        await store.journal(sid, [
          submittedEvent(sid, `20260511T0011${i}Z-abcdef123456`, content),
        ]);
        pending.push({ sid, content });
        break;
      }
      default:
        await store.sidecar(sid, { messages: makeMessages(5, sid) });
    }
  }
  for (let i = 0; i < 10; i++) {
    const sid = `db${i}`;
    sessions.push({ id: sid, source: "webui", title: `DB ${sid}` });
    messages.push(
      {
        id: 2 * i + 1,
        session_id: sid,
        role: "user",
        content: "q",
        timestamp: 1,
      },
      {
        id: 2 * i + 2,
        session_id: sid,
        role: "assistant",
        content: "a",
        timestamp: 2,
      },
    );
  }
  store.stateDb({ sessions, messages });
  await store.index([]);
  return pending;
}

Deno.test("crash: repair killed with SIGKILL at random times loses nothing and the next repair completes", async () => {
  const pristine = await TestStore.create();
  const work = await Deno.makeTempDir({ prefix: "hermes-fsck-kill-" });
  try {
    const pending = await buildLargeStore(pristine);
    const original = await originalOf(pristine, pending);

    // How long a whole run takes here, to spread the kills over it.
    const timed = pathsAt(join(work, "timed"));
    await copyTree(pristine.root, timed.root);
    const started = performance.now();
    const whole = await cli(
      ["repair", "--server-stopped", ...dirArgs(timed)],
      timed,
    );
    const duration = performance.now() - started;
    assert.equal(whole.code, 1, show(whole));

    const random = seededRandom(20260511);
    // Four kills, and more (up to twelve) until one lands mid-run: on a
    // loaded machine a run's start-up can outlast the measured run.
    const kills = 4;
    let killedMidRun = 0;
    for (let k = 0; k < 12 && (k < kills || killedMidRun === 0); k++) {
      // Past Deno's start-up (about a third of a short run), into the writes.
      const delay = Math.round(duration * (0.3 + 0.7 * random()));
      const context = `SIGKILL after ${delay} ms (of ${Math.round(duration)})`;
      const store = pathsAt(join(work, `k${k}`));
      await copyTree(pristine.root, store.root);
      try {
        const child = spawnCli(
          ["repair", "--server-stopped", ...dirArgs(store)],
          store,
          "null",
        );
        await new Promise((resolve) => setTimeout(resolve, delay));
        try {
          child.kill("SIGKILL");
        } catch { /* it finished first */ }
        const status = await child.status;
        // Killed while it was writing: its run dir exists, unfinished.
        const [run] = await runDirs(store.sessionDir);
        if (status.signal === "SIGKILL" && run) {
          // A kill can land after the run dir was made and before its
          // header was written: that run is unfinished too (and, having no
          // header, recorded no action and moved no file).
          const header = await Deno.readTextFile(
            join(store.sessionDir, RUNS, run, "run.json"),
          ).then(JSON.parse, () => ({ finishedAt: null }));
          if (header.finishedAt === null) killedMidRun++;
        }
        await assertNoMessageLost(
          store.sessionDir,
          original.messages,
          original.pending,
          context,
        );
        await completeAndAudit(store, original, context);
      } finally {
        await Deno.remove(store.root, { recursive: true });
      }
    }
    assert.ok(killedMidRun > 0, "no kill landed while the repair wrote");
  } finally {
    await pristine.cleanup();
    await Deno.remove(work, { recursive: true });
  }
});

Deno.test("crash: the shipped CLI ignores HERMES_FSCK_FAULT_*; only the tests' entry injects faults", async () => {
  await withStore(async (store) => {
    await buildDamagedStore(store);
    const faults = {
      [FAULT]: "2",
      HERMES_FSCK_FAULT_KIND: "crash",
    };
    const shipped = await cli(["repair", ...dirArgs(store)], store, faults);
    assert.equal(shipped.code, 1, show(shipped));
    assert.match(shipped.stdout, /applied rebuild_index/, show(shipped));
    const again = await cli(["audit", ...dirArgs(store)], store, faults);
    assert.equal(again.code, 0, show(again));
  });
});
