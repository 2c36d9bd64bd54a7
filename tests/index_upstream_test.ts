/**
 * `_index.json` on stores written by today's server's own code
 * (../shared/upstream/hermes-webui-df65251d5, run by a small driver of this
 * project): a missing index is rebuilt exactly as the server's own rebuild
 * writes it; a session the server pruned into `_pruned_webui_orphans.json`
 * and an entry that kept the count loaded at start audit with exit 0; an
 * entry the server wrote for a session it never saved is info, rebuilt on
 * request. Skips with a message when upstream or python3 is absent.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { runCli, runCommand } from "./fixtures.ts";

const VERSION = "hermes-webui-df65251d5";
const PROJECT_ROOT = new URL("..", import.meta.url).pathname;

// Written by this project: drives the server's public code only.
const DRIVER = `
import json, os, sys
sys.path.insert(0, os.getcwd())
from pathlib import Path
root = Path(sys.argv[1])
mode = sys.argv[2]
os.environ["HERMES_WEBUI_STATE_DIR"] = str(root / "webui")
os.environ["HERMES_HOME"] = str(root / "hermes")
sd = root / "webui" / "sessions"
sd.mkdir(parents=True, exist_ok=True)
(root / "hermes").mkdir(parents=True, exist_ok=True)
from api import models
ws = str(root.resolve())
def msgs(n, start=1778458000):
    return [{"role": "user" if i % 2 == 0 else "assistant", "content": "m%d" % i,
             "timestamp": start + i} for i in range(n)]
def chat(sid, n=2):
    models.Session(session_id=sid, title="chat " + sid, workspace=ws, messages=msgs(n)).save()
if mode == "build":
    chat("plain_1")
    partial = msgs(3) + [{"role": "assistant", "content": "", "_partial": True, "timestamp": 1778458100}]
    models.Session(session_id="Rich-Chat_2", title="Rich", workspace=ws, messages=partial,
        model_provider=" OpenRouter ", cache_read_tokens=5, input_tokens=200, output_tokens=7,
        parent_session_id="plain_1", worktree_path=ws, worktree_branch="feature",
        compression_recovery_action=" retry ", share_token=" tok ", manual_title=True,
        pinned=1, compression_anchor_details={"a": 1}, profile="work",
        pending_user_message="still typing", pending_started_at=1778458200).save()
    models.Session(session_id="empty_3", title="Untitled", workspace=ws, messages=[]).save()
    # A persisted count that disagrees with the messages, as a state.db
    # materialize writes it; the index takes the persisted one.
    d = json.loads((sd / "plain_1.json").read_text())
    d["session_id"] = "copy_4"
    d["message_count"] = 9
    (sd / "copy_4.json").write_text(json.dumps(d, indent=2))
elif mode == "rebuild":
    from api.session_recovery import _rebuild_recovery_session_index
    _rebuild_recovery_session_index(sd)
elif mode == "pruned":
    chat("chat_1")
    models.Session(session_id="emptyorphan", title="Draft title", workspace=ws, messages=[]).save()
    models.prune_session_from_index("emptyorphan")
    models._record_webui_zero_message_orphan_tombstone("emptyorphan")
elif mode == "loaded":
    chat("chat_1")
    chat("undone_2", 4)
    models.SESSIONS.clear()
    s = models.Session.load("undone_2")
    # As the truncate route: the shrink generation marks the .bak the save
    # keeps as deliberately bigger.
    import uuid
    s.messages = s.messages[:2]
    s.intentional_shrink_generation = uuid.uuid4().hex
    s.save()
elif mode == "ghost":
    chat("chat_1")
    models.SESSIONS["unsaved1"] = models.Session(session_id="unsaved1", workspace=ws)
    models._write_session_index(updates=None)
`;

/** Runs the driver in `mode` on the store at `root`; a string says why it cannot. */
async function drive(root: string, mode: string): Promise<string | null> {
  const upstream = Deno.env.get("HERMES_FSCK_UPSTREAM") ??
    join(PROJECT_ROOT, "..", "shared", "upstream");
  const cwd = join(upstream, VERSION);
  try {
    await Deno.stat(join(cwd, "api", "models.py"));
  } catch {
    return `skipped: ${cwd}/api is absent (../shared/upstream beside the project, or $HERMES_FSCK_UPSTREAM)`;
  }
  const driver = join(root, "driver.py");
  await Deno.writeTextFile(driver, DRIVER);
  let result;
  try {
    result = await runCommand("python3", [driver, join(root, "store"), mode], {
      cwd,
    });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      return "skipped: python3 is not on PATH";
    }
    throw error;
  }
  if (result.code !== 0) {
    throw new Error(
      `the ${VERSION} driver (${mode}) failed:\n${result.stderr}`,
    );
  }
  return null;
}

