/**
 * Repair's rough edges a new user met (issue 24), as that user sees them:
 * the CLI as a subprocess with the binary's permissions on a real store.
 * A dry run lists what the real run then does, every pass of it; the
 * index rebuild never indexes a sidecar under an id that is not its file
 * name's (a finding no run can fix); and a report says "run repair again"
 * only when running it again can help.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import type { Report } from "../core/report/report.ts";
import { type CliResult, runCli, storeArgs, withStore } from "./fixtures.ts";
import { buildDamagedStore } from "./safety_support.ts";

function show(r: CliResult): string {
  return `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
}

/**
 * Each action of a repair run as `pass repair op path bytes`; an append's
 * size left out (the journal event it appends carries the time).
 */
function actionsOf(report: Report): string[] {
  return (report.repair?.actions ?? []).flatMap((record) =>
    record.actions.map((a) =>
      `${record.pass} ${record.repair} ${a.op} ${a.path}${
        a.op === "append" ? "" : ` ${a.bytes}`
      }`
    )
  );
}

Deno.test("repair edges: --dry-run lists every pass the real run then does, the _index.json it writes included", async () => {
  await withStore(async (store) => {
    await buildDamagedStore(store);
    const args = [
      "repair",
      ...storeArgs(store),
      "--server-stopped",
      "--format",
      "json",
    ];
    const dry = await runCli([...args, "--dry-run"]);
    assert.equal(dry.code, 4, show(dry));
    const text = await runCli([
      "repair",
      ...storeArgs(store),
      "--server-stopped",
      "--dry-run",
    ]);
    assert.equal(text.code, 4, show(text));
    const index = await Deno.readFile(store.path("_index.json"));
    const real = await runCli(args);
    assert.equal(real.code, 1, show(real));
    const planned = actionsOf(JSON.parse(dry.stdout));
    const done = actionsOf(JSON.parse(real.stdout));
    assert.ok(
      done.some((a) => /^2 rebuild_index write _index\.json \d+$/.test(a)),
      done.join("\n"),
    );
    assert.deepEqual(planned, done);
    // The text names the second pass and never sends a dry run to --dry-run.
    assert.match(
      text.stdout,
      /^ {2}Pass 2, planned on the store as pass 1 would leave it.*\n {2}planned rebuild_index: Rebuild _index\.json from 5 sidecars\.$/m,
    );
    assert.doesNotMatch(text.stdout, /add --dry-run/);
    assert.match(
      text.stdout,
      /^Next: run `hermes-fsck repair` without --dry-run to fix \d+ repairable problems as planned/m,
    );
    // The dry runs changed nothing.
    assert.notDeepEqual(await Deno.readFile(store.path("_index.json")), index);
  });
});

Deno.test("repair edges: a sidecar whose session_id is not its file name is never indexed under it, and no run says 'run repair again'", async () => {
  await withStore(async (store) => {
    await store.sidecar("ccc", { messages: 2 });
    await store.sidecar("bbb", { messages: 2, session_id: "zzz" });
    // The server's own rebuild listed it under its inner id.
    await store.index([{ session_id: "ccc" }, { session_id: "zzz" }]);
    const args = ["repair", ...storeArgs(store, false)];
    const first = await runCli(args);
    assert.equal(first.code, 5, show(first));
    assert.match(
      first.stdout,
      /Rebuild _index\.json from 1 sidecars \(left out, their session_id is not their file name's \(session_id_mismatch\): bbb\.json\)\./,
    );
    const index = JSON.parse(
      await Deno.readTextFile(store.path("_index.json")),
    );
    assert.deepEqual(index.map((e: { session_id: string }) => e.session_id), [
      "ccc",
    ]);
    assert.match(first.stdout, /^After: .*: 0 repairable, 1 unsafe to repair/m);
    assert.doesNotMatch(first.stdout, /index_missing|run repair again/);
    // Nothing is left for a second run but the one a person must decide
    // (and, as info, that the index cannot list the sidecar until then).
    const second = await runCli([...args, "--format", "json"]);
    assert.equal(second.code, 4, show(second));
    const report: Report = JSON.parse(second.stdout);
    assert.deepEqual(
      report.findings.map((f) => [f.kind, f.category]).sort(),
      [["index_left_out", "info"], ["session_id_mismatch", "unsafe_to_repair"]],
    );
    assert.deepEqual(report.repair?.actions, []);
  });
});

Deno.test("repair edges: a repairable finding the run declines is not met with 'run repair again'", async () => {
  await withStore(async (store) => {
    await store.sidecar("ccc", { messages: 2 });
    store.stateDb({
      sessions: [
        { id: "ccc", source: "webui" },
        { id: "fromdb", source: "webui" },
      ],
      messages: [
        { id: 1, session_id: "fromdb", role: "user", content: "hi" },
        { id: 2, session_id: "fromdb", role: "assistant", content: "x" },
      ],
    });
    // A message the agent stored as a BLOB: no text can be made of it.
    const db = new DatabaseSync(store.stateDbPath);
    db.prepare("UPDATE messages SET content = ? WHERE id = 2").run(
      new Uint8Array([1, 2, 3]),
    );
    db.close();
    for (let run = 1; run <= 2; run++) {
      const r = await runCli(["repair", ...storeArgs(store)]);
      assert.equal(r.code, 4, show(r));
      assert.match(r.stdout, /holds a message of fromdb as a BLOB/);
      assert.doesNotMatch(r.stdout, /run repair again/);
      assert.match(
        r.stdout,
        /^Next: 1 repairable problem was left as this run found it, and running repair again would not change that \(see the actions above\)\.$/m,
      );
    }
  });
});
