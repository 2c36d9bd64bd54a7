/**
 * The deno binary the CLI tests start. Run as root on a store another user
 * owns, the CLI starts itself again as that user, who must be able to run
 * deno; here deno lives under /root (0700). So as root the tests start a
 * copy (a hard link when it can be) in a root-owned 0755 dir of its own in
 * the temp dir, made once per binary and shared by every test process
 * (built under a temp name, then renamed into place).
 *
 * @example
 * ```ts
 * import { CLI_DENO } from "./cli_deno.ts";
 * new Deno.Command(CLI_DENO, { args: ["--version"] });
 * ```
 * @module
 */

import { dirname, join } from "node:path";

/**
 * True when this process runs as root. Deno.uid() needs --allow-sys, which
 * the test run does not grant: the owner of a file this process creates is
 * this process's user.
 *
 * @example
 * ```ts
 * if (!IS_ROOT) console.warn("skipped: needs root");
 * ```
 */
export const IS_ROOT: boolean = (() => {
  const probe = Deno.makeTempFileSync({ prefix: "hermes-fsck-uid-" });
  try {
    return Deno.statSync(probe).uid === 0;
  } finally {
    Deno.removeSync(probe);
  }
})();

/** A root-owned dir closed to others, holding a root-owned 0755 `deno`. */
function usable(dir: string): boolean {
  try {
    const info = Deno.lstatSync(dir);
    const bin = Deno.lstatSync(join(dir, "deno"));
    return info.isDirectory && info.uid === 0 &&
      ((info.mode ?? 0) & 0o7777) === 0o755 && bin.isFile && bin.uid === 0 &&
      ((bin.mode ?? 0) & 0o7777) === 0o755;
  } catch {
    return false;
  }
}

function everyoneDeno(): string {
  const real = Deno.execPath();
  if (!IS_ROOT) return real;
  const info = Deno.statSync(real);
  const building = Deno.makeTempDirSync({ prefix: "hermes-fsck-deno-" });
  const dir = join(
    dirname(building),
    `hermes-fsck-test-deno-${info.dev}-${info.ino}-${info.size}-${
      info.mtime?.getTime() ?? 0
    }`,
  );
  if (usable(dir)) {
    Deno.removeSync(building);
    return join(dir, "deno");
  }
  Deno.chmodSync(building, 0o755);
  const copy = join(building, "deno");
  try {
    Deno.linkSync(real, copy);
  } catch {
    Deno.copyFileSync(real, copy);
  }
  Deno.chmodSync(copy, 0o755);
  try {
    Deno.renameSync(building, dir);
  } catch {
    // Another test process won the race: use its copy.
    Deno.removeSync(building, { recursive: true });
  }
  if (!usable(dir)) {
    throw new Error(
      `${dir} is not a root-owned 0755 dir holding deno; remove it and run the tests again`,
    );
  }
  return join(dir, "deno");
}

/**
 * The deno the CLI tests run: `Deno.execPath()`, or as root a copy every
 * user can run.
 *
 * @example
 * ```ts
 * new Deno.Command(CLI_DENO, { args: ["run", "cli.ts", "--version"] });
 * ```
 */
export const CLI_DENO: string = (() => {
  try {
    return everyoneDeno();
  } catch (error) {
    // A process with fewer permissions (the fake server) never runs the CLI.
    if (error instanceof Deno.errors.NotCapable) return Deno.execPath();
    throw error;
  }
})();
