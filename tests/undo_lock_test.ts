/**
 * Undo, runs, the repair lock and confinement (issue 3), through the CLI:
 * - `undo RUN_ID` gives back the original bytes; it refuses (exit bit 4) a
 *   file changed since the run and restores the others; an unknown run is
 *   exit 8 with one line; an undo can itself be undone;
 * - `runs` lists runs, `runs --prune --keep N` deletes exactly the older
 *   ones and says which;
 * - a repair while a live process holds `_hermes_fsck.lock` exits 8 naming
 *   it; a lock whose process is dead is taken over and reported;
 * - nothing outside the session dir changes, whatever symlinks and ids
 *   (`../../x`, `a/b`, `../x`) the store holds, and they are reported.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { acquireLock } from "../core/io/lock.ts";
import { makeMessages, TestStore } from "./fixtures.ts";
import {
  assertNoUncaught,
  buildDamagedStore,
  cli,
  copyTree,
  dirArgs,
  reportOf,
  runDirs,
  show,
  treeBytes,
  treeDiff,
  withStore,
} from "./safety_support.ts";

const LOCK = "_hermes_fsck.lock";

/** A repair that must fix everything; returns its run id. */
async function repaired(store: TestStore): Promise<string> {
  const r = await cli(["repair", ...dirArgs(store), "--format", "json"], store);
  assert.equal(r.code, 1, show(r));
  const runId = reportOf(r).repair?.runId;
  assert.ok(runId, show(r));
  return runId;
}

async function undo(store: TestStore, runId: string, json = false) {
  const r = await cli(
    [
      "undo",
      runId,
      "--session-dir",
      store.sessionDir,
      ...(json ? ["--format", "json"] : []),
    ],
    store,
  );
  assertNoUncaught(r);
  return r;
}

async function storeFiles(store: TestStore) {
  return await treeBytes(store.sessionDir, { storeOnly: true });
}

/** Output of a command run outside Deno's sandbox (it may read /proc). */
async function sh(command: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(command, {
    args,
    stdout: "piped",
    stderr: "null",
  }).output();
  assert.equal(out.code, 0, `${command} ${args.join(" ")}`);
  return new TextDecoder().decode(out.stdout);
}

/** Start time of a process (field 22 of /proc/<pid>/stat), as the lock records it. */
async function processStart(pid: number): Promise<string> {
  const stat = await sh("cat", [`/proc/${pid}/stat`]);
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
}

async function hostName(): Promise<string> {
  return (await sh("cat", ["/proc/sys/kernel/hostname"])).trim();
}

// ------------------------------------------------------------------ undo

Deno.test("undo: gives back the exact bytes a repair replaced, created files removed", async () => {
  await withStore(async (store) => {
    await buildDamagedStore(store);
    const original = await storeFiles(store);
    const stateDb = await Deno.readFile(store.stateDbPath);
    const runId = await repaired(store);
    assert.notDeepEqual(treeDiff(original, await storeFiles(store)), []);

    const r = await undo(store, runId);
    assert.equal(r.code, 1, show(r));
    assert.match(r.stdout, /Every file the run changed is as it was before/);
    assert.deepEqual(treeDiff(original, await storeFiles(store)), []);
    assert.deepEqual(await Deno.readFile(store.stateDbPath), stateDb);
    assert.equal(await store.exists(LOCK), false);
  });
});

Deno.test("undo: refuses a file changed since the run, leaves it, restores the others", async () => {
  await withStore(async (store) => {
    await buildDamagedStore(store);
    const original = await storeFiles(store);
    const runId = await repaired(store);
    // The server saved shrunk.json after the repair.
    const saved = JSON.stringify({
      session_id: "shrunk",
      messages: makeMessages(9, "saved after the repair"),
    });
    await store.writeRaw("shrunk.json", saved);

    const r = await undo(store, runId, true);
    // A bit mask: 4 (a file is left as it is) and 1 (files were put back).
    assert.equal(r.code, 5, show(r));
    const result = JSON.parse(r.stdout);
    assert.deepEqual(
      result.refused.map((i: { path: string }) => i.path),
      ["shrunk.json"],
    );
    assert.equal(await Deno.readTextFile(store.path("shrunk.json")), saved);
    const now = await storeFiles(store);
    assert.deepEqual(treeDiff(original, now), ["changed shrunk.json"]);

    // The text says which file and why.
    const again = await undo(store, runId);
    assert.equal(again.code, 4, show(again));
    assert.match(
      again.stdout,
      /refused\s+shrunk\.json: .*changed after the run/,
    );
  });
});

