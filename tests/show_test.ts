/**
 * `hermes-fsck show ID`: a finding id or a session id shows every version
 * of the session side by side and the messages they differ in, with the
 * commands to act on it; JSON that follows core/review/show.schema.json; store
 * text cut and escaped; an id that names nothing is one clear line and
 * exit 8 (16 when it cannot be an id); nothing in the store changes.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { runCli, storeArgs, TestStore } from "./fixtures.ts";
import { treeBytes, treeDiff } from "./safety_support.ts";
import { runEvent } from "./run_journal_support.ts";
import {
  buildReviewStore,
  HOSTILE_TITLE,
  ONLY_IN_BAK,
  ONLY_IN_JOURNAL,
  REVIEW_KINDS,
} from "./review_support.ts";
import { validateShown } from "../core/review/show_schema.ts";
import type { Shown } from "../core/review/show.ts";
import { kindsOf } from "../core/run/run.ts";
import type { Report } from "../core/report/report.ts";

async function withReviewStore(
  fn: (store: TestStore, report: Report) => Promise<void>,
): Promise<void> {
  const store = await TestStore.create();
  try {
    await buildReviewStore(store);
    const audit = await runCli([
      "audit",
      ...storeArgs(store),
      "--format",
      "json",
    ]);
    assert.equal(audit.code, 4, audit.stderr);
    const before = await treeBytes(store.root);
    await fn(store, JSON.parse(audit.stdout) as Report);
    assert.deepEqual(
      treeDiff(before, await treeBytes(store.root)),
      [],
      "show must not change a byte of the store",
    );
  } finally {
    await store.cleanup();
  }
}

function showJson(store: TestStore, id: string): Promise<Shown> {
  return showJsonOf(store, id, true);
}

async function showJsonOf(
  store: TestStore,
  id: string,
  withStateDb: boolean,
): Promise<Shown> {
  const r = await runCli([
    "show",
    id,
    ...storeArgs(store, withStateDb),
    "--format",
    "json",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const shown = JSON.parse(r.stdout);
  assert.deepEqual(validateShown(shown), [], r.stdout.slice(0, 2000));
  return shown as Shown;
}

/**
 * `show` of a finding: its session's versions, a resolve command for
 * each resolution its kind declares, and the acknowledge command.
 */
async function assertShowsChoices(
  store: TestStore,
  finding: { id: string; kind: string; sessionId?: string },
  withStateDb: boolean,
): Promise<void> {
  const kind = finding.kind;
  const shown = await showJsonOf(store, finding.id, withStateDb);
  assert.equal(shown.matched, "finding");
  assert.equal(shown.finding?.id, finding.id);
  assert.equal(shown.session?.sessionId, finding.sessionId, kind);
  assert.ok(shown.session!.versions.length > 0, kind);
  const commands = shown.finding!.commands.map((c) => c.command);
  const dir = `--session-dir ${store.sessionDir} ${
    withStateDb ? `--state-db ${store.stateDbPath}` : "--no-state-db"
  }`;
  const resolutions = kindsOf().get(kind)?.resolutions ?? [];
  assert.ok(resolutions.length > 0, `${kind} declares no resolutions`);
  for (const r of resolutions) {
    assert.ok(
      commands.includes(
        `hermes-fsck resolve ${finding.id} --keep ${r.keep}${
          r.undeletes ? " --undelete" : ""
        } ${dir}`,
      ),
      `${kind}: no resolve --keep ${r.keep} in ${commands.join("\n")}`,
    );
  }
  assert.ok(
    commands.includes(`hermes-fsck acknowledge ${finding.id} ${dir}`),
    commands.join("\n"),
  );
}

Deno.test("show: a finding id of each unsafe kind with resolutions shows its session and the resolve and acknowledge commands", async () => {
  await withReviewStore(async (store, report) => {
    for (const kind of REVIEW_KINDS) {
      const finding = report.findings.find((f) => f.kind === kind);
      assert.ok(finding, `the store has no ${kind}`);
      await assertShowsChoices(store, finding, true);
    }
    // What each source shows for the deleted session and the stale temp.
    const gone = await showJson(
      store,
      report.findings.find((f) =>
        f.kind === "state_db_deleted_webui_tombstone"
      )!.id,
    );
    assert.equal(gone.session?.deleted, true);
    assert.deepEqual(gone.session?.versions.map((v) => v.source), ["bak"]);
    const temp = await showJson(
      store,
      report.findings.find((f) => f.kind === "stale_temp_needs_review")!.id,
    );
    assert.deepEqual(
      temp.session?.versions.map((v) => [v.label, v.status, v.messageCount]),
      [
        ["live", "ok", 2],
        ["temp keep1.tmp.12.34", "ok", 5],
        ["temp keep1.tmp.12.35", "unreadable", null],
        ["state-db", "ok", 2],
      ],
    );
    assert.match(
      temp.session!.versions[2].problem!,
      /keep1\.tmp\.12\.35 is not valid UTF-8/,
    );
  });
});

