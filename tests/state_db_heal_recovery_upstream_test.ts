/**
 * Issue 21's last case, on the server's own code: a turn died while state.db
 * was ahead of the sidecar, and the run journal holds text state.db lacks.
 * The server's own recovery heals from state.db and drops that text;
 * `repair --server-stopped` must give the user the same healed rows (what
 * the server's merge makes of state.db's rows, in `messages` and
 * `context_messages`) plus the journal's text state.db lacks, once, and
 * lose no output by the counter of tests/run_crash_support.ts. Skips with
 * a message when upstream or python3 is absent.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  buildCrashStore,
  type CrashScenario,
  type CrashStore,
  repairThenServerLoad,
  serverRecovery,
  type ServerView,
  STATE_DB_AHEAD_TOOL,
} from "./run_crash_support.ts";
import { show } from "./safety_support.ts";

type Row = Record<string, unknown>;

const fromJournal = (row: Row) => row._recovered_from_run_journal === true;
const isMarker = (row: Row) =>
  row._error === true && row.type === "interrupted";

/** Builds `scenario` alone, recovers it both ways; null when skipped. */
async function bothWays(scenario: CrashScenario) {
  const store = await buildCrashStore([scenario]);
  if (typeof store === "string") {
    console.warn(`state.db heal oracle ${store}`);
    return null;
  }
  try {
    const session = (store as CrashStore).sessions[scenario]!;
    const sids = [session.sid];
    const [server, ours] = await Promise.all([
      serverRecovery(store, sids),
      repairThenServerLoad(store, sids, {
        args: ["--state-db", store.stateDbPath],
      }),
    ]);
    return {
      session,
      server: server.views[session.sid],
      serverLost: server.lost,
      ours: ours.views[session.sid],
      oursLost: ours.lost,
      output: show(ours.result),
      code: ours.result.code,
    };
  } finally {
    await Deno.remove(store.root, { recursive: true });
  }
}

/** The view with the rows the journal recovery added taken out. */
function healedPart(view: ServerView) {
  const keep = (rows: Row[] | undefined) =>
    (rows ?? []).filter((row) => !fromJournal(row) && !isMarker(row));
  return {
    messages: keep(view.messages),
    context_messages: keep(view.context_messages),
    active_stream_id: view.active_stream_id,
    pending_user_message: view.pending_user_message,
  };
}

for (
  const [scenario, partial, held] of [
    ["state_db_ahead", "Release notes: fixed the crash", []],
    [STATE_DB_AHEAD_TOOL, "Two logs. Counting lines now.", [
      "Listing the files first.",
    ]],
  ] as const
) {
  Deno.test(`state.db ahead (${scenario}): repair --server-stopped gives the server's healed rows plus the journal's text state.db lacks, and loses nothing`, async () => {
    const got = await bothWays(scenario);
    if (!got) return;
    const { ours, server, output } = got;
    assert.equal(got.code, 1, output);
    assert.match(
      output,
      /merge state\.db's newer rows as the server's heal does, recover the run's output/,
    );
    // The server's own recovery drops the journal's partial text.
    assert.ok(got.serverLost.length > 0, got.serverLost.join("\n"));
    assert.ok(
      !(server.messages ?? []).some((row) => row.content === partial),
      "the server's heal alone shows the partial text",
    );
    // Ours: exactly the server's healed rows, in messages and context...
    assert.deepEqual(healedPart(ours), healedPart(server), output);
    assert.equal(ours.changed, false, "the server's load still wrote");
    // ...then the partial text, once, tagged, then the marker.
    const tail = (ours.messages ?? []).slice(
      (server.messages ?? []).length,
    );
    assert.deepEqual(
      tail.map((row) => [row.role, row.content, row._recovered_stream_id]),
      [
        ["assistant", partial, got.session.streamId],
        ["assistant", tail[1]?.content, undefined],
      ],
      output,
    );
    assert.ok(isMarker(tail[1]), JSON.stringify(tail[1]));
    assert.match(
      String(tail[1].content),
      /^\*\*Response interrupted\.\*\*/,
    );
    const contextTail = (ours.context_messages ?? []).slice(
      (server.context_messages ?? []).length,
    );
    assert.deepEqual(contextTail.map((row) => row.content), [partial]);
    // What state.db already held is not shown twice.
    for (const text of [...held, got.session.prompt]) {
      assert.equal(
        (ours.messages ?? []).filter((row) => row.content === text).length,
        1,
        `${text} appears once`,
      );
    }
    assert.deepEqual(got.oursLost, [], output);
  });
}
