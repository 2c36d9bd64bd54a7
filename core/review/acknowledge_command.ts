/**
 * The `acknowledge` command of the CLI: `hermes-fsck acknowledge ID
 * [--note TEXT]` records that a person reviewed an `unsafe_to_repair`
 * finding and leaves it; `--list` shows the record, `--remove ID` takes
 * one back. The record (core/review/acknowledged.ts) is changed under the store's
 * lock and written atomically by the safety layer; one that is not valid
 * is never written over (the person must look at it first).
 *
 * @example
 * ```ts
 * import { acknowledgeCommand } from "./acknowledge_command.ts";
 * import type { ScanOptions } from "../scan/snapshot.ts";
 * import type { CommandIo } from "./resolve_command.ts";
 * import { builtinChecks } from "../../checks/builtin.ts";
 * declare const scan: ScanOptions;
 * declare const io: CommandIo;
 * await acknowledgeCommand(["0123456789abcdef"], { note: "deleted on purpose" }, scan, io, { checks: builtinChecks });
 * ```
 * @module
 */

import {
  ACKNOWLEDGED_FILE,
  acknowledgedRecord,
  type Acknowledgement,
  fileStates,
  NOTE_MAX_CHARS,
  readAcknowledgements,
  sameFiles,
} from "./acknowledged.ts";
import { auditStore } from "../run/audit.ts";
import type { Check } from "../plugins/check.ts";
import { acquireLock } from "../io/lock.ts";
import { EXIT } from "../report/report.ts";
import type { CommandIo } from "./resolve_command.ts";
import { writeToolFile } from "../io/safety.ts";
import { DEFAULT_MAX_FILE_BYTES, type ScanOptions } from "../scan/snapshot.ts";
import { UsageError } from "../run/usage_error.ts";

/**
 * Runs `acknowledge` (or its `--list` and `--remove`) and returns its exit
 * code: 0 done; 4 (`--list`) the record is not valid; 8 the finding or
 * acknowledgement is not there, or the record cannot be trusted or
 * written; 16 a usage error.
 *
 * @example
 * ```ts
 * import { acknowledgeCommand } from "./acknowledge_command.ts";
 * import type { ScanOptions } from "../scan/snapshot.ts";
 * import type { CommandIo } from "./resolve_command.ts";
 * import { builtinChecks } from "../../checks/builtin.ts";
 * declare const scan: ScanOptions;
 * declare const io: CommandIo;
 * await acknowledgeCommand([], { list: true }, scan, io, { checks: builtinChecks });
 * ```
 */
export async function acknowledgeCommand(
  rest: string[],
  values: Record<string, unknown>,
  scan: ScanOptions,
  io: CommandIo,
  registry: { checks: readonly Check[] },
): Promise<number> {
  const format = values.format === undefined ? "text" : String(values.format);
  if (format !== "text" && format !== "json") {
    throw new UsageError(
      `--format must be one of text, json, not ${JSON.stringify(format)}`,
    );
  }
  const list = Boolean(values.list);
  const remove = values.remove as string | undefined;
  if (list && remove !== undefined) {
    throw new UsageError("--list and --remove do not go together");
  }
  if ((list || remove !== undefined) && values.note !== undefined) {
    throw new UsageError("--note goes with acknowledge ID");
  }
  if (list || remove !== undefined) {
    if (rest.length > 0) {
      throw new UsageError(
        `acknowledge ${
          list ? "--list" : "--remove ID"
        } takes no other argument ${JSON.stringify(rest[0])}`,
      );
    }
  } else if (rest.length !== 1) {
    throw new UsageError(
      "acknowledge takes one finding ID, or --list, or --remove ID",
    );
  }
  const id = remove ?? rest[0];
  if (!list && !/^[0-9a-f]{16}$/.test(id)) {
    throw new UsageError(
      `${
        JSON.stringify(id)
      } is not a finding id (16 hex digits, as the JSON report gives them)`,
    );
  }
  const note = values.note === undefined ? null : String(values.note);
  if (note !== null && note.length > NOTE_MAX_CHARS) {
    throw new UsageError(`--note is longer than ${NOTE_MAX_CHARS} characters`);
  }
  const maxBytes = scan.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  if (list) {
    return await listAcknowledged(scan.sessionDir, maxBytes, format, io);
  }
  const lock = await acquireLock(scan.sessionDir, "acknowledge");
  try {
    const read = await readAcknowledgements(scan.sessionDir);
    if (!read.ok) {
      throw new Error(
        `${ACKNOWLEDGED_FILE} in ${scan.sessionDir} ${read.problem}, so it ` +
          "is not written over: look at it, move it out of the session dir " +
          "and acknowledge the findings again",
      );
    }
    const others = read.entries.filter((e) => e.findingId !== id);
    if (remove !== undefined) {
      if (others.length === read.entries.length) {
        throw new Error(
          `finding ${id} is not acknowledged in ${scan.sessionDir} ('hermes-fsck acknowledge --list' shows which are)`,
        );
      }
      await writeToolFile(
        scan.sessionDir,
        "acknowledged.json",
        acknowledgedRecord(others),
      );
      io.stdout(
        format === "json"
          ? JSON.stringify({ removed: id, exitCode: EXIT.CLEAN }, null, 2) +
            "\n"
          : `Finding ${id} is no longer acknowledged: it sets exit bit 4 again while it stands.\n`,
      );
      return EXIT.CLEAN;
    }
    const entry = await acknowledgementOf(id, note, scan, registry.checks);
    await writeToolFile(
      scan.sessionDir,
      "acknowledged.json",
      acknowledgedRecord([...others, entry]),
    );
    io.stdout(
      format === "json"
        ? JSON.stringify(
          { acknowledged: entry, exitCode: EXIT.CLEAN },
          null,
          2,
        ) +
          "\n"
        : `Acknowledged finding ${id} (${entry.kind}${
          entry.sessionId ? `, session ${entry.sessionId}` : ""
        }). While ${
          entry.files.map((f) => f.path).join(", ") || "nothing it names"
        } stay${
          entry.files.length === 1 ? "s" : ""
        } as now, it is reported as acknowledged and does not set exit bit 4; ` +
          `'hermes-fsck acknowledge --remove ${id}' takes it back.\n`,
    );
    return EXIT.CLEAN;
  } finally {
    await lock.release();
  }
}