Deno.test("show: a session id shows live, .bak, state.db and journal side by side and the messages only some hold", async () => {
  await withReviewStore(async (store) => {
    const shown = await showJson(store, "abc");
    assert.equal(shown.matched, "session");
    const s = shown.session!;
    assert.deepEqual(
      s.versions.map((v) => [v.source, v.messageCount]),
      [["live", 2], ["bak", 4], ["state-db", 3], ["journal", 1]],
    );
    assert.ok(s.versions.every((v) => v.status === "ok"));
    assert.equal(s.versions[1].title, "Older title");
    assert.match(s.versions[0].sha256!, /^[0-9a-f]{64}$/);
    const entry = (text: string) =>
      s.diff.entries.find((e) => e.excerpt.startsWith(text.slice(0, 20)));
    assert.deepEqual(entry(ONLY_IN_BAK)?.counts, [0, 1, 0, null]);
    assert.equal(entry(ONLY_IN_BAK)?.role, "assistant");
    assert.deepEqual(entry(ONLY_IN_JOURNAL)?.counts, [0, 0, 0, 1]);
    assert.deepEqual(entry("message 2")?.counts, [0, 0, 1, null]);
    const huge = s.diff.entries.find((e) => e.excerpt.startsWith("HHHH"))!;
    assert.equal(huge.truncated, true);
    assert.ok(huge.excerpt.length <= 161, String(huge.excerpt.length));
    assert.equal(s.diff.shared, 2);
    assert.equal(s.turns[0].excerpt, ONLY_IN_JOURNAL);
    // Its findings, each with its commands.
    assert.deepEqual(
      shown.findings.map((f) => f.kind).sort(),
      [
        "shrunken_live",
        "sidecar_behind_state_db",
        "turn_journal_pending_unconfirmed",
      ],
    );
    const text = await runCli(["show", "abc", ...storeArgs(store)]);
    assert.equal(text.code, 0, text.stderr);
    for (
      const line of [
        "[1] live: 2 message(s)",
        '[2] bak: 4 message(s), title "Older title"',
        "[3] state-db: 3 message(s)",
        "[4] journal: 1 prompt(s)",
        `- + - .  assistant 2026-05-11T00:08:20.000Z: "${ONLY_IN_BAK}"`,
      ]
    ) {
      assert.ok(text.stdout.includes(line), `${line}\n---\n${text.stdout}`);
    }
  });
});

