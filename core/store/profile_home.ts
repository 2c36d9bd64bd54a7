/**
 * Which agent home a session belongs to, as today's server resolves a
 * sidecar's `profile`: no profile, an empty or non-string one, `default`,
 * or a name that fails the profile-name rule, all mean the default home
 * (`$HERMES_HOME`); a valid name means `<base>/profiles/<name>`, where the
 * base is `$HERMES_BASE_HOME`, else `$HERMES_HOME`, else `~/.hermes`, one
 * that is itself a `profiles/<name>` dir taken two levels up. A name
 * becomes a path component only when it passes the rule, so `..`, `.` and
 * `a/b` never reach a path.
 *
 * @example
 * ```ts
 * import { isValidProfileName, profileOf } from "./profile_home.ts";
 * isValidProfileName("work-2"); // true
 * profileOf("../x"); // null: the default home
 * ```
 * @module
 */

import { basename, dirname, join } from "../io/path.ts";
import type { EnvReader } from "./default_paths.ts";
import type { SessionFiles } from "../scan/store_snapshot.ts";

/**
 * The server's profile-name rule (`_PROFILE_ID_RE`), the only names that
 * may become a dir under `profiles/`.
 *
 * @example
 * ```ts
 * import { PROFILE_NAME } from "./profile_home.ts";
 * PROFILE_NAME.test("work"); // true
 * ```
 */
export const PROFILE_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** The name of the default (root) profile. */
const DEFAULT_PROFILE = "default";

/**
 * True when `name` may name a dir under `profiles/`.
 *
 * @example
 * ```ts
 * import { isValidProfileName } from "./profile_home.ts";
 * isValidProfileName("work"); // true
 * isValidProfileName(".."); // false
 * isValidProfileName("Work"); // false: upper case
 * ```
 */
export function isValidProfileName(name: unknown): name is string {
  return typeof name === "string" && PROFILE_NAME.test(name);
}

/**
 * The named profile a sidecar's `profile` value stands for, or null for the
 * default home (what the server falls back to for anything else).
 *
 * @example
 * ```ts
 * import { profileOf } from "./profile_home.ts";
 * profileOf("work"); // "work"
 * profileOf("default"); // null
 * profileOf(null); // null
 * ```
 */
export function profileOf(value: unknown): string | null {
  return isValidProfileName(value) && value !== DEFAULT_PROFILE ? value : null;
}

/**
 * The named profile of a session, from its live sidecar, else its backup
 * (a session whose sidecar is lost still names its profile there); null
 * for the default home or when neither can be read.
 *
 * @example
 * ```ts
 * import { sessionProfile } from "./profile_home.ts";
 * import type { StoreSnapshot } from "../scan/store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * const profile = sessionProfile(store.sessions.get("abc")!);
 * ```
 */
export function sessionProfile(
  session: SessionFiles | undefined,
): string | null {
  for (const file of [session?.live, session?.backup]) {
    const read = file?.read;
    if (read?.ok && read.value.shape === "object") {
      return profileOf(read.value.meta.profile);
    }
  }
  return null;
}

/**
 * The base home that holds `profiles/`: `$HERMES_BASE_HOME`, else
 * `$HERMES_HOME`, else `~/.hermes`; one that is a `profiles/<name>` dir
 * itself is taken two levels up, as the server does.
 *
 * @example
 * ```ts
 * import { baseHermesHome } from "./profile_home.ts";
 * baseHermesHome((n) => ({ HERMES_HOME: "/h/profiles/work" } as Record<string, string>)[n]); // "/h"
 * ```
 */
export function baseHermesHome(env: EnvReader): string {
  const home = env("HOME") || env("USERPROFILE") || ".";
  const base = env("HERMES_BASE_HOME")?.trim() || env("HERMES_HOME")?.trim() ||
    join(home, ".hermes");
  return basename(dirname(base)) === "profiles" ? dirname(dirname(base)) : base;
}

/**
 * The home of a named profile: `<base>/profiles/<name>`. Throws for a name
 * that fails the rule, so no caller can make a path of one.
 *
 * @example
 * ```ts
 * import { namedProfileHome } from "./profile_home.ts";
 * namedProfileHome("/root/.hermes", "work"); // "/root/.hermes/profiles/work"
 * ```
 */
export function namedProfileHome(base: string, name: string): string {
  if (!isValidProfileName(name)) {
    throw new TypeError(`invalid profile name ${JSON.stringify(name)}`);
  }
  return join(base, "profiles", name);
}
