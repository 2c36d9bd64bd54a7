/**
 * The oracle of issue 21: stores a crash left mid-turn, written by the
 * server's own code, and what the server's own loader makes of them.
 *
 * - {@linkcode buildCrashStore} writes one store holding one session a
 *   scenario (see {@linkcode CRASH_SCENARIOS}) with the code of
 *   `../shared/upstream/hermes-webui-df65251d5`: `Session.save`, the
 *   chat-start bookkeeping of its routes (`active_stream_id`,
 *   `pending_user_message`, `pending_started_at` as the server sets them
 *   mid-turn), its turn-journal append (pid shards) and its run-journal
 *   append (text deltas, reasoning, tool cards, terminals). One Python
 *   process builds every scenario asked for.
 * - {@linkcode buildSeedCrashStore} does the same for G0 with the seed's
 *   code (`hermes-webui-f6ce79185c`), whose own recovery is the oracle for
 *   sidecars of its era.
 * - {@linkcode serverView} copies a store and lets the server's own loader
 *   (`get_session`, so the state.db heal, `_repair_stale_pending` and the
 *   lazy journal retry run) read every session named, in one Python
 *   process: on a crash store that is the server's own recovery; on a
 *   store after `hermes-fsck repair` it is what the user sees next, and
 *   `changed` says whether the loader still had to write.
 * - {@linkcode serverRecovery} (the server's recovery of a copy) and
 *   {@linkcode repairThenServerLoad} (`repair --server-stopped` on a copy,
 *   then the server's loader) return those views with the output each
 *   lost, for the differential tests.
 * - {@linkcode comparable} masks what the clock alone decides (marker
 *   timestamps), so two views compare with `assert.deepEqual`.
 * - {@linkcode runOutput} and {@linkcode lostOutput}: the "no output lost"
 *   counter: every text delta, reasoning delta and tool card of every run
 *   journal, and which of them after a repair are neither in the sidecar
 *   nor still recoverable by the server.
 *
 * The Python drivers are this project's own, written to a temp file at run
 * time; they only call the server's code, from its folder. Every stream is
 * dead as the server judges it: a fresh loader process has no live stream,
 * its start time is after each turn began (cause `process_restart`), and
 * each turn began an hour ago (past the 30 s grace).
 *
 * @example
 * ```ts
 * import {
 *   buildCrashStore,
 *   comparable,
 *   repairThenServerLoad,
 *   serverRecovery,
 * } from "./run_crash_support.ts";
 * const store = await buildCrashStore(["mid_text"]);
 * if (typeof store !== "string") {
 *   const sid = store.sessions.mid_text!.sid;
 *   const theirs = await serverRecovery(store, [sid]);
 *   const ours = await repairThenServerLoad(store, [sid]);
 *   console.log(comparable(ours.views[sid]), comparable(theirs.views[sid]));
 *   console.log(ours.lost); // [] when no output was lost
 *   await Deno.remove(store.root, { recursive: true });
 * }
 * ```
 * @module
 */

import { join } from "node:path";
import type { CliResult } from "./fixtures.ts";
import { cli, copyTree, pathsAt, type StorePaths } from "./safety_support.ts";
import {
  runServerRecovery,
  upstreamDir,
  upstreamPython,
} from "./upstream_store_support.ts";

/** The server version whose code builds and reads the crash stores. */
export const ORACLE_VERSION = "hermes-webui-df65251d5";

/**
 * The crash scenarios, one session each:
 * - `mid_text`: died while streaming text (reasoning, then text deltas; no
 *   terminal event); the session also keeps an earlier, completed run's
 *   journal.
 * - `mid_tool`: text, a completed tool card, more text, then died inside a
 *   second tool.
 * - `completed`: the run journal ends with `done` and `stream_end`, the
 *   sidecar still shows it streaming.
 * - `gateway_error`: text, then the gateway's terminal `apperror` carrying
 *   the error row of a settlement whose sidecar save never landed.
 * - `foreign_run`: the file at the stream's path holds another run's
 *   events (ownership mismatch), ending with that run's `done`.
 * - `no_journal`: a plain stale stream, no run journal at all.
 * - `compression_snapshot`: `pre_compression_snapshot: true` (a guard).
 * - `continuation_parent`: a child sidecar names this session as its
 *   `parent_session_id` (a guard).
 * - `g1_sidecar`: a sidecar as an early G1 server (v0.51.81 to .136) wrote
 *   it: without the keys newer than that (`message_count`,
 *   `pending_user_source`, ...), `context_messages` empty, with a run
 *   journal.
 * - `pending_shards`: the earlier turn in one pid's turn-journal shard, the
 *   next `submitted` only in another's; the sidecar was never saved with it.
 * - `cancelled`: text, an interim assistant message, then the user's
 *   `cancel`; the process died before the cancelled turn was saved.
 * - `torn_tail`: died mid-text with the journal's last line torn (only
 *   terminal events are fsynced, so a crash can tear the tail).
 * - `not_started`: died right after chat start: the sidecar's pending
 *   state and the `submitted` event, no worker event, no run journal.
 * - `state_db_ahead`: died mid-text after the agent had persisted the
 *   prompt to state.db (the store's only state.db, `hermes/state.db`,
 *   holds rows of this session only): the server heals from state.db
 *   first, and that path drops the run journal's partial text.
 * - `retry_armed`: the server itself already closed the stale stream while
 *   the run journal was not visible yet (its armed lazy-retry marker); the
 *   journal has appeared since, so its next load recovers the text.
 */
