/**
 * Root on a store another user owns (issue 19, item 1): that user may swap
 * any name in the store for a symlink at any instant, so hermes-fsck as
 * root acts with the owner's rights (it starts itself again as the owner)
 * and never writes through a link. Each test runs the CLI as root, as an
 * init script does, on a store given to uid 1000; the attacks are real
 * symlink swaps by a second process running as uid 1000.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { CLI_DENO, runCli, startCli, TestStore } from "./fixtures.ts";
import { shellPlugin, writeExecutable } from "./plugin_support.ts";
import { newRunId, StoreWriter } from "../mod.ts";
import {
  buildDamagedStore,
  cli,
  cliEnv,
  copyTree,
  dirArgs,
  pathsAt,
  sha256,
  show,
  treeBytes,
  treeDiff,
} from "./safety_support.ts";
import { giveStoreAway, IS_ROOT, spawnAs } from "./owner_support.ts";

const UID = 1000;
const GID = 1000;

if (!IS_ROOT) {
  console.warn(
    "privilege_drop_test.ts: skipped, it must run as root (the CLI drops to the store's owner only as root)",
  );
}

/** Name, bytes, mode and owner of every entry of a dir, for a before/after. */
async function dirState(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    const info = await Deno.lstat(path);
    const bytes = info.isFile ? sha256(await Deno.readFile(path)) : "";
    out.push(
      `${entry.name} ${
        ((info.mode ?? 0) & 0o7777).toString(8)
      } ${info.uid}:${info.gid} ${bytes}`,
    );
  }
  return out.sort();
}

/**
 * Runs `fn` with a temp dir open to all (`top`) holding a dir outside any
 * store (`outside`, 0755) with a root-only 0600 file (`secret`): what an
 * attacker aims at.
 */
async function withTarget(
  fn: (paths: { top: string; outside: string; secret: string }) => Promise<
    void
  >,
): Promise<void> {
  const top = await Deno.makeTempDir({ prefix: "hermes-fsck-attack-" });
  try {
    await Deno.chmod(top, 0o755);
    const outside = join(top, "outside");
    await Deno.mkdir(outside, { mode: 0o755 });
    const secret = join(outside, "secret");
    await Deno.writeTextFile(secret, "root only\n", { mode: 0o600 });
    await Deno.chmod(secret, 0o600);
    await fn({ top, outside, secret });
  } finally {
    await Deno.remove(top, { recursive: true });
  }
}

/** Starts `script` (JavaScript) as uid 1000, the store's owner, silently. */
function asOwner(script: string): Deno.ChildProcess {
  return spawnAs(script, UID, GID);
}

/**
 * The attacker, as uid 1000: for `ms`, swaps every temp the writer makes
 * (`*.hermes-fsck.tmp.*`) for a symlink to `secret`, and the run's dirs of
 * records and quarantine for symlinks to the dir that holds it.
 */
function attacker(
  sessionDir: string,
  secret: string,
  ms: number,
  options: { dirs: boolean } = { dirs: true },
): Deno.ChildProcess {
  const script = `
const dir = ${JSON.stringify(sessionDir)};
const secret = ${JSON.stringify(secret)};
const outside = ${JSON.stringify(join(secret, ".."))};
const end = Date.now() + ${ms};
const swap = (path, to) => {
  try { Deno.renameSync(path, path + ".gone"); } catch { return; }
  try { Deno.symlinkSync(to, path); } catch {}
};
while (Date.now() < end) {
  try {
    for (const e of Deno.readDirSync(dir)) {
      if (e.isFile && e.name.includes(".hermes-fsck.tmp.")) swap(dir + "/" + e.name, secret);
    }
    if (!${options.dirs}) continue;
    for (const run of Deno.readDirSync(dir + "/_hermes_fsck/runs")) {
      if (!run.isDirectory) continue;
      for (const sub of ["actions", "files"]) {
        const path = dir + "/_hermes_fsck/runs/" + run.name + "/" + sub;
        try { if (Deno.lstatSync(path).isDirectory) swap(path, outside); } catch {}
      }
    }
  } catch {}
}
`;
  return asOwner(script);
}

