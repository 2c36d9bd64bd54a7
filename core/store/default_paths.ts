/**
 * Where a Hermes installation keeps its store, as Hermes itself decides:
 * the session dir is `<state dir>/sessions`, where the state dir is
 * `$HERMES_WEBUI_STATE_DIR`, else `$HERMES_HOME/webui` (since v0.51.528;
 * before, `~/.hermes/webui` even with `$HERMES_HOME` set), else
 * `~/.hermes/webui`; state.db is `$HERMES_HOME/state.db`, else
 * `~/.hermes/state.db`.
 *
 * @example
 * ```ts
 * import { defaultPaths } from "./default_paths.ts";
 * const { sessionDir, stateDb } = defaultPaths((name) => Deno.env.get(name));
 * ```
 * @module
 */

import { join } from "../io/path.ts";

/**
 * Reads an environment variable.
 *
 * @example
 * ```ts
 * import type { EnvReader } from "./default_paths.ts";
 * const env: EnvReader = (name) => Deno.env.get(name);
 * ```
 */
export type EnvReader = (name: string) => string | undefined;

/**
 * The store paths Hermes would use.
 *
 * @example
 * ```ts
 * import { type EnvReader, type StorePaths, defaultPaths } from "./default_paths.ts";
 * declare const env: EnvReader;
 * const { sessionDir, stateDb, hermesHome }: StorePaths = defaultPaths(env);
 * ```
 */
export interface StorePaths {
  /** The WebUI session dir. */
  sessionDir: string;
  /** Where state.db would be; used only if it exists. */
  stateDb: string;
  /** The agent's home (core transcripts live in its `sessions/`). */
  hermesHome: string;
}

/**
 * Resolves the default paths from the environment.
 *
 * @example
 * ```ts
 * import { defaultPaths } from "./default_paths.ts";
 * defaultPaths((n) => ({ HOME: "/root" } as Record<string, string>)[n]).sessionDir;
 * // "/root/.hermes/webui/sessions"
 * ```
 */
export function defaultPaths(env: EnvReader): StorePaths {
  const home = env("HOME") || env("USERPROFILE") || ".";
  const hermesHome = env("HERMES_HOME") || join(home, ".hermes");
  // Today's server: an installation that moves HERMES_HOME moves the WebUI
  // state with it.
  const stateDir = env("HERMES_WEBUI_STATE_DIR") || join(hermesHome, "webui");
  return {
    sessionDir: join(stateDir, "sessions"),
    stateDb: join(hermesHome, "state.db"),
    hermesHome,
  };
}
