/**
 * Way 3 of extending: `--plugin ./check.ts` under `deno run` imports the
 * module and runs its exported checks; a compiled binary refuses it with an
 * error that points to ways 1 and 2. Also: a run without plugin programs
 * gives up the permission to start processes.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { main } from "../cli.ts";
import type { Report } from "../core/report/report.ts";
import {
  type CliResult,
  runCli,
  storeArgs,
  type TestStore,
  withStore,
} from "./fixtures.ts";
import { repoPath, shellPlugin, writeExecutable } from "./plugin_support.ts";

const EXAMPLE = repoPath("examples/ts_module/empty_sessions.ts");
const TWO_DAYS_AGO = Date.now() / 1000 - 2 * 24 * 60 * 60;

async function audit(
  store: TestStore,
  args: string[],
): Promise<CliResult & { report: Report }> {
  const result = await runCli(
    ["audit", ...args, ...storeArgs(store, false), "--format", "json"],
    { env: { HERMES_FSCK_PLUGIN_DIR: "" } },
  );
  if (result.code >= 8) {
    throw new Error(`exit ${result.code}: ${result.stderr}`);
  }
  return { ...result, report: JSON.parse(result.stdout) };
}

/** A check module reporting one finding, written into the store's root. */
async function checkModule(
  store: TestStore,
  name: string,
  body: string,
): Promise<string> {
  const path = join(store.root, name);
  await Deno.writeTextFile(path, body);
  return path;
}

Deno.test("--plugin check.ts loads the example module under deno run", async () => {
  await withStore(async (store) => {
    await store.sidecar("unused", { messages: 0, created_at: TWO_DAYS_AGO });
    await store.sidecar("fresh", {
      messages: 0,
      created_at: Date.now() / 1000,
    });
    await store.sidecar("used", { messages: 4, created_at: TWO_DAYS_AGO });
    const { code, report } = await audit(store, ["--plugin", EXAMPLE]);
    assert.equal(code, 0);
    assert.deepEqual(
      report.findings.map((f) => [f.check, f.kind, f.sessionId, f.category]),
      [["empty-sessions", "empty_session", "unused", "info"]],
    );
    assert.match(
      report.findings[0].message,
      /^unused\.json was created 2 days ago/,
    );

    // A loaded check is a check like any other: --skip takes its id.
    const skipped = await audit(store, [
      "--plugin",
      EXAMPLE,
      "--skip",
      "empty-sessions",
    ]);
    assert.deepEqual(skipped.report.findings, []);
  });
});

Deno.test("a compiled binary refuses a .ts plugin and says what to do instead", async () => {
  let stderr = "";
  const code = await main(
    ["audit", "--plugin", "./my-check.ts", "--session-dir", "/nonexistent"],
    {
      stdout: () => {},
      stderr: (text) => (stderr += text),
      env: () => undefined,
      standalone: true,
    },
  );
  assert.equal(code, 16, "a usage error, found before the store is looked at");
  assert.match(
    stderr,
    /--plugin \.\/my-check\.ts: this hermes-fsck is a compiled binary/,
  );
  assert.match(stderr, /examples\/library\//, "way 1");
  assert.match(stderr, /plugin protocol/, "way 2");
});

Deno.test("a check module that cannot be used is exit 8, naming the module", async () => {
  await withStore(async (store) => {
    const cases: [string, string, RegExp][] = [
      ["empty.ts", "export const answer = 42;\n", /exports no check/],
      [
        "broken.ts",
        'throw new Error("no config");\n',
        /cannot be loaded: .*no config/,
      ],
      [
        "repairs.ts",
        `export const c = { id: "fixes-things", title: "t", description: "d",
  kinds: { fixable: { category: "repairable", severity: "error",
    summary: "s", explain: "e" } },
  create: () => ({}) };\n`,
        /declares a repairable kind, but a loaded check only reports; custom repairs need your own binary/,
      ],
      [
        "taken.ts",
        `export const c = { id: "shrunken-live", title: "t", description: "d",
  kinds: {}, create: () => ({}) };\n`,
        /the check id shrunken-live is taken/,
      ],
      [
        "bad_id.ts",
        `export const c = { id: "Bad Id", title: "t", description: "d",
  kinds: {}, create: () => ({}) };\n`,
        /must be kebab-case/,
      ],
    ];
    for (const [name, body, message] of cases) {
      const path = await checkModule(store, name, body);
      const result = await runCli([
        "audit",
        "--plugin",
        path,
        ...storeArgs(store, false),
      ]);
      assert.equal(result.code, 8, `${name}: ${result.stderr}`);
      assert.match(result.stderr, new RegExp(`check module .*${name}`));
      assert.match(result.stderr, message, name);
    }
  });
});

Deno.test("a loaded check that throws is a check_failed finding", async () => {
  await withStore(async (store) => {
    const path = await checkModule(
      store,
      "throws.ts",
      `export const c = { id: "throws", title: "t", description: "d",
  kinds: {}, create: () => ({ end() { throw new Error("oops"); } }) };\n`,
    );
    const { code, report } = await audit(store, ["--plugin", path]);
    assert.equal(code, 4);
    assert.deepEqual(report.findings.map((f) => [f.kind, f.check]), [[
      "check_failed",
      "throws",
    ]]);
  });
});

Deno.test("a module of the older run(store) shape still loads, and is given the whole store", async () => {
  await withStore(async (store) => {
    await store.sidecar("abc", { messages: 2 });
    await store.sidecar("def", { messages: 2 });
    const path = await checkModule(
      store,
      "older.ts",
      `export const c = { id: "older", title: "t", description: "d",
  kinds: [{ kind: "sessions_seen", category: "info", severity: "info",
    summary: "s", explain: "e" }],
  run: (store) => [{ kind: "sessions_seen", paths: [],
    message: String(store.sessions.size) }] };\n`,
    );
    const { code, report } = await audit(store, ["--plugin", path]);
    assert.equal(code, 0);
    assert.deepEqual(
      report.findings.filter((f) => f.check === "older").map((f) => f.message),
      ["2"],
    );
  });
});

Deno.test("the permission to start processes is given up unless a plugin program runs", async () => {
  await withStore(async (store) => {
    await store.sidecar("abc", { messages: 2 });
    // A check that reports what the process may do, checked in-process.
    const probe = await checkModule(
      store,
      "probe.ts",
      `export const probe = { id: "probe", title: "t", description: "d",
  kinds: { run_permission: { category: "info", severity: "info",
    summary: "s", explain: "e" } },
  create: (context) => ({ end() { context.report({ kind: "run_permission",
    paths: [], message: Deno.permissions.querySync({ name: "run" }).state });
  } }) };\n`,
    );
    const alone = await audit(store, ["--plugin", probe]);
    assert.deepEqual(alone.report.findings.map((f) => f.message), ["prompt"]);

    const program = await writeExecutable(
      store.root,
      "quiet.sh",
      shellPlugin([]),
    );
    const withProgram = await audit(store, [
      "--plugin",
      probe,
      "--plugin",
      program,
    ]);
    assert.deepEqual(withProgram.report.findings.map((f) => f.message), [
      "granted",
    ]);
  });
});
