/**
 * Builders for real stores in temp dirs: sidecars written the way the
 * server writes them (metadata keys first, `json.dumps(indent=2)` style),
 * backups, the index, the tombstone, turn journals, and a real SQLite
 * state.db in any schema. Shared by the tests and the demo.
 *
 * @example
 * ```ts
 * import { TestStore } from "./fixtures.ts";
 * const store = await TestStore.create();
 * await store.sidecar("abc", { messages: 3 });
 * await store.backup("abc", { messages: 10 });
 * ```
 * @module
 */

import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { CLI_FLAGS } from "../tools/permissions.ts";
import { CLI_DENO } from "./cli_deno.ts";
import { SESSION_COLUMNS } from "../core/state_db/state_db.ts";
import { compactEntry, sortIndexEntries } from "../core/store/compact_entry.ts";
import { summarizeSidecar } from "../core/store/sidecar_summary.ts";

/** A chat message as the server stores it. */
export type Message = Record<string, unknown>;

/**
 * `count` alternating user/assistant messages with timestamps.
 *
 * @example
 * ```ts
 * makeMessages(2); // [{ role: "user", ... }, { role: "assistant", ... }]
 * ```
 */
export function makeMessages(count: number, prefix = "message"): Message[] {
  return Array.from({ length: count }, (_, i) => ({
    role: i % 2 === 0 ? "user" : "assistant",
    content: `${prefix} ${i}`,
    timestamp: 1778458000 + i,
  }));
}

/** Fields of a sidecar; `messages` may be a count. */
export type SidecarFields = Record<string, unknown> & {
  messages?: number | Message[];
};

/**
 * A sidecar object in the server's key order (metadata, then messages and
 * tool_calls, then extra keys).
 *
 * @example
 * ```ts
 * makeSidecar("abc", { messages: 2, title: "Hello" }).title; // "Hello"
 * ```
 */
export function makeSidecar(
  id: string,
  fields: SidecarFields = {},
): Record<string, unknown> {
  const { messages = 2, ...rest } = fields;
  const list = typeof messages === "number" ? makeMessages(messages) : messages;
  const meta: Record<string, unknown> = {
    session_id: id,
    title: `Session ${id}`,
    workspace: "/work/project",
    model: "test-model",
    model_provider: null,
    created_at: 1778450000.5,
    updated_at: 1778458000.5,
    pinned: false,
    archived: false,
    project_id: null,
    profile: null,
    input_tokens: 0,
    output_tokens: 0,
    estimated_cost: null,
    personality: null,
    active_stream_id: null,
    pending_user_message: null,
    pending_attachments: [],
    pending_started_at: null,
  };
  const extra: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(rest)) {
    if (key in meta || !EXTRA_KEYS_AFTER_MESSAGES.has(key)) meta[key] = value;
    else extra[key] = value;
  }
  return { ...meta, messages: list, tool_calls: [], ...extra };
}

const EXTRA_KEYS_AFTER_MESSAGES = new Set([
  "context_messages",
  "clear_generation",
  "intentional_shrink_generation",
  "truncation_watermark",
  "truncation_boundary",
  "pending_user_source",
  "compression_anchor_mode",
]);

/** A row of the state.db `sessions` table. */
export type SessionRow = Record<string, string | number | null>;
/** A row of the state.db `messages` table. */
export type MessageRow = Record<string, string | number | null>;

/** Columns of a state.db schema. */
export interface StateDbSchema {
  sessions: string[];
  messages: string[] | null;
}

/** The full current schema. */
export const FULL_SCHEMA: StateDbSchema = {
  // Every column the tool reads, plus two it does not, as a real agent has.
  sessions: ["id", ...SESSION_COLUMNS, "ended_at", "end_reason"],
  messages: ["id", "session_id", "role", "content", "timestamp", "tool_calls"],
};

/** An old schema: sessions has only id and source; messages has no timestamp. */
export const OLD_SCHEMA: StateDbSchema = {
  sessions: ["id", "source", "title"],
  messages: ["session_id", "role", "content"],
};

/** A store in a temp dir. */
/** Past this many sidecars written through it, a store's index stops following them. */
const AUTO_INDEX_MAX = 300;

