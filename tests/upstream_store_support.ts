/**
 * Healthy stores written by the server's own code: a small Python driver
 * (this project's own) runs from `../shared/upstream/<version>` relative to
 * the project root, imports that version's `api` package and saves sessions,
 * writes the index, appends turn journals (with lifecycle events), writes
 * the delete tombstone where the version has one, and keeps a state.db as
 * the agent does (`sessions` and `messages`, `source = 'webui'`).
 *
 * @example
 * ```ts
 * import { upstreamStore } from "./upstream_store_support.ts";
 * const built = await upstreamStore("hermes-webui-df65251d5");
 * if (typeof built !== "string") console.log(built.sessionDir);
 * ```
 * @module
 */

import { join } from "node:path";
import { runCommand } from "./fixtures.ts";

/** The two server versions in `../shared/upstream/`. */
export const UPSTREAM_VERSIONS = [
  "hermes-webui-f6ce79185c",
  "hermes-webui-df65251d5",
] as const;

/** A store the server's code wrote. */
export interface UpstreamStore {
  root: string;
  sessionDir: string;
  stateDb: string;
}

const PROJECT_ROOT = new URL("..", import.meta.url).pathname;

/**
 * The folder of `version`'s code: `../shared/upstream/<version>` beside the
 * project root, or under `$HERMES_FSCK_UPSTREAM` (worktrees, whose
 * `../shared` is not the clone's); a string says why it is absent, for a
 * skip.
 *
 * @example
 * ```ts
 * const dir = await upstreamDir("hermes-webui-df65251d5");
 * if (dir.startsWith("skipped")) console.warn(dir);
 * ```
 */
export async function upstreamDir(version: string): Promise<string> {
  const upstream = Deno.env.get("HERMES_FSCK_UPSTREAM") ??
    join(PROJECT_ROOT, "..", "shared", "upstream");
  const cwd = join(upstream, version);
  try {
    await Deno.stat(join(cwd, "api", "session_recovery.py"));
  } catch {
    return `skipped: ${cwd}/api is absent (../shared/upstream beside the project, or $HERMES_FSCK_UPSTREAM)`;
  }
  try {
    await runCommand("python3", ["-c", ""]);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      return "skipped: python3 is not on PATH";
    }
    throw error;
  }
  return cwd;
}

/**
 * Runs the server's own recovery CLI (`python3 -m api.session_recovery
 * --audit` or `--repair-safe`) of the version in `dir` on a store and
 * returns its stdout without the final newline. Its `HERMES_HOME` and state
 * dir point at an empty scratch dir, so the module never reads the
 * operator's own store. Throws with the server's stderr if it fails.
 *
 * @example
 * ```ts
 * const out = await runServerRecovery(dir, "--audit", "/tmp/s/sessions", null);
 * ```
 */
export async function runServerRecovery(
  dir: string,
  mode: "--audit" | "--repair-safe",
  sessionDir: string,
  stateDb: string | null,
): Promise<string> {
  const scratch = await Deno.makeTempDir({ prefix: "hermes-fsck-oracle-" });
  try {
    const args = ["-m", "api.session_recovery", mode, "--session-dir"];
    args.push(sessionDir);
    if (stateDb !== null) args.push("--state-db", stateDb);
    const result = await runCommand("python3", args, {
      cwd: dir,
      env: {
        PYTHONDONTWRITEBYTECODE: "1",
        PYTHONHASHSEED: "0",
        HERMES_HOME: join(scratch, "hermes"),
        HERMES_WEBUI_STATE_DIR: join(scratch, "webui"),
        HOME: scratch,
      },
    });
    if (result.code !== 0) {
      throw new Error(
        `the server's ${mode} (${dir}) failed on ${sessionDir}:\n${result.stderr}`,
      );
    }
    return result.stdout.replace(/\n$/, "");
  } finally {
    await Deno.remove(scratch, { recursive: true });
  }
}

