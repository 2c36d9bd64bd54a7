/**
 * The permission set of the hermes-fsck binary and its V8 settings, written
 * once: the compile tasks bake them in and every CLI test runs `cli.ts`
 * with exactly them.
 *
 * - read, write: the store (writes go through core/io/safety.ts only);
 * - env: Hermes's default paths and `HERMES_FSCK_PLUGIN_DIR`;
 * - run: to start external check programs (core/plugins/plugin_runner.ts), and,
 *   as root on a store another user owns, to start itself again as that
 *   user (core/io/owner_reexec.ts); a run that names no plugin program
 *   revokes it before it reads the store;
 * - sys, for the uid only: whether it runs as root, which decides that
 *   re-execution;
 * - no net: nothing is ever fetched or sent.
 *
 * @example
 * ```ts
 * import { CLI_FLAGS } from "./permissions.ts";
 * const args = ["run", ...CLI_FLAGS, "cli.ts", "audit"];
 * ```
 * @module
 */

/** The permissions of `deno run` and `deno compile`. */
export const CLI_PERMISSIONS: readonly string[] = [
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-run",
  "--allow-sys=uid",
];

/**
 * V8's settings, for a tool run at every container start on shared hosts,
 * which should take little memory. Together they keep the audit of 20,000
 * sessions under 150 MB, for some time (docs/performance.md, "What each
 * piece of the machinery costs", measures them):
 *
 * - `--memory-saver-mode`: the heap is collected and given back to the
 *   system more eagerly, for some CPU.
 * - `--no-concurrent-recompilation`: hot functions are optimized on the
 *   thread that runs them, not on compiler threads, whose scratch memory
 *   stays in malloc arenas of their own.
 * - `--max-semi-space-size=2`: the young generation of each heap (the main
 *   thread's and each worker's) stays at 4 MB instead of growing to 16 MB,
 *   mostly empty between two scavenges (at 1 MB, twice as many scavenges
 *   cost more time than the 2 MB is worth).
 * - `--expose-gc`: lets the scan collect its heaps itself, whenever one has
 *   grown 4 MB past what the last collection left, rather than let V8 grow
 *   it 8 MB or more first (core/scan/heap_trim.ts), in a store of 256 MB or
 *   more.
 *
 * @example
 * ```ts
 * import { CLI_V8_FLAGS } from "./permissions.ts";
 * CLI_V8_FLAGS; // "--v8-flags=--memory-saver-mode,--no-concurrent-recompilation,..."
 * ```
 */
export const CLI_V8_FLAGS = "--v8-flags=" + [
  "--memory-saver-mode",
  "--no-concurrent-recompilation",
  "--max-semi-space-size=2",
  "--expose-gc",
].join(",");

/**
 * Every flag the binary is built with, for `deno run` and `deno compile`:
 * the permissions and the V8 settings.
 *
 * @example
 * ```ts
 * const args = ["run", ...CLI_FLAGS, "cli.ts", "audit"];
 * ```
 */
export const CLI_FLAGS: readonly string[] = [...CLI_PERMISSIONS, CLI_V8_FLAGS];
