/**
 * The writer's group commit (docs/safety.md, "Group commit"): actions of a
 * group are each checked against their own plan right before their own
 * change, so one file the server saved meanwhile is skipped while the
 * others are applied; every action ends on record, and undo gives back the
 * original bytes.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { Action } from "../core/plugins/action.ts";
import { readRun } from "../core/io/run_records.ts";
import { expectationOf, newRunId, StoreWriter } from "../core/io/safety.ts";
import { undoRun } from "../core/io/undo.ts";

const encoder = new TextEncoder();

async function planWrite(
  dir: string,
  name: string,
  text: string,
): Promise<Action> {
  const now = await expectationOf(join(dir, name), 1 << 20);
  if ("problem" in now) throw new Error(now.problem);
  return {
    op: "write",
    path: name,
    data: encoder.encode(text),
    expect: now.expect,
    note: `write ${name}`,
  };
}

Deno.test("group commit: a file saved after planning is skipped alone, the rest applied, all on record, undo exact", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hermes-fsck-group-" });
  try {
    const names = ["a.json", "b.json", "c.json"];
    for (const name of names) {
      await Deno.writeTextFile(join(dir, name), `{"old": "${name}"}`);
    }
    const actions = [
      ...await Promise.all(names.map((n) => planWrite(dir, n, `{"new":1}`))),
      await planWrite(dir, "d.json", `{"created":1}`),
    ];
    // The server saves b.json between planning and applying.
    const saved = join(dir, "b.json.tmp");
    await Deno.writeTextFile(saved, `{"server": "save"}`);
    await Deno.rename(saved, join(dir, "b.json"));

    const writer = await StoreWriter.open(dir, newRunId());
    const outcomes = await writer.applyBatch(actions);
    await writer.close();

    assert.deepEqual(outcomes.map((o) => o.status), [
      "applied",
      "skipped",
      "applied",
      "applied",
    ]);
    assert.equal(outcomes[1].reason, "store_changed");
    assert.equal(await Deno.readTextFile(join(dir, "a.json")), `{"new":1}`);
    assert.equal(
      await Deno.readTextFile(join(dir, "b.json")),
      `{"server": "save"}`,
    );
    assert.equal(await Deno.readTextFile(join(dir, "d.json")), `{"created":1}`);
    const leftovers = [...Deno.readDirSync(dir)].map((e) => e.name)
      .filter((name) => name.includes(".hermes-fsck.tmp."));
    assert.deepEqual(leftovers, []);

    const read = await readRun(dir, writer.runId);
    assert.ok(read?.ok, JSON.stringify(read));
    assert.deepEqual(
      read.run.entries.map((e) => [e.seq, e.path, e.status]),
      [
        [1, "a.json", "applied"],
        [2, "b.json", "skipped"],
        [3, "c.json", "applied"],
        [4, "d.json", "applied"],
      ],
    );
    assert.equal(read.run.entries[1].quarantined, undefined);

    const undo = await undoRun(dir, writer.runId);
    assert.deepEqual(undo.restored.map((i) => i.path).sort(), [
      "a.json",
      "c.json",
      "d.json",
    ]);
    assert.equal(
      await Deno.readTextFile(join(dir, "a.json")),
      `{"old": "a.json"}`,
    );
    assert.equal(
      await Deno.readTextFile(join(dir, "c.json")),
      `{"old": "c.json"}`,
    );
    assert.equal(
      await Deno.readTextFile(join(dir, "b.json")),
      `{"server": "save"}`,
    );
    assert.ok(!(await Deno.lstat(join(dir, "d.json")).catch(() => null)));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("group commit: a second action on a path already in the group waits for the first", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hermes-fsck-group-" });
  try {
    await Deno.writeTextFile(join(dir, "a.json"), "{}");
    const first = await planWrite(dir, "a.json", `{"n":1}`);
    // Planned on the file as it was, not as the first action leaves it.
    const second = await planWrite(dir, "a.json", `{"n":2}`);
    const writer = await StoreWriter.open(dir, newRunId());
    const [one, two] = await writer.applyBatch([first, second]);
    await writer.close();
    assert.equal(one.status, "applied");
    // Checked after the first was applied: the file is no longer the one
    // it was planned on.
    assert.equal(two.status, "skipped");
    assert.equal(two.reason, "store_changed");
    assert.equal(await Deno.readTextFile(join(dir, "a.json")), `{"n":1}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("group commit: a group whose run header cannot be written changes nothing and names no run; the next group writes the header first and can be undone", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hermes-fsck-header-" });
  try {
    await Deno.writeTextFile(join(dir, "a.json"), `{"old": "a"}`);
    await Deno.writeTextFile(join(dir, "b.json"), `{"old": "b"}`);
    const writer = await StoreWriter.open(dir, newRunId());
    // Where the header's temp goes, a dir: the header cannot be written,
    // as when the run dir is swapped for a link the owner cannot write.
    const runDir = join(dir, writer.runDir);
    const blocker = join(runDir, `run.json.tmp.${Deno.pid}`);
    await Deno.mkdir(join(blocker, "x"), { recursive: true });
    const first = await writer.applyBatch([
      await planWrite(dir, "a.json", `{"new":1}`),
    ]);
    assert.notEqual(first[0].status, "applied");
    assert.equal(await Deno.readTextFile(join(dir, "a.json")), `{"old": "a"}`);
    assert.equal(writer.hasRunDir, false);

    await Deno.remove(blocker, { recursive: true });
    const second = await writer.applyBatch([
      await planWrite(dir, "b.json", `{"new":2}`),
    ]);
    await writer.close();
    assert.equal(second[0].status, "applied");
    assert.equal(writer.hasRunDir, true);
    const undo = await undoRun(dir, writer.runId);
    assert.deepEqual(undo.restored.map((i) => i.path), ["b.json"]);
    assert.equal(await Deno.readTextFile(join(dir, "b.json")), `{"old": "b"}`);
    assert.equal(await Deno.readTextFile(join(dir, "a.json")), `{"old": "a"}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
