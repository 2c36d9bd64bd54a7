/**
 * The tool's own run records as an attacker plants them (issue 19, items
 * 2, 3, 5, 6, 7, 10, 14): the session dir's owner writes
 * `_hermes_fsck/runs/<run>/` at will, and root runs `repair`, `undo` and
 * `runs` over it. Each test plants records (a `seq` or `quarantined` with
 * `..`, a symlinked `files/`, a huge `before.size`, a FIFO or a link to
 * /dev/zero as a record, a link to a root-only file) or injures a real run
 * (a session deleted after it, a full disk, a kill mid-action), and checks
 * what a user sees: nothing outside the store is read into the output,
 * moved or changed, nothing hangs, the bad record is named (a finding
 * `run_record_invalid`, and in the output of `runs`, `undo`, `repair`), and
 * `runs --prune` keeps what may still be needed.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { acquireLock } from "../core/io/lock.ts";
import { makeMessages, runCli, TestStore } from "./fixtures.ts";
import {
  buildDamagedStore,
  cli,
  cliEnv,
  dirArgs,
  faultCli,
  reportOf,
  RUNS,
  sha256,
  show,
  treeBytes,
  treeDiff,
  withStore,
} from "./safety_support.ts";
import {
  CAN_MOUNT,
  fillDisk,
  IS_ROOT,
  MOUNT_NOTE,
  withTmpfsStore,
} from "./hostile_support.ts";

const RUN = "20260101T000000Z-aaaaaa";
const AT = "2026-01-01T00:00:00.000Z";
const encoder = new TextEncoder();

function header(runId: string, over: Record<string, unknown> = {}) {
  return {
    tool: "hermes-fsck",
    version: "0.0.0",
    runId,
    command: "repair",
    sessionDir: "/srv/sessions",
    startedAt: AT,
    finishedAt: null,
    ...over,
  };
}

function version(bytes: Uint8Array) {
  return { sha256: sha256(bytes), size: bytes.length };
}

/** An action record: a pending write of `x.json` unless `over` says else. */
function action(over: Record<string, unknown> = {}) {
  return {
    seq: 1,
    op: "write",
    path: "x.json",
    note: "planted",
    status: "pending",
    before: { sha256: "0".repeat(64), size: 1 },
    after: { sha256: "1".repeat(64), size: 1 },
    at: AT,
    ...over,
  };
}

/** Plants a run: its header and action records (by file name) as JSON. */
async function plantRun(
  sessionDir: string,
  runId: string,
  head: unknown,
  actions: Record<string, unknown> = {},
): Promise<string> {
  const dir = join(sessionDir, RUNS, runId);
  await Deno.mkdir(join(dir, "files"), { recursive: true });
  await Deno.mkdir(join(dir, "actions"), { recursive: true });
  if (head !== undefined) {
    await Deno.writeTextFile(join(dir, "run.json"), JSON.stringify(head));
  }
  for (const [name, record] of Object.entries(actions)) {
    await Deno.writeTextFile(
      join(dir, "actions", name),
      JSON.stringify(record),
    );
  }
  return dir;
}

/** A root-only (0600) file outside the store. */
async function secretFile(path: string, text: string): Promise<Uint8Array> {
  await Deno.mkdir(join(path, ".."), { recursive: true });
  const bytes = encoder.encode(text);
  await Deno.writeFile(path, bytes, { mode: 0o600 });
  await Deno.chmod(path, 0o600);
  return bytes;
}

/** Every file below `dir` with its bytes, mode and owner. */
async function treeState(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const [rel, bytes] of await treeBytes(dir)) {
    const info = await Deno.lstat(join(dir, rel.replace(/\/$/, "")));
    out.push(
      `${rel} ${typeof bytes === "string" ? bytes : sha256(bytes)} ` +
        `${(info.mode ?? 0).toString(8)} ${info.uid}`,
    );
  }
  return out.sort();
}

async function exists(path: string): Promise<boolean> {
  return (await Deno.lstat(path).catch(() => null)) !== null;
}

/** The `run_record_invalid` findings' paths of a JSON report. */
function invalidRecords(stdout: string): string[] {
  const report = reportOf({ code: 0, stdout, stderr: "" });
  return report.findings.filter((f) => f.kind === "run_record_invalid")
    .flatMap((f) => f.paths);
}

/** A store of one healthy session and no state.db. */
function plainArgs(store: TestStore): string[] {
  return ["--session-dir", store.sessionDir, "--no-state-db"];
}

const LIMIT_MS = 30_000;