Deno.test("undo: an unknown run exits 8 with one line", async () => {
  await withStore(async (store) => {
    await buildDamagedStore(store);
    const before = await treeBytes(store.root);
    for (const runId of ["20200101T000000Z-abcdef", "../x"]) {
      const r = await undo(store, runId);
      assert.equal(r.code, 8, show(r));
      assert.equal(r.stdout, "");
      const lines = r.stderr.trimEnd().split("\n");
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], /^hermes-fsck: no run /);
      assert.ok(lines[0].includes(JSON.stringify(runId)), lines[0]);
    }
    assert.deepEqual(treeDiff(before, await treeBytes(store.root)), []);
  });
});

Deno.test("undo: an undo is a run that can be undone", async () => {
  await withStore(async (store) => {
    await buildDamagedStore(store);
    const original = await storeFiles(store);
    const runId = await repaired(store);
    const afterRepair = await storeFiles(store);

    const first = await undo(store, runId, true);
    assert.equal(first.code, 1, show(first));
    const undoRunId = JSON.parse(first.stdout).undoRunId;
    assert.ok(undoRunId, first.stdout);
    assert.deepEqual(treeDiff(original, await storeFiles(store)), []);

    const second = await undo(store, undoRunId, true);
    assert.equal(second.code, 1, show(second));
    assert.deepEqual(treeDiff(afterRepair, await storeFiles(store)), []);
  });
});

// ------------------------------------------------------------------ runs

Deno.test("runs: lists runs; --prune --keep 1 deletes exactly the older ones and prints them", async () => {
  await withStore(async (store) => {
    await buildDamagedStore(store);
    const repair = await repaired(store);
    const undoRun = JSON.parse((await undo(store, repair, true)).stdout)
      .undoRunId as string;
    const repairAgain = await repaired(store);
    const all = [repair, undoRun, repairAgain];
    assert.deepEqual(await runDirs(store.sessionDir), [...all].sort());

    const list = await cli(["runs", "--session-dir", store.sessionDir], store);
    assert.equal(list.code, 0, show(list));
    const lines = list.stdout.trimEnd().split("\n");
    assert.deepEqual(lines.map((l) => l.split(/\s+/)[0]), all, list.stdout);
    assert.match(lines[1], new RegExp(`undo of ${repair}`));
    const json = await cli(
      ["runs", "--session-dir", store.sessionDir, "--format", "json"],
      store,
    );
    assert.deepEqual(
      JSON.parse(json.stdout).runs.map((r: { runId: string }) => r.runId),
      all,
    );

    const files = await storeFiles(store);
    const prune = await cli(
      ["runs", "--session-dir", store.sessionDir, "--prune", "--keep", "1"],
      store,
    );
    assert.equal(prune.code, 0, show(prune));
    const pruned = prune.stdout.split("\n").filter((l) =>
      l.startsWith("pruned ")
    ).map((l) => l.split(/\s+/)[1]);
    assert.deepEqual(pruned, [repair, undoRun], prune.stdout);
    assert.match(prune.stdout, new RegExp(`^${repairAgain} `, "m"));
    assert.deepEqual(await runDirs(store.sessionDir), [repairAgain]);
    assert.deepEqual(treeDiff(files, await storeFiles(store)), []);

    // Keeping more than there are prunes nothing.
    const none = await cli(
      ["runs", "--session-dir", store.sessionDir, "--prune", "--keep", "5"],
      store,
    );
    assert.equal(none.code, 0, show(none));
    assert.doesNotMatch(none.stdout, /pruned/);
    assert.deepEqual(await runDirs(store.sessionDir), [repairAgain]);
  });
});

// ------------------------------------------------------------------ lock

