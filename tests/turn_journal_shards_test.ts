/**
 * Turn-journal shards: today's server (since v0.51.255) writes one journal
 * file a process, `_turn_journal/<sid>~<pid>.jsonl`, beside the legacy
 * `<sid>.jsonl`, and reads them merged: shards in directory order, then the
 * legacy file, events stably sorted by `created_at`. A healthy store with
 * shards audits clean; pending turns, collisions, malformed lines and
 * orphans are found across all of a session's files; a pending turn is
 * recovered so the server's own reader then sees it ended.
 */

import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { cliJson, serverIndex, withStore } from "./check_support.ts";
import { auditStore } from "../core/run/audit.ts";
import { builtinChecks } from "../checks/builtin.ts";
import type { TestStore } from "./fixtures.ts";

/** `../shared/upstream` beside the project, or `$HERMES_FSCK_UPSTREAM`. */
const UPSTREAM = Deno.env.get("HERMES_FSCK_UPSTREAM") ??
  join(
    dirname(fileURLToPath(import.meta.url)),
    "..",
    "..",
    "shared",
    "upstream",
  );
const TODAY = join(UPSTREAM, "hermes-webui-df65251d5");

/** A finished turn as today's server writes it (lifecycle, terminal flag). */
function turn(turnId: string, at: number): Record<string, unknown>[] {
  return [
    {
      version: 1,
      event: "submitted",
      session_id: "s1",
      turn_id: turnId,
      created_at: at,
    },
    {
      version: 1,
      event: "completed",
      session_id: "s1",
      turn_id: turnId,
      created_at: at + 1,
      terminal: true,
    },
  ];
}

function lines(events: Record<string, unknown>[]): string {
  return events.map((e) => JSON.stringify(e) + "\n").join("");
}

async function assertAuditsClean(store: TestStore): Promise<void> {
  const { code, report } = await cliJson(store, ["audit"]);
  const problems = report.findings.filter((f) => f.category !== "info");
  assert.deepEqual(problems, [], "the store is not clean");
  assert.equal(code, 0);
}

Deno.test("shards from two pids audit clean (fixture)", async () => {
  await withStore(async (store) => {
    await store.index(
      serverIndex([await store.sidecar("s1", { messages: 4 })]),
    );
    await store.writeRaw("_turn_journal/s1~101.jsonl", lines(turn("t1", 10)));
    await store.writeRaw("_turn_journal/s1~202.jsonl", lines(turn("t2", 20)));
    await assertAuditsClean(store);
  });
});

type Event = Record<string, unknown>;

function submitted(turnId: string, at: unknown, content: string): Event {
  return {
    version: 1,
    event: "submitted",
    session_id: "s1",
    turn_id: turnId,
    stream_id: `stream-${turnId}`,
    created_at: at,
    role: "user",
    content,
  };
}

function ended(turnId: string, at: number, event = "completed"): Event {
  return {
    version: 1,
    event,
    session_id: "s1",
    turn_id: turnId,
    stream_id: `stream-${turnId}`,
    created_at: at,
    terminal: true,
  };
}

/** `audit --server-stopped`, as JSON. */
function stoppedAudit(store: TestStore) {
  return cliJson(store, ["audit", "--server-stopped"]);
}

/**
 * Session s1 with `legacy` in `s1.jsonl` and `shard` in `s1~5.jsonl`,
 * audited as with no server running.
 */
async function legacyAndShard(
  store: TestStore,
  legacy: Event[],
  shard: Event[],
) {
  await oneSession(store);
  await store.writeRaw("_turn_journal/s1.jsonl", lines(legacy));
  await store.writeRaw("_turn_journal/s1~5.jsonl", lines(shard));
  return await stoppedAudit(store);
}

/** A session s1 with two messages, listed in the index. */
async function oneSession(store: TestStore): Promise<void> {
  await store.index(
    serverIndex([await store.sidecar("s1", { messages: 2 })]),
  );
}

