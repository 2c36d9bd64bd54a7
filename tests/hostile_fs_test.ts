/**
 * The filesystem turning hostile during a repair (issue 7): a read-only
 * filesystem (a tmpfs remounted read-only, and a read-only bind mount over
 * the journal dir), a full disk (a tiny tmpfs, filled), and a file replaced
 * by a symlink between plan and apply. Each repair stops that action
 * cleanly, keeps everything it had (no message lost, no temp left behind,
 * nothing outside the store touched) and exits with 8 (a repair action
 * failed) or 4 (problems left) in its mask, giving the path and what to do.
 *
 * The mounts need root and `mount` (a container with CAP_SYS_ADMIN); where
 * they are not allowed those tests are skipped and say so. The symlink race
 * needs neither: it runs the repair in this process with a repair that
 * swaps the file after planning.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { makeMessages, TestStore } from "./fixtures.ts";
import {
  assertNoMessageLost,
  buildDamagedStore,
  cli,
  dirArgs,
  PENDING_CONTENT,
  storeMessages,
  treeBytes,
  treeDiff,
} from "./safety_support.ts";
import {
  assertNoCrashInside,
  assertSurvived,
  CAN_MOUNT,
  fillDisk,
  MOUNT_NOTE,
  parsedReport,
  sh,
  withTmpfsStore,
} from "./hostile_support.ts";
import { runPipeline } from "../core/run/run.ts";
import { builtinRepairs } from "../repairs/builtin.ts";
import { isSkip, type Repair } from "../core/plugins/repair.ts";

/**
 * Repairs the damaged store as a subprocess and checks the exit code; the
 * failed records, and a check that every message and no temp is left.
 */
async function repairUnder(
  store: TestStore,
  codes: ReadonlySet<number>,
  context: string,
) {
  const messages = await storeMessages(store.sessionDir);
  const r = await cli(
    ["repair", "--server-stopped", ...dirArgs(store), "--format", "json"],
    store,
  );
  assertSurvived(r, codes, context);
  const report = parsedReport(r);
  return {
    report,
    failed: report.repair!.actions.filter((a) => a.status === "failed"),
    keptAll: async () => {
      await assertNoMessageLost(store.sessionDir, messages, [
        { sid: "pending", content: PENDING_CONTENT },
      ], context);
      await assertNoTempsLeft(store);
    },
  };
}

/** No temp of the tool's own is left in the session dir or its journal dir. */
async function assertNoTempsLeft(store: TestStore): Promise<void> {
  const all = await treeBytes(store.sessionDir);
  const temps = [...all.keys()].filter((p) =>
    /\.hermes-fsck\.tmp\.|_hermes_fsck\.lock\.tmp\./.test(p)
  );
  assert.deepEqual(temps, [], "temps left behind");
}

Deno.test({
  name:
    `hostile fs: a read-only filesystem: repair exits 8 naming the path and the fix, audit still works${MOUNT_NOTE}`,
  ignore: !CAN_MOUNT,
  fn: async () => {
    await withTmpfsStore("4m", async (store, mountPoint) => {
      await buildDamagedStore(store);
      const before = await treeBytes(store.root);
      assert.ok(sh(`mount -o remount,ro '${mountPoint}'`).ok);
      const r = await cli(["repair", ...dirArgs(store)], store);
      assertSurvived(r, new Set([8]));
      assert.match(
        r.stderr,
        new RegExp(
          `cannot create the lock ${
            store.path("_hermes_fsck.lock").replaceAll(".", "\\.")
          } .*read-only: remount it read-write and run repair again \\(audit writes nothing\\) \\[exit 8\\]`,
        ),
      );
      const audit = await cli(["audit", ...dirArgs(store)], store);
      assertSurvived(audit, new Set([4]));
      assert.deepEqual(treeDiff(before, await treeBytes(store.root)), []);
    });
  },
});

Deno.test({
  name:
    `hostile fs: a read-only journal dir: that action stops cleanly, the rest is repaired, nothing is lost${MOUNT_NOTE}`,
  ignore: !CAN_MOUNT,
  fn: async () => {
    await withTmpfsStore("4m", async (store) => {
      await buildDamagedStore(store);
      const journals = store.path("_turn_journal");
      assert.ok(sh(`mount --bind '${journals}' '${journals}'`).ok);
      assert.ok(sh(`mount -o remount,bind,ro '${journals}'`).ok);
      // Repairs were made (1), one action failed (8).
      const { report, failed, keptAll } = await repairUnder(
        store,
        new Set([9, 13]),
        "read-only journal dir",
      );
      assert.deepEqual(failed.map((a) => a.repair), ["recover_pending_turn"]);
      assert.match(
        failed[0].detail ?? "",
        /^_turn_journal\/pending\.jsonl: .*read-only: remount it read-write and run repair again/,
      );
      for (const a of report.repair!.actions) {
        if (a !== failed[0]) assert.equal(a.status, "applied", a.repair);
      }
      await keptAll();
      // Writable again, the next repair finds the store consistent.
      assert.ok(sh(`umount '${journals}'`).ok);
      const again = await cli(["repair", ...dirArgs(store)], store);
      assertSurvived(again, new Set([0, 1]));
    });
  },
});

