/**
 * Runs external check programs (plugins): each gets the store's paths as
 * JSON on stdin and prints findings as JSON lines on stdout. Every line is
 * validated, every finding tagged with the plugin's name, and the whole run
 * held to a time limit. A plugin that cannot start, crashes, times out,
 * exits non-zero or prints an invalid line yields a `plugin_failed` finding;
 * it never stops hermes-fsck. Plugins only report: nothing they print can
 * name a repair, so nothing they say is ever applied to the store.
 *
 * This is the only module of hermes-fsck that starts a process, which is
 * why the binary holds `--allow-run` (and the CLI drops it when no plugin
 * is named).
 *
 * @example
 * ```ts
 * import { runExternalPlugins } from "./plugin_runner.ts";
 * import type { StoreSnapshot } from "../scan/store_snapshot.ts";
 * import { builtinChecks } from "../../checks/builtin.ts";
 * declare const store: StoreSnapshot;
 * const findings = await runExternalPlugins(store, builtinChecks, {
 *   programs: [{ name: "big-sessions.py", path: "/etc/hermes-fsck/plugins/big-sessions.py" }],
 *   timeoutMs: 10_000,
 * }, { now: Date.now(), serverStopped: false });
 * ```
 * @module
 */

import { isAbsolute, relative } from "../io/path.ts";
import type { Check, CheckOptions } from "./check.ts";
import type {
  Evidence,
  Finding,
  FindingDraft,
  KindInfo,
} from "../report/finding.ts";
import { PIPELINE_KINDS, toFinding } from "./pipeline.ts";
import {
  parsePluginLine,
  type PluginFindingLine,
  pluginInput,
} from "./plugin_protocol.ts";
import type { StoreSnapshot } from "../scan/snapshot.ts";

/**
 * An external check program.
 *
 * @example
 * ```ts
 * import type { ExternalPlugin } from "./plugin_runner.ts";
 * const plugin: ExternalPlugin = { name: "big_sessions.py", path: "/etc/hermes-fsck/plugins/big_sessions.py" };
 * ```
 */
export interface ExternalPlugin {
  /** The name its findings are tagged with: its file name. */
  name: string;
  /** Absolute path of the executable. */
  path: string;
}

/**
 * Which plugins to run, and their limits.
 *
 * @example
 * ```ts
 * import type { ExternalPlugin, PluginSettings } from "./plugin_runner.ts";
 * declare const plugin: ExternalPlugin;
 * const settings: PluginSettings = { programs: [plugin], timeoutMs: 10_000 };
 * ```
 */
export interface PluginSettings {
  /** The programs, run at the same time; their findings keep this order. */
  programs: readonly ExternalPlugin[];
  /** Time limit of each plugin, from start to exit (default 30 s). */
  timeoutMs?: number;
  /** Most bytes a plugin may print on stdout (default 16 MiB). */
  maxOutputBytes?: number;
  /** Receives what a plugin printed on stderr (at most 64 KiB of it). */
  onStderr?: (plugin: string, text: string) => void;
  /**
   * Kinds a plugin may not report; by default those of the checks given to
   * {@linkcode runExternalPlugins} and of the pipeline.
   */
  reservedKinds?: ReadonlySet<string>;
}

/**
 * Default time limit of a plugin.
 *
 * @example
 * ```ts
 * import { DEFAULT_PLUGIN_TIMEOUT_MS } from "./plugin_runner.ts";
 * DEFAULT_PLUGIN_TIMEOUT_MS / 1000; // 30 seconds
 * ```
 */
export const DEFAULT_PLUGIN_TIMEOUT_MS = 30_000;

/**
 * Default limit on what a plugin prints on stdout.
 *
 * @example
 * ```ts
 * import { DEFAULT_PLUGIN_OUTPUT_BYTES } from "./plugin_runner.ts";
 * DEFAULT_PLUGIN_OUTPUT_BYTES; // 16 MiB
 * ```
 */
export const DEFAULT_PLUGIN_OUTPUT_BYTES = 16 * 1024 * 1024;

const STDERR_KEPT_BYTES = 64 * 1024;
const STDERR_EVIDENCE_CHARS = 2000;
const INVALID_LINES_LISTED = 20;

/**
 * Why a plugin failed, as `evidence.reason` of its `plugin_failed` finding.
 *
 * @example
 * ```ts
 * import type { PluginFailure } from "./plugin_runner.ts";
 * import type { Finding } from "../report/finding.ts";
 * declare const findings: Finding[];
 * const failed = findings.filter((f) => f.kind === "plugin_failed");
 * failed.map((f) => f.evidence.reason as PluginFailure); // ["timeout", ...]
 * ```
 */
export type PluginFailure =
  | "spawn_failed"
  | "timeout"
  | "output_too_large"
  | "crashed"
  | "exit_code"
  | "invalid_line";

