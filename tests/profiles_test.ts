/**
 * Profiles: each session is compared with the state.db of its profile home
 * (`$HERMES_HOME/state.db` for the default profile,
 * `$HERMES_HOME/profiles/<name>/state.db` for a named one), as today's
 * server reads it; each db is opened once and listed in the report's
 * `profileStateDbs`; `--state-db` still forces one file; a profile name
 * that fails the server's rule never becomes a path.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { runCli, type TestStore, withStore } from "./fixtures.ts";

/** A new state.db of `sessions`, each a webui row with `count` messages. */
function dbAt(
  store: TestStore,
  path: string,
  sessions: Record<string, number>,
): void {
  let id = 0;
  try {
    Deno.removeSync(path);
  } catch { /* a new one */ }
  store.stateDb(
    {
      sessions: Object.keys(sessions).map((sid) => ({
        id: sid,
        source: "webui",
        title: `Session ${sid}`,
        started_at: 1778450000,
      })),
      messages: Object.entries(sessions).flatMap(([sid, count]) =>
        Array.from({ length: count }, (_, i) => ({
          id: ++id,
          session_id: sid,
          role: i % 2 === 0 ? "user" : "assistant",
          content: `message ${i}`,
          timestamp: 1778450000 + i,
        }))
      ),
    },
    undefined,
    path,
  );
}

/** The state.db of a named profile of the store. */
function profileDb(store: TestStore, name: string): string {
  return join(store.hermesHome, "profiles", name, "state.db");
}

interface Found {
  code: number;
  stderr: string;
  kinds: string[];
  findings: { kind: string; sessionId?: string; paths: string[] }[];
  profileStateDbs?: { profile: string; path: string; status: string }[];
  stateDb: { path: string | null; status: string };
}

/** Runs the CLI on the store with HERMES_HOME set and no --state-db. */
async function run(
  store: TestStore,
  args: string[] = ["audit"],
  env: Record<string, string> = {},
): Promise<Found> {
  const r = await runCli(
    [...args, "--session-dir", store.sessionDir, "--format", "json"],
    { env: { HOME: store.root, HERMES_HOME: store.hermesHome, ...env } },
  );
  let report;
  try {
    report = JSON.parse(r.stdout);
  } catch {
    throw new Error(`exit ${r.code}, no report: ${r.stderr}`);
  }
  return {
    code: r.code,
    stderr: r.stderr,
    kinds: report.findings.map((f: { kind: string }) => f.kind),
    findings: report.findings,
    profileStateDbs: report.profileStateDbs,
    stateDb: report.stateDb,
  };
}

/** Sessions of the default profile and of two named ones, each in its own db. */
async function threeProfiles(store: TestStore): Promise<void> {
  await store.sidecar("d1", { messages: 2 });
  await store.sidecar("d2", { messages: 2, profile: "default" });
  await store.sidecar("a1", { messages: 2, profile: "alpha" });
  await store.sidecar("a2", { messages: 4, profile: "alpha" });
  await store.sidecar("b1", { messages: 2, profile: "beta" });
  dbAt(store, store.stateDbPath, { d1: 2, d2: 2 });
  dbAt(store, profileDb(store, "alpha"), { a1: 2, a2: 4 });
  dbAt(store, profileDb(store, "beta"), { b1: 2 });
}

Deno.test("profiles: a healthy store of three profiles is clean, each profile's db checked once", async () => {
  await withStore(async (store) => {
    await threeProfiles(store);
    const r = await run(store);
    assert.equal(r.code, 0, r.stderr + r.kinds.join(","));
    assert.deepEqual(r.stateDb, { path: store.stateDbPath, status: "ok" });
    assert.deepEqual(r.profileStateDbs, [
      { profile: "alpha", path: profileDb(store, "alpha"), status: "ok" },
      { profile: "beta", path: profileDb(store, "beta"), status: "ok" },
    ]);
  });
});

Deno.test("profiles: a session is compared with its own profile's rows, not another's", async () => {
  await withStore(async (store) => {
    await threeProfiles(store);
    // The default db also has a row of alpha's a1 with more messages: the
    // server reads a1 from alpha's db, so that row says nothing about it.
    dbAt(store, store.stateDbPath, { d1: 2, d2: 2, a1: 6 });
    // beta's b1 behind its own db is found.
    dbAt(store, profileDb(store, "beta"), { b1: 5 });
    const r = await run(store);
    const behind = r.findings.filter((f) =>
      f.kind === "sidecar_behind_state_db"
    );
    assert.deepEqual(behind.map((f) => f.sessionId), ["b1"]);
    assert.deepEqual(behind[0].paths, ["b1.json", profileDb(store, "beta")]);
  });
});

