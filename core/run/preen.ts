/**
 * `hermes-fsck preen`, e2fsck's `-p` for init systems that treat any
 * non-zero exit as failure (Kubernetes initContainers, systemd
 * `ExecStartPre`): it runs `repair` with the same flags, and its exit code
 * says only whether the server may start. Repairs made are no reason to
 * stop it, so `repair`'s bit 1 is dropped: 0 when nothing repairable is
 * left and every unsafe finding left was acknowledged by a person, 4 when
 * the server may not start, 8 on an operational error, 32 when
 * interrupted (bits of a mask, as `repair`'s).
 *
 * @example
 * ```ts
 * import { preenExitCode } from "./preen.ts";
 * preenExitCode(1); // 0: repaired, nothing left
 * preenExitCode(5); // 4: repaired, but problems remain
 * ```
 * @module
 */

import { EXIT } from "../report/report.ts";

/**
 * The exit code of `preen` for a repair run that exited with `code`.
 *
 * @example
 * ```ts
 * import { preenExitCode } from "./preen.ts";
 * import { EXIT } from "../report/report.ts";
 * preenExitCode(EXIT.REPAIRED | EXIT.INTERRUPTED); // 32
 * ```
 */
export function preenExitCode(code: number): number {
  return code & ~EXIT.REPAIRED;
}
