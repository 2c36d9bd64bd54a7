/**
 * Turn-journal shards: today's server (since v0.51.255) writes one journal
 * file a process, `_turn_journal/<sid>~<pid>.jsonl`, beside the legacy
 * `<sid>.jsonl`. A healthy store with shards must audit clean, never
 * `invalid_session_id`.
 */

import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { cliJson, serverIndex, withStore } from "./check_support.ts";
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
      `skipped: needs python3 and ${TODAY} (../shared/upstream beside the project)`,
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