export const CRASH_SCENARIOS = [
  "mid_text",
  "mid_tool",
  "completed",
  "gateway_error",
  "foreign_run",
  "no_journal",
  "compression_snapshot",
  "continuation_parent",
  "g1_sidecar",
  "pending_shards",
  "cancelled",
  "torn_tail",
  "not_started",
  "state_db_ahead",
  "retry_armed",
] as const;

/**
 * A crash the default store leaves out, for its own test:
 * `state_db_ahead_tool`: as `state_db_ahead`, but the agent had also
 * written the turn's first step to state.db (the text before a tool call,
 * the call, its result) and died streaming the text after it, which only
 * the run journal holds. Build it alone (it creates the store's state.db).
 */
export const STATE_DB_AHEAD_TOOL = "state_db_ahead_tool";

/** One of {@linkcode CRASH_SCENARIOS}, or {@linkcode STATE_DB_AHEAD_TOOL}. */
export type CrashScenario =
  | typeof CRASH_SCENARIOS[number]
  | typeof STATE_DB_AHEAD_TOOL;

/** The seed's server version (G0): no run journal, its own marker. */
export const SEED_VERSION = "hermes-webui-f6ce79185c";

/**
 * The crash scenarios of a G0 store, written and recovered by the seed's
 * code ({@linkcode SEED_VERSION}), whose recovery is the oracle for
 * sidecars of its era:
 * - `g0_stale`: an earlier turn, then a turn the process died in (its
 *   pending state saved by the seed's chat start, its `submitted` event in
 *   the single-file turn journal).
 * - `g0_first_turn`: the same for the first turn (no messages yet).
 */
export const SEED_CRASH_SCENARIOS = ["g0_stale", "g0_first_turn"] as const;

/** One of {@linkcode SEED_CRASH_SCENARIOS}. */
export type SeedCrashScenario = typeof SEED_CRASH_SCENARIOS[number];

/** The session a scenario built. */
export interface CrashSession {
  /** The session id (`<sid>.json`). */
  sid: string;
  /** The stream the crashed turn ran as (`active_stream_id`). */
  streamId: string;
  /** The user's prompt of the crashed turn. */
  prompt: string;
  /** `pending_started_at`, the server's seconds. */
  startedAt: number;
  /** `continuation_parent`: the child naming this session as parent. */
  childSid?: string;
  /** `foreign_run`: the run id the events at the stream's path carry. */
  foreignRunId?: string;
  /** `gateway_error`: the content of the journaled error row. */
  errorContent?: string;
  /** `g1_sidecar`: the keys taken out of the sidecar. */
  droppedKeys?: string[];
}

/** A crash store: its paths (as `pathsAt` lays them out) and sessions. */
export interface CrashStore<S extends string = CrashScenario>
  extends StorePaths {
  /** The server version whose code wrote it. */
  version: string;
  /** The sessions, by scenario (only those asked for). */
  sessions: Partial<Record<S, CrashSession>>;
}

// Written by this project, as the drivers below: the store at argv[1] is
// the server's whole world (state dir, Hermes home, home).
const PRELUDE = String.raw`
import json, os, sys, time
sys.path.insert(0, os.getcwd())
from pathlib import Path
root = Path(sys.argv[1])
os.environ["HERMES_WEBUI_STATE_DIR"] = str(root / "webui")
os.environ["HERMES_HOME"] = str(root / "hermes")
os.environ["HOME"] = str(root / "home")
sd = root / "webui" / "sessions"
`;

// The request handler of a turn, in every version: the server's own
// chat-start bookkeeping (saved) and its journaled submitted event.
const CHAT_START = String.raw`
def chat_start(s, stream, prompt, started):
    from api import routes, turn_journal
    routes._prepare_chat_start_session_for_stream(
        s, msg=prompt, attachments=[], workspace=s.workspace, model=s.model,
        model_provider=None, stream_id=stream, started_at=started)
    turn_journal.append_turn_journal_event(s.session_id, {
        "event": "submitted", "stream_id": stream, "role": "user", "content": prompt,
        "attachments": [], "workspace": s.workspace, "model": s.model,
        "model_provider": None, "created_at": s.pending_started_at})
`;

// The start of both builders: the scenarios asked for (argv[2]), the
// store's dirs, and the turn a crashed session finished before its crash.
const BUILDER = String.raw`
wanted = [name for name in sys.argv[2].split(",") if name]
sd.mkdir(parents=True, exist_ok=True)
(root / "hermes").mkdir(parents=True, exist_ok=True)


def prior_turn(started):
    return [
        {"role": "user", "content": "Earlier question", "timestamp": int(started - 600)},
        {"role": "assistant", "content": "Earlier answer.", "timestamp": int(started - 590)},
    ]
`;

