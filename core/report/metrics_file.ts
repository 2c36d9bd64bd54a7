/**
 * Writing `--metrics-file PATH` the way node_exporter's textfile collector
 * expects: a temp file beside it (a hidden name not ending in `.prom`, so
 * the collector never reads it half written), created new without
 * following any link, fsynced, mode 0644, then renamed over PATH. The
 * rename replaces whatever PATH was, a planted symlink included, and never
 * writes through it.
 *
 * PATH is outside the store, where the operator says, and is written by
 * the user who invoked hermes-fsck. As root on a store another user owns,
 * the run itself is that user's (core/io/owner_reexec.ts), who may not be
 * allowed to write there, and whose files root should not copy blindly.
 * So root makes a dir of its own for that run (beside PATH when that user
 * can get there, else in the temp dir; mode 0730, group the user's: the
 * user can add a file but not swap the dir), and the run writes its
 * metrics there (`HERMES_FSCK_METRICS_HANDOFF`); root then reads that file
 * as untrusted input (no link, regular, at most 1 MiB, the text format
 * with this tool's names only) and writes PATH itself, or a file with only
 * the exit code when the run left none.
 *
 * @example
 * ```ts
 * import { writeMetricsFile } from "./metrics_file.ts";
 * declare const text: string;
 * await writeMetricsFile("/var/lib/node_exporter/hermes_fsck.prom", text);
 * ```
 * @module
 */

import { basename, dirname, join, resolve } from "../io/path.ts";
import { createNoFollow } from "../io/new_file.ts";
import { readRegularFile } from "../io/file_read.ts";
import { isMetricsText, metricsText } from "./metrics.ts";
import { type OwnerHandoff, unreachable } from "../io/owner_reexec.ts";
import { storeOwner } from "../io/store_owner.ts";

/** Set in the store owner's run to the dir root made for its metrics. */
export const METRICS_HANDOFF_ENV = "HERMES_FSCK_METRICS_HANDOFF";

/** The name of the handed-off file in that dir. */
const HANDOFF_NAME = "metrics.prom";

/** More than any run's metrics; a bigger handed-off file is not copied. */
const MAX_METRICS_BYTES = 1 << 20;

/**
 * Writes `text` to `path` by temp file and rename, never through a link.
 * Throws an Error that names the path and what to do.
 *
 * @example
 * ```ts
 * import { writeMetricsFile } from "./metrics_file.ts";
 * await writeMetricsFile("/tmp/hermes_fsck.prom", "hermes_fsck_exit_code{} 0\n");
 * ```
 */
export async function writeMetricsFile(
  path: string,
  text: string,
): Promise<void> {
  const target = resolve(path);
  const temp = join(
    dirname(target),
    `.${basename(target)}.${Deno.pid}.${crypto.randomUUID().slice(0, 8)}.tmp`,
  );
  try {
    await createNoFollow(temp, new TextEncoder().encode(text), {
      mode: 0o644,
      uid: null,
      gid: null,
    });
    try {
      await Deno.rename(temp, target);
    } catch (error) {
      await Deno.remove(temp).catch(() => {});
      throw error;
    }
  } catch (error) {
    throw new Error(
      `cannot write the metrics file ${target} (${
        (error as Error).message
      }); give --metrics-file a path in a dir this user can write`,
    );
  }
}

/** The dir `Deno.makeTempDir` uses. */
function tempRoot(): string {
  return Deno.env.get("TMPDIR") || "/tmp";
}

/**
 * Why root must not write in `dir`: a user other than root can change it or
 * a dir above it (as the store owner's rules say, core/io/store_owner.ts), and
 * could redirect what root writes there; null when only root can.
 */
async function rootOnlyProblem(
  dir: string,
  what: string,
): Promise<string | null> {
  const owner = await storeOwner(dir);
  if (owner.kind === "root") return null;
  if (owner.kind === "user") {
    return `the ${what} ${dir} can be changed by uid ${owner.uid} (${owner.path}), ` +
      `who could redirect what root writes there`;
  }
  return `the ${what} ${dir} is not root's alone: ${owner.message}`;
}