Deno.test({
  name:
    `hostile fs: no space left: each action that cannot be written stops cleanly with the reason, nothing is lost${MOUNT_NOTE}`,
  ignore: !CAN_MOUNT,
  fn: async () => {
    await withTmpfsStore("512k", async (store) => {
      await buildDamagedStore(store);
      // A backup of 800 messages: restoring it needs some 80 KB.
      await store.backup("shrunk", {
        messages: makeMessages(800, "shrunk bak"),
      });
      // Room for the lock and a few small files, not for the big restore.
      const filler = await fillDisk(store.root, 6);
      const bytes = await treeBytes(store.sessionDir);
      const { report, failed, keptAll } = await repairUnder(
        store,
        new Set([12, 13]),
        "full disk",
      );
      assert.ok(failed.length > 0);
      for (const a of failed) {
        assert.match(
          a.detail ?? "",
          /^[^:]+: No space left on device.*; the disk is full: free some space and run repair again/,
          a.repair,
        );
      }
      const restore = report.repair!.actions.find((a) =>
        a.repair === "restore_from_bak" && a.sessionId === "shrunk"
      );
      assert.equal(restore?.status, "failed");
      // The live file and its backup are as they were.
      const after = await treeBytes(store.sessionDir);
      for (const name of ["shrunk.json", "shrunk.json.bak"]) {
        assert.deepEqual(after.get(name), bytes.get(name), name);
      }
      await keptAll();
      // With space again, the next repair completes and the store is clean.
      await Deno.remove(filler, { recursive: true });
      const again = await cli(["repair", ...dirArgs(store)], store);
      assertSurvived(again, new Set([1]));
      const clean = await cli(["audit", ...dirArgs(store)], store);
      assertSurvived(clean, new Set([0]));
    });
  },
});

/** The built-in repairs, with `swap` run once `id` has planned its first action. */
function swappingAfterPlan(
  id: string,
  swap: () => Promise<void>,
): Repair[] {
  let swapped = false;
  return builtinRepairs.map((repair) =>
    repair.id !== id ? repair : {
      ...repair,
      async plan(findings, context) {
        const plan = await repair.plan(findings, context);
        if (!isSkip(plan) && !swapped) {
          swapped = true;
          await swap();
        }
        return plan;
      },
    }
  );
}

Deno.test("hostile fs: a file replaced by a symlink between plan and apply: the safety layer refuses it and the run goes on", async () => {
  for (const target of ["shrunk.json", "_turn_journal"]) {
    const store = await TestStore.create();
    try {
      await buildDamagedStore(store);
      const outside = join(store.root, "outside");
      await Deno.mkdir(outside);
      const moved = join(outside, target.replace("/", "_"));
      const repairId = target === "shrunk.json"
        ? "restore_from_bak"
        : "recover_pending_turn";
      const repairs = swappingAfterPlan(repairId, async () => {
        // What an attacker (or a confused script) does in between: the
        // real file or dir goes elsewhere and a link takes its place.
        await Deno.rename(store.path(target), moved);
        await Deno.symlink(moved, store.path(target));
      });
      const messages = await storeMessages(store.sessionDir);
      let outsideBefore: Map<string, Uint8Array | string> | undefined;
      const report = await runPipeline({
        command: "repair",
        sessionDir: store.sessionDir,
        stateDbPath: store.stateDbPath,
        hermesHome: store.hermesHome,
        serverStopped: true,
        repairs: repairs.map((r) =>
          r.id !== repairId ? r : {
            ...r,
            async plan(findings, context) {
              const plan = await r.plan(findings, context);
              outsideBefore = await treeBytes(outside);
              return plan;
            },
          }
        ),
      });
      const record = report.repair!.actions.find((a) => a.repair === repairId);
      assert.equal(record?.status, "skipped", JSON.stringify(record));
      assert.match(
        record!.detail ?? "",
        target === "shrunk.json"
          ? /refused to write shrunk\.json: it is a symlink/
          : /refused to write _turn_journal\/pending\.jsonl: _turn_journal is not a plain directory/,
      );
      assert.equal(
        record!.actions.find((a) => a.status === "skipped")?.reason,
        "refused",
      );
      // Nothing behind the link changed; the link is still the link.
      assert.deepEqual(treeDiff(outsideBefore!, await treeBytes(outside)), []);
      assert.ok((await Deno.lstat(store.path(target))).isSymlink);
      // The other repairs went on, and the exit code says problems remain.
      assert.ok(
        report.repair!.actions.some((a) =>
          a.repair === "materialize_from_state_db" && a.status === "applied"
        ),
      );
      assert.equal(report.exitCode & 4, 4);
      assert.equal(report.exitCode & 8, 0);
      if (target === "_turn_journal") {
        const linked = report.findings.find((f) =>
          f.kind === "unreadable_file" && f.paths[0] === "_turn_journal"
        );
        assert.match(linked?.message ?? "", /no journal was checked/);
      }
      // Put the real file back: no message was lost on the way.
      await Deno.remove(store.path(target));
      await Deno.rename(moved, store.path(target));
      await assertNoMessageLost(store.sessionDir, messages, [
        { sid: "pending", content: PENDING_CONTENT },
      ], `swap of ${target}`);
      assertNoCrashInside(
        JSON.parse(JSON.stringify(report)),
        `swap of ${target}`,
      );
    } finally {
      await store.cleanup();
    }
  }
});