/** The CLI, killed (and the test failed) after {@linkcode LIMIT_MS}. */
async function bounded(store: TestStore, args: string[]) {
  return await runCli(args, {
    env: cliEnv(store),
    timeoutMs: LIMIT_MS,
  });
}

/** `command` over the store of {@linkcode plainArgs}, its JSON report. */
async function jsonRun(store: TestStore, command: string) {
  return await bounded(store, [
    command,
    ...plainArgs(store),
    "--format",
    "json",
  ]);
}

/** `args` with `--session-dir` (for undo and runs). */
async function inStore(store: TestStore, ...args: string[]) {
  return await bounded(store, [...args, "--session-dir", store.sessionDir]);
}

// -------------------------------------------------------- planted records

Deno.test("run records: a seq of ../../../../../etc/app moves nothing in from outside, replaces nothing outside, and is reported", async () => {
  await withStore(async (store) => {
    await store.sidecar("healthy", { messages: makeMessages(2, "healthy") });
    // From files/ and actions/ of the run, five `..` lead to webui/, the
    // session dir's parent: outside the store.
    const outside = join(store.root, "webui", "etc");
    const app = await secretFile(join(outside, "app-x.json"), "root's app");
    await secretFile(join(outside, "app.json"), "root's config");
    const seq = "../../../../../etc/app";
    await plantRun(store.sessionDir, RUN, header(RUN), {
      "0001.json": action({
        seq,
        before: version(app),
        quarantined: `${RUNS}/${RUN}/files/${seq}-x.json`,
      }),
    });
    const before = await treeState(outside);

    const r = await jsonRun(store, "repair");
    assert.equal(r.code & 4, 4, show(r));
    assert.deepEqual(await treeState(outside), before, show(r));
    assert.ok(!(await exists(store.path("x.json"))), "x.json moved in");
    assert.deepEqual(invalidRecords(r.stdout), [
      `${RUNS}/${RUN}/actions/0001.json`,
    ], show(r));
  });
});

Deno.test("run records: .. in quarantined or path: undo reads and copies nothing from outside, exits 8 naming the record", async () => {
  await withStore(async (store) => {
    await store.sidecar("healthy", { messages: makeMessages(2, "healthy") });
    const secretPath = join(store.root, "webui", "secret.json");
    const secret = await secretFile(secretPath, '{"password": "hunter2"}');
    const viaQuarantine = "20260101T000000Z-bbbbbb";
    await plantRun(
      store.sessionDir,
      viaQuarantine,
      header(viaQuarantine, {
        finishedAt: AT,
      }),
      {
        "0001.json": action({
          path: "victim.json",
          status: "applied",
          before: version(secret),
          quarantined:
            `${RUNS}/${viaQuarantine}/files/../../../../../secret.json`,
        }),
      },
    );
    const viaPath = "20260101T000000Z-cccccc";
    await plantRun(
      store.sessionDir,
      viaPath,
      header(viaPath, {
        finishedAt: AT,
      }),
      {
        "0001.json": action({
          path: "../secret.json",
          status: "applied",
          before: version(secret),
        }),
      },
    );
    const outside = await treeState(join(store.root, "webui"));
    const files = await treeBytes(store.sessionDir, { storeOnly: true });

    for (const runId of [viaQuarantine, viaPath]) {
      const r = await inStore(store, "undo", runId);
      assert.equal(r.code, 8, show(r));
      assert.match(
        r.stderr,
        new RegExp(`${RUNS}/${runId}/actions/0001\\.json`),
        show(r),
      );
      assert.doesNotMatch(r.stdout + r.stderr, /hunter2/);
    }
    assert.deepEqual(
      treeDiff(files, await treeBytes(store.sessionDir, { storeOnly: true })),
      [],
    );
    assert.deepEqual(await treeState(join(store.root, "webui")), outside);

    const audit = await jsonRun(store, "audit");
    assert.deepEqual(invalidRecords(audit.stdout).sort(), [
      `${RUNS}/${viaQuarantine}/actions/0001.json`,
      `${RUNS}/${viaPath}/actions/0001.json`,
    ], show(audit));
  });
});