Deno.test({
  name:
    "privilege drop: symlink swaps by the store's owner during a repair as root change nothing outside the store",
  ignore: !IS_ROOT,
  fn: async () => {
    await withTarget(async ({ top, outside, secret }) => {
      const pristine = await TestStore.create(top);
      await buildDamagedStore(pristine);
      const before = await dirState(outside);
      // Each round is a fresh copy of the damaged store (six writes) and a
      // fresh attacker. Without the drop, root wrote the run's records into
      // the dir outside, and gave the secret to uid 1000, in the first.
      for (let round = 0; round < 4; round++) {
        const store = pathsAt(join(top, `round${round}`));
        await copyTree(pristine.root, store.root);
        await giveStoreAway(store, UID, GID);
        const swapper = attacker(store.sessionDir, secret, 4000);
        await new Promise((done) => setTimeout(done, 300)); // it has started
        const r = await cli(["repair", ...dirArgs(store)], store);
        try {
          swapper.kill("SIGKILL");
        } catch { /* it ran its time out already */ }
        await swapper.status;
        assert.ok(r.code < 16, show(r));
        assert.deepEqual(
          await dirState(outside),
          before,
          `round ${round}: the dir outside the store changed\n${show(r)}`,
        );
      }
    });
  },
});

Deno.test({
  name:
    "privilege drop: the writer as root without the CLI (a library user) never hands a root file over through a swapped temp",
  ignore: !IS_ROOT,
  fn: async () => {
    await withTarget(async ({ top, outside, secret }) => {
      const store = await TestStore.create(top);
      await giveStoreAway(store, UID, GID);
      const before = await dirState(outside);
      const swapper = attacker(store.sessionDir, secret, 60_000, {
        dirs: false,
      });
      try {
        await new Promise((done) => setTimeout(done, 300)); // it has started
        const writer = await StoreWriter.open(store.sessionDir, newRunId());
        for (let i = 0; i < 200; i++) {
          await writer.apply({
            op: "write",
            path: `s${i}.json`,
            data: new TextEncoder().encode("{}"),
            expect: { exists: false },
            note: "a new file",
          });
          if (i % 20 === 19) {
            assert.deepEqual(await dirState(outside), before, `write ${i}`);
          }
        }
        await writer.close();
      } finally {
        try {
          swapper.kill("SIGKILL");
        } catch { /* it ran its time out already */ }
        await swapper.status;
      }
      assert.deepEqual(await dirState(outside), before);
    });
  },
});

/** A damaged store in `top`, given to uid 1000 unless `give` is false. */
async function damagedStore(top: string, give = true): Promise<TestStore> {
  const store = await TestStore.create(top);
  await buildDamagedStore(store);
  if (give) await giveStoreAway(store, UID, GID);
  return store;
}

/**
 * A plugin (in `dir`) that says on stderr which uid runs it; with `mark`,
 * it then creates that file (in a dir anyone may write) and sleeps 3 s.
 */
async function uidPlugin(dir: string, mark?: string): Promise<string> {
  return await writeExecutable(
    dir,
    "whoami.sh",
    shellPlugin(
      [],
      `echo "uid=$(id -u)" >&2${mark ? `; touch '${mark}'; sleep 3` : ""}`,
    ),
  );
}

Deno.test({
  name:
    "privilege drop: as root on a store uid 1000 owns, the command runs as uid 1000",
  ignore: !IS_ROOT,
  fn: async () => {
    await withTarget(async ({ top }) => {
      const store = await damagedStore(top);
      const plugin = await uidPlugin(top);
      const r = await cli(
        ["repair", ...dirArgs(store), "--plugin", plugin],
        store,
      );
      assert.equal(r.code, 1, show(r));
      assert.match(r.stderr, /plugin whoami\.sh: uid=1000\n/, show(r));
      // What it wrote, it wrote as that user: its records too.
      for (const rel of ["_hermes_fsck/runs", "fromdb.json"]) {
        const info = await Deno.lstat(join(store.sessionDir, rel));
        assert.deepEqual([info.uid, info.gid], [UID, GID], rel);
      }
    });
  },
});

