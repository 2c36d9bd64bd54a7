/**
 * The benchmark's baseline: the plainest Deno program that reads every file
 * the audit reads (sidecars, backups, temps, the index, the tombstone, the
 * turn journals line by line) and `JSON.parse`s it, one after another. The
 * audit's time is quoted as a ratio to this one's, measured in the same run
 * on the same store.
 *
 * @example
 * ```sh
 * deno run --allow-read tools/bench_bare_read.ts /path/to/sessions
 * ```
 * @module
 */

import { join } from "node:path";

/**
 * Reads and parses every JSON file of a session dir; returns how many files
 * and bytes it read and how many did not parse.
 *
 * @example
 * ```ts
 * import { bareReadAndParse } from "./bench_bare_read.ts";
 * const { files, bytes, broken } = bareReadAndParse("/path/to/sessions");
 * ```
 */
export function bareReadAndParse(
  sessionDir: string,
): { files: number; bytes: number; broken: number } {
  let files = 0;
  let bytes = 0;
  let broken = 0;
  for (const entry of Deno.readDirSync(sessionDir)) {
    if (!entry.isFile) continue;
    const text = Deno.readTextFileSync(join(sessionDir, entry.name));
    files++;
    bytes += text.length;
    try {
      JSON.parse(text);
    } catch {
      broken++;
    }
  }
  const journals = join(sessionDir, "_turn_journal");
  for (const entry of Deno.readDirSync(journals)) {
    const text = Deno.readTextFileSync(join(journals, entry.name));
    files++;
    bytes += text.length;
    for (const line of text.split("\n")) {
      if (line === "") continue;
      try {
        JSON.parse(line);
      } catch {
        broken++;
      }
    }
  }
  return { files, bytes, broken };
}

if (import.meta.main) {
  console.log(JSON.stringify(bareReadAndParse(Deno.args[0])));
}