Deno.test("run records: a symlinked files/ is never read through: repair moves nothing in from outside and names it", async () => {
  await withStore(async (store) => {
    await store.sidecar("healthy", { messages: makeMessages(2, "healthy") });
    const elsewhere = join(store.root, "elsewhere");
    const secret = await secretFile(
      join(elsewhere, "0001-x.json"),
      "root's file",
    );
    const dir = await plantRun(store.sessionDir, RUN, header(RUN), {
      "0001.json": action({
        before: version(secret),
        quarantined: `${RUNS}/${RUN}/files/0001-x.json`,
      }),
    });
    await Deno.remove(join(dir, "files"));
    await Deno.symlink(elsewhere, join(dir, "files"));
    const before = await treeState(elsewhere);

    const r = await jsonRun(store, "repair");
    assert.equal(r.code & 4, 4, show(r));
    assert.deepEqual(await treeState(elsewhere), before, show(r));
    assert.ok(!(await exists(store.path("x.json"))), "x.json moved in");
    assert.deepEqual(invalidRecords(r.stdout).sort(), [
      `${RUNS}/${RUN}/actions/0001.json`,
      `${RUNS}/${RUN}/files`,
    ], show(r));
  });
});

Deno.test("run records: a before.size no file has is refused: undo restores nothing and names the record", async () => {
  await withStore(async (store) => {
    await store.sidecar("healthy", { messages: makeMessages(2, "healthy") });
    const bytes = encoder.encode('{"planted": true}');
    const dir = await plantRun(
      store.sessionDir,
      RUN,
      header(RUN, {
        finishedAt: AT,
      }),
      {
        "0001.json": action({
          path: "big.json",
          status: "applied",
          before: { sha256: sha256(bytes), size: 1e15 },
          quarantined: `${RUNS}/${RUN}/files/0001-big.json`,
        }),
      },
    );
    await Deno.writeFile(join(dir, "files", "0001-big.json"), bytes);

    const r = await inStore(store, "undo", RUN);
    assert.equal(r.code, 8, show(r));
    assert.match(r.stderr, /actions\/0001\.json has a before\.size/, show(r));
    assert.ok(!(await exists(store.path("big.json"))), show(r));
    const runs = await inStore(store, "runs");
    assert.equal(runs.code, 4, show(runs));
    assert.match(
      runs.stdout,
      new RegExp(
        `^invalid ${RUNS}/${RUN}/actions/0001\\.json has a before`,
        "m",
      ),
    );
  });
});

// ---------------------------------------------------- FIFOs and /dev/zero

Deno.test("run records: a FIFO or a link to /dev/zero as run.json or an action record hangs nothing and is named", async () => {
  await withStore(async (store) => {
    await store.sidecar("healthy", { messages: makeMessages(2, "healthy") });
    const planted: Record<string, string> = {};
    const cases = [
      ["20260101T000000Z-f1f1f1", "run.json", "fifo"],
      ["20260101T000000Z-f2f2f2", "run.json", "zero"],
      ["20260101T000000Z-f3f3f3", "actions/0001.json", "fifo"],
      ["20260101T000000Z-f4f4f4", "actions/0001.json", "zero"],
    ] as const;
    for (const [runId, record, kind] of cases) {
      const dir = await plantRun(
        store.sessionDir,
        runId,
        record === "run.json" ? undefined : header(runId),
      );
      const path = join(dir, record);
      if (kind === "fifo") {
        const made = await new Deno.Command("mkfifo", { args: [path] })
          .output();
        assert.ok(made.success, "mkfifo");
      } else await Deno.symlink("/dev/zero", path);
      planted[runId] = `${RUNS}/${runId}/${record}`;
    }
    const expected = Object.values(planted).sort();

    const repair = await jsonRun(store, "repair");
    assert.equal(repair.code & 4, 4, show(repair));
    assert.deepEqual(invalidRecords(repair.stdout).sort(), expected);

    const runs = await inStore(store, "runs");
    assert.equal(runs.code, 4, show(runs));
    for (const record of expected) {
      assert.match(runs.stdout, new RegExp(`^invalid ${record} `, "m"));
    }
    for (const [runId, record] of Object.entries(planted)) {
      const undo = await inStore(store, "undo", runId);
      assert.equal(undo.code, 8, show(undo));
      assert.ok(undo.stderr.includes(record), show(undo));
    }
  });
});

// ------------------------------------------------ records linked to secrets

