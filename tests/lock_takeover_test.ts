/**
 * The repair lock under attack and across containers (issue 19, items 3
 * and 4), through the CLI and real processes:
 * - a FIFO, a symlink to /dev/zero, a dir or a symlink to a dir at
 *   `_hermes_fsck.lock` makes `repair` exit 8 at once, naming the path
 *   and what to do, and is left alone;
 * - a holder killed with SIGKILL whose lock names another host (a
 *   container started again has a new host name) is taken over by the
 *   next repair, which reports it; while that holder lived, the repair
 *   exited 8 naming it;
 * - processes racing for a stale lock: exactly one gets it, every time.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { locksUnsupported } from "../core/io/lock_file.ts";
import { runCli, TestStore } from "./fixtures.ts";
import {
  assertNoUncaught,
  buildDamagedStore,
  cli,
  cliEnv,
  dirArgs,
  reportOf,
  show,
  spawnCli,
  treeBytes,
  treeDiff,
  withStore,
} from "./safety_support.ts";

const LOCK = "_hermes_fsck.lock";
const OTHER_HOST = "old-container-7f3a9c";
const HOLDER = new URL("./lock_holder.ts", import.meta.url).pathname;

/** Starts tests/lock_holder.ts (see there), its stdout piped. */
function startHolder(
  sessionDir: string,
  goFile: string,
  hold: string,
): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      HOLDER,
      sessionDir,
      goFile,
      hold,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
}

/** The first line a holder prints, parsed. */
async function firstLine(
  child: Deno.ChildProcess,
): Promise<{ got: boolean; error?: string; tookOverFrom?: { host: string } }> {
  const reader = child.stdout.pipeThrough(new TextDecoderStream())
    .getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  reader.releaseLock();
  return JSON.parse(text.split("\n")[0]);
}

/** A lock record as a dead hermes-fsck of another container left it. */
function staleRecord(pid: number): string {
  return JSON.stringify({
    pid,
    host: OTHER_HOST,
    processStart: "4242",
    command: "repair",
    acquiredAt: "2026-01-01T00:00:00.000Z",
  }) + "\n";
}

async function sh(command: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(command, { args, stdout: "null" })
    .output();
  assert.ok(out.success, `${command} ${args.join(" ")}`);
}

const HOSTILE_LOCKS: {
  name: string;
  plant: (path: string, store: TestStore) => Promise<void>;
  says: RegExp;
}[] = [
  {
    name: "a FIFO",
    plant: (path) => sh("mkfifo", [path]),
    says: /is a FIFO/,
  },
  {
    name: "a symlink to /dev/zero",
    plant: (path) => Deno.symlink("/dev/zero", path),
    says: /is a symbolic link/,
  },
  {
    name: "a dir",
    plant: (path) => Deno.mkdir(path),
    says: /is a directory/,
  },
  {
    name: "a symlink to a dir",
    plant: async (path, store) => {
      await Deno.mkdir(join(store.root, "elsewhere"));
      await Deno.symlink(join(store.root, "elsewhere"), path);
    },
    says: /is a symbolic link/,
  },
];

for (const hostile of HOSTILE_LOCKS) {
  Deno.test(`lock: ${hostile.name} at the lock's name: repair exits 8 at once naming it and what to do, and leaves it`, async () => {
    await withStore(async (store) => {
      await buildDamagedStore(store);
      const path = store.path(LOCK);
      const before = await treeBytes(store.root);
      await hostile.plant(path, store);
      const started = Date.now();
      const r = await runCli(["repair", ...dirArgs(store)], {
        env: cliEnv(store),
        timeoutMs: 10_000,
      });
      assertNoUncaught(r);
      assert.equal(r.code, 8, show(r));
      assert.ok(Date.now() - started < 10_000);
      assert.ok(r.stderr.includes(`the lock ${path} `), r.stderr);
      assert.match(r.stderr, hostile.says);
      assert.match(r.stderr, /remove it .*and run again/);
      assert.equal(r.stdout, "");
      // Nothing changed: the planted thing is still there (never read: a
      // FIFO would hang this test too), and once it is gone, all is as it was.
      assert.equal((await Deno.lstat(path)).isFile, false);
      await Deno.remove(path, { recursive: true });
      await Deno.remove(join(store.root, "elsewhere")).catch(() => {});
      assert.deepEqual(treeDiff(before, await treeBytes(store.root)), []);
    });
  });
}