Deno.test("profiles: a lost sidecar whose rows are only in its profile's db is restored, not taken for deleted", async () => {
  await withStore(async (store) => {
    await threeProfiles(store);
    await Deno.remove(store.path("a2.json"));
    await store.backup("a2", { messages: 4, profile: "alpha" });
    const audit = await run(store);
    assert.ok(
      !audit.kinds.includes("orphan_backup_without_state_row"),
      audit.kinds.join(","),
    );
    const repair = await run(store, ["repair"]);
    assert.equal(repair.code, 1, repair.stderr + repair.kinds.join(","));
    const restored = await store.readJson("a2.json") as {
      profile: string;
      messages: unknown[];
    };
    assert.equal(restored.profile, "alpha");
    assert.equal(restored.messages.length, 4);
    assert.equal((await run(store)).code, 0);
  });
});

Deno.test("profiles: a sidecar lost with no backup is looked for in the default home's db only, as the server's audit does", async () => {
  await withStore(async (store) => {
    await threeProfiles(store);
    // a2's sidecar and backup are gone; only alpha's db has it, and
    // nothing in the store names a2's profile any more.
    await Deno.remove(store.path("a2.json"));
    await store.syncIndex();
    const audit = await run(store);
    // The default home's db does not have it: nothing is claimed.
    assert.ok(!audit.kinds.includes("state_db_missing_sidecar"));
    assert.equal(audit.code, 0, audit.kinds.join(","));
  });
});

Deno.test("profiles: a profile without a state.db has nothing to compare; never another profile's rows", async () => {
  await withStore(async (store) => {
    await threeProfiles(store);
    await store.sidecar("g1", { messages: 2, profile: "gamma" });
    dbAt(store, store.stateDbPath, { d1: 2, d2: 2, g1: 7 });
    const r = await run(store);
    assert.equal(r.code, 0, r.kinds.join(","));
    assert.deepEqual(
      r.profileStateDbs?.find((db) => db.profile === "gamma"),
      { profile: "gamma", path: profileDb(store, "gamma"), status: "absent" },
    );
  });
});

Deno.test("profiles: an unreadable profile db is reported by its path", async () => {
  await withStore(async (store) => {
    await threeProfiles(store);
    await Deno.writeTextFile(profileDb(store, "beta"), "not a database\n");
    const r = await run(store);
    assert.equal(r.code, 4);
    const found = r.findings.filter((f) => f.kind === "state_db_unreadable");
    assert.deepEqual(found.map((f) => f.paths), [[profileDb(store, "beta")]]);
    assert.match(r.stderr, /state\.db .*profiles\/beta\/state\.db/);
  });
});

Deno.test("profiles: --state-db forces one file for every session", async () => {
  await withStore(async (store) => {
    await threeProfiles(store);
    const r = await run(store, ["audit", "--state-db", store.stateDbPath]);
    assert.equal(r.profileStateDbs, undefined);
    // a1, a2 and b1 are compared with the one file, which lacks them:
    // nothing is claimed of a sidecar without a row.
    assert.equal(r.code, 0, r.kinds.join(","));
    dbAt(store, store.stateDbPath, { d1: 2, d2: 2, a1: 6 });
    const forced = await run(store, ["audit", "--state-db", store.stateDbPath]);
    assert.deepEqual(
      forced.findings.filter((f) => f.kind === "sidecar_behind_state_db")
        .map((f) => f.sessionId),
      ["a1"],
    );
  });
});

Deno.test("profiles: HERMES_HOME set to a profile's home opens that db once, as the default", async () => {
  await withStore(async (store) => {
    await threeProfiles(store);
    const alphaHome = join(store.hermesHome, "profiles", "alpha");
    const r = await run(store, ["audit"], { HERMES_HOME: alphaHome });
    assert.deepEqual(r.stateDb, {
      path: profileDb(store, "alpha"),
      status: "ok",
    });
    // alpha's sessions use the default db, opened once; beta's its own.
    assert.deepEqual(r.profileStateDbs?.map((db) => db.profile), ["beta"]);
    assert.equal(r.code, 0, r.kinds.join(","));
  });
});

