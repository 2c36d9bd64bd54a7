/**
 * node:fs, loaded on first use. It is the one module that needs flags Deno's
 * own file API lacks (`O_NOFOLLOW`, `O_NONBLOCK`, `fchown` on a
 * descriptor), and it is also by far the most expensive module the tool
 * loads: loading it at start-up would make every run, even `--version` or
 * the audit of an empty store, pay for it. So it is loaded by the first
 * code that reads or writes a file, and the scan loads it as soon as the
 * session dir has anything in it, before any check runs: code that must
 * stay synchronous (a check's look at other sidecars) then finds it ready.
 *
 * The default export is used, the object whose methods tests may wrap.
 *
 * @example
 * ```ts
 * import { loadNodeFs } from "./node_fs.ts";
 * const fs = await loadNodeFs();
 * fs.statSync("/srv/sessions");
 * ```
 * @module
 */

import type * as NodeFs from "node:fs";

/**
 * The type of node:fs's default export.
 *
 * @example
 * ```ts
 * import type { Fs } from "./node_fs.ts";
 * declare const fs: Fs;
 * fs.closeSync(3);
 * ```
 */
export type Fs = typeof NodeFs;

let loading: Promise<Fs> | undefined;
let loaded: Fs | undefined;

/**
 * node:fs, loading it on the first call.
 *
 * @example
 * ```ts
 * import { loadNodeFs } from "./node_fs.ts";
 * const { constants } = await loadNodeFs();
 * ```
 */
export function loadNodeFs(): Promise<Fs> {
  return loading ??= import("node:fs").then((m) => loaded = m.default);
}

/**
 * node:fs for synchronous code, once {@linkcode loadNodeFs} has loaded
 * it. Throws, naming the caller's mistake, before that: every path that
 * reaches such code (the scan, a repair's reads) loads it first.
 *
 * @example
 * ```ts
 * import { loadedNodeFs, loadNodeFs } from "./node_fs.ts";
 * await loadNodeFs();
 * loadedNodeFs().readdirSync("/srv/sessions");
 * ```
 */
export function loadedNodeFs(): Fs {
  if (loaded) return loaded;
  throw new Error(
    "internal error: node:fs used before loadNodeFs() (report this as a bug)",
  );
}