Deno.test("shards: a turn submitted in the legacy file and ended in a shard is not pending", async () => {
  await withStore(async (store) => {
    const { code, report } = await legacyAndShard(
      store,
      [submitted("t1", 100, "only a journal knows")],
      [ended("t1", 101)],
    );
    assert.deepEqual(
      report.findings.filter((f) => f.kind.startsWith("turn_journal")),
      [],
    );
    assert.equal(code, 0);
  });
});

Deno.test("shards: a turn only a shard holds is pending, found with its file and line, and recovered into the shard the server reads last", async () => {
  await withStore(async (store) => {
    await oneSession(store);
    await store.writeRaw(
      "_turn_journal/s1~101.jsonl",
      lines([...turn("t0", 10), submitted("t1", 100, "lost prompt")]),
    );
    await store.writeRaw("_turn_journal/s1~202.jsonl", lines(turn("t2", 50)));
    const audit = await cliJson(store, ["audit"]);
    const [unconfirmed] = audit.report.findings;
    assert.equal(unconfirmed?.kind, "turn_journal_pending_unconfirmed");
    assert.equal(audit.code, 0, "info until the server is known stopped");
    const stopped = await stoppedAudit(store);
    const [pending] = stopped.report.findings;
    assert.equal(pending?.kind, "turn_journal_pending_turn");
    assert.deepEqual(pending.paths, ["_turn_journal/s1~101.jsonl", "s1.json"]);
    assert.equal(pending.evidence.file, "_turn_journal/s1~101.jsonl");
    assert.equal(pending.evidence.line, 3);
    assert.match(pending.message, /line 3 of _turn_journal\/s1~101\.jsonl/);
    assert.equal(stopped.code, 4);

    const repaired = await cliJson(store, ["repair", "--server-stopped"]);
    assert.equal(repaired.code, 1, repaired.stdout);
    // No legacy file: the event goes to the shard the server reads last.
    const shards = [
      ...Deno.readDirSync(join(store.sessionDir, "_turn_journal")),
    ]
      .map((e) => e.name);
    assert.ok(!shards.includes("s1.jsonl"), "no legacy file is created");
    const last = `_turn_journal/${shards.at(-1)}`;
    const [record] = repaired.report.repair!.actions;
    assert.deepEqual(record.actions.map((a) => a.path), ["s1.json", last]);
    const closing = (await Deno.readTextFile(store.path(last))).trimEnd()
      .split("\n").map((l) => JSON.parse(l)).at(-1);
    assert.equal(closing.event, "interrupted");
    assert.equal(closing.turn_id, "t1");
    assert.equal(closing.terminal, true);
    const live = await store.readJson("s1.json") as { messages: Event[] };
    assert.equal(live.messages.at(-2)?.content, "lost prompt");
    assert.equal(live.messages.at(-2)?._recovered, true);

    const again = await stoppedAudit(store);
    assert.deepEqual(again.report.findings, []);
    assert.equal(again.code, 0);
  });
});

Deno.test("shards: with a legacy file the closing event goes there, stamped after a turn stamped in the future", async () => {
  await withStore(async (store) => {
    await oneSession(store);
    const future = Date.now() / 1000 + 86_400;
    await store.writeRaw("_turn_journal/s1.jsonl", lines(turn("t0", 10)));
    await store.writeRaw(
      "_turn_journal/s1~9.jsonl",
      lines([submitted("t1", future, "from a fast clock")]),
    );
    const repaired = await cliJson(store, ["repair", "--server-stopped"]);
    assert.equal(repaired.code, 1, repaired.stdout);
    const [record] = repaired.report.repair!.actions;
    assert.deepEqual(record.actions.map((a) => a.path), [
      "s1.json",
      "_turn_journal/s1.jsonl",
    ]);
    const closing =
      (await Deno.readTextFile(store.path("_turn_journal/s1.jsonl")))
        .trimEnd().split("\n").map((l) => JSON.parse(l)).at(-1);
    assert.ok(closing.created_at > future, "after every event of the turn");
    const again = await stoppedAudit(store);
    assert.deepEqual(again.report.findings, []);
  });
});