Deno.test("runs: a symlinked run.json or action record never shows a root-only file's contents, in JSON or text", async () => {
  await withStore(async (store) => {
    const secretHeader = join(store.root, "secret", "header.json");
    await secretFile(
      secretHeader,
      JSON.stringify(header(RUN, { command: "TOPSECRET-HEADER" })),
    );
    const secretAction = join(store.root, "secret", "action.json");
    await secretFile(
      secretAction,
      JSON.stringify(action({ note: "TOPSECRET-ACTION" })),
    );
    const linkedHeader = await plantRun(store.sessionDir, RUN, undefined);
    await Deno.symlink(secretHeader, join(linkedHeader, "run.json"));
    const other = "20260101T000000Z-dddddd";
    const linkedAction = await plantRun(store.sessionDir, other, header(other));
    await Deno.symlink(
      secretAction,
      join(linkedAction, "actions", "0001.json"),
    );

    for (const format of ["json", "text"]) {
      const r = await inStore(store, "runs", "--format", format);
      assert.equal(r.code, 4, show(r));
      assert.doesNotMatch(r.stdout + r.stderr, /TOPSECRET/, show(r));
      for (const record of [`${RUN}/run.json`, `${other}/actions/0001.json`]) {
        assert.ok(r.stdout.includes(`${RUNS}/${record}`), show(r));
      }
    }
  });
});

// ------------------------------------------------------- long file names

Deno.test("quarantine: a stale temp named near 255 bytes is removed into the quarantine and undo brings it back", async () => {
  await withStore(async (store) => {
    await store.sidecar("healthy", { messages: makeMessages(2, "healthy") });
    const suffix = ".hermes-fsck.tmp.123.abcd";
    const name = "a".repeat(253 - suffix.length) + suffix;
    assert.equal(name.length, 253);
    await store.writeRaw(name, "torn");
    const dayAgo = new Date(Date.now() - 86_400_000);
    await Deno.utime(store.path(name), dayAgo, dayAgo);

    const r = await jsonRun(store, "repair");
    assert.equal(r.code, 1, show(r));
    assert.ok(!(await exists(store.path(name))), show(r));
    const runId = reportOf(r).repair!.runId!;
    const kept: string[] = [];
    for await (
      const item of Deno.readDir(join(store.sessionDir, RUNS, runId, "files"))
    ) {
      kept.push(item.name);
    }
    assert.equal(kept.length, 1, kept.join());
    assert.ok(encoder.encode(kept[0]).length <= 255, kept[0]);

    const undo = await inStore(store, "undo", runId);
    assert.equal(undo.code, 1, show(undo));
    assert.equal(await Deno.readTextFile(store.path(name)), "torn");
  });
});

// ------------------------------------------------------------------ prune

Deno.test("runs --prune: keeps a run killed mid-action (its quarantine holds the only copy), a run whose skipped action kept the only copy, and an invalid run; says why", async () => {
  await withStore(async (store) => {
    // A restore_from_bak over shrunk.json, killed after the old file was
    // moved aside (step 4: run.json, its record, the temp, the move).
    await store.sidecar("shrunk", { messages: makeMessages(3, "shrunk live") });
    await store.backup("shrunk", { messages: makeMessages(8, "shrunk bak") });
    const live = await Deno.readFile(store.path("shrunk.json"));
    const killed = await faultCli(
      ["repair", ...plainArgs(store), "--format", "json"],
      store,
      { HERMES_FSCK_FAULT_AFTER_STEPS: "4" },
    );
    assert.equal(killed.code, 137, show(killed));
    assert.ok(!(await exists(store.path("shrunk.json"))), "not moved aside");
    const [unfinished] = [
      ...(await Array.fromAsync(
        Deno.readDir(join(store.sessionDir, RUNS)),
      )),
    ].map((e) => e.name);

    // A finished run whose action was skipped (the server saved meanwhile)
    // and kept the file it had moved: nowhere else now.
    const skipped = "20260101T000000Z-eeeeee";
    const moved = encoder.encode('{"a save": "only here"}');
    const dir = await plantRun(
      store.sessionDir,
      skipped,
      header(skipped, {
        finishedAt: AT,
      }),
      {
        "0001.json": action({
          path: "saved.json",
          status: "skipped",
          reason: "store_changed",
          before: version(encoder.encode("older")),
          quarantined: `${RUNS}/${skipped}/files/0001-saved.json`,
        }),
      },
    );
    await Deno.writeFile(join(dir, "files", "0001-saved.json"), moved);
    // And a run with a record hermes-fsck did not write.
    const invalid = "20260101T000000Z-ffffff";
    await plantRun(
      store.sessionDir,
      invalid,
      header(invalid, {
        finishedAt: AT,
        seq: "../x",
      }),
    );
    const tree = await treeBytes(join(store.sessionDir, RUNS));

    const r = await inStore(store, "runs", "--prune", "--keep", "0");
    assert.equal(r.code, 4, show(r));
    assert.doesNotMatch(r.stdout, /^pruned /m, show(r));
    assert.match(
      r.stdout,
      new RegExp(`^kept ${unfinished}: it did not finish`, "m"),
      show(r),
    );
    assert.match(
      r.stdout,
      new RegExp(
        `^kept ${skipped}: its quarantine holds the only copy of saved\\.json`,
        "m",
      ),
      show(r),
    );
    assert.match(
      r.stdout,
      new RegExp(`^invalid ${RUNS}/${invalid}/run\\.json has a field`, "m"),
      show(r),
    );
    assert.deepEqual(
      treeDiff(tree, await treeBytes(join(store.sessionDir, RUNS))),
      [],
    );
    const files = join(store.sessionDir, RUNS, unfinished, "files");
    const [aside] = await Array.fromAsync(Deno.readDir(files));
    assert.deepEqual(await Deno.readFile(join(files, aside.name)), live);
  });
});

