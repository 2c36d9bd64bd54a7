/**
 * Attacks on the writer's group commit (docs/safety.md, "Group commit"):
 * `repair` runs as root on a store uid 1000 owns, with forty sessions to
 * restore from their backups (forty writes over existing files, applied
 * as one group), while a second process as uid 1000 swaps the sidecars
 * for symlinks to a canary outside the store and back, saves sidecars the
 * server's way at random instants, or swaps the run's dirs under
 * `_hermes_fsck/` for symlinks. Each attack runs in a tight loop from the
 * instant the run's dir appears (the group's write-ahead) to the end of
 * the run, and once at a fixed instant: between planning and the group
 * (tests/interleave_cli.ts), the nearest hook to the group's checks. What
 * is asserted is what a user sees: the canaries outside the store as they
 * were (bytes, mtime, links), every original byte at its path or in the
 * quarantine, a save never overwritten, a documented exit code, and undo
 * giving back the store.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { type CliResult, makeMessages, runCli, TestStore } from "./fixtures.ts";
import {
  assertNoUncaught,
  cli,
  cliEnv,
  copyTree,
  listDir,
  pathsAt,
  reportOf,
  RUNS,
  sha256,
  show,
  type StorePaths,
  treeBytes,
  treeDiff,
} from "./safety_support.ts";
import { giveStoreAway, IS_ROOT, spawnAs } from "./owner_support.ts";
import type { Action } from "../core/plugins/action.ts";
import { readRun } from "../core/io/run_records.ts";
import { expectationOf, newRunId, StoreWriter } from "../core/io/safety.ts";

const UID = 1000;
const GID = 1000;
/** Sessions whose live file lost messages its backup has: one write each. */
const SESSIONS = Array.from(
  { length: 40 },
  (_, i) => `s${String(i).padStart(2, "0")}`,
);
const ROUNDS = 2;
const INTERLEAVE_CLI = new URL("./interleave_cli.ts", import.meta.url).pathname;

if (!IS_ROOT) {
  console.warn(
    "group_attack_test.ts: skipped, it must run as root (the attacks are by the store's owner on a run as root)",
  );
}

/** Where an attack is aimed: dirs outside any store, each with a canary. */
interface Place {
  top: string;
  /** root's, 0755, holding `canary` (root's, 0644): the owner can read it only. */
  outside: string;
  canary: string;
  /** uid 1000's, holding `canary` (0644): a write through a link would land. */
  owned: string;
  ownedCanary: string;
  /** Open to all: the attacker's notes. */
  marks: string;
  /** The store all rounds copy, given to uid 1000. */
  pristine: StorePaths;
}

async function withPlace(fn: (place: Place) => Promise<void>): Promise<void> {
  const top = await Deno.makeTempDir({ prefix: "hermes-fsck-group-attack-" });
  try {
    await Deno.chmod(top, 0o755);
    const outside = join(top, "outside");
    await Deno.mkdir(outside, { mode: 0o755 });
    const canary = join(outside, "canary");
    await Deno.writeTextFile(canary, "root's canary\n", { mode: 0o644 });
    const owned = join(top, "owned");
    await Deno.mkdir(owned, { mode: 0o755 });
    const ownedCanary = join(owned, "canary");
    await Deno.writeTextFile(ownedCanary, "the owner's canary\n");
    await Deno.chown(ownedCanary, UID, GID);
    await Deno.chown(owned, UID, GID);
    const marks = join(top, "marks");
    await Deno.mkdir(marks);
    await Deno.chmod(marks, 0o777);
    const store = await TestStore.create(top);
    await shrunkSessions(store);
    await giveStoreAway(store, UID, GID);
    await fn({
      top,
      outside,
      canary,
      owned,
      ownedCanary,
      marks,
      pristine: store,
    });
  } finally {
    await Deno.remove(top, { recursive: true });
  }
}

