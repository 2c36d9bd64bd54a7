/**
 * A whole run: audit, repair in passes, preen, first boot, `explain`, and the
 * version and permissions of the binary.
 *
 * - `audit.ts`: One audit:
 * - `build_info.ts`: What a release build stamps into the binary:
 * - `explain.ts`: `hermes-fsck explain NAME`:
 * - `permissions.ts`: The permission set of the hermes-fsck binary and its V8
 *   settings, written once:
 * - `preen.ts`: `hermes-fsck preen`, e2fsck's `-p` for init systems that treat
 *   any non-zero exit as failure (Kubernetes initContainers, systemd
 *   `ExecStartPre`):
 * - `repair_engine.ts`: The repair run:
 * - `run.ts`: One call that does a whole run, audit or repair, and returns its
 *   typed report:
 * - `usage_error.ts`: A command line that asks for something the command does
 *   not take:
 * - `version.ts`: Version numbers of the tool and of the formats it speaks.
 * - `version_text.ts`: What `hermes-fsck --version` prints:
 *
 * @example
 * ```ts
 * import * as run from "./mod.ts";
 * ```
 * @module
 */

export * from "./audit.ts";
export * from "./build_info.ts";
export * from "./explain.ts";
export * from "./permissions.ts";
export * from "./preen.ts";
export * from "./repair_engine.ts";
export * from "./run.ts";
export * from "./usage_error.ts";
export * from "./version.ts";
export * from "./version_text.ts";
