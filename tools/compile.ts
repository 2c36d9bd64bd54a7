/**
 * Builds the hermes-fsck binary with the permission set of
 * tools/permissions.ts baked in: `deno task compile` for this machine,
 * `deno task compile:all` for every release target, and
 * `deno task compile:example` for the library example (a binary of your own
 * with an added check). `deno compile` needs the Deno runtime base (denort)
 * for each target: it downloads it once, or uses the file named by
 * `DENORT_BIN`. It compiles a copy of the tree in which core/run/build_info.ts
 * names the git commit, and runs each binary built for this machine with
 * `--version`: a binary that does not answer as hermes-fsck (a `DENORT_BIN`
 * that is the deno CLI, not denort, makes one) is removed and the tool
 * exits 8.
 *
 * @example
 * ```sh
 * deno task compile            # dist/hermes-fsck
 * deno task compile:all        # dist/hermes-fsck-<target>[.exe]
 * deno run -A tools/compile.ts --entry my_fsck.ts --name my-fsck   # dist/my-fsck
 * deno run -A tools/compile.ts --out-dir /tmp/build                 # /tmp/build/hermes-fsck
 * ```
 * @module
 */

import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { TOOL_VERSION } from "../core/run/version.ts";
import { CLI_FLAGS } from "./permissions.ts";

/** The repository root. */
const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Not copied into the build tree: history, earlier builds. */
const NOT_COPIED = new Set([".git", "dist", "node_modules"]);

/** Release targets of `compile:all`. */
export const RELEASE_TARGETS: readonly string[] = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
  "x86_64-pc-windows-msvc",
];

/** What to build: the entry module and the binary's name. */
export interface CompileOptions {
  /** Entry module, relative to the repository root (default `cli.ts`). */
  entry?: string;
  /** File name of the binary, before the target suffix (default `hermes-fsck`). */
  name?: string;
  /** Where binaries go (default `dist`). */
  outDir?: string;
}

/**
 * The `deno compile` arguments for one target (null: this machine).
 *
 * @example
 * ```ts
 * import { compileArgs } from "./compile.ts";
 * compileArgs(null); // ["compile", "--allow-read", ..., "--include", "core/scan/worker.ts", "--output", "dist/hermes-fsck", "cli.ts"]
 * compileArgs("x86_64-pc-windows-msvc").at(-2); // "dist/hermes-fsck-x86_64-pc-windows-msvc.exe"
 * ```
 */
export function compileArgs(
  target: string | null,
  options: CompileOptions = {},
): string[] {
  const name = options.name ?? "hermes-fsck";
  const outDir = options.outDir ?? "dist";
  const output = target === null
    ? `${outDir}/${name}`
    : `${outDir}/${name}-${target}${target.includes("windows") ? ".exe" : ""}`;
  return [
    "compile",
    ...CLI_FLAGS,
    // The scan's worker module: deno compile embeds a worker only when told.
    "--include",
    "core/scan/worker.ts",
    ...(target === null ? [] : ["--target", target]),
    "--output",
    output,
    options.entry ?? "cli.ts",
  ];
}

/**
 * The commit of the tree at `root`, with `-dirty` when it has uncommitted
 * changes; null without git or outside a repository.
 *
 * @example
 * ```ts
 * import { buildCommit } from "./compile.ts";
 * await buildCommit("."); // "4280fb4c1d2e" or "4280fb4c1d2e-dirty"
 * ```
 */
export async function buildCommit(root: string): Promise<string | null> {
  const git = async (args: string[]) => {
    try {
      const out = await new Deno.Command("git", {
        args: ["-C", root, ...args],
        stdout: "piped",
        stderr: "null",
      }).output();
      return out.success ? new TextDecoder().decode(out.stdout).trim() : null;
    } catch {
      return null;
    }
  };
  const head = await git(["rev-parse", "--short=12", "HEAD"]);
  if (!head) return null;
  const changes = await git(["status", "--porcelain", "--untracked-files=no"]);
  return changes ? `${head}-dirty` : head;
}

/**
 * Copies the tree at `root` into `to` (not its history or earlier builds)
 * and stamps core/run/build_info.ts there with `commit`.
 *
 * @example
 * ```ts
 * import { stampedTree } from "./compile.ts";
 * await stampedTree(".", await Deno.makeTempDir(), "4280fb4c1d2e");
 * ```
 */