// Drives the server's own writers only.
const BUILD = PRELUDE + CHAT_START + BUILDER + String.raw`
from api import models, routes, run_journal, turn_journal

NOW = time.time()
out = {}


def start_turn(sid, stream, prompt, started, messages, extra=None, context=True):
    # A session that finished one turn, then the request handler of the
    # next: the server's own chat-start bookkeeping, saved, its submitted
    # event, and the worker's first lifecycle event.
    s = models.Session(session_id=sid, title="Crash " + sid, messages=[dict(m) for m in messages],
                       context_messages=[dict(m) for m in messages] if context else None, **(extra or {}))
    s.save()
    chat_start(s, stream, prompt, started)
    turn_journal.append_turn_journal_event_for_stream(
        sid, stream, {"event": "worker_started", "created_at": started + 0.5})
    return s


def run(sid, stream, started, events):
    for n, (name, payload) in enumerate(events, start=1):
        run_journal.append_run_event(sid, stream, name, payload, created_at=started + n)


def tokens(text, size=7):
    return [("token", {"text": text[i:i + size]}) for i in range(0, len(text), size)]


def tool(name, preview, args):
    return ("tool", {"event_type": "tool.started", "name": name, "preview": preview, "args": args})


def tool_done(name, preview, args):
    return ("tool_complete", {"event_type": "tool.completed", "name": name, "preview": preview,
                              "args": args, "duration": 0.4, "is_error": False})


def record(scenario, sid, stream, prompt, started, **more):
    out[scenario] = {"sid": sid, "streamId": stream, "prompt": prompt, "startedAt": started, **more}


def mid_text(started):
    sid, stream = "crash_mid_text", "run0mid0text01"
    prompt = "Explain the plan, step by step."
    run(sid, "run0earlier001", started - 600, tokens("Earlier answer.")
        + [("done", {"usage": {}}), ("stream_end", {"session_id": sid})])
    start_turn(sid, stream, prompt, started, prior_turn(started))
    run(sid, stream, started, [("reasoning", {"text": "The user wants a plan."})]
        + tokens("Here is the plan: first, read the logs; then"))
    record("mid_text", sid, stream, prompt, started)


def mid_tool(started):
    sid, stream = "crash_mid_tool", "run0mid0tool01"
    prompt = "List the files, then count the lines."
    ls, wc = {"command": "ls -la /srv"}, {"command": "wc -l /srv/*.log"}
    start_turn(sid, stream, prompt, started, prior_turn(started))
    run(sid, stream, started, tokens("Listing the files first.")
        + [tool("terminal", "ls -la /srv", ls), tool_done("terminal", "a.log b.log", ls)]
        + tokens("Two logs. Counting lines.") + [tool("terminal", "wc -l /srv/*.log", wc)])
    record("mid_tool", sid, stream, prompt, started)


def completed(started):
    sid, stream = "crash_completed", "run0completed1"
    prompt = "What is 6 times 7?"
    args = {"expression": "6*7"}
    start_turn(sid, stream, prompt, started, prior_turn(started))
    run(sid, stream, started, [tool("calculator", "6*7", args), tool_done("calculator", "42", args)]
        + tokens("6 times 7 is 42.")
        + [("done", {"session": {"session_id": sid}, "usage": {"input_tokens": 10, "output_tokens": 5}}),
           ("stream_end", {"session_id": sid})])
    record("completed", sid, stream, prompt, started)


def gateway_error(started):
    sid, stream = "crash_gateway_error", "run0gateway0e1"
    prompt = "Summarise the report."
    s = start_turn(sid, stream, prompt, started, prior_turn(started))
    run(sid, stream, started, tokens("Reading the report"))
    # The gateway's terminal-error settlement built this payload; the
    # process died before its sidecar save landed.
    error = {"role": "assistant", "content": "**Rate limited:** The provider is rate limiting requests."
             "\n\n*Wait a minute, then retry.*", "timestamp": int(started + 30), "_error": True}
    embedded = prior_turn(started) + [{"role": "user", "content": prompt, "timestamp": int(started)}, error]
    payload = {"message": "The provider is rate limiting requests.", "type": "rate_limit",
               "hint": "Wait a minute, then retry.",
               "session": {"session_id": sid, "title": s.title, "messages": embedded},
               "session_id": sid, "terminal_session_persisted": False}
    run_journal.append_run_event(sid, stream, "apperror", payload, created_at=started + 30)
    record("gateway_error", sid, stream, prompt, started, errorContent=error["content"])


def foreign_run(started):
    sid, stream, other = "crash_foreign_run", "run0foreign0a1", "run0foreign0b1"
    prompt = "Check the disk usage."
    start_turn(sid, stream, prompt, started, prior_turn(started))
    run(sid, other, started, tokens("Disk usage is at 40 percent.") + [("done", {"usage": {}})])
    base = sd / run_journal.RUN_JOURNAL_DIR_NAME / sid
    os.rename(base / (other + ".jsonl"), base / (stream + ".jsonl"))
    record("foreign_run", sid, stream, prompt, started, foreignRunId=other)


def no_journal(started):
    sid, stream = "crash_no_journal", "run0nojournal1"
    prompt = "Are you there?"
    start_turn(sid, stream, prompt, started, prior_turn(started))
    record("no_journal", sid, stream, prompt, started)


def compression_snapshot(started):
    sid, stream = "crash_compression_snapshot", "run0snapshot01"
    prompt = "Keep going after the compression."
    start_turn(sid, stream, prompt, started, prior_turn(started), extra={"pre_compression_snapshot": True})
    run(sid, stream, started, tokens("Continuing the task"))
    record("compression_snapshot", sid, stream, prompt, started)


def continuation_parent(started):
    sid, stream, child = "crash_parent", "run0parent0001", "crash_parent_child"
    prompt = "Continue in the compressed session."
    start_turn(sid, stream, prompt, started, prior_turn(started))
    run(sid, stream, started, tokens("Working on it"))
    models.Session(session_id=child, title="Crash continuation", parent_session_id=sid,
                   messages=[{"role": "user", "content": prompt, "timestamp": int(started)},
                             {"role": "assistant", "content": "Done in the child.",
                              "timestamp": int(started + 20)}]).save()
    record("continuation_parent", sid, stream, prompt, started, childSid=child)


# Keys an early G1 server (v0.51.81 to .136: run-journal recovery, before
# message_count and truncation_watermark in metadata) did not write yet.
NEWER_KEYS = ("message_count", "truncation_watermark", "created_workspace", "pending_user_source",
              "truncation_boundary", "clear_generation", "intentional_shrink_generation",
              "compression_recovery", "recommended_recovery_action",
              "compression_recovery_source_session_id", "compression_recovery_action",
              "anchor_activity_scenes", "anchor_scene_index", "model_explicit_pick_signature",
              "process_wakeup_pause", "share_token", "share_created_at")


def g1_sidecar(started):
    sid, stream = "crash_g1_sidecar", "run0g1sidecar1"
    prompt = "Old server, new journal."
    start_turn(sid, stream, prompt, started, prior_turn(started), context=False)
    run(sid, stream, started, tokens("Partial answer from an older server"))
    path = sd / (sid + ".json")
    data = json.loads(path.read_text(encoding="utf-8"))
    dropped = [key for key in NEWER_KEYS if key in data]
    for key in dropped:
        del data[key]
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    record("g1_sidecar", sid, stream, prompt, started, droppedKeys=dropped)


def pending_shards(started):
    # The earlier turn ran in one server process (its pid's shard); after a
    # restart the next turn was submitted in a new process, which died
    # before its worker started and before its deferred sidecar save.
    sid, stream, old = "crash_pending_shards", "run0shards0001", "run0shards0old"
    prompt = "This prompt only the journal has."
    s = models.Session(session_id=sid, title="Crash " + sid, messages=prior_turn(started))
    s.save()
    first = turn_journal.append_turn_journal_event(sid, {
        "event": "submitted", "stream_id": old, "role": "user",
        "content": "Earlier question", "created_at": started - 600})
    for name, at in (("worker_started", started - 599.5), ("completed", started - 590)):
        turn_journal.append_turn_journal_event_for_stream(
            sid, old, {"event": name, "turn_id": first["turn_id"], "created_at": at})
    pid = os.fork()
    if pid == 0:
        try:
            turn_journal.append_turn_journal_event(sid, {
                "event": "submitted", "stream_id": stream, "role": "user", "content": prompt,
                "attachments": [], "workspace": s.workspace, "model": s.model,
                "model_provider": None, "created_at": started})
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    record("pending_shards", sid, stream, prompt, started)


def cancelled(started):
    sid, stream = "crash_cancelled", "run0cancelled1"
    prompt = "Migrate the database."
    start_turn(sid, stream, prompt, started, prior_turn(started))
    run(sid, stream, started, tokens("Starting the migration")
        + [("interim_assistant", {"text": "Pausing: the migration needs a backup first.", "already_streamed": False}),
           ("metering", {"session_id": sid, "tps": 12.5}),
           ("cancel", {"message": "Cancelled by user", "type": "cancelled", "status": "cancelled"})])
    record("cancelled", sid, stream, prompt, started)


def torn_tail(started):
    sid, stream = "crash_torn_tail", "run0torntail01"
    prompt = "Write a haiku."
    start_turn(sid, stream, prompt, started, prior_turn(started))
    run(sid, stream, started, tokens("Autumn wind rises / the log rotates"))
    path = sd / run_journal.RUN_JOURNAL_DIR_NAME / sid / (stream + ".jsonl")
    with open(path, "r+b") as fh:
        fh.truncate(path.stat().st_size - 20)
    record("torn_tail", sid, stream, prompt, started)


def not_started(started):
    sid, stream = "crash_not_started", "run0notstarted"
    prompt = "Start the report."
    s = models.Session(session_id=sid, title="Crash " + sid, messages=prior_turn(started),
                       context_messages=prior_turn(started))
    s.save()
    chat_start(s, stream, prompt, started)
    record("not_started", sid, stream, prompt, started)


def agent_state_db(sid, started, rows, columns=()):
    # The agent's own rows of the session (this project's schema of
    # state.db, as the agent keeps it); columns are the message columns
    # past the base ones.
    import sqlite3
    db = sqlite3.connect(str(root / "hermes" / "state.db"))
    db.execute("CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, source TEXT, title TEXT, model TEXT, started_at REAL, parent_session_id TEXT, message_count INTEGER, ended_at REAL, end_reason TEXT)")
    db.execute("CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY, session_id TEXT, role TEXT, content TEXT, timestamp REAL, tool_calls TEXT, "
               + "".join(name + " TEXT, " for name in columns) + "active INTEGER DEFAULT 1)")
    db.execute("INSERT INTO sessions (id, source, title, model, started_at, message_count) VALUES (?, 'webui', ?, 'test-model', ?, ?)",
               (sid, "Crash " + sid, started - 600, len(rows)))
    names = ("role", "content", "timestamp", "tool_calls") + tuple(columns)
    for m in rows:
        db.execute("INSERT INTO messages (session_id, " + ", ".join(names) + ") VALUES (?" + ", ?" * len(names) + ")",
                   (sid,) + tuple(m.get(name) for name in names))
    db.commit()
    db.close()


def state_db_ahead(started):
    sid, stream = "crash_state_db_ahead", "run0statedb001"
    prompt = "Draft the release notes."
    start_turn(sid, stream, prompt, started, prior_turn(started))
    run(sid, stream, started, tokens("Release notes: fixed the crash"))
    # The agent persisted the earlier turn and the prompt.
    agent_state_db(sid, started, prior_turn(started) + [{"role": "user", "content": prompt, "timestamp": started}])
    record("state_db_ahead", sid, stream, prompt, started)


def state_db_ahead_tool(started):
    sid, stream = "crash_state_db_ahead_tool", "run0statedb002"
    prompt = "List the files, then count the lines."
    ls = {"command": "ls -la /srv"}
    start_turn(sid, stream, prompt, started, prior_turn(started))
    run(sid, stream, started, tokens("Listing the files first.")
        + [tool("terminal", "ls -la /srv", ls), tool_done("terminal", "a.log b.log", ls)]
        + tokens("Two logs. Counting lines now."))
    # The agent had written its first step (the text before the tool, the
    # call and its result), not the text it was streaming when it died.
    call = [{"id": "call_1", "type": "function",
             "function": {"name": "terminal", "arguments": json.dumps(ls)}}]
    rows = prior_turn(started) + [
        {"role": "user", "content": prompt, "timestamp": started + 0.2},
        {"role": "assistant", "content": "Listing the files first.", "timestamp": started + 3.5,
         "tool_calls": json.dumps(call)},
        {"role": "tool", "content": "a.log b.log", "timestamp": started + 5.5,
         "tool_call_id": "call_1", "tool_name": "terminal"},
    ]
    agent_state_db(sid, started, rows, columns=("tool_call_id", "tool_name"))
    record("state_db_ahead_tool", sid, stream, prompt, started)


def retry_armed(started):
    sid, stream = "crash_retry_armed", "run0retryarmed"
    prompt = "Summarise the thread."
    start_turn(sid, stream, prompt, started, prior_turn(started))
    # The server's own stale-stream repair, before the journal is visible.
    models.get_session(sid)
    with models.LOCK:
        models.SESSIONS.pop(sid, None)
    run(sid, stream, started, tokens("The thread agrees on Tuesday"))
    record("retry_armed", sid, stream, prompt, started)


for i, name in enumerate(wanted):
    globals()[name](NOW - 3600 + i)
print(json.dumps(out))
`;

