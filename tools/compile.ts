/**
 * Builds the hermes-fsck binary with the permission set of
 * tools/permissions.ts baked in: `deno task compile` for this machine,
 * `deno task compile:all` for every release target, and
 * `deno task compile:example` for the library example (a binary of your own
 * with an added check). `deno compile` needs the Deno runtime base (denort)
 * for each target: it downloads it once, or uses the file named by
 * `DENORT_BIN`.
 *
 * @example
 * ```sh
 * deno task compile            # dist/hermes-fsck
 * deno task compile:all        # dist/hermes-fsck-<target>[.exe]
 * deno run -A tools/compile.ts --entry my_fsck.ts --name my-fsck   # dist/my-fsck
 * ```
 * @module
 */

import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { CLI_FLAGS } from "./permissions.ts";

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
 * compileArgs(null); // ["compile", "--allow-read", ..., "--include", "core/scan_worker.ts", "--output", "dist/hermes-fsck", "cli.ts"]
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
    "core/scan_worker.ts",
    ...(target === null ? [] : ["--target", target]),
    "--output",
    output,
    options.entry ?? "cli.ts",
  ];
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      all: { type: "boolean" },
      entry: { type: "string" },
      name: { type: "string" },
    },
  });
  const targets = values.all ? RELEASE_TARGETS : [null];
  let failed = 0;
  for (const target of targets) {
    const args = compileArgs(target, {
      entry: values.entry,
      name: values.name,
    });
    console.error(`$ deno ${args.join(" ")}`);
    const { code } = await new Deno.Command(Deno.execPath(), {
      args,
      cwd: fileURLToPath(new URL("..", import.meta.url)),
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
    }
  }
  Deno.exit(failed === 0 ? 0 : 8);
}