export async function stampedTree(
  root: string,
  to: string,
  commit: string | null,
): Promise<void> {
  const copy = async (from: string, into: string) => {
    for await (const entry of Deno.readDir(from)) {
      if (NOT_COPIED.has(entry.name)) continue;
      const source = join(from, entry.name);
      const target = join(into, entry.name);
      if (entry.isDirectory) {
        await Deno.mkdir(target);
        await copy(source, target);
      } else if (entry.isFile) await Deno.copyFile(source, target);
    }
  };
  await copy(root, to);
  const stamp = await Deno.readTextFile(
    join(to, "core", "run", "build_info.ts"),
  );
  const stamped = stamp.replace(
    /^export const BUILD_COMMIT: string \| null = null;$/m,
    `export const BUILD_COMMIT: string | null = ${JSON.stringify(commit)};`,
  );
  if (stamped === stamp && commit !== null) {
    throw new Error(
      "core/run/build_info.ts no longer declares BUILD_COMMIT as tools/compile.ts expects; update one of them",
    );
  }
  await Deno.writeTextFile(join(to, "core", "run", "build_info.ts"), stamped);
}

/**
 * Why the binary at `path` is not a hermes-fsck build, or null when it is:
 * it is run with `--version`, which must print `hermes-fsck VERSION` first
 * and the commit it was stamped with. A runtime base that is not denort
 * (the deno CLI) gives a binary that answers as deno.
 *
 * @example
 * ```ts
 * import { versionProblem } from "./compile.ts";
 * await versionProblem("dist/hermes-fsck", "4280fb4c1d2e"); // null
 * ```
 */
export async function versionProblem(
  path: string,
  commit: string | null,
): Promise<string | null> {
  let out;
  try {
    out = await new Deno.Command(path, {
      args: ["--version"],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(60_000),
    }).output();
  } catch (error) {
    return `it did not run (${(error as Error).message})`;
  }
  const text = new TextDecoder().decode(out.stdout);
  const first = text.split("\n")[0];
  if (!out.success || first !== `hermes-fsck ${TOOL_VERSION}`) {
    return `run with --version it exited ${out.code} and printed ${
      JSON.stringify(first || new TextDecoder().decode(out.stderr).trim())
    }, not "hermes-fsck ${TOOL_VERSION}"`;
  }
  const expected = `commit: ${commit ?? "none"}`;
  if (!text.split("\n").some((line) => line.startsWith(expected))) {
    return `its --version does not name the commit it was built from (${expected})`;
  }
  return null;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      all: { type: "boolean" },
      entry: { type: "string" },
      name: { type: "string" },
      "out-dir": { type: "string" },
    },
  });
  const targets = values.all ? RELEASE_TARGETS : [null];
  const outDir = resolve(values["out-dir"] ?? join(ROOT, "dist"));
  await Deno.mkdir(outDir, { recursive: true });
  const commit = await buildCommit(ROOT);
  const tree = await Deno.makeTempDir({ prefix: "hermes-fsck-build-" });
  let failed = 0;
  try {
    await stampedTree(ROOT, tree, commit);
    for (const target of targets) {
      const args = compileArgs(target, {
        entry: values.entry,
        name: values.name,
        outDir,
      });
      const output = args.at(-2)!;
      console.error(`$ deno ${args.join(" ")}`);
      const { code } = await new Deno.Command(Deno.execPath(), {
        args,
        cwd: tree,
        stdout: "inherit",
        stderr: "inherit",
      }).output();
      if (code !== 0) {
        failed++;
        console.error(
          `compile failed for ${
            target ?? "this machine"
          }: deno compile needs the ` +
            "Deno runtime base for the target (downloaded once, or set DENORT_BIN " +
            "to a local denort binary).",
        );
        continue;
      }
      // Only a binary of this machine's target can be run here; the release
      // workflow runs the others' on their own runners.
      if (target !== null && target !== Deno.build.target) continue;
      const problem = await versionProblem(output, commit);
      if (problem === null) {
        console.error(
          `${output}: --version answers as hermes-fsck ${TOOL_VERSION}`,
        );
        continue;
      }
      failed++;
      await Deno.remove(output).catch(() => {});
      const base = Deno.env.get("DENORT_BIN");
      console.error(
        `${output} is not a working hermes-fsck binary: ${problem}. Its ` +
          `runtime base ${
            base ? `DENORT_BIN=${base}` : "(downloaded by deno compile)"
          } is not denort (the deno CLI as a base gives a binary that is ` +
          `the deno CLI itself); the binary was removed. Unset DENORT_BIN, ` +
          `or point it at the denort of Deno ${Deno.version.deno} for ` +
          `${target ?? Deno.build.target}, and compile again.`,
      );
    }
  } finally {
    await Deno.remove(tree, { recursive: true });
  }
  Deno.exit(failed === 0 ? 0 : 8);
}
