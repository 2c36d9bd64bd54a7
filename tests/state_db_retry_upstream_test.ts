/**
 * A retry and resend done by today's server's own code (session_ops
 * `retry_last`, then the send path's user-turn checkpoint, run by python3
 * from ../shared/upstream) while state.db keeps the agent's rows of the
 * removed turn, as the agent does: the audit names it as deliberate (info,
 * exit 0). The same store with the sidecar's intentional_shrink_generation
 * taken out (as a server between v0.51.628 and exp-v0.52.216 wrote it) is
 * recognised by its truncation boundary and watermark. Skips with a message
 * when upstream or python3 is absent.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { runCli } from "./fixtures.ts";
import { UPSTREAM_VERSIONS, upstreamPython } from "./upstream_store_support.ts";

// Written by this project: drives the server's own retry and send writers;
// state.db is written as the agent writes it (its rows are never removed).
const DRIVER = `
import os, sqlite3, sys, time
sys.path.insert(0, os.getcwd())
from pathlib import Path
root = Path(sys.argv[1])
os.environ["HERMES_WEBUI_STATE_DIR"] = str(root / "webui")
os.environ["HERMES_HOME"] = str(root / "hermes")
(root / "webui" / "sessions").mkdir(parents=True, exist_ok=True)
(root / "hermes").mkdir(parents=True, exist_ok=True)
from api import models, routes, session_ops
sid = "retried_chat"
t0 = time.time() - 600
turns = [("user", "first question", t0), ("assistant", "first answer", t0 + 1),
         ("user", "second question", t0 + 2), ("assistant", "a poor second answer", t0 + 3)]
models.Session(session_id=sid, title="retry", messages=[
    {"role": r, "content": c, "timestamp": t} for r, c, t in turns]).save()
models._write_session_index()
db = sqlite3.connect(str(root / "hermes" / "state.db"))
db.execute("CREATE TABLE sessions (id TEXT PRIMARY KEY, source TEXT, title TEXT, model TEXT, started_at REAL, parent_session_id TEXT, message_count INTEGER)")
db.execute("CREATE TABLE messages (id INTEGER PRIMARY KEY, session_id TEXT, role TEXT, content TEXT, timestamp REAL, active INTEGER DEFAULT 1)")
db.execute("INSERT INTO sessions (id, source, title, started_at) VALUES (?, 'webui', 'retry', ?)", (sid, t0))
def agent_row(role, content, ts):
    db.execute("INSERT INTO messages (session_id, role, content, timestamp) VALUES (?, ?, ?, ?)", (sid, role, content, ts))
for r, c, t in turns:
    agent_row(r, c, t + 0.2)
session_ops.retry_last(sid)
started = t0 + 10
s = models.get_session(sid)
routes._checkpoint_user_message_for_eager_session_save(s, "second question", None, started)
s.messages.append({"role": "assistant", "content": "a better second answer", "timestamp": started + 1})
s.save()
agent_row("user", "second question", started + 0.3)
agent_row("assistant", "a better second answer", started + 1)
sid = "undone_chat"
models.Session(session_id=sid, title="undo", messages=[
    {"role": r, "content": c, "timestamp": t} for r, c, t in turns]).save()
db.execute("INSERT INTO sessions (id, source, title, started_at) VALUES (?, 'webui', 'undo', ?)", (sid, t0))
for r, c, t in turns:
    agent_row(r, c, t + 0.2)
session_ops.undo_last(sid)
db.commit()
db.close()
`;

const TODAY = UPSTREAM_VERSIONS[1];
const DRIFT = "state-db-sidecar-drift";

async function auditKinds(root: string): Promise<{
  code: number;
  findings: {
    check: string;
    sessionId: string;
    kind: string;
    category: string;
    evidence: Record<string, unknown>;
  }[];
}> {
  const result = await runCli([
    "audit",
    "--session-dir",
    join(root, "webui", "sessions"),
    "--state-db",
    join(root, "hermes", "state.db"),
    "--format",
    "json",
  ]);
  return { code: result.code, findings: JSON.parse(result.stdout).findings };
}

Deno.test(`a retry and resend, and an undo, by ${TODAY}'s own code, state.db keeping the removed turns, are no problem`, async () => {
  const root = await Deno.makeTempDir({ prefix: "hermes-fsck-retry-" });
  try {
    const ran = await upstreamPython(TODAY, DRIVER, [root]);
    if (typeof ran === "string") {
      console.log(ran);
      return;
    }
    const today = await auditKinds(root);
    const drift = today.findings.filter((f) => f.check === DRIFT);
    assert.deepEqual(
      { code: today.code, kinds: drift.map((f) => [f.sessionId, f.kind]) },
      {
        code: 0,
        kinds: [
          ["retried_chat", "sidecar_behind_state_db_kept"],
          ["undone_chat", "sidecar_behind_state_db_kept"],
        ],
      },
      JSON.stringify(today.findings, null, 2),
    );

    // The same sidecars as a server before exp-v0.52.216 wrote them. That
    // server had no guard for the undo's .bak (shrunken_live restores it, as
    // the server's own recovery does), so it goes: only state.db is left.
    await Deno.remove(join(root, "webui", "sessions", "undone_chat.json.bak"));
    for (const id of ["retried_chat", "undone_chat"]) {
      const live = join(root, "webui", "sessions", `${id}.json`);
      const sidecar = JSON.parse(await Deno.readTextFile(live));
      assert.equal(typeof sidecar.intentional_shrink_generation, "string");
      delete sidecar.intentional_shrink_generation;
      await Deno.writeTextFile(live, JSON.stringify(sidecar, null, 2));
    }
    const older = await auditKinds(root);
    const removed = older.findings.filter((f) => f.check === DRIFT);
    assert.deepEqual(
      {
        code: older.code,
        kinds: removed.map((f) => [f.sessionId, f.kind]),
        rows: removed.map((f) =>
          (f.evidence.removedRows as { text: string }[]).map((r) => r.text)
        ),
      },
      {
        code: 0,
        kinds: [
          ["retried_chat", "state_db_keeps_removed_turn"],
          ["undone_chat", "state_db_keeps_removed_turn"],
        ],
        rows: [
          ["second question", "a poor second answer"],
          ["second question", "a poor second answer"],
        ],
      },
      JSON.stringify(older.findings, null, 2),
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