async function shrunkSessions(store: TestStore): Promise<void> {
  for (const sid of SESSIONS) {
    await store.sidecar(sid, { messages: makeMessages(3, `${sid} live`) });
    await store.backup(sid, { messages: makeMessages(8, `${sid} bak`) });
  }
}

/**
 * Every entry below the dirs outside the store: name, bytes, mode, owner,
 * link count, mtime and ctime (a hard link or chmod made to it shows).
 */
async function outsideState(place: Place): Promise<string[]> {
  const out: string[] = [];
  for (const dir of [place.outside, place.owned]) {
    for (const entry of await listDir(dir)) {
      const path = join(dir, entry.name);
      const info = await Deno.lstat(path);
      const bytes = info.isFile ? sha256(await Deno.readFile(path)) : "";
      out.push(
        `${path} ${
          ((info.mode ?? 0) & 0o7777).toString(8)
        } ${info.uid}:${info.gid} ` +
          `n${info.nlink} m${info.mtime?.getTime()} c${info.ctime?.getTime()} ${bytes}`,
      );
    }
  }
  return out.sort();
}

/** A fresh copy of the pristine store for one round, and its bytes. */
async function roundStore(
  place: Place,
  name: string,
): Promise<{ store: StorePaths; original: Map<string, Uint8Array | string> }> {
  const store = pathsAt(join(place.top, name));
  await copyTree(place.pristine.root, store.root);
  return {
    store,
    original: await treeBytes(store.sessionDir, { storeOnly: true }),
  };
}

/**
 * The repair with `program` run to its end (as uid 1000, the run's user)
 * after planning, before the first group (tests/interleave_cli.ts).
 */
async function interleaved(
  store: StorePaths,
  program: string[],
): Promise<CliResult> {
  return await runCli(repairArgs(store), {
    entry: INTERLEAVE_CLI,
    env: {
      ...cliEnv(store),
      HERMES_FSCK_TEST_INTERLEAVE: JSON.stringify(program),
    },
  });
}

function repairArgs(store: StorePaths): string[] {
  return ["repair", "--session-dir", store.sessionDir, "--format", "json"];
}

/** Only the documented bits: 1 repaired, 4 problems remain, 8 an action failed. */
function assertDocumentedCode(r: CliResult, context: string): void {
  assertNoUncaught(r);
  assert.equal(r.code & ~(1 | 4 | 8), 0, `${context}: ${show(r)}`);
}

/** SHA-256 of every regular file in the quarantines of the store's runs. */
async function quarantined(sessionDir: string): Promise<Set<string>> {
  const out = new Set<string>();
  for (const run of await listDir(join(sessionDir, RUNS))) {
    const files = join(sessionDir, RUNS, run.name, "files");
    for (const entry of await listDir(files)) {
      const info = await Deno.lstat(join(files, entry.name));
      if (info.isFile) {
        out.add(sha256(await Deno.readFile(join(files, entry.name))));
      }
    }
  }
  return out;
}

/**
 * Every session's original live bytes are at its path or in a quarantine
 * (unless the attacker saved over it: then its last save is at the path),
 * what is at its path is the original, the backup restored, or that save,
 * and every backup is as it was.
 */
async function assertBytesKept(
  store: StorePaths,
  original: Map<string, Uint8Array | string>,
  saves: Map<string, string>,
  context: string,
): Promise<void> {
  const kept = await quarantined(store.sessionDir);
  for (const sid of SESSIONS) {
    const live = join(store.sessionDir, `${sid}.json`);
    const info = await Deno.lstat(live).catch(() => null);
    assert.ok(info?.isFile, `${context}: ${sid}.json is not a regular file`);
    const now = sha256(await Deno.readFile(live));
    const before = sha256(original.get(`${sid}.json`) as Uint8Array);
    const bak = sha256(original.get(`${sid}.json.bak`) as Uint8Array);
    assert.equal(
      sha256(await Deno.readFile(`${live}.bak`)),
      bak,
      `${context}: ${sid}.json.bak changed`,
    );
    const saved = saves.get(sid);
    if (saved !== undefined) {
      assert.equal(
        now,
        saved,
        `${context}: the save of ${sid} was overwritten`,
      );
      continue;
    }
    assert.ok(
      now === before || now === bak,
      `${context}: ${sid}.json is neither its original nor its backup`,
    );
    assert.ok(
      now === before || kept.has(before),
      `${context}: the original bytes of ${sid}.json are lost`,
    );
  }
}