Deno.test("shards: events stamped alike go to the file the server reads later (the legacy file after shards)", async () => {
  // The legacy file's submit is read after the shard's end: pending.
  await withStore(async (store) => {
    const { report } = await legacyAndShard(
      store,
      [submitted("t1", 30, "tied")],
      [ended("t1", 30)],
    );
    assert.deepEqual(report.findings.map((f) => f.kind), [
      "turn_journal_pending_turn",
    ]);
  });
  // The other way round: ended.
  await withStore(async (store) => {
    const { code, report } = await legacyAndShard(
      store,
      [ended("t1", 30)],
      [submitted("t1", 30, "tied")],
    );
    assert.deepEqual(report.findings, []);
    assert.equal(code, 0);
  });
});

Deno.test("shards: a malformed line names its shard and line; a collision across shards names both files; an orphan's finding names every file", async () => {
  await withStore(async (store) => {
    await oneSession(store);
    await store.writeRaw(
      "_turn_journal/s1~1.jsonl",
      lines(turn("t1", 10)) + "not json\n" + lines([ended("t2", 22)]),
    );
    await store.writeRaw(
      "_turn_journal/s1~2.jsonl",
      lines([submitted("t2", 20, "message 0"), ended("t2", 21, "interrupted")]),
    );
    await store.writeRaw("_turn_journal/gone~3.jsonl", lines(turn("g1", 5)));
    await store.writeRaw("_turn_journal/gone.jsonl", lines(turn("g2", 6)));
    const { code, report } = await cliJson(store, ["audit"]);
    const byKind = (kind: string) =>
      report.findings.filter((f) => f.kind === kind);
    const [malformed] = byKind("turn_journal_malformed_lines");
    assert.deepEqual(malformed.paths, ["_turn_journal/s1~1.jsonl"]);
    assert.deepEqual(malformed.evidence.malformedLines, [3]);
    assert.match(malformed.message, /^_turn_journal\/s1~1\.jsonl has 1 line/);
    const [collision] = byKind("turn_journal_collision");
    assert.equal(collision.evidence.turnId, "t2");
    assert.deepEqual(
      [...(collision.evidence.files as string[])].sort(),
      ["_turn_journal/s1~1.jsonl", "_turn_journal/s1~2.jsonl"],
    );
    assert.equal(collision.category, "info");
    const [orphan] = byKind("turn_journal_orphan");
    assert.equal(orphan.sessionId, "gone");
    assert.deepEqual(orphan.paths, [
      "_turn_journal/gone~3.jsonl",
      "_turn_journal/gone.jsonl",
    ]);
    assert.equal(orphan.evidence.turns, 2);
    assert.deepEqual(byKind("invalid_session_id"), []);
    assert.equal(code, 0, "collisions, malformed lines and orphans are info");
  });
});

Deno.test("shards: a journal id with '.' is an orphan journal, never an invalid id, and never a path", async () => {
  await withStore(async (store) => {
    await oneSession(store);
    for (const name of ["sess.123~8.jsonl", "sess.123.jsonl", "a.b~1.jsonl"]) {
      await store.writeRaw(
        `_turn_journal/${name}`,
        lines([submitted(`t-${name}`, 5, "pending in a dotted journal")]),
      );
    }
    const before = [...Deno.readDirSync(store.sessionDir)].map((e) => e.name)
      .sort();
    const { code, report } = await cliJson(store, [
      "repair",
      "--server-stopped",
    ]);
    assert.deepEqual(
      report.findings.filter((f) => f.kind === "invalid_session_id"),
      [],
    );
    const orphans = report.findings.filter((f) =>
      f.kind === "turn_journal_orphan"
    );
    assert.deepEqual(orphans.map((f) => f.sessionId).sort(), [
      "a.b",
      "sess.123",
    ]);
    for (const f of report.findings) {
      assert.ok(
        !f.paths.some((p) => /^(sess\.123|a\.b)\.json/.test(p)),
        f.message,
      );
    }
    assert.deepEqual(report.repair!.actions.flatMap((r) => r.actions), []);
    const after = [...Deno.readDirSync(store.sessionDir)].map((e) => e.name)
      .sort();
    assert.deepEqual(after.filter((n) => n !== "_hermes_fsck"), before);
    assert.equal(code, 4, "their pending turns have nowhere to go");
  });
});

