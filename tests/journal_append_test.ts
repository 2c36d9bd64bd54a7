/**
 * The turn journal under repair, with a second process in the server's
 * place (Python, appending as the server does: `O_APPEND` under an
 * exclusive `flock` on the journal file, then fsync):
 *
 * - a turn streaming right now (2 s old; its journal at `submitted`, or
 *   ending in a `worker_started` line that sorts before it) is never
 *   touched without `--server-stopped`, only reported as info with the
 *   hint; with the flag it is recovered;
 * - the repair appends in place (the journal's inode never changes, so a
 *   server holding it open keeps appending to the live file) under the
 *   server's lock: a process that holds the lock makes the repair skip the
 *   journal after a bounded wait, never hang;
 * - undo cuts exactly the appended bytes back off, in place, and leaves a
 *   journal the server appended to since;
 * - 2,000 pending turns of one session are one write of the sidecar and
 *   one append to the journal, one quarantined copy of the sidecar.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { type CliResult, runCli, TestStore } from "./fixtures.ts";
import { cliJson, withStore } from "./check_support.ts";
import type { Report } from "../core/report/report.ts";
import { runPipeline } from "../core/run/run.ts";
import { builtinRepairs } from "../repairs/builtin.ts";
import { isSkip } from "../core/plugins/repair.ts";

const SID = "live";
const JOURNAL = `_turn_journal/${SID}.jsonl`;
const PROMPT = "summarize the quarterly numbers";
const TURN = "20261205T120000Z-0123456789ab";
const STREAM = "stream-0123456789ab";

/**
 * Appends one event to a journal as the server does, or (with `hold`)
 * takes the server's lock on it and keeps it until killed. Prints `ready`
 * once the file is open (and locked), then, with `--wait`, appends a line
 * read from stdin through the descriptor it opened first, as a server that
 * holds the journal open across a repair would.
 */
const SERVER_LIKE = String.raw`
import fcntl, os, sys, time
path, mode = sys.argv[1], sys.argv[2]
fd = os.open(path, os.O_CREAT | os.O_APPEND | os.O_WRONLY, 0o600)
def append(line):
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        os.write(fd, (line + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
if mode == "append":
    append(sys.argv[3])
elif mode == "hold":
    fcntl.flock(fd, fcntl.LOCK_EX)
    print("ready", flush=True)
    time.sleep(120)
elif mode == "later":
    print("ready", flush=True)
    append(sys.stdin.readline().rstrip("\n"))
os.close(fd)
`;