/**
 * Runs the plugins over one scan and returns their findings, plus one
 * `plugin_failed` finding for each way a plugin failed. Kinds of the given
 * checks (and of the pipeline) are reserved: a plugin cannot report them.
 *
 * @example
 * ```ts
 * import { type ExternalPlugin, runExternalPlugins } from "./plugin_runner.ts";
 * import type { StoreSnapshot } from "../scan/store_snapshot.ts";
 * import { builtinChecks } from "../../checks/builtin.ts";
 * import type { CheckOptions } from "./check.ts";
 * declare const store: StoreSnapshot;
 * declare const checkOptions: CheckOptions;
 * declare const programs: ExternalPlugin[];
 * const findings = await runExternalPlugins(store, builtinChecks, { programs }, checkOptions);
 * findings.filter((f) => f.plugin === "big-sessions.py");
 * ```
 */
export async function runExternalPlugins(
  store: StoreSnapshot,
  checks: readonly Check[],
  settings: PluginSettings,
  options: CheckOptions,
): Promise<Finding[]> {
  if (settings.programs.length === 0) return [];
  const reserved = settings.reservedKinds ?? new Set(
    [...PIPELINE_KINDS, ...checks.flatMap((c) => c.kinds)].map((k) => k.kind),
  );
  const input = new TextEncoder().encode(
    JSON.stringify(pluginInput(store, options)) + "\n",
  );
  const results = await Promise.all(
    settings.programs.map((plugin) =>
      runProgram(plugin, input, store.sessionDir, reserved, settings)
    ),
  );
  return results.flat();
}

async function runProgram(
  plugin: ExternalPlugin,
  input: Uint8Array,
  sessionDir: string,
  reserved: ReadonlySet<string>,
  settings: PluginSettings,
): Promise<Finding[]> {
  const timeoutMs = settings.timeoutMs ?? DEFAULT_PLUGIN_TIMEOUT_MS;
  const maxBytes = settings.maxOutputBytes ?? DEFAULT_PLUGIN_OUTPUT_BYTES;
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(plugin.path, {
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      // Its own process group, so a time limit also stops what it started.
      detached: Deno.build.os !== "windows",
    }).spawn();
  } catch (error) {
    const text = errorText(error);
    return [failure(plugin, "spawn_failed", `could not be started (${text})`, {
      error: text,
    })];
  }

  const findings: Finding[] = [];
  const invalid: { line: number; problem: string }[] = [];
  const stdout = child.stdout.getReader();
  const stderr = child.stderr.getReader();
  const stdin = child.stdin.getWriter();
  let stoppedFor: "timeout" | "output_too_large" | null = null;
  const stop = (why: "timeout" | "output_too_large") => {
    if (stoppedFor) return;
    stoppedFor = why;
    killGroup(child);
    // A grandchild outside the group may still hold the pipes: stop
    // reading rather than wait for an end that may never come.
    stdout.cancel().catch(() => {});
    stderr.cancel().catch(() => {});
    stdin.abort().catch(() => {});
  };
  const timer = setTimeout(() => stop("timeout"), timeoutMs);

  let fed = false;
  const feeding = (async () => {
    try {
      await stdin.write(input);
      await stdin.close();
    } catch {
      // A plugin need not read its input; a closed pipe is not a failure.
    } finally {
      fed = true;
    }
  })();

  let lineNumber = 0;
  const onLine = (text: string) => {
    lineNumber++;
    if (text.trim() === "") return;
    const parsed = parsePluginLine(text);
    if (!parsed.ok) {
      invalid.push({ line: lineNumber, problem: parsed.problems.join("; ") });
    } else if (reserved.has(parsed.finding.kind)) {
      invalid.push({
        line: lineNumber,
        problem: `$.kind: ${
          JSON.stringify(parsed.finding.kind)
        } is a built-in kind; choose another`,
      });
    } else findings.push(pluginFinding(plugin, parsed.finding, sessionDir));
  };

  const reading = readLines(
    stdout,
    maxBytes,
    onLine,
    () => stop("output_too_large"),
  );
  const stderrText = readCapped(stderr, STDERR_KEPT_BYTES);
  const [, errText] = await Promise.all([reading, stderrText]);
  const status = await child.status;
  clearTimeout(timer);
  if (!fed) await stdin.abort().catch(() => {});
  await feeding;

  if (errText && settings.onStderr) settings.onStderr(plugin.name, errText);
  const tail = errText.slice(-STDERR_EVIDENCE_CHARS);
  const lastLine = tail.trim().split("\n").pop()?.trim() ?? "";
  const withStderr = (evidence: Evidence): Evidence =>
    tail ? { ...evidence, stderr: tail } : evidence;

  if (stoppedFor === "timeout") {
    findings.push(failure(
      plugin,
      "timeout",
      `ran past its time limit of ${
        timeoutMs / 1000
      } s and was stopped; the findings it printed before are kept`,
      withStderr({ timeoutMs }),
    ));
  } else if (stoppedFor === "output_too_large") {
    findings.push(failure(
      plugin,
      "output_too_large",
      `printed more than ${maxBytes} bytes and was stopped`,
      withStderr({ maxOutputBytes: maxBytes }),
    ));
  } else if (status.signal) {
    findings.push(failure(
      plugin,
      "crashed",
      `was killed by ${status.signal}`,
      withStderr({ signal: status.signal }),
    ));
  } else if (status.code !== 0) {
    findings.push(failure(
      plugin,
      "exit_code",
      `exited with code ${status.code}${
        lastLine ? ` (stderr: ${JSON.stringify(lastLine)})` : ""
      }`,
      withStderr({ exitCode: status.code }),
    ));
  }
  if (invalid.length > 0) {
    const first = invalid[0];
    findings.push(failure(
      plugin,
      "invalid_line",
      `printed ${invalid.length} invalid line(s); line ${first.line}: ${first.problem}`,
      {
        line: first.line,
        problem: first.problem,
        invalidLines: invalid.length,
        lines: invalid.slice(0, INVALID_LINES_LISTED).map((i) => i.line),
      },
    ));
  }
  return findings;
}

