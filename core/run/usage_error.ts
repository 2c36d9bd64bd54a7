/**
 * A command line that asks for something the command does not take: the
 * CLI reports it with exit code 16 and a pointer to `--help`. Command
 * modules (core/review/resolve_command.ts, core/review/acknowledge_command.ts) throw it
 * too, so every usage error looks the same.
 *
 * @example
 * ```ts
 * import { UsageError } from "./usage_error.ts";
 * throw new UsageError("resolve takes one finding ID");
 * ```
 * @module
 */

/**
 * A usage error: exit code 16.
 *
 * @example
 * ```ts
 * import { UsageError } from "./usage_error.ts";
 * declare const keep: string | undefined;
 * if (!keep) throw new UsageError("resolve needs --keep SOURCE");
 * ```
 */
export class UsageError extends Error {}