Deno.test("profiles: a profile name that fails the rule never becomes a path", async () => {
  await withStore(async (store) => {
    const hostile = [
      "../x",
      ".",
      "..",
      "a/b",
      "Alpha",
      "",
      "-a",
      "x".repeat(65),
    ];
    for (const [i, profile] of hostile.entries()) {
      await store.sidecar(`h${i}`, { messages: 2, profile });
    }
    dbAt(
      store,
      store.stateDbPath,
      Object.fromEntries(hostile.map((_, i) => [`h${i}`, 2])),
    );
    // What each name would reach if it became a path: dbs that claim more
    // messages for every session.
    const lure = Object.fromEntries(hostile.map((_, i) => [`h${i}`, 9]));
    for (
      const dir of [
        "x",
        "profiles",
        join("profiles", "a", "b"),
        join("profiles", "Alpha"),
      ]
    ) {
      dbAt(store, join(store.hermesHome, dir, "state.db"), lure);
    }
    const r = await run(store);
    assert.equal(r.code, 0, r.kinds.join(","));
    assert.equal(r.profileStateDbs, undefined);
  });
});

Deno.test("profiles: a profile dir that is a link out of profiles/ is not used", async () => {
  await withStore(async (store) => {
    await threeProfiles(store);
    const outside = join(store.root, "outside");
    dbAt(store, join(outside, "state.db"), { b1: 9 });
    await Deno.remove(join(store.hermesHome, "profiles", "beta"), {
      recursive: true,
    });
    await Deno.symlink(outside, join(store.hermesHome, "profiles", "beta"));
    const r = await run(store);
    assert.ok(!r.kinds.includes("sidecar_behind_state_db"), r.kinds.join(","));
    const beta = r.profileStateDbs?.find((db) => db.profile === "beta");
    assert.equal(beta?.status, "unreadable");
  });
});

Deno.test("profiles: a store checked in several parts compares every session with its own db, each opened once", async () => {
  await withStore(async (store) => {
    const ids = Array.from({ length: 2100 }, (_, i) => `p${i}`.padEnd(6, "0"));
    const alpha: Record<string, number> = {};
    const beta: Record<string, number> = {};
    for (const [i, id] of ids.entries()) {
      const profile = i % 2 === 0 ? "alpha" : "beta";
      await store.sidecar(id, { messages: 1, profile });
      (profile === "alpha" ? alpha : beta)[id] = 1;
    }
    // The last part's last beta session is behind its own db.
    beta[ids[2099]] = 3;
    await store.indexFromFiles();
    dbAt(store, profileDb(store, "alpha"), alpha);
    dbAt(store, profileDb(store, "beta"), beta);
    const r = await run(store);
    assert.deepEqual(
      r.findings.map((f) => [f.kind, f.sessionId]),
      [["sidecar_behind_state_db", ids[2099]]],
    );
    assert.deepEqual(r.profileStateDbs?.map((db) => db.profile), [
      "alpha",
      "beta",
    ]);
  });
});

Deno.test("profiles: the text report names each profile's state.db", async () => {
  await withStore(async (store) => {
    await threeProfiles(store);
    const r = await runCli(["audit", "--session-dir", store.sessionDir], {
      env: { HOME: store.root, HERMES_HOME: store.hermesHome },
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.ok(
      r.stdout.includes(
        `state.db of profile alpha: ${profileDb(store, "alpha")}\n`,
      ),
      r.stdout,
    );
    assert.ok(
      r.stdout.includes(
        `state.db of profile beta: ${profileDb(store, "beta")}\n`,
      ),
      r.stdout,
    );
  });
});

Deno.test("profiles: a named profile's core transcript is read from the base home's profiles/, also when HERMES_HOME is a profile's home", async () => {
  await withStore(async (store) => {
    await store.sidecar("e1", {
      messages: [],
      profile: "beta",
      active_stream_id: "stream-1",
      pending_user_message: "What is the answer?",
      pending_attachments: [],
      pending_started_at: Date.now() / 1000 - 3600,
    });
    const core = [
      { role: "user", content: "What is the answer?", timestamp: 12 },
      { role: "assistant", content: "42", timestamp: 13 },
    ];
    const dir = join(store.hermesHome, "profiles", "beta", "sessions");
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(
      join(dir, "session_e1.json"),
      JSON.stringify({ session_id: "e1", messages: core }),
    );
    const alphaHome = join(store.hermesHome, "profiles", "alpha");
    await Deno.mkdir(alphaHome, { recursive: true });
    const r = await run(store, ["repair", "--server-stopped"], {
      HERMES_HOME: alphaHome,
    });
    assert.equal(r.code, 1, r.stderr + r.kinds.join(","));
    const doc = await store.readJson("e1.json") as { messages: unknown[] };
    assert.deepEqual(doc.messages, core);
  });
});