/** The acknowledgement of finding `id` as the store is now. */
async function acknowledgementOf(
  id: string,
  note: string | null,
  scan: ScanOptions,
  checks: readonly Check[],
): Promise<Acknowledgement> {
  const audit = await auditStore({ scan, checks });
  audit.store.stateDb.close();
  audit.store.profileDbs?.close();
  const finding = audit.findings.find((f) => f.id === id);
  if (!finding) {
    throw new Error(
      `no finding has id ${id} in ${scan.sessionDir} now; ` +
        "'hermes-fsck audit --format json' lists the findings and their ids",
    );
  }
  if (finding.category !== "unsafe_to_repair") {
    throw new UsageError(
      `finding ${id} is ${
        finding.category.replaceAll("_", " ")
      } (${finding.kind}): ` +
        (finding.category === "repairable"
          ? "'hermes-fsck repair' fixes it"
          : "it never sets exit bit 4") +
        "; only findings unsafe to repair are acknowledged",
    );
  }
  const files = await fileStates(
    scan.sessionDir,
    finding.paths,
    scan.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES,
  );
  return {
    findingId: id,
    kind: finding.kind,
    ...(finding.sessionId !== undefined
      ? { sessionId: finding.sessionId }
      : {}),
    note,
    at: new Date().toISOString(),
    files,
  };
}

async function listAcknowledged(
  sessionDir: string,
  maxBytes: number,
  format: string,
  io: CommandIo,
): Promise<number> {
  const read = await readAcknowledgements(sessionDir);
  if (!read.ok) {
    const problem = `${ACKNOWLEDGED_FILE} ${read.problem}; no finding is ` +
      "taken as acknowledged: look at it, move it out of the session dir " +
      "and acknowledge the findings again";
    io.stdout(
      format === "json"
        ? JSON.stringify(
          { acknowledged: [], problem, exitCode: EXIT.PROBLEMS_LEFT },
          null,
          2,
        ) + "\n"
        : problem + "\n",
    );
    return EXIT.PROBLEMS_LEFT;
  }
  const shown = [];
  for (const entry of read.entries) {
    const now = await fileStates(
      sessionDir,
      entry.files.map((f) => f.path),
      maxBytes,
    );
    const changed = entry.files.filter((f, i) => !sameFiles([f], [now[i]]))
      .map((f) => f.path);
    shown.push({ ...entry, holds: changed.length === 0, changed });
  }
  if (format === "json") {
    io.stdout(
      JSON.stringify({ acknowledged: shown, exitCode: EXIT.CLEAN }, null, 2) +
        "\n",
    );
    return EXIT.CLEAN;
  }
  const lines = shown.length === 0
    ? [`No acknowledged findings in ${sessionDir}.`]
    : shown.flatMap((e) => [
      `${e.findingId}  ${e.kind}${
        e.sessionId ? `  session ${e.sessionId}` : ""
      }  ${e.at}  ${
        e.holds
          ? "holds"
          : `raised again: ${e.changed.join(", ")} changed since`
      }`,
      ...(e.note ? [`  note: ${e.note}`] : []),
    ]);
  io.stdout(lines.join("\n") + "\n");
  return EXIT.CLEAN;
}
