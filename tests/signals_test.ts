/**
 * Real signals sent to the CLI subprocess at each phase of a run, on a store
 * big enough that each phase takes seconds: during a plain audit, during a
 * repair's first audit, during a repair's actions. The CLI must exit 32
 * within 2 s (well inside Docker's 10 s grace), change nothing when stopped
 * before its first action, and record every action it applied, so that
 * `undo` puts the store back.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { makeSidecar } from "./fixtures.ts";
import {
  actionsOf,
  cliHere,
  pathsAt,
  runDirs,
  RUNS,
  show,
  spawnCli,
  type StorePaths,
  treeBytes,
  treeDiff,
} from "./safety_support.ts";

/** Sessions of the store: its audit takes 2 to 3 s here. */
const SESSIONS = 40_000;
/**
 * How soon after the signal the CLI must have exited. Exit code 32 and the
 * empty report already prove the audit was cut short; this bound catches a
 * run that goes on working, with room for a machine loaded many times over.
 */
const EXIT_WITHIN_MS = 5000;

/**
 * Builds a store of {@linkcode SESSIONS} small sessions, the first
 * `orphans` of them with only their `.bak` left (each one restore action),
 * and no state.db; runs `test` on it and removes it.
 */
async function withBigStore(
  orphans: number,
  test: (store: StorePaths) => Promise<void>,
): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "hermes-fsck-signals-" });
  try {
    const store = pathsAt(root);
    await Deno.mkdir(store.sessionDir, { recursive: true });
    // One sidecar's text, its id replaced: making each is most of the time.
    const text = JSON.stringify(makeSidecar("SID", { messages: 20 }));
    const encoder = new TextEncoder();
    for (let i = 0; i < SESSIONS; i++) {
      const id = `s${String(i).padStart(6, "0")}`;
      const name = `${id}.json${i < orphans ? ".bak" : ""}`;
      Deno.writeFileSync(
        join(store.sessionDir, name),
        encoder.encode(text.replaceAll('"SID"', `"${id}"`)),
      );
    }
    await test(store);
  } finally {
    await removeTrying(root);
  }
}

/**
 * Removes a temp dir, trying again a few times: on a loaded machine a
 * removal can race the last files a run made settling into the dir.
 */