/**
 * A run that could not make its dirs (they were swapped as it made them)
 * wrote nothing: undo finds no such run, and the store must be as it was.
 */
function noRun(undo: CliResult): boolean {
  return undo.code === 8 && /: no run "/.test(undo.stderr);
}

/**
 * Undoes the run as root; then the store is the original, except the
 * sessions the attacker saved, which hold their last save.
 */
async function assertUndone(
  store: StorePaths,
  runId: string | null | undefined,
  original: Map<string, Uint8Array | string>,
  saves: Map<string, string>,
  context: string,
): Promise<void> {
  const undo = runId
    ? await cli(
      ["undo", runId, "--session-dir", store.sessionDir, "--format", "json"],
      store,
    )
    : null;
  if (undo !== null) assertDocumentedCode(undo, `${context}: undo`);
  if (undo !== null && !noRun(undo)) {
    const refused =
      (reportOf(undo) as unknown as { refused: { path: string }[] })
        .refused.map((item) => item.path);
    const notSaved = refused.filter((path) =>
      !saves.has(path.replace(/\.json$/, ""))
    );
    assert.deepEqual(notSaved, [], `${context}: undo refused ${show(undo)}`);
  }
  const now = await treeBytes(store.sessionDir, { storeOnly: true });
  const expected = new Map(original);
  for (const [sid] of saves) {
    expected.delete(`${sid}.json`);
    now.delete(`${sid}.json`);
  }
  assert.deepEqual(
    treeDiff(expected, now),
    [],
    `${context}: after undo the store is not the original`,
  );
}

/**
 * What a user sees after a repair under attack: a documented exit code,
 * the canaries as they were, every byte kept, and undo giving back the
 * store (then the canaries still as they were).
 */
async function assertRound(
  place: Place,
  before: string[],
  round: { store: StorePaths; original: Map<string, Uint8Array | string> },
  r: CliResult,
  saves: Map<string, string>,
  context: string,
): Promise<void> {
  assertDocumentedCode(r, context);
  assert.deepEqual(await outsideState(place), before, context);
  // Their bytes (names in a dir the owner may list can show, as findings).
  for (const text of ["root's canary", "the owner's canary"]) {
    assert.ok(!r.stdout.includes(text), `${context}: ${show(r)}`);
  }
  await assertBytesKept(round.store, round.original, saves, context);
  await assertUndone(
    round.store,
    reportOf(r).repair?.runId,
    round.original,
    saves,
    context,
  );
  assert.deepEqual(await outsideState(place), before, context);
}

/**
 * The attacker's script (JavaScript, run as uid 1000): waits for the run's
 * dir (the group's write-ahead has begun), then runs `attack` in a loop
 * until the file `stop` appears; each attack ends with the store's names
 * back as they were, unless it saved.
 */
function attackScript(
  sessionDir: string,
  stop: string,
  attack: string,
): string {
  return `
const dir = ${JSON.stringify(sessionDir)};
const runs = dir + "/_hermes_fsck/runs";
const sids = ${JSON.stringify(SESSIONS)};
const stopped = () => { try { Deno.lstatSync(${
    JSON.stringify(stop)
  }); return true; } catch { return false; } };
const runDirs = () => { try { return [...Deno.readDirSync(runs)].map((e) => runs + "/" + e.name).filter((p) => !p.endsWith(".hold")); } catch { return []; } };
while (!stopped() && runDirs().length === 0) {}
let n = 0;
${attack}
`;
}

