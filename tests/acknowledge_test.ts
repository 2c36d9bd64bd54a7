/**
 * `hermes-fsck acknowledge` (issue 23), run as a subprocess on real
 * stores: a store whose only problems were reviewed exits 0, in every
 * format (json carries the note and time, text marks them, webui-json is
 * what the server prints); editing a file the finding names raises it
 * again; `--list` and `--remove`; and `_hermes_fsck/acknowledged.json` is
 * untrusted input: a malformed, planted (symlink, FIFO, symlinked dir),
 * huge or wrongly shaped record acknowledges nothing, is a finding, and
 * is never written over, never a crash.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { runCli, storeArgs, type TestStore } from "./fixtures.ts";
import { withStore } from "./check_support.ts";
import { assertNoUncaught, show } from "./safety_support.ts";
import { validateReport } from "../core/report/report_schema.ts";
import type { Finding } from "../core/report/finding.ts";

const RECORD = "_hermes_fsck/acknowledged.json";

/** A store whose only problems are two unsafe findings. */
async function reviewedStore(store: TestStore): Promise<void> {
  await store.sidecar("alive", { messages: 2 });
  await store.backup("dead", { messages: 3 });
  await store.tombstone(["dead"]);
  await store.writeRaw("torn.json.bak", '{"session_id": "torn", "mess');
}

async function audit(store: TestStore, format = "json") {
  const r = await runCli([
    "audit",
    ...storeArgs(store, false),
    "--format",
    format,
  ]);
  assertNoUncaught(r);
  return r;
}

/** The ids of the unsafe findings: the tombstone's first. */
async function unsafeIds(store: TestStore): Promise<string[]> {
  const report = JSON.parse((await audit(store)).stdout);
  return report.findings.filter((f: Finding) =>
    f.category === "unsafe_to_repair"
  ).sort((a: Finding, b: Finding) =>
    Number(b.kind === "state_db_deleted_webui_tombstone") -
    Number(a.kind === "state_db_deleted_webui_tombstone")
  ).map((f: Finding) => f.id);
}

function ack(store: TestStore, ...args: string[]) {
  return runCli(["acknowledge", ...args, ...storeArgs(store, false)]);
}

Deno.test("acknowledge: a store whose only findings were reviewed exits 0 in every format; editing a named file brings bit 4 back", async () => {
  await withStore(async (store) => {
    await reviewedStore(store);
    const webuiBefore = (await audit(store, "webui-json")).stdout;
    assert.equal((await audit(store)).code, 4);
    const ids = await unsafeIds(store);
    assert.equal(ids.length, 2);
    const first = await ack(store, ids[0], "--note", "deleted on purpose");
    assert.equal(first.code, 0, show(first));
    assert.equal((await audit(store)).code, 4, "one finding is still open");
    const second = await ack(store, ids[1]);
    assert.equal(second.code, 0, show(second));

    const json = await audit(store);
    assert.equal(json.code, 0, show(json));
    const report = JSON.parse(json.stdout);
    assert.deepEqual(validateReport(report), []);
    assert.equal(report.exitCode, 0);
    const marked = new Map(
      report.findings.map((f: Finding) => [f.id, f.acknowledged]),
    );
    const firstAck = marked.get(ids[0]) as { note: string; at: string };
    assert.equal(firstAck.note, "deleted on purpose");
    assert.match(firstAck.at, /^\d{4}-\d\d-\d\dT/);
    assert.deepEqual(
      (marked.get(ids[1]) as { note: unknown }).note,
      null,
    );

    const text = await audit(store, "text");
    assert.equal(text.code, 0, show(text));
    assert.match(
      text.stdout,
      new RegExp(
        `\\[${ids[0]}; acknowledged \\S+: "deleted on purpose"\\]`,
      ),
    );
    assert.match(text.stdout, /2 of them acknowledged/);
    assert.match(text.stdout, /every problem left was acknowledged/);
    // The server's shape, as it would print it: acknowledging is ours.
    const webui = await audit(store, "webui-json");
    assert.equal(webui.code, 0, show(webui));
    assert.equal(webui.stdout, webuiBefore);

    // repair leaves them too, and exits 0.
    const repaired = await runCli(["repair", ...storeArgs(store, false)]);
    assert.equal(repaired.code, 0, show(repaired));

    // A named file changes: the finding is raised again.
    await store.backup("dead", { messages: 4 });
    const raised = await audit(store);
    assert.equal(raised.code, 4, show(raised));
    const again = JSON.parse(raised.stdout).findings.find((f: Finding) =>
      f.id === ids[0]
    );
    assert.equal(again.acknowledged, undefined);
    const list = await ack(store, "--list");
    assert.equal(list.code, 0, show(list));
    assert.match(
      list.stdout,
      new RegExp(`${ids[0]} .*raised again: dead\\.json\\.bak changed since`),
    );
    assert.match(list.stdout, /note: deleted on purpose/);
    assert.match(list.stdout, new RegExp(`${ids[1]} .* holds`));

    // Acknowledged again on the new bytes, then taken back.
    assert.equal((await ack(store, ids[0])).code, 0);
    assert.equal((await audit(store)).code, 0);
    const removed = await ack(store, "--remove", ids[1]);
    assert.equal(removed.code, 0, show(removed));
    assert.equal((await audit(store)).code, 4);
    const gone = await ack(store, "--remove", ids[1]);
    assert.equal(gone.code, 8, show(gone));
  });
});