Deno.test({
  name:
    "privilege drop: SIGTERM to root is passed on to the run as the owner, which exits 32",
  ignore: !IS_ROOT,
  fn: async () => {
    await withTarget(async ({ top }) => {
      const store = await damagedStore(top);
      const marks = join(top, "marks");
      await Deno.mkdir(marks);
      await Deno.chmod(marks, 0o777);
      const mark = join(marks, "started");
      const plugin = await uidPlugin(top, mark);
      const child = startCli(
        ["repair", ...dirArgs(store), "--plugin", plugin],
        { env: cliEnv(store) },
      );
      // Signalled once the run as the owner is under way (its plugin runs).
      while (!(await Deno.lstat(mark).then(() => true, () => false))) {
        await new Promise((done) => setTimeout(done, 20));
      }
      const started = Date.now();
      child.kill("SIGTERM");
      const out = await child.output();
      const stderr = new TextDecoder().decode(out.stderr);
      assert.match(stderr, /uid=1000/, stderr);
      assert.equal(out.code & 32, 32, `exit ${out.code}\n${stderr}`);
      assert.ok(Date.now() - started < 5_000, "it stopped");
    });
  },
});

Deno.test({
  name:
    "privilege drop: a path to the store with parts of two users is refused (exit 8)",
  ignore: !IS_ROOT,
  fn: async () => {
    await withTarget(async ({ top }) => {
      const store = await damagedStore(top);
      await Deno.chown(join(store.root, "webui"), UID + 1, GID + 1);
      const before = await treeBytes(store.sessionDir);
      const r = await cli(["repair", ...dirArgs(store)], store);
      assert.equal(r.code, 8, show(r));
      assert.match(r.stderr, /owned by different users/, show(r));
      assert.ok(r.stderr.includes(`${join(store.root, "webui")} (uid 1001)`));
      assert.ok(r.stderr.includes(`${store.sessionDir} (uid 1000)`));
      assert.deepEqual(treeDiff(before, await treeBytes(store.sessionDir)), []);
    });
  },
});