Deno.test("lock: a repair while a live process holds the lock exits 8 naming it", async () => {
  await withStore(async (store) => {
    await buildDamagedStore(store);
    // This test process holds the lock, as a running hermes-fsck would:
    // its record in the file, and the file open and locked (flock).
    const holder = {
      pid: Deno.pid,
      host: await hostName(),
      processStart: await processStart(Deno.pid),
      command: "repair",
      acquiredAt: new Date().toISOString(),
    };
    const text = JSON.stringify(holder) + "\n";
    await store.writeRaw(LOCK, text);
    const lockFile = await Deno.open(store.path(LOCK), { read: true });
    try {
      await lockFile.lock(true);
      const before = await treeBytes(store.root);
      for (const command of [["repair"], ["repair", "--format", "json"]]) {
        const r = await cli([...command, ...dirArgs(store)], store);
        assert.equal(r.code, 8, show(r));
        assert.equal(r.stdout, "");
        const lines = r.stderr.trimEnd().split("\n");
        assert.equal(lines.length, 1, r.stderr);
        assert.ok(lines[0].includes(`pid ${Deno.pid}`), lines[0]);
        assert.ok(lines[0].includes(holder.host), lines[0]);
        assert.ok(lines[0].includes(LOCK), lines[0]);
      }
      const runId = (await runDirs(store.sessionDir))[0];
      assert.equal(runId, undefined);
      const u = await undo(store, "20200101T000000Z-abcdef");
      assert.equal(u.code, 8, show(u)); // no such run: checked first
      assert.deepEqual(treeDiff(before, await treeBytes(store.root)), []);
      assert.equal(await Deno.readTextFile(store.path(LOCK)), text);
    } finally {
      lockFile.close();
    }
  });
});

Deno.test("lock: a repair while another hermes-fsck holds the lock exits 8 naming it, and runs once it is released", async () => {
  await withStore(async (store) => {
    await buildDamagedStore(store);
    // This process takes the lock the way repair and undo do.
    const lock = await acquireLock(store.sessionDir, "repair");
    let released = false;
    try {
      const before = await treeBytes(store.root);
      const r = await cli(["repair", ...dirArgs(store)], store);
      assert.equal(r.code, 8, show(r));
      assert.ok(r.stderr.includes(`pid ${Deno.pid}`), r.stderr);
      const u = await undo(store, await repairedElsewhere(store));
      assert.equal(u.code, 8, show(u));
      assert.ok(u.stderr.includes(`pid ${Deno.pid}`), u.stderr);
      assert.deepEqual(
        treeDiff(before, await treeBytes(store.root)).filter((d) =>
          !d.includes("_hermes_fsck/")
        ),
        [],
      );
      await lock.release();
      released = true;
      assert.equal(await store.exists(LOCK), false);
      const after = await cli(["repair", ...dirArgs(store)], store);
      assert.equal(after.code, 1, show(after));
    } finally {
      if (!released) await lock.release();
    }
  });
});

/**
 * Plants a finished run in the store without taking its lock (a copy of a
 * run made on a copy of the store), so undo has a real run to refuse.
 */
async function repairedElsewhere(store: TestStore): Promise<string> {
  const copy = await TestStore.create();
  try {
    await buildDamagedStore(copy);
    const runId = await repaired(copy);
    await copyTree(
      join(copy.sessionDir, "_hermes_fsck"),
      join(store.sessionDir, "_hermes_fsck"),
    );
    return runId;
  } finally {
    await copy.cleanup();
  }
}

Deno.test("lock: a lock whose process is dead is taken over, warned about and reported", async () => {
  await withStore(async (store) => {
    await buildDamagedStore(store);
    const dead = new Deno.Command("true").spawn();
    await dead.status;
    const holder = {
      pid: dead.pid,
      host: await hostName(),
      processStart: "123",
      command: "repair",
      acquiredAt: "2026-01-01T00:00:00.000Z",
    };
    await store.writeRaw(LOCK, JSON.stringify(holder) + "\n");
    const r = await cli(
      ["repair", ...dirArgs(store), "--format", "json"],
      store,
    );
    assert.equal(r.code, 1, show(r));
    assert.match(
      r.stderr,
      new RegExp(`warning: took over the lock .*pid ${dead.pid}`),
    );
    const stale = reportOf(r).repair?.staleLock;
    assert.equal(stale?.pid, dead.pid);
    assert.equal(stale?.host, holder.host);
    assert.equal(await store.exists(LOCK), false);
  });
});