/**
 * Why this process may not write `--metrics-file PATH`: as root, PATH's
 * dir must be one only root can change (root-owned up from /, no dir open
 * to others without the sticky bit), else another user could redirect the
 * file root writes. Null when it may (and always when not root).
 *
 * @example
 * ```ts
 * import { metricsPathProblem } from "./metrics_file.ts";
 * const problem = await metricsPathProblem("/var/lib/node_exporter/hermes_fsck.prom");
 * if (problem) console.error(problem);
 * ```
 */
export async function metricsPathProblem(
  path: string,
): Promise<string | null> {
  let uid: number;
  try {
    uid = Deno.uid() ?? -1;
  } catch {
    return null;
  }
  if (uid !== 0) return null;
  const target = resolve(path);
  const problem = await rootOnlyProblem(dirname(target), "dir");
  if (problem === null) return null;
  return `--metrics-file ${target}: ${problem}; as root, give a path in a ` +
    `dir only root can change (root-owned, mode 0755), or run hermes-fsck ` +
    `as that dir's owner`;
}

/**
 * Where a run writes its metrics: PATH itself; in a run as the store's
 * owner, the file in the dir root handed it, or nowhere (null) when root
 * could not make one and writes PATH alone.
 *
 * @example
 * ```ts
 * import { metricsTarget } from "./metrics_file.ts";
 * metricsTarget("/tmp/m.prom", (name) => Deno.env.get(name), true);
 * ```
 */
export function metricsTarget(
  path: string,
  env: (name: string) => string | undefined,
  asOwner: boolean,
): string | null {
  const handed = env(METRICS_HANDOFF_ENV);
  if (!asOwner || handed === undefined) return resolve(path);
  return handed === "" ? null : join(handed, HANDOFF_NAME);
}

/**
 * The hand-off for a run as the store's owner: a private dir beside `path`
 * for it, then PATH written by root from what it left there.
 *
 * @example
 * ```ts
 * import { metricsHandoff } from "./metrics_file.ts";
 * import { actAsStoreOwner, type OwnerIo } from "../io/owner_reexec.ts";
 * declare const sessionDir: string;
 * declare const args: string[];
 * declare const io: OwnerIo;
 * const handoff = metricsHandoff("/tmp/m.prom", { command: "preen", sessionDir, startedAt: Date.now() }, (text) => io.stderr(text));
 * await actAsStoreOwner(sessionDir, args, io, handoff);
 * ```
 */
export function metricsHandoff(
  path: string,
  run: { command: string; sessionDir: string; startedAt: number },
  stderr: (text: string) => void,
): OwnerHandoff {
  const target = resolve(path);
  let dir: string | null = null;
  return {
    async start(uid, gid): Promise<Record<string, string>> {
      try {
        // Beside PATH when the owner can get there, else in the temp dir;
        // either only root can change (the owner cannot swap the new dir
        // between its creation and the chown below).
        const beside = dirname(target);
        const reachable = await unreachable(beside, uid, gid, 0o1) === null;
        const parent = reachable ? beside : tempRoot();
        const problem = await rootOnlyProblem(parent, "hand-off dir");
        if (problem !== null) throw new Error(problem);
        dir = await Deno.makeTempDir({
          dir: parent,
          prefix: ".hermes-fsck-metrics.",
        });
        await Deno.chown(dir, null, gid);
        await Deno.chmod(dir, 0o730);
      } catch (error) {
        stderr(
          `hermes-fsck: warning: cannot make a dir for the metrics beside ${target} (${
            (error as Error).message
          }); the metrics file will hold the exit code only\n`,
        );
        dir = null;
        return { [METRICS_HANDOFF_ENV]: "" };
      }
      return { [METRICS_HANDOFF_ENV]: dir };
    },
    async finish(code) {
      let text: string | null = null;
      if (dir !== null) {
        const read = await readRegularFile(
          join(dir, HANDOFF_NAME),
          MAX_METRICS_BYTES,
        );
        if (read.ok) {
          const decoded = new TextDecoder("utf-8", { fatal: true });
          try {
            const candidate = decoded.decode(read.value);
            if (isMetricsText(candidate)) text = candidate;
          } catch { /* not UTF-8: not ours */ }
        }
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
      text ??= metricsText({
        ...run,
        exitCode: code,
        durationMs: Date.now() - run.startedAt,
        report: null,
      });
      try {
        await writeMetricsFile(target, text);
      } catch (error) {
        stderr(`hermes-fsck: ${(error as Error).message} [exit 8]\n`);
        return code | 8;
      }
      return code;
    },
  };
}