/** A store the server's code wrote in `mode`, given to `fn`; skips cleanly. */
async function withServerStore(
  mode: string,
  fn: (sessionDir: string, root: string) => Promise<void>,
): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "hermes-fsck-index-" });
  try {
    const skipped = await drive(root, mode);
    if (skipped) {
      console.log(skipped);
      return;
    }
    await fn(join(root, "store", "webui", "sessions"), root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

interface Result {
  code: number;
  findings: { kind: string; category: string; sessionId?: string }[];
}

async function fsck(command: string, sessionDir: string): Promise<Result> {
  const r = await runCli([
    command,
    "--session-dir",
    sessionDir,
    "--no-state-db",
    "--format",
    "json",
  ]);
  try {
    return { code: r.code, findings: JSON.parse(r.stdout).findings };
  } catch {
    throw new Error(
      `no JSON report (exit ${r.code}):\n${r.stdout}\n${r.stderr}`,
    );
  }
}

function problems(result: Result): string[] {
  return result.findings.filter((f) => f.category !== "info").map((f) =>
    `${f.kind} (${f.category})`
  );
}

async function readIndex(sessionDir: string): Promise<unknown> {
  return JSON.parse(await Deno.readTextFile(join(sessionDir, "_index.json")));
}

Deno.test("index by today's server: a missing _index.json is one finding, and the rebuild writes what the server's own rebuild writes", async () => {
  await withServerStore("build", async (sessionDir, root) => {
    const index = join(sessionDir, "_index.json");
    await Deno.remove(index);
    const audited = await fsck("audit", sessionDir);
    assert.equal(audited.code, 4);
    assert.deepEqual(
      audited.findings.filter((f) => f.kind === "index_absent").length,
      1,
    );
    const repaired = await fsck("repair", sessionDir);
    assert.equal(repaired.code & 1, 1, JSON.stringify(repaired.findings));
    const ours = await readIndex(sessionDir);
    await Deno.remove(index);
    const skipped = await drive(root, "rebuild");
    assert.equal(skipped, null);
    const servers = await readIndex(sessionDir);
    assert.deepEqual(ours, servers);
    // The entries carry today's fields, the persisted count among them.
    const byId = new Map(
      (ours as Record<string, unknown>[]).map((e) => [e.session_id, e]),
    );
    assert.equal(byId.get("copy_4")?.message_count, 9);
    assert.equal(byId.get("Rich-Chat_2")?.cache_hit_percent, 2);
    assert.equal(byId.get("Rich-Chat_2")?.last_message_at, 1778458200);
    const audit = await fsck("audit", sessionDir);
    assert.deepEqual(
      audit.findings.filter((f) => f.kind.startsWith("index_")),
      [],
    );
  });
});

Deno.test("index by today's server: a session pruned into _pruned_webui_orphans.json audits clean (exit 0)", async () => {
  await withServerStore("pruned", async (sessionDir) => {
    const listed = JSON.parse(
      await Deno.readTextFile(join(sessionDir, "_pruned_webui_orphans.json")),
    );
    assert.deepEqual(listed, { version: 1, ids: ["emptyorphan"] });
    const audited = await fsck("audit", sessionDir);
    assert.deepEqual(
      { code: audited.code, problems: problems(audited) },
      { code: 0, problems: [] },
    );
    assert.deepEqual(
      audited.findings.filter((f) => f.kind === "index_pruned_orphan")
        .map((f) => f.sessionId),
      ["emptyorphan"],
    );
  });
});

Deno.test("index by today's server: an entry that kept the count loaded at start is info (exit 0)", async () => {
  await withServerStore("loaded", async (sessionDir) => {
    const entries = await readIndex(sessionDir) as Record<string, unknown>[];
    assert.equal(
      entries.find((e) => e.session_id === "undone_2")?.message_count,
      4,
    );
    const audited = await fsck("audit", sessionDir);
    assert.deepEqual(
      { code: audited.code, problems: problems(audited) },
      { code: 0, problems: [] },
    );
    assert.deepEqual(
      audited.findings.filter((f) => f.kind === "index_count_at_load")
        .map((f) => f.sessionId),
      ["undone_2"],
    );
  });
});

Deno.test("index by today's server: an entry of a session never saved is info (exit 0), dropped on request", async () => {
  await withServerStore("ghost", async (sessionDir) => {
    const audited = await fsck("audit", sessionDir);
    assert.equal(audited.code, 0);
    assert.deepEqual(problems(audited), []);
    assert.deepEqual(
      audited.findings.filter((f) => f.kind === "index_unsaved_chat").length,
      1,
    );
    assert.equal((await fsck("repair", sessionDir)).code, 0);
    const repaired = await runCli([
      "repair",
      "--session-dir",
      sessionDir,
      "--no-state-db",
      "--also-repair",
      "index_unsaved_chat",
    ]);
    assert.equal(repaired.code, 1, repaired.stdout);
    const ids = (await readIndex(sessionDir) as Record<string, unknown>[])
      .map((e) => e.session_id);
    assert.deepEqual(ids, ["chat_1"]);
  });
});