// ----------------------------------------------------------- confinement

Deno.test("confinement: symlinks and ids that leave the store change nothing outside it and are reported", async () => {
  await withStore(async (store) => {
    const outside = join(store.root, "outside");
    await Deno.mkdir(outside);
    const victim = JSON.stringify({
      session_id: "evil",
      messages: makeMessages(2, "outside"),
    });
    await Deno.writeTextFile(join(outside, "victim.json"), victim);
    await Deno.writeTextFile(
      join(outside, "victim.json.bak"),
      JSON.stringify({
        session_id: "evil",
        messages: makeMessages(30, "outside bak"),
      }),
    );
    // A symlinked live file and backup, pointing out of the store.
    await Deno.symlink(join(outside, "victim.json"), store.path("evil.json"));
    await Deno.symlink(
      join(outside, "victim.json.bak"),
      store.path("evil.json.bak"),
    );
    // A backup whose live file is a symlink to a file that does not exist yet.
    await store.backup("dangling", { messages: 5 });
    await Deno.symlink(
      join(outside, "created.json"),
      store.path("dangling.json"),
    );
    await store.sidecar("good", { messages: 2 });
    await store.index([
      { session_id: "../x", title: "x", message_count: 1 },
      { session_id: "good", title: "good", message_count: 2 },
    ]);
    store.stateDb({
      sessions: [
        { id: "../../x", source: "webui", title: "escape" },
        { id: "a/b", source: "webui", title: "slash" },
        { id: "good", source: "webui", title: "good" },
      ],
      messages: [
        {
          id: 1,
          session_id: "../../x",
          role: "user",
          content: "q",
          timestamp: 1,
        },
        { id: 2, session_id: "a/b", role: "user", content: "q", timestamp: 1 },
      ],
    });
    const outsideOfSessions = async () => {
      const all = await treeBytes(store.root);
      for (const path of [...all.keys()]) {
        if (path.startsWith("webui/sessions/")) all.delete(path);
      }
      return all;
    };
    const before = await outsideOfSessions();
    const links = await treeBytes(store.sessionDir, { storeOnly: true });

    const r = await cli(
      ["repair", ...dirArgs(store), "--format", "json"],
      store,
    );
    assertNoUncaught(r);
    assert.ok(r.code === 4 || r.code === 5, show(r));
    assert.deepEqual(treeDiff(before, await outsideOfSessions()), []);

    // The symlinks are still the same symlinks; nothing new but the index.
    const after = await treeBytes(store.sessionDir, { storeOnly: true });
    for (const name of ["evil.json", "evil.json.bak", "dangling.json"]) {
      assert.equal(after.get(name), links.get(name), name);
    }
    assert.deepEqual(
      treeDiff(links, after).filter((d) => d !== "changed _index.json"),
      [],
    );

    const findings = reportOf(r).findings;
    const invalid = findings.filter((f) => f.kind === "invalid_session_id");
    const ids = invalid.map((f) =>
      (f as unknown as { evidence: { id: string } }).evidence.id
    ).sort();
    for (const id of ["../../x", "a/b"]) {
      assert.ok(ids.includes(id), `${id} not reported: ${ids}`);
    }
    // The rebuilt index holds only valid ids; before the repair, ../x was
    // reported as an entry without a sidecar (the server sweeps it).
    const before0 = reportOf(r) as unknown as {
      repair: {
        before: { findings: { kind: string; sessionId?: string }[] };
      };
    };
    assert.ok(
      before0.repair.before.findings.some((f) =>
        f.kind === "index_missing_file" && f.sessionId === "../x"
      ),
      "the index entry ../x was not reported",
    );
    const unreadable = findings.filter((f) => f.kind === "unreadable_file")
      .flatMap((f) => f.paths).sort();
    for (const name of ["dangling.json", "evil.json", "evil.json.bak"]) {
      assert.ok(
        unreadable.includes(name),
        `${name} not reported: ${unreadable}`,
      );
    }
  });
});