// The server's own loader, nothing else.
const LOAD = PRELUDE + String.raw`
sids = [sid for sid in sys.argv[2].split(",") if sid]
from api import models
views = {}
for sid in sids:
    path = sd / (sid + ".json")
    before = path.read_bytes() if path.exists() else None
    try:
        s = models.get_session(sid)
    except KeyError:
        views[sid] = {"exists": False}
        continue
    after = path.read_bytes() if path.exists() else None
    views[sid] = {
        "exists": True,
        "changed": before != after,
        "messages": s.messages,
        "context_messages": getattr(s, "context_messages", []),
        "tool_calls": s.tool_calls,
        "active_stream_id": s.active_stream_id,
        "pending_user_message": s.pending_user_message,
        "pending_started_at": s.pending_started_at,
    }
print(json.dumps(views))
`;

// Drives the seed's own writers only (its sids are [0-9a-z_]).
const SEED_BUILD = PRELUDE + CHAT_START + BUILDER + String.raw`
from api import models, routes, turn_journal

NOW = time.time()
out = {}


def crash(scenario, sid, stream, prompt, started, messages):
    s = models.Session(session_id=sid, title="Crash " + sid, messages=[dict(m) for m in messages])
    if messages:
        s.save()
    chat_start(s, stream, prompt, started)
    out[scenario] = {"sid": sid, "streamId": stream, "prompt": prompt, "startedAt": started}


for i, name in enumerate(wanted):
    started = NOW - 3600 + i
    earlier = prior_turn(started)
    if name == "g0_stale":
        crash(name, "crash_g0_stale", "run0g0stale001", "Still there, old server?", started, earlier)
    elif name == "g0_first_turn":
        crash(name, "crash_g0_first", "run0g0first001", "Hello, old server.", started, [])
print(json.dumps(out))
`;

