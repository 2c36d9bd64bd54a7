/**
 * The binaries: `deno compile` of cli.ts and of the library example, as far
 * as it runs offline. The real runtime base (denort) cannot be downloaded
 * here, so the deno executable stands in for it (`DENORT_BIN`): the module
 * graph, the type check and the embedding are the real ones, so a missing
 * static import or an unembedded file breaks this suite. Also: the one
 * permission set, the one module that starts processes, the release targets
 * and the release workflow.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { compileArgs, RELEASE_TARGETS } from "../tools/compile.ts";
import {
  CLI_FLAGS,
  CLI_PERMISSIONS,
  CLI_V8_FLAGS,
} from "../tools/permissions.ts";
import { runCommand } from "./fixtures.ts";
import { repoPath, ROOT } from "./plugin_support.ts";

function deno(args: string[], env: Record<string, string> = {}) {
  return runCommand(Deno.execPath(), args, { env, cwd: ROOT });
}

/** `deno compile` with the deno executable standing in for denort. */
function compile(args: string[]) {
  return deno(args, { DENORT_BIN: Deno.execPath() });
}

Deno.test("compile tasks bake in exactly the CLI permissions and V8 settings, for every release target", () => {
  assert.deepEqual([...CLI_PERMISSIONS], [
    "--allow-read",
    "--allow-write",
    "--allow-env",
    "--allow-run",
    "--allow-sys=uid",
  ]);
  assert.ok(!CLI_PERMISSIONS.some((p) => p.startsWith("--allow-net")));
  assert.equal(
    CLI_V8_FLAGS,
    "--v8-flags=--memory-saver-mode,--no-concurrent-recompilation," +
      "--max-semi-space-size=2,--expose-gc",
  );
  assert.deepEqual([...CLI_FLAGS], [...CLI_PERMISSIONS, CLI_V8_FLAGS]);
  assert.deepEqual(compileArgs(null), [
    "compile",
    ...CLI_FLAGS,
    "--include",
    "core/scan/worker.ts",
    "--output",
    "dist/hermes-fsck",
    "cli.ts",
  ]);
  assert.deepEqual([...RELEASE_TARGETS].sort(), [
    "aarch64-apple-darwin",
    "aarch64-unknown-linux-gnu",
    "x86_64-apple-darwin",
    "x86_64-pc-windows-msvc",
    "x86_64-unknown-linux-gnu",
  ]);
  assert.deepEqual(compileArgs("x86_64-pc-windows-msvc").slice(-4), [
    "x86_64-pc-windows-msvc",
    "--output",
    "dist/hermes-fsck-x86_64-pc-windows-msvc.exe",
    "cli.ts",
  ]);
  assert.deepEqual(
    compileArgs("aarch64-apple-darwin", {
      entry: "examples/library/my_fsck.ts",
      name: "my-fsck",
    }).slice(-2),
    ["dist/my-fsck-aarch64-apple-darwin", "examples/library/my_fsck.ts"],
  );
});

Deno.test("deno compile builds the CLI and the library example, with their modules embedded", async () => {
  const out = await Deno.makeTempDir({ prefix: "hermes-fsck-compile-" });
  try {
    const builds = [
      { entry: "cli.ts", name: "hermes-fsck" },
      { entry: "examples/library/my_fsck.ts", name: "my-fsck" },
    ];
    for (const build of builds) {
      const result = await compile(
        compileArgs(null, { ...build, outDir: out }),
      );
      assert.equal(result.code, 0, `${build.entry}:\n${result.stderr}`);
      const binary = Buffer.from(await Deno.readFile(join(out, build.name)));
      for (
        const embedded of [
          "check and repair a Hermes WebUI session store", // cli.ts
          "hermes-fsck plugin finding", // core/plugins/plugin_finding.schema.json
          "hermes-fsck report", // core/report/report.schema.json
          "A scan worker: a second thread", // core/scan/worker.ts
        ]
      ) {
        assert.ok(
          binary.includes(embedded),
          `${build.name} embeds ${embedded}`,
        );
      }
      await Deno.remove(join(out, build.name));
    }
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("deno compile fails on a missing static import (the check above can fail)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hermes-fsck-compile-" });
  try {
    const entry = join(dir, "entry.ts");
    await Deno.writeTextFile(
      entry,
      `import "${repoPath("cli.ts")}";\nimport "./missing_module.ts";\n`,
    );
    const result = await compile([
      "compile",
      ...CLI_FLAGS,
      "--output",
      join(dir, "out"),
      entry,
    ]);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /missing_module\.ts/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("only core/plugins/plugin_runner.ts and core/io/owner_reexec.ts start a process", async () => {
  const starts = /\bDeno\.(?:Command|run)\b|node:child_process/;
  for (const entry of ["cli.ts", "examples/library/my_fsck.ts"]) {
    const info = await deno(["info", "--json", entry]);
    assert.equal(info.code, 0, info.stderr);
    const modules: { specifier: string }[] = JSON.parse(info.stdout).modules;
    const local = modules.map((m) => m.specifier).filter((s) =>
      s.startsWith("file://")
    );
    assert.ok(local.length > 20, `${entry}: the whole graph`);
    const offenders = [];
    for (const specifier of local) {
      const path = fileURLToPath(specifier);
      const source = await Deno.readTextFile(path);
      if (starts.test(source)) offenders.push(path.slice(ROOT.length));
    }
    assert.deepEqual(
      offenders.sort(),
      ["core/io/owner_reexec.ts", "core/plugins/plugin_runner.ts"],
      entry,
    );
  }
});

Deno.test("the release workflow builds every target with checksums on a tag", async () => {
  const workflow = await Deno.readTextFile(
    repoPath(".github/workflows/release.yml"),
  );
  const ci = await Deno.readTextFile(repoPath(".ci/run"));
  const pinned = /deno@(\d+\.\d+\.\d+)/.exec(ci)?.[1];
  assert.ok(pinned);
  assert.match(workflow, /^on:\n {2}push:\n {4}tags: \["v\*"\]$/m);
  assert.match(workflow, /^permissions:\n {2}contents: write$/m);
  assert.ok(
    workflow.includes(`deno-version: ${pinned}`),
    "the Deno of CI",
  );
  assert.match(workflow, /- run: deno task test\n/);
  assert.match(workflow, /- run: deno task compile:all\n/);
  assert.match(workflow, /sha256sum hermes-fsck-\* > SHA256SUMS/);
  assert.match(workflow, /gh release create "\$GITHUB_REF_NAME"/);
  assert.match(workflow, /dist\/hermes-fsck-\* dist\/SHA256SUMS/);
  const tasks = JSON.parse(await Deno.readTextFile(repoPath("deno.json")))
    .tasks;
  assert.match(tasks["compile:all"], /tools\/compile\.ts --all$/);
  assert.match(
    tasks["compile:example"],
    /--entry examples\/library\/my_fsck\.ts/,
  );
});
