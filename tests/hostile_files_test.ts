/**
 * Files that are not what their names say (issue 7): FIFOs, sockets and
 * devices named like store files are never opened, only reported; a
 * directory named x.json; symlinks out of the store or dangling, never
 * followed for a write (also for the tool's own `_hermes_fsck` dir); a file
 * the process may not read; empty files; files of 2 GB and more, reported
 * without being read. Every run is the CLI as a subprocess with the
 * binary's permissions, and the run goes on past each of them.
 */

import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { makeMessages, runCli, TestStore, withStore } from "./fixtures.ts";
import { audit, makeOld, repair, STALE_AGE_MS } from "./check_support.ts";
import {
  buildDamagedStore,
  dirArgs,
  submittedEvent,
  treeBytes,
  treeDiff,
} from "./safety_support.ts";
import {
  assertNoCrashInside,
  assertSurvived,
  hasProgram,
  jsonArgs,
  parsedReport,
  type ReportedFinding,
  RUN_LIMIT_MS,
  withinMs,
  WITHOUT_DAC_OVERRIDE,
} from "./hostile_support.ts";

const HAS_STRACE = hasProgram("strace");

function run(prefix: string[], args: string[], store: TestStore) {
  return runCli(args, {
    prefix,
    timeoutMs: RUN_LIMIT_MS,
    env: {
      HOME: join(store.root, "home"),
      HERMES_HOME: store.hermesHome,
    },
  });
}

/** Repairs the store (with state.db) behind `prefix`; checks it survived. */
async function repairWith(
  prefix: string[],
  store: TestStore,
  codes: ReadonlySet<number>,
  context = "",
) {
  const r = await run(prefix, [
    "repair",
    "--server-stopped",
    ...dirArgs(store),
    "--format",
    "json",
  ], store);
  assertSurvived(r, codes, context);
  const report = parsedReport(r);
  assertNoCrashInside(report, context);
  return report;
}

function unreadable(findings: ReportedFinding[], path: string) {
  return findings.find((f) =>
    f.kind === "unreadable_file" && f.paths.includes(path)
  );
}

/** Creates a character device (as /dev/null) at `path`; false when not allowed. */
async function mknod(path: string, type: "c" | "b", major: number) {
  const out = await new Deno.Command("mknod", {
    args: [path, type, String(major), "3"],
    stdout: "null",
    stderr: "null",
  }).output().catch(() => null);
  return out?.success ?? false;
}

/** Leaves a unix socket file at `path`; false without python3. */
async function mksock(path: string): Promise<boolean> {
  const out = await new Deno.Command("python3", {
    args: [
      "-c",
      "import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])",
      path,
    ],
    stdout: "null",
    stderr: "null",
  }).output().catch(() => null);
  return out?.success ?? false;
}

async function mkfifo(path: string): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const out = await new Deno.Command("mkfifo", { args: [path] }).output();
  assert.ok(out.success, `mkfifo ${path}`);
}

