/**
 * External check programs (way 2 of extending): the worked shell and Python
 * examples, `--plugin`, `--plugin-dir` and `$HERMES_FSCK_PLUGIN_DIR`, the
 * stdin document, and every way a plugin can fail, each a `plugin_failed`
 * finding and never a crash. Every run is `cli.ts` as a subprocess with the
 * binary's exact permissions.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { Finding } from "../core/report/finding.ts";
import { PLUGIN_PROTOCOL_VERSION } from "../core/plugins/plugin_protocol.ts";
import { runExternalPlugins } from "../core/plugins/plugin_runner.ts";
import type { Report } from "../core/report/report.ts";
import { validateReport } from "../core/report/report_schema.ts";
import { scanStore } from "../core/scan/snapshot.ts";
import { TOOL_VERSION } from "../core/run/version.ts";
import { builtinChecks } from "../checks/builtin.ts";
import {
  type CliResult,
  runCli,
  storeArgs,
  type TestStore,
  withStore,
} from "./fixtures.ts";
import {
  PYTHON_EXAMPLE,
  repoPath,
  SHELL_EXAMPLE,
  shellPlugin,
  writeExecutable,
} from "./plugin_support.ts";

/** Runs the CLI with a json report and no plugin dir from the environment. */
async function cli(
  store: TestStore,
  args: string[],
  env: Record<string, string> = {},
): Promise<CliResult & { report: Report }> {
  const result = await runCli(
    [...args, ...storeArgs(store, false), "--format", "json"],
    { env: { HERMES_FSCK_PLUGIN_DIR: "", ...env } },
  );
  let report: Report;
  try {
    report = JSON.parse(result.stdout);
  } catch {
    throw new Error(
      `no report (exit ${result.code}):\n${result.stdout}\n${result.stderr}`,
    );
  }
  assert.deepEqual(validateReport(report), [], "the report follows its schema");
  return { ...result, report };
}

function byPlugin(report: Report, plugin: string): Finding[] {
  return report.findings.filter((f) => f.plugin === plugin);
}

function failureOf(report: Report, plugin: string): Finding {
  const failures = byPlugin(report, plugin).filter((f) =>
    f.kind === "plugin_failed"
  );
  assert.equal(failures.length, 1, `one failure of ${plugin}`);
  return failures[0];
}

Deno.test("the shell and Python examples report through --plugin", async () => {
  await withStore(async (store) => {
    await store.sidecar("big", { messages: 6 });
    await store.sidecar("small", { messages: 2 });
    const plugins = ["--plugin", SHELL_EXAMPLE, "--plugin", PYTHON_EXAMPLE];

    const found = await cli(store, ["audit", ...plugins], {
      HERMES_FSCK_MAX_MESSAGES: "5",
      HERMES_FSCK_MIN_FREE_MB: "999999999",
    });
    const [big] = byPlugin(found.report, "big_sessions.py");
    assert.equal(big.kind, "big_session");
    assert.equal(big.check, "plugin:big_sessions.py");
    assert.equal(big.category, "info");
    assert.equal(big.severity, "warning");
    assert.equal(big.sessionId, "big");
    assert.deepEqual(big.paths, ["big.json"], "made relative to the store");
    assert.deepEqual(big.evidence, { liveMessages: 6, limit: 5 });
    const [disk] = byPlugin(found.report, "low_disk_space.sh");
    assert.equal(disk.kind, "low_disk_space");
    assert.equal(disk.category, "unsafe_to_repair");
    assert.match(disk.message, /MiB are free on the disk of the session dir/);
    assert.equal(found.report.summary.unsafe_to_repair, 1);
    assert.equal(
      found.code,
      4,
      "an unsafe plugin finding keeps the server off",
    );

    const quiet = await cli(store, ["audit", ...plugins], {
      HERMES_FSCK_MAX_MESSAGES: "100",
      HERMES_FSCK_MIN_FREE_MB: "0",
    });
    assert.deepEqual(quiet.report.findings, []);
    assert.equal(quiet.code, 0);

    // The text report names the plugin beside the kind.
    const text = await runCli(
      ["audit", "--plugin", PYTHON_EXAMPLE, ...storeArgs(store, false)],
      { env: { HERMES_FSCK_MAX_MESSAGES: "5", HERMES_FSCK_PLUGIN_DIR: "" } },
    );
    assert.match(
      text.stdout,
      /big_session \(1, info; no action needed; plugin big_sessions\.py\)/,
    );
  });
});