Deno.test("show: titles and messages from the store are escaped and bounded in text and JSON", async () => {
  await withReviewStore(async (store) => {
    const r = await runCli(["show", "abc", ...storeArgs(store)]);
    assert.equal(r.code, 0, r.stderr);
    // deno-lint-ignore no-control-regex -- what must not reach a terminal
    assert.doesNotMatch(r.stdout, /[\u0000-\u0009\u000b-\u001f\u007f\u202e]/);
    assert.ok(
      r.stdout.split("\n").every((line) => line.length < 1000),
      "a line of the text is not bounded",
    );
    assert.ok(r.stdout.length < 20_000, `${r.stdout.length} chars`);
    assert.ok(r.stdout.includes("\\u001b[2J\\u001b]0;pwned\\u0007\\u202eevil"));
    const shown = await showJson(store, "abc");
    assert.equal(
      shown.session!.versions[0].title,
      HOSTILE_TITLE.replace(
        // deno-lint-ignore no-control-regex -- the escaped characters
        /[\u0000-\u001f\u202e]/g,
        (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
      ),
    );
  });
});

Deno.test("show: an id that names nothing is exit 8 with one line naming it; one that cannot be an id is exit 16", async () => {
  await withReviewStore(async (store) => {
    const none = await runCli(["show", "nosuchsession", ...storeArgs(store)]);
    assert.equal(none.code, 8, none.stderr);
    assert.equal(none.stdout, "");
    assert.equal(none.stderr.trim().split("\n").length, 1, none.stderr);
    assert.match(
      none.stderr,
      /^hermes-fsck: show: no finding and no session nosuchsession in .*; 'hermes-fsck audit --format json' lists the finding ids .*\[exit 8\]$/m,
    );
    const hex = await runCli(["show", "0123456789abcdef", ...storeArgs(store)]);
    assert.equal(hex.code, 8, hex.stderr);
    const bad = await runCli(["show", "../etc/passwd", ...storeArgs(store)]);
    assert.equal(bad.code, 16, bad.stderr);
    assert.match(
      bad.stderr,
      /is neither a finding id \(16 hex digits\) nor a session id/,
    );
    const two = await runCli(["show", ...storeArgs(store)]);
    assert.equal(two.code, 16, two.stderr);
    const help = await runCli(["--help"]);
    assert.match(
      help.stdout,
      /show exits 0 when ID names a finding or session, 8 when it names nothing/,
    );
  });
});

Deno.test("show and the review page mark an acknowledged finding with its note, escaped, and a copied resolve command works", async () => {
  const store = await TestStore.create();
  const out = await Deno.makeTempDir({ prefix: "hermes-fsck-page-" });
  try {
    await buildReviewStore(store);
    const audit = await runCli([
      "audit",
      ...storeArgs(store),
      "--format",
      "json",
    ]);
    const report = JSON.parse(audit.stdout) as Report;
    const broken = report.findings.find((f) => f.kind === "malformed_live")!;
    const note = "<b>kept</b>\u001b[31m on purpose";
    const ack = await runCli([
      "acknowledge",
      broken.id,
      "--note",
      note,
      ...storeArgs(store),
    ]);
    assert.equal(ack.code, 0, ack.stderr);
    const text = await runCli(["show", broken.id, ...storeArgs(store)]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(
      text.stdout,
      /^ {2}Acknowledged \d{4}-\d\d-\d\dT[\d:.]+Z: "<b>kept<\/b>\\u001b\[31m on purpose"$/m,
    );
    assert.ok(!text.stdout.includes("\u001b"));
    assert.ok(
      text.stdout.includes(`hermes-fsck acknowledge --remove ${broken.id}`),
    );
    const shown = await showJson(store, broken.id);
    assert.equal(shown.finding?.acknowledged?.note, note);
    const page = join(out, "review.html");
    const r = await runCli(["review", "--html", page, ...storeArgs(store)]);
    assert.equal(r.code, 4, r.stderr);
    const html = await Deno.readTextFile(page);
    assert.ok(html.includes("[acknowledged] "));
    assert.ok(html.includes("&lt;b&gt;kept&lt;/b&gt;\\u001b[31m on purpose"));

    // The first resolve command show offers for the orphan, run as copied.
    const orphan = report.findings.find((f) =>
      f.kind === "orphan_backup_without_state_row"
    )!;
    const offered = (await showJson(store, orphan.id)).finding!.commands
      .find((c) => c.command.startsWith("hermes-fsck resolve "))!;
    const resolved = await runCli(offered.command.split(" ").slice(1));
    assert.ok([0, 1, 4, 5].includes(resolved.code), resolved.stderr);
    const after = await runCli([
      "audit",
      ...storeArgs(store),
      "--format",
      "json",
    ]);
    assert.ok(
      !(JSON.parse(after.stdout) as Report).findings.some((f) =>
        f.id === orphan.id
      ),
      `${offered.command}\n${resolved.stdout}${resolved.stderr}`,
    );
  } finally {
    await store.cleanup();
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("show never follows a link, never waits on a FIFO, and bounds a huge title", async () => {
  const store = await TestStore.create();
  try {
    await store.sidecar("s1", { messages: 2, title: "T".repeat(1 << 20) });
    const secret = `${store.root}/secret.json`;
    await Deno.writeTextFile(
      secret,
      JSON.stringify({ session_id: "s1", title: "TOPSECRET", messages: [] }),
    );
    await Deno.symlink(secret, store.path("s1.json.bak"));
    const fifo = store.path("s1.tmp.1.2");
    const made = await new Deno.Command("mkfifo", { args: [fifo] }).output();
    assert.ok(made.success);
    // The FIFO itself is left out: reading it here would wait for ever.
    const regular = () => treeBytes(store.sessionDir, { skip: ["s1.tmp.1.2"] });
    const before = await regular();
    const r = await runCli([
      "show",
      "s1",
      ...storeArgs(store, false),
      "--format",
      "json",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stdout.includes("TOPSECRET"));
    const shown = JSON.parse(r.stdout) as Shown;
    assert.deepEqual(validateShown(shown), []);
    const by = (label: string) =>
      shown.session!.versions.find((v) => v.label === label)!;
    assert.equal(by("bak").status, "unreadable");
    assert.match(
      by("bak").problem!,
      /symbolic link, which hermes-fsck does not follow/,
    );
    assert.match(by("temp s1.tmp.1.2").problem!, /FIFO, not a regular file/);
    assert.equal(by("live").title!.length, 121);
    assert.ok(r.stdout.length < 20_000, `${r.stdout.length}`);
    assert.deepEqual(treeDiff(before, await regular()), []);
    assert.ok((await Deno.lstat(fifo)).isFifo);
  } finally {
    await store.cleanup();
  }
});

Deno.test("show: a crashed turn's run journal is listed with what it streamed, escaped, in text, JSON and the review page", async () => {
  const store = await TestStore.create();
  try {
    await store.sidecar("crashed", {
      messages: 2,
      active_stream_id: "run1",
      pending_user_message: "and then?",
      pending_started_at: 1778458000,
    });
    const lines = [
      runEvent("crashed", "run1", 1, "token", {
        text: "The answer <b>is</b> ",
      }),
      runEvent("crashed", "run1", 2, "token", { text: "forty-two" }),
      runEvent("crashed", "run1", 3, "tool", {
        name: "terminal",
        preview: "ls",
      }),
    ];
    await Deno.mkdir(store.path("_run_journal/crashed"), { recursive: true });
    await Deno.writeTextFile(
      store.path("_run_journal/crashed/run1.jsonl"),
      lines.join("\n") + "\n",
    );
    // A link where a run journal belongs is never followed.
    await Deno.symlink(
      "/etc/passwd",
      store.path("_run_journal/crashed/evil.jsonl"),
    );
    const before = await treeBytes(store.root);
    const shown = await showJsonOf(store, "crashed", false);
    assert.deepEqual(shown.session!.runJournals, [{
      file: "_run_journal/crashed/run1.jsonl",
      streamId: "run1",
      ended: null,
      textEvents: 2,
      toolCards: 1,
      reasoningEvents: 0,
      excerpt: "The answer <b>is</b> forty-two",
      tools: ["terminal"],
      problem: null,
    }]);
    const text = await runCli(["show", "crashed", ...storeArgs(store, false)]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(
      text.stdout,
      /_run_journal\/crashed\/run1\.jsonl: never ended, 2 text, 1 tool cards \(terminal\), 0 reasoning\n {4}"The answer <b>is<\/b> forty-two"/,
    );
    const page = await runCli([
      "audit",
      ...storeArgs(store, false),
      "--format",
      "html",
    ]);
    assert.ok(
      page.stdout.includes("The answer &lt;b&gt;is&lt;/b&gt; forty-two"),
      "the page shows the run's text, escaped",
    );
    assert.ok(!page.stdout.includes("root:"), "the link is not followed");
    assert.deepEqual(treeDiff(before, await treeBytes(store.root)), []);
  } finally {
    await store.cleanup();
  }
});

Deno.test("show: a malformed orphan backup and an orphan backup beside an unreadable state.db show their choices", async () => {
  const store = await TestStore.create();
  try {
    await store.writeRaw("torn.json.bak", '{"session_id": "torn", "messa');
    await store.backup("orphan2", { messages: 3 });
    await Deno.mkdir(store.path("../hermes"), { recursive: true });
    await Deno.writeTextFile(store.stateDbPath, "this is not a database");
    const audit = await runCli([
      "audit",
      ...storeArgs(store),
      "--format",
      "json",
    ]);
    const report = JSON.parse(audit.stdout) as Report;
    for (
      const kind of [
        "malformed_orphan_backup",
        "orphan_backup_state_db_unreadable",
      ]
    ) {
      const finding = report.findings.find((f) => f.kind === kind);
      assert.ok(finding, `no ${kind}: ${audit.stdout.slice(0, 2000)}`);
      await assertShowsChoices(store, finding, true);
    }
  } finally {
    await store.cleanup();
  }
});