export class TestStore {
  readonly root: string;
  readonly sessionDir: string;
  readonly hermesHome: string;
  readonly stateDbPath: string;
  /**
   * Whether `_index.json` follows the sidecars, as the server's save keeps
   * it, until a test writes that file itself.
   */
  #autoIndex = true;
  /** The entry of each sidecar written through sidecar(), by file name. */
  #entries = new Map<string, Record<string, unknown>>();

  private constructor(root: string) {
    this.root = root;
    this.sessionDir = join(root, "webui", "sessions");
    this.hermesHome = join(root, "hermes");
    this.stateDbPath = join(this.hermesHome, "state.db");
  }

  /**
   * Creates an empty store (session dir and hermes home) in a new temp dir,
   * below `dir` when given (e.g. a tmpfs, where fsync costs nothing).
   *
   * @example
   * ```ts
   * const store = await TestStore.create();
   * ```
   */
  static async create(dir?: string): Promise<TestStore> {
    const root = await Deno.makeTempDir({ prefix: "hermes-fsck-test-", dir });
    const store = new TestStore(root);
    await Deno.mkdir(store.sessionDir, { recursive: true });
    await Deno.mkdir(store.hermesHome, { recursive: true });
    return store;
  }

  /** Absolute path of a name in the session dir. */
  path(name: string): string {
    return join(this.sessionDir, name);
  }

  /** Writes a file of the session dir as given. */
  async writeRaw(name: string, content: string | Uint8Array): Promise<void> {
    if (name === "_index.json") this.#autoIndex = false;
    const path = this.path(name);
    await Deno.mkdir(join(path, ".."), { recursive: true });
    if (typeof content === "string") await Deno.writeTextFile(path, content);
    else await Deno.writeFile(path, content);
  }