Deno.test("a plugin dir runs its executables; the environment names the default", async () => {
  await withStore(async (store) => {
    await store.sidecar("big", { messages: 6 });
    const dir = join(store.root, "plugins");
    await Deno.mkdir(dir);
    await Deno.copyFile(PYTHON_EXAMPLE, join(dir, "big_sessions.py"));
    await Deno.chmod(join(dir, "big_sessions.py"), 0o755);
    await writeExecutable(
      dir,
      "untitled.sh",
      shellPlugin([
        '{"kind":"dir_plugin_ran","category":"info","message":"It ran."}',
      ]),
    );
    await Deno.writeTextFile(join(dir, "README"), "not a plugin\n");
    await writeExecutable(dir, ".hidden", "#!/bin/sh\nexit 1\n");
    const env = { HERMES_FSCK_MAX_MESSAGES: "5" };

    const fromEnv = await cli(store, ["audit"], {
      ...env,
      HERMES_FSCK_PLUGIN_DIR: dir,
    });
    assert.deepEqual(
      fromEnv.report.findings.map((f) => [f.plugin, f.kind]),
      [["big_sessions.py", "big_session"], ["untitled.sh", "dir_plugin_ran"]],
      "plugins run in name order; hidden files and non-executables are left out",
    );
    assert.match(
      fromEnv.stderr,
      /warning: skipped plugin .*README: it is not executable \(chmod \+x it\)/,
    );

    const fromFlag = await cli(store, ["audit", "--plugin-dir", dir], {
      ...env,
      HERMES_FSCK_PLUGIN_DIR: join(store.root, "nowhere"),
    });
    assert.equal(fromFlag.report.findings.length, 2, "--plugin-dir wins");

    const missing = await runCli(["audit", ...storeArgs(store, false)], {
      env: { HERMES_FSCK_PLUGIN_DIR: join(store.root, "nowhere") },
    });
    assert.equal(missing.code, 8);
    assert.match(
      missing.stderr,
      /plugin dir .*nowhere cannot be listed .*check --plugin-dir or HERMES_FSCK_PLUGIN_DIR \[exit 8\]/,
    );
  });
});

Deno.test("a plugin reads the store's paths and versions on stdin", async () => {
  await withStore(async (store) => {
    await store.sidecar("abc", { messages: 2 });
    await store.backup("abc", { messages: 2 });
    await store.backup("lonely", { messages: 1 });
    await store.journal("abc", [{ event: "submitted", turn_id: "t1" }]);
    store.stateDb({ sessions: [{ id: "lonely", source: "webui" }] });
    const dump = join(store.root, "stdin.json");
    const plugin = await writeExecutable(
      store.root,
      "dump.sh",
      `#!/bin/sh\ncat > '${dump}'\n`,
    );
    const result = await runCli([
      "audit",
      "--plugin",
      plugin,
      "--session-dir",
      store.sessionDir,
      "--state-db",
      store.stateDbPath,
    ], { env: { HERMES_FSCK_PLUGIN_DIR: "" } });
    assert.ok(result.code < 8, result.stderr);
    const input = JSON.parse(await Deno.readTextFile(dump));
    assert.equal(input.protocolVersion, PLUGIN_PROTOCOL_VERSION);
    assert.deepEqual(input.tool, {
      name: "hermes-fsck",
      version: TOOL_VERSION,
    });
    assert.equal(input.sessionDir, store.sessionDir);
    assert.deepEqual(input.stateDb, { path: store.stateDbPath, status: "ok" });
    assert.equal(input.serverStopped, false);
    assert.ok(!Number.isNaN(Date.parse(input.now)));
    assert.deepEqual(input.sessions, [{
      sessionId: "abc",
      live: store.path("abc.json"),
      backup: store.path("abc.json.bak"),
      journal: store.path("_turn_journal/abc.jsonl"),
    }, {
      sessionId: "lonely",
      live: null,
      backup: store.path("lonely.json.bak"),
      journal: null,
    }]);
  });
});

