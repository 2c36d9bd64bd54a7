/**
 * The `resolve` command of the CLI: `hermes-fsck resolve ID --keep SOURCE
 * [--undelete] [--dry-run] [--format text|json]`. Parses what cli.ts left
 * to it, runs core/review/resolve.ts and prints what was done (or, with
 * `--dry-run`, the exact plan), the run id and how to undo it.
 *
 * Exit codes: 0 planned (dry run); 1 applied; 4 nothing done (the store is
 * no longer as the finding says, or a file changed under it: nothing was
 * overwritten); 8 an action failed or the finding is not there; 16 a
 * choice the kind does not offer, or a deleted session without
 * `--undelete`.
 *
 * @example
 * ```ts
 * import { resolveCommand, type CommandIo } from "./resolve_command.ts";
 * import type { ScanOptions } from "../scan/snapshot.ts";
 * import { builtinChecks } from "../../checks/builtin.ts";
 * declare const scan: ScanOptions;
 * declare const io: CommandIo;
 * const code = await resolveCommand(["0123456789abcdef"], { keep: "bak" }, scan, io, { checks: builtinChecks, writer: {} });
 * ```
 * @module
 */

import type { Check } from "../plugins/check.ts";
import {
  RESOLUTION_SOURCES,
  type ResolutionSource,
} from "../report/finding.ts";
import { EXIT } from "../report/report.ts";
import {
  resolveFinding,
  ResolveRefused,
  type ResolveResult,
} from "./resolve.ts";
import type { WriterOptions } from "../io/safety.ts";
import type { ScanOptions } from "../scan/snapshot.ts";
import { UsageError } from "../run/usage_error.ts";
import { TOOL_VERSION } from "../run/version.ts";

/**
 * Where a command module writes (the CLI's `CliIo`, in part).
 *
 * @example
 * ```ts
 * import type { CommandIo } from "./resolve_command.ts";
 * const io: CommandIo = { stdout: (t) => console.log(t), stderr: (t) => console.error(t) };
 * ```
 */
export interface CommandIo {
  /** Writes the result. */
  stdout(text: string): void;
  /** Writes warnings. */
  stderr(text: string): void;
}

/**
 * Runs `resolve` and returns its exit code.
 *
 * @example
 * ```ts
 * import { resolveCommand, type CommandIo } from "./resolve_command.ts";
 * import type { ScanOptions } from "../scan/snapshot.ts";
 * import type { Check } from "../plugins/check.ts";
 * declare const id: string;
 * declare const scan: ScanOptions;
 * declare const io: CommandIo;
 * declare const checks: Check[];
 * await resolveCommand([id], { keep: "discard", "dry-run": true }, scan, io, { checks, writer: {} });
 * ```
 */
export async function resolveCommand(
  rest: string[],
  values: Record<string, unknown>,
  scan: ScanOptions,
  io: CommandIo,
  registry: { checks: readonly Check[]; writer: WriterOptions },
): Promise<number> {
  if (rest.length !== 1) {
    throw new UsageError(
      "resolve takes one finding ID ('hermes-fsck audit --format json' lists them)",
    );
  }
  const keep = values.keep;
  if (typeof keep !== "string") {
    throw new UsageError(
      `resolve needs --keep SOURCE (one of ${
        RESOLUTION_SOURCES.join(", ")
      }; 'hermes-fsck explain KIND' says which a kind offers)`,
    );
  }
  if (!RESOLUTION_SOURCES.includes(keep as ResolutionSource)) {
    throw new UsageError(
      `--keep must be one of ${RESOLUTION_SOURCES.join(", ")}, not ${
        JSON.stringify(keep)
      }`,
    );
  }
  const format = values.format === undefined ? "text" : String(values.format);
  if (format !== "text" && format !== "json") {
    throw new UsageError(
      `--format must be one of text, json, not ${JSON.stringify(format)}`,
    );
  }
  let result: ResolveResult;
  try {
    result = await resolveFinding({
      scan,
      checks: registry.checks,
      findingId: rest[0],
      keep: keep as ResolutionSource,
      undelete: Boolean(values.undelete),
      dryRun: Boolean(values["dry-run"]),
      serverStopped: Boolean(values["server-stopped"]),
      writer: registry.writer,
    });
  } catch (error) {
    if (error instanceof ResolveRefused && error.reason !== "unknown_finding") {
      throw new UsageError(error.message);
    }
    throw error;
  }
  const code = exitCodeOf(result);
  if (result.tookOverLockFrom) {
    const stale = result.tookOverLockFrom;
    io.stderr(
      `hermes-fsck: warning: took over the lock of a hermes-fsck run that died (pid ${stale.pid} on ${stale.host})\n`,
    );
  }
  if (format === "json") {
    const { tookOverLockFrom: _, ...shown } = result;
    io.stdout(JSON.stringify({ ...shown, exitCode: code }, null, 2) + "\n");
    return code;
  }
  io.stdout(renderResolve(result, scan.sessionDir) + "\n");
  return code;
}

function exitCodeOf(result: ResolveResult): number {
  const applied = result.actions.some((a) => a.status === "applied");
  switch (result.status) {
    case "planned":
      return EXIT.CLEAN;
    case "applied":
      return EXIT.REPAIRED;
    case "skipped":
      return (applied ? EXIT.REPAIRED : 0) | EXIT.PROBLEMS_LEFT;
    case "failed":
      return (applied ? EXIT.REPAIRED : 0) | EXIT.PROBLEMS_LEFT |
        EXIT.OPERATIONAL_ERROR;
  }
}

function renderResolve(result: ResolveResult, sessionDir: string): string {
  const f = result.finding;
  const lines = [
    `hermes-fsck ${TOOL_VERSION} resolve${
      result.status === "planned" ? " --dry-run" : ""
    } of finding ${f.id} in ${sessionDir}`,
    `${f.kind}${f.sessionId ? ` (session ${f.sessionId})` : ""}: ${f.message}`,
    `Keep ${result.keep}: ${result.meaning}`,
    "",
    result.status === "planned"
      ? "Plan (dry run: nothing was changed):"
      : result.status === "skipped" && result.actions.length === 0
      ? "Nothing was done:"
      : "Actions:",
    `  ${result.status.padEnd(7)} ${result.summary}`,
  ];
  for (const action of result.actions) {
    const size = action.op === "write" ? `, ${action.bytes} bytes` : "";
    const kept = action.quarantined
      ? `; old file kept as ${action.quarantined}`
      : "";
    const why = action.detail && action.status !== "applied"
      ? ` (${action.detail})`
      : "";
    lines.push(
      `            ${
        action.status.padEnd(11)
      } ${action.op} ${action.path}${size}: ${action.note}${kept}${why}`,
    );
  }
  lines.push("");
  if (result.runId && result.runDir) {
    lines.push(
      `Run ${result.runId}: replaced files are kept in ${result.runDir}/; ` +
        `'hermes-fsck undo ${result.runId}' puts back every byte.`,
    );
  }
  if (result.status === "skipped") {
    lines.push(
      "The store is not as the finding said (or a file changed while the " +
        "resolve ran, and the newer file was kept): run 'hermes-fsck audit' " +
        "and decide again.",
    );
  } else if (result.status === "failed") {
    lines.push(
      "An action failed (see above); the store is as it was for that file. " +
        "Fix the cause and resolve again.",
    );
  } else if (result.status === "planned") {
    lines.push("Run it again without --dry-run to apply it.");
  }
  return lines.join("\n");
}
