/**
 * Finds the plugins a run was asked for: `--plugin PATH` (repeatable) and
 * the executables of a plugin dir (`--plugin-dir`, else
 * `$HERMES_FSCK_PLUGIN_DIR`). An executable becomes an external check
 * program; a `.ts` module, under `deno run` only, is imported and its
 * exported checks join the built-in ones. A compiled binary cannot import
 * TypeScript, so there a `.ts` plugin is a usage error that says what to do
 * instead.
 *
 * @example
 * ```ts
 * import { loadPlugins } from "./plugin_load.ts";
 * import { builtinChecks } from "../../checks/builtin.ts";
 * const { programs, checks } = await loadPlugins({
 *   paths: ["./big-sessions.py", "./my-check.ts"],
 *   dir: Deno.env.get("HERMES_FSCK_PLUGIN_DIR") ?? null,
 *   standalone: Deno.build.standalone,
 * }, builtinChecks);
 * ```
 * @module
 */

import { basename, extname, join, resolve } from "../io/path.ts";
import { fileUrlOf } from "../io/path.ts";
import { type Check, type CheckDefinition, defineCheck } from "./check.ts";
import type { ExternalPlugin } from "./plugin_runner.ts";
import { PIPELINE_KINDS } from "./pipeline.ts";

/**
 * The environment variable naming the default plugin dir.
 *
 * @example
 * ```ts
 * import { PLUGIN_DIR_ENV } from "./plugin_load.ts";
 * const dir = Deno.env.get(PLUGIN_DIR_ENV) ?? null; // "HERMES_FSCK_PLUGIN_DIR"
 * ```
 */
export const PLUGIN_DIR_ENV = "HERMES_FSCK_PLUGIN_DIR";

/**
 * Where plugins come from.
 *
 * @example
 * ```ts
 * import type { PluginSources } from "./plugin_load.ts";
 * const sources: PluginSources = { paths: ["./check.py"], dir: null, standalone: false };
 * ```
 */
export interface PluginSources {
  /** `--plugin` paths, in order. */
  paths: readonly string[];
  /** The plugin dir, or null for none. */
  dir: string | null;
  /** True in a compiled binary (`Deno.build.standalone`). */
  standalone: boolean;
}

/**
 * The plugins of a run.
 *
 * @example
 * ```ts
 * import { type PluginSources, type LoadedPlugins, loadPlugins } from "./plugin_load.ts";
 * import { builtinChecks } from "../../checks/builtin.ts";
 * declare const sources: PluginSources;
 * const { programs, checks, warnings }: LoadedPlugins = await loadPlugins(sources, builtinChecks);
 * ```
 */
export interface LoadedPlugins {
  /** External check programs, in order: `--plugin` ones, then the dir's by name. */
  programs: ExternalPlugin[];
  /** Checks exported by `.ts` modules. */
  checks: Check[];
  /** Files of the plugin dir that were left out, and why. */
  warnings: string[];
}

/**
 * A plugin that cannot be used; `usage` is true when the command line asked
 * for something this build cannot do (exit 16), else the file is at fault
 * (exit 8).
 *
 * @example
 * ```ts
 * import { loadPlugins, PluginLoadError } from "./plugin_load.ts";
 * try {
 *   await loadPlugins({ paths: ["./missing"], dir: null, standalone: false }, []);
 * } catch (error) {
 *   if (error instanceof PluginLoadError) console.log(error.usage, error.message);
 * }
 * ```
 */
export class PluginLoadError extends Error {
  /** True for a usage error (exit 16), false for an operational one (exit 8). */
  readonly usage: boolean;

  /**
   * Makes the error.
   *
   * @example
   * ```ts
   * import { PluginLoadError } from "./plugin_load.ts";
   * throw new PluginLoadError("plugin ./x does not exist", false);
   * ```
   */
  constructor(message: string, usage: boolean) {
    super(message);
    this.name = "PluginLoadError";
    this.usage = usage;
  }
}

const MODULE_EXTENSIONS = new Set([".ts", ".mts"]);
const WINDOWS_EXECUTABLES = new Set([".exe", ".com", ".bat", ".cmd"]);

/**
 * Resolves and loads the plugins. `existing` are the checks already in the
 * run: a module's check may not reuse their ids or kinds.
 *
 * @example
 * ```ts
 * import { loadPlugins } from "./plugin_load.ts";
 * import { builtinChecks } from "../../checks/builtin.ts";
 * await loadPlugins({ paths: ["./x.ts"], dir: null, standalone: true }, builtinChecks);
 * // throws PluginLoadError: a compiled binary cannot load ./x.ts ...
 * ```
 */
