/**
 * The command line, parsed strictly: long options (`--name value`,
 * `--name=value`), short flags (`-h`), `--` before positionals that start
 * with a dash. Its own, not node:util's `parseArgs`, because loading any
 * `node:` module but node:sqlite and node:fs loads Deno's whole Node layer,
 * most of a run's start-up.
 *
 * @example
 * ```ts
 * import { parseCommandLine } from "./args.ts";
 * const { values, positionals } = parseCommandLine(
 *   ["audit", "--format", "json", "--check", "a", "--check=b"],
 *   { format: { type: "string" }, check: { type: "string", multiple: true } },
 * );
 * values.format; // "json"
 * values.check; // ["a", "b"]
 * positionals; // ["audit"]
 * ```
 * @module
 */

import { UsageError } from "./usage_error.ts";

/**
 * One option: a flag (`boolean`) or one taking a value (`string`), given
 * once (the last one counts) or `multiple` times (all kept, in order).
 *
 * @example
 * ```ts
 * import type { OptionSpec } from "./args.ts";
 * const help: OptionSpec = { type: "boolean", short: "h" };
 * ```
 */
export interface OptionSpec {
  type: "boolean" | "string";
  multiple?: boolean;
  /** A one-letter alias, given as `-x`. */
  short?: string;
}

/**
 * What a command line says.
 *
 * @example
 * ```ts
 * import type { CommandLine } from "./args.ts";
 * const line: CommandLine = { values: { verbose: true }, positionals: ["audit"] };
 * ```
 */
export interface CommandLine {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/**
 * Parses `args` against `options`. Throws a {@linkcode UsageError} saying
 * what is wrong: an unknown option, a value missing, a value given to a
 * flag.
 *
 * @example
 * ```ts
 * import { parseCommandLine } from "./args.ts";
 * parseCommandLine(["--nope"], {}); // throws UsageError: unknown option --nope
 * ```
 */
export function parseCommandLine(
  args: readonly string[],
  options: Readonly<Record<string, OptionSpec>>,
): CommandLine {
  const values: CommandLine["values"] = {};
  const positionals: string[] = [];
  const byShort = new Map<string, string>();
  for (const [name, spec] of Object.entries(options)) {
    if (spec.short) byShort.set(spec.short, name);
  }
  const set = (name: string, value: string | boolean) => {
    if (!options[name].multiple) values[name] = value;
    else ((values[name] ??= []) as (string | boolean)[]).push(value);
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      positionals.push(arg);
      continue;
    }
    if (!arg.startsWith("--")) {
      // Short flags, alone or run together (`-h`, `-hv`).
      for (const letter of arg.slice(1)) {
        const name = byShort.get(letter);
        if (name === undefined) {
          throw new UsageError(`unknown option -${letter}`);
        }
        if (options[name].type === "string") {
          throw new UsageError(
            `option -${letter} needs a value: use --${name}`,
          );
        }
        set(name, true);
      }
      continue;
    }
    const equals = arg.indexOf("=");
    const name = arg.slice(2, equals === -1 ? undefined : equals);
    const spec = Object.hasOwn(options, name) ? options[name] : undefined;
    if (spec === undefined) throw new UsageError(`unknown option --${name}`);
    if (spec.type === "boolean") {
      if (equals !== -1) {
        throw new UsageError(`option --${name} takes no value`);
      }
      set(name, true);
      continue;
    }
    if (equals !== -1) {
      set(name, arg.slice(equals + 1));
      continue;
    }
    const value = args[i + 1];
    // A value that looks like an option is more likely a forgotten value.
    if (value === undefined || (value.startsWith("-") && value.length > 1)) {
      throw new UsageError(
        `option --${name} needs a value (one that starts with - is given as --${name}=VALUE)`,
      );
    }
    set(name, value);
    i++;
  }
  return { values, positionals };
}