/**
 * Starts the attacker, runs the repair, tells the attacker to stop and
 * waits for it to put the store's names back.
 */
async function underAttack(
  place: Place,
  store: StorePaths,
  round: number,
  attack: string,
): Promise<CliResult> {
  const stop = join(place.marks, `stop-${round}`);
  const attacker = spawnAs(
    attackScript(store.sessionDir, stop, attack),
    UID,
    GID,
  );
  try {
    return await cli(repairArgs(store), store);
  } finally {
    await Deno.writeTextFile(stop, "");
    const status = await attacker.status;
    assert.ok(status.success, `the attacker failed (${status.code})`);
  }
}

Deno.test({
  name:
    "group attack: sidecars swapped for symlinks outside the store and back during the group never reach the canaries",
  ignore: !IS_ROOT,
  fn: async () => {
    await withPlace(async (place) => {
      const before = await outsideState(place);
      // Each sidecar in turn: moved aside, a symlink to a canary in its
      // place, the sidecar renamed back over the link (its inode kept).
      const attack = `
const links = ${JSON.stringify([place.canary, place.ownedCanary])};
while (!stopped()) {
  for (const sid of sids) {
    const path = dir + "/" + sid + ".json";
    const hold = dir + "/" + sid + ".hold";
    try { Deno.renameSync(path, hold); } catch { continue; }
    try { Deno.symlinkSync(links[n++ % 2], path); } catch {}
    Deno.renameSync(hold, path);
  }
}
`;
      for (let round = 0; round < ROUNDS; round++) {
        const context = `round ${round}`;
        const copy = await roundStore(place, `swap${round}`);
        const r = await underAttack(place, copy.store, round, attack);
        await assertRound(place, before, copy, r, new Map(), context);
      }
    });
  },
});

Deno.test({
  name:
    "group attack: a sidecar swapped for a symlink to a canary before the group is skipped, the link left alone, the rest applied",
  ignore: !IS_ROOT,
  fn: async () => {
    await withPlace(async (place) => {
      const before = await outsideState(place);
      const { store, original } = await roundStore(place, "fixed");
      const aside = join(place.marks, "s05.json");
      const [live, other] = ["s05.json", "s06.json"].map((name) =>
        join(store.sessionDir, name)
      );
      const r = await interleaved(store, [
        "sh",
        "-c",
        `mv "$0" "$1" && ln -s "$2" "$0" && mv "$3" "$3.hold" && ln -s "$4" "$3"`,
        live,
        aside,
        place.canary,
        other,
        place.ownedCanary,
      ]);
      assertDocumentedCode(r, "fixed");
      assert.equal(r.code, 5, show(r));
      const actions = reportOf(r).repair!.actions.flatMap((a) => a.actions);
      const skipped = actions.filter((a) => a.status !== "applied")
        .map((a) => `${a.path} ${a.status}`);
      assert.deepEqual(skipped, ["s05.json skipped", "s06.json skipped"]);
      assert.equal(await Deno.readLink(live), place.canary);
      assert.equal(await Deno.readLink(other), place.ownedCanary);
      assert.deepEqual(await outsideState(place), before);
      // The owner puts its files back; then undo gives back the store.
      await Deno.remove(live);
      await Deno.rename(aside, live);
      await Deno.remove(other);
      await Deno.rename(`${other}.hold`, other);
      await assertBytesKept(store, original, new Map(), "fixed");
      await assertUndone(
        store,
        reportOf(r).repair?.runId,
        original,
        new Map(),
        "fixed",
      );
    });
  },
});