Deno.test({
  name:
    "privilege drop: a root-owned dir on the path that others can write, without the sticky bit, is refused (exit 8)",
  ignore: !IS_ROOT,
  fn: async () => {
    await withTarget(async ({ top }) => {
      const store = await damagedStore(top, false);
      await Deno.chmod(join(store.root, "webui"), 0o777);
      const r = await cli(["repair", ...dirArgs(store)], store);
      assert.equal(r.code, 8, show(r));
      assert.match(
        r.stderr,
        /webui \(mode 777\) on the path to the session dir .*\(writable by group or others/,
        show(r),
      );
      // With the sticky bit (as /tmp), nobody but root can swap root's names.
      await Deno.chmod(join(store.root, "webui"), 0o1777);
      const ok = await cli(["repair", ...dirArgs(store)], store);
      assert.equal(ok.code, 1, show(ok));
    });
  },
});

Deno.test({
  name:
    "privilege drop: a binary the store's owner cannot run is exit 8, naming it",
  ignore: !IS_ROOT || CLI_DENO === Deno.execPath(),
  fn: async () => {
    await withTarget(async ({ top }) => {
      const store = await damagedStore(top);
      const before = await treeBytes(store.sessionDir);
      // The deno under /root (0700), which uid 1000 cannot run.
      const r = await runCli(["repair", ...dirArgs(store)], {
        deno: Deno.execPath(),
        env: cliEnv(store),
      });
      assert.equal(r.code, 8, show(r));
      assert.ok(r.stderr.includes(Deno.execPath()), show(r));
      assert.match(r.stderr, /uid 1000/, show(r));
      assert.match(r.stderr, /install the binary where uid 1000 can run it/);
      assert.deepEqual(treeDiff(before, await treeBytes(store.sessionDir)), []);
    });
  },
});

Deno.test({
  name:
    "privilege drop: a run marked as the owner's that is still root refuses (exit 8)",
  ignore: !IS_ROOT,
  fn: async () => {
    await withTarget(async ({ top }) => {
      const store = await damagedStore(top, false);
      const r = await cli(["repair", ...dirArgs(store)], store, {
        HERMES_FSCK_AS_OWNER: "1000",
      });
      assert.equal(r.code, 8, show(r));
      assert.match(r.stderr, /HERMES_FSCK_AS_OWNER is set/, show(r));
    });
  },
});

Deno.test({
  name:
    "privilege drop: a current dir the store's owner cannot enter is exit 8, naming it",
  ignore: !IS_ROOT,
  fn: async () => {
    await withTarget(async ({ top }) => {
      const store = await damagedStore(top);
      const closed = join(top, "closed");
      await Deno.mkdir(closed, { mode: 0o700 });
      const r = await runCli(["repair", ...dirArgs(store)], {
        env: cliEnv(store),
        cwd: closed,
      });
      assert.equal(r.code, 8, show(r));
      assert.ok(r.stderr.includes(`cannot enter ${closed}`), show(r));
      assert.match(r.stderr, /cd \/ \(or to a dir uid 1000 can enter\)/);
    });
  },
});

/**
 * The attacker of `runs --prune`, as uid 1000: for `ms`, swaps the runs dir
 * for a symlink to `outside` (which holds dirs named as the runs are) and
 * back, so a prune that checked the real dir deletes through the link.
 */
function runsSwapper(
  sessionDir: string,
  outside: string,
  ms: number,
): Deno.ChildProcess {
  const script = `
const runs = ${JSON.stringify(join(sessionDir, "_hermes_fsck", "runs"))};
const end = Date.now() + ${ms};
while (Date.now() < end) {
  try {
    Deno.renameSync(runs, runs + ".real");
    Deno.symlinkSync(${JSON.stringify(outside)}, runs);
    Deno.removeSync(runs);
    Deno.renameSync(runs + ".real", runs);
  } catch {}
}
`;
  return asOwner(script);
}

Deno.test({
  name:
    "privilege drop: runs --prune as root while the owner swaps the runs dir for a link deletes nothing outside the store",
  ignore: !IS_ROOT,
  fn: async () => {
    await withTarget(async ({ top, outside }) => {
      const store = await damagedStore(top);
      // Forty runs to prune, each a copy of one repair's under its own id,
      // and root's dirs outside named as they are: what a swapped link would
      // make a root prune delete.
      const repaired = await cli(["repair", ...dirArgs(store)], store);
      assert.equal(repaired.code, 1, show(repaired));
      const runsDir = join(store.sessionDir, "_hermes_fsck", "runs");
      const [first] = await Array.fromAsync(Deno.readDir(runsDir));
      for (let i = 0; i < 40; i++) {
        const id = `20260101T0000${String(i).padStart(2, "0")}Z-abcdef`;
        await copyTree(join(runsDir, first.name), join(runsDir, id));
        for (const sub of ["", "actions"]) {
          for await (const e of Deno.readDir(join(runsDir, id, sub))) {
            if (!e.name.endsWith(".json")) continue;
            const path = join(runsDir, id, sub, e.name);
            const text = await Deno.readTextFile(path);
            await Deno.writeTextFile(path, text.replaceAll(first.name, id));
          }
        }
        await Deno.mkdir(join(outside, id, "files"), { recursive: true });
        await Deno.writeTextFile(join(outside, id, "files", "keep"), "x");
      }
      await giveStoreAway(store, UID, GID);
      const before = await treeBytes(outside);
      const swapper = runsSwapper(store.sessionDir, outside, 60_000);
      try {
        await new Promise((done) => setTimeout(done, 300)); // it has started
        for (let round = 0; round < 3; round++) {
          const r = await cli(
            [
              "runs",
              "--prune",
              "--keep",
              "0",
              "--session-dir",
              store.sessionDir,
            ],
            store,
          );
          assert.ok(r.code < 16, show(r));
          assert.deepEqual(
            treeDiff(before, await treeBytes(outside)),
            [],
            `round ${round}: the dir outside the store changed\n${show(r)}`,
          );
        }
      } finally {
        try {
          swapper.kill("SIGKILL");
        } catch { /* it ran its time out already */ }
        await swapper.status;
      }
    });
  },
});