// Written by this project: drives the server's public writers only.
const DRIVER = `
import os, sqlite3, sys
sys.path.insert(0, os.getcwd())
from pathlib import Path
root = Path(sys.argv[1])
os.environ["HERMES_WEBUI_STATE_DIR"] = str(root / "webui")
os.environ["HERMES_HOME"] = str(root / "hermes")
sd = root / "webui" / "sessions"
sd.mkdir(parents=True, exist_ok=True)
(root / "hermes").mkdir(parents=True, exist_ok=True)
from api import models, turn_journal
ids = sys.argv[2].split(",")
msgs = [{"role": "user", "content": "hi", "timestamp": 1778458000},
        {"role": "assistant", "content": "hello", "timestamp": 1778458001}]
db = sqlite3.connect(str(root / "hermes" / "state.db"))
db.execute("CREATE TABLE sessions (id TEXT PRIMARY KEY, source TEXT, title TEXT, model TEXT, started_at REAL, parent_session_id TEXT, message_count INTEGER, ended_at REAL, end_reason TEXT)")
db.execute("CREATE TABLE messages (id INTEGER PRIMARY KEY, session_id TEXT, role TEXT, content TEXT, timestamp REAL, tool_calls TEXT, active INTEGER DEFAULT 1)")
for sid in ids:
    models.Session(session_id=sid, title="chat " + sid, messages=[dict(m) for m in msgs]).save()
    first = turn_journal.append_turn_journal_event(sid, {"event": "submitted", "stream_id": "s1", "role": "user", "content": "hi"}, session_dir=sd)
    for name in ("worker_started", "completed"):
        turn_journal.append_turn_journal_event(sid, {"event": name, "stream_id": "s1", "turn_id": first["turn_id"]}, session_dir=sd)
    db.execute("INSERT INTO sessions (id, source, title, model, started_at, message_count) VALUES (?, 'webui', ?, 'test-model', 1778458000, 2)", (sid, "chat " + sid))
    for m in msgs:
        db.execute("INSERT INTO messages (session_id, role, content, timestamp) VALUES (?, ?, ?, ?)", (sid, m["role"], m["content"], m["timestamp"]))
db.commit()
db.close()
if len(sys.argv) > 3 and sys.argv[3] == "unsaved":
    # A chat opened with New Conversation is in memory only until its first
    # message; a full index rebuild meanwhile lists it.
    models.new_session(workspace=str(root))
models._write_session_index()
if hasattr(models, "_record_webui_deleted_session_tombstone"):
    models._record_webui_deleted_session_tombstone("gone_session")
`;

/**
 * Builds a healthy store of sessions `ids` with `version`'s own code in a
 * new temp dir (with `unsavedNewChat`, a new chat still in memory when the
 * index is written, as the server lists it); a
 * string says why it cannot (upstream or python3 absent), for a skip.
 *
 * @example
 * ```ts
 * const built = await upstreamStore("hermes-webui-f6ce79185c");
 * ```
 */
export async function upstreamStore(
  version: string,
  ids: string[] = ["abc123", "chat_7"],
  options: { unsavedNewChat?: boolean } = {},
): Promise<UpstreamStore | string> {
  const cwd = await upstreamDir(version);
  if (cwd.startsWith("skipped:")) return cwd;
  const root = await Deno.makeTempDir({ prefix: "hermes-fsck-upstream-" });
  const driver = join(root, "driver.py");
  await Deno.writeTextFile(driver, DRIVER);
  let result;
  try {
    result = await runCommand("python3", [
      driver,
      join(root, "store"),
      ids.join(","),
      options.unsavedNewChat ? "unsaved" : "",
    ], {
      cwd,
    });
  } catch (error) {
    await Deno.remove(root, { recursive: true });
    if (error instanceof Deno.errors.NotFound) {
      return "skipped: python3 is not on PATH";
    }
    throw error;
  }
  if (result.code !== 0) {
    throw new Error(`the ${version} driver failed:\n${result.stderr}`);
  }
  return {
    root,
    sessionDir: join(root, "store", "webui", "sessions"),
    stateDb: join(root, "store", "hermes", "state.db"),
  };
}

/**
 * Runs `script` (Python of this project's own) with python3 from
 * `version`'s folder, so it can import that version's `api` package, and
 * returns its stdout; a string starting `skipped:` says why it cannot run
 * (upstream or python3 absent). A failing script throws with its stderr.
 *
 * @example
 * ```ts
 * const out = await upstreamPython("hermes-webui-df65251d5", "print(1)", []);
 * if (typeof out !== "string") console.log(out.stdout); // "1\n"
 * ```
 */
export async function upstreamPython(
  version: string,
  script: string,
  args: string[],
): Promise<{ stdout: string } | string> {
  const cwd = await upstreamDir(version);
  if (cwd.startsWith("skipped:")) return cwd;
  const dir = await Deno.makeTempDir({ prefix: "hermes-fsck-py-" });
  try {
    const path = join(dir, "script.py");
    await Deno.writeTextFile(path, script);
    let result;
    try {
      result = await runCommand("python3", [path, ...args], { cwd });
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        return "skipped: python3 is not on PATH";
      }
      throw error;
    }
    if (result.code !== 0) {
      throw new Error(`the ${version} script failed:\n${result.stderr}`);
    }
    return { stdout: result.stdout };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
