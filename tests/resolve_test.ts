/**
 * `hermes-fsck resolve ID --keep SOURCE` (issue 23), run as a subprocess
 * on real stores: each unsafe kind that declares resolutions is resolved
 * and then undone, which gives back every byte; `--dry-run` changes
 * nothing; a choice the kind does not offer is a usage error; a deleted
 * session comes back only with `--undelete`, which takes it out of the
 * tombstone as the server's save does; and a sidecar the server saves
 * between plan and apply (a second process, tests/interleave_cli.ts) is
 * kept, never overwritten.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  makeMessages,
  makeSidecar,
  runCli,
  storeArgs,
  type TestStore,
} from "./fixtures.ts";
import { makeOld, STALE_AGE_MS, withStore } from "./check_support.ts";
import {
  assertNoUncaught,
  show,
  treeBytes,
  treeDiff,
} from "./safety_support.ts";
import type { Finding } from "../core/report/finding.ts";

const INTERLEAVE_CLI = new URL("./interleave_cli.ts", import.meta.url)
  .pathname;

/** The findings of an audit of the store, by kind. */
async function findings(
  store: TestStore,
  withStateDb: boolean,
): Promise<Map<string, Finding>> {
  const r = await runCli([
    "audit",
    ...storeArgs(store, withStateDb),
    "--format",
    "json",
  ]);
  const report = JSON.parse(r.stdout);
  return new Map(report.findings.map((f: Finding) => [f.kind, f]));
}

function messageRows(id: string, count: number) {
  return makeMessages(count, id).map((m, i) => ({
    id: i + 1,
    session_id: id,
    role: String(m.role),
    content: String(m.content),
    timestamp: 1778458000 + i,
  }));
}

/**
 * Resolves the finding of `kind` with `keep`, checks the run's output,
 * then undoes the run: the store (the tool's own dir aside) is byte for
 * byte as before.
 */
async function resolveThenUndo(
  store: TestStore,
  kind: string,
  keep: string,
  options: { withStateDb?: boolean; extra?: string[] } = {},
  check: (store: TestStore) => Promise<void> = async () => {},
): Promise<void> {
  const withStateDb = options.withStateDb ?? false;
  const finding = (await findings(store, withStateDb)).get(kind);
  assert.ok(finding, `no ${kind} finding`);
  const before = await treeBytes(store.sessionDir, { storeOnly: true });
  const args = storeArgs(store, withStateDb);

  const dry = await runCli([
    "resolve",
    finding.id,
    "--keep",
    keep,
    "--dry-run",
    ...(options.extra ?? []),
    ...args,
  ]);
  assert.equal(dry.code, 0, show(dry));
  assert.match(dry.stdout, /Plan \(dry run: nothing was changed\)/);
  assert.deepEqual(
    treeDiff(before, await treeBytes(store.sessionDir, { storeOnly: true })),
    [],
    "--dry-run changed the store",
  );

  const done = await runCli([
    "resolve",
    finding.id,
    "--keep",
    keep,
    ...(options.extra ?? []),
    ...args,
  ]);
  assertNoUncaught(done);
  assert.equal(done.code, 1, `${kind} --keep ${keep}: ${show(done)}`);
  const runId = /Run (\S+): replaced files are kept/.exec(done.stdout)?.[1];
  assert.ok(runId, `no run id printed:\n${done.stdout}`);
  await check(store);
  assert.notDeepEqual(
    treeDiff(before, await treeBytes(store.sessionDir, { storeOnly: true })),
    [],
    "the resolve changed nothing",
  );

  const undo = await runCli([
    "undo",
    runId,
    "--session-dir",
    store.sessionDir,
  ]);
  assert.equal(undo.code, 1, show(undo));
  assert.deepEqual(
    treeDiff(before, await treeBytes(store.sessionDir, { storeOnly: true })),
    [],
    `undo of ${kind} --keep ${keep} did not give back every byte`,
  );
}

async function text(store: TestStore, name: string): Promise<string> {
  return await Deno.readTextFile(store.path(name));
}

