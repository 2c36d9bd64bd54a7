/**
 * The rough edges a new user met (issue 24), each as that user sees it:
 * the CLI as a subprocess with the binary's permissions, asserting on
 * stdout, stderr and the exit code.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { builtinChecks } from "../checks/builtin.ts";
import { builtinRepairs } from "../repairs/builtin.ts";
import { type CliResult, runCli, storeArgs, withStore } from "./fixtures.ts";
import { shellPlugin, writeExecutable } from "./plugin_support.ts";

function show(r: CliResult): string {
  return `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
}

Deno.test("edges: with no arguments the usage goes to stderr and the exit is 16, as git does", async () => {
  const r = await runCli([]);
  assert.equal(r.code, 16, show(r));
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /^hermes-fsck \S+: check and repair/);
  assert.match(r.stderr, /Usage:\n/);
  // Asked for, the help is the output: stdout, exit 0.
  const help = await runCli(["--help"]);
  assert.equal(help.code, 0);
  assert.equal(help.stdout, r.stderr);
});

Deno.test("edges: an unknown command lists every command the usage names", async () => {
  const r = await runCli(["audti"]);
  assert.equal(r.code, 16, show(r));
  const help = (await runCli(["--help"])).stdout;
  const commands = [
    ...new Set(
      [...help.matchAll(/^ {2}hermes-fsck ([a-z]+)\b/gm)].map((m) => m[1]),
    ),
  ];
  assert.ok(commands.length >= 6, commands.join(" "));
  const listed = /the commands are ([a-z, ]+) \[exit 16\]/.exec(r.stderr);
  assert.ok(listed, r.stderr);
  assert.deepEqual(listed[1].split(", "), [...commands, "help"]);
  assert.match(r.stderr, /unknown command "audti"/);
});

Deno.test("edges: explain takes a check id as --check does, and --format json", async () => {
  const check = builtinChecks.find((c) => c.id === "index-coverage")!;
  const text = await runCli(["explain", "index-coverage"]);
  assert.equal(text.code, 0, show(text));
  assert.match(
    text.stdout,
    /^index-coverage: Index entries and sidecars match\n/,
  );
  for (const kind of check.kinds) {
    assert.match(text.stdout, new RegExp(`^ {2}- ${kind.kind} \\(`, "m"));
  }
  const json = await runCli(["explain", "index-coverage", "--format", "json"]);
  assert.equal(json.code, 0, show(json));
  const parsed = JSON.parse(json.stdout);
  assert.equal(parsed.type, "check");
  assert.deepEqual(
    parsed.kinds.map((k: { kind: string }) => k.kind),
    check.kinds.map((k) => k.kind),
  );
  const kind = JSON.parse(
    (await runCli(["explain", "shrunken_live", "--format", "json"])).stdout,
  );
  assert.deepEqual(
    [kind.type, kind.kind, kind.category, kind.repair, kind.check],
    [
      "kind",
      "shrunken_live",
      "repairable",
      "restore_from_bak",
      "shrunken-live",
    ],
  );
  assert.ok(kind.explain.length > 50);
  const repair = JSON.parse(
    (await runCli(["explain", "rebuild_index", "--format", "json"])).stdout,
  );
  assert.equal(repair.type, "repair");
  assert.deepEqual(
    repair.fixes,
    builtinRepairs.find((r) => r.id === "rebuild_index")!.fixes,
  );
  const bad = await runCli(["explain", "index-coverage", "--format", "yaml"]);
  assert.equal(bad.code, 16);
  assert.match(bad.stderr, /--format must be one of text, json, not "yaml"/);
  const unknown = await runCli(["explain", "no-such-check"]);
  assert.equal(unknown.code, 16);
  assert.match(unknown.stderr, /unknown kind, check or repair "no-such-check"/);
});

Deno.test("edges: --check a,b and --skip a,b take comma lists, as repeated flags do", async () => {
  await withStore(async (store) => {
    await store.sidecar("abc", { messages: 2 });
    await store.backup("abc", { messages: 9 });
    await store.writeRaw("_index.json", "[]");
    const run = async (args: string[]) => {
      const r = await runCli([
        "audit",
        ...storeArgs(store, false),
        "--format",
        "json",
        ...args,
      ]);
      assert.ok(r.code < 8, show(r));
      return JSON.parse(r.stdout).findings.map((f: { kind: string }) => f.kind)
        .sort();
    };
    const comma = await run(["--check", "shrunken-live,index_missing_entry"]);
    assert.deepEqual(comma, ["index_missing_entry", "shrunken_live"]);
    assert.deepEqual(
      await run([
        "--check",
        "shrunken-live",
        "--check",
        "index_missing_entry",
      ]),
      comma,
    );
    assert.deepEqual(
      await run(["--skip", "shrunken-live,index-coverage"]),
      await run(["--skip", "shrunken-live", "--skip", "index-coverage"]),
    );
    const empty = await runCli([
      "audit",
      ...storeArgs(store, false),
      "--check",
      "shrunken-live,",
    ]);
    assert.equal(empty.code, 16, show(empty));
    assert.match(empty.stderr, /--check takes names separated by commas/);
  });
});

Deno.test("edges: a kind reported by several plugins names every one in its group header", async () => {
  await withStore(async (store) => {
    await store.sidecar("abc", { messages: 2 });
    const dir = join(store.root, "plugins");
    await Deno.mkdir(dir);
    const seen = '{"kind":"seen","category":"info","message":"Seen."}';
    for (const name of ["b_plugin.sh", "a_plugin.sh", "c_plugin.sh"]) {
      await writeExecutable(dir, name, shellPlugin([seen]));
    }
    const r = await runCli(
      ["audit", ...storeArgs(store, false), "--plugin-dir", dir],
      { env: { HERMES_FSCK_PLUGIN_DIR: "" } },
    );
    assert.equal(r.code, 0, show(r));
    assert.match(
      r.stdout,
      /^seen \(3, info; no action needed; plugins a_plugin\.sh, b_plugin\.sh, c_plugin\.sh\)$/m,
    );
  });
});