async function removeTrying(root: string): Promise<void> {
  for (let tries = 1;; tries++) {
    try {
      return await Deno.remove(root, { recursive: true });
    } catch (error) {
      if (tries === 5) throw error;
      await new Promise((done) => setTimeout(done, 200 * tries));
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `ready` says yes (checked every 5 ms), at most 60 s. */
async function waitFor(what: string, ready: () => boolean): Promise<void> {
  const deadline = performance.now() + 60_000;
  while (!ready()) {
    assert.ok(performance.now() < deadline, `never saw ${what}`);
    await sleep(5);
  }
}

/**
 * True once the process has a handler for SIGTERM. Deno installs one at
 * start-up, before the CLI's listener, so this alone does not say the
 * CLI listens: see {@linkcode readsStore}.
 * Read by `cat`: Deno lets only --allow-all read another process's /proc.
 */
function catchesSigterm(pid: number): boolean {
  const out = new Deno.Command("cat", {
    args: [`/proc/${pid}/status`],
    stdout: "piped",
    stderr: "null",
  }).outputSync();
  const status = new TextDecoder().decode(out.stdout);
  const mask = status.match(/^SigCgt:\s*([0-9a-f]+)$/m)?.[1] ?? "0";
  return ((BigInt(`0x${mask}`) >> 14n) & 1n) === 1n;
}

/**
 * True once the process holds a file of `dir` open: the audit has begun,
 * and the CLI listens for signals from just before it.
 */
function readsStore(pid: number, dir: string): boolean {
  const out = new Deno.Command("sh", {
    args: ["-c", `ls -l /proc/${pid}/fd 2>/dev/null`],
    stdout: "piped",
    stderr: "null",
  }).outputSync();
  return new TextDecoder().decode(out.stdout).includes(dir);
}

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function actionFiles(store: StorePaths): number {
  let count = 0;
  try {
    for (const run of Deno.readDirSync(join(store.sessionDir, RUNS))) {
      const dir = join(store.sessionDir, RUNS, run.name, "actions");
      try {
        for (const _ of Deno.readDirSync(dir)) count++;
      } catch { /* not made yet */ }
    }
  } catch { /* no runs yet */ }
  return count;
}

/** Sends `signal` once `ready`, and returns the run's output and timing. */
async function signalWhen(
  args: string[],
  store: StorePaths,
  signal: Deno.Signal,
  what: string,
  ready: (pid: number) => boolean,
): Promise<{ code: number; stdout: string; stderr: string; exitMs: number }> {
  const child = spawnCli(args, store);
  const output = child.output();
  await waitFor(what, () => ready(child.pid));
  const sent = performance.now();
  child.kill(signal);
  const out = await output;
  const exitMs = performance.now() - sent;
  const decoder = new TextDecoder();
  return {
    code: out.code,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
    exitMs,
  };
}

const dirArgs = (store: StorePaths) => [
  "--session-dir",
  store.sessionDir,
  "--no-state-db",
  "--format",
  "json",
];

Deno.test("signals: SIGTERM during a plain audit exits 32 within 2 s, without a report", async () => {
  await withBigStore(0, async (store) => {
    const r = await signalWhen(
      ["audit", ...dirArgs(store)],
      store,
      "SIGTERM",
      "the audit start",
      // Its listener is set up just before the audit starts.
      (pid) => catchesSigterm(pid) && readsStore(pid, store.sessionDir),
    );
    const result = { code: r.code, stdout: r.stdout, stderr: r.stderr };
    assert.equal(r.code, 32, show(result));
    assert.ok(r.exitMs < EXIT_WITHIN_MS, `exited ${r.exitMs} ms after it`);
    assert.equal(r.stdout, "", "no report of a half-read store");
    assert.match(r.stderr, /interrupted by a signal during the audit/);
  });
});

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.test(`signals: ${signal} during a repair's first audit applies nothing and exits 32`, async () => {
    await withBigStore(300, async (store) => {
      const before = await treeBytes(store.sessionDir);
      const r = await signalWhen(
        ["repair", ...dirArgs(store)],
        store,
        signal,
        "the lock",
        // The lock is taken just before the first audit.
        () => exists(join(store.sessionDir, "_hermes_fsck.lock")),
      );
      const result = { code: r.code, stdout: r.stdout, stderr: r.stderr };
      assert.equal(r.code, 32, show(result));
      assert.ok(r.exitMs < EXIT_WITHIN_MS, `exited ${r.exitMs} ms after it`);
      assert.match(r.stderr, /nothing was changed/);
      assert.deepEqual(await runDirs(store.sessionDir), []);
      assert.deepEqual(
        treeDiff(before, await treeBytes(store.sessionDir)),
        [],
        "the store was written to",
      );
    });
  });
}

Deno.test("signals: SIGTERM during a repair's actions finishes the one in progress, records every one applied, exits within 2 s; undo puts the store back", async () => {
  await withBigStore(600, async (store) => {
    const original = await treeBytes(store.sessionDir, { storeOnly: true });
    const r = await signalWhen(
      ["repair", ...dirArgs(store)],
      store,
      "SIGTERM",
      "the first actions",
      () => actionFiles(store) >= 5,
    );
    const result = { code: r.code, stdout: r.stdout, stderr: r.stderr };
    assert.ok(r.exitMs < EXIT_WITHIN_MS, `exited ${r.exitMs} ms after it`);
    assert.equal(r.code & 32, 32, show(result));
    assert.equal(r.code & 1, 1, show(result));
    const report = JSON.parse(r.stdout);
    assert.equal(report.interrupted, true);
    const runId: string = report.repair.runId;
    const applied = report.repair.actions.flatMap((
      a: { actions: { path: string; status: string }[] },
    ) => a.actions.filter((x) => x.status === "applied").map((x) => x.path));
    assert.ok(applied.length > 0, show(result));
    assert.ok(applied.length < 600, "stopped before the end");
    // Every applied action is on record, and nothing else was done.
    const recorded = await actionsOf(store, runId);
    assert.deepEqual(
      recorded.filter((a) => a.status === "applied").map((a) => a.path),
      applied,
    );
    assert.ok(recorded.every((a) => a.status === "applied"), "none left open");
    for (const path of applied) {
      assert.ok(exists(join(store.sessionDir, path)), path);
    }
    const undo = await cliHere(
      ["undo", runId, "--session-dir", store.sessionDir, "--format", "json"],
      store,
    );
    assert.ok(undo.code === 0 || undo.code === 1, show(undo));
    assert.deepEqual(
      treeDiff(
        original,
        await treeBytes(store.sessionDir, { storeOnly: true }),
      ),
      [],
    );
  });
});
