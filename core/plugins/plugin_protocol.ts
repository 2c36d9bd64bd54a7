/**
 * The protocol between hermes-fsck and an external check program: the JSON
 * document a plugin reads on stdin, and the finding lines it prints on
 * stdout, validated against `core/plugins/plugin_finding.schema.json` (embedded as a
 * module, so a compiled binary carries it).
 *
 * @example
 * ```ts
 * import { parsePluginLine, pluginInput } from "./plugin_protocol.ts";
 * import type { StoreSnapshot } from "../scan/store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * const stdin = JSON.stringify(pluginInput(store, { now: Date.now(), serverStopped: false }));
 * parsePluginLine('{"kind":"big_session","category":"info","message":"x is big."}');
 * // { ok: true, finding: { kind: "big_session", ... } }
 * ```
 * @module
 */

import schema from "./plugin_finding.schema.json" with { type: "json" };
import type { CheckOptions } from "./check.ts";
import type { Evidence, Severity } from "../report/finding.ts";
import { type JsonSchema, validateJson } from "../json/json_schema.ts";
import { REPORT_SCHEMA } from "../report/report_schema.ts";
import type { StoreSnapshot } from "../scan/snapshot.ts";
import { isValidSessionId } from "../store/session_id.ts";
import { TOOL_VERSION } from "../run/version.ts";

/**
 * The version of the plugin protocol. Bumped when a field of the input or
 * of a finding line changes meaning or disappears; adding a field does not
 * bump it.
 *
 * @example
 * ```ts
 * import { pluginInput, PLUGIN_PROTOCOL_VERSION } from "./plugin_protocol.ts";
 * import type { StoreSnapshot } from "../scan/store_snapshot.ts";
 * import type { CheckOptions } from "./check.ts";
 * declare const store: StoreSnapshot;
 * declare const options: CheckOptions;
 * pluginInput(store, options).protocolVersion === PLUGIN_PROTOCOL_VERSION; // true
 * ```
 */
export const PLUGIN_PROTOCOL_VERSION = 1;

/**
 * The JSON Schema of one finding line (core/plugins/plugin_finding.schema.json).
 *
 * @example
 * ```ts
 * import { PLUGIN_FINDING_SCHEMA } from "./plugin_protocol.ts";
 * import { validateJson } from "../json/json_schema.ts";
 * validateJson(PLUGIN_FINDING_SCHEMA, { kind: "x", category: "info", message: "m" }); // []
 * ```
 */
export const PLUGIN_FINDING_SCHEMA: JsonSchema = schema;

/**
 * A session of the store as a plugin is told about it.
 *
 * @example
 * ```ts
 * import type { PluginSession } from "./plugin_protocol.ts";
 * const session: PluginSession = {
 *   sessionId: "abc",
 *   live: "/srv/sessions/abc.json",
 *   backup: null,
 *   journal: null,
 * };
 * ```
 */
export interface PluginSession {
  /** The session id (always a valid one: `[A-Za-z0-9_-]`). */
  sessionId: string;
  /** Absolute path of `<id>.json`, or null when there is none. */
  live: string | null;
  /** Absolute path of `<id>.json.bak`, or null when there is none. */
  backup: string | null;
  /**
   * Absolute path of the turn journal, or null when there is none: the
   * legacy `<id>.jsonl`, else the `<id>~<pid>.jsonl` shard the server
   * reads last (since v0.51.255 a session may have several).
   */
  journal: string | null;
}

/**
 * The JSON document a plugin reads on stdin, one line long.
 *
 * @example
 * ```ts
 * import type { PluginInput } from "./plugin_protocol.ts";
 * declare const stdinText: string;
 * const input: PluginInput = JSON.parse(stdinText);
 * for (const session of input.sessions) console.log(session.live);
 * ```
 */
export interface PluginInput {
  /** {@linkcode PLUGIN_PROTOCOL_VERSION}. */
  protocolVersion: number;
  /** The hermes-fsck that runs the plugin. */
  tool: { name: "hermes-fsck"; version: string };
  /** Absolute session dir. */
  sessionDir: string;
  /** The agent's state.db: its path (null when none) and whether it could be read. */
  stateDb: { path: string | null; status: "absent" | "ok" | "unreadable" };
  /** Whether the operator said no server is running (`--server-stopped`). */
  serverStopped: boolean;
  /** The run's clock, ISO 8601, so a plugin's ages agree with the built-in checks'. */
  now: string;
  /** Every session with a file in the store, in id order. */
  sessions: PluginSession[];
}