Deno.test("acknowledge: only findings unsafe to repair; a usage error otherwise; an unknown id exits 8", async () => {
  await withStore(async (store) => {
    await store.backup("gone", { messages: 4 }); // orphan_backup: repairable
    const report = JSON.parse((await audit(store)).stdout);
    const repairable = report.findings[0];
    assert.equal(repairable.category, "repairable");
    const r = await ack(store, repairable.id);
    assert.equal(r.code, 16, show(r));
    assert.match(r.stderr, /'hermes-fsck repair' fixes it/);
    const unknown = await ack(store, "0123456789abcdef");
    assert.equal(unknown.code, 8, show(unknown));
    const malformed = await ack(store, "../../etc");
    assert.equal(malformed.code, 16, show(malformed));
    assert.equal(await store.exists(RECORD), false);
  });
});

/** Ways the store's owner may plant or break the record. */
const PLANTED: [string, (store: TestStore, valid: string) => Promise<void>][] =
  [
    ["not JSON", async (s) => await s.writeRaw(RECORD, '{"version": 1, "ack')],
    ["a JSON list", async (s) => await s.writeRaw(RECORD, "[]")],
    [
      "a wrong shape",
      async (s, valid) => {
        const value = JSON.parse(valid);
        value.acknowledged[0].files = "everything";
        await s.writeRaw(RECORD, JSON.stringify(value));
      },
    ],
    [
      "an unknown field",
      async (s, valid) => {
        const value = JSON.parse(valid);
        value.acknowledged[0].trusted = true;
        await s.writeRaw(RECORD, JSON.stringify(value));
      },
    ],
    [
      "huge",
      async (s, valid) => {
        const value = JSON.parse(valid);
        value.pad = "x".repeat(5 * 1024 * 1024);
        await s.writeRaw(RECORD, JSON.stringify(value));
      },
    ],
    [
      "a symlink to a valid record",
      async (s, valid) => {
        const elsewhere = join(s.root, "elsewhere.json");
        await Deno.writeTextFile(elsewhere, valid);
        await Deno.remove(s.path(RECORD));
        await Deno.symlink(elsewhere, s.path(RECORD));
      },
    ],
    [
      "a FIFO",
      async (s) => {
        await Deno.remove(s.path(RECORD));
        const made = await new Deno.Command("mkfifo", {
          args: [s.path(RECORD)],
        }).output();
        assert.ok(made.success, "mkfifo failed");
      },
    ],
    [
      "under a symlinked _hermes_fsck",
      async (s, valid) => {
        const elsewhere = join(s.root, "elsewhere");
        await Deno.mkdir(elsewhere);
        await Deno.writeTextFile(join(elsewhere, "acknowledged.json"), valid);
        await Deno.rename(s.path("_hermes_fsck"), join(s.root, "moved"));
        await Deno.symlink(elsewhere, s.path("_hermes_fsck"));
      },
    ],
  ];

for (const [name, plant] of PLANTED) {
  Deno.test(`acknowledge: a record that is ${name} acknowledges nothing, is a finding, is never written over, never a crash`, async () => {
    await withStore(async (store) => {
      await reviewedStore(store);
      const ids = await unsafeIds(store);
      for (const id of ids) assert.equal((await ack(store, id)).code, 0);
      assert.equal((await audit(store)).code, 0);
      const valid = await Deno.readTextFile(store.path(RECORD));
      await plant(store, valid);

      const r = await audit(store);
      assert.equal(r.code, 4, show(r));
      const report = JSON.parse(r.stdout);
      assert.deepEqual(validateReport(report), []);
      const invalid = report.findings.filter((f: Finding) =>
        f.kind === "acknowledged_invalid"
      );
      assert.equal(invalid.length, 1, show(r));
      assert.equal(invalid[0].category, "unsafe_to_repair");
      assert.match(invalid[0].message, /_hermes_fsck\/acknowledged\.json/);
      assert.ok(
        report.findings.every((f: Finding) => f.acknowledged === undefined),
        "a planted record acknowledged a finding",
      );
      const text = await audit(store, "text");
      assert.equal(text.code, 4, show(text));
      assert.match(text.stdout, /acknowledged_invalid/);

      const list = await ack(store, "--list");
      assertNoUncaught(list);
      assert.equal(list.code, 4, show(list));
      const before = await Deno.lstat(store.path(RECORD));
      const again = await ack(store, ids[0]);
      assertNoUncaught(again);
      assert.equal(again.code, 8, show(again));
      assert.match(again.stderr, /is not written over/);
      const after = await Deno.lstat(store.path(RECORD));
      assert.equal(after.ino, before.ino, "the record was written over");
    });
  });
}