Deno.test("a broken plugin is a plugin_failed finding, never a crash", async () => {
  await withStore(async (store) => {
    await store.sidecar("abc", { messages: 2 });
    const dir = join(store.root, "plugins");
    await Deno.mkdir(dir);
    const good = '{"kind":"seen","category":"info","message":"Seen."}';
    await writeExecutable(
      dir,
      "exits.sh",
      shellPlugin([good], "echo 'boom: the disk is gone' >&2; exit 3"),
    );
    await writeExecutable(dir, "killed.sh", shellPlugin([good], "kill -9 $$"));
    // Its child keeps stdout open: the limit must stop both, not wait.
    await writeExecutable(
      dir,
      "hangs.sh",
      shellPlugin([good], "sleep 60 & sleep 60"),
    );
    await writeExecutable(
      dir,
      "garbage.sh",
      shellPlugin([
        "starting up",
        good,
        '{"kind":"x","category":"repairable","message":"m","repair":"rebuild_index"}',
        '{"kind":"shrunken_live","category":"info","message":"m"}',
        '{"kind":"x","category":"info","message":"m","evidence":{"liveMessages":"2"}}',
      ]),
    );
    await writeExecutable(dir, "no_interpreter.sh", "#!/nonexistent/sh\n");
    const started = Date.now();
    const { code, report, stderr } = await cli(
      store,
      ["audit", "--plugin-dir", dir, "--plugin-timeout", "1"],
    );
    assert.ok(Date.now() - started < 20_000, "the time limit held");
    assert.equal(code, 4, stderr);
    assert.doesNotMatch(stderr, /Uncaught|^\s+at /m);

    const exits = failureOf(report, "exits.sh");
    assert.equal(exits.category, "unsafe_to_repair");
    assert.equal(exits.check, "plugin:exits.sh");
    assert.equal(exits.evidence.reason, "exit_code");
    assert.equal(exits.evidence.exitCode, 3);
    assert.match(
      exits.message,
      /^Plugin exits\.sh exited with code 3 \(stderr: "boom: the disk is gone"\)\.$/,
    );
    assert.match(
      stderr,
      /hermes-fsck: plugin exits\.sh: boom: the disk is gone/,
    );

    assert.equal(failureOf(report, "killed.sh").evidence.reason, "crashed");
    assert.equal(failureOf(report, "killed.sh").evidence.signal, "SIGKILL");

    const hangs = failureOf(report, "hangs.sh");
    assert.equal(hangs.evidence.reason, "timeout");
    assert.match(hangs.message, /ran past its time limit of 1 s/);

    const garbage = failureOf(report, "garbage.sh");
    assert.equal(garbage.evidence.reason, "invalid_line");
    assert.equal(garbage.evidence.invalidLines, 4);
    assert.deepEqual(garbage.evidence.lines, [1, 3, 4, 5]);
    assert.match(
      garbage.message,
      /printed 4 invalid line\(s\); line 1: not JSON/,
    );

    assert.equal(
      failureOf(report, "no_interpreter.sh").evidence.reason,
      "spawn_failed",
    );

    // What a failing plugin printed correctly is kept, tagged with it.
    for (const plugin of ["exits.sh", "killed.sh", "hangs.sh", "garbage.sh"]) {
      assert.deepEqual(
        byPlugin(report, plugin).filter((f) => f.kind === "seen").length,
        1,
        `${plugin}'s valid line is kept`,
      );
    }
  });
});

Deno.test("invalid lines say why: a plugin cannot repair or take a built-in kind", async () => {
  await withStore(async (store) => {
    const plugin = await writeExecutable(
      store.root,
      "repairs.sh",
      shellPlugin([
        '{"kind":"x","category":"repairable","message":"m","repair":"rebuild_index"}',
      ]),
    );
    const { report } = await cli(store, ["audit", "--plugin", plugin]);
    const failure = failureOf(report, "repairs.sh");
    assert.match(
      String(failure.evidence.problem),
      /\$\.category: must be one of/,
    );
    assert.match(
      String(failure.evidence.problem),
      /\$\.repair: is not allowed/,
    );
    assert.match(
      String(failure.evidence.problem),
      /plugins report and never repair/,
    );

    const builtin = await writeExecutable(
      store.root,
      "builtin.sh",
      shellPlugin(['{"kind":"shrunken_live","category":"info","message":"m"}']),
    );
    // Even when its check is not selected.
    const taken = await cli(store, [
      "audit",
      "--plugin",
      builtin,
      "--check",
      "index-coverage",
    ]);
    assert.match(
      String(failureOf(taken.report, "builtin.sh").evidence.problem),
      /"shrunken_live" is a built-in kind/,
    );
  });
});