Deno.test("hostile files: FIFOs, sockets and devices named like store files are reported, never opened, and the run goes on", async () => {
  await withStore(async (store) => {
    await buildDamagedStore(store);
    // (A tombstone that cannot be read blocks every restore, so it is a
    // directory in the next test instead.)
    const fifos = [
      "fifo.json",
      "fifobak.json.bak",
      "_turn_journal/healthy.jsonl",
      "_index.json",
      "fifo.tmp.1.2",
    ];
    await store.sidecar("fifobak", { messages: 2 });
    await Deno.remove(store.path("_index.json"));
    for (const name of fifos) await mkfifo(store.path(name));
    await makeOld(store, "fifo.tmp.1.2", STALE_AGE_MS);
    // Sockets made by python3 (a listening socket in Deno needs --allow-net).
    const sockets: string[] = [];
    for (const name of ["sock.json", "sockbak.json.bak"]) {
      if (await mksock(store.path(name))) sockets.push(name);
    }
    const devices: string[] = [];
    if (await mknod(store.path("dev.json"), "c", 1)) {
      devices.push("dev.json");
      await mknod(store.path("devbak.json.bak"), "c", 1);
      devices.push("devbak.json.bak");
      await mknod(store.path("_turn_journal/pending.jsonl.x"), "c", 1);
    }
    const special = [...fifos, ...sockets, ...devices];
    // A writer that blocks until someone opens the FIFO for reading: if
    // hermes-fsck ever opened it, the writer would get through and exit.
    const writer = new Deno.Command("sh", {
      args: ["-c", `echo opened > '${store.path("fifo.json")}'`],
      stdout: "null",
      stderr: "null",
    }).spawn();
    let writerDone = false;
    const writerStatus = writer.status.then((s) => {
      writerDone = true;
      return s;
    });
    try {
      for (const command of ["audit", "repair"]) {
        const trace = join(store.root, `${command}.strace`);
        const prefix = HAS_STRACE
          ? [
            "strace",
            "-f",
            "-qq",
            "-e",
            "trace=open,openat,openat2",
            "-o",
            trace,
          ]
          : [];
        const r = await withinMs(60_000, command, () =>
          run(prefix, [
            command,
            "--server-stopped",
            ...dirArgs(store),
            "--format",
            "json",
          ], store));
        assertSurvived(r, new Set([4, 5]), command);
        const report = parsedReport(r);
        assertNoCrashInside(report, command);
        const findings = command === "repair"
          ? report.repair!.before.findings
          : report.findings;
        for (const name of special) {
          if (name.endsWith(".tmp.1.2")) continue; // a temp: temp-files' business
          const finding = unreadable(findings, name);
          assert.ok(finding, `${command}: ${name} not reported`);
          assert.match(
            finding.message,
            /is a (FIFO|socket|character device), not a regular file; move it out of the session dir/,
          );
          assert.ok(finding.message.startsWith(name), finding.message);
        }
        if (HAS_STRACE) {
          const log = await Deno.readTextFile(trace);
          // The trace sees the reads of the regular files.
          assert.ok(
            log.includes(`"${store.path("healthy.json")}"`),
            "no trace",
          );
          for (const name of special) {
            assert.ok(
              !log.includes(`"${store.path(name)}"`),
              `${command} opened ${name}:\n${
                log.split("\n").filter((l) => l.includes(name)).join("\n")
              }`,
            );
          }
        }
        // The run went on: the repairable damage of the store is repaired.
        if (command === "repair") {
          const applied = report.repair!.actions.filter((a) =>
            a.status === "applied"
          );
          assert.ok(
            applied.length >= 4,
            JSON.stringify(report.repair!.actions),
          );
          const temp = report.repair!.actions.find((a) =>
            a.actions.some((x) => x.path === "fifo.tmp.1.2")
          );
          if (temp) assert.notEqual(temp.status, "applied");
        }
      }
      assert.equal(writerDone, false, "a FIFO was opened for reading");
      for (const name of special) {
        const info = await Deno.lstat(store.path(name));
        assert.ok(!info.isFile, `${name} was replaced`);
      }
    } finally {
      // Release the writer: open the FIFO for reading ourselves.
      const reader = await Deno.open(store.path("fifo.json"), { read: true });
      await reader.readable.cancel().catch(() => {});
      await writerStatus;
    }
  });
});

/** Directories where store files belong (a tombstone among them). */
const DIRECTORIES = [
  "x.json",
  "dirbak.json.bak",
  "orphan.json.bak",
  "_index.json",
  "_deleted_webui_sessions.json",
  "_turn_journal/good.jsonl",
];

Deno.test("hostile files: directories named like store files are reported and left alone", async () => {
  await withStore(async (store) => {
    await store.sidecar("good", { messages: 2 });
    await store.sidecar("dirbak", { messages: 2 });
    // A directory takes the place of the index the saves wrote.
    await Deno.remove(store.path("_index.json"));
    for (const name of DIRECTORIES) {
      await Deno.mkdir(store.path(name), { recursive: true });
      await Deno.writeTextFile(store.path(`${name}/inside`), "keep me");
    }
    await Deno.mkdir(store.path("good.tmp.1.2"));
    await makeOld(store, "good.tmp.1.2", STALE_AGE_MS);
    const before = await treeBytes(store.sessionDir);
    const r = await run([], jsonArgs("repair", store.sessionDir), store);
    assertSurvived(r, new Set([4]));
    const report = parsedReport(r);
    assertNoCrashInside(report);
    for (const name of DIRECTORIES) {
      const finding = unreadable(report.findings, name);
      assert.ok(finding, `${name} not reported`);
      assert.match(finding.message, /is a directory, not a regular file/);
    }
    assert.deepEqual(
      treeDiff(before, await treeBytes(store.sessionDir, { storeOnly: true })),
      [],
    );
  });
});

