/**
 * The command-line contract of hermes-fsck (DESIGN.md "CLI contract"): what
 * a user sees on stdout and stderr, the exit code, and what happens to the
 * files of the store. Every run is `cli.ts` as a subprocess with exactly the
 * binary's permissions, on a real store in a temp dir.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { builtinChecks } from "../checks/builtin.ts";
import { kindsOf } from "../core/run/run.ts";
import { TOOL_VERSION } from "../core/run/version.ts";
import {
  type CliResult,
  runCli,
  storeArgs,
  TestStore,
  withStore,
} from "./fixtures.ts";

// ---------------------------------------------------------------- helpers

/**
 * Deno's own cache dir. The CLI runs with HOME in the temp dir; without
 * this, Deno would put a fresh cache there (into the store under test).
 */
let denoDir: Promise<string> | undefined;
function denoCacheDir(): Promise<string> {
  denoDir ??= new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    stdout: "piped",
    stderr: "null",
  }).output().then((out) =>
    JSON.parse(new TextDecoder().decode(out.stdout)).denoDir as string
  );
  return denoDir;
}

/**
 * Runs the CLI with a HOME inside `root` and no inherited Hermes paths, so
 * nothing reads the real home or the environment of the test runner.
 */
async function cli(
  args: string[],
  root: string,
  env: Record<string, string> = {},
): Promise<CliResult> {
  return await runCli(args, {
    env: {
      DENO_DIR: await denoCacheDir(),
      HOME: join(root, "home"),
      HERMES_WEBUI_STATE_DIR: "",
      HERMES_HOME: "",
      ...env,
    },
  });
}

/** An index entry as the server's compact() writes it (the fields checks read). */
function indexEntry(id: string, messages: number): Record<string, unknown> {
  return {
    session_id: id,
    title: `Session ${id}`,
    workspace: "/work/project",
    model: "test-model",
    message_count: messages,
    created_at: 1778450000.5,
    updated_at: 1778458000.5,
    last_message_at: 1778458000 + messages - 1,
    pinned: false,
    archived: false,
    is_streaming: false,
  };
}

/** Two healthy sessions with a matching index. */
async function cleanStore(store: TestStore): Promise<void> {
  await store.sidecar("alpha", { messages: 4 });
  await store.sidecar("beta", { messages: 2 });
  await store.index([indexEntry("alpha", 4), indexEntry("beta", 2)]);
}

/**
 * A damaged store: `aaa` shrank (3 live, 10 in the backup), and the index
 * is empty, so `aaa` and `bbb` are missing from it. Everything repairable.
 */
async function damagedStore(store: TestStore): Promise<void> {
  await store.sidecar("aaa", { messages: 3 });
  await store.backup("aaa", { messages: 10 });
  await store.sidecar("bbb", { messages: 2 });
  await store.index([]);
}

/** Every path (files and dirs) below a root, for "no file was created". */
async function tree(root: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(dir: string) {
    for await (const entry of Deno.readDir(dir)) {
      const path = join(dir, entry.name);
      out.push(path.slice(root.length + 1) + (entry.isDirectory ? "/" : ""));
      if (entry.isDirectory) await walk(path);
    }
  }
  await walk(root);
  return out.sort();
}

function assertNoStackTrace(r: CliResult): void {
  const all = r.stdout + r.stderr;
  assert.doesNotMatch(all, /^ {4}at /m, `stack frame in output:\n${all}`);
  assert.ok(!all.includes("error: Uncaught"), `uncaught error:\n${all}`);
}

