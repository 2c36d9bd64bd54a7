/**
 * What `hermes-fsck --version` prints: the version, the commit it was
 * built from, the target it runs on and the Deno it was built with, so a
 * bug report or a fleet inventory names the exact build.
 *
 * @example
 * ```ts
 * import { versionText } from "./version_text.ts";
 * console.log(versionText());
 * ```
 * @module
 */

import { BUILD_COMMIT } from "./build_info.ts";
import { TOOL_VERSION } from "./version.ts";

/**
 * The `--version` text, one fact a line; the first line is
 * `hermes-fsck VERSION`, as scripts that read it expect.
 *
 * @example
 * ```ts
 * import { versionText } from "./version_text.ts";
 * versionText();
 * // "hermes-fsck 0.1.0\ncommit: 4280fb4c1d2e\ntarget: x86_64-unknown-linux-gnu\ndeno: 2.9.6\n"
 * ```
 */
export function versionText(commit: string | null = BUILD_COMMIT): string {
  return [
    `hermes-fsck ${TOOL_VERSION}`,
    `commit: ${commit ?? "none (run from source, not a release build)"}`,
    `target: ${Deno.build.target}`,
    `deno: ${Deno.version.deno}`,
    "",
  ].join("\n");
}