Deno.test("hostile files: symlinks out of the store or dangling are reported and never followed for a write", async () => {
  await withStore(async (store) => {
    await buildDamagedStore(store);
    // Everything outside the session dir: a sibling dir of targets, and the
    // store's parent, which must not change either.
    const outside = join(store.root, "outside");
    await Deno.mkdir(join(outside, "journals"), { recursive: true });
    const victim = JSON.stringify({
      session_id: "victim",
      messages: makeMessages(2, "outside"),
    });
    for (const name of ["a.json", "b.json.bak", "index.json", "tomb.json"]) {
      await Deno.writeTextFile(join(outside, name), victim);
    }
    await Deno.writeTextFile(
      join(outside, "journals", "linked.jsonl"),
      JSON.stringify(submittedEvent("linked", "t1", "outside turn")) + "\n",
    );
    await store.backup("linked", { messages: 9 });
    await Deno.symlink(join(outside, "a.json"), store.path("linked.json"));
    await store.sidecar("linkbak", { messages: 1 });
    await Deno.symlink(
      join(outside, "b.json.bak"),
      store.path("linkbak.json.bak"),
    );
    await Deno.symlink(join(outside, "nowhere.json"), store.path("gone.json"));
    await store.backup("gone", { messages: 4 });
    await Deno.symlink(
      join(outside, "nowhere.bak"),
      store.path("dangling.json.bak"),
    );
    await Deno.remove(store.path("_index.json"));
    await Deno.symlink(join(outside, "index.json"), store.path("_index.json"));
    await Deno.symlink(
      join(outside, "tomb.json"),
      store.path("_deleted_webui_sessions.json"),
    );
    await Deno.symlink(
      join(outside, "journals", "linked.jsonl"),
      store.path("_turn_journal/linked.jsonl"),
    );
    const parent = dirname(store.root);
    const sibling = `${store.root}-sibling`;
    await Deno.mkdir(sibling);
    await Deno.writeTextFile(join(sibling, "keep.json"), victim);
    try {
      const outsideBefore = await treeBytes(outside);
      const siblingBefore = await treeBytes(sibling);
      const parentBefore = await parentNames(parent, store.root, sibling);
      const linksBefore = await treeBytes(store.sessionDir);
      const report = await repairWith([], store, new Set([5]));
      assert.deepEqual(treeDiff(outsideBefore, await treeBytes(outside)), []);
      assert.deepEqual(treeDiff(siblingBefore, await treeBytes(sibling)), []);
      assert.deepEqual(
        await parentNames(parent, store.root, sibling),
        parentBefore,
      );
      const links = [
        "linked.json",
        "linkbak.json.bak",
        "gone.json",
        "dangling.json.bak",
        "_index.json",
        "_deleted_webui_sessions.json",
        "_turn_journal/linked.jsonl",
      ];
      const after = await treeBytes(store.sessionDir);
      for (const name of links) {
        assert.equal(after.get(name), linksBefore.get(name), `${name} changed`);
        const finding = unreadable(report.repair!.before.findings, name);
        assert.ok(finding, `${name} not reported`);
        assert.match(
          finding.message,
          /is a symbolic link, which hermes-fsck does not follow; put the file itself in place of the link/,
        );
      }
      // The rest of the store was repaired (but nothing resurrected: the
      // tombstone is a link, so deleted sessions cannot be told apart; a
      // shrunken live sidecar is no resurrection, its live file beats any
      // tombstone entry).
      const applied = report.repair!.actions.filter((a) =>
        a.status === "applied"
      ).map((a) => `${a.repair} ${a.sessionId}`);
      assert.deepEqual(applied, [
        "restore_from_bak shrunk",
        "recover_pending_turn pending",
      ]);
      assert.equal(after.has("orphan.json"), false);
      assert.equal(after.has("fromdb.json"), false);
      assert.ok(
        report.repair!.before.findings.some((f) =>
          f.kind === "tombstone_unreadable"
        ),
      );
    } finally {
      await Deno.remove(sibling, { recursive: true });
    }
  });
});