Deno.test("resolve: explain lists a kind's resolutions; checks --format json carries them", async () => {
  const r = await runCli(["explain", "orphan_backup_without_state_row"]);
  assert.equal(r.code, 0, show(r));
  assert.match(
    r.stdout,
    /Resolutions \('hermes-fsck resolve ID --keep SOURCE'/,
  );
  assert.match(r.stdout, /^ {2}bak {6}Recreate <sid>\.json from the \.bak/m);
  assert.match(r.stdout, /^ {2}discard {2}Move the \.bak into/m);
  const tomb = await runCli(["explain", "state_db_deleted_webui_tombstone"]);
  assert.match(tomb.stdout, /^ {2}bak .*\(needs --undelete\)\.$/m);
  const checks = JSON.parse(
    (await runCli(["checks", "--format", "json"])).stdout,
  );
  const kind = checks.checks.flatMap((c: { kinds: unknown[] }) => c.kinds)
    .find((k: { kind: string }) => k.kind === "stale_temp_needs_review");
  assert.deepEqual(
    kind.resolutions.map((r: { keep: string }) => r.keep),
    ["temp", "discard"],
  );
});

Deno.test("resolve then undo gives back every byte: orphan backups (bak, discard), malformed orphan backup (discard)", async () => {
  await withStore(async (store) => {
    await store.sidecar("other", { messages: 2 });
    await store.backup("gone", { messages: 5 });
    // state.db readable and without the row: most likely deleted.
    store.stateDb({
      sessions: [{ id: "other", source: "webui" }],
      messages: messageRows("other", 2),
    });
    await resolveThenUndo(
      store,
      "orphan_backup_without_state_row",
      "bak",
      { withStateDb: true },
      async (s) => {
        assert.equal(
          await text(s, "gone.json"),
          await text(s, "gone.json.bak"),
        );
      },
    );
    await resolveThenUndo(
      store,
      "orphan_backup_without_state_row",
      "discard",
      { withStateDb: true },
      async (s) => assert.equal(await s.exists("gone.json.bak"), false),
    );
  });
  await withStore(async (store) => {
    await store.writeRaw("torn.json.bak", '{"session_id": "torn", "mess');
    await resolveThenUndo(
      store,
      "malformed_orphan_backup",
      "discard",
      {},
      async (s) => assert.equal(await s.exists("torn.json.bak"), false),
    );
  });
});

Deno.test("resolve then undo gives back every byte: shrunken live (live, bak), stale temp needing review (temp, discard)", async () => {
  await withStore(async (store) => {
    await store.sidecar("abc", { messages: 2 });
    await store.backup("abc", { messages: 9 });
    await resolveThenUndo(
      store,
      "shrunken_live",
      "live",
      {},
      async (s) => {
        assert.equal(await s.exists("abc.json.bak"), false);
        assert.equal(JSON.parse(await text(s, "abc.json")).messages.length, 2);
      },
    );
    await resolveThenUndo(store, "shrunken_live", "bak", {}, async (s) => {
      assert.equal(await text(s, "abc.json"), await text(s, "abc.json.bak"));
    });
  });
  await withStore(async (store) => {
    // The live file was saved after the temp: never promoted by repair.
    await store.sidecar("older", { messages: 1, updated_at: 1778460000 });
    const temp = JSON.stringify(
      makeSidecar("older", { messages: 6, updated_at: 1778459000 }),
      null,
      2,
    );
    await store.writeRaw("older.tmp.1.2", temp);
    await makeOld(store, "older.tmp.1.2", STALE_AGE_MS);
    await resolveThenUndo(
      store,
      "stale_temp_needs_review",
      "temp",
      {},
      async (s) => {
        assert.equal(await text(s, "older.json"), temp);
        assert.equal(await s.exists("older.tmp.1.2"), false);
      },
    );
    // Undo writes the temp anew: it is young again until aged.
    await makeOld(store, "older.tmp.1.2", STALE_AGE_MS);
    await resolveThenUndo(
      store,
      "stale_temp_needs_review",
      "discard",
      {},
      async (s) => assert.equal(await s.exists("older.tmp.1.2"), false),
    );
  });
});

Deno.test("resolve then undo gives back every byte: state.db kept for a malformed live file and a sidecar behind state.db", async () => {
  await withStore(async (store) => {
    await store.writeRaw("broken.json", '{"session_id": "broken", "messa');
    await store.sidecar("behind", { messages: 2 });
    store.stateDb({
      sessions: [
        { id: "broken", source: "webui", title: "Broken" },
        { id: "behind", source: "webui", title: "Behind" },
      ],
      messages: [...messageRows("broken", 3), ...messageRows("behind", 5)],
    });
    await resolveThenUndo(
      store,
      "malformed_live",
      "state-db",
      { withStateDb: true },
      async (s) => {
        const rebuilt = JSON.parse(await text(s, "broken.json"));
        assert.equal(rebuilt.messages.length, 3);
        assert.equal(rebuilt._recovered_from_state_db, true);
      },
    );
    await resolveThenUndo(
      store,
      "sidecar_behind_state_db",
      "state-db",
      { withStateDb: true },
      async (s) => {
        assert.equal(
          JSON.parse(await text(s, "behind.json")).messages.length,
          5,
        );
      },
    );
  });
});

Deno.test("resolve: a choice the kind does not offer is a usage error naming the ones it does; nothing changes", async () => {
  await withStore(async (store) => {
    await store.backup("gone", { messages: 5 });
    store.stateDb({ sessions: [{ id: "other", source: "webui" }] });
    const finding = (await findings(store, true)).get(
      "orphan_backup_without_state_row",
    )!;
    const before = await treeBytes(store.sessionDir);
    for (const keep of ["temp", "state-db"]) {
      const r = await runCli([
        "resolve",
        finding.id,
        "--keep",
        keep,
        ...storeArgs(store),
      ]);
      assert.equal(r.code, 16, show(r));
      assert.match(
        r.stderr,
        new RegExp(`does not offer --keep ${keep}; it offers bak, discard`),
      );
    }
    const bad = await runCli([
      "resolve",
      finding.id,
      "--keep",
      "newest",
      ...storeArgs(store),
    ]);
    assert.equal(bad.code, 16, show(bad));
    assert.match(
      bad.stderr,
      /--keep must be one of live, bak, temp, state-db, discard/,
    );
    const none = await runCli(["resolve", finding.id, ...storeArgs(store)]);
    assert.equal(none.code, 16, show(none));
    const unknown = await runCli([
      "resolve",
      "0123456789abcdef",
      "--keep",
      "bak",
      ...storeArgs(store),
    ]);
    assert.equal(unknown.code, 8, show(unknown));
    assert.match(unknown.stderr, /no finding has id "0123456789abcdef"/);
    assert.deepEqual(treeDiff(before, await treeBytes(store.sessionDir)), []);
  });
});

Deno.test("resolve: a tombstoned session is refused without --undelete; with it, the tombstone entry goes as the server's save takes it out", async () => {
  await withStore(async (store) => {
    await store.sidecar("alive", { messages: 1 });
    await store.backup("dead", { messages: 3 });
    await store.tombstone(["zeta", "dead", "alpha"]);
    const finding = (await findings(store, false)).get(
      "state_db_deleted_webui_tombstone",
    )!;
    const before = await treeBytes(store.sessionDir);
    const args = storeArgs(store, false);
    const refused = await runCli([
      "resolve",
      finding.id,
      "--keep",
      "bak",
      ...args,
    ]);
    assert.equal(refused.code, 16, show(refused));
    assert.match(refused.stderr, /session dead was deleted by its user/);
    assert.match(refused.stderr, /pass --undelete/);
    assert.deepEqual(treeDiff(before, await treeBytes(store.sessionDir)), []);
    // --undelete where nothing is undeleted is refused too.
    const odd = await runCli([
      "resolve",
      finding.id,
      "--keep",
      "discard",
      "--undelete",
      ...args,
    ]);
    assert.equal(odd.code, 16, show(odd));
    assert.match(odd.stderr, /brings back no deleted session/);

    const done = await runCli([
      "resolve",
      finding.id,
      "--keep",
      "bak",
      "--undelete",
      ...args,
    ]);
    assert.equal(done.code, 1, show(done));
    assert.equal(
      await text(store, "dead.json"),
      await text(store, "dead.json.bak"),
    );
    // As the server's _save_webui_deleted_session_tombstone writes it.
    assert.equal(
      await text(store, "_deleted_webui_sessions.json"),
      JSON.stringify({ version: 1, ids: ["alpha", "zeta"] }, null, 2),
    );
    const after = await findings(store, false);
    assert.equal(after.has("state_db_deleted_webui_tombstone"), false);
    const runId = /Run (\S+):/.exec(done.stdout)![1];
    const undo = await runCli([
      "undo",
      runId,
      "--session-dir",
      store.sessionDir,
    ]);
    assert.equal(undo.code, 1, show(undo));
    assert.deepEqual(
      treeDiff(before, await treeBytes(store.sessionDir, { storeOnly: true })),
      [],
    );
  });
  await withStore(async (store) => {
    // The last id: the server removes the file.
    await store.backup("dead", { messages: 3 });
    await store.tombstone(["dead"]);
    await resolveThenUndo(
      store,
      "state_db_deleted_webui_tombstone",
      "bak",
      { extra: ["--undelete"] },
      async (s) => {
        assert.equal(await s.exists("_deleted_webui_sessions.json"), false);
        assert.equal(await s.exists("dead.json"), true);
      },
    );
    await resolveThenUndo(
      store,
      "state_db_deleted_webui_tombstone",
      "discard",
      {},
      async (s) => {
        assert.equal(await s.exists("dead.json.bak"), false);
        assert.equal(await s.exists("_deleted_webui_sessions.json"), true);
      },
    );
  });
});

Deno.test("resolve: a stale temp of a deleted session is promoted only with --undelete", async () => {
  await withStore(async (store) => {
    await store.tombstone(["dead"]);
    await store.writeRaw(
      "dead.tmp.1.2",
      JSON.stringify(makeSidecar("dead", { messages: 4 }), null, 2),
    );
    await makeOld(store, "dead.tmp.1.2", STALE_AGE_MS);
    const finding = (await findings(store, false)).get(
      "stale_temp_needs_review",
    )!;
    const args = storeArgs(store, false);
    const refused = await runCli([
      "resolve",
      finding.id,
      "--keep",
      "temp",
      ...args,
    ]);
    assert.equal(refused.code, 16, show(refused));
    assert.equal(await store.exists("dead.json"), false);
    const done = await runCli([
      "resolve",
      finding.id,
      "--keep",
      "temp",
      "--undelete",
      ...args,
    ]);
    assert.equal(done.code, 1, show(done));
    assert.equal(await store.exists("dead.json"), true);
    assert.equal(await store.exists("_deleted_webui_sessions.json"), false);
  });
});

Deno.test("resolve: a sidecar the server saves between plan and apply is kept, never overwritten; the resolve says so and exits 4", async () => {
  await withStore(async (store) => {
    await store.sidecar("abc", { messages: 2 });
    await store.backup("abc", { messages: 9 });
    const finding = (await findings(store, false)).get("shrunken_live")!;
    const save = JSON.stringify(makeSidecar("abc", { messages: 3 }), null, 2);
    const savePath = join(store.root, "server-save.json");
    await Deno.writeTextFile(savePath, save);
    // The server's save: a temp in the session dir, renamed into place.
    const temp = store.path("abc.tmp.999.1");
    const r = await runCli(
      ["resolve", finding.id, "--keep", "bak", ...storeArgs(store, false)],
      {
        entry: INTERLEAVE_CLI,
        env: {
          HERMES_FSCK_TEST_INTERLEAVE: JSON.stringify([
            "sh",
            "-c",
            `cp "$0" "$1" && mv "$1" "$2"`,
            savePath,
            temp,
            store.path("abc.json"),
          ]),
        },
      },
    );
    assertNoUncaught(r);
    assert.equal(r.code, 4, show(r));
    assert.match(r.stdout, /skipped/);
    assert.match(r.stdout, /changed after it was checked/);
    assert.equal(
      await text(store, "abc.json"),
      save,
      "the server's save was overwritten",
    );
    // Nothing of the run holds the save: it was never moved aside.
    const runs = join(store.sessionDir, "_hermes_fsck", "runs");
    const exists = await Deno.lstat(runs).then(() => true, () => false);
    for await (const run of exists ? Deno.readDir(runs) : []) {
      for await (const kept of Deno.readDir(join(runs, run.name, "files"))) {
        assert.notEqual(
          await Deno.readTextFile(join(runs, run.name, "files", kept.name)),
          save,
        );
      }
    }
  });
});

Deno.test("resolve: a deleted session with only state.db rows comes back from them with --undelete; discard has nothing to set aside", async () => {
  await withStore(async (store) => {
    await store.tombstone(["dead"]);
    store.stateDb({
      sessions: [{ id: "dead", source: "webui", title: "Dead" }],
      messages: messageRows("dead", 3),
    });
    const finding = (await findings(store, true)).get(
      "state_db_deleted_webui_tombstone",
    )!;
    const args = storeArgs(store);
    const nothing = await runCli([
      "resolve",
      finding.id,
      "--keep",
      "discard",
      ...args,
    ]);
    assert.equal(nothing.code, 4, show(nothing));
    assert.match(nothing.stdout, /names no file of the session to discard/);
    await resolveThenUndo(
      store,
      "state_db_deleted_webui_tombstone",
      "state-db",
      { withStateDb: true, extra: ["--undelete"] },
      async (s) => {
        const rebuilt = JSON.parse(await text(s, "dead.json"));
        assert.equal(rebuilt.messages.length, 3);
        assert.equal(await s.exists("_deleted_webui_sessions.json"), false);
      },
    );
  });
});
