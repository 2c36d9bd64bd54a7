/**
 * POSIX paths and file URLs, as node:path and node:url give them on Linux.
 * The tool uses its own because loading any `node:` module but node:sqlite
 * and node:fs first loads Deno's whole Node layer (its util, errors, buffer
 * and inspect), and that was most of a run's start-up. Paths here are
 * always POSIX: the tool runs on Linux and macOS only.
 *
 * @example
 * ```ts
 * import { join, resolve } from "./path.ts";
 * join("/srv/sessions", "abc.json"); // "/srv/sessions/abc.json"
 * resolve("sessions"); // Deno.cwd() + "/sessions"
 * ```
 * @module
 */

/**
 * `path` with `.` and `..` segments and repeated slashes removed; a
 * trailing slash is kept, and an empty result is `.`.
 *
 * @example
 * ```ts
 * import { normalize } from "./path.ts";
 * normalize("/a//b/../c/."); // "/a/c"
 * ```
 */
export function normalize(path: string): string {
  if (path === "") return ".";
  const absolute = path.startsWith("/");
  const trailing = path.endsWith("/");
  const kept: string[] = [];
  for (const segment of path.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment !== "..") kept.push(segment);
    else if (kept.length > 0 && kept[kept.length - 1] !== "..") kept.pop();
    else if (!absolute) kept.push("..");
  }
  let out = kept.join("/");
  if (out === "" && !absolute) out = ".";
  if (trailing && out !== "" && out !== ".") out += "/";
  else if (trailing && out === ".") out = "./";
  return absolute ? "/" + out : out;
}

/**
 * The parts joined with `/` and normalized; empty parts are skipped.
 *
 * @example
 * ```ts
 * import { join } from "./path.ts";
 * join("/srv", "sessions", "_turn_journal"); // "/srv/sessions/_turn_journal"
 * ```
 */
export function join(...parts: string[]): string {
  const joined = parts.filter((part) => part !== "").join("/");
  return joined === "" ? "." : normalize(joined);
}

/**
 * The absolute path the parts name, from the right until one is absolute,
 * else from the working dir; normalized, with no trailing slash.
 *
 * @example
 * ```ts
 * import { resolve } from "./path.ts";
 * resolve("/srv", "sessions/"); // "/srv/sessions"
 * ```
 */
export function resolve(...parts: string[]): string {
  let path = "";
  for (let i = parts.length - 1; i >= 0 && !path.startsWith("/"); i--) {
    if (parts[i] === "") continue;
    path = path === "" ? parts[i] : `${parts[i]}/${path}`;
  }
  if (!path.startsWith("/")) path = `${Deno.cwd()}/${path}`;
  const out = normalize(path);
  return out.length > 1 && out.endsWith("/") ? out.slice(0, -1) : out;
}

/**
 * True when `path` starts at the root.
 *
 * @example
 * ```ts
 * import { isAbsolute } from "./path.ts";
 * isAbsolute("sessions"); // false
 * ```
 */
export function isAbsolute(path: string): boolean {
  return path.startsWith("/");
}

/** `path` without its trailing slashes, but `/` stays. */
function trimTrailing(path: string): string {
  let end = path.length;
  while (end > 1 && path[end - 1] === "/") end--;
  return path.slice(0, end);
}

/**
 * The last segment of `path`, trailing slashes ignored.
 *
 * @example
 * ```ts
 * import { basename } from "./path.ts";
 * basename("/srv/sessions/abc.json"); // "abc.json"
 * ```
 */
export function basename(path: string): string {
  const trimmed = trimTrailing(path);
  if (trimmed === "/") return "";
  return trimmed.slice(trimmed.lastIndexOf("/") + 1);
}

/**
 * All of `path` but its last segment: `.` when it has one segment, `/`
 * for a segment under the root.
 *
 * @example
 * ```ts
 * import { dirname } from "./path.ts";
 * dirname("/srv/sessions/abc.json"); // "/srv/sessions"
 * ```
 */
export function dirname(path: string): string {
  if (path === "") return ".";
  const trimmed = trimTrailing(path);
  const slash = trimmed.lastIndexOf("/");
  if (slash === -1) return ".";
  if (slash === 0) return "/";
  // POSIX lets a path start with exactly two slashes; node:path keeps them.
  if (slash === 1 && trimmed.startsWith("/")) return "//";
  return trimmed.slice(0, slash);
}

/**
 * The extension of the last segment, from its last dot; empty when it has
 * none, only a leading one, or is `..`.
 *
 * @example
 * ```ts
 * import { extname } from "./path.ts";
 * extname("plugin.ts"); // ".ts"
 * ```
 */
export function extname(path: string): string {
  const base = basename(path);
  const dot = base.lastIndexOf(".");
  if (dot <= 0 || base === "..") return "";
  return base.slice(dot);
}

/**
 * The path from `from` to `to`, both resolved first; empty when they are
 * the same.
 *
 * @example
 * ```ts
 * import { relative } from "./path.ts";
 * relative("/srv/sessions", "/srv/hermes/state.db"); // "../hermes/state.db"
 * ```
 */
export function relative(from: string, to: string): string {
  const a = resolve(from).split("/").filter((s) => s !== "");
  const b = resolve(to).split("/").filter((s) => s !== "");
  let same = 0;
  while (same < a.length && same < b.length && a[same] === b[same]) same++;
  return [...a.slice(same).map(() => ".."), ...b.slice(same)].join("/");
}

/**
 * The `file:` URL of an absolute path, with every character a URL path
 * cannot hold as it is percent-encoded.
 *
 * @example
 * ```ts
 * import { fileUrlOf } from "./path.ts";
 * fileUrlOf("/srv/my plugin.ts").href; // "file:///srv/my%20plugin.ts"
 * ```
 */
export function fileUrlOf(path: string): URL {
  const url = new URL("file:///");
  // The setter leaves `%` alone (it may start an escape), and a path has
  // no escapes: its own `%` is encoded first.
  url.pathname = resolve(path).replaceAll("%", "%25")
    .replaceAll("\\", "%5C").replaceAll("\n", "%0A").replaceAll("\r", "%0D")
    .replaceAll("\t", "%09");
  return url;
}

/**
 * The path of a `file:` URL. Throws a TypeError for another scheme, a
 * host, or an encoded `/`.
 *
 * @example
 * ```ts
 * import { pathOfFileUrl } from "./path.ts";
 * pathOfFileUrl("file:///srv/my%20plugin.ts"); // "/srv/my plugin.ts"
 * ```
 */
export function pathOfFileUrl(url: string | URL): string {
  const parsed = new URL(url);
  if (parsed.protocol !== "file:") {
    throw new TypeError(`not a file URL: ${parsed.href}`);
  }
  if (parsed.hostname !== "") {
    throw new TypeError(`a file URL with a host: ${parsed.href}`);
  }
  if (/%2f/i.test(parsed.pathname)) {
    throw new TypeError(`a file URL with an encoded /: ${parsed.href}`);
  }
  return decodeURIComponent(parsed.pathname);
}