/** Runs one of the drivers above from `version`'s folder. */
async function python(
  version: string,
  script: string,
  args: string[],
): Promise<string> {
  const out = await upstreamPython(version, script, args);
  if (typeof out === "string") throw new Error(out);
  return out.stdout;
}

/** Builds a store with `script` of `version` (see the two builders). */
async function build<S extends string>(
  version: string,
  script: string,
  scenarios: readonly S[],
): Promise<CrashStore<S> | string> {
  const dir = await upstreamDir(version);
  if (dir.startsWith("skipped:")) return dir;
  const root = await Deno.makeTempDir({ prefix: "hermes-fsck-crash-" });
  try {
    const out = await python(version, script, [root, scenarios.join(",")]);
    return { ...pathsAt(root), version, sessions: JSON.parse(out) };
  } catch (error) {
    await Deno.remove(root, { recursive: true });
    throw error;
  }
}

/**
 * Builds a store in a new temp dir (`root`; the caller removes it) with
 * one session per scenario, written by the server's own code
 * ({@linkcode ORACLE_VERSION}); a string starting `skipped:` says why it
 * cannot (upstream or python3 absent).
 *
 * @example
 * ```ts
 * const store = await buildCrashStore(["mid_text", "completed"]);
 * if (typeof store === "string") console.warn(store);
 * ```
 */