Deno.test("runs --prune: while another hermes-fsck holds the lock, exits 8 naming it and deletes nothing", async () => {
  await withStore(async (store) => {
    await buildDamagedStore(store);
    const repair = await cli(["repair", ...dirArgs(store)], store);
    assert.equal(repair.code, 1, show(repair));
    const tree = await treeBytes(join(store.sessionDir, RUNS));
    const lock = await acquireLock(store.sessionDir, "repair");
    try {
      const r = await inStore(store, "runs", "--prune", "--keep", "0");
      assert.equal(r.code, 8, show(r));
      assert.match(r.stderr, /holds the lock .*_hermes_fsck\.lock/, show(r));
    } finally {
      await lock.release();
    }
    assert.deepEqual(
      treeDiff(tree, await treeBytes(join(store.sessionDir, RUNS))),
      [],
    );
  });
});

// ------------------------------------------------------------------- undo

Deno.test("undo: a session deleted after the run stays deleted; undo says so and exits with bit 4", async () => {
  await withStore(async (store) => {
    await buildDamagedStore(store);
    const r = await cli(
      ["repair", ...dirArgs(store), "--format", "json"],
      store,
    );
    assert.equal(r.code, 1, show(r));
    const runId = reportOf(r).repair!.runId!;
    // The server deletes the session: the sidecar goes, then the tombstone
    // lists it.
    await Deno.remove(store.path("shrunk.json"));
    await store.tombstone(["shrunk"]);

    const undo = await inStore(store, "undo", runId);
    assert.equal(undo.code & 4, 4, show(undo));
    assert.ok(!(await exists(store.path("shrunk.json"))), show(undo));
    assert.match(
      undo.stdout,
      /^ {2}left +shrunk\.json: shrunk\.json was removed after the run; it was left missing/m,
      show(undo),
    );
    assert.doesNotMatch(undo.stdout, /Every file the run changed is as it was/);
  });
});

Deno.test({
  name:
    `undo: on a full disk exits with bit 8, names the files still in the quarantine, and files none as changed after the run${MOUNT_NOTE}`,
  ignore: !CAN_MOUNT || !IS_ROOT,
  fn: async () => {
    await withTmpfsStore("1m", async (store) => {
      await buildDamagedStore(store);
      // A live file big enough that putting it back needs more room than
      // the full disk has.
      await store.sidecar("shrunk", {
        messages: makeMessages(300, "shrunk live"),
      });
      await store.backup("shrunk", {
        messages: makeMessages(800, "shrunk bak"),
      });
      const r = await cli(
        ["repair", ...dirArgs(store), "--format", "json"],
        store,
      );
      assert.equal(r.code, 1, show(r));
      const runId = reportOf(r).repair!.runId!;
      // Room for the lock and a few small files, not for the big file.
      const filler = await fillDisk(store.root, 6);
      const files = await treeBytes(store.sessionDir, { storeOnly: true });

      const undo = await inStore(store, "undo", runId);
      assert.equal(undo.code & 8, 8, show(undo));
      assert.doesNotMatch(undo.stdout, /changed after the run/, show(undo));
      assert.match(
        undo.stdout,
        /^ {2}failed +shrunk\.json: .*No space left on device/m,
        show(undo),
      );
      assert.match(
        undo.stdout,
        new RegExp(
          `still in the run's quarantine: .*${RUNS}/${runId}/files/\\d{4}-shrunk\\.json`,
        ),
        show(undo),
      );
      // Nothing lost: shrunk.json is as the repair left it.
      const after = await treeBytes(store.sessionDir, { storeOnly: true });
      assert.deepEqual(after.get("shrunk.json"), files.get("shrunk.json"));
      // With room again, the undo completes.
      await Deno.remove(filler, { recursive: true });
      const again = await inStore(store, "undo", runId);
      assert.equal(again.code & 8, 0, show(again));
    });
  },
});
