/**
 * The hermes-fsck command line: argument parsing, output and exit codes;
 * the work is done by the library (`mod.ts`). Logs and warnings go to
 * stderr, the report to stdout; nothing is asked interactively.
 *
 * @example
 * ```sh
 * deno run --allow-read --allow-write --allow-env cli.ts audit --session-dir /srv/sessions
 * ```
 * @module
 */

import { join, resolve } from "./core/io/path.ts";
import { defaultPaths } from "./core/store/default_paths.ts";
import { baseHermesHome } from "./core/store/profile_home.ts";
import { EXIT } from "./core/report/report.ts";
import { renderTextPieces } from "./core/report/render_text.ts";
import { jsonPieces } from "./core/json/json_pieces.ts";
import { ProgressLine, showProgress } from "./core/scan/progress.ts";
import { renderWebuiJsonPieces } from "./core/report/render_webui.ts";
import { renderShowText, showOf } from "./core/review/show.ts";
import {
  reviewPagePieces,
  writeReviewPage,
} from "./core/review/review_html.ts";
import { isValidSessionId } from "./core/store/session_id.ts";
import { kindsOf, runPipeline } from "./core/run/run.ts";
import { registryProblems, withRepairs } from "./core/plugins/registry.ts";
import { PIPELINE_KINDS, selectChecks } from "./core/plugins/pipeline.ts";
import { MAX_SCAN_WORKERS } from "./core/scan/pool.ts";
import { TOOL_VERSION } from "./core/run/version.ts";
import { versionText } from "./core/run/version_text.ts";
import { explainName, kindLine } from "./core/run/explain.ts";
import { LockHeldError } from "./core/io/lock.ts";
import { UsageError } from "./core/run/usage_error.ts";
import { parseCommandLine } from "./core/run/args.ts";
import { resolveCommand } from "./core/review/resolve_command.ts";
import { acknowledgeCommand } from "./core/review/acknowledge_command.ts";
import type { ScanOptions } from "./core/scan/snapshot.ts";
import { Interrupted } from "./core/io/interrupt.ts";
import { undoRun, UnknownRunError } from "./core/io/undo.ts";
import {
  actAsStoreOwner,
  AS_OWNER_ENV,
  type OwnerHandoff,
} from "./core/io/owner_reexec.ts";
import { freshInstallReport, isMissing } from "./core/store/first_boot.ts";
import { metricsText } from "./core/report/metrics.ts";
import {
  metricsHandoff,
  metricsPathProblem,
  metricsTarget,
  writeMetricsFile,
} from "./core/report/metrics_file.ts";
import { summaryLine } from "./core/report/render_summary.ts";
import { preenExitCode } from "./core/run/preen.ts";
import type { Report } from "./core/report/report.ts";
import type { WriterOptions } from "./core/io/safety.ts";
import {
  describeProblems,
  listRuns,
  type Manifest,
} from "./core/io/run_records.ts";
import { type PruneResult, pruneRuns } from "./core/io/run_prune.ts";
import { builtinChecks } from "./checks/builtin.ts";
import { builtinRepairs } from "./repairs/builtin.ts";
import type { Check } from "./core/plugins/check.ts";
import type { Repair } from "./core/plugins/repair.ts";
import {
  type LoadedPlugins,
  loadPlugins,
  PLUGIN_DIR_ENV,
  PluginLoadError,
} from "./core/plugins/plugin_load.ts";

/**
 * Where the CLI writes; tests and the demo pass their own.
 *
 * @example
 * ```ts
 * import { type CliIo, main } from "./cli.ts";
 * const out: string[] = [];
 * const io: CliIo = {
 *   stdout: (text) => out.push(text),
 *   stderr: (text) => out.push(text),
 *   env: (name) => Deno.env.get(name),
 * };
 * await main(["checks"], io);
 * ```
 */
export interface CliIo {
  /** Writes the report. */
  stdout(text: string): void;
  /** Writes warnings and errors. */
  stderr(text: string): void;
  /** Reads an environment variable. */
  env(name: string): string | undefined;
  /** True when stderr is a terminal, where a long scan shows its progress. */
  stderrIsTerminal?: boolean;
  /** True when stdout is a terminal, where the text report is in colour. */
  stdoutIsTerminal?: boolean;
  /** True in a compiled binary; `Deno.build.standalone` when left out. */
  standalone?: boolean;
  /**
   * Gives up the permission to start processes, for a run that names no
   * plugin program; left out, nothing is given up.
   */
  revokeRun?(): Promise<void>;
}

/**
 * What a program built on the CLI adds: its own checks and repairs in place
 * of the built-in lists (way 1 of extending; see examples/library/).
 *
 * @example
 * ```ts
 * import { type CliOptions, main } from "./cli.ts";
 * import { builtinChecks } from "./checks/builtin.ts";
 * import type { Check } from "./core/plugins/check.ts";
 * declare const myCheck: Check;
 * const options: CliOptions = { checks: [...builtinChecks, myCheck] };
 * Deno.exit(await main(Deno.args, undefined, options));
 * ```
 */
export interface CliOptions {
  /** The checks, in order; `builtinChecks` when left out. */
  checks?: readonly Check[];
  /** The repairs, in order; `builtinRepairs` when left out. */
  repairs?: readonly Repair[];
  /**
   * The safety layer's fault injection, for tests (tests/fault_cli.ts);
   * the shipped CLI never sets it.
   */
  writer?: WriterOptions;
}

/** The checks and repairs of one CLI run, and its writer's options. */
interface Registry {
  checks: readonly Check[];
  repairs: readonly Repair[];
  writer: WriterOptions;
}

