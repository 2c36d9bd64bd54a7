/**
 * A written file is never more readable than the most private file its
 * bytes came from (issue 19, item 13): each case is a repair by the CLI,
 * and the mode of the file it wrote.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  makeMessages,
  makeSidecar,
  runCli,
  type TestStore,
} from "./fixtures.ts";
import { makeOld, STALE_AGE_MS, withStore } from "./check_support.ts";
import { show } from "./safety_support.ts";

async function modeOf(store: TestStore, name: string): Promise<string> {
  return ((((await Deno.lstat(store.path(name))).mode ?? 0) & 0o777)
    .toString(8));
}

/** Runs `repair` on the store, with its state.db when it has one. */
async function repair(store: TestStore, withStateDb: boolean): Promise<void> {
  const r = await runCli([
    "repair",
    "--session-dir",
    store.sessionDir,
    ...(withStateDb ? ["--state-db", store.stateDbPath] : ["--no-state-db"]),
  ]);
  assert.equal(r.code, 1, show(r));
}

Deno.test("modes: a 0600 backup restored over a 0644 live file gives 0600", async () => {
  await withStore(async (store) => {
    await store.sidecar("s", { messages: makeMessages(3, "live") });
    await store.backup("s", { messages: makeMessages(8, "bak") });
    await Deno.chmod(store.path("s.json"), 0o644);
    await Deno.chmod(store.path("s.json.bak"), 0o600);
    await repair(store, false);
    assert.match(await Deno.readTextFile(store.path("s.json")), /bak 7/);
    assert.equal(await modeOf(store, "s.json"), "600");
  });
});

Deno.test("modes: a sidecar built from a 0600 state.db gets 0600", async () => {
  await withStore(async (store) => {
    await Deno.chmod(store.sessionDir, 0o755); // new files: 0644
    store.stateDb({
      sessions: [{
        id: "fromdb",
        source: "webui",
        title: "From DB",
        started_at: 1778450000,
      }],
      messages: [
        {
          id: 1,
          session_id: "fromdb",
          role: "user",
          content: "q",
          timestamp: 1778450001,
        },
        {
          id: 2,
          session_id: "fromdb",
          role: "assistant",
          content: "a",
          timestamp: 1778450002,
        },
      ],
    });
    await Deno.chmod(store.stateDbPath, 0o600);
    await repair(store, true);
    assert.equal(await modeOf(store, "fromdb.json"), "600");
  });
});

Deno.test("modes: a 0600 temp promoted over a 0644 live file keeps 0600", async () => {
  await withStore(async (store) => {
    await store.sidecar("abc", { messages: 2 });
    await Deno.chmod(store.path("abc.json"), 0o644);
    const temp = "abc.tmp.100.200";
    await store.writeRaw(
      temp,
      JSON.stringify(makeSidecar("abc", { messages: 3 }), null, 2),
    );
    await Deno.chmod(store.path(temp), 0o600);
    await makeOld(store, temp, STALE_AGE_MS);
    await repair(store, false);
    assert.equal(await store.exists(temp), false, "promoted");
    assert.equal(await modeOf(store, "abc.json"), "600");
  });
});