export function buildCrashStore(
  scenarios: readonly CrashScenario[] = CRASH_SCENARIOS,
): Promise<CrashStore | string> {
  return build(ORACLE_VERSION, BUILD, scenarios);
}

/**
 * Builds a G0 store as {@linkcode buildCrashStore} does, with the seed's
 * own code ({@linkcode SEED_VERSION}); read it with the `version` option of
 * {@linkcode serverView} and the others set to `store.version`.
 *
 * @example
 * ```ts
 * const store = await buildSeedCrashStore();
 * if (typeof store !== "string") {
 *   const sid = store.sessions.g0_stale!.sid;
 *   await serverRecovery(store, [sid], { version: store.version });
 * }
 * ```
 */
export function buildSeedCrashStore(
  scenarios: readonly SeedCrashScenario[] = SEED_CRASH_SCENARIOS,
): Promise<CrashStore<SeedCrashScenario> | string> {
  return build(SEED_VERSION, SEED_BUILD, scenarios);
}

/** What the server's loader returned for one session. */
export interface ServerView {
  /** False when `get_session` found no such session. */
  exists: boolean;
  /** The loader rewrote `<sid>.json` (a recovery or retry ran). */
  changed?: boolean;
  /** The transcript the user sees. */
  messages?: Record<string, unknown>[];
  /** What the model sees on the next turn. */
  context_messages?: Record<string, unknown>[];
  /** The tool cards. */
  tool_calls?: Record<string, unknown>[];
  /** The stream state left after loading. */
  active_stream_id?: string | null;
  /** The pending prompt left after loading. */
  pending_user_message?: string | null;
  /** Its start time. */
  pending_started_at?: number | null;
}

/**
 * Lets the server's own loader, `get_session`, read each of `sids` in one
 * fresh process: its stale-stream recovery and lazy journal retry run as
 * on a user's first read after a restart. By default it reads a copy (the
 * store is never touched); with `inPlace` it reads and writes the store
 * itself (a test's own copy, to count lost output after the server's
 * recovery). `version` picks the server (default
 * {@linkcode ORACLE_VERSION}; a seed store is read by {@linkcode SEED_VERSION}).
 * Returns the views by sid; throws when upstream or python3 is absent
 * (check {@linkcode buildCrashStore}'s skip first).
 *
 * @example
 * ```ts
 * const views = await serverView(store, ["crash_mid_text"]);
 * ```
 */
export async function serverView(
  store: StorePaths,
  sids: readonly string[],
  options: { inPlace?: boolean; version?: string } = {},
): Promise<Record<string, ServerView>> {
  const version = options.version ?? ORACLE_VERSION;
  const read = async (root: string) => {
    return JSON.parse(await python(version, LOAD, [root, sids.join(",")]));
  };
  if (options.inPlace) return await read(store.root);
  return await onCopy(store, (copy) => read(copy.root));
}

/** What a session store shows after a recovery: the views and the lost output. */
export interface Outcome {
  /** The server's loader's view of each sid asked for. */
  views: Record<string, ServerView>;
  /**
   * The output of the store's run journals ({@linkcode lostOutput}) lost by
   * the recovery: after the server's own recovery for
   * {@linkcode serverRecovery}, after hermes-fsck's repair (before the
   * server's load) for {@linkcode repairThenServerLoad}.
   */
  lost: string[];
}

