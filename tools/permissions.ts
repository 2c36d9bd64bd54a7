/**
 * The permission set of the hermes-fsck binary and its V8 settings, for the
 * tools and tests: they live in core/run/permissions.ts, where the CLI itself
 * reads them to start itself again as a store's owner.
 *
 * @example
 * ```ts
 * import { CLI_FLAGS } from "./permissions.ts";
 * new Deno.Command(Deno.execPath(), { args: ["run", ...CLI_FLAGS, "cli.ts", "audit"] });
 * ```
 * @module
 */

export {
  CLI_FLAGS,
  CLI_PERMISSIONS,
  CLI_V8_FLAGS,
} from "../core/run/permissions.ts";
