/**
 * Acting with the store owner's rights: a CLI run as root on a session dir
 * that another user can change (core/io/store_owner.ts) starts itself again
 * as that user (uid and gid; supplementary groups dropped) with the same
 * arguments and stdio, passes on SIGTERM, SIGINT and SIGHUP, and exits
 * with the child's code. Root itself reads and writes nothing in the
 * store. The child is marked (`HERMES_FSCK_AS_OWNER`) and refuses to go on
 * as root, so it can never start itself again.
 *
 * A compiled binary starts `Deno.execPath()` with its arguments; under
 * `deno run` (`Deno.build.standalone` false) it starts `deno run` with the
 * binary's flags (core/run/permissions.ts) and the main module.
 *
 * @example
 * ```ts
 * import { actAsStoreOwner } from "./owner_reexec.ts";
 * const io = { stderr: console.error, env: (name: string) => Deno.env.get(name) };
 * const code = await actAsStoreOwner("/srv/sessions", Deno.args, io);
 * if (code !== null) Deno.exit(code); // the child ran the command
 * ```
 * @module
 */

import { pathOfFileUrl } from "./path.ts";
import { dirname } from "./path.ts";
import { CLI_FLAGS } from "../run/permissions.ts";
import { EXIT } from "../report/report.ts";
import { storeOwner } from "./store_owner.ts";

/** Set in the child's environment to the uid it was started as. */
export const AS_OWNER_ENV = "HERMES_FSCK_AS_OWNER";

/**
 * What {@linkcode actAsStoreOwner} needs of the CLI's io.
 *
 * @example
 * ```ts
 * import type { OwnerIo } from "./owner_reexec.ts";
 * const io: OwnerIo = { stderr: (text) => console.error(text), env: (n) => Deno.env.get(n) };
 * ```
 */
export interface OwnerIo {
  /** Writes an error message. */
  stderr(text: string): void;
  /** Reads an environment variable. */
  env(name: string): string | undefined;
}

/**
 * What a caller does around the run as the store's owner: `start` gives
 * the child's extra environment (it may prepare a place for the child,
 * given to `uid`/`gid`), `finish` gets the child's exit code and returns
 * the one to exit with. Used for `--metrics-file` (core/report/metrics_file.ts).
 *
 * @example
 * ```ts
 * import type { OwnerHandoff } from "./owner_reexec.ts";
 * const handoff: OwnerHandoff = {
 *   start: async () => ({}),
 *   finish: async (code) => code,
 * };
 * ```
 */
export interface OwnerHandoff {
  /** Before the child starts: its extra environment variables. */
  start(uid: number, gid: number): Promise<Record<string, string>>;
  /** After it ended (or could not start): the exit code to return. */
  finish(code: number): Promise<number>;
}

const FORWARDED: Deno.Signal[] = ["SIGTERM", "SIGINT", "SIGHUP"];

/**
 * Runs the command (`args`, the CLI's arguments) as the store's owner when
 * this process is root and the session dir belongs to (or can be changed
 * by) another user: returns the exit code of that run, or of a refusal
 * (8). Returns null when this
 * process should go on itself: not root, not a Unix, or the store is
 * root's own.
 *
 * @example
 * ```ts
 * import { actAsStoreOwner, type OwnerIo } from "./owner_reexec.ts";
 * declare const sessionDir: string;
 * declare const io: OwnerIo;
 * const code = await actAsStoreOwner(sessionDir, ["audit"], io);
 * if (code !== null) Deno.exit(code);
 * ```
 */
export async function actAsStoreOwner(
  sessionDir: string,
  args: readonly string[],
  io: OwnerIo,
  handoff?: OwnerHandoff,
): Promise<number | null> {
  if (Deno.build.os === "windows") return null;
  let uid: number | null;
  try {
    uid = Deno.uid();
  } catch {
    // A program built without --allow-sys=uid cannot tell; it goes on
    // with its writes that follow no link.
    return null;
  }
  const marked = io.env(AS_OWNER_ENV);
  if (uid === 0 && marked !== undefined) {
    return refuse(
      io,
      `${AS_OWNER_ENV} is set, so this run was to act as uid ${marked}, ` +
        `but it runs as root; unset ${AS_OWNER_ENV} and run again`,
    );
  }
  if (uid !== 0) return null;
  const owner = await storeOwner(sessionDir);
  if (owner.kind === "root") return null;
  if (owner.kind === "refused") return refuse(io, owner.message);
  if (!handoff) return await runAs(owner, args, io, {});
  const env = await handoff.start(owner.uid, owner.gid);
  return await handoff.finish(await runAs(owner, args, io, env));
}

