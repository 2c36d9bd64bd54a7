/**
 * Builds the hermes-fsck binary with the permission set of
 * tools/permissions.ts baked in: `deno task compile` for this machine,
 * `deno task compile:all` for every release target. `deno compile` needs the
 * Deno runtime base (denort) for each target: it downloads it once, or uses
 * the file named by `DENORT_BIN`.
 *
 * @example
 * ```sh
 * deno task compile            # dist/hermes-fsck
 * deno task compile:all        # dist/hermes-fsck-<target>[.exe]
 * ```
 * @module
 */

import { CLI_PERMISSIONS } from "./permissions.ts";

/** Release targets of `compile:all`. */
export const RELEASE_TARGETS: readonly string[] = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
  "x86_64-pc-windows-msvc",
];

/**
 * The `deno compile` arguments for one target (null: this machine).
 *
 * @example
 * ```ts
 * compileArgs(null); // ["compile", "--allow-read", ..., "--output", "dist/hermes-fsck", "cli.ts"]
 * ```
 */
export function compileArgs(target: string | null): string[] {
  const output = target === null
    ? "dist/hermes-fsck"
    : `dist/hermes-fsck-${target}${target.includes("windows") ? ".exe" : ""}`;
  return [
    "compile",
    ...CLI_PERMISSIONS,
    ...(target === null ? [] : ["--target", target]),
    "--output",
    output,
    "cli.ts",
  ];
}

if (import.meta.main) {
  const targets = Deno.args.includes("--all") ? RELEASE_TARGETS : [null];
  let failed = 0;
  for (const target of targets) {
    const args = compileArgs(target);
    console.error(`$ deno ${args.join(" ")}`);
    const { code } = await new Deno.Command(Deno.execPath(), {
      args,
      cwd: new URL("..", import.meta.url).pathname,
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
