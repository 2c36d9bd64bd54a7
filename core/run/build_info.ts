/**
 * What a release build stamps into the binary: the commit it was built
 * from. tools/compile.ts compiles a copy of the tree in which this file
 * names the commit; in the tree itself it names none (run from source).
 *
 * @example
 * ```ts
 * import { BUILD_COMMIT } from "./build_info.ts";
 * console.log(BUILD_COMMIT ?? "run from source");
 * ```
 * @module
 */

/**
 * The git commit of a compiled binary (`-dirty` when the tree had
 * uncommitted changes); null when run from source.
 *
 * @example
 * ```ts
 * import { BUILD_COMMIT } from "./build_info.ts";
 * BUILD_COMMIT; // null under `deno run`
 * ```
 */
export const BUILD_COMMIT: string | null = null;