/** Starts the server-like process; resolves once it printed `ready`. */
async function serverLike(
  path: string,
  mode: "hold" | "later",
): Promise<Deno.ChildProcess> {
  const child = new Deno.Command("python3", {
    args: ["-c", SERVER_LIKE, path, mode],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.getReader();
  const { value } = await reader.read();
  reader.releaseLock();
  assert.equal(new TextDecoder().decode(value).trim(), "ready");
  return child;
}

/** Appends events through the server-like process, one process each. */
async function serverAppends(
  store: TestStore,
  events: Record<string, unknown>[],
  journal = JOURNAL,
): Promise<void> {
  await Deno.mkdir(store.path("_turn_journal"), { recursive: true });
  for (const event of events) {
    const out = await new Deno.Command("python3", {
      args: ["-c", SERVER_LIKE, store.path(journal), "append", json(event)],
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  }
}

/** Compact JSON, as the server writes journal lines. */
function json(value: unknown): string {
  return JSON.stringify(value);
}

/**
 * The events of a turn the server is streaming: `submitted` (its
 * `created_at` is the sidecar's `pending_started_at`), then, once a worker
 * took the turn, `worker_started` stamped `workerAt`.
 */
function liveTurn(
  startedAt: number,
  workerAt: number | null = null,
  sid = SID,
): Record<string, unknown>[] {
  const base = {
    version: 1,
    session_id: sid,
    turn_id: TURN,
    stream_id: STREAM,
  };
  const submitted = {
    ...base,
    event: "submitted",
    created_at: startedAt,
    role: "user",
    content: PROMPT,
    attachments: [],
    workspace: "/work/project",
    model: "test-model",
    model_provider: "test",
  };
  return workerAt === null ? [submitted] : [submitted, {
    ...base,
    event: "worker_started",
    created_at: workerAt,
  }];
}

function fsck(
  store: TestStore,
  ...args: string[]
): Promise<CliResult & { report: Report }> {
  return cliJson(store, args);
}

function show(r: CliResult): string {
  return `exit ${r.code}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;
}

/**
 * Undoes the undo run `undo` printed; returns the journal after, which
 * must hold the appended event again.
 */
async function undoAgain(
  store: TestStore,
  undo: CliResult,
): Promise<Uint8Array> {
  const undoRun = /'hermes-fsck undo (\S+)' reverts the undo/.exec(
    undo.stdout,
  )?.[1];
  assert.ok(undoRun, show(undo));
  const redo = await runCli([
    "undo",
    undoRun,
    "--session-dir",
    store.sessionDir,
  ]);
  assert.equal(redo.code, 1, show(redo));
  const journal = await Deno.readFile(store.path(JOURNAL));
  assert.match(new TextDecoder().decode(journal), /"event":"interrupted"/);
  return journal;
}

async function inode(store: TestStore, name: string): Promise<number | null> {
  return (await Deno.lstat(store.path(name))).ino;
}

Deno.test("journal: turns streaming right now are left byte for byte without --server-stopped, as info with the hint", async () => {
  await withStore(async (store) => {
    const startedAt = Date.now() / 1000 - 2;
    // As a server has them 2 s into a turn: the sidecar names the stream
    // and the prompt. In `live` the turn waits for a worker (journal at
    // submitted); in `skewed` a worker took it, and its worker_started
    // stamp sorts before the submitted one (pending_started_at may come
    // from another clock), so the journal's last line is worker_started
    // and the turn still reads as submitted.
    for (const sid of [SID, "skewed"]) {
      await store.sidecar(sid, {
        messages: 2,
        active_stream_id: STREAM,
        pending_user_message: PROMPT,
        pending_started_at: startedAt,
      });
    }
    await serverAppends(store, liveTurn(startedAt));
    await serverAppends(
      store,
      liveTurn(startedAt, startedAt - 0.5, "skewed"),
      "_turn_journal/skewed.jsonl",
    );
    const before = await store.snapshot();

    const r = await fsck(store, "repair");
    assert.equal(r.code, 0, show(r));
    assert.deepEqual(await store.snapshot(), before, "the store changed");
    assert.equal(await store.exists("_hermes_fsck"), false);
    assert.equal(r.report.repair?.runId, null);
    const pending = r.report.findings.filter((f) =>
      f.kind === "turn_journal_pending_unconfirmed"
    );
    assert.deepEqual(pending.map((f) => f.sessionId), ["live", "skewed"]);
    for (const finding of pending) {
      assert.equal(finding.category, "info");
      assert.deepEqual(finding.paths, [
        `_turn_journal/${finding.sessionId}.jsonl`,
        `${finding.sessionId}.json`,
      ]);
      assert.match(finding.message, /a server may still be streaming it/);
      assert.match(finding.message, /hermes-fsck repair --server-stopped/);
    }
    assert.ok(
      !r.report.findings.some((f) => f.kind === "turn_journal_pending_turn"),
    );

    const audited = await fsck(store, "audit");
    assert.equal(audited.code, 0, show(audited));
    assert.deepEqual(audited.report.findings.map((f) => f.kind).sort(), [
      "stream_state_unconfirmed",
      "stream_state_unconfirmed",
      "turn_journal_pending_unconfirmed",
      "turn_journal_pending_unconfirmed",
    ]);
  });
});

Deno.test("journal: with --server-stopped the same turn is recovered, the journal appended in place", async () => {
  await withStore(async (store) => {
    const startedAt = Date.now() / 1000 - 2;
    await store.sidecar(SID, { messages: 2 });
    await serverAppends(store, liveTurn(startedAt, startedAt - 0.5));
    const journalBefore = await Deno.readFile(store.path(JOURNAL));
    const ino = await inode(store, JOURNAL);

    const r = await fsck(store, "repair", "--server-stopped");
    assert.equal(r.code, 1, show(r));
    const doc = await store.readJson(`${SID}.json`) as {
      messages: Record<string, unknown>[];
    };
    assert.equal(doc.messages.length, 4);
    assert.equal(doc.messages[2].content, PROMPT);
    assert.equal(doc.messages[2]._recovered, true);
    assert.equal(doc.messages[3]._error, true);
    const journalAfter = await Deno.readFile(store.path(JOURNAL));
    assert.deepEqual(
      journalAfter.subarray(0, journalBefore.length),
      journalBefore,
    );
    const added = new TextDecoder().decode(
      journalAfter.subarray(journalBefore.length),
    );
    assert.match(added, /^\{"version":1,"event":"interrupted",.*\}\n$/);
    assert.equal(JSON.parse(added).turn_id, TURN);
    assert.equal(await inode(store, JOURNAL), ino, "the journal was renamed");
    const [record] = r.report.repair!.actions.filter((a) =>
      a.repair === "recover_pending_turn"
    );
    assert.deepEqual(
      record.actions.map((a) => [a.op, a.path, a.status, a.quarantined]),
      [
        ["write", `${SID}.json`, "applied", record.actions[0].quarantined],
        ["append", JOURNAL, "applied", undefined],
      ],
    );
  });
});

Deno.test("journal: a server that holds the journal open keeps appending to the live file across a repair", async () => {
  await withStore(async (store) => {
    await store.sidecar(SID, { messages: 2 });
    await serverAppends(store, liveTurn(Date.now() / 1000 - 60));
    // The server opened the journal before the repair and appends after it.
    const server = await serverLike(store.path(JOURNAL), "later");
    try {
      const r = await fsck(store, "repair", "--server-stopped");
      assert.equal(r.code, 1, show(r));
      const line = json({
        version: 1,
        event: "submitted",
        session_id: SID,
        turn_id: "20261205T120500Z-ba9876543210",
        stream_id: "stream-2",
        created_at: Date.now() / 1000,
        role: "user",
        content: "the next prompt",
      });
      const writer = server.stdin.getWriter();
      await writer.write(new TextEncoder().encode(line + "\n"));
      await writer.close();
      assert.equal((await server.status).code, 0);
      const lines = (await Deno.readTextFile(store.path(JOURNAL))).trimEnd()
        .split("\n");
      assert.equal(lines.length, 3);
      assert.equal(JSON.parse(lines[1]).event, "interrupted");
      assert.equal(lines[2], line, "the server's append went elsewhere");
    } finally {
      try {
        server.kill("SIGKILL");
      } catch { /* it exited */ }
      await server.status;
    }
  });
});

Deno.test("journal: while another process holds the server's lock on the journal, repair waits briefly, then leaves it and says so", async () => {
  await withStore(async (store) => {
    await store.sidecar(SID, { messages: 2 });
    await serverAppends(store, liveTurn(Date.now() / 1000 - 60));
    const journalBefore = await Deno.readFile(store.path(JOURNAL));
    const holder = await serverLike(store.path(JOURNAL), "hold");
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      // Never hang: a repair still running after 60 s fails the test.
      const r = await Promise.race([
        fsck(store, "repair", "--server-stopped"),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error("repair hung on the journal's lock")),
            60_000,
          );
        }),
      ]);
      assert.deepEqual(
        await Deno.readFile(store.path(JOURNAL)),
        journalBefore,
        "the journal was changed under another process's lock",
      );
      const [record] = r.report.repair!.actions.filter((a) =>
        a.repair === "recover_pending_turn"
      );
      const append = record.actions.find((a) => a.op === "append");
      assert.equal(append?.status, "skipped", show(r));
      assert.equal(append?.reason, "locked");
      assert.match(append!.detail!, /_turn_journal\/live\.jsonl stayed locked/);
      assert.match(append!.detail!, /run repair again/);
      const said = r.report.findings.find((f) =>
        f.kind === "store_changed_during_repair"
      );
      assert.match(said?.message ?? "", /live\.jsonl stayed locked/);
    } finally {
      clearTimeout(timer);
      holder.kill("SIGKILL");
      await holder.status;
    }
  });
});

Deno.test("journal: an event the server appends between plan and apply makes the repair leave the journal, with the server's event kept", async () => {
  await withStore(async (store) => {
    await store.sidecar(SID, { messages: 2 });
    await serverAppends(store, liveTurn(Date.now() / 1000 - 60));
    const finished = {
      version: 1,
      event: "completed",
      session_id: SID,
      turn_id: TURN,
      stream_id: STREAM,
      created_at: Date.now() / 1000,
      terminal: true,
    };
    const report = await runPipeline({
      command: "repair",
      sessionDir: store.sessionDir,
      stateDbPath: null,
      serverStopped: true,
      repairs: builtinRepairs.map((repair) =>
        repair.id !== "recover_pending_turn" ? repair : {
          ...repair,
          async plan(findings, context) {
            const plan = await repair.plan(findings, context);
            // The turn ends after the plan was made: the server appends.
            if (!isSkip(plan)) await serverAppends(store, [finished]);
            return plan;
          },
        }
      ),
    });
    const lines = (await Deno.readTextFile(store.path(JOURNAL))).trimEnd()
      .split("\n");
    assert.equal(lines.length, 2, lines.join("\n"));
    assert.equal(lines[1], json(finished));
    const [record] = report.repair!.actions.filter((a) =>
      a.repair === "recover_pending_turn"
    );
    const append = record.actions.find((a) => a.op === "append");
    assert.equal(append?.status, "skipped");
    assert.equal(append?.reason, "store_changed");
    assert.match(append!.detail!, /live\.jsonl changed after it was checked/);
  });
});

Deno.test("journal: undo cuts the appended bytes back off in place, and leaves a journal the server appended to since", async () => {
  await withStore(async (store) => {
    await store.sidecar(SID, { messages: 2 });
    await serverAppends(store, liveTurn(Date.now() / 1000 - 60));
    const sidecarBefore = await Deno.readFile(store.path(`${SID}.json`));
    const journalBefore = await Deno.readFile(store.path(JOURNAL));
    const ino = await inode(store, JOURNAL);

    const first = await fsck(store, "repair", "--server-stopped");
    assert.equal(first.code, 1, show(first));
    const undo = await runCli([
      "undo",
      first.report.repair!.runId!,
      "--session-dir",
      store.sessionDir,
    ]);
    assert.equal(undo.code, 1, show(undo));
    assert.deepEqual(await Deno.readFile(store.path(JOURNAL)), journalBefore);
    assert.equal(await inode(store, JOURNAL), ino, "undo renamed the journal");
    assert.deepEqual(
      await Deno.readFile(store.path(`${SID}.json`)),
      sidecarBefore,
    );
    // The undo is a run too: undoing it appends the cut bytes again.
    const journalRepaired = await undoAgain(store, undo);
    assert.equal(await inode(store, JOURNAL), ino);
    assert.deepEqual(
      journalRepaired.subarray(0, journalBefore.length),
      journalBefore,
    );
    const back = await runCli([
      "undo",
      first.report.repair!.runId!,
      "--session-dir",
      store.sessionDir,
    ]);
    assert.equal(back.code, 1, show(back));
    assert.deepEqual(await Deno.readFile(store.path(JOURNAL)), journalBefore);

    // Repaired again, then the server appends: undo must keep its event.
    const second = await fsck(store, "repair", "--server-stopped");
    assert.equal(second.code, 1, show(second));
    const next = {
      version: 1,
      event: "submitted",
      session_id: SID,
      turn_id: "20261205T121000Z-cafe00000000",
      created_at: Date.now() / 1000,
      content: "a later prompt",
    };
    await serverAppends(store, [next]);
    const journalNow = await Deno.readFile(store.path(JOURNAL));
    const refused = await runCli([
      "undo",
      second.report.repair!.runId!,
      "--session-dir",
      store.sessionDir,
    ]);
    assert.equal(refused.code & 4, 4, show(refused));
    assert.match(
      refused.stdout + refused.stderr,
      /_turn_journal\/live\.jsonl no longer ends with the bytes the run appended/,
    );
    assert.deepEqual(await Deno.readFile(store.path(JOURNAL)), journalNow);
  });
});

Deno.test("journal: 2,000 pending turns of one session are one write of the sidecar and one append to the journal", async () => {
  await withStore(async (store) => {
    const turns = 2000;
    await store.sidecar(SID, { messages: 2 });
    const start = 1778458282;
    await store.journal(
      SID,
      Array.from({ length: turns }, (_, i) => ({
        version: 1,
        event: "submitted",
        session_id: SID,
        turn_id: `t${String(i).padStart(5, "0")}`,
        stream_id: `s${i}`,
        created_at: start + i,
        role: "user",
        content: `prompt number ${i}`,
      })),
    );
    const r = await fsck(store, "repair", "--server-stopped");
    assert.equal(r.code, 1, show(r));
    const records = r.report.repair!.actions.filter((a) =>
      a.repair === "recover_pending_turn"
    );
    assert.equal(records.length, 1);
    assert.equal(records[0].findingIds.length, turns);
    assert.equal(records[0].status, "applied");

    // The run's own records: one action per file.
    const runDir = join(store.sessionDir, r.report.repair!.runDir!);
    const paths: string[] = [];
    for await (const entry of Deno.readDir(join(runDir, "actions"))) {
      if (!entry.name.endsWith(".json")) continue;
      const action = JSON.parse(
        await Deno.readTextFile(join(runDir, "actions", entry.name)),
      );
      paths.push(action.path);
    }
    paths.sort();
    assert.deepEqual(
      paths.filter((p) => p === JOURNAL || p === `${SID}.json`),
      [JOURNAL, `${SID}.json`],
    );
    assert.equal(new Set(paths).size, paths.length, paths.join(", "));
    const kept: string[] = [];
    for await (const entry of Deno.readDir(join(runDir, "files"))) {
      kept.push(entry.name);
    }
    assert.deepEqual(kept.filter((name) => name.endsWith(`${SID}.json`)), [
      kept.find((name) => name.endsWith(`${SID}.json`)),
    ]);
    // Besides it, only the index the saved sidecar's entry is rebuilt in.
    assert.deepEqual(
      kept.filter((name) => !name.endsWith(`${SID}.json`)).map((name) =>
        name.replace(/^\d+-/, "")
      ),
      ["_index.json"],
      kept.join(", "),
    );

    const doc = await store.readJson(`${SID}.json`) as {
      messages: unknown[];
    };
    assert.equal(doc.messages.length, 2 + 2 * turns);
    const again = await fsck(store, "audit", "--server-stopped");
    assert.ok(
      !again.report.findings.some((f) => f.kind.startsWith("turn_journal")),
      show(again),
    );
  });
});