/** Runs `fn` on a copy of the store in a temp dir, removed afterwards. */
async function onCopy<T>(
  store: StorePaths,
  fn: (copy: StorePaths) => Promise<T>,
): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "hermes-fsck-oracle-copy-" });
  try {
    const copy = pathsAt(join(dir, "store"));
    await copyTree(store.root, copy.root);
    return await fn(copy);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * The server's own recovery of a crash store, on a copy: its loader reads
 * each of `sids` (see {@linkcode serverView}), then the output of the run
 * journals is counted against what it left.
 *
 * @example
 * ```ts
 * const { views, lost } = await serverRecovery(store, ["crash_mid_text"]);
 * ```
 */
export async function serverRecovery(
  store: StorePaths,
  sids: readonly string[],
  options: { version?: string } = {},
): Promise<Outcome> {
  const before = await runOutput(store.sessionDir);
  return await onCopy(store, async (copy) => {
    const views = await serverView(copy, sids, { ...options, inPlace: true });
    return { views, lost: await lostOutput(before, copy.sessionDir) };
  });
}

/** What {@linkcode repairThenServerLoad} returns. */
export interface RepairOutcome extends Outcome {
  /** The CLI's run. */
  result: CliResult;
  /**
   * With `audit`: the items of the server's own `session_recovery --audit`
   * of the repaired copy, before its loader ran.
   */
  auditItems?: Record<string, unknown>[];
}

/**
 * hermes-fsck's repair of a crash store, on a copy: `hermes-fsck repair
 * --server-stopped --session-dir <copy> <args>` (the CLI as a subprocess,
 * every default path inside the copy; `args` defaults to
 * `--no-state-db`), the output it lost counted, with `audit` the server's
 * own audit of the result, then the server's loader reads each of `sids`:
 * what the user sees next. Compare its views with
 * {@linkcode serverRecovery}'s through {@linkcode comparable}.
 *
 * @example
 * ```ts
 * const ours = await repairThenServerLoad(store, ["crash_mid_text"]);
 * assert.equal(ours.result.code, 1, show(ours.result));
 * ```
 */
export async function repairThenServerLoad(
  store: StorePaths,
  sids: readonly string[],
  options: { args?: readonly string[]; audit?: boolean; version?: string } = {},
): Promise<RepairOutcome> {
  const version = options.version ?? ORACLE_VERSION;
  const before = await runOutput(store.sessionDir);
  return await onCopy(store, async (copy) => {
    const result = await cli([
      "repair",
      "--server-stopped",
      "--session-dir",
      copy.sessionDir,
      ...(options.args ?? ["--no-state-db"]),
    ], copy);
    const lost = await lostOutput(before, copy.sessionDir);
    const outcome: RepairOutcome = { result, views: {}, lost };
    if (options.audit) {
      const dir = await upstreamDir(version);
      const out = await runServerRecovery(
        dir,
        "--audit",
        copy.sessionDir,
        null,
      );
      outcome.auditItems = JSON.parse(out).items;
    }
    outcome.views = await serverView(copy, sids, { inPlace: true, version });
    return outcome;
  });
}

/** A view with what only the clock decides masked: see {@linkcode comparable}. */
export type ComparableView = Omit<ServerView, "changed" | "pending_started_at">;

/** The marker the seed's recovery (G0) closes a stale turn with. */
export const G0_MARKER = "**Previous turn did not complete.**";

/**
 * The view minus what only the clock (or the loader's own bookkeeping)
 * decides: the timestamp of an interrupted marker (today's, or the G0
 * marker) and its `_journal_retry_first_seen_ts` read `"<now>"`;
 * `changed` and `pending_started_at` are left out. Everything else (text,
 * order, flags, cause, stream ids, tool cards, context) must match
 * exactly.
 *
 * @example
 * ```ts
 * assert.deepEqual(comparable(ours), comparable(theirs));
 * ```
 */
export function comparable(view: ServerView): ComparableView {
  const mask = (rows: Record<string, unknown>[] | undefined) =>
    rows?.map((row) => {
      const marker = row?._error === true &&
        (row?.type === "interrupted" || row?.content === G0_MARKER);
      if (!marker) return row;
      const out: Record<string, unknown> = { ...row, timestamp: "<now>" };
      if ("_journal_retry_first_seen_ts" in row) {
        out._journal_retry_first_seen_ts = "<now>";
      }
      return out;
    });
  const { changed: _changed, pending_started_at: _started, ...rest } = view;
  return {
    ...rest,
    messages: mask(view.messages),
    context_messages: mask(view.context_messages),
  };
}

/** One visible output item of a run journal. */
export interface OutputItem {
  /** `text` (a token delta), `reasoning` or `tool` (a tool card). */
  kind: "text" | "reasoning" | "tool";
  /** The journal line's `seq`. */
  seq: number;
  /** The delta, or the tool's name. */
  value: string;
  /** Text: the stripped run of deltas it belongs to, as the server joins them. */
  segment?: string;
}

/** The visible output of one run-journal file. */
export interface RunOutput {
  /** The session (its dir under `_run_journal/`). */
  sid: string;
  /** The run (its file name without `.jsonl`). */
  runId: string;
  /** Every text delta, reasoning delta and tool card, in file order. */
  items: OutputItem[];
}

const TERMINALS = new Set([
  "done",
  "stream_end",
  "cancel",
  "apperror",
  "error",
]);

/** The journal lines of one file that parse to objects. */
async function journalEvents(path: string): Promise<Record<string, unknown>[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  const events: Record<string, unknown>[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      const parsed = JSON.parse(line);
      if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) {
        events.push(parsed);
      }
    } catch {
      // A torn line counts for nothing: the server skips it too.
    }
  }
  return events;
}

/** The output items of a run's events, text grouped as the server flushes it. */
function itemsOf(events: Record<string, unknown>[]): OutputItem[] {
  const items: OutputItem[] = [];
  let pending: OutputItem[] = [];
  let parts: string[] = [];
  const flush = () => {
    const segment = parts.join("").trim();
    for (const item of pending) item.segment = segment;
    pending = [];
    parts = [];
  };
  const text = (seq: number, value: string) => {
    const item: OutputItem = { kind: "text", seq, value };
    items.push(item);
    pending.push(item);
    parts.push(value);
  };
  for (const event of events) {
    const name = String(event.event ?? event.type ?? "");
    const payload = (event.payload && typeof event.payload === "object"
      ? event.payload
      : {}) as Record<string, unknown>;
    const seq = Number(event.seq ?? 0);
    if (name === "token" && payload.text) {
      text(seq, String(payload.text));
    } else if (name === "reasoning") {
      const value = String(
        payload.text || payload.reasoning || payload.thinking || "",
      );
      if (value) {
        items.push({ kind: "reasoning", seq, value });
      }
    } else if (name === "interim_assistant" && !payload.already_streamed) {
      const value = String(payload.text ?? "").trim();
      if (value) {
        // The server starts the interim text on a new paragraph.
        if (parts.length && !/[\n ]$/.test(parts.join(""))) {
          parts.push("\n\n");
        }
        text(seq, value);
      }
      flush();
    } else if (name === "interim_assistant" || TERMINALS.has(name)) {
      flush();
    } else if (name === "tool") {
      flush();
      items.push({ kind: "tool", seq, value: String(payload.name || "tool") });
    }
  }
  flush();
  return items;
}

