/**
 * The CLI's default store, found as today's server finds it (since
 * v0.51.528): `$HERMES_WEBUI_STATE_DIR`, else `$HERMES_HOME/webui`, else
 * `~/.hermes/webui`, sessions in its `sessions/`.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { runCli } from "./fixtures.ts";

/** A store with one sidecar `name`.json (not a valid id: one finding) in `dir`. */
async function marked(dir: string, name: string): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(join(dir, `${name}.json`), "{}");
}

/** The ids of the invalid-id findings of an audit run with `env`. */
async function foundIn(env: Record<string, string>): Promise<string[]> {
  const r = await runCli(["audit", "--no-state-db", "--format", "json"], {
    env,
  });
  assert.ok(r.code === 4, `exit ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout).findings
    .filter((f: { kind: string }) => f.kind === "invalid_session_id")
    .map((f: { evidence: { id: string } }) => f.evidence.id);
}

Deno.test("default paths CLI: state dir from HERMES_WEBUI_STATE_DIR, then HERMES_HOME/webui, then ~/.hermes/webui", async () => {
  const root = await Deno.makeTempDir({ prefix: "hermes-fsck-test-" });
  try {
    const home = join(root, "home");
    const hermesHome = join(root, "hermes");
    const stateDir = join(root, "state");
    await marked(join(stateDir, "sessions"), "in.state");
    await marked(join(hermesHome, "webui", "sessions"), "in.hermes");
    await marked(join(home, ".hermes", "webui", "sessions"), "in.home");
    assert.deepEqual(
      await foundIn({
        HOME: home,
        HERMES_HOME: hermesHome,
        HERMES_WEBUI_STATE_DIR: stateDir,
      }),
      ["in.state"],
    );
    assert.deepEqual(
      await foundIn({
        HOME: home,
        HERMES_HOME: hermesHome,
        HERMES_WEBUI_STATE_DIR: "",
      }),
      ["in.hermes"],
    );
    assert.deepEqual(
      await foundIn({
        HOME: home,
        HERMES_HOME: "",
        HERMES_WEBUI_STATE_DIR: "",
      }),
      ["in.home"],
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
