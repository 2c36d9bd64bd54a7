/**
 * The permission set of the hermes-fsck binary, written once: the compile
 * tasks bake it in and every CLI test runs `cli.ts` with exactly it.
 *
 * - read, write: the store (writes go through core/safety.ts only);
 * - env: Hermes's default paths and `HERMES_FSCK_PLUGIN_DIR`;
 * - run: only to start external check programs (core/plugin_runner.ts is
 *   the one module that starts a process, which a test asserts), and a run
 *   that names no plugin program revokes it before it reads the store;
 * - no net: nothing is ever fetched or sent.
 *
 * @example
 * ```ts
 * import { CLI_PERMISSIONS } from "./permissions.ts";
 * new Deno.Command(Deno.execPath(), { args: ["run", ...CLI_PERMISSIONS, "cli.ts", "audit"] });
 * ```
 * @module
 */

/** Flags for `deno run` and `deno compile`. */
export const CLI_PERMISSIONS: readonly string[] = [
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-run",
];