Deno.test("hostile files: a symlinked _hermes_fsck or runs dir is refused: no record or quarantine leaves the store", async () => {
  for (const planted of ["_hermes_fsck", "_hermes_fsck/runs"]) {
    await withStore(async (store) => {
      await buildDamagedStore(store);
      const outside = join(store.root, "outside");
      await Deno.mkdir(outside);
      await Deno.mkdir(store.path(dirname(planted)), { recursive: true });
      await Deno.symlink(outside, store.path(planted));
      const before = await treeBytes(store.sessionDir);
      const report = await repairWith([], store, new Set([4]), planted);
      // Nothing was applied, nothing left the store, the reason is given.
      assert.deepEqual([...Deno.readDirSync(outside)], [], planted);
      assert.deepEqual(
        treeDiff(before, await treeBytes(store.sessionDir)),
        [],
        planted,
      );
      const actions = report.repair!.actions;
      assert.ok(actions.length > 0);
      for (const a of actions) {
        assert.equal(a.status, "skipped", JSON.stringify(a));
        assert.match(
          a.detail ?? "",
          new RegExp(
            `refused to keep the run's records in ${
              store.path(planted).replaceAll("/", "\\/")
            }: it is a symlink; move it out of the session dir`,
          ),
        );
      }
      // runs and undo never read or delete through the link either.
      const runs = await run([], [
        "runs",
        "--session-dir",
        store.sessionDir,
        "--prune",
        "--keep",
        "0",
      ], store);
      // ... and say so (problems remain: exit 4).
      assertSurvived(runs, new Set([4]), planted);
      assert.match(
        runs.stdout,
        /^invalid _hermes_fsck\/runs is not a plain directory/m,
        planted,
      );
      assert.deepEqual([...Deno.readDirSync(outside)], [], planted);
    });
  }
});

Deno.test({
  name:
    "hostile files: files the process may not read (EACCES) are reported and the run goes on",
  ignore: WITHOUT_DAC_OVERRIDE === null,
  fn: async () => {
    await withStore(async (store) => {
      await buildDamagedStore(store);
      await store.sidecar("locked", { messages: 2 });
      await store.backup("lockedbak", { messages: 3 });
      await store.sidecar("pair", { messages: 2 });
      await store.backup("pair", { messages: 1 });
      await store.journal("locked", [
        submittedEvent("locked", "t1", "in a journal no one may read"),
      ]);
      const denied = [
        "locked.json",
        "lockedbak.json.bak",
        "pair.json.bak",
        "_turn_journal/locked.jsonl",
        "_index.json",
      ];
      for (const name of denied) await Deno.chmod(store.path(name), 0o000);
      const report = await repairWith(
        WITHOUT_DAC_OVERRIDE!,
        store,
        new Set([5]),
      );
      for (const name of denied) {
        const finding = unreadable(report.repair!.before.findings, name);
        assert.ok(finding, `${name} not reported`);
        assert.match(
          finding.message,
          /cannot be read: permission denied; make it readable to the user running hermes-fsck/,
        );
      }
      // The run went on: the other sessions were repaired.
      assert.ok(
        report.repair!.actions.some((a) =>
          a.repair === "restore_from_bak" && a.status === "applied"
        ),
        JSON.stringify(report.repair!.actions),
      );
      for (const name of denied) {
        assert.equal((await Deno.stat(store.path(name))).mode! & 0o777, 0);
      }

      // state.db and the session dir itself.
      await Deno.chmod(store.stateDbPath, 0o000);
      const noDb = await run(WITHOUT_DAC_OVERRIDE!, [
        "audit",
        ...dirArgs(store),
      ], store);
      assertSurvived(noDb, new Set([4]));
      assert.match(
        noDb.stderr,
        new RegExp(
          `state\\.db ${store.stateDbPath} cannot be read: permission denied; fix its permissions: make it readable to the user running hermes-fsck; checked without it`,
        ),
      );
      await Deno.chmod(store.sessionDir, 0o000);
      try {
        const noDir = await run(WITHOUT_DAC_OVERRIDE!, [
          "audit",
          ...dirArgs(store),
        ], store);
        assertSurvived(noDir, new Set([8]));
        assert.match(
          noDir.stderr,
          new RegExp(
            `session dir ${store.sessionDir} cannot be listed .*; run as a user who can read it \\[exit 8\\]`,
          ),
        );
      } finally {
        await Deno.chmod(store.sessionDir, 0o755);
      }
    });
  },
});

