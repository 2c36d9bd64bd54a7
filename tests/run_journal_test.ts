/**
 * The run journal reader (core/journal/run_journal.ts, core/journal/run_journal_files.ts):
 * lines cut and numbered as the server cuts them, torn and malformed lines,
 * terminal state and ownership, visible output, bounded reads of any size,
 * and a listing that never follows a link or an invalid id. Where
 * ../shared/upstream and python3 are present, the files are written by the
 * server's own `append_run_event` and its own readers give the expected
 * answers.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  DEFAULT_RUN_JOURNAL_LIMITS,
  eventOwnsRun,
  readRunOutput,
  runJournalSummaryContents,
  runOutputOf,
  summarizeRunJournal,
} from "../core/journal/run_journal.ts";
import {
  listRunJournals,
  runJournalName,
} from "../core/journal/run_journal_files.ts";
import { fileConsumer } from "../core/io/file_read.ts";
import { upstreamPython } from "./upstream_store_support.ts";
import { runEvent as event } from "./run_journal_support.ts";

const SERVER = "hermes-webui-df65251d5";
const enc = new TextEncoder();

// Written by this project: drives the server's own writer and readers.
const ORACLE = `
import json, os, sys, types
sys.path.insert(0, os.getcwd())
mode, sd, sid, rid = sys.argv[1:5]
os.environ["HERMES_WEBUI_STATE_DIR"] = os.path.dirname(sd)
os.environ["HERMES_HOME"] = os.path.join(os.path.dirname(sd), "home")
from pathlib import Path
from api import run_journal, models
if mode == "write":
    for name, payload in json.loads(sys.argv[5]):
        run_journal.append_run_event(sid, rid, name, payload, session_dir=Path(sd))
path = run_journal._run_path(sid, rid, session_dir=Path(sd))
try:
    events, malformed = run_journal._read_jsonl(path)
except Exception as e:
    print(json.dumps({"error": type(e).__name__}))
    sys.exit(0)
s = types.SimpleNamespace(session_id=sid)
print(json.dumps({
    "events": len(events),
    "malformed": [m["line"] for m in malformed],
    "summary": run_journal.latest_run_summary(sid, rid, session_dir=Path(sd)),
    "visible": models._run_journal_has_visible_output(s, rid),
    "terminal_state": models._run_journal_terminal_state(s, rid),
}))
`;

type ServerView = {
  events: number;
  malformed: number[];
  summary: { terminal: boolean; terminal_state: string; last_seq: number };
  visible: boolean;
  terminal_state: string | null;
} | { error: string };

async function serverView(
  mode: "write" | "read",
  sessionDir: string,
  sid: string,
  rid: string,
  events: [string, Record<string, unknown>][] = [],
): Promise<ServerView | string> {
  const out = await upstreamPython(SERVER, ORACLE, [
    mode,
    sessionDir,
    sid,
    rid,
    JSON.stringify(events),
  ]);
  return typeof out === "string" ? out : JSON.parse(out.stdout);
}

async function tempStore(): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "hermes-fsck-runj-" });
  const sessionDir = join(root, "webui", "sessions");
  await Deno.mkdir(sessionDir, { recursive: true });
  return sessionDir;
}

async function summaryOfFile(sessionDir: string, sid: string, rid: string) {
  const read = await fileConsumer(runJournalSummaryContents(sid, rid));
  const r = read(join(sessionDir, runJournalName(sid, rid)), Infinity);
  if (!r.ok) throw new Error(r.problem.detail);
  return r.value;
}

Deno.test("a run journal written by the server's append_run_event reads as the server reads it", async (t) => {
  const sessionDir = await tempStore();
  const sid = "abc123";
  const run = [
    ["token", { text: "Hel" }],
    ["token", { text: "lo" }],
    ["tool", { name: "terminal", preview: "ls", args: { cmd: "ls" } }],
    ["tool_complete", { name: "terminal", duration: 1.5 }],
    ["reasoning", { text: "thinking" }],
    ["metering", { tokens: 3 }],
    ["done", {}],
    ["stream_end", {}],
  ] as [string, Record<string, unknown>][];
  const view = await serverView("write", sessionDir, sid, "r1", run);
  if (typeof view === "string") {
    console.warn(view);
    await t.step({ name: view, ignore: true, fn: () => {} });
    return;
  }
  assert(!("error" in view));
  const s = await summaryOfFile(sessionDir, sid, "r1");
  assert.deepStrictEqual(s.events, view.events);
  assert.deepStrictEqual(s.malformedLines, view.malformed);
  assert.deepStrictEqual(s.hasVisibleOutput, view.visible);
  assert.deepStrictEqual(s.terminalState, view.terminal_state);
  assert.deepStrictEqual(s.terminalState, "completed");
  assert.deepStrictEqual(s.terminal?.event, "done");
  assert.deepStrictEqual(s.terminal?.owned, true);
  assert.deepStrictEqual(s.lastSeq, view.summary.last_seq);
  assert.deepStrictEqual(s.foreignEvents, 0);
  assert.deepStrictEqual([s.textChars, s.toolCards, s.reasoningChars], [
    5,
    1,
    8,
  ]);
  const out = await readRunOutput(
    join(sessionDir, runJournalName(sid, "r1")),
    sid,
    "r1",
  );
  assert(out.ok);
  assert.deepStrictEqual(out.value.items.map((i) => i.type), [
    "token",
    "token",
    "tool",
    "tool_complete",
    "reasoning",
    "terminal",
    "terminal",
  ]);
  const tool = out.value.items[2];
  assert(tool.type === "tool");
  assert.deepStrictEqual([tool.name, tool.preview, tool.args, tool.seq], [
    "terminal",
    "ls",
    { cmd: "ls" },
    3,
  ]);
  await Deno.remove(join(sessionDir, "..", ".."), { recursive: true });
});

Deno.test("a dead run (no terminal) with output, and a run the server ended by error", async (t) => {
  const sessionDir = await tempStore();
  const dead = await serverView("write", sessionDir, "s1", "dead", [
    ["interim_assistant", { text: "  partial  " }],
    ["tool", { name: "web" }],
  ]);
  if (typeof dead === "string") {
    await t.step({ name: dead, ignore: true, fn: () => {} });
    return;
  }
  const s = await summaryOfFile(sessionDir, "s1", "dead");
  assert(!("error" in dead));
  assert.deepStrictEqual([s.hasVisibleOutput, s.terminalState], [true, null]);
  assert.deepStrictEqual([dead.visible, dead.terminal_state], [true, null]);
  assert.deepStrictEqual(s.textChars, "partial".length);
  const err = await serverView("write", sessionDir, "s1", "err", [
    ["metering", {}],
    ["apperror", { type: "interrupted" }],
    ["stream_end", {}],
  ]);
  assert(typeof err !== "string" && !("error" in err));
  const e = await summaryOfFile(sessionDir, "s1", "err");
  assert.deepStrictEqual([e.hasVisibleOutput, e.terminalState], [
    err.visible,
    err.terminal_state,
  ]);
  assert.deepStrictEqual(e.terminalState, err.terminal_state);
  assert.deepStrictEqual(e.terminalState, "interrupted-by-crash");
  assert.deepStrictEqual(e.terminal?.event, "apperror");
  await Deno.remove(join(sessionDir, "..", ".."), { recursive: true });
});

Deno.test("torn last line, malformed lines and Python's line breaks are numbered as the server numbers them", async (t) => {
  const sessionDir = await tempStore();
  const sid = "s1", rid = "r1";
  await Deno.mkdir(join(sessionDir, "_run_journal", sid), { recursive: true });
  const text = [
    event(sid, rid, 1, "token", { text: "a\u2028b" }), // the server cuts it in two
    "not json",
    "",
    "   ",
    "[1,2]",
    event(sid, rid, 2, "token", { text: "ok" }) + "\r",
    event(sid, rid, 3, "token", { text: "x" }) + "\x0b" +
    event(sid, rid, 4, "token", { text: "y" }),
    '{"seq":5,"event":"tok',
  ].join("\n");
  await Deno.writeTextFile(
    join(sessionDir, runJournalName(sid, rid)),
    text,
  );
  const s = await summaryOfFile(sessionDir, sid, rid);
  assert.deepStrictEqual(s.malformedLines, [1, 2, 3, 6]);
  assert.deepStrictEqual(s.malformedCount, 4);
  assert.deepStrictEqual(s.tornLastLine, 10);
  assert.deepStrictEqual(s.lines, 10);
  assert.deepStrictEqual(s.events, 3);
  assert(s.endsWithoutNewline);
  const view = await serverView("read", sessionDir, sid, rid);
  if (typeof view === "string") {
    await t.step({ name: view, ignore: true, fn: () => {} });
  } else {
    assert(!("error" in view));
    // The server lists the torn line among its malformed ones.
    assert.deepStrictEqual(
      [...s.malformedLines, s.tornLastLine],
      view.malformed,
    );
    assert.deepStrictEqual(s.events, view.events);
  }
  // One byte that is not UTF-8: the server reads nothing of the file.
  const bad = new Uint8Array([
    ...enc.encode(event(sid, rid, 1, "token", { text: "a" }) + "\n"),
    0xff,
    0x0a,
  ]);
  await Deno.writeFile(join(sessionDir, runJournalName(sid, rid)), bad);
  const b = await summaryOfFile(sessionDir, sid, rid);
  assert.deepStrictEqual([b.invalidUtf8Line, b.malformedLines, b.events], [2, [
    2,
  ], 1]);
  const badView = await serverView("read", sessionDir, sid, rid);
  if (typeof badView !== "string") {
    assert.deepStrictEqual(badView, { error: "UnicodeDecodeError" });
  }
  await Deno.remove(join(sessionDir, "..", ".."), { recursive: true });
});

Deno.test("ownership: a terminal event of another run or session gives no terminal state", () => {
  const done = (sid: string, rid: string) =>
    enc.encode(event(sid, rid, 1, "done") + "\n");
  assert.deepStrictEqual(
    summarizeRunJournal(done("s1", "r1"), "s1", "r1").terminalState,
    "completed",
  );
  const other = summarizeRunJournal(done("s2", "r1"), "s1", "r1");
  assert.deepStrictEqual([other.terminalState, other.terminal?.owned], [
    null,
    false,
  ]);
  assert.deepStrictEqual([other.foreignEvents, other.firstForeignLine], [1, 1]);
  assert.deepStrictEqual(
    eventOwnsRun(
      { seq: true, session_id: "s", run_id: "r", event_id: "r:true" },
      "s",
      "r",
    ),
    false,
  );
  assert.deepStrictEqual(
    eventOwnsRun(
      { seq: 0, session_id: "s", run_id: "r", event_id: "r:0" },
      "s",
      "r",
    ),
    false,
  );
  // stream_end is transport closure: an earlier cancel stays authoritative.
  const cancelled = enc.encode(
    event("s", "r", 1, "cancel") + "\n" +
      event("s", "r", 2, "stream_end") + "\n",
  );
  assert.deepStrictEqual(
    summarizeRunJournal(cancelled, "s", "r").terminalState,
    "interrupted-by-user",
  );
  // terminal must be exactly true for the state, truthy for the pick.
  const loose = enc.encode(
    JSON.stringify({
      seq: 1,
      event_id: "r:1",
      run_id: "r",
      session_id: "s",
      event: "done",
      terminal: 1,
      terminal_state: "completed",
    }) + "\n",
  );
  const l = summarizeRunJournal(loose, "s", "r");
  assert.deepStrictEqual([l.terminal?.event, l.terminalState], ["done", null]);
});

Deno.test("a huge run journal is read in bounded memory and time, and the cut is said", async () => {
  const sessionDir = await tempStore();
  const sid = "s1", rid = "r1";
  await Deno.mkdir(join(sessionDir, "_run_journal", sid), { recursive: true });
  const path = join(sessionDir, runJournalName(sid, rid));
  // 64 MiB: one real event, then a line of 48 MiB with no newline in it,
  // then more events.
  const file = await Deno.open(path, { write: true, create: true });
  await file.write(
    enc.encode(event(sid, rid, 1, "token", { text: "hi" }) + "\n"),
  );
  const block = new Uint8Array(1 << 20).fill(0x61);
  for (let i = 0; i < 48; i++) await file.write(block);
  await file.write(enc.encode("\n"));
  const line = enc.encode(event(sid, rid, 2, "token", { text: "more" }) + "\n");
  const many = new Uint8Array(line.length * 1000);
  for (let i = 0; i < 1000; i++) many.set(line, i * line.length);
  while ((await file.stat()).size < 64 << 20) await file.write(many);
  file.close();
  const before = Deno.memoryUsage().rss;
  const started = performance.now();
  const read = await fileConsumer(
    runJournalSummaryContents(sid, rid, {
      maxLineBytes: 1 << 20,
      maxTotalBytes: 56 << 20,
    }),
  );
  const r = read(path, Infinity);
  const elapsed = performance.now() - started;
  assert(r.ok);
  const s = r.value;
  assert.deepStrictEqual(s.oversizedLines, [2]);
  assert.deepStrictEqual(s.cutAtByte, 56 << 20);
  assert.deepStrictEqual(s.bytesRead, 56 << 20);
  assert.deepStrictEqual(s.tornLastLine, null); // a cut line is not torn
  assert(s.events > 1000);
  assert(s.hasVisibleOutput);
  // The 48 MiB line was never held: far less than the file was kept.
  assert(
    Deno.memoryUsage().rss - before < 40 << 20,
    `rss grew by ${(Deno.memoryUsage().rss - before) >> 20} MiB`,
  );
  assert(elapsed < 20_000, `took ${elapsed} ms`);
  // By default the whole file is read (64 MiB < 256 MiB) and only the
  // long line is skipped, by the default line bound (32 MiB).
  const whole = await fileConsumer(runJournalSummaryContents(sid, rid));
  const w = whole(path, Infinity);
  assert(w.ok);
  assert.deepStrictEqual([w.value.oversizedLines, w.value.cutAtByte], [
    [2],
    null,
  ]);
  assert(DEFAULT_RUN_JOURNAL_LIMITS.maxLineBytes < 48 << 20);
  await Deno.remove(join(sessionDir, "..", ".."), { recursive: true });
});

Deno.test("the listing enters only dirs and files whose ids pass the sidecar rule, and follows no link", async () => {
  const sessionDir = await tempStore();
  const root = join(sessionDir, "_run_journal");
  const outside = await Deno.makeTempDir({ prefix: "hermes-fsck-outside-" });
  await Deno.writeTextFile(join(outside, "secret.jsonl"), "{}\n");
  await Deno.mkdir(join(root, "good"), { recursive: true });
  await Deno.writeTextFile(join(root, "good", "r1.jsonl"), "");
  await Deno.writeTextFile(join(root, "good", "a.b.jsonl"), "");
  await Deno.writeTextFile(join(root, "good", "notes.txt"), "");
  await Deno.symlink(
    join(outside, "secret.jsonl"),
    join(root, "good", "l.jsonl"),
  );
  await Deno.mkdir(join(root, "good", "d.jsonl"));
  await Deno.mkdir(join(root, "a.b"));
  await Deno.writeTextFile(join(root, "a.b", "r1.jsonl"), "");
  await Deno.mkdir(join(root, "_sys"));
  await Deno.symlink(outside, join(root, "linked"));
  await Deno.writeTextFile(join(root, "plain"), "");
  const listing = listRunJournals(sessionDir);
  assert.deepStrictEqual(
    listing.sessions.map(({ identity: _, ...s }) => s),
    [{
      sessionId: "good",
      dir: "_run_journal/good",
      files: [{ name: "_run_journal/good/r1.jsonl", streamId: "r1" }],
    }],
  );
  assert.deepStrictEqual(
    listing.refused.map((r) => [r.name, r.reason]),
    [
      ["_run_journal/_sys", "invalid_session_id"],
      ["_run_journal/a.b", "invalid_session_id"],
      ["_run_journal/good/a.b.jsonl", "invalid_stream_id"],
      ["_run_journal/good/d.jsonl", "not_regular_file"],
      ["_run_journal/good/l.jsonl", "symlink"],
      ["_run_journal/linked", "symlink"],
      ["_run_journal/plain", "not_directory"],
    ],
  );
  // The dir itself a link: refused, never listed.
  await Deno.remove(root, { recursive: true });
  await Deno.symlink(outside, root);
  assert.deepStrictEqual(listRunJournals(sessionDir).refused, [{
    name: "_run_journal",
    id: "",
    reason: "symlink",
  }]);
  assert.deepStrictEqual(listRunJournals(sessionDir).sessions, []);
  await Deno.remove(outside, { recursive: true });
  await Deno.remove(join(sessionDir, "..", ".."), { recursive: true });
});

Deno.test("runJournalName builds no path from an id that fails the sidecar rule", () => {
  assert.deepStrictEqual(
    runJournalName("abc", "r1"),
    "_run_journal/abc/r1.jsonl",
  );
  for (
    const [sid, rid] of [["..", "r1"], ["abc", ".."], ["a/b", "r"], [
      "abc",
      "a.b",
    ]]
  ) {
    let threw = false;
    try {
      runJournalName(sid, rid);
    } catch {
      threw = true;
    }
    assert(threw, `${sid}/${rid}`);
  }
});

Deno.test("runOutputOf gives the events the server's recovery takes, as it takes them", () => {
  const sid = "s", rid = "r";
  const bytes = enc.encode(
    [
      event(sid, rid, 1, "token", { text: "" }),
      event(sid, rid, 2, "token", { text: 5 }),
      event(sid, rid, 3, "interim_assistant", {
        text: " x ",
        already_streamed: false,
      }),
      event(sid, rid, 4, "interim_assistant", { already_streamed: true }),
      event(sid, rid, 5, "reasoning", { reasoning: "why" }),
      event(sid, rid, 6, "tool", {}),
      event(sid, rid, 7, "tool_complete", { preview: "", is_error: 1 }),
      JSON.stringify({ type: "token", payload: { text: "by type" } }),
    ].join("\n") + "\n",
  );
  const out = runOutputOf(bytes, sid, rid);
  assert.deepStrictEqual(
    out.items.map((i) => ({ ...i, createdAt: undefined })),
    [
      { type: "token", text: "5", seq: 2, line: 2, createdAt: undefined },
      {
        type: "interim",
        text: "x",
        alreadyStreamed: false,
        seq: 3,
        line: 3,
        createdAt: undefined,
      },
      {
        type: "interim",
        text: "",
        alreadyStreamed: true,
        seq: 4,
        line: 4,
        createdAt: undefined,
      },
      { type: "reasoning", text: "why", seq: 5, line: 5, createdAt: undefined },
      {
        type: "tool",
        name: "tool",
        preview: "",
        args: {},
        seq: 6,
        line: 6,
        createdAt: undefined,
      },
      {
        type: "tool_complete",
        name: "",
        preview: null,
        duration: null,
        isError: true,
        seq: 7,
        line: 7,
        createdAt: undefined,
      },
      {
        type: "token",
        text: "by type",
        seq: undefined,
        line: 8,
        createdAt: undefined,
      },
    ],
  );
  assert.deepStrictEqual(out.terminalState, null);
});
