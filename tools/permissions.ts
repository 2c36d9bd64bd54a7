/**
 * The permission set of the hermes-fsck binary and its V8 settings, written
 * once: the compile tasks bake them in and every CLI test runs `cli.ts`
 * with exactly them.
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
 * import { CLI_FLAGS } from "./permissions.ts";
 * new Deno.Command(Deno.execPath(), { args: ["run", ...CLI_FLAGS, "cli.ts", "audit"] });
 * ```
 * @module
 */

/** The permissions of `deno run` and `deno compile`. */
export const CLI_PERMISSIONS: readonly string[] = [
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-run",
];

/**
 * V8's memory saver: the heap is collected and given back to the system
 * more eagerly, for some CPU. At 20,000 sessions it takes the audit's peak
 * from about 260 MB to about 170 MB for about a fifth more time (measured
 * by `deno task bench`); a tool run at every container start on shared
 * hosts should take little memory.
 *
 * @example
 * ```ts
 * CLI_V8_FLAGS; // "--v8-flags=--memory-saver-mode"
 * ```
 */
export const CLI_V8_FLAGS = "--v8-flags=--memory-saver-mode";

/**
 * Every flag the binary is built with, for `deno run` and `deno compile`:
 * the permissions and the V8 settings.
 *
 * @example
 * ```ts
 * new Deno.Command(Deno.execPath(), { args: ["run", ...CLI_FLAGS, "cli.ts", "audit"] });
 * ```
 */
export const CLI_FLAGS: readonly string[] = [...CLI_PERMISSIONS, CLI_V8_FLAGS];