function show(r: CliResult): string {
  return `exit ${r.code}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;
}

/** Exit 16, one error line naming `needles`, then the pointer to --help. */
function assertUsageError(r: CliResult, ...needles: string[]): void {
  assert.equal(r.code, 16, show(r));
  assertNoStackTrace(r);
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 2, `stderr should be two lines:\n${r.stderr}`);
  assert.match(lines[0], /^hermes-fsck: /);
  for (const needle of needles) {
    assert.ok(lines[0].includes(needle), `${needle} not named in: ${lines[0]}`);
  }
  assert.match(lines[1], /^Run 'hermes-fsck --help'/);
  assert.equal(r.stdout, "", "a usage error prints no report");
}

/** Exit 8 with one line on stderr naming `path`. */
function assertOperationalError(r: CliResult, ...needles: string[]): void {
  assert.equal(r.code, 8, show(r));
  assertNoStackTrace(r);
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `stderr should be one line:\n${r.stderr}`);
  assert.match(lines[0], /^hermes-fsck: /);
  for (const needle of needles) {
    assert.ok(lines[0].includes(needle), `${needle} not named in: ${lines[0]}`);
  }
  assert.equal(r.stdout, "", "an operational error prints no report");
}

// ----------------------------------------------------- version and help

Deno.test("cli: --version prints the tool version and exits 0", async () => {
  await withStore(async (store) => {
    const r = await cli(["--version"], store.root);
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stdout.split("\n")[0], `hermes-fsck ${TOOL_VERSION}`);
    assert.equal(r.stderr, "");
  });
});

Deno.test("cli: --help lists commands, options and exit codes, exit 0", async () => {
  await withStore(async (store) => {
    for (const args of [["--help"], ["-h"], ["audit", "--help"]]) {
      const r = await cli(args, store.root);
      assert.equal(r.code, 0, `${args.join(" ")}: ${show(r)}`);
      assert.equal(r.stderr, "");
      const help = r.stdout;
      for (const command of ["audit", "repair", "checks", "explain"]) {
        assert.match(help, new RegExp(`hermes-fsck ${command}\\b`), command);
      }
      for (
        const option of [
          "--session-dir",
          "--state-db",
          "--no-state-db",
          "--format",
          "--check",
          "--skip",
          "--max-file-size",
          "--dry-run",
          "--server-stopped",
          "--verbose",
          "--quiet",
          "--version",
          "--help",
        ]
      ) {
        assert.ok(help.includes(option), `help does not list ${option}`);
      }
      assert.match(help, /Exit codes/);
      for (
        const [code, meaning] of [
          ["0", "clean"],
          ["1", "repaired"],
          ["4", "problems remain"],
          ["8", "operational error"],
          ["16", "usage error"],
          ["32", "interrupted"],
        ]
      ) {
        assert.match(help, new RegExp(`\\b${code} ${meaning}`), meaning);
      }
    }
  });
});

Deno.test("cli: no command prints the help and exits 16", async () => {
  await withStore(async (store) => {
    const r = await cli([], store.root);
    assert.equal(r.code, 16, show(r));
    assert.match(r.stdout + r.stderr, /Usage:/);
    assert.match(r.stdout + r.stderr, /hermes-fsck audit/);
    assertNoStackTrace(r);
  });
});

// ---------------------------------------------------------- usage errors

Deno.test("cli: usage errors exit 16 with one line naming the culprit", async () => {
  await withStore(async (store) => {
    await damagedStore(store);
    const before = await store.snapshot();
    const dir = ["--session-dir", store.sessionDir, "--no-state-db"];
    const cases: [string[], string[]][] = [
      [["audit", "--bogus", ...dir], ["--bogus"]],
      [["--bogus"], ["--bogus"]],
      [["frobnicate"], ["frobnicate"]],
      [["audit", "--format", "xml", ...dir], ["--format", "xml"]],
      [["checks", "--format", "webui-json"], ["--format", "webui-json"]],
      [["audit", "--check", "no_such_kind", ...dir], ["no_such_kind"]],
      [["audit", "--skip", "no_such_check", ...dir], ["no_such_check"]],
      [["audit", "--dry-run", ...dir], ["--dry-run"]],
      [
        [
          "audit",
          "--session-dir",
          store.sessionDir,
          "--state-db",
          "X",
          "--no-state-db",
        ],
        ["--state-db", "--no-state-db"],
      ],
      [["audit", "--max-file-size", "lots", ...dir], [
        "--max-file-size",
        "lots",
      ]],
      [["audit", "--format"], ["--format"]],
      [["explain"], ["explain"]],
      [["explain", "no_such_kind"], ["no_such_kind"]],
      [["explain", "shrunken_live", "extra"], ["explain"]],
      [["audit", "extra", ...dir], ["extra"]],
      [["repair", "extra", ...dir], ["extra"]],
      [["checks", "extra"], ["extra"]],
    ];
    const results = await Promise.all(
      cases.map(([args]) => cli(args, store.root)),
    );
    for (let i = 0; i < cases.length; i++) {
      const [args, needles] = cases[i];
      try {
        assertUsageError(results[i], ...needles);
      } catch (error) {
        (error as Error).message = `hermes-fsck ${args.join(" ")}: ${
          (error as Error).message
        }`;
        throw error;
      }
    }
    assert.deepEqual(await store.snapshot(), before, "store changed");
    assert.equal(await store.exists("_hermes_fsck"), false);
  });
});

Deno.test("cli: a usage error is exit 16 even when the default store is missing", async () => {
  // The command line is checked before the store: a bad --check or
  // --max-file-size is a usage error (16), not "session dir does not
  // exist" (8), wherever the store is.
  await withStore(async (store) => {
    const cases: [string[], string[]][] = [
      [["audit", "--check", "no_such_kind"], ["no_such_kind"]],
      [["audit", "--skip", "no_such_check"], ["no_such_check"]],
      [["audit", "--max-file-size", "lots"], ["--max-file-size"]],
      [["repair", "--max-file-size", "0"], ["--max-file-size"]],
    ];
    const results = await Promise.all(
      cases.map(([args]) => cli(args, store.root)),
    );
    const failures: string[] = [];
    cases.forEach(([args, needles], i) => {
      try {
        assertUsageError(results[i], ...needles);
      } catch (error) {
        failures.push(
          `hermes-fsck ${args.join(" ")}: ${(error as Error).message}`,
        );
      }
    });
    assert.deepEqual(failures, [], failures.join("\n\n"));
  });
});

// ---------------------------------------------------- operational errors

Deno.test("cli: operational errors exit 8 with one line naming the path", async () => {
  await withStore(async (store) => {
    await cleanStore(store);
    const missingDir = join(store.root, "no-such-dir");
    const notADir = store.path("alpha.json");
    const missingDb = join(store.root, "no-such.db");
    const [r1, r2, r3, r4] = await Promise.all([
      cli(["audit", "--session-dir", missingDir], store.root),
      cli(["audit", "--session-dir", notADir, "--no-state-db"], store.root),
      cli(
        ["audit", "--session-dir", store.sessionDir, "--state-db", missingDb],
        store.root,
      ),
      cli(
        [
          "repair",
          "--session-dir",
          store.sessionDir,
          "--state-db",
          missingDb,
        ],
        store.root,
      ),
    ]);
    assertOperationalError(r1, missingDir);
    assertOperationalError(r2, notADir);
    assertOperationalError(r3, missingDb);
    assertOperationalError(r4, missingDb);
    assert.equal(await store.exists("_hermes_fsck"), false);
  });
});

Deno.test("cli: a missing default session dir names HERMES_WEBUI_STATE_DIR, exit 8", async () => {
  await withStore(async (store) => {
    const stateDir = join(store.root, "nowhere");
    const r = await cli(["audit"], store.root, {
      HERMES_WEBUI_STATE_DIR: stateDir,
    });
    assertOperationalError(
      r,
      join(stateDir, "sessions"),
      "HERMES_WEBUI_STATE_DIR",
    );
  });
});

// ----------------------------------------------------------- default paths

/** A webui row of state.db with messages and no sidecar. */
function ghostRows() {
  return {
    sessions: [{
      id: "ghost",
      source: "webui",
      title: "Ghost",
      model: "test-model",
      started_at: 1778450000,
      message_count: 2,
    }],
    messages: [
      {
        id: 1,
        session_id: "ghost",
        role: "user",
        content: "hello",
        timestamp: 1778450001,
      },
      {
        id: 2,
        session_id: "ghost",
        role: "assistant",
        content: "hi",
        timestamp: 1778450002,
      },
    ],
  };
}

Deno.test("cli: defaults come from HERMES_WEBUI_STATE_DIR and HERMES_HOME", async () => {
  await withStore(async (store) => {
    await cleanStore(store);
    store.stateDb(ghostRows());
    const env = {
      HERMES_WEBUI_STATE_DIR: join(store.root, "webui"),
      HERMES_HOME: store.hermesHome,
    };
    const r = await cli(["audit", "--format", "json"], store.root, env);
    assert.equal(r.code, 4, show(r));
    const report = JSON.parse(r.stdout);
    assert.equal(report.sessionDir, store.sessionDir);
    assert.equal(report.stateDb.path, store.stateDbPath);
    assert.equal(report.stateDb.status, "ok");
    const kinds = report.findings.map((f: { kind: string }) => f.kind);
    assert.deepEqual(kinds, ["state_db_missing_sidecar"]);
    assert.equal(report.findings[0].sessionId, "ghost");

    // --no-state-db leaves the default state.db out.
    const without = await cli(
      ["audit", "--no-state-db", "--format", "json"],
      store.root,
      env,
    );
    assert.equal(without.code, 0, show(without));
    assert.deepEqual(JSON.parse(without.stdout).findings, []);

    // A HERMES_HOME without state.db: checked without it, no error.
    const emptyHome = join(store.root, "empty-hermes");
    await Deno.mkdir(emptyHome);
    const absent = await cli(["audit"], store.root, {
      ...env,
      HERMES_HOME: emptyHome,
    });
    assert.equal(absent.code, 0, show(absent));
    assert.equal(absent.stderr, "");
    assert.match(absent.stdout, /no problems found/);
    assert.doesNotMatch(absent.stdout, /state_db_missing_sidecar/);
  });
});

Deno.test("cli: without HERMES_* variables the defaults are under ~/.hermes", async () => {
  await withStore(async (store) => {
    await cleanStore(store);
    store.stateDb(ghostRows());
    // Move the store to where Hermes keeps it by default: ~/.hermes.
    const dotHermes = join(store.root, "home", ".hermes");
    await Deno.mkdir(dotHermes, { recursive: true });
    await Deno.rename(join(store.root, "webui"), join(dotHermes, "webui"));
    await Deno.rename(store.stateDbPath, join(dotHermes, "state.db"));
    const r = await cli(["audit", "--format", "json"], store.root);
    assert.equal(r.code, 4, show(r));
    const report = JSON.parse(r.stdout);
    assert.equal(report.sessionDir, join(dotHermes, "webui", "sessions"));
    assert.equal(report.stateDb.path, join(dotHermes, "state.db"));
    assert.deepEqual(
      report.findings.map((f: { kind: string }) => f.kind),
      ["state_db_missing_sidecar"],
    );
  });
});

// ------------------------------------------------------ unreadable state.db

Deno.test("cli: a state.db that is not a database warns once and the run goes on, exit 4", async () => {
  await withStore(async (store) => {
    await damagedStore(store);
    await Deno.writeTextFile(
      store.stateDbPath,
      "this is not an SQLite database, just some text\n".repeat(20),
    );
    const before = await store.snapshot();
    for (
      const args of [
        [...storeArgs(store), "--format", "json"],
        // the same file found through HERMES_HOME
        ["--format", "json"],
      ]
    ) {
      const r = await cli(["audit", ...args], store.root, {
        HERMES_WEBUI_STATE_DIR: join(store.root, "webui"),
        HERMES_HOME: store.hermesHome,
      });
      assert.equal(r.code, 4, show(r));
      assertNoStackTrace(r);
      const lines = r.stderr.trimEnd().split("\n");
      assert.equal(lines.length, 1, `one warning line:\n${r.stderr}`);
      assert.match(lines[0], /warning/);
      assert.ok(lines[0].includes(store.stateDbPath), lines[0]);
      const report = JSON.parse(r.stdout);
      assert.equal(report.exitCode, 4);
      assert.equal(report.stateDb.status, "unreadable");
      const kinds = new Set(
        report.findings.map((f: { kind: string }) => f.kind),
      );
      assert.ok(kinds.has("state_db_unreadable"), [...kinds].join());
      // the other checks still ran
      assert.ok(kinds.has("shrunken_live"), [...kinds].join());
      assert.ok(kinds.has("index_missing_entry"), [...kinds].join());
      const unreadable = report.findings.find((f: { kind: string }) =>
        f.kind === "state_db_unreadable"
      );
      assert.ok(unreadable.paths.includes(store.stateDbPath));
    }
    // --quiet drops the warning, not the finding.
    const quiet = await cli(
      ["audit", ...storeArgs(store), "--quiet"],
      store.root,
    );
    assert.equal(quiet.code, 4, show(quiet));
    assert.equal(quiet.stderr, "");
    assert.match(quiet.stdout, /state_db_unreadable/);
    assert.deepEqual(await store.snapshot(), before);
  });
});

// ------------------------------------------------------------------ audit

Deno.test("cli: audit of a clean store exits 0 and says no problems", async () => {
  await withStore(async (store) => {
    await cleanStore(store);
    const before = await store.snapshot();
    const treeBefore = await tree(store.root);
    const r = await cli(["audit", ...storeArgs(store, false)], store.root);
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stderr, "");
    assert.match(r.stdout, /2 sessions checked, no problems found/);
    assert.match(r.stdout, /The store is clean/);
    assert.deepEqual(await store.snapshot(), before);
    assert.deepEqual(await tree(store.root), treeBefore);
  });
});

Deno.test("cli: audit of a damaged store exits 4, groups findings by kind, changes nothing", async () => {
  await withStore(async (store) => {
    await damagedStore(store);
    const before = await store.snapshot();
    const treeBefore = await tree(store.root);
    const r = await cli(["audit", ...storeArgs(store, false)], store.root);
    assert.equal(r.code, 4, show(r));
    assert.equal(r.stderr, "");
    const out = r.stdout;
    assert.match(out, /2 sessions checked: 3 repairable, 0 unsafe to repair/);
    // One header per kind with its count, then its findings under it.
    assert.match(
      out,
      /^shrunken_live \(1, repairable; repair: restore_from_bak\)$/m,
    );
    assert.match(
      out,
      /^index_missing_entry \(2, repairable; repair: rebuild_index\)$/m,
    );
    const shrunkHeader = out.indexOf("shrunken_live (");
    const indexHeader = out.indexOf("index_missing_entry (");
    const shrunkLine = out.indexOf("  - aaa.json has 3 messages");
    assert.ok(shrunkLine > shrunkHeader && shrunkLine < indexHeader, out);
    assert.match(out.slice(indexHeader), /\n {2}- aaa\.json is not listed/);
    assert.match(out.slice(indexHeader), /\n {2}- bbb\.json is not listed/);
    assert.equal(out.match(/^shrunken_live \(/gm)?.length, 1, "one group");
    assert.match(out, /Next: run `hermes-fsck repair`/);

    // audit changes no byte and creates no file, in any format.
    for (const format of ["json", "webui-json"]) {
      const f = await cli(
        ["audit", ...storeArgs(store, false), "--format", format],
        store.root,
      );
      assert.equal(f.code, 4, show(f));
    }
    assert.deepEqual(await store.snapshot(), before);
    assert.deepEqual(await tree(store.root), treeBefore);
  });
});

Deno.test("cli: --format json is the versioned report, exitCode = process exit code", async () => {
  await withStore(async (store) => {
    await damagedStore(store);
    const r = await cli(
      ["audit", ...storeArgs(store, false), "--format", "json"],
      store.root,
    );
    assert.equal(r.code, 4, show(r));
    assert.equal(r.stderr, "");
    const report = JSON.parse(r.stdout);
    assert.equal(report.schemaVersion, 1);
    assert.equal(report.tool.name, "hermes-fsck");
    assert.equal(report.tool.version, TOOL_VERSION);
    assert.equal(report.command, "audit");
    assert.equal(report.status, "warn");
    assert.deepEqual(report.summary, {
      sessions: 2,
      repairable: 3,
      unsafe_to_repair: 0,
      info: 0,
    });
    assert.equal(report.exitCode, r.code);
    assert.equal(report.findings.length, 3);
    for (const finding of report.findings) {
      for (const key of ["id", "check", "kind", "category", "severity"]) {
        assert.equal(typeof finding[key], "string", `${key} of a finding`);
      }
      assert.equal(typeof finding.message, "string");
      assert.ok(Array.isArray(finding.paths) && finding.paths.length > 0);
      assert.equal(typeof finding.evidence, "object");
      assert.notEqual(finding.evidence, null);
    }
    const shrunk = report.findings.find((f: { kind: string }) =>
      f.kind === "shrunken_live"
    );
    assert.equal(shrunk.check, "shrunken-live");
    assert.equal(shrunk.category, "repairable");
    assert.equal(shrunk.repair, "restore_from_bak");
    assert.equal(shrunk.sessionId, "aaa");
    // finding ids are unique
    const ids = report.findings.map((f: { id: string }) => f.id);
    assert.equal(new Set(ids).size, ids.length);

    // The clean case agrees as well.
    await store.index([indexEntry("aaa", 3), indexEntry("bbb", 2)]);
    await store.backup("aaa", { messages: 3 });
    const clean = await cli(
      ["audit", ...storeArgs(store, false), "--format", "json"],
      store.root,
    );
    const cleanReport = JSON.parse(clean.stdout);
    assert.equal(clean.code, 0, show(clean));
    assert.equal(cleanReport.exitCode, clean.code);
    assert.equal(cleanReport.status, "ok");
  });
});

Deno.test("cli: --format webui-json is one line in the server's shape", async () => {
  await withStore(async (store) => {
    await damagedStore(store);
    await store.sidecar("ccc", { messages: 1 });
    const r = await cli(
      ["audit", ...storeArgs(store, false), "--format", "webui-json"],
      store.root,
    );
    assert.equal(r.code, 4, show(r));
    assert.equal(r.stderr, "");
    assert.ok(r.stdout.endsWith("\n"));
    assert.equal(r.stdout.trimEnd().split("\n").length, 1, "one line");
    const audit = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(audit).sort(), ["items", "status", "summary"]);
    assert.deepEqual(Object.keys(audit.summary).sort(), [
      "ok",
      "repairable",
      "unsafe_to_repair",
    ]);
    assert.equal(audit.status, "warn");
    // live sidecars: aaa, bbb, ccc (not _index.json, not the .bak)
    assert.equal(audit.summary.ok, 3);
    assert.equal(audit.summary.repairable, 4);
    assert.equal(audit.summary.unsafe_to_repair, 0);
    assert.equal(audit.items.length, 4);
    for (const item of audit.items) {
      for (
        const key of [
          "session_id",
          "kind",
          "category",
          "recommendation",
          "live_messages",
          "bak_messages",
        ]
      ) {
        assert.ok(key in item, `item lacks ${key}: ${JSON.stringify(item)}`);
      }
    }
    const shrunk = audit.items.find((i: { kind: string }) =>
      i.kind === "shrunken_live"
    );
    assert.deepEqual(shrunk, {
      bak_messages: 10,
      category: "repairable",
      kind: "shrunken_live",
      live_messages: 3,
      recommendation: "restore_from_bak",
      session_id: "aaa",
    });
  });
});

// ----------------------------------------------------------------- repair

Deno.test("cli: repair --dry-run prints the plan and changes nothing, exit 4", async () => {
  await withStore(async (store) => {
    await damagedStore(store);
    const before = await store.snapshot();
    const treeBefore = await tree(store.root);
    const r = await cli(
      ["repair", "--dry-run", ...storeArgs(store, false)],
      store.root,
    );
    assert.equal(r.code, 4, show(r));
    assert.equal(r.stderr, "");
    assert.match(r.stdout, /Plan \(dry run/);
    assert.match(r.stdout, /write aaa\.json, \d+ bytes/);
    assert.match(r.stdout, /write _index\.json, \d+ bytes/);
    assert.match(r.stdout, /restore_from_bak/);
    assert.match(r.stdout, /rebuild_index/);
    assert.deepEqual(await store.snapshot(), before);
    assert.deepEqual(await tree(store.root), treeBefore);
    assert.equal(await store.exists("_hermes_fsck"), false);

    // The JSON of a dry run says so and agrees on the exit code.
    const json = await cli(
      ["repair", "--dry-run", ...storeArgs(store, false), "--format", "json"],
      store.root,
    );
    assert.equal(json.code, 4, show(json));
    const report = JSON.parse(json.stdout);
    assert.equal(report.command, "repair");
    assert.equal(report.dryRun, true);
    assert.equal(report.exitCode, 4);
    assert.deepEqual(await store.snapshot(), before);
    assert.equal(await store.exists("_hermes_fsck"), false);
  });
});

Deno.test("cli: repair fixes everything (exit 1), then audit is clean and a second repair changes nothing", async () => {
  await withStore(async (store) => {
    await damagedStore(store);
    const bak = await Deno.readTextFile(store.path("aaa.json.bak"));
    const r = await cli(["repair", ...storeArgs(store, false)], store.root);
    assert.equal(r.code, 1, show(r));
    assert.equal(r.stderr, "");
    const run = /Run (\S+): replaced files are kept in (\S+)\/ /.exec(r.stdout);
    assert.ok(run, `no run id / quarantine dir in:\n${r.stdout}`);
    const [, runId, runDir] = run;
    assert.ok(runDir.includes(runId), `${runDir} should name ${runId}`);
    assert.match(runDir, /^_hermes_fsck\//);
    const info = await Deno.stat(join(store.sessionDir, runDir));
    assert.ok(info.isDirectory, `${runDir} is not a directory`);
    assert.match(r.stdout, /The store is clean now/);
    assert.equal(await Deno.readTextFile(store.path("aaa.json")), bak);

    const audit = await cli(["audit", ...storeArgs(store, false)], store.root);
    assert.equal(audit.code, 0, show(audit));
    // The restored sidecar equals its .bak now, which the audit mentions as
    // info (a redundant backup); no problem is left.
    assert.match(audit.stdout, /0 repairable, 0 unsafe to repair/);
    assert.match(audit.stdout, /The store is clean\./);

    const before = await store.snapshot();
    const treeBefore = await tree(store.root);
    const again = await cli(["repair", ...storeArgs(store, false)], store.root);
    assert.equal(again.code, 0, show(again));
    assert.equal(again.stderr, "");
    assert.deepEqual(await store.snapshot(), before);
    assert.deepEqual(await tree(store.root), treeBefore);
  });
});

Deno.test("cli: repair exits 5 when it repaired something and an unsafe finding remains", async () => {
  await withStore(async (store) => {
    await store.sidecar("aaa", { messages: 3 });
    await store.backup("aaa", { messages: 10 });
    await store.index([indexEntry("aaa", 3)]);
    await store.writeRaw("zzz.json.bak", '{"session_id": "zzz", "messages": [');
    const r = await cli(["repair", ...storeArgs(store, false)], store.root);
    assert.equal(r.code, 5, show(r));
    assert.match(r.stdout, /applied\s+restore_from_bak/);
    assert.match(r.stdout, /^malformed_orphan_backup \(1, unsafe to repair/m);
    assert.match(r.stdout, /manual review/);
    const audit = await cli(["audit", ...storeArgs(store, false)], store.root);
    assert.equal(audit.code, 4, show(audit));
    assert.doesNotMatch(audit.stdout, /shrunken_live/);
    assert.match(audit.stdout, /malformed_orphan_backup/);
  });
});

// -------------------------------------------------- selection and verbosity

Deno.test("cli: --check and --skip select what is reported", async () => {
  await withStore(async (store) => {
    await damagedStore(store);
    const [only, onlyJson, skip, skipKind] = await Promise.all([
      cli(
        ["audit", ...storeArgs(store, false), "--check", "shrunken_live"],
        store.root,
      ),
      cli(
        [
          "audit",
          ...storeArgs(store, false),
          "--check",
          "shrunken_live",
          "--format",
          "json",
        ],
        store.root,
      ),
      cli(
        ["audit", ...storeArgs(store, false), "--skip", "index-coverage"],
        store.root,
      ),
      cli(
        ["audit", ...storeArgs(store, false), "--skip", "index_missing_entry"],
        store.root,
      ),
    ]);
    assert.equal(only.code, 4, show(only));
    assert.match(only.stdout, /^shrunken_live \(1/m);
    assert.doesNotMatch(only.stdout, /index_missing/);
    const kinds = JSON.parse(onlyJson.stdout).findings.map((
      f: { kind: string },
    ) => f.kind);
    assert.deepEqual(kinds, ["shrunken_live"]);

    for (const r of [skip, skipKind]) {
      assert.equal(r.code, 4, show(r));
      assert.doesNotMatch(r.stdout, /index_missing/);
      assert.match(r.stdout, /^shrunken_live \(1/m);
    }

    // Skipping what is wrong leaves a clean store: exit 0.
    const clean = await cli(
      [
        "audit",
        ...storeArgs(store, false),
        "--skip",
        "index-coverage",
        "--skip",
        "shrunken-live",
      ],
      store.root,
    );
    assert.equal(clean.code, 0, show(clean));
  });
});

Deno.test("cli: text shows five findings per kind, --verbose all of them", async () => {
  await withStore(async (store) => {
    for (let i = 1; i <= 7; i++) await store.sidecar(`s${i}`, { messages: 2 });
    await store.index([]);
    const [short, verbose] = await Promise.all([
      cli(["audit", ...storeArgs(store, false)], store.root),
      cli(["audit", ...storeArgs(store, false), "--verbose"], store.root),
    ]);
    const listed = (out: string) =>
      out.split("\n").filter((l) => /^ {2}- s\d\.json is not listed/.test(l))
        .length;
    assert.equal(short.code, 4, show(short));
    assert.match(short.stdout, /^index_missing_entry \(7,/m);
    assert.equal(listed(short.stdout), 5, short.stdout);
    assert.match(short.stdout, /\.\.\. and 2 more/);
    assert.equal(verbose.code, 4, show(verbose));
    assert.equal(listed(verbose.stdout), 7, verbose.stdout);
    assert.doesNotMatch(verbose.stdout, /\.\.\. and \d+ more/);
  });
});

// ------------------------------------------------------- checks and explain

Deno.test("cli: checks lists every check id and kind", async () => {
  await withStore(async (store) => {
    const [text, json] = await Promise.all([
      cli(["checks"], store.root),
      cli(["checks", "--format", "json"], store.root),
    ]);
    assert.equal(text.code, 0, show(text));
    assert.equal(text.stderr, "");
    for (const check of builtinChecks) {
      assert.match(text.stdout, new RegExp(`^${check.id}: `, "m"), check.id);
      for (const kind of check.kinds) {
        assert.ok(
          text.stdout.includes(`- ${kind.kind} (${kind.category}`),
          kind.kind,
        );
      }
    }
    for (
      const repair of [
        "restore_from_bak",
        "rebuild_index",
        "materialize_from_state_db",
        "recover_pending_turn",
      ]
    ) {
      assert.ok(text.stdout.includes(repair), repair);
    }

    assert.equal(json.code, 0, show(json));
    const listing = JSON.parse(json.stdout);
    assert.deepEqual(
      listing.checks.map((c: { id: string }) => c.id),
      builtinChecks.map((c) => c.id),
    );
    const jsonKinds = listing.checks.flatMap((
      c: { kinds: { kind: string }[] },
    ) => c.kinds.map((k) => k.kind));
    for (const check of builtinChecks) {
      for (const kind of check.kinds) {
        assert.ok(jsonKinds.includes(kind.kind), kind.kind);
      }
    }
    assert.ok(
      listing.repairs.some((r: { id: string }) => r.id === "restore_from_bak"),
    );
  });
});

Deno.test("cli: explain tells what a kind means and what a repair does", async () => {
  await withStore(async (store) => {
    const [kind, repair, info] = await Promise.all([
      cli(["explain", "shrunken_live"], store.root),
      cli(["explain", "restore_from_bak"], store.root),
      cli(["explain", "intentional_shrink_kept"], store.root),
    ]);
    assert.equal(kind.code, 0, show(kind));
    assert.equal(kind.stderr, "");
    assert.match(kind.stdout, /^shrunken_live: /);
    assert.match(kind.stdout, /Category: repairable/);
    assert.match(kind.stdout, /Repair: restore_from_bak/);
    assert.match(kind.stdout, /\.bak/);
    assert.ok(kind.stdout.split("\n").length > 5, "an explanation follows");

    assert.equal(repair.code, 0, show(repair));
    assert.match(repair.stdout, /^restore_from_bak: /);
    assert.match(repair.stdout, /Fixes: .*shrunken_live/);
    assert.match(repair.stdout, /backup/);

    assert.equal(info.code, 0, show(info));
    assert.match(info.stdout, /Category: info/);

    // Every kind a report can carry can be explained.
    const names = [...kindsOf(builtinChecks).keys()];
    const results = await Promise.all(
      names.map((name) => cli(["explain", name], store.root)),
    );
    names.forEach((name, i) => {
      assert.equal(results[i].code, 0, `${name}: ${show(results[i])}`);
      assert.ok(results[i].stdout.startsWith(`${name}: `), name);
    });
  });
});

// SIGINT/SIGTERM (exit 32) are tested in signals_test.ts, which sends them
// at points it can see from outside (the listener set up, the lock taken,
// the first action records written) on a store big enough to be mid-phase.
