/**
 * The state.db-newer self-heal, proved on the server's own code: a sidecar
 * left with an unfinished turn while the agent wrote its answer to state.db
 * is `sidecar_behind_state_db_self_heals` (info, exit 0, nothing written,
 * no stale_stream_state even with --server-stopped); then today's server
 * (python3 from ../shared/upstream) loads the session once and the sidecar
 * holds state.db's rows, after which the audit has nothing to say about it.
 * Skips with a message when upstream or python3 is absent.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { runCli } from "./fixtures.ts";
import { UPSTREAM_VERSIONS, upstreamPython } from "./upstream_store_support.ts";

// Written by this project: saves the session with the server's own writer
// and state.db as the agent writes it; "load" loads it as a page view does.
const DRIVER = `
import os, sqlite3, sys, time
sys.path.insert(0, os.getcwd())
from pathlib import Path
root = Path(sys.argv[1])
os.environ["HERMES_WEBUI_STATE_DIR"] = str(root / "webui")
os.environ["HERMES_HOME"] = str(root / "hermes")
(root / "webui" / "sessions").mkdir(parents=True, exist_ok=True)
(root / "hermes").mkdir(parents=True, exist_ok=True)
from api import models
sid = "lost_stream"
if sys.argv[2] == "load":
    models.get_session(sid)
    sys.exit(0)
t0 = time.time() - 600
turns = [("user", "first question", t0), ("assistant", "first answer", t0 + 1)]
models.Session(session_id=sid, title="lost", messages=[
    {"role": r, "content": c, "timestamp": t} for r, c, t in turns],
    active_stream_id="stream-1", pending_user_message="and then?",
    pending_started_at=t0 + 5).save()
models._write_session_index()
db = sqlite3.connect(str(root / "hermes" / "state.db"))
db.execute("CREATE TABLE sessions (id TEXT PRIMARY KEY, source TEXT, title TEXT, model TEXT, started_at REAL, parent_session_id TEXT, message_count INTEGER)")
db.execute("CREATE TABLE messages (id INTEGER PRIMARY KEY, session_id TEXT, role TEXT, content TEXT, timestamp REAL, active INTEGER DEFAULT 1)")
db.execute("INSERT INTO sessions (id, source, title, started_at) VALUES (?, 'webui', 'lost', ?)", (sid, t0))
for r, c, t in turns + [("user", "and then?", t0 + 5.2), ("assistant", "the answer the stream lost", t0 + 9)]:
    db.execute("INSERT INTO messages (session_id, role, content, timestamp) VALUES (?, ?, ?, ?)", (sid, r, c, t))
db.commit()
db.close()
`;

const TODAY = UPSTREAM_VERSIONS[1];

Deno.test(`a sidecar ${TODAY} heals from state.db on load is info, and the server does heal it`, async () => {
  const root = await Deno.makeTempDir({ prefix: "hermes-fsck-heal-" });
  try {
    const built = await upstreamPython(TODAY, DRIVER, [root, "build"]);
    if (typeof built === "string") {
      console.log(built);
      return;
    }
    const live = join(root, "webui", "sessions", "lost_stream.json");
    const args = [
      "--session-dir",
      join(root, "webui", "sessions"),
      "--state-db",
      join(root, "hermes", "state.db"),
      "--server-stopped",
      "--format",
      "json",
    ];
    const before = await Deno.readTextFile(live);
    const repaired = await runCli(["repair", ...args]);
    const findings: { kind: string; category: string }[] =
      JSON.parse(repaired.stdout).findings;
    assert.deepEqual(
      {
        code: repaired.code,
        kinds: findings.filter((f) =>
          f.category !== "info" ||
          f.kind.startsWith("sidecar_behind")
        ).map((f) => f.kind),
      },
      { code: 0, kinds: ["sidecar_behind_state_db_self_heals"] },
      repaired.stdout,
    );
    assert.equal(await Deno.readTextFile(live), before, "nothing written");

    await upstreamPython(TODAY, DRIVER, [root, "load"]);
    const healed = JSON.parse(await Deno.readTextFile(live));
    assert.deepEqual(
      healed.messages.map((m: { content: string }) => m.content),
      [
        "first question",
        "first answer",
        "and then?",
        "the answer the stream lost",
      ],
    );
    assert.equal(healed.active_stream_id, null);
    const after = await runCli(["audit", ...args]);
    const left: { kind: string }[] = JSON.parse(after.stdout).findings;
    assert.deepEqual(
      left.filter((f) => f.kind.startsWith("sidecar_behind")),
      [],
    );
    assert.equal(after.code, 0, after.stdout);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