/**
 * A finding line as a plugin prints it (see the schema).
 *
 * @example
 * ```ts
 * import type { PluginFindingLine } from "./plugin_protocol.ts";
 * const line: PluginFindingLine = {
 *   kind: "big_session",
 *   category: "info",
 *   sessionId: "abc",
 *   paths: ["abc.json"],
 *   message: "abc.json holds 9000 messages.",
 * };
 * console.log(JSON.stringify(line));
 * ```
 */
export interface PluginFindingLine {
  /** snake_case kind, not one of the built-in kinds. */
  kind: string;
  /** A plugin never repairs, so never `repairable`. */
  category: "unsafe_to_repair" | "info";
  /** Defaults to `warning` for unsafe findings, `info` for info ones. */
  severity?: Severity;
  /** The session concerned, when there is one. */
  sessionId?: string;
  /** Files concerned. */
  paths?: string[];
  /** One sentence for a person. */
  message: string;
  /** Facts behind it. */
  evidence?: Evidence;
  /** Tells apart findings of the same kind, session and paths. */
  key?: string;
}

/**
 * What {@linkcode parsePluginLine} makes of one line.
 *
 * @example
 * ```ts
 * import { type ParsedPluginLine, parsePluginLine } from "./plugin_protocol.ts";
 * const parsed: ParsedPluginLine = parsePluginLine("not json");
 * if (!parsed.ok) console.log(parsed.problems);
 * ```
 */
export type ParsedPluginLine =
  | { ok: true; finding: PluginFindingLine }
  | { ok: false; problems: string[] };

/**
 * Builds the stdin document of a plugin from a scan.
 *
 * @example
 * ```ts
 * import { pluginInput } from "./plugin_protocol.ts";
 * import type { StoreSnapshot } from "../scan/store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * const input = pluginInput(store, { now: Date.now(), serverStopped: false });
 * input.sessions[0]; // { sessionId: "abc", live: "/srv/sessions/abc.json", backup: null, journal: null }
 * ```
 */
export function pluginInput(
  store: StoreSnapshot,
  options: CheckOptions,
): PluginInput {
  const sessions: PluginSession[] = [];
  for (const files of store.sessions.values()) {
    // A journal-only id with '.' is no session id a plugin may build on.
    if (!isValidSessionId(files.sessionId)) continue;
    sessions.push({
      sessionId: files.sessionId,
      live: files.live?.path ?? null,
      backup: files.backup?.path ?? null,
      journal: files.journal?.files.at(-1)?.path ?? null,
    });
  }
  return {
    protocolVersion: PLUGIN_PROTOCOL_VERSION,
    tool: { name: "hermes-fsck", version: TOOL_VERSION },
    sessionDir: store.sessionDir,
    stateDb: { path: store.stateDb.path, status: store.stateDb.status },
    serverStopped: options.serverStopped,
    now: new Date(options.now).toISOString(),
    sessions,
  };
}

/**
 * Parses and validates one line of a plugin's stdout. Problems are
 * `<path>: <what is wrong>`, with a hint where a plugin tried to repair.
 *
 * @example
 * ```ts
 * import { parsePluginLine } from "./plugin_protocol.ts";
 * parsePluginLine('{"kind":"x","category":"repairable","message":"m"}').ok; // false
 * ```
 */
export function parsePluginLine(text: string): ParsedPluginLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return {
      ok: false,
      problems: [`not JSON (${(error as Error).message})`],
    };
  }
  const problems = validateJson(PLUGIN_FINDING_SCHEMA, value);
  const line = value as Record<string, unknown>;
  if (problems.length === 0 && line.evidence !== undefined) {
    const evidence = validateJson(
      (REPORT_SCHEMA.$defs as Record<string, JsonSchema>).evidence,
      line.evidence,
      REPORT_SCHEMA,
    );
    problems.push(...evidence.map((p) => p.replace(/^\$/, "$.evidence")));
  }
  if (problems.length > 0) {
    if (line?.category === "repairable" || line?.repair !== undefined) {
      problems.push(
        "plugins report and never repair: use category unsafe_to_repair or info, and no repair",
      );
    }
    return { ok: false, problems };
  }
  return { ok: true, finding: value as PluginFindingLine };
}