Deno.test({
  name:
    "group attack: server saves at random instants during the group are never overwritten",
  ignore: !IS_ROOT,
  fn: async () => {
    await withPlace(async (place) => {
      const before = await outsideState(place);
      for (let round = 0; round < ROUNDS; round++) {
        const context = `round ${round}`;
        const copy = await roundStore(place, `save${round}`);
        const log = join(place.marks, `saves-${round}.json`);
        // A save the server's way (temp, fsync, rename over), of a random
        // session after a random pause; the hash of each session's last
        // save is logged when it stops.
        const attack = `
const { createHash } = await import("node:crypto");
const last = {};
let seed = ${round + 1};
const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
while (!stopped()) {
  const until = performance.now() + random() * 3;
  while (performance.now() < until) {}
  const sid = sids[Math.floor(random() * sids.length)];
  const bytes = new TextEncoder().encode(JSON.stringify({
    session_id: sid, title: "saved", messages: [{ role: "user", content: "save " + n }],
  }));
  const temp = dir + "/" + sid + ".tmp." + Deno.pid + "." + n++;
  const file = Deno.openSync(temp, { write: true, createNew: true, mode: 0o640 });
  file.writeSync(bytes);
  file.syncSync();
  file.close();
  Deno.renameSync(temp, dir + "/" + sid + ".json");
  last[sid] = createHash("sha256").update(bytes).digest("hex");
}
Deno.writeTextFileSync(${JSON.stringify(log)}, JSON.stringify(last));
`;
        const r = await underAttack(place, copy.store, round, attack);
        const saves = new Map<string, string>(
          Object.entries(JSON.parse(await Deno.readTextFile(log))),
        );
        assert.ok(saves.size > 0, `${context}: the attacker saved nothing`);
        await assertRound(place, before, copy, r, saves, context);
      }
    });
  },
});

Deno.test({
  name:
    "group attack: a server save before the group is skipped and kept, the rest applied, undo exact",
  ignore: !IS_ROOT,
  fn: async () => {
    await withPlace(async (place) => {
      const { store, original } = await roundStore(place, "fixed");
      const saved = join(place.marks, "save.json");
      const save = JSON.stringify({ session_id: "s07", messages: [] });
      await Deno.writeTextFile(saved, save);
      await Deno.chmod(saved, 0o644);
      const live = join(store.sessionDir, "s07.json");
      const r = await interleaved(store, [
        "sh",
        "-c",
        `cp "$0" "$1.tmp.1.1" && mv "$1.tmp.1.1" "$1"`,
        saved,
        live,
      ]);
      assertDocumentedCode(r, "fixed");
      assert.equal(r.code, 5, show(r));
      const actions = reportOf(r).repair!.actions.flatMap((a) => a.actions);
      assert.deepEqual(
        actions.filter((a) => a.status !== "applied").map((a) =>
          `${a.path} ${a.status}`
        ),
        ["s07.json skipped"],
      );
      assert.equal(await Deno.readTextFile(live), save);
      const saves = new Map([["s07", sha256(new TextEncoder().encode(save))]]);
      await assertBytesKept(store, original, saves, "fixed");
      await assertUndone(
        store,
        reportOf(r).repair?.runId,
        original,
        saves,
        "fixed",
      );
    });
  },
});

Deno.test({
  name:
    "group attack: the run's dirs under _hermes_fsck swapped for symlinks outside during the group write nothing there and lose nothing",
  ignore: !IS_ROOT,
  fn: async () => {
    await withPlace(async (place) => {
      const before = await outsideState(place);
      // Each dir of the run in turn, and the runs dir: moved aside, a
      // symlink to root's dir outside in its place, then put back.
      const attack = `
const outside = ${JSON.stringify(place.outside)};
while (!stopped()) {
  for (const run of runDirs()) {
    for (const path of [run + "/files", run + "/actions", run, runs]) {
      const hold = path + ".hold";
      try { Deno.renameSync(path, hold); } catch { continue; }
      try { Deno.symlinkSync(outside, path); } catch {}
      for (let i = 0; i < 200 && !stopped(); i++) {}
      try { Deno.removeSync(path); } catch {}
      Deno.renameSync(hold, path);
    }
  }
}
`;
      for (let round = 0; round < ROUNDS; round++) {
        const context = `round ${round}`;
        const copy = await roundStore(place, `dirs${round}`);
        const r = await underAttack(place, copy.store, round, attack);
        await assertRound(place, before, copy, r, new Map(), context);
      }
    });
  },
});