/** The directory entries of `path`, none when it is absent. */
async function entries(path: string): Promise<Deno.DirEntry[]> {
  try {
    return await Array.fromAsync(Deno.readDir(path));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
}

/**
 * Counts the visible output of every run journal under `sessionDir`
 * (`_run_journal/<sid>/<run>.jsonl`): each text delta (`token`, a
 * non-streamed `interim_assistant`), reasoning delta and tool card, sorted
 * by session and run.
 *
 * @example
 * ```ts
 * const before = await runOutput(store.sessionDir);
 * console.log(before.flatMap((run) => run.items).length);
 * ```
 */
export async function runOutput(sessionDir: string): Promise<RunOutput[]> {
  const root = join(sessionDir, "_run_journal");
  const runs: RunOutput[] = [];
  for (const session of await entries(root)) {
    if (!session.isDirectory) continue;
    for (const file of await entries(join(root, session.name))) {
      if (!file.isFile || !file.name.endsWith(".jsonl")) continue;
      const events = await journalEvents(join(root, session.name, file.name));
      runs.push({
        sid: session.name,
        runId: file.name.slice(0, -".jsonl".length),
        items: itemsOf(events),
      });
    }
  }
  return runs.sort((a, b) =>
    a.sid === b.sid
      ? a.runId.localeCompare(b.runId)
      : a.sid.localeCompare(b.sid)
  );
}

/** The text of a message's content: a string, or its text parts joined. */
function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.map((part) =>
    part && typeof part === "object"
      ? String((part as Record<string, unknown>).text ?? "")
      : ""
  ).join("");
}

/** Whether the server can still recover `run` from the sidecar `data`. */
async function stillRecoverable(
  run: RunOutput,
  data: Record<string, unknown>,
  sessionDir: string,
): Promise<boolean> {
  const path = join(sessionDir, "_run_journal", run.sid, `${run.runId}.jsonl`);
  const now = itemsOf(await journalEvents(path));
  const kept = run.items.every((item) =>
    now.some((other) =>
      other.seq === item.seq && other.kind === item.kind &&
      other.value === item.value
    )
  );
  if (!kept) return false;
  if (data.active_stream_id === run.runId && data.pending_user_message) {
    return true;
  }
  const messages = Array.isArray(data.messages) ? data.messages : [];
  return messages.some((message) =>
    message?._pending_journal_recovery === true &&
    message?.type === "interrupted" &&
    message?._journal_retry_stream_id === run.runId
  );
}

/**
 * The output counted by {@linkcode runOutput} before a repair that is lost
 * after it: neither in the session's sidecar (text segments in an
 * assistant message's content, reasoning in a message's `reasoning`, tool
 * cards by name in its `tool_calls` or a message's `tool_calls`) nor still
 * recoverable by the server (the journal still holds the item and the
 * sidecar still streams that run, or an armed lazy-retry marker names it).
 * Returns one line per lost item; empty when nothing is lost. A text
 * segment counts as kept when any assistant message contains it, so the
 * scenarios keep their segments distinct.
 *
 * @example
 * ```ts
 * const before = await runOutput(store.sessionDir);
 * // ... repair ...
 * assert.deepEqual(await lostOutput(before, store.sessionDir), []);
 * ```
 */
export async function lostOutput(
  before: readonly RunOutput[],
  sessionDir: string,
): Promise<string[]> {
  const lost: string[] = [];
  for (const run of before) {
    if (run.items.length === 0) continue;
    let data: Record<string, unknown> = {};
    try {
      data = JSON.parse(
        await Deno.readTextFile(join(sessionDir, `${run.sid}.json`)),
      );
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    if (await stillRecoverable(run, data, sessionDir)) continue;
    const messages = (Array.isArray(data.messages) ? data.messages : [])
      .filter((m) => m && typeof m === "object") as Record<string, unknown>[];
    const texts = messages.filter((m) => m.role === "assistant").map((m) =>
      contentText(m.content)
    );
    const reasoning = messages.map((m) => String(m.reasoning ?? ""));
    const tools = [
      ...(Array.isArray(data.tool_calls) ? data.tool_calls : []),
      ...messages.flatMap((m) =>
        Array.isArray(m.tool_calls) ? m.tool_calls : []
      ),
    ].map((call) => String(call?.name ?? call?.function?.name ?? ""));
    for (const item of run.items) {
      const where = `${run.sid}/${run.runId}.jsonl seq ${item.seq}`;
      if (item.kind === "text") {
        const segment = item.segment ?? "";
        if (segment && !texts.some((text) => text.includes(segment))) {
          lost.push(`${where}: text ${JSON.stringify(item.value)}`);
        }
      } else if (item.kind === "reasoning") {
        const text = item.value.trim();
        if (text && !reasoning.some((r) => r.includes(text))) {
          lost.push(`${where}: reasoning ${JSON.stringify(item.value)}`);
        }
      } else {
        const at = tools.indexOf(item.value);
        if (at < 0) lost.push(`${where}: tool card ${item.value}`);
        else tools.splice(at, 1);
      }
    }
  }
  return lost;
}