  /**
   * Writes `<id>.json`, Python `json.dumps(indent=2)` style, and, as the
   * server's save does, lists it in `_index.json` (until the test writes
   * that file itself).
   */
  async sidecar(
    id: string,
    fields: SidecarFields = {},
  ): Promise<Record<string, unknown>> {
    const sidecar = makeSidecar(id, fields);
    await this.writeRaw(`${id}.json`, JSON.stringify(sidecar, null, 2));
    if (this.#autoIndex) {
      this.#entries.set(
        `${id}.json`,
        compactEntry(id, summarizeSidecar(sidecar), 0),
      );
      // Rewriting the whole index on each save makes a big store quadratic
      // to build: past a few hundred sessions, tests write their own.
      if (this.#entries.size > AUTO_INDEX_MAX) {
        this.#autoIndex = false;
        await Deno.remove(this.path("_index.json")).catch(() => {});
      } else {
        await Deno.writeTextFile(
          this.path("_index.json"),
          JSON.stringify(
            this.#indexEntries(),
            null,
            2,
          ),
        );
      }
    }
    return sidecar;
  }

  /**
   * Writes `_index.json` as the server's full rebuild would from the
   * sidecars on disk now (those that parse as objects), for tests that
   * write sidecars raw; nothing when none does. From then on the index no
   * longer follows the sidecars.
   */
  async indexFromFiles(): Promise<void> {
    const entries = [...(await this.#entriesFromFiles()).values()];
    if (entries.length > 0) await this.index(sortIndexEntries(entries));
  }

  /**
   * While the index follows the sidecars (no test wrote it), rewrites it
   * from the sidecars on disk now, or removes it when none is left: for a
   * test that removes a sidecar, as after a crash that lost it.
   */
  async syncIndex(): Promise<void> {
    if (!this.#autoIndex) return;
    this.#entries = await this.#entriesFromFiles();
    const path = this.path("_index.json");
    if (this.#entries.size > 0) {
      const entries = this.#indexEntries();
      await Deno.writeTextFile(path, JSON.stringify(entries, null, 2));
    } else await Deno.remove(path).catch(() => {});
  }

  /** The index of the known entries, as the server's full rebuild orders it. */
  #indexEntries(): Record<string, unknown>[] {
    const names = [...this.#entries.keys()].sort();
    return sortIndexEntries(names.map((name) => this.#entries.get(name)!));
  }

  /** The entry of each sidecar on disk that parses as an object. */
  async #entriesFromFiles(): Promise<Map<string, Record<string, unknown>>> {
    const entries = new Map<string, Record<string, unknown>>();
    const names = [];
    for await (const entry of Deno.readDir(this.sessionDir)) {
      const name = entry.name;
      if (entry.isFile && !name.startsWith("_") && name.endsWith(".json")) {
        names.push(name);
      }
    }
    for (const name of names.sort()) {
      let value: unknown;
      try {
        value = JSON.parse(await Deno.readTextFile(this.path(name)));
      } catch {
        continue;
      }
      if (
        typeof value !== "object" || value === null || Array.isArray(value)
      ) continue;
      entries.set(
        name,
        compactEntry(name.slice(0, -5), summarizeSidecar(value), 0),
      );
    }
    return entries;
  }

  /** Writes `<id>.json.bak`. */
  async backup(
    id: string,
    fields: SidecarFields = {},
  ): Promise<Record<string, unknown>> {
    const sidecar = makeSidecar(id, fields);
    await this.writeRaw(`${id}.json.bak`, JSON.stringify(sidecar, null, 2));
    return sidecar;
  }

  /** Writes `_index.json` with the given entries. */
  async index(entries: unknown): Promise<void> {
    await this.writeRaw("_index.json", JSON.stringify(entries, null, 2));
  }

  /** Writes the durable delete tombstone. */
  async tombstone(ids: string[]): Promise<void> {
    await this.writeRaw(
      "_deleted_webui_sessions.json",
      JSON.stringify({ version: 1, ids }),
    );
  }

  /** Writes a turn journal, one event (or raw line) per line. */
  async journal(
    id: string,
    events: (Record<string, unknown> | string)[],
  ): Promise<void> {
    const lines = events.map((
      e,
    ) => (typeof e === "string" ? e : JSON.stringify(e)));
    await this.writeRaw(`_turn_journal/${id}.jsonl`, lines.join("\n") + "\n");
  }

  /**
   * Creates state.db with the given schema and rows (missing columns are
   * dropped), at `path` when given (its dir is made).
   */
  stateDb(
    rows: { sessions?: SessionRow[]; messages?: MessageRow[] },
    schema: StateDbSchema = FULL_SCHEMA,
    path: string = this.stateDbPath,
  ): void {
    Deno.mkdirSync(join(path, ".."), { recursive: true });
    const db = new DatabaseSync(path);
    try {
      db.exec(`CREATE TABLE sessions (${schema.sessions.join(", ")})`);
      if (schema.messages) {
        db.exec(`CREATE TABLE messages (${schema.messages.join(", ")})`);
      }
      // One transaction: a commit a row is an fsync a row.
      db.exec("BEGIN");
      insert(db, "sessions", schema.sessions, rows.sessions ?? []);
      if (schema.messages) {
        insert(db, "messages", schema.messages, rows.messages ?? []);
      }
      db.exec("COMMIT");
    } finally {
      db.close();
    }
  }

  /** Reads and parses a JSON file of the session dir. */
  async readJson(name: string): Promise<unknown> {
    return JSON.parse(await Deno.readTextFile(this.path(name)));
  }

  /** Whether a name exists in the session dir. */
  async exists(name: string): Promise<boolean> {
    try {
      await Deno.lstat(this.path(name));
      return true;
    } catch {
      return false;
    }
  }

  /** Every file below the store root with its bytes, for "nothing else changed" checks. */
  async snapshot(dir = this.root): Promise<Map<string, string>> {
    const files = new Map<string, string>();
    for await (const entry of Deno.readDir(dir)) {
      const path = join(dir, entry.name);
      if (entry.isDirectory) {
        for (const [k, v] of await this.snapshot(path)) files.set(k, v);
      } else if (entry.isFile) {
        files.set(
          path.slice(this.root.length + 1),
          await Deno.readTextFile(path),
        );
      }
    }
    return files;
  }

  /** Removes the temp dir. */
  async cleanup(): Promise<void> {
    await Deno.remove(this.root, { recursive: true }).catch(() => {});
  }
}

function insert(
  db: DatabaseSync,
  table: string,
  columns: string[],
  rows: Record<string, unknown>[],
) {
  for (const row of rows) {
    const keys = Object.keys(row).filter((k) => columns.includes(k));
    const sql = `INSERT INTO ${table} (${keys.join(", ")}) VALUES (${
      keys.map(() => "?").join(", ")
    })`;
    db.prepare(sql).run(...keys.map((k) => row[k] as string | number | null));
  }
}

/**
 * Runs `fn` with a fresh store and removes it afterwards, whatever happens.
 *
 * @example
 * ```ts
 * await withStore(async (store) => { await store.sidecar("abc"); });
 * ```
 */
export async function withStore(
  fn: (store: TestStore) => Promise<void> | void,
): Promise<void> {
  const store = await TestStore.create();
  try {
    await fn(store);
  } finally {
    await store.cleanup();
  }
}

/**
 * Bytes from text (UTF-8) and raw byte lists, concatenated: for files with
 * invalid UTF-8, BOMs or NUL bytes in them.
 *
 * @example
 * ```ts
 * concatBytes('{"a": "', [0xff], '"}'); // a JSON file with one invalid byte
 * ```
 */
export function concatBytes(...parts: (string | number[])[]): Uint8Array {
  const encoder = new TextEncoder();
  const chunks = parts.map((p) =>
    typeof p === "string" ? encoder.encode(p) : Uint8Array.from(p)
  );
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** What a CLI run printed and returned. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * How a subprocess run of the CLI starts. Every test that runs the CLI as
 * a subprocess goes through {@linkcode runCli} or {@linkcode startCli}, so
 * each run has exactly the binary's permissions and V8 flags.
 *
 * @example
 * ```ts
 * const options: CliOptions = { env: { HOME: "/tmp/x" }, prefix: ["strace", "-f"] };
 * ```
 */
export interface CliOptions {
  /**
   * Variables over the inherited environment, after `NO_COLOR=1` and
   * Deno's cache dir (which a HOME inside a store would otherwise move).
   */
  env?: Record<string, string>;
  /** The environment is exactly `env`: nothing inherited, nothing added. */
  clearEnv?: boolean;
  cwd?: string;
  /**
   * Another module that runs the CLI's `main` instead of `cli.ts`, such as
   * the fault-injecting {@linkcode FAULT_CLI}.
   */
  entry?: string;
  /** A command the run goes behind (`strace -f`, `setpriv ...`). */
  prefix?: string[];
  /** The deno binary; {@linkcode CLI_DENO} unless the test is about another. */
  deno?: string;
}

/**
 * Runs `cli.ts` as a subprocess with exactly the binary's permissions and
 * waits for it, its output captured. With `timeoutMs`, a run still going
 * then is killed and the call throws: a guard against a runaway run.
 *
 * @example
 * ```ts
 * const { code, stdout } = await runCli(["audit", "--session-dir", store.sessionDir]);
 * ```
 */
export async function runCli(
  args: string[],
  options: CliOptions & { timeoutMs?: number } = {},
): Promise<CliResult> {
  const child = startCli(args, options);
  if (options.timeoutMs === undefined) return decoded(await child.output());
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, options.timeoutMs);
  try {
    const output = await child.output();
    if (timedOut) {
      throw new Error(
        `${
          args.join(" ")
        }: killed after the time limit of ${options.timeoutMs} ms`,
      );
    }
    return decoded(output);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Starts `cli.ts` as {@linkcode runCli} does and returns at once, for
 * tests that signal it, kill it or race it; its output piped unless
 * `output` is `"null"`.
 *
 * @example
 * ```ts
 * const child = startCli(["repair", ...storeArgs(store)]);
 * child.kill("SIGTERM");
 * const { code } = await child.output();
 * ```
 */
export function startCli(
  args: string[],
  options: CliOptions & { output?: "piped" | "null" } = {},
): Deno.ChildProcess {
  const argv = [
    ...(options.prefix ?? []),
    options.deno ?? CLI_DENO,
    ...cliRunArgs(args, options.entry),
  ];
  const output = options.output ?? "piped";
  return new Deno.Command(argv[0], {
    args: argv.slice(1),
    clearEnv: options.clearEnv,
    env: options.clearEnv ? options.env : subprocessEnv(options.env),
    cwd: options.cwd,
    stdin: "null",
    stdout: output,
    stderr: output,
  }).spawn();
}

/**
 * The arguments of `deno` (start {@linkcode CLI_DENO}) that run `cli.ts`
 * (or `entry`, a path) with `args` as the binary would: its permissions and
 * V8 flags (the one place every CLI test takes them from). For wrappers
 * that take a command line rather than a process to start (a pty through
 * `script`, a shell script standing in for the binary); others use
 * {@linkcode runCli} or {@linkcode startCli}.
 *
 * @example
 * ```ts
 * new Deno.Command(CLI_DENO, { args: cliRunArgs(["audit", "--quiet"]) });
 * ```
 */
export function cliRunArgs(args: string[], entry?: string): string[] {
  const cli = entry ?? new URL("../cli.ts", import.meta.url).pathname;
  return ["run", "--quiet", ...CLI_FLAGS, cli, ...args];
}

export { CLI_DENO };

/**
 * The environment a store's CLI runs get: HOME and every default Hermes
 * path inside the store's temp dir, so no run reads the user's own store.
 *
 * @example
 * ```ts
 * await runCli(["audit"], { env: storeEnv(store) });
 * ```
 */
export function storeEnv(
  store: { root: string; hermesHome: string },
): Record<string, string> {
  return {
    HOME: join(store.root, "home"),
    HERMES_WEBUI_STATE_DIR: join(store.root, "webui"),
    HERMES_HOME: store.hermesHome,
  };
}

/**
 * Runs the CLI's `main` in this process, its output captured: the code of
 * the binary minus the process start-up, which costs hundreds of ms a run.
 * For tests that run the CLI many times; never with a fault point (it
 * would exit this process).
 *
 * @example
 * ```ts
 * const { code, stdout } = await runCliHere(["audit", ...storeArgs(store)]);
 * ```
 */
export async function runCliHere(
  args: string[],
  options: { env?: Record<string, string> } = {},
): Promise<CliResult> {
  // Loaded on first use: most users of this module never run the CLI here.
  const { main } = await import("../cli.ts");
  let stdout = "";
  let stderr = "";
  const env: Record<string, string> = { NO_COLOR: "1", ...options.env };
  const code = await main(args, {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    env: (name) => env[name],
  });
  return { code, stdout, stderr };
}

/**
 * The fault-injecting entry of the tests (tests/fault_cli.ts), for
 * {@linkcode runCli}'s `entry`.
 *
 * @example
 * ```ts
 * await runCli(["repair"], { entry: FAULT_CLI, env: { HERMES_FSCK_FAULT_AFTER_STEPS: "3" } });
 * ```
 */
export const FAULT_CLI: string =
  new URL("./fault_cli.ts", import.meta.url).pathname;

/**
 * Runs a command as a subprocess, no stdin, its output captured, with
 * NO_COLOR and Deno's cache dir set.
 *
 * @example
 * ```ts
 * const { code, stderr } = await runCommand("sh", ["init.sh"], { env: { X: "1" } });
 * ```
 */
export async function runCommand(
  command: string,
  args: string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): Promise<CliResult> {
  const output = await new Deno.Command(command, {
    args,
    env: subprocessEnv(options.env),
    cwd: options.cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return decoded(output);
}

/** `env` over NO_COLOR and Deno's cache dir, for a subprocess. */
function subprocessEnv(
  env: Record<string, string> = {},
): Record<string, string> {
  // DENO_DIR is kept so a test that points HOME into a temp store does not
  // make Deno build a fresh module cache inside that store.
  return { NO_COLOR: "1", ...denoDir(), ...env };
}

function decoded(output: Deno.CommandOutput): CliResult {
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

function denoDir(): Record<string, string> {
  const explicit = Deno.env.get("DENO_DIR");
  if (explicit) return { DENO_DIR: explicit };
  const home = Deno.env.get("HOME");
  return home ? { DENO_DIR: join(home, ".cache", "deno") } : {};
}

/** CLI arguments naming a test store's dirs. */
export function storeArgs(store: TestStore, withStateDb = true): string[] {
  return [
    "--session-dir",
    store.sessionDir,
    ...(withStateDb ? ["--state-db", store.stateDbPath] : ["--no-state-db"]),
  ];
}
