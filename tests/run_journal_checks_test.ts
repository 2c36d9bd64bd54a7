/**
 * The run-journal checks (issue 21): a dead stream whose run journal holds
 * output, a run that completed though its sidecar shows it streaming, torn
 * and malformed run-journal lines, run journals of sessions that no longer
 * exist, and run-journal paths that are never followed; each as a user
 * sees it (findings, messages, exit codes), on real files, the CLI run as
 * a subprocess where the exit code matters.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { auditStore } from "../core/run/audit.ts";
import { builtinChecks } from "../checks/builtin.ts";
import { audit, cliJson, kindsOf, ofKind, withStore } from "./check_support.ts";
import { runCli, storeArgs } from "./fixtures.ts";
import { giveStoreAway, IS_ROOT } from "./owner_support.ts";
import { show } from "./safety_support.ts";
import { upstreamPython, upstreamStore } from "./upstream_store_support.ts";
import { runEvent } from "./run_journal_support.ts";
import { streamingSidecar, writeRun } from "./checks/stream_support.ts";

const RUN_KINDS = [
  "stale_stream_unrecovered_output",
  "stream_output_unconfirmed",
  "stream_run_journal_unread",
  "stream_run_completed",
  "stream_run_completed_unconfirmed",
  "run_journal_torn_line",
  "run_journal_malformed_lines",
  "run_journal_read_cut",
  "run_journal_orphan",
  "run_journal_refused_path",
];

Deno.test("a dead stream whose run journal holds output: repairable with --server-stopped, info with a hint without, never stale_stream_state", async () => {
  await withStore(async (store) => {
    await streamingSidecar(store, "s1", "run1");
    const journal = await writeRun(store, "s1", "run1", [
      ["token", { text: "The answer " }],
      ["token", { text: "is 42" }],
      ["tool", { name: "calc", preview: "6*7" }],
    ]);
    const running = await audit(store);
    assert.deepEqual(kindsOf(running), ["stream_output_unconfirmed"]);
    const [hint] = ofKind(running, "stream_output_unconfirmed");
    assert.equal(hint.category, "info");
    assert.deepEqual(hint.paths, ["s1.json", journal]);
    assert.match(
      hint.message,
      /holds 16 characters of text and 1 tool card the sidecar lacks; left alone: .*--server-stopped/,
    );
    assert.equal(running.exitCode, 0);

    const stopped = await audit(store, { serverStopped: true });
    assert.deepEqual(kindsOf(stopped), ["stale_stream_unrecovered_output"]);
    const [finding] = ofKind(stopped, "stale_stream_unrecovered_output");
    assert.equal(finding.category, "repairable");
    assert.equal(finding.repair, "recover_stale_stream");
    assert.equal(finding.evidence.runJournal, journal);
    assert.equal(finding.evidence.textChars, 16);
    assert.equal(finding.evidence.toolCards, 1);
    assert.equal(stopped.exitCode, 4);

    // A compression parent is stale-stream-state's: the server never
    // closes its stream.
    await streamingSidecar(store, "s1", "run1", {
      pre_compression_snapshot: true,
    });
    for (const serverStopped of [false, true]) {
      const parent = await audit(store, { serverStopped });
      assert.deepEqual(
        kindsOf(parent).filter((k) => RUN_KINDS.includes(k)),
        [],
      );
    }

    // The grace holds even with --server-stopped.
    await streamingSidecar(store, "s1", "run1", {
      pending_started_at: Date.now() / 1000 - 5,
    });
    const fresh = await audit(store, { serverStopped: true });
    assert.deepEqual(kindsOf(fresh), ["stream_output_unconfirmed"]);
    assert.match(fresh.findings[0].message, /within the 30 s grace/);

    // As the operator sees it: the CLI's exit code and JSON report.
    await streamingSidecar(store, "s1", "run1");
    const cli = await cliJson(store, ["audit"]);
    assert.equal(cli.code, 0, show(cli));
    assert.deepEqual(kindsOf(cli.report), ["stream_output_unconfirmed"]);
    const cliStopped = await cliJson(store, ["audit", "--server-stopped"]);
    assert.equal(cliStopped.code, 4, show(cliStopped));
    assert.deepEqual(kindsOf(cliStopped.report), [
      "stale_stream_unrecovered_output",
    ]);
  });
});

Deno.test("a dead stream whose run journal has no output stays stale_stream_state; one that cannot be read is left alone", async () => {
  await withStore(async (store) => {
    await streamingSidecar(store, "s1", "run1");
    await writeRun(store, "s1", "run1", [["metering", { tokens: 1 }]]);
    const report = await audit(store, { serverStopped: true });
    assert.deepEqual(kindsOf(report), ["stale_stream_state"]);

    // Another run's journal with output does not count for this stream.
    await writeRun(store, "s1", "other", [["token", { text: "x" }]]);
    assert.deepEqual(kindsOf(await audit(store, { serverStopped: true })), [
      "stale_stream_state",
    ]);

    // A journal cut by the bound before any output: unknown, left alone.
    await writeRun(store, "s1", "run1", [], "x".repeat(64 * 1024) + "\n");
    const cut = await audit(store, {
      serverStopped: true,
      maxFileBytes: 16 * 1024,
    });
    assert.deepEqual(kindsOf(cut), [
      "run_journal_read_cut",
      "stream_run_journal_unread",
    ]);
    assert.match(
      ofKind(cut, "stream_run_journal_unread")[0].message,
      /_run_journal\/s1\/run1\.jsonl was read only to byte 16384 .*--max-file-size/,
    );
  });
});

Deno.test("a run that completed though the sidecar shows it streaming: repairable with --server-stopped, info without", async () => {
  await withStore(async (store) => {
    await streamingSidecar(store, "s1", "run1");
    const journal = await writeRun(store, "s1", "run1", [
      ["token", { text: "done!" }],
      ["done", {}],
      ["stream_end", {}],
    ]);
    const running = await audit(store);
    assert.deepEqual(kindsOf(running), ["stream_run_completed_unconfirmed"]);
    assert.equal(running.exitCode, 0);
    const stopped = await audit(store, { serverStopped: true });
    assert.deepEqual(kindsOf(stopped), ["stream_run_completed"]);
    const [finding] = ofKind(stopped, "stream_run_completed");
    assert.equal(finding.category, "repairable");
    assert.equal(finding.repair, "recover_stale_stream");
    assert.deepEqual(finding.paths, ["s1.json", journal]);
    assert.match(
      finding.message,
      /says the run completed \(line 2, done; 5 characters of text\)/,
    );

    // A terminal event of another session is not this run's: no
    // completion, only its output counts.
    await store.writeRaw(
      journal,
      runEvent("s1", "run1", 1, "token", { text: "hi" }) + "\n" +
        runEvent("s2", "run1", 2, "done") + "\n",
    );
    assert.deepEqual(kindsOf(await audit(store, { serverStopped: true })), [
      "stale_stream_unrecovered_output",
    ]);
  });
});

Deno.test("torn and malformed run-journal lines are named by file and line, never fatal; a torn last line alone is info", async () => {
  await withStore(async (store) => {
    await store.sidecar("s1", { messages: 2 });
    const torn = await writeRun(
      store,
      "s1",
      "torn",
      [["token", { text: "a" }], ["done", {}]],
      '{"version":1,"event_id":"torn:3","seq":3,"ru',
    );
    const broken = await writeRun(
      store,
      "s1",
      "broken",
      [["token", { text: "a" }]],
      "garbage\n" + runEvent("s1", "broken", 2, "token", { text: "\u2028" }) +
        "\n",
    );
    const r = await runCli(["audit", ...storeArgs(store, false)]);
    assert.equal(r.code, 0, show(r));
    assert.match(
      r.stdout,
      new RegExp(
        `${broken.replaceAll("/", "\\/").replace(".", "\\.")} has 3 lines ` +
          `that are not JSON objects \\(line 2, 3, 4\\)`,
      ),
    );
    assert.match(
      r.stdout,
      new RegExp(
        `The last line \\(3\\) of ${
          torn.replaceAll("/", "\\/").replace(".", "\\.")
        } was cut short`,
      ),
    );
    const report = await audit(store);
    assert.equal(ofKind(report, "run_journal_torn_line")[0].category, "info");
    assert.equal(
      ofKind(report, "run_journal_torn_line")[0].severity,
      "info",
    );
    const [bad] = ofKind(report, "run_journal_malformed_lines");
    assert.deepEqual(bad.evidence.malformedLines, [2, 3, 4]);
  });
});

Deno.test("run journals of a session that no longer exists are info; those of live sessions are not", async () => {
  await withStore(async (store) => {
    await store.sidecar("alive", { messages: 2 });
    await writeRun(store, "alive", "r1", [["token", { text: "a" }], ["done"]]);
    await writeRun(store, "gone", "r1", [["token", { text: "a" }], ["done"]]);
    await writeRun(store, "gone", "r2", [["done"]]);
    await store.writeRaw(
      "_deleted_webui_sessions.json",
      JSON.stringify({ version: 1, ids: ["gone"] }),
    );
    const cli = await cliJson(store, ["audit"]);
    assert.equal(cli.code, 0, show(cli));
    const [orphan] = ofKind(cli.report, "run_journal_orphan");
    assert.ok(orphan, kindsOf(cli.report).join());
    assert.equal(orphan.sessionId, "gone");
    assert.equal(orphan.category, "info");
    assert.deepEqual(orphan.paths, ["_run_journal/gone"]);
    assert.equal(orphan.evidence.runs, 2);
    assert.equal(orphan.evidence.tombstoned, true);
    assert.equal(ofKind(cli.report, "run_journal_orphan").length, 1);
  });
});

Deno.test("run-journal paths whose ids fail the sidecar rule are reported and never entered", async () => {
  await withStore(async (store) => {
    await streamingSidecar(store, "s1", "run1");
    // The journal this stream would have, but under names no id passes.
    await store.writeRaw(
      "_run_journal/s1.x/run1.jsonl",
      runEvent("s1", "run1", 1, "token", { text: "hidden" }) + "\n",
    );
    await store.writeRaw(
      "_run_journal/s1/run.1.jsonl",
      runEvent("s1", "run.1", 1, "token", { text: "hidden" }) + "\n",
    );
    const cli = await cliJson(store, ["audit", "--server-stopped"]);
    assert.equal(cli.code, 4, show(cli));
    const refused = ofKind(cli.report, "run_journal_refused_path");
    assert.deepEqual(refused.map((f) => f.paths[0]).sort(), [
      "_run_journal/s1.x",
      "_run_journal/s1/run.1.jsonl",
    ]);
    assert.equal(refused[0].category, "unsafe_to_repair");
    // Neither was read: the stream has no journal output, so it is the
    // plain stale stream it was.
    assert.deepEqual(
      kindsOf(cli.report),
      ["run_journal_refused_path", "stale_stream_state"],
    );
  });
});

Deno.test({
  name:
    "a symlinked _run_journal/<sid> or <stream>.jsonl planted by the store's owner is never followed (as root, with and without the drop)",
  ignore: !IS_ROOT,
  fn: async () => {
    await withStore(async (store) => {
      await streamingSidecar(store, "s1", "run1");
      await streamingSidecar(store, "s2", "run2");
      // What the links aim at: root's files outside the store, that would
      // read as output of both streams.
      const outside = await Deno.makeTempDir({ prefix: "hermes-fsck-out-" });
      await Deno.chmod(outside, 0o755);
      await Deno.writeTextFile(
        join(outside, "run1.jsonl"),
        runEvent("s1", "run1", 1, "token", { text: "root secret" }) + "\n",
      );
      await Deno.writeTextFile(
        join(outside, "run2.jsonl"),
        runEvent("s2", "run2", 1, "token", { text: "root secret" }) + "\n",
      );
      await Deno.mkdir(store.path("_run_journal/s2"), { recursive: true });
      await giveStoreAway(store, 1000, 1000);
      // Planted by uid 1000, the store's owner.
      for (
        const [target, link] of [
          [outside, store.path("_run_journal/s1")],
          [
            join(outside, "run2.jsonl"),
            store.path("_run_journal/s2/run2.jsonl"),
          ],
        ]
      ) {
        const ln = await new Deno.Command("ln", {
          args: ["-s", target, link],
          uid: 1000,
          gid: 1000,
        }).output();
        assert.equal(ln.code, 0, new TextDecoder().decode(ln.stderr));
      }
      const expect = (kinds: string[], what: string) => {
        assert.deepEqual(kinds, [
          "run_journal_refused_path",
          "stale_stream_state",
        ], what);
      };
      // In this process, as root, no privilege drop.
      const here = await audit(store, { serverStopped: true });
      expect(kindsOf(here), JSON.stringify(here.findings));
      assert.deepEqual(
        ofKind(here, "run_journal_refused_path").map((f) => [
          f.paths[0],
          f.evidence.reason,
        ]),
        [
          ["_run_journal/s1", "symlink"],
          ["_run_journal/s2/run2.jsonl", "symlink"],
        ],
      );
      assert.equal(ofKind(here, "stale_stream_state").length, 2);
      // The CLI as root, which runs as the owner.
      const cli = await cliJson(store, ["audit", "--server-stopped"]);
      assert.equal(cli.code, 4, show(cli));
      expect(kindsOf(cli.report), show(cli));
      assert.doesNotMatch(cli.stdout, /root secret|11 characters/);
      await Deno.remove(outside, { recursive: true });
    });
  },
});

Deno.test("a huge run journal is audited in bounded time through the CLI, and the cut is said", async () => {
  await withStore(async (store) => {
    await store.sidecar("s1", { messages: 2 });
    const name = "_run_journal/s1/big.jsonl";
    await store.writeRaw(
      name,
      runEvent("s1", "big", 1, "token", { text: "a" }) + "\n",
    );
    // 96 MiB of one line after it, sparse: nothing past the bound is read.
    const file = await Deno.open(store.path(name), { append: true });
    await file.truncate(96 << 20);
    file.close();
    const started = performance.now();
    const cli = await cliJson(store, ["audit", "--max-file-size", "4M"]);
    assert.ok(performance.now() - started < 30_000);
    assert.equal(cli.code, 0, show(cli));
    const [cut] = ofKind(cli.report, "run_journal_read_cut");
    assert.ok(cut, kindsOf(cli.report).join());
    assert.match(cut.message, /was read only to byte 4194304/);
    assert.equal(cut.evidence.cutAtByte, 4 << 20);
  });
});

// Written by this project: the server's own append_run_event writes the
// run journals of a healthy store's sessions (runs that completed).
const HEALTHY_RUNS = `
import os, sys
sys.path.insert(0, os.getcwd())
from pathlib import Path
from api import run_journal
sd = Path(sys.argv[1])
for sid in sys.argv[2].split(","):
    for rid in ("a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6", "0f0e0d0c0b0a09080706050403020100"):
        for name, payload in (("token", {"text": "hello"}), ("tool", {"name": "terminal", "preview": "ls"}),
                              ("tool_complete", {"name": "terminal"}), ("done", {}), ("stream_end", {})):
            run_journal.append_run_event(sid, rid, name, payload, session_dir=sd)
`;

Deno.test("a healthy store written by the server's own code, with its run journals, audits clean (exit 0)", async (t) => {
  const built = await upstreamStore("hermes-webui-df65251d5");
  if (typeof built === "string") {
    console.warn(built);
    await t.step({ name: built, ignore: true, fn: () => {} });
    return;
  }
  try {
    const out = await upstreamPython("hermes-webui-df65251d5", HEALTHY_RUNS, [
      built.sessionDir,
      "abc123,chat_7",
    ]);
    assert.equal(typeof out, "object");
    const r = await runCli([
      "audit",
      "--session-dir",
      built.sessionDir,
      "--state-db",
      built.stateDb,
      "--server-stopped",
      "--format",
      "json",
    ]);
    assert.equal(r.code, 0, show(r));
    const report = JSON.parse(r.stdout);
    const runKinds = report.findings.filter((f: { kind: string }) =>
      RUN_KINDS.includes(f.kind)
    );
    assert.deepEqual(runKinds, []);
    assert.ok(
      (await Array.fromAsync(
        Deno.readDir(join(built.sessionDir, "_run_journal", "abc123")),
      )).length === 2,
    );
    // The run-journal checks themselves ran on it, and found nothing.
    const only = await runCli([
      "audit",
      "--session-dir",
      built.sessionDir,
      "--state-db",
      built.stateDb,
      "--server-stopped",
      ...[
        "stale-stream-output",
        "stream-run-completed",
        "run-journal-lines",
        "run-journal-orphan",
        "run-journal-paths",
      ].flatMap((check) => ["--check", check]),
    ]);
    assert.equal(only.code, 0, show(only));
  } finally {
    await Deno.remove(built.root, { recursive: true });
  }
});

Deno.test("checked in parts, the run-journal findings are those of one pass over the whole store", async () => {
  await withStore(async (store) => {
    await streamingSidecar(store, "a_out", "r1");
    await writeRun(store, "a_out", "r1", [["token", { text: "partial" }]]);
    await writeRun(store, "b_gone", "r1", [["done"]]);
    await streamingSidecar(store, "c_done", "r2");
    await writeRun(store, "c_done", "r2", [["done"]], "torn");
    await store.sidecar("d_plain", { messages: 2 });
    await writeRun(store, "e_gone", "r3", [["done"]]);
    await store.writeRaw("_run_journal/f.x/r.jsonl", "{}\n");
    await store.sidecar("g_plain", { messages: 2 });
    const scan = {
      sessionDir: store.sessionDir,
      stateDbPath: null,
      hermesHome: store.hermesHome,
    };
    const checkOptions = { now: Date.now(), serverStopped: true };
    const whole = await auditStore({
      scan,
      checks: builtinChecks,
      checkOptions,
    });
    whole.store.stateDb.close();
    assert.deepEqual(
      whole.findings.map((f) => `${f.sessionId ?? "-"} ${f.kind}`),
      [
        "a_out stale_stream_unrecovered_output",
        "c_done stream_run_completed",
        "c_done run_journal_torn_line",
        "b_gone run_journal_orphan",
        "e_gone run_journal_orphan",
        "- run_journal_refused_path",
      ],
    );
    for (const partSessions of [1, 2]) {
      const parts = await auditStore({
        scan,
        checks: builtinChecks,
        checkOptions,
        partSessions,
      });
      parts.store.stateDb.close();
      assert.deepEqual(
        parts.findings,
        whole.findings,
        `parts of ${partSessions}`,
      );
    }
  });
});
