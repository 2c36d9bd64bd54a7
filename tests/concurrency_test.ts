/**
 * Concurrency test of issue 3: while `repair` restores many sessions, a
 * second process acts as the server (tests/fake_server.ts), saving some of
 * them over and over the way the server does (temp, fsync, rename), each
 * save holding more messages than the one before. Afterwards no save of
 * the server was overwritten or reverted: each of its sessions holds the
 * server's last save, or a repair of it (a restore whose replaced file, in
 * the run's quarantine, is exactly that last save). Several rounds with
 * different timings; the repair never dies of an uncaught exception.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { makeMessages, TestStore } from "./fixtures.ts";
import type { FakeServerConfig, FakeServerLog } from "./fake_server.ts";
import {
  assertNoUncaught,
  cli,
  listDir,
  runDirs,
  RUNS,
  sha256,
  show,
} from "./safety_support.ts";

const SESSIONS = 40;
const SERVED_EVERY = 5; // every 5th session is saved by the server
const BAK_MESSAGES = 40;
const SAVES = 15; // per served session, 4 .. 18 messages: fewer than the backup

interface ActionRecord {
  path: string;
  status: string;
  reason?: string;
  after: { sha256: string } | null;
  before: { sha256: string } | null;
  quarantined?: string;
}

async function records(sessionDir: string): Promise<ActionRecord[]> {
  const out: ActionRecord[] = [];
  for (const run of await runDirs(sessionDir)) {
    const dir = join(sessionDir, RUNS, run, "actions");
    for (const entry of await listDir(dir)) {
      if (!/^\d+\.json$/.test(entry.name)) continue;
      out.push(JSON.parse(await Deno.readTextFile(join(dir, entry.name))));
    }
  }
  return out;
}

async function runInterval(
  sessionDir: string,
): Promise<{ start: number; end: number } | null> {
  const [run] = await runDirs(sessionDir);
  if (!run) return null;
  const header = JSON.parse(
    await Deno.readTextFile(join(sessionDir, RUNS, run, "run.json")),
  );
  return {
    start: Date.parse(header.startedAt),
    end: Date.parse(header.finishedAt ?? header.startedAt),
  };
}

/** One round: a repair and the fake server at once; returns what happened. */
async function round(
  startDelayMs: number,
  pauseMs: number,
): Promise<
  { overlapped: boolean; changedSkips: number; repairOfLast: number }
> {
  const store = await TestStore.create();
  try {
    const served: string[] = [];
    for (let i = 0; i < SESSIONS; i++) {
      const sid = `s${String(i).padStart(2, "0")}`;
      await store.sidecar(sid, { messages: makeMessages(3, `${sid} live`) });
      await store.backup(sid, {
        messages: makeMessages(BAK_MESSAGES, `${sid} bak`),
      });
      if (i % SERVED_EVERY === 2) served.push(sid);
    }
    await store.index([]);
    const logPath = join(store.root, "server-log.json");
    const config: FakeServerConfig = {
      sessionDir: store.sessionDir,
      sessions: served,
      saves: SAVES,
      firstCount: 4,
      startDelayMs,
      pauseMs,
      log: logPath,
    };
    const server = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--allow-read",
        "--allow-write",
        new URL("./fake_server.ts", import.meta.url).pathname,
        JSON.stringify(config),
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const [repair, serverOut] = await Promise.all([
      cli(
        ["repair", "--session-dir", store.sessionDir, "--no-state-db"],
        store,
      ),
      server.output(),
    ]);
    const context = `round (start ${startDelayMs} ms, pause ${pauseMs} ms)`;
    assert.equal(
      serverOut.code,
      0,
      `${context}: the fake server failed:\n${
        new TextDecoder().decode(serverOut.stderr)
      }`,
    );
    assertNoUncaught(repair);
    assert.ok(
      [0, 1, 4, 5].includes(repair.code),
      `${context}: repair:\n${show(repair)}`,
    );
    const log: FakeServerLog = JSON.parse(await Deno.readTextFile(logPath));
    const actions = await records(store.sessionDir);

    // The repair replaced only what it planned on: each file it moved into
    // quarantine is exactly the file its plan read. Anything else would be
    // a save of the server's that the repair overwrote unseen.
    for (const action of actions) {
      if (action.status !== "applied" || !action.quarantined) continue;
      const kept = sha256(
        await Deno.readFile(join(store.sessionDir, action.quarantined)),
      );
      const save = log.saves[action.path.replace(/\.json$/, "")]?.indexOf(
        kept,
      );
      assert.equal(
        kept,
        action.before?.sha256,
        `${context}: the repair replaced ${action.path} unseen${
          save !== undefined && save >= 0
            ? ` (it was the server's save ${save + 1})`
            : ""
        }`,
      );
    }

    let repairOfLast = 0;
    for (const sid of served) {
      const saves = log.saves[sid];
      assert.equal(saves.length, SAVES);
      const last = saves[saves.length - 1];
      const live = sha256(await Deno.readFile(store.path(`${sid}.json`)));
      if (live === last) continue;
      // Not the last save: only a repair of exactly the last save may be
      // there, with that save kept in the run's quarantine.
      const repairOf = actions.find((a) =>
        a.path === `${sid}.json` && a.status === "applied" &&
        a.after?.sha256 === live && a.before?.sha256 === last &&
        a.quarantined !== undefined
      );
      const kept = repairOf
        ? sha256(
          await Deno.readFile(join(store.sessionDir, repairOf.quarantined!)),
        )
        : null;
      const which = saves.indexOf(live);
      assert.ok(
        repairOf && kept === last,
        `${context}: ${sid}.json is ${
          which >= 0
            ? `the server's save ${
              which + 1
            } of ${SAVES}: a later save was reverted`
            : "neither the server's last save nor a repair of it"
        }`,
      );
      repairOfLast++;
    }
    // The sessions the server left alone were all restored.
    for (let i = 0; i < SESSIONS; i++) {
      const sid = `s${String(i).padStart(2, "0")}`;
      if (served.includes(sid)) continue;
      assert.deepEqual(
        await Deno.readFile(store.path(`${sid}.json`)),
        await Deno.readFile(store.path(`${sid}.json.bak`)),
        `${context}: ${sid} was not restored`,
      );
    }
    const run = await runInterval(store.sessionDir);
    const overlapped = run !== null && log.firstSaveAt <= run.end &&
      run.start <= log.lastSaveAt;
    return {
      overlapped,
      changedSkips: actions.filter((a) => a.reason === "store_changed").length,
      repairOfLast,
    };
  } finally {
    await store.cleanup();
  }
}

Deno.test("concurrency: a server saving during repair never has a save overwritten or reverted", async () => {
  const timings: [number, number][] = [[0, 0], [60, 1], [150, 0], [250, 2]];
  const results = [];
  for (const [startDelayMs, pauseMs] of timings) {
    results.push(await round(startDelayMs, pauseMs));
  }
  // The test only proves something if the two really ran at once.
  assert.ok(
    results.some((r) => r.overlapped),
    `the server never saved while the repair ran: ${JSON.stringify(results)}`,
  );
});
