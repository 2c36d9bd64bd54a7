/**
 * A WAL-mode state.db on a read-only mount (a stopped container's volume
 * mounted `:ro`): a real database whose newest session is only in its
 * `-wal` (checkpoints off, the writer killed), and no `-shm`, which SQLite
 * would have to create. The audit must read it, committed `-wal` data
 * included, find `state_db_missing_sidecar` as it does on a writable copy,
 * and write nothing beside it. A `-wal` it cannot read is a finding that
 * says so once, never a silent audit of stale data.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { runCli, type TestStore } from "./fixtures.ts";
import { show, withStore } from "./safety_support.ts";
import { RUN_LIMIT_MS, WITHOUT_DAC_OVERRIDE } from "./hostile_support.ts";
import { crashWhileWriting, healthySession } from "./state_db_support.ts";

/** A killed agent's last commit, left in the `-wal` only. */
async function commitOnlyInWal(store: TestStore): Promise<void> {
  await healthySession(store);
  await crashWhileWriting(
    store.stateDbPath,
    `db.exec("PRAGMA journal_mode=WAL");
db.exec("PRAGMA wal_autocheckpoint=0");
db.exec("INSERT INTO sessions (id, source, title, started_at) VALUES ('inwal', 'webui', 'In the WAL', 5)");
db.exec("INSERT INTO messages (id, session_id, role, content, timestamp) VALUES (9, 'inwal', 'user', 'only in the wal', 5)");`,
  );
  const wal = await Deno.stat(store.stateDbPath + "-wal");
  assert.ok(wal.size > 0, "the commit is in the -wal");
  await Deno.remove(store.stateDbPath + "-shm");
}

async function run(cmd: string, args: string[]): Promise<boolean> {
  const out = await new Deno.Command(cmd, {
    args,
    stdout: "null",
    stderr: "null",
  }).output();
  return out.success;
}

/**
 * Runs `test` with the store's hermes dir bind-mounted read-only at a new
 * path; null when this process may not mount (not root).
 */
async function withReadOnlyMount(
  store: TestStore,
  test: (stateDbPath: string) => Promise<void>,
): Promise<boolean> {
  const mountPoint = join(store.root, "ro-hermes");
  await Deno.mkdir(mountPoint);
  if (!(await run("mount", ["--bind", store.hermesHome, mountPoint]))) {
    return false;
  }
  try {
    if (
      !(await run("mount", ["-o", "remount,bind,ro", mountPoint]))
    ) return false;
    await test(join(mountPoint, "state.db"));
  } finally {
    await run("umount", [mountPoint]);
  }
  return true;
}

function names(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
}

interface Reported {
  kind: string;
  sessionId?: string;
  message: string;
  evidence: Record<string, unknown>;
}

const kindsOf = (findings: Reported[]) =>
  findings.map((f) => `${f.kind}:${f.sessionId ?? ""}`).sort();

const auditArgs = (store: TestStore, stateDb: string) => [
  "audit",
  "--format",
  "json",
  "--session-dir",
  store.sessionDir,
  "--state-db",
  stateDb,
];

Deno.test("read-only WAL state.db: read with its -wal, state_db_missing_sidecar found as on a writable copy, nothing written beside it", async () => {
  await withStore(async (store) => {
    await commitOnlyInWal(store);
    const before = names(store.hermesHome);
    let readOnlyKinds: string[] = [];
    const mounted = await withReadOnlyMount(store, async (readOnly) => {
      const r = await runCli(auditArgs(store, readOnly));
      assert.equal(r.code, 4, show(r));
      const report = JSON.parse(r.stdout);
      assert.equal(report.stateDb.status, "ok", show(r));
      readOnlyKinds = kindsOf(report.findings);
      assert.ok(
        readOnlyKinds.includes("state_db_missing_sidecar:inwal"),
        show(r),
      );
      assert.equal(r.stderr, "");
    });
    if (!mounted) {
      console.warn("skipped: this process cannot bind-mount (not root)");
      return;
    }
    assert.deepEqual(names(store.hermesHome), before, "wrote beside state.db");
    // The same store writable gives the same findings.
    const writable = await runCli(auditArgs(store, store.stateDbPath));
    assert.deepEqual(
      kindsOf(JSON.parse(writable.stdout).findings),
      readOnlyKinds,
    );
  });
});

Deno.test("read-only WAL state.db without -wal or -shm (the agent stopped cleanly): read", async () => {
  await withStore(async (store) => {
    await healthySession(store);
    await crashWhileWriting(
      store.stateDbPath,
      `db.exec("PRAGMA journal_mode=WAL"); db.close();`,
    );
    assert.deepEqual(names(store.hermesHome), ["state.db"]);
    await store.backup("gone", { messages: 3 });
    const mounted = await withReadOnlyMount(store, async (readOnly) => {
      const r = await runCli(auditArgs(store, readOnly));
      const report = JSON.parse(r.stdout);
      assert.equal(report.stateDb.status, "ok", show(r));
      // A readable state.db without the row: left as a likely delete.
      assert.deepEqual(
        report.findings.map((f: Reported) => f.kind),
        ["orphan_backup_without_state_row"],
      );
    });
    if (!mounted) console.warn("skipped: cannot bind-mount (not root)");
  });
});

Deno.test({
  name:
    "read-only WAL state.db whose -wal cannot be read: a finding that says why once, not a silent audit of stale data",
  ignore: WITHOUT_DAC_OVERRIDE === null,
  async fn() {
    await withStore(async (store) => {
      await commitOnlyInWal(store);
      await Deno.chmod(store.stateDbPath + "-wal", 0o000);
      const mounted = await withReadOnlyMount(store, async (readOnly) => {
        const args = auditArgs(store, readOnly);
        const r = await runCli(args, {
          prefix: WITHOUT_DAC_OVERRIDE!,
          timeoutMs: RUN_LIMIT_MS,
        });
        assert.equal(r.code, 4, show(r));
        const report = JSON.parse(r.stdout);
        assert.equal(report.stateDb.status, "unreadable");
        const [finding] = report.findings.filter((f: Reported) =>
          f.kind === "state_db_unreadable"
        );
        assert.ok(finding, show(r));
        assert.equal(finding.evidence.problem, "wal_unreadable");
        assert.match(
          finding.message,
          /state\.db-wal of \d+ bytes that cannot be read \(.*\), and committed data may still be in it/,
        );
        assert.match(finding.message, /make it readable/);
        // Said once, in the warning and in the text report alike.
        assert.equal(r.stderr.split("cannot be read").length - 1, 1, r.stderr);
        const text = await runCli(
          args.filter((a) => a !== "--format" && a !== "json"),
          { prefix: WITHOUT_DAC_OVERRIDE!, timeoutMs: RUN_LIMIT_MS },
        );
        for (const line of text.stdout.split("\n")) {
          assert.ok(
            line.split("cannot be read").length <= 2,
            `said twice: ${line}`,
          );
        }
      });
      if (!mounted) console.warn("skipped: cannot bind-mount (not root)");
    });
  },
});