Deno.test({
  name:
    "group attack: the runs dir swapped for a symlink outside before the group refuses every action and changes nothing",
  ignore: !IS_ROOT,
  fn: async () => {
    await withPlace(async (place) => {
      const before = await outsideState(place);
      const { store, original } = await roundStore(place, "fixed");
      const runs = join(store.sessionDir, RUNS);
      await Deno.mkdir(runs, { recursive: true });
      await Deno.chown(join(store.sessionDir, "_hermes_fsck"), UID, GID);
      await Deno.chown(runs, UID, GID);
      const r = await interleaved(store, [
        "sh",
        "-c",
        `mv "$0" "$0.hold" && ln -s "$1" "$0"`,
        runs,
        place.outside,
      ]);
      assertDocumentedCode(r, "fixed");
      assert.equal(r.code & 4, 4, show(r));
      const actions = reportOf(r).repair!.actions.flatMap((a) => a.actions);
      assert.ok(
        actions.length > 0 && actions.every((a) => a.status === "skipped"),
        show(r),
      );
      assert.match(r.stdout, /refused to keep the run's records/);
      assert.deepEqual(await outsideState(place), before);
      assert.deepEqual(
        treeDiff(
          original,
          await treeBytes(store.sessionDir, { storeOnly: true }),
        ),
        [],
      );
    });
  },
});

Deno.test({
  name:
    "group attack: a symlink the writer moved aside and could not put back is not named in the run's records, so undo of the run stays possible",
  ignore: !IS_ROOT,
  fn: async () => {
    await withPlace(async (place) => {
      const before = await outsideState(place);
      // The writer in this process (no CLI start-up), many groups, so the
      // swap lands between a group's identity check and its move often.
      const dir = join(place.top, "lib");
      await Deno.mkdir(dir);
      await Deno.chown(dir, UID, GID);
      const stop = join(place.marks, "stop-lib");
      const names = SESSIONS.map((sid) => `${sid}.json`);
      const attacker = spawnAs(
        `
const dir = ${JSON.stringify(dir)};
const stopped = () => { try { Deno.lstatSync(${
          JSON.stringify(stop)
        }); return true; } catch { return false; } };
while (!stopped()) {
  for (const name of ${JSON.stringify(names)}) {
    const path = dir + "/" + name;
    try { Deno.renameSync(path, path + ".hold"); } catch { continue; }
    try { Deno.symlinkSync(${JSON.stringify(place.canary)}, path); } catch {}
    Deno.renameSync(path + ".hold", path);
  }
}
`,
        UID,
        GID,
      );
      try {
        for (let round = 0; round < 20; round++) {
          for (const name of names) {
            const temp = join(dir, `${name}.new`);
            await Deno.writeTextFile(temp, `{"round": ${round}}`);
            await Deno.rename(temp, join(dir, name));
          }
          const actions: Action[] = [];
          for (const name of names) {
            const now = await expectationOf(join(dir, name), 1 << 20);
            if ("problem" in now) continue;
            actions.push({
              op: "write",
              path: name,
              data: new TextEncoder().encode(`{"new": ${round}}`),
              expect: now.expect,
              note: `write ${name}`,
            });
          }
          const writer = await StoreWriter.open(dir, newRunId());
          await writer.applyBatch(actions);
          await writer.close();
          const read = await readRun(dir, writer.runId);
          assert.ok(read?.ok, `round ${round}: ${JSON.stringify(read)}`);
        }
      } finally {
        await Deno.writeTextFile(stop, "");
        await attacker.status;
      }
      assert.deepEqual(await outsideState(place), before);
    });
  },
});