async function runAs(
  { uid, gid, path }: { uid: number; gid: number; path: string },
  commandArgs: readonly string[],
  io: OwnerIo,
  extraEnv: Record<string, string>,
): Promise<number> {
  const program = Deno.execPath();
  const args = Deno.build.standalone
    ? [...commandArgs]
    : ["run", ...CLI_FLAGS, Deno.mainModule, ...commandArgs];
  const who = `uid ${uid} (gid ${gid}), the owner of ${path}`;
  const unreadable = Deno.build.standalone
    ? null
    : await unreachable(pathOfFileUrl(Deno.mainModule), uid, gid, 0o4);
  if (unreadable) {
    return refuse(
      io,
      `as root on a store another user owns, hermes-fsck runs as ${who}, ` +
        `but that user cannot read ${unreadable}; put the program where ` +
        `uid ${uid} can read it and run again`,
    );
  }
  const cwd = Deno.cwd();
  const shut = await unreachable(cwd, uid, gid, 0o1);
  if (shut) {
    return refuse(
      io,
      `as root on a store another user owns, hermes-fsck runs as ${who}, ` +
        `but that user cannot enter ${shut}, on the way to the current dir ` +
        `${cwd}; cd / (or to a dir uid ${uid} can enter) and run again`,
    );
  }
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(program, {
      args,
      uid,
      gid,
      env: { ...extraEnv, [AS_OWNER_ENV]: String(uid) },
      stdin: "inherit",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn();
  } catch (error) {
    return refuse(
      io,
      `as root on a store another user owns, hermes-fsck runs as ${who}, ` +
        `but it could not start ${program} as that user (${
          (error as Error).message
        }); install the binary where uid ${uid} can run it (e.g. ` +
        `/usr/local/bin, mode 0755, every dir above it searchable) and run ` +
        `again`,
    );
  }
  let forwarded = false;
  const listeners = FORWARDED.map((signal) => {
    const listener = () => {
      forwarded = true;
      try {
        child.kill(signal);
      } catch { /* it has just exited */ }
    };
    Deno.addSignalListener(signal, listener);
    return [signal, listener] as const;
  });
  try {
    const status = await child.status;
    if (status.signal === null) return status.code;
    if (forwarded) return EXIT.INTERRUPTED;
    return refuse(
      io,
      `the run as ${who} was killed by ${status.signal}; see what stopped ` +
        `it (the OOM killer, a kill) and run again`,
    );
  } finally {
    for (const [signal, listener] of listeners) {
      Deno.removeSignalListener(signal, listener);
    }
  }
}

function refuse(io: OwnerIo, message: string): number {
  io.stderr(`hermes-fsck: ${message} [exit ${EXIT.OPERATIONAL_ERROR}]\n`);
  return EXIT.OPERATIONAL_ERROR;
}

/**
 * The first part of `path` that `uid`/`gid` (no other groups) cannot reach
 * with `want` (4 read, 1 execute) on the file and search on every dir
 * above it, by mode bits; null when every part can.
 *
 * @example
 * ```ts
 * import { unreachable } from "./owner_reexec.ts";
 * await unreachable("/var/lib/node_exporter", 1000, 1000, 0o1); // null: uid 1000 can enter it
 * ```
 */
export async function unreachable(
  path: string,
  uid: number,
  gid: number,
  want: number,
): Promise<string | null> {
  const parts: [string, number][] = [[path, want]];
  for (let dir = dirname(path);; dir = dirname(dir)) {
    parts.unshift([dir, 0o1]);
    if (dirname(dir) === dir) break;
  }
  for (const [part, need] of parts) {
    const info = await Deno.stat(part).catch(() => null);
    if (info === null || info.mode === null) return part;
    const bits = info.uid === uid
      ? info.mode >> 6
      : info.gid === gid
      ? info.mode >> 3
      : info.mode;
    if ((bits & need) !== need) return part;
  }
  return null;
}