export async function loadPlugins(
  sources: PluginSources,
  existing: readonly Check[],
): Promise<LoadedPlugins> {
  const loaded: LoadedPlugins = { programs: [], checks: [], warnings: [] };
  const seen = new Set<string>();
  for (const path of sources.paths) {
    const absolute = resolve(path);
    if (MODULE_EXTENSIONS.has(extname(path).toLowerCase())) {
      if (sources.standalone) {
        throw new PluginLoadError(standaloneHint(path), true);
      }
      if (seen.has(absolute)) continue;
      seen.add(absolute);
      loaded.checks.push(
        ...await importChecks(path, absolute, [...existing, ...loaded.checks]),
      );
      continue;
    }
    const problem = await notExecutable(absolute);
    if (problem) throw new PluginLoadError(`plugin ${path} ${problem}`, false);
    addProgram(loaded, seen, absolute);
  }
  if (sources.dir) {
    const dir = resolve(sources.dir);
    let names: string[];
    try {
      names = [];
      for await (const entry of Deno.readDir(dir)) names.push(entry.name);
    } catch (error) {
      throw new PluginLoadError(
        `plugin dir ${dir} cannot be listed (${
          (error as Error).message
        }); check --plugin-dir or ${PLUGIN_DIR_ENV}`,
        false,
      );
    }
    for (const name of names.sort()) {
      if (name.startsWith(".")) continue;
      const path = join(dir, name);
      const problem = await notExecutable(path);
      if (problem === null) addProgram(loaded, seen, path);
      else if (problem !== "is not a file") {
        loaded.warnings.push(`skipped plugin ${path}: it ${problem}`);
      }
    }
  }
  return loaded;
}

function addProgram(loaded: LoadedPlugins, seen: Set<string>, path: string) {
  if (seen.has(path)) return;
  seen.add(path);
  loaded.programs.push({ name: basename(path), path });
}

/** Null when `path` is an executable file, else what is wrong with it. */
async function notExecutable(path: string): Promise<string | null> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    return error instanceof Deno.errors.NotFound
      ? "does not exist"
      : `cannot be read (${(error as Error).message})`;
  }
  if (!info.isFile) return "is not a file";
  if (Deno.build.os === "windows") {
    return WINDOWS_EXECUTABLES.has(extname(path).toLowerCase())
      ? null
      : "is not an .exe, .com, .bat or .cmd file";
  }
  return (info.mode ?? 0) & 0o111 ? null : "is not executable (chmod +x it)";
}

function standaloneHint(path: string): string {
  return `--plugin ${path}: this hermes-fsck is a compiled binary, which cannot ` +
    "load TypeScript. Either build your own binary that imports mod.ts and " +
    "adds the check (examples/library/), or make the check an executable " +
    "that speaks the plugin protocol (docs/plugins.md, 'External check programs'; " +
    "examples/plugins/)";
}

async function importChecks(
  path: string,
  absolute: string,
  existing: readonly Check[],
): Promise<Check[]> {
  let module: Record<string, unknown>;
  try {
    module = await import(fileUrlOf(absolute).href);
  } catch (error) {
    throw new PluginLoadError(
      `check module ${path} cannot be loaded: ${(error as Error).message}`,
      false,
    );
  }
  const ids = new Set(existing.map((c) => c.id));
  const kinds = new Set(
    [...PIPELINE_KINDS, ...existing.flatMap((c) => c.kinds)].map((k) => k.kind),
  );
  const checks: Check[] = [];
  for (const [name, value] of Object.entries(module)) {
    if (!looksLikeCheck(value)) continue;
    let check: Check;
    try {
      check = defineCheck(value);
    } catch (error) {
      throw new PluginLoadError(
        `check module ${path}: ${(error as Error).message}`,
        false,
      );
    }
    const fault = ids.has(check.id)
      ? `the check id ${check.id} is taken`
      : check.kinds.find((k) => kinds.has(k.kind))
      ? `a kind of check ${check.id} is taken (${
        check.kinds.find((k) => kinds.has(k.kind))!.kind
      })`
      : check.kinds.some((k) => k.category === "repairable" || k.repair)
      ? `check ${check.id} declares a repairable kind, but a loaded check ` +
        "only reports; custom repairs need your own binary (examples/library/)"
      : null;
    if (fault) {
      throw new PluginLoadError(
        `check module ${path} (export ${name}): ${fault}`,
        false,
      );
    }
    ids.add(check.id);
    for (const k of check.kinds) kinds.add(k.kind);
    checks.push(check);
  }
  if (checks.length === 0) {
    throw new PluginLoadError(
      `check module ${path} exports no check (make one with defineCheck from mod.ts)`,
      false,
    );
  }
  return checks;
}

function looksLikeCheck(value: unknown): value is CheckDefinition {
  if (typeof value !== "object" || value === null) return false;
  const check = value as Record<string, unknown>;
  return typeof check.id === "string" && typeof check.kinds === "object" &&
    check.kinds !== null &&
    (typeof check.create === "function" || typeof check.run === "function");
}