Deno.test("lock: a holder killed for real whose lock names another host is taken over by the next repair, and reported", async () => {
  await withStore(async (store) => {
    await buildDamagedStore(store);
    const path = store.path(LOCK);
    const holder = startHolder(store.sessionDir, "-", "forever");
    let killed = false;
    try {
      const took = await firstLine(holder);
      assert.equal(took.got, true, JSON.stringify(took));
      // Another container wrote it: same kernel, another host name. The
      // record is rewritten in place, so the held inode is the same.
      const record = JSON.parse(await Deno.readTextFile(path));
      record.host = OTHER_HOST;
      await Deno.writeTextFile(path, JSON.stringify(record) + "\n");

      // Alive, it holds the lock, whatever host it names.
      const blocked = await cli(["repair", ...dirArgs(store)], store);
      assert.equal(blocked.code, 8, show(blocked));
      assert.match(
        blocked.stderr,
        new RegExp(`pid ${holder.pid} on ${OTHER_HOST}.* holds the lock`),
      );
      assert.ok(blocked.stderr.includes(path), blocked.stderr);

      holder.kill("SIGKILL");
      killed = true;
      assert.equal((await holder.status).signal, "SIGKILL");

      const r = await cli(
        ["repair", ...dirArgs(store), "--format", "json"],
        store,
      );
      assertNoUncaught(r);
      assert.equal(r.code, 1, show(r));
      assert.match(
        r.stderr,
        new RegExp(
          `warning: took over the lock .*pid ${holder.pid} on ${OTHER_HOST}`,
        ),
      );
      const stale = reportOf(r).repair?.staleLock;
      assert.equal(stale?.pid, holder.pid);
      assert.equal(stale?.host, OTHER_HOST);
      assert.equal(await store.exists(LOCK), false);
      // And the one after that finds a clean store and no lock.
      const again = await cli(["repair", ...dirArgs(store)], store);
      assert.equal(again.code, 0, show(again));
      assert.doesNotMatch(again.stderr, /took over/);
    } finally {
      if (!killed) holder.kill("SIGKILL");
      await holder.status;
      await holder.stdout.cancel().catch(() => {});
    }
  });
});

Deno.test("lock: three processes racing for a stale lock of another host: exactly one gets it, every time", async () => {
  await withStore(async (store) => {
    const path = store.path(LOCK);
    for (let round = 0; round < 5; round++) {
      await Deno.writeTextFile(path, staleRecord(999_999));
      const go = join(store.root, `go-${round}`);
      const holders = [0, 1, 2].map(() =>
        startHolder(store.sessionDir, go, "1000")
      );
      try {
        // All are started and waiting: let them go at once.
        const deadline = Date.now() + 30_000;
        while (
          (await Array.fromAsync(Deno.readDir(store.root))).filter((e) =>
            e.name.startsWith(`go-${round}.ready.`)
          ).length < holders.length
        ) {
          assert.ok(Date.now() < deadline, "the holders never started");
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        await Deno.writeTextFile(go, "");
        const outcomes = await Promise.all(holders.map(firstLine));
        const winners = outcomes.filter((o) => o.got);
        assert.equal(winners.length, 1, JSON.stringify(outcomes));
        assert.equal(winners[0].tookOverFrom?.host, OTHER_HOST);
        for (const loser of outcomes.filter((o) => !o.got)) {
          assert.match(loser.error ?? "", /is running and holds the lock/);
        }
      } finally {
        await Promise.all(holders.map((h) => h.status));
      }
      assert.equal(await store.exists(LOCK), false, `round ${round}`);
    }
  });
});

Deno.test("lock: two repairs started together on a stale lock of another host: exactly one takes it over and repairs", async () => {
  await withStore(async (store) => {
    await buildDamagedStore(store);
    await Deno.writeTextFile(store.path(LOCK), staleRecord(999_999));
    const runs = [0, 1].map(() =>
      spawnCli(["repair", ...dirArgs(store)], store)
    );
    const results = await Promise.all(runs.map(async (child) => {
      const out = await child.output();
      const decoder = new TextDecoder();
      return {
        code: out.code,
        stdout: decoder.decode(out.stdout),
        stderr: decoder.decode(out.stderr),
      };
    }));
    for (const r of results) assertNoUncaught(r);
    const shown = results.map(show).join("\n");
    assert.equal(
      results.filter((r) => /took over the lock/.test(r.stderr)).length,
      1,
      shown,
    );
    assert.equal(results.filter((r) => r.code === 1).length, 1, shown);
    // The other either found the lock held, or came after and found the
    // store already repaired.
    const other = results.find((r) => r.code !== 1)!;
    assert.ok(other.code === 8 || other.code === 0, shown);
    assert.equal(await store.exists(LOCK), false);
  });
});

Deno.test("lock: a filesystem without advisory locks is told apart by its error code", () => {
  const coded = (code: string) => Object.assign(new Error(code), { code });
  assert.equal(locksUnsupported(coded("ENOLCK")), "ENOLCK");
  assert.equal(locksUnsupported(coded("EOPNOTSUPP")), "EOPNOTSUPP");
  assert.equal(locksUnsupported(new Deno.errors.NotSupported("x")), "ENOTSUP");
  assert.equal(locksUnsupported(coded("EIO")), null);
  assert.equal(locksUnsupported(new Error("EAGAIN")), null);
});
