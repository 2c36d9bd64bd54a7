/**
 * Helpers for the plugin tests: executables and check modules written into
 * a temp dir, and the paths of the worked examples.
 *
 * @example
 * ```ts
 * import { writeExecutable } from "./plugin_support.ts";
 * const path = await writeExecutable(dir, "fails.sh", "#!/bin/sh\nexit 3\n");
 * ```
 * @module
 */

import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const ROOT: string = fileURLToPath(new URL("..", import.meta.url));

/** A file of the repository, by its path relative to the root. */
export function repoPath(path: string): string {
  return join(ROOT, path);
}

/** The shell example plugin. */
export const SHELL_EXAMPLE: string = repoPath(
  "examples/plugins/low_disk_space.sh",
);
/** The Python example plugin. */
export const PYTHON_EXAMPLE: string = repoPath(
  "examples/plugins/big_sessions.py",
);

/**
 * Writes an executable file (mode 0755) and returns its path.
 *
 * @example
 * ```ts
 * await writeExecutable(dir, "ok.sh", "#!/bin/sh\ncat >/dev/null\n");
 * ```
 */
export async function writeExecutable(
  dir: string,
  name: string,
  content: string,
): Promise<string> {
  const path = join(dir, name);
  await Deno.writeTextFile(path, content);
  await Deno.chmod(path, 0o755);
  return path;
}

/** A shell plugin that reads its input and prints the given lines. */
export function shellPlugin(lines: string[], tail = ""): string {
  const printed = lines.map((line) => `printf '%s\\n' '${line}'`).join("\n");
  return `#!/bin/sh\ncat >/dev/null\n${printed}\n${tail}\n`;
}
