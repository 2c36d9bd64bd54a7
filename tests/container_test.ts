/**
 * The container entrypoint, examples/container/init.sh: it repairs the store
 * with `--server-stopped`, prints the report to the log, starts the server
 * when hermes-fsck exits below 4 and fails the container with a clear
 * message otherwise. hermes-fsck is `cli.ts` under `deno run` with the
 * binary's exact permissions; the server is a stand-in that says it started.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { CLI_FLAGS } from "../tools/permissions.ts";
import {
  CLI_DENO,
  type CliResult,
  runCommand,
  type TestStore,
  withStore,
} from "./fixtures.ts";
import { serverIndex } from "./check_support.ts";
import { repoPath } from "./plugin_support.ts";

const INIT = repoPath("examples/container/init.sh");
const HERMES_FSCK = [
  CLI_DENO,
  "run",
  "--quiet",
  ...CLI_FLAGS,
  repoPath("cli.ts"),
].join(" ");
const SERVER = ["sh", "-c", 'echo "hermes-webui started with $0"', "8787"];

/** Runs the init script as a container would, with the store's variables. */
async function init(
  store: TestStore,
  args: string[] = SERVER,
  env: Record<string, string> = {},
): Promise<CliResult> {
  return await runCommand("sh", [INIT, ...args], {
    env: {
      HERMES_FSCK,
      HERMES_WEBUI_STATE_DIR: join(store.root, "webui"),
      HERMES_HOME: store.hermesHome,
      HERMES_FSCK_PLUGIN_DIR: "",
      ...env,
    },
  });
}

Deno.test("init.sh starts the server on a clean store", async () => {
  await withStore(async (store) => {
    await store.index(serverIndex([await store.sidecar("abc")]));
    const result = await init(store);
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stdout,
      /no problems found/,
      "the report is in the log",
    );
    assert.match(result.stdout, /hermes-webui started with 8787/);
    assert.match(
      result.stderr,
      /hermes-init: session store ok \(hermes-fsck exit 0\); starting: sh -c /,
    );
  });
});

Deno.test("init.sh repairs a damaged store, then starts the server", async () => {
  await withStore(async (store) => {
    await store.sidecar("wiped", { messages: 1 });
    await store.backup("wiped", { messages: 30 });
    // A turn left streaming: the server is stopped, so repair may end it.
    await store.sidecar("streaming", {
      messages: 2,
      active_stream_id: "s1",
      pending_user_message: "hello?",
      pending_started_at: 1778458000.5,
    });
    const result = await init(store);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /restore_from_bak|Restore/i);
    assert.match(result.stdout, /hermes-webui started/);
    assert.match(result.stderr, /session store ok \(hermes-fsck exit 1\)/);
    const wiped = await store.readJson("wiped.json") as { messages: unknown[] };
    assert.equal(wiped.messages.length, 30);
    const streaming = await store.readJson("streaming.json") as Record<
      string,
      unknown
    >;
    assert.equal(
      streaming.active_stream_id,
      null,
      "--server-stopped was given",
    );
  });
});

Deno.test("init.sh does not start the server when problems need a person", async () => {
  await withStore(async (store) => {
    await store.sidecar("abc", { messages: 2 });
    await store.writeRaw("lost.json.bak", "{ not json");
    const result = await init(store);
    assert.equal(result.code, 4);
    assert.doesNotMatch(result.stdout, /hermes-webui started/);
    assert.match(
      result.stdout,
      /malformed_orphan_backup/,
      "the report is in the log",
    );
    assert.match(
      result.stderr,
      /hermes-init: NOT starting Hermes WebUI: the session store has problems that need a person \(exit 4\)/,
    );
  });
});

Deno.test("init.sh: once a person acknowledges the finding, the next start goes ahead; a change to its file stops it again", async () => {
  await withStore(async (store) => {
    await store.sidecar("abc", { messages: 2 });
    await store.writeRaw("lost.json.bak", "{ not json");
    const stopped = await init(store);
    assert.equal(stopped.code, 4);
    assert.match(stopped.stderr, /'hermes-fsck acknowledge ID --note TEXT'/);
    const id = /\[([0-9a-f]{16})\]/.exec(stopped.stdout)?.[1];
    assert.ok(id, `no finding id in the log:\n${stopped.stdout}`);
    // What the operator runs, with the server down: the same image and
    // store, hermes-fsck as the command.
    const acknowledged = await runCommand("sh", [
      "-c",
      `${HERMES_FSCK} acknowledge "$0" --note "$1"`,
      id,
      "old crash, nothing to keep",
    ], {
      env: {
        HERMES_WEBUI_STATE_DIR: join(store.root, "webui"),
        HERMES_HOME: store.hermesHome,
      },
    });
    assert.equal(acknowledged.code, 0, acknowledged.stderr);
    const started = await init(store);
    assert.equal(started.code, 0, started.stdout + started.stderr);
    assert.match(started.stdout, /acknowledged .*"old crash, nothing to keep"/);
    assert.match(started.stdout, /hermes-webui started/);
    await store.writeRaw("lost.json.bak", "{ still not json");
    const again = await init(store);
    assert.equal(again.code, 4);
    assert.doesNotMatch(again.stdout, /hermes-webui started/);
  });
});

Deno.test("init.sh names a wrong call, a missing store and a missing hermes-fsck", async () => {
  await withStore(async (store) => {
    const usage = await init(store, SERVER, { HERMES_FSCK_ARGS: "--bogus" });
    assert.equal(usage.code, 16);
    assert.match(
      usage.stderr,
      /called wrongly \(exit 16\): check \$HERMES_FSCK_ARGS/,
    );

    const missing = await init(store, SERVER, {
      HERMES_WEBUI_STATE_DIR: join(store.root, "nowhere"),
    });
    assert.equal(missing.code, 8);
    assert.match(
      missing.stderr,
      /could not read the store or apply a repair \(exit 8\)/,
    );

    const absent = await init(store, SERVER, {
      HERMES_FSCK: join(store.root, "no-such-hermes-fsck"),
    });
    assert.equal(absent.code, 127);
    assert.match(
      absent.stderr,
      /hermes-fsck did not run \(exit 127\): check \$HERMES_FSCK/,
    );
    for (const result of [usage, missing, absent]) {
      assert.doesNotMatch(result.stdout, /hermes-webui started/);
    }
  });
});

Deno.test("init.sh starts $HERMES_WEBUI_CMD when given no command", async () => {
  await withStore(async (store) => {
    const result = await init(store, [], {
      HERMES_WEBUI_CMD: "echo hermes-webui started from the variable",
    });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /hermes-webui started from the variable/);
  });
});