Deno.test("a missing or non-executable --plugin is exit 8; a bad timeout is exit 16", async () => {
  await withStore(async (store) => {
    const missing = await runCli([
      "audit",
      "--plugin",
      join(store.root, "nope.sh"),
      ...storeArgs(store, false),
    ]);
    assert.equal(missing.code, 8);
    assert.match(missing.stderr, /plugin .*nope\.sh does not exist \[exit 8\]/);

    const plain = join(store.root, "plain.sh");
    await Deno.writeTextFile(plain, "#!/bin/sh\n");
    const notExecutable = await runCli([
      "audit",
      "--plugin",
      plain,
      ...storeArgs(store, false),
    ]);
    assert.equal(notExecutable.code, 8);
    assert.match(notExecutable.stderr, /is not executable \(chmod \+x it\)/);

    const badTimeout = await runCli([
      "audit",
      "--plugin-timeout",
      "soon",
      ...storeArgs(store, false),
    ]);
    assert.equal(badTimeout.code, 16);
    assert.match(
      badTimeout.stderr,
      /--plugin-timeout must be a number of seconds/,
    );

    const wrongCommand = await runCli(["checks", "--plugin", plain]);
    assert.equal(wrongCommand.code, 16);
  });
});

Deno.test("plugins never write: repair fixes built-in findings and leaves plugin ones", async () => {
  await withStore(async (store) => {
    await store.sidecar("abc", { messages: 2 });
    await store.backup("abc", { messages: 9 });
    const runs = join(store.root, "runs.log");
    const plugin = await writeExecutable(
      store.root,
      "watch.sh",
      shellPlugin([
        '{"kind":"needs_a_look","category":"unsafe_to_repair","sessionId":"abc","paths":["abc.json"],"message":"abc needs a look."}',
      ], `echo run >> '${runs}'`),
    );
    const { code, report } = await cli(store, [
      "repair",
      "--plugin",
      plugin,
    ]);
    assert.equal(code, 5, "repaired, and the plugin's finding remains");
    const pluginIds = report.repair!.before.findings.filter((f) => f.plugin)
      .map((f) => f.id);
    const actions = report.repair!.actions;
    assert.ok(actions.some((a) => a.repair === "restore_from_bak"));
    assert.ok(
      actions.every((a) => !a.findingIds.some((id) => pluginIds.includes(id))),
      "no repair acts on a plugin's finding",
    );
    const left = report.findings.filter((f) => f.category !== "info");
    assert.deepEqual(left.map((f) => [f.kind, f.plugin]), [[
      "needs_a_look",
      "watch.sh",
    ]]);
    assert.equal(left[0].repair, undefined);
    const before = report.repair!.before.findings.map((f) => f.kind).sort();
    assert.deepEqual(before, ["needs_a_look", "shrunken_live"]);
    const audits = (await Deno.readTextFile(runs)).trim().split("\n").length;
    assert.ok(audits >= 2, "the plugin ran with the audit before and after");
  });
});

Deno.test("the runner stops a plugin that prints past the output limit", async () => {
  await withStore(async (store) => {
    const plugin = await writeExecutable(
      store.root,
      "chatty.sh",
      "#!/bin/sh\ncat >/dev/null\nwhile :; do echo '{}'; done\n",
    );
    const snapshot = await scanStore({
      sessionDir: store.sessionDir,
      stateDbPath: null,
    });
    try {
      const findings = await runExternalPlugins(snapshot, builtinChecks, {
        programs: [{ name: "chatty.sh", path: plugin }],
        maxOutputBytes: 4096,
        timeoutMs: 10_000,
      }, { now: Date.now(), serverStopped: false });
      assert.deepEqual(
        findings.map((f) => [f.kind, f.evidence.reason]).slice(0, 1),
        [["plugin_failed", "output_too_large"]],
      );
      assert.equal(findings[0].evidence.maxOutputBytes, 4096);
    } finally {
      snapshot.stateDb.close();
    }
  });
});

Deno.test("docs/plugins.md shows the shell and Python examples as they are tested", async () => {
  const readme = await Deno.readTextFile(repoPath("docs/plugins.md"));
  for (const example of [SHELL_EXAMPLE, PYTHON_EXAMPLE]) {
    const source = (await Deno.readTextFile(example)).trimEnd();
    assert.ok(readme.includes(source), `docs/plugins.md holds ${example}`);
  }
});