const HELP =
  `hermes-fsck ${TOOL_VERSION}: check and repair a Hermes WebUI session store

Usage:
  hermes-fsck audit  [options]            report problems; changes nothing
  hermes-fsck repair [options] [--dry-run] [--server-stopped]
                                          fix what is provably safe, then report
  hermes-fsck preen  [repair's options]   repair for init systems: exit 0 when the
                                          server may start, else 4 (8 error, 32
                                          interrupted); a missing session dir
                                          without state.db is a first boot (0)
  hermes-fsck checks [--format text|json] list checks, kinds and repairs
  hermes-fsck explain NAME [--format text|json]
                                          what a kind means and what its repair does,
                                          or what a check or repair does
  hermes-fsck show ID [--format text|json] [--session-dir D] [--state-db F]
                                          every version of a finding's session
                                          and the messages they differ in; changes nothing
  hermes-fsck review --html FILE [audit options]
                                          write one HTML page to review every finding
                                          (the same as audit --format html > FILE)
  hermes-fsck undo RUN_ID [--session-dir D]
                                          put back every file a repair run changed
  hermes-fsck runs [--session-dir D] [--prune --keep N]
                                          list repair runs; --prune deletes all but the newest N
  hermes-fsck resolve ID --keep SOURCE [--undelete] [--dry-run]
                                          apply a person's choice for a finding (undoable)
  hermes-fsck acknowledge ID [--note TEXT] | --list | --remove ID
                                          a reviewed finding stops setting bit 4 while its files are unchanged
  hermes-fsck --version | --help

Options:
  --session-dir DIR     session dir (default $HERMES_WEBUI_STATE_DIR/sessions,
                        else $HERMES_HOME/webui/sessions, else
                        ~/.hermes/webui/sessions)
  --state-db FILE       one state.db for every session (default: each session's
                        profile home's: $HERMES_HOME/state.db, else
                        ~/.hermes/state.db, and <home>/profiles/<name>/state.db
                        for a session of profile <name>; used only if it exists)
  --no-state-db         check without state.db
  --format FORMAT       text (default), json, webui-json (the server's audit
                        shape), summary (one line, as e2fsck's), or html
                        (audit: the review page)
  --check NAME[,NAME]   run only these checks or kinds (repeatable)
  --skip NAME[,NAME]    leave out these checks or kinds (repeatable)
  --max-file-size SIZE  read no file larger than this (default 256M; K, M, G suffixes)
  --workers N           threads that read beside the main one (default: one per
                        extra core for stores of 64 MB or more, at most 3);
                        0 reads in one thread, slower but with the least memory
  --dry-run             repair: print the exact plan and change nothing
  --server-stopped      say that no Hermes WebUI server is running
  --also-repair KIND[,KIND]
                        repair: also fix info findings of these kinds (repeatable)
  --plugin PATH         also run this check: an executable speaking the plugin
                        protocol, or (under deno run) a .ts module (repeatable)
  --plugin-dir DIR      also run every executable in DIR (default $HERMES_FSCK_PLUGIN_DIR)
  --plugin-timeout SECS time limit of each plugin program (default 30)
  --verbose             text: list every finding, not the first five of each kind
  --quiet               no warnings or progress line on stderr
  --allow-missing       audit, repair: a missing session dir without state.db is
                        a first boot, exit 0 (preen always does this)
  --metrics-file PATH   also write the run's metrics in the Prometheus text
                        format to PATH (node_exporter's textfile collector)

Exit codes (a bit mask, as e2fsck's; start the server when below 4):
  0 clean   1 repaired, nothing left   4 problems remain
  8 operational error   16 usage error   32 interrupted
show exits 0 when ID names a finding or session, 8 when it names nothing
in the store (a finding fixed since has no id any more), 16 when ID is
neither a finding id (16 hex digits) nor a session id.
`;

/** Every command, as the usage above names them, in its order. */
const COMMANDS: readonly string[] = [
  ...new Set(
    [...HELP.matchAll(/^ {2}hermes-fsck ([a-z]+)\b/gm)].map((m) => m[1]),
  ),
  "help",
];

class OperationalError extends Error {}

/**
 * Runs the CLI with the given arguments and returns the exit code. A
 * program of your own passes its checks and repairs in `options`.
 *
 * @example
 * ```ts
 * import { main } from "./cli.ts";
 * import { builtinChecks } from "./checks/builtin.ts";
 * import type { Check } from "./core/plugins/check.ts";
 * declare const myCheck: Check;
 * const code = await main(["audit", "--session-dir", "/srv/sessions"]);
 * await main(Deno.args, undefined, { checks: [...builtinChecks, myCheck] });
 * ```
 */
export async function main(
  args: string[],
  io: CliIo = denoIo(),
  options: CliOptions = {},
): Promise<number> {
  const repairs = options.repairs ?? builtinRepairs;
  const registry: Registry = {
    checks: withRepairs(options.checks ?? builtinChecks, repairs),
    repairs,
    writer: options.writer ?? {},
  };
  const disagree = registryProblems(registry.checks, registry.repairs);
  if (disagree.length > 0) {
    io.stderr(
      `hermes-fsck: this program's checks and repairs disagree: ${
        disagree.join("; ")
      }; fix their kinds or fixes and build it again [exit ${EXIT.OPERATIONAL_ERROR}]\n`,
    );
    return EXIT.OPERATIONAL_ERROR;
  }
  try {
    return await run(args, io, registry);
  } catch (error) {
    return errorExit(error, io);
  }
}