Deno.test("shards: a shard that is a symbolic link is reported, not followed, and the session's turns are not judged", async () => {
  await withStore(async (store) => {
    await oneSession(store);
    await store.writeRaw(
      "_turn_journal/s1.jsonl",
      lines([submitted("t1", 100, "maybe ended in the linked shard")]),
    );
    const outside = join(store.root, "outside.jsonl");
    await Deno.writeTextFile(outside, lines([ended("t1", 101)]));
    await Deno.symlink(outside, store.path("_turn_journal/s1~4.jsonl"));
    const { code, report } = await cliJson(store, [
      "repair",
      "--server-stopped",
    ]);
    assert.deepEqual(report.findings.map((f) => [f.kind, f.paths]), [
      ["unreadable_file", ["_turn_journal/s1~4.jsonl"]],
    ]);
    assert.deepEqual(report.repair!.actions, []);
    assert.equal(code, 4);
  });
});

Deno.test("shards: checked part by part, with and without workers, the findings are those of the whole store", async () => {
  await withStore(async (store) => {
    const sidecars = [];
    for (const id of ["a", "a-b", "a0", "b"]) {
      sidecars.push(await store.sidecar(id, { messages: 2 }));
    }
    await store.index(serverIndex(sidecars));
    const write = (name: string, events: Event[], extra = "") =>
      store.writeRaw(`_turn_journal/${name}`, lines(events) + extra);
    // Names that sort apart though they belong together: a.jsonl, a0~1,
    // a~2 (by name), and a dotted id between them.
    await write("a.jsonl", [submitted("t1", 10, "ended in a~2")]);
    await write("a~2.jsonl", [ended("t1", 11)]);
    await write("a0~1.jsonl", [submitted("t2", 10, "pending in a0")]);
    await write("a-b~1.jsonl", turn("t3", 10), "torn{\n");
    await write("a.b~1.jsonl", [submitted("t4", 10, "dotted orphan")]);
    await write("b~3.jsonl", [
      submitted("t5", 10, "message 0"),
      ended("t5", 11),
    ]);
    await write("b~4.jsonl", [ended("t5", 12, "interrupted")]);
    const now = Date.parse("2026-11-21T12:00:00Z");
    const run = async (partSessions?: number, workers = 0) => {
      const result = await auditStore({
        scan: { sessionDir: store.sessionDir, stateDbPath: null, workers },
        checks: builtinChecks,
        checkOptions: { now, serverStopped: true },
        partSessions,
      });
      result.store.stateDb.close();
      return result.findings;
    };
    const whole = await run();
    assert.deepEqual(
      whole.map((f) => `${f.kind} ${f.sessionId}`).sort(),
      [
        "turn_journal_collision b",
        "turn_journal_malformed_lines a-b",
        "turn_journal_orphan a.b",
        "turn_journal_pending_turn a.b",
        "turn_journal_pending_turn a0",
      ],
    );
    for (const [parts, workers] of [[1, 0], [1, 2], [2, 2]]) {
      assert.deepEqual(await run(parts, workers), whole, `${parts}/${workers}`);
    }
  });
});

function hasPython(): boolean {
  try {
    return new Deno.Command("python3", { args: ["-c", "pass"] }).outputSync()
      .success;
  } catch {
    return false;
  }
}

