/**
 * Releases as an operator meets them: the LICENSE deno.json names, what
 * `--version` says, the compile tool's refusal of a runtime base that is
 * not denort (the deno executable stands in for a wrong base, as
 * `DENORT_BIN=deno` gave a 99 MB deno CLI), and the release workflow's
 * step that runs this platform's binary before publishing, run here on a
 * stand-in binary that is the CLI of a stamped tree.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { stampedTree, versionProblem } from "../tools/compile.ts";
import { TOOL_VERSION } from "../core/run/version.ts";
import { CLI_DENO, cliRunArgs, runCli, runCommand } from "./fixtures.ts";
import { repoPath, ROOT } from "./plugin_support.ts";

Deno.test("release: LICENSE is the MIT license deno.json names", async () => {
  const config = JSON.parse(await Deno.readTextFile(repoPath("deno.json")));
  assert.equal(config.license, "MIT");
  const license = await Deno.readTextFile(repoPath("LICENSE"));
  assert.match(license, /^MIT License\n/);
  assert.match(license, /Permission is hereby granted, free of charge/);
  assert.match(license, /THE SOFTWARE IS PROVIDED "AS IS"/);
});

Deno.test("release: --version names the version, commit, target and Deno", async () => {
  const r = await runCli(["--version"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, "");
  assert.deepEqual(r.stdout.split("\n"), [
    `hermes-fsck ${TOOL_VERSION}`,
    "commit: none (run from source, not a release build)",
    `target: ${Deno.build.target}`,
    `deno: ${Deno.version.deno}`,
    "",
  ]);
});

/** A shell script that is the CLI of `tree`, as a compiled binary would be. */
async function standIn(tree: string, path: string): Promise<void> {
  const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  await Deno.writeTextFile(
    path,
    `#!/bin/sh\nexec ${
      [CLI_DENO, ...cliRunArgs([], join(tree, "cli.ts"))].map(quote).join(" ")
    } "$@"\n`,
  );
  await Deno.chmod(path, 0o755);
}

Deno.test("release: a stamped tree's binary names its commit in --version; the check takes it", async () => {
  const tree = await Deno.makeTempDir({ prefix: "hermes-fsck-tree-" });
  try {
    await stampedTree(ROOT, tree, "0123456789ab-dirty");
    const binary = join(tree, "hermes-fsck");
    await standIn(tree, binary);
    assert.equal(await versionProblem(binary, "0123456789ab-dirty"), null);
    const out = await runCommand(binary, ["--version"]);
    assert.match(out.stdout, /^commit: 0123456789ab-dirty$/m);
    // A binary of another commit, or the deno CLI, is refused.
    assert.match(
      (await versionProblem(binary, "fedcba987654")) ?? "",
      /does not name the commit it was built from \(commit: fedcba987654\)/,
    );
    assert.match(
      (await versionProblem(Deno.execPath(), null)) ?? "",
      /printed "deno \d+\.\d+\.\d+ .*", not "hermes-fsck /,
    );
    // The tree the tool builds from is not touched.
    assert.match(
      await Deno.readTextFile(repoPath("core/run/build_info.ts")),
      /^export const BUILD_COMMIT: string \| null = null;$/m,
    );
  } finally {
    await Deno.remove(tree, { recursive: true });
  }
});

Deno.test("release: the compile tool refuses a runtime base that is the deno CLI, not denort, and removes its binary", async () => {
  const out = await Deno.makeTempDir({ prefix: "hermes-fsck-dist-" });
  try {
    const r = await runCommand(Deno.execPath(), [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-run",
      repoPath("tools/compile.ts"),
      "--out-dir",
      out,
    ], { env: { DENORT_BIN: Deno.execPath() }, cwd: ROOT });
    assert.equal(r.code, 8, r.stderr);
    const binary = join(out, "hermes-fsck");
    assert.ok(
      r.stderr.includes(
        `${binary} is not a working hermes-fsck binary: run with --version it exited 0 and printed "deno `,
      ),
      r.stderr,
    );
    assert.ok(
      r.stderr.includes(`DENORT_BIN=${Deno.execPath()} is not denort`),
      r.stderr,
    );
    assert.match(r.stderr, /Unset DENORT_BIN, or point it at the denort of/);
    assert.deepEqual(await Array.fromAsync(Deno.readDir(out)), []);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

/** The `run:` block of the workflow step named `name`, unindented. */
function stepScript(workflow: string, name: string): string {
  const lines = workflow.split("\n");
  const at = lines.findIndex((l) => l.trim() === `- name: ${name}`);
  assert.ok(at >= 0, `a step named ${name}`);
  assert.equal(lines[at + 1].trim(), "run: |");
  const indent = /^ */.exec(lines[at + 2])![0].length;
  const body: string[] = [];
  for (const line of lines.slice(at + 2)) {
    if (line.trim() !== "" && /^ */.exec(line)![0].length < indent) break;
    body.push(line.slice(indent));
  }
  return body.join("\n");
}

const RUN_STEP = "Run the binaries of this runner's platform";

Deno.test("release: the workflow runs this platform's binary (--version, the demo) before checksums and publishing", async () => {
  const workflow = await Deno.readTextFile(
    repoPath(".github/workflows/release.yml"),
  );
  const order = [
    "- run: deno task test",
    "- run: deno task compile:all",
    `- name: ${RUN_STEP}`,
    "- name: Checksums",
    "gh release create",
  ].map((needle) => workflow.indexOf(needle));
  assert.ok(order.every((i) => i >= 0), JSON.stringify(order));
  assert.deepEqual([...order].sort((a, b) => a - b), order);
  const script = stepScript(workflow, RUN_STEP);
  const tree = await Deno.makeTempDir({ prefix: "hermes-fsck-tree-" });
  try {
    await stampedTree(ROOT, tree, "0123456789ab");
    await Deno.mkdir(join(tree, "dist"));
    const run = (env: Record<string, string>) =>
      runCommand("bash", ["-eo", "pipefail", "-c", script], {
        cwd: tree,
        env: { PATH: Deno.env.get("PATH") ?? "", ...env },
      });
    // No binary of this platform: the step fails, nothing would be published.
    const none = await run({ GITHUB_REF_NAME: `v${TOOL_VERSION}` });
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no binary of this runner's platform/);
    const binary = join(tree, "dist", `hermes-fsck-${Deno.build.target}`);
    await standIn(tree, binary);
    const ok = await run({ GITHUB_REF_NAME: `v${TOOL_VERSION}` });
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /^commit: 0123456789ab$/m);
    assert.match(ok.stdout, /\$ \S+hermes-fsck-\S+ repair --session-dir/);
    assert.match(ok.stdout, /\(exit code 5\)/);
    // A tag of another version: the binary does not answer as it.
    const wrong = await run({ GITHUB_REF_NAME: "v9.9.9" });
    assert.equal(wrong.code, 1);
    assert.match(
      wrong.stderr,
      /--version printed "hermes-fsck .*", not hermes-fsck 9\.9\.9/,
    );
    // A binary that is the deno CLI (a wrong runtime base) stops the step.
    await Deno.remove(binary);
    await Deno.symlink(Deno.execPath(), binary);
    const deno = await run({ GITHUB_REF_NAME: `v${TOOL_VERSION}` });
    assert.equal(deno.code, 1);
    assert.match(deno.stderr, /--version printed "deno /);
  } finally {
    await Deno.remove(tree, { recursive: true });
  }
});