Deno.test("hostile files: empty store files each get their finding", async () => {
  await withStore(async (store) => {
    await store.sidecar("good", { messages: 2 });
    for (
      const name of [
        "empty.json",
        "good.json.bak",
        "orphan.json.bak",
        "_index.json",
        "_deleted_webui_sessions.json",
        "_turn_journal/good.jsonl",
      ]
    ) {
      await store.writeRaw(name, "");
    }
    const report = await audit(store);
    const on = (path: string) =>
      report.findings.filter((f) => f.paths.includes(path)).map((f) => [
        f.kind,
        f.message,
      ]);
    const expected: [string, string, RegExp][] = [
      ["empty.json", "malformed_live", /empty\.json is empty/],
      ["good.json.bak", "malformed_backup", /good\.json\.bak is empty/],
      [
        "orphan.json.bak",
        "malformed_orphan_backup",
        /orphan\.json\.bak is empty/,
      ],
      ["_index.json", "index_unparsable", /_index\.json is empty/],
      [
        "_deleted_webui_sessions.json",
        "tombstone_unreadable",
        /_deleted_webui_sessions\.json is empty/,
      ],
    ];
    for (const [path, kind, message] of expected) {
      const found = on(path).find(([k]) => k === kind);
      assert.ok(found, `${path}: ${JSON.stringify(on(path))}`);
      assert.match(found[1], message);
    }
    // An empty journal is an empty journal: nothing to report.
    assert.deepEqual(on("_turn_journal/good.jsonl"), []);
    // An empty state.db is an empty database to SQLite: no tables.
    await Deno.writeFile(store.stateDbPath, new Uint8Array());
    const withDb = await repair(store, { withStateDb: true });
    assert.ok(
      withDb.findings.some((f) => f.kind === "state_db_old_schema"),
      withDb.findings.map((f) => f.kind).join(),
    );
    assert.deepEqual((await Deno.stat(store.stateDbPath)).size, 0);
  });
});

Deno.test("hostile files: files of 2 GB and more are reported without being read, under the --max-file-size flag", async () => {
  await withStore(async (store) => {
    await store.sidecar("good", { messages: 2 });
    await store.sidecar("small", { messages: 60 });
    const huge = [
      "huge.json",
      "good.json.bak",
      "orphan.json.bak",
      "_index.json",
      "_deleted_webui_sessions.json",
      "_turn_journal/good.jsonl",
    ];
    for (const name of huge) {
      await Deno.mkdir(dirname(store.path(name)), { recursive: true });
      const file = await Deno.open(store.path(name), {
        write: true,
        create: true,
      });
      await file.truncate(2 * 1024 ** 3 + 1); // sparse: no disk, no time
      file.close();
    }
    const started = performance.now();
    const r = await run([], jsonArgs("repair", store.sessionDir), store);
    const elapsed = performance.now() - started;
    assert.ok(elapsed < 30_000, `took ${elapsed} ms`);
    assertSurvived(r, new Set([4]));
    const report = parsedReport(r) as ReturnType<typeof parsedReport> & {
      stats: { bytesRead: number };
    };
    assertNoCrashInside(report);
    for (const name of huge) {
      const finding = unreadable(report.repair!.before.findings, name);
      assert.ok(finding, `${name} not reported`);
      assert.match(
        finding.message,
        /is 2147483649 bytes, over the limit of 268435456 \(raise it with --max-file-size\)/,
      );
    }
    // Only the small files were read.
    assert.ok(report.stats.bytesRead < 1 << 20, `${report.stats.bytesRead}`);
    // The limit is a flag: at 2K the 60-message sidecar is too large too.
    const small = await run(
      [],
      jsonArgs("audit", store.sessionDir, "--max-file-size", "2K"),
      store,
    );
    assertSurvived(small, new Set([4]));
    const limited = unreadable(parsedReport(small).findings, "small.json");
    assert.match(limited?.message ?? "", /over the limit of 2048 /);
    assert.equal(
      unreadable(parsedReport(small).findings, "good.json"),
      undefined,
    );
  });
});

/** The names in the store's parent that belong to this test (others run in parallel). */
async function parentNames(
  parent: string,
  ...ours: string[]
): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(parent)) {
    const path = join(parent, entry.name);
    if (ours.some((o) => path === o || path.startsWith(`${o}`))) {
      names.push(entry.name);
    }
  }
  return names.sort();
}