Deno.test("shards written by today's server's own append audit clean", async (t) => {
  let present = false;
  try {
    present = Deno.statSync(join(TODAY, "api", "turn_journal.py")).isFile;
  } catch { /* absent */ }
  if (!present || !hasPython()) {
    console.log(
      `skipped: needs python3 and ${TODAY} (../shared/upstream beside the project, or $HERMES_FSCK_UPSTREAM)`,
    );
    return;
  }
  await t.step("two processes", async () => {
    await withStore(async (store) => {
      await store.index(
        serverIndex([await store.sidecar("s1", { messages: 4 })]),
      );
      // Each python3 is its own pid, so each writes its own shard.
      for (const turnId of ["t1", "t2"]) {
        const script = [
          "import sys",
          "from pathlib import Path",
          "from api.turn_journal import append_turn_journal_event as a",
          "d = Path(sys.argv[1])",
          "a('s1', {'event': 'submitted', 'turn_id': sys.argv[2]}, session_dir=d)",
          "a('s1', {'event': 'completed', 'turn_id': sys.argv[2]}, session_dir=d)",
        ].join("\n");
        const out = await new Deno.Command("python3", {
          args: ["-c", script, store.sessionDir, turnId],
          cwd: TODAY,
        }).output();
        assert.ok(out.success, new TextDecoder().decode(out.stderr));
      }
      const shards = [
        ...Deno.readDirSync(join(store.sessionDir, "_turn_journal")),
      ]
        .map((e) => e.name);
      assert.equal(shards.length, 2);
      assert.ok(shards.every((n) => /^s1~\d+\.jsonl$/.test(n)));
      await assertAuditsClean(store);
    });
  });
});