/** Prints what went wrong; returns the exit code it means. */
function errorExit(error: unknown, io: CliIo): number {
  if (error instanceof LockHeldError || error instanceof UnknownRunError) {
    io.stderr(
      `hermes-fsck: ${error.message} [exit ${EXIT.OPERATIONAL_ERROR}]\n`,
    );
    return EXIT.OPERATIONAL_ERROR;
  }
  if (error instanceof Interrupted) {
    io.stderr(
      `hermes-fsck: ${error.message}; nothing was changed [exit ${EXIT.INTERRUPTED}]\n`,
    );
    return EXIT.INTERRUPTED;
  }
  if (error instanceof UsageError) {
    io.stderr(
      `hermes-fsck: ${error.message} [exit ${EXIT.USAGE}]\nRun 'hermes-fsck --help' for usage.\n`,
    );
    return EXIT.USAGE;
  }
  const message = error instanceof Error ? error.message : String(error);
  io.stderr(`hermes-fsck: ${message} [exit ${EXIT.OPERATIONAL_ERROR}]\n`);
  return EXIT.OPERATIONAL_ERROR;
}

async function run(
  args: string[],
  io: CliIo,
  registry: Registry,
): Promise<number> {
  const parsed = parseCommandLine(args, {
    "session-dir": { type: "string" },
    "state-db": { type: "string" },
    "no-state-db": { type: "boolean" },
    format: { type: "string" },
    check: { type: "string", multiple: true },
    skip: { type: "string", multiple: true },
    "max-file-size": { type: "string" },
    workers: { type: "string" },
    "dry-run": { type: "boolean" },
    "server-stopped": { type: "boolean" },
    "also-repair": { type: "string", multiple: true },
    plugin: { type: "string", multiple: true },
    "plugin-dir": { type: "string" },
    "plugin-timeout": { type: "string" },
    prune: { type: "boolean" },
    keep: { type: "string" },
    html: { type: "string" },
    undelete: { type: "boolean" },
    note: { type: "string" },
    list: { type: "boolean" },
    remove: { type: "string" },
    verbose: { type: "boolean" },
    quiet: { type: "boolean" },
    "allow-missing": { type: "boolean" },
    "metrics-file": { type: "string" },
    version: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  const { positionals } = parsed;
  const values: Values = parsed.values;
  for (const flag of ["check", "skip", "also-repair"]) {
    values[flag] = namesOf(flag, values[flag] as string[] | undefined);
  }
  if (values.version) {
    io.stdout(versionText());
    return EXIT.CLEAN;
  }
  const [command, ...rest] = positionals;
  checkFlagsFit(command, values);
  if (command === undefined && !values.help) {
    // As git does with no command: the usage is an error, on stderr.
    io.stderr(HELP);
    return EXIT.USAGE;
  }
  if (values.help || command === "help") {
    io.stdout(HELP);
    return EXIT.CLEAN;
  }
  if (values["metrics-file"] !== undefined) {
    const problem = await metricsPathProblem(String(values["metrics-file"]));
    if (problem !== null) throw new OperationalError(problem);
  }
  if (STORE_COMMANDS.includes(command)) {
    // As root on a store another user owns, the command runs as that user.
    const code = await actAsStoreOwner(
      sessionDirPath(values, io),
      args,
      io,
      ownerHandoff(command, values, io),
    );
    if (code !== null) return code;
  }
  switch (command) {
    case "checks":
      noExtra(rest, command);
      io.stdout(
        listChecks(formatOf(values.format, ["text", "json"]), registry),
      );
      return EXIT.CLEAN;
    case "undo":
      if (rest.length !== 1) {
        throw new UsageError("undo takes one RUN_ID (see 'hermes-fsck runs')");
      }
      return await undoCommand(rest[0], values, io, registry.writer);
    case "runs":
      noExtra(rest, command);
      return await runsCommand(values, io);
    case "explain": {
      if (rest.length !== 1) {
        throw new UsageError(
          "explain takes one NAME: a kind, check or repair (see 'hermes-fsck checks')",
        );
      }
      const format = formatOf(values.format, ["text", "json"]) as
        | "text"
        | "json";
      const text = explainName(
        rest[0],
        registry.checks,
        registry.repairs,
        format,
      );
      if (text === null) {
        throw new UsageError(
          `unknown kind, check or repair ${
            JSON.stringify(rest[0])
          }; 'hermes-fsck checks' lists them`,
        );
      }
      io.stdout(text);
      return EXIT.CLEAN;
    }
    case "audit":
    case "repair":
    case "preen":
      noExtra(rest, command);
      return await runStoreCommand(command, values, io, registry);
    case "show":
      return await showCommand(rest, values, io, registry);
    case "review":
      noExtra(rest, command);
      return await reviewCommand(values, io, registry);
    case "resolve":
      return await resolveCommand(
        rest,
        values,
        await scanOf(values, io),
        io,
        registry,
      );
    case "acknowledge":
      return await acknowledgeCommand(
        rest,
        values,
        await scanOf(values, io),
        io,
        registry,
      );
    default:
      throw new UsageError(
        `unknown command ${JSON.stringify(command)}; the commands are ${
          COMMANDS.join(", ")
        }`,
      );
  }
}

type Values = Record<string, string | boolean | string[] | undefined>;

async function runStoreCommand(
  command: "audit" | "repair" | "preen",
  values: Values,
  io: CliIo,
  registry: Registry,
  htmlFile?: string,
): Promise<number> {
  const started = Date.now();
  const metrics = values["metrics-file"] === undefined ? null : metricsTarget(
    String(values["metrics-file"]),
    io.env,
    io.env(AS_OWNER_ENV) !== undefined,
  );
  const write = async (report: Report | null, code: number) => {
    if (metrics === null) return code;
    try {
      await writeMetricsFile(
        metrics,
        metricsText({
          command,
          sessionDir: sessionDirPath(values, io),
          exitCode: code,
          startedAt: started,
          durationMs: report?.durationMs ?? Date.now() - started,
          report,
        }),
      );
      return code;
    } catch (error) {
      return code | errorExit(error, io);
    }
  };
  let outcome;
  try {
    outcome = await checkStore(
      command,
      values,
      io,
      registry,
      started,
      htmlFile,
    );
  } catch (error) {
    // A wrong call writes no metrics: the path may be the mistake.
    if (metrics === null || error instanceof UsageError) throw error;
    return await write(null, errorExit(error, io));
  }
  return await write(outcome.report, outcome.code);
}

/** The store command's run: its report and exit code, the report printed. */
async function checkStore(
  command: "audit" | "repair" | "preen",
  values: Values,
  io: CliIo,
  registry: Registry,
  started: number,
  htmlFile?: string,
): Promise<{ report: Report; code: number }> {
  const format = htmlFile !== undefined ? "html" : formatOf(
    values.format,
    command === "audit"
      ? ["text", "json", "webui-json", "summary", "html"]
      : ["text", "json", "webui-json", "summary"],
  );
  // Every usage error is found before the store is looked at, so a typo in
  // an init script is reported as exit 16, not as a missing store.
  for (const flag of ["dry-run", "also-repair"]) {
    if (command === "audit" && values[flag]) {
      throw new UsageError(
        `--${flag} goes with repair; audit never changes anything`,
      );
    }
  }
  const timeoutMs = pluginTimeoutOf(values["plugin-timeout"]);
  const plugins = await pluginsOf(values, io, registry.checks);
  const checks = [...registry.checks, ...plugins.checks];
  const kinds = kindsOf(checks);
  for (const kind of (values["also-repair"] as string[] | undefined) ?? []) {
    if (!kinds.has(kind)) {
      throw new UsageError(
        `--also-repair: unknown kind ${
          JSON.stringify(kind)
        }; 'hermes-fsck checks' lists them`,
      );
    }
  }
  try {
    selectChecks(checks, {
      only: (values.check as string[] | undefined) ?? [],
      skip: (values.skip as string[] | undefined) ?? [],
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const workers = workersOf(values.workers);
  // A wrong size is a usage error on a first boot too.
  if (values["max-file-size"] !== undefined) {
    parseSize(String(values["max-file-size"]));
  }
  const pipelineCommand = command === "audit" ? "audit" : "repair";
  const firstBoot = await firstBootOf(
    command === "preen" || Boolean(values["allow-missing"]),
    values,
    io,
    defaultPaths(io.env).stateDb,
  );
  if (firstBoot !== null) {
    const report = freshInstallReport({
      command: pipelineCommand,
      sessionDir: firstBoot.sessionDir,
      stateDbPath: firstBoot.stateDbPath,
      dryRun: Boolean(values["dry-run"]),
      startedAt: started,
    });
    return { report, code: printReport(report, format, values, io, command) };
  }
  const { sessionDir, stateDbPath, maxFileBytes, hermesHome, profiles } =
    await scanOf(values, io);
  if (!values.quiet) {
    for (const warning of plugins.warnings) {
      io.stderr(`hermes-fsck: warning: ${warning}\n`);
    }
  }
  // The binary may start processes only to run plugin programs.
  if (plugins.programs.length === 0) await io.revokeRun?.();
  let interrupted = false;
  const stopListening = onInterrupt(() => (interrupted = true));
  const progress = showProgress({
      stderrIsTerminal: io.stderrIsTerminal ?? false,
      quiet: Boolean(values.quiet),
    })
    ? new ProgressLine(io.stderr, { delayMs: progressDelayMs(io) })
    : null;
  try {
    let report;
    try {
      report = await runPipeline({
        onScanProgress: progress?.update,
        onRepairProgress: progress?.repairs,
        command: pipelineCommand,
        sessionDir,
        stateDbPath,
        hermesHome,
        profiles,
        only: values.check as string[] | undefined,
        skip: values.skip as string[] | undefined,
        dryRun: Boolean(values["dry-run"]),
        serverStopped: Boolean(values["server-stopped"]),
        alsoRepair: values["also-repair"] as string[] | undefined,
        maxFileBytes,
        workers,
        interrupted: () => interrupted,
        writer: registry.writer,
        checks,
        repairs: registry.repairs,
        plugins: plugins.programs.length === 0 ? undefined : {
          programs: plugins.programs,
          timeoutMs,
          onStderr: values.quiet ? undefined : (name, text) => {
            progress?.done();
            io.stderr(
              text.trimEnd().split("\n").map((line) =>
                `hermes-fsck: plugin ${name}: ${line}\n`
              ).join(""),
            );
          },
        },
      });
    } catch (error) {
      if (
        error instanceof TypeError &&
        /unknown check or kind/.test(error.message)
      ) {
        throw new UsageError(error.message);
      }
      throw error;
    }
    // Warnings and the report start on a clean line of the terminal.
    progress?.done();
    const stale = report.repair?.staleLock;
    if (stale && !values.quiet) {
      io.stderr(
        `hermes-fsck: warning: took over the lock of a hermes-fsck run that died (pid ${stale.pid} on ${stale.host})\n`,
      );
    }
    for (const db of [report.stateDb, ...report.profileStateDbs ?? []]) {
      if (db.status === "unreadable" && !values.quiet) {
        io.stderr(
          `hermes-fsck: warning: state.db ${db.path} ${db.detail}; checked without it\n`,
        );
      }
    }
    if (interrupted) report.exitCode |= EXIT.INTERRUPTED;
    if (command === "preen") report.exitCode = preenExitCode(report.exitCode);
    // The progress line goes before the report is printed.
    progress?.done();
    if (format === "html") {
      const pieces = await reviewPagePieces(
        report,
        {
          sessionDir,
          stateDbPath,
          profiles: profiles ?? null,
          maxFileBytes,
        },
        kinds,
        storeFlagsOf(values),
      );
      if (htmlFile === undefined) {
        for (const piece of pieces) io.stdout(piece);
      } else {
        await writeReviewPage(htmlFile, sessionDir, pieces);
        io.stdout(
          `hermes-fsck: wrote the review page ${htmlFile} (${report.findings.length} finding(s), ${report.summary.unsafe_to_repair} unsafe to repair)\n`,
        );
      }
      return { report, code: report.exitCode };
    }
    return { report, code: printReport(report, format, values, io, command) };
  } finally {
    progress?.done();
    stopListening();
  }
}

/** Prints the report in `format`; returns its exit code. */
function printReport(
  report: Report,
  format: string,
  values: Values,
  io: CliIo,
  command: string,
): number {
  if (format === "summary") {
    io.stdout(summaryLine(report, report.exitCode));
    return report.exitCode;
  }
  // In pieces: a big report is more than one string can hold.
  const pieces = format === "json"
    ? jsonPieces(report)
    : format === "webui-json"
    ? renderWebuiJsonPieces(report)
    : renderTextPieces(report, {
      verbose: Boolean(values.verbose),
      command,
      color: useColor(io),
    });
  for (const piece of pieces) io.stdout(piece);
  if (format !== "text") io.stdout("\n");
  return report.exitCode;
}

/**
 * The missing session dir and the state.db looked for, when the run may
 * take a missing store for a first boot and it is one; null otherwise
 * (the run goes on and reports a missing dir as before). A missing dir
 * beside an existing state.db is an error: the volume is not mounted.
 */
async function firstBootOf(
  allowed: boolean,
  values: Values,
  io: CliIo,
  defaultStateDb: string,
): Promise<{ sessionDir: string; stateDbPath: string | null } | null> {
  const sessionDir = sessionDirPath(values, io);
  if (!allowed || !(await isMissing(sessionDir))) return null;
  const stateDbPath = values["no-state-db"]
    ? null
    : values["state-db"] !== undefined
    ? resolve(String(values["state-db"]))
    : defaultStateDb;
  if (stateDbPath !== null && !(await isMissing(stateDbPath))) {
    throw new OperationalError(
      `session dir ${sessionDir} does not exist but state.db ${stateDbPath} ` +
        `does: this is not a first boot; mount the volume that holds the ` +
        `sessions (or pass the right --session-dir) and run again`,
    );
  }
  return { sessionDir, stateDbPath };
}

/** The metrics hand-off of a run as the store's owner, if it needs one. */
function ownerHandoff(
  command: string,
  values: Values,
  io: CliIo,
): OwnerHandoff | undefined {
  if (values["metrics-file"] === undefined) return undefined;
  if (!["audit", "repair", "preen"].includes(command)) return undefined;
  return metricsHandoff(String(values["metrics-file"]), {
    command,
    sessionDir: sessionDirPath(values, io),
    startedAt: Date.now(),
  }, io.stderr);
}

/** The plugins named by `--plugin` and `--plugin-dir` (or its variable). */
async function pluginsOf(
  values: Values,
  io: CliIo,
  checks: readonly Check[],
): Promise<LoadedPlugins> {
  const dir = values["plugin-dir"] !== undefined
    ? String(values["plugin-dir"])
    : io.env(PLUGIN_DIR_ENV) || null;
  try {
    return await loadPlugins({
      paths: (values.plugin as string[] | undefined) ?? [],
      dir,
      standalone: io.standalone ?? Deno.build.standalone,
    }, checks);
  } catch (error) {
    if (!(error instanceof PluginLoadError)) throw error;
    throw error.usage
      ? new UsageError(error.message)
      : new OperationalError(error.message);
  }
}

function workersOf(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const text = String(value);
  if (!/^\d+$/.test(text) || Number(text) > MAX_SCAN_WORKERS) {
    throw new UsageError(
      `--workers must be a whole number from 0 to ${MAX_SCAN_WORKERS}, not ${
        JSON.stringify(text)
      }`,
    );
  }
  return Number(text);
}

function pluginTimeoutOf(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const text = String(value);
  if (!/^\d+(\.\d+)?$/.test(text) || Number(text) <= 0) {
    throw new UsageError(
      `--plugin-timeout must be a number of seconds above 0, like 30 or 2.5, not ${
        JSON.stringify(text)
      }`,
    );
  }
  return Number(text) * 1000;
}

/**
 * The store a command works on, from its flags: the session dir, the
 * state.db (`--state-db`, or the default home's when it exists, unless
 * `--no-state-db`), each session's profile home's, and `--max-file-size`.
 */
async function scanOf(values: Values, io: CliIo): Promise<ScanOptions> {
  if (values["state-db"] !== undefined && values["no-state-db"]) {
    throw new UsageError("--state-db and --no-state-db contradict each other");
  }
  const maxFileBytes = values["max-file-size"] === undefined
    ? undefined
    : parseSize(String(values["max-file-size"]));
  const defaults = defaultPaths(io.env);
  const sessionDir = await sessionDirOf(values, io);
  let stateDbPath: string | null = null;
  if (values["state-db"] !== undefined) {
    stateDbPath = resolve(String(values["state-db"]));
    if (!(await exists(stateDbPath))) {
      throw new OperationalError(
        `state.db ${stateDbPath} does not exist; pass the right --state-db, or --no-state-db to check without it`,
      );
    }
  } else if (!values["no-state-db"] && (await exists(defaults.stateDb))) {
    stateDbPath = defaults.stateDb;
  }
  return {
    sessionDir,
    stateDbPath,
    maxFileBytes,
    hermesHome: defaults.hermesHome,
    // Each session's own profile home, unless one file is forced.
    profiles: values["state-db"] === undefined && !values["no-state-db"]
      ? { base: baseHermesHome(io.env), defaultStateDb: defaults.stateDb }
      : null,
  };
}

/** The commands that work on a session dir. */
const STORE_COMMANDS = [
  "audit",
  "repair",
  "preen",
  "undo",
  "runs",
  "resolve",
  "acknowledge",
  "show",
  "review",
];

/**
 * The store flags a command to copy repeats, so it reads the store as this
 * run did (the session dir is added by core/review/review_commands.ts).
 */
function storeFlagsOf(values: Values): string[] {
  const flags: string[] = [];
  if (values["state-db"] !== undefined) {
    flags.push("--state-db", resolve(String(values["state-db"])));
  }
  if (values["no-state-db"]) flags.push("--no-state-db");
  if (values["max-file-size"] !== undefined) {
    flags.push("--max-file-size", String(values["max-file-size"]));
  }
  return flags;
}

async function showCommand(
  rest: string[],
  values: Values,
  io: CliIo,
  registry: Registry,
): Promise<number> {
  const format = formatOf(values.format, ["text", "json"]);
  if (rest.length !== 1) {
    throw new UsageError(
      "show takes one ID: a finding id (from 'hermes-fsck audit --format json') or a session id",
    );
  }
  const id = rest[0];
  const named = /^[0-9a-f]{16}$/.test(id) || isValidSessionId(id);
  if (!named) {
    throw new UsageError(
      `show: ${
        JSON.stringify(rest[0].slice(0, 80))
      } is neither a finding id (16 hex digits) nor a session id`,
    );
  }
  const scan = await scanOf(values, io);
  await io.revokeRun?.();
  const shown = await showOf(id, {
    ...scan,
    profiles: scan.profiles ?? null,
    commandFlags: storeFlagsOf(values),
    checks: registry.checks,
    repairs: registry.repairs,
  });
  if (!shown) {
    throw new OperationalError(
      `show: no finding and no session ${id} in ${scan.sessionDir}; ` +
        "'hermes-fsck audit --format json' lists the finding ids (a finding fixed since has none)",
    );
  }
  io.stdout(
    format === "json"
      ? JSON.stringify(shown, null, 2) + "\n"
      : renderShowText(shown),
  );
  return EXIT.CLEAN;
}

async function reviewCommand(
  values: Values,
  io: CliIo,
  registry: Registry,
): Promise<number> {
  if (values.format !== undefined) {
    throw new UsageError(
      "review writes HTML; use --html FILE (or audit --format json|text)",
    );
  }
  if (typeof values.html !== "string" || values.html === "") {
    throw new UsageError("review needs --html FILE: where to write the page");
  }
  return await runStoreCommand(
    "audit",
    values,
    io,
    registry,
    resolve(values.html),
  );
}

/** The session dir a command names, or the default one, absolute. */
function sessionDirPath(values: Values, io: CliIo): string {
  return resolve(
    String(values["session-dir"] ?? defaultPaths(io.env).sessionDir),
  );
}

async function sessionDirOf(values: Values, io: CliIo): Promise<string> {
  const sessionDir = sessionDirPath(values, io);
  await requireDir(sessionDir, values["session-dir"] === undefined);
  return sessionDir;
}

async function undoCommand(
  runId: string,
  values: Values,
  io: CliIo,
  writer: WriterOptions,
): Promise<number> {
  const format = formatOf(values.format, ["text", "json"]);
  const sessionDir = await sessionDirOf(values, io);
  const result = await undoRun(sessionDir, runId, { writer });
  let code = result.restored.length > 0 ? EXIT.REPAIRED : EXIT.CLEAN;
  if (result.refused.length > 0 || result.left.length > 0) {
    code |= EXIT.PROBLEMS_LEFT;
  }
  if (result.failed.length > 0) code |= EXIT.OPERATIONAL_ERROR;
  if (format === "json") {
    io.stdout(JSON.stringify({ ...result, exitCode: code }, null, 2) + "\n");
    return code;
  }
  const lines = [
    `hermes-fsck ${TOOL_VERSION} undo of run ${runId} in ${sessionDir}`,
    "",
  ];
  for (
    const [label, items] of [
      ["restored", result.restored],
      ["unchanged", result.unchanged],
      ["refused", result.refused],
      ["left", result.left],
      ["failed", result.failed],
    ] as const
  ) {
    for (const item of items) {
      lines.push(`  ${label.padEnd(9)} ${item.path}: ${item.detail}`);
    }
  }
  if (lines.length === 2) lines.push("  (the run changed nothing)");
  lines.push("");
  if (result.undoRunId) {
    lines.push(
      `Undo run ${result.undoRunId} keeps the files it replaced; 'hermes-fsck undo ${result.undoRunId}' reverts the undo.`,
    );
  }
  if (result.refused.length > 0) {
    lines.push(
      `${result.refused.length} file(s) changed after the run and were left as they are; their old bytes stay in the run's quarantine.`,
    );
  }
  if (result.left.length > 0) {
    lines.push(
      `${result.left.length} file(s) the run wrote were removed after it (a session deleted since, say) and were left missing; their old bytes stay in the run's quarantine.`,
    );
  }
  if (result.failed.length > 0) {
    const kept = result.failed.flatMap((item) =>
      item.quarantined ? [join(sessionDir, item.quarantined)] : []
    );
    lines.push(
      `${result.failed.length} file(s) could not be put back for an I/O error (see above); fix the disk (free some space) and run 'hermes-fsck undo ${runId}' again.` +
        (kept.length > 0
          ? ` Their old bytes are still in the run's quarantine: ${
            kept.join(", ")
          }.`
          : ""),
    );
  }
  if (
    result.refused.length + result.left.length + result.failed.length === 0
  ) {
    lines.push("Every file the run changed is as it was before.");
  }
  io.stdout(lines.join("\n") + "\n");
  return code;
}

async function runsCommand(values: Values, io: CliIo): Promise<number> {
  const format = formatOf(values.format, ["text", "json"]);
  if (values.keep !== undefined && !values.prune) {
    throw new UsageError("--keep goes with --prune");
  }
  let keep: number | null = null;
  if (values.prune) {
    if (values.keep === undefined || !/^\d+$/.test(String(values.keep))) {
      throw new UsageError(
        "--prune needs --keep N (how many of the newest runs to keep)",
      );
    }
    keep = Number(values.keep);
  }
  const sessionDir = await sessionDirOf(values, io);
  const real = await Deno.realPath(sessionDir);
  let result: PruneResult;
  if (keep === null) {
    const { runs, invalid } = await listRuns(real);
    result = {
      kept: runs,
      invalid,
      pruned: [],
      protected: [],
      tookOverLockFrom: null,
    };
  } else result = await pruneRuns(real, keep);
  const kept = result.kept;
  const code = result.invalid.length > 0 ? EXIT.PROBLEMS_LEFT : EXIT.CLEAN;
  const describe = (run: Manifest) => {
    const applied = run.entries.filter((e) => e.status === "applied").length;
    const state = run.finishedAt ? "finished" : "did not finish";
    return `${run.runId}  ${run.command}${
      run.undoes ? ` of ${run.undoes}` : ""
    }, ${applied} action(s) applied, ${state}`;
  };
  if (format === "json") {
    io.stdout(
      JSON.stringify(
        {
          runs: kept,
          pruned: result.pruned.map((r) => r.runId),
          keptAnyway: result.protected.map((p) => ({
            runId: p.run.runId,
            reason: p.reason,
          })),
          invalid: result.invalid,
          exitCode: code,
        },
        null,
        2,
      ) + "\n",
    );
    return code;
  }
  const lines: string[] = [];
  for (const run of result.pruned) lines.push(`pruned ${describe(run)}`);
  for (const { run, reason } of result.protected) {
    lines.push(`kept ${run.runId}: ${reason}`);
  }
  if (kept.length === 0 && result.invalid.length === 0) {
    lines.push(`No repair runs in ${sessionDir}.`);
  }
  for (const run of kept) lines.push(describe(run));
  for (const bad of result.invalid) {
    const which = bad.runId ? "this run" : "any run in it";
    for (const line of describeProblems(bad.problems)) {
      lines.push(
        `invalid ${line}; hermes-fsck did not write it so and will not ` +
          `roll back, undo or prune ${which}: look at it and move it out ` +
          "of the session dir",
      );
    }
  }
  io.stdout(lines.join("\n") + "\n");
  return code;
}

/** Flags that only some commands take; anything else is a usage error. */
const FLAG_COMMANDS: Record<string, string[]> = {
  "state-db": ["audit", "repair", "resolve", "acknowledge", "show"],
  "no-state-db": ["audit", "repair", "resolve", "acknowledge", "show"],
  check: ["audit", "repair"],
  skip: ["audit", "repair"],
  "max-file-size": ["audit", "repair", "resolve", "acknowledge", "show"],
  workers: ["audit", "repair"],
  verbose: ["audit", "repair"],
  "server-stopped": ["audit", "repair", "resolve"],
  "dry-run": ["repair", "resolve"],
  "also-repair": ["repair"],
  "allow-missing": ["audit", "repair"],
  "metrics-file": ["audit", "repair"],
  plugin: ["audit", "repair"],
  "plugin-dir": ["audit", "repair"],
  "plugin-timeout": ["audit", "repair"],
  prune: ["runs"],
  keep: ["runs", "resolve"],
  undelete: ["resolve"],
  note: ["acknowledge"],
  list: ["acknowledge"],
  remove: ["acknowledge"],
  "session-dir": [
    "audit",
    "repair",
    "undo",
    "runs",
    "resolve",
    "acknowledge",
    "show",
  ],
  html: ["review"],
};

function checkFlagsFit(command: string | undefined, values: Values): void {
  if (command === undefined || values.help || values.version) return;
  // review is an audit written as a page: it takes audit's flags.
  const as = command === "review" ? "audit" : command;
  for (const [flag, only] of Object.entries(FLAG_COMMANDS)) {
    // preen takes repair's flags.
    const commands = only.includes("repair") ? [...only, "preen"] : only;
    if (
      values[flag] !== undefined && !commands.includes(command) &&
      !commands.includes(as)
    ) {
      throw new UsageError(
        `--${flag} does not go with ${command} (it goes with ${
          commands.join(", ")
        })`,
      );
    }
  }
}

/**
 * The names of a repeatable flag that also takes a comma list (`--check
 * a,b --check c`), or undefined when it was not given.
 */
function namesOf(
  flag: string,
  given: string[] | undefined,
): string[] | undefined {
  if (given === undefined) return undefined;
  const names = given.flatMap((value) => value.split(","));
  if (names.some((name) => name.trim() === "")) {
    throw new UsageError(
      `--${flag} takes names separated by commas, not ${
        JSON.stringify(given.join(","))
      }`,
    );
  }
  return names.map((name) => name.trim());
}

function noExtra(rest: string[], command: string): void {
  if (rest.length > 0) {
    throw new UsageError(
      `${command} takes no argument ${JSON.stringify(rest[0])}`,
    );
  }
}

function formatOf(value: unknown, allowed: string[]): string {
  const format = value === undefined ? "text" : String(value);
  if (!allowed.includes(format)) {
    throw new UsageError(
      `--format must be one of ${allowed.join(", ")}, not ${
        JSON.stringify(format)
      }`,
    );
  }
  return format;
}

async function requireDir(dir: string, fromDefault: boolean): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(dir);
  } catch (error) {
    const hint = fromDefault
      ? "pass --session-dir DIR or set HERMES_WEBUI_STATE_DIR or HERMES_HOME"
      : "check the --session-dir path";
    if (error instanceof Deno.errors.NotFound) {
      throw new OperationalError(`session dir ${dir} does not exist; ${hint}`);
    }
    throw new OperationalError(
      `session dir ${dir} cannot be read (${
        (error as Error).message
      }); ${hint}`,
    );
  }
  if (!info.isDirectory) {
    throw new OperationalError(
      `session dir ${dir} is not a directory; check the --session-dir path`,
    );
  }
  try {
    for await (const _ of Deno.readDir(dir)) break;
  } catch (error) {
    throw new OperationalError(
      `session dir ${dir} cannot be listed (${
        (error as Error).message
      }); run as a user who can read it`,
    );
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Parses a size such as `512`, `64K`, `256M` or `2G` into bytes.
 *
 * @example
 * ```ts
 * import { parseSize } from "./cli.ts";
 * parseSize("2G"); // 2147483648
 * ```
 */
export function parseSize(text: string): number {
  const match = /^(\d+)([KMG]i?B?)?$/i.exec(text.trim());
  if (!match) {
    throw new UsageError(
      `--max-file-size must be a size like 512, 64M or 2G, not ${
        JSON.stringify(text)
      }`,
    );
  }
  const unit = (match[2] ?? "").charAt(0).toUpperCase();
  const scale = unit === "K"
    ? 1024
    : unit === "M"
    ? 1024 ** 2
    : unit === "G"
    ? 1024 ** 3
    : 1;
  const bytes = Number(match[1]) * scale;
  if (bytes < 1) {
    throw new UsageError("--max-file-size must be at least 1 byte");
  }
  return bytes;
}

/**
 * Colour in the text report: on a terminal, unless `NO_COLOR` is set to
 * anything but the empty string (no-color.org).
 */
function useColor(io: CliIo): boolean {
  return (io.stdoutIsTerminal ?? false) && !io.env("NO_COLOR");
}

/** `HERMES_FSCK_PROGRESS_DELAY_MS`: when the progress line may start (tests). */
function progressDelayMs(io: CliIo): number | undefined {
  const raw = io.env("HERMES_FSCK_PROGRESS_DELAY_MS");
  return raw && /^\d+$/.test(raw) ? Number(raw) : undefined;
}

function listChecks(format: string, registry: Registry): string {
  const { checks, repairs } = registry;
  if (format === "json") {
    return JSON.stringify(
      {
        checks: checks.map((c) => ({
          id: c.id,
          title: c.title,
          description: c.description,
          kinds: c.kinds,
        })),
        repairs: repairs.map((r) => ({
          id: r.id,
          title: r.title,
          description: r.description,
          fixes: r.fixes,
        })),
      },
      null,
      2,
    ) + "\n";
  }
  const lines = ["Checks (run in this order):"];
  for (const check of checks) {
    lines.push("", `${check.id}: ${check.title}`, `  ${check.description}`);
    for (const kind of check.kinds) lines.push(`  - ${kindLine(kind)}`);
  }
  lines.push("", "Reported by the pipeline itself:");
  for (const kind of PIPELINE_KINDS) {
    lines.push(
      `  - ${kind.kind} (${kind.category}; manual review): ${kind.summary}`,
    );
  }
  lines.push("", "Repairs (applied in this order):");
  for (const repair of repairs) {
    lines.push(
      `  ${repair.id}: ${repair.description} Fixes ${repair.fixes.join(", ")}.`,
    );
  }
  lines.push(
    "",
    "Run 'hermes-fsck explain NAME' for what a kind, check or repair means and does.",
  );
  return lines.join("\n") + "\n";
}

function onInterrupt(handler: () => void): () => void {
  const signals: Deno.Signal[] = Deno.build.os === "windows"
    ? ["SIGINT"]
    : ["SIGINT", "SIGTERM"];
  for (const signal of signals) Deno.addSignalListener(signal, handler);
  return () => {
    for (const signal of signals) Deno.removeSignalListener(signal, handler);
  };
}

function denoIo(): CliIo {
  const encoder = new TextEncoder();
  return {
    stdout: (text) => writeAllSync(Deno.stdout, encoder.encode(text)),
    stderr: (text) => writeAllSync(Deno.stderr, encoder.encode(text)),
    env: (name) => Deno.env.get(name),
    stderrIsTerminal: Deno.stderr.isTerminal(),
    stdoutIsTerminal: Deno.stdout.isTerminal(),
    revokeRun: async () => {
      await Deno.permissions.revoke({ name: "run" });
    },
  };
}

function writeAllSync(
  stream: { writeSync(p: Uint8Array): number },
  bytes: Uint8Array,
): void {
  let written = 0;
  while (written < bytes.length) {
    written += stream.writeSync(bytes.subarray(written));
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
