/**
 * The permission set of the hermes-fsck binary, written once: the compile
 * tasks bake it in and every CLI test runs `cli.ts` with exactly it.
 * Read and write (the store), env (Hermes's default paths); no net, no run.
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
];