/** Runs a script of this test under today's server code, as its own process (its own pid, so its own shard). */
async function python(
  root: string,
  script: string,
  ...args: string[]
): Promise<string> {
  const out = await new Deno.Command("python3", {
    args: ["-c", script, join(root, "webui", "sessions"), ...args],
    cwd: TODAY,
    env: {
      HERMES_WEBUI_STATE_DIR: join(root, "webui"),
      HERMES_HOME: join(root, "hermes"),
    },
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout);
}

// Written by this project: calls the server's public writer and reader.
const APPEND = `
import json, os, sys
from pathlib import Path
from api.turn_journal import append_turn_journal_event
sd = Path(sys.argv[1])
for sid, event in json.loads(sys.argv[2]):
    append_turn_journal_event(sid, event, session_dir=sd)
print(os.getpid())
`;

const LOAD = `
import json, sys
from pathlib import Path
from api import models
from api.turn_journal import read_turn_journal, derive_turn_journal_states, is_terminal_turn_event
from api.session_recovery import audit_session_recovery
sd = Path(sys.argv[1])
journal = read_turn_journal("s1", session_dir=sd)
states, collisions = derive_turn_journal_states(journal["events"])
session = models.Session.load("s1")
audit = audit_session_recovery(sd)
print(json.dumps({
    "t1": states["t1"]["event"],
    "terminal": is_terminal_turn_event(states["t1"]),
    "collisions": len(collisions),
    "contents": [m.get("content") for m in session.messages],
    "pending": sorted(i["session_id"] + "/" + i["turn_id"] for i in audit["items"] if i["kind"] == "turn_journal_pending_turn"),
    "malformed": [[m["shard"], m["line"]] for m in journal["malformed"]],
}))
`;

Deno.test("shards written by several server processes: a pending turn split across shards is found and recovered so the server's own reader sees it ended", async (t) => {
  let present = false;
  try {
    present = Deno.statSync(join(TODAY, "api", "turn_journal.py")).isFile;
  } catch { /* absent */ }
  if (!present || !hasPython()) {
    console.log(
      `skipped: needs python3 and ${TODAY} (../shared/upstream beside the project, or $HERMES_FSCK_UPSTREAM)`,
    );
    return;
  }
  await t.step("three server processes, three shards", async () => {
    await withStore(async (store) => {
      await python(
        store.root,
        [
          "from api import models",
          "msgs = [{'role': 'user', 'content': 'hi', 'timestamp': 1778458000},",
          "        {'role': 'assistant', 'content': 'hello', 'timestamp': 1778458001}]",
          "models.Session(session_id='s1', title='chat', messages=msgs).save()",
          "models._write_session_index()",
        ].join("\n"),
      );
      const append = async (events: [string, Event][]) =>
        (await python(store.root, APPEND, JSON.stringify(events))).trim();
      // Process A submits t1 and t2; process B, whose clock is behind,
      // starts t1's worker and completes t2: t1's events are split across
      // two shards, t2 ends in another shard than it began.
      const pidA = await append([
        ["s1", {
          event: "submitted",
          turn_id: "t1",
          stream_id: "st1",
          created_at: 100,
          role: "user",
          content: "only in shard A",
        }],
        ["s1", {
          event: "submitted",
          turn_id: "t2",
          stream_id: "st2",
          created_at: 110,
          role: "user",
          content: "answered",
        }],
      ]);
      await append([
        ["s1", {
          event: "worker_started",
          turn_id: "t1",
          stream_id: "st1",
          created_at: 90,
        }],
        ["s1", {
          event: "completed",
          turn_id: "t2",
          stream_id: "st2",
          created_at: 120,
        }],
      ]);
      // A session deleted by a server before v0.51.326 left its shard.
      await append([
        ["gone1", {
          event: "submitted",
          turn_id: "g1",
          created_at: 50,
          content: "x",
        }],
        ["gone1", { event: "completed", turn_id: "g1", created_at: 51 }],
      ]);
      const shardA = `_turn_journal/s1~${pidA}.jsonl`;
      await Deno.writeTextFile(store.path(shardA), "not json\n", {
        append: true,
      });
      const before = JSON.parse(await python(store.root, LOAD));
      assert.equal(before.terminal, false);
      assert.deepEqual(before.pending, ["s1/t1"], "the server's own audit");
      assert.deepEqual(before.malformed, [[`s1~${pidA}.jsonl`, 3]]);

      const audit = await cliJson(store, ["audit"]);
      const kinds = audit.report.findings.map((f) => [f.kind, f.paths[0]]);
      assert.deepEqual(
        kinds.sort(),
        [
          ["turn_journal_malformed_lines", shardA],
          [
            "turn_journal_orphan",
            kinds.find((k) => k[0] === "turn_journal_orphan")![1],
          ],
          ["turn_journal_pending_unconfirmed", shardA],
        ].sort(),
      );
      const orphan = audit.report.findings.find((f) =>
        f.kind === "turn_journal_orphan"
      )!;
      assert.equal(orphan.sessionId, "gone1");
      assert.match(orphan.paths[0], /^_turn_journal\/gone1~\d+\.jsonl$/);
      const malformed = audit.report.findings.find((f) =>
        f.kind === "turn_journal_malformed_lines"
      )!;
      assert.deepEqual(malformed.evidence.malformedLines, [3]);
      assert.equal(audit.code, 0, "info only while a server may run");

      const stopped = await stoppedAudit(store);
      const pending = stopped.report.findings.find((f) =>
        f.kind === "turn_journal_pending_turn"
      );
      assert.equal(pending?.evidence.turnId, "t1");
      assert.equal(pending?.evidence.line, 1);
      assert.equal(stopped.code, 4);

      const repaired = await cliJson(store, ["repair", "--server-stopped"]);
      assert.equal(repaired.code, 1, repaired.stdout);
      assert.ok(!(await store.exists("_turn_journal/s1.jsonl")));

      const after = JSON.parse(await python(store.root, LOAD));
      assert.equal(after.t1, "interrupted");
      assert.equal(after.terminal, true);
      assert.equal(after.collisions, 0);
      assert.deepEqual(after.pending, []);
      assert.ok(after.contents.includes("only in shard A"));

      const again = await stoppedAudit(store);
      assert.deepEqual(
        again.report.findings.map((f) => f.kind).sort(),
        ["turn_journal_malformed_lines", "turn_journal_orphan"],
      );
      assert.equal(again.code, 0);
    });
  });
});