/** Splits a byte stream into lines; calls `tooMuch` past `maxBytes`. */
async function readLines(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  maxBytes: number,
  onLine: (text: string) => void,
  tooMuch: () => void,
): Promise<void> {
  const decoder = new TextDecoder();
  let pending = "";
  let total = 0;
  for await (const value of chunksOf(reader)) {
    total += value.length;
    if (total > maxBytes) {
      tooMuch();
      return;
    }
    pending += decoder.decode(value, { stream: true });
    let newline;
    while ((newline = pending.indexOf("\n")) >= 0) {
      onLine(pending.slice(0, newline).replace(/\r$/, ""));
      pending = pending.slice(newline + 1);
    }
  }
  pending += decoder.decode();
  if (pending !== "") onLine(pending.replace(/\r$/, ""));
}

/** Reads a stream to its end, keeping its first `limit` bytes as text. */
async function readCapped(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  limit: number,
): Promise<string> {
  const chunks: Uint8Array[] = [];
  let kept = 0;
  for await (const value of chunksOf(reader)) {
    if (kept < limit) {
      chunks.push(value.subarray(0, limit - kept));
      kept += Math.min(value.length, limit - kept);
    }
  }
  const bytes = new Uint8Array(kept);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return new TextDecoder().decode(bytes);
}

/** The chunks of a stream until its end, or until it is cancelled or fails. */
async function* chunksOf(
  reader: ReadableStreamDefaultReader<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  while (true) {
    const result = await reader.read().catch(() => null);
    if (!result || result.done) return;
    yield result.value;
  }
}

function killGroup(child: Deno.ChildProcess): void {
  if (Deno.build.os !== "windows") {
    try {
      Deno.kill(-child.pid, "SIGKILL");
      return;
    } catch {
      // The group is gone already, or was never made: kill the plugin alone.
    }
  }
  try {
    child.kill("SIGKILL");
  } catch {
    // It has exited.
  }
}

function pluginFinding(
  plugin: ExternalPlugin,
  line: PluginFindingLine,
  sessionDir: string,
): Finding {
  const draft: FindingDraft = {
    kind: line.kind,
    paths: (line.paths ?? []).map((path) => storeRelative(sessionDir, path)),
    message: line.message,
    evidence: line.evidence ?? {},
    // Two plugins may report the same kind for the same session.
    key: `${plugin.name}\u0000${line.key ?? ""}`,
  };
  if (line.sessionId !== undefined) draft.sessionId = line.sessionId;
  const info: KindInfo = {
    kind: line.kind,
    category: line.category,
    severity: line.severity ??
      (line.category === "info" ? "info" : "warning"),
    summary: line.message,
    explain: "",
  };
  return {
    ...toFinding(pluginCheckId(plugin), info, draft),
    plugin: plugin.name,
  };
}

function failure(
  plugin: ExternalPlugin,
  reason: PluginFailure,
  what: string,
  evidence: Evidence,
): Finding {
  const info = PIPELINE_KINDS.find((k) => k.kind === "plugin_failed")!;
  const finding = toFinding(pluginCheckId(plugin), info, {
    kind: "plugin_failed",
    paths: [],
    message: `Plugin ${plugin.name} ${what}.`,
    evidence: { reason, pluginPath: plugin.path, ...evidence },
    key: `${plugin.name}\u0000${reason}`,
  });
  return { ...finding, plugin: plugin.name };
}

/**
 * The `check` field of a plugin's findings: `plugin:<name>`, which no
 * built-in check id can be.
 *
 * @example
 * ```ts
 * import { pluginCheckId } from "./plugin_runner.ts";
 * pluginCheckId({ name: "big-sessions.py", path: "/x/big-sessions.py" }); // "plugin:big-sessions.py"
 * ```
 */
export function pluginCheckId(plugin: ExternalPlugin): string {
  return `plugin:${plugin.name}`;
}

/** A path inside the session dir, relative to it, as built-in findings give paths. */
function storeRelative(sessionDir: string, path: string): string {
  if (!isAbsolute(path)) return path;
  const inside = relative(sessionDir, path);
  return inside && !inside.startsWith("..") && !isAbsolute(inside)
    ? inside
    : path;
}

function errorText(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(
    /\.$/,
    "",
  );
}
