/**
 * Ownership and mode (issue 3): init scripts run hermes-fsck as root while
 * the server runs as another user, so every file the tool creates or
 * replaces must keep the owner, group and mode of the file it replaces, or
 * for a new file the session dir's owner and group and its mode without
 * execute bits. Run as root on a store owned by uid 1234 / gid 1235.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  buildDamagedStore,
  cli,
  dirArgs,
  faultCli,
  reportOf,
  show,
  type StorePaths,
  withStore,
} from "./safety_support.ts";
import { giveStoreAway, IS_ROOT } from "./owner_support.ts";

const UID = 1234;
const GID = 1235; // unlike the uid, so a swap of the two shows
if (!IS_ROOT) {
  console.warn(
    "ownership_test.ts: skipped, it must run as root to chown files to another user",
  );
}

/** Gives the store to UID:GID, dirs 0750, files 0640 unless `modes` says. */
function giveAway(
  store: StorePaths,
  modes: Record<string, number>,
): Promise<void> {
  return giveStoreAway(store, UID, GID, modes);
}

/** A path and everything below it. */
async function everyPath(path: string): Promise<string[]> {
  const out = [path];
  if ((await Deno.lstat(path)).isDirectory) {
    for await (const entry of Deno.readDir(path)) {
      out.push(...await everyPath(join(path, entry.name)));
    }
  }
  return out;
}

async function ownerOf(
  path: string,
): Promise<{ uid: number | null; gid: number | null; mode: string }> {
  const info = await Deno.lstat(path);
  return {
    uid: info.uid,
    gid: info.gid,
    mode: ((info.mode ?? 0) & 0o7777).toString(8),
  };
}

Deno.test({
  name:
    "ownership: files repair creates or replaces keep the owner and mode of what they replace, or of the dir",
  ignore: !IS_ROOT,
  fn: async () => {
    await withStore(async (store) => {
      await buildDamagedStore(store);
      // Two replaced files get modes of their own, so "the mode of the file
      // it replaced" cannot pass by taking the dir's.
      await giveAway(store, {
        "shrunk.json": 0o600,
        "_index.json": 0o644,
      });
      const r = await cli(
        ["repair", "--server-stopped", ...dirArgs(store), "--format", "json"],
        store,
      );
      assert.equal(r.code, 1, show(r));
      const written = reportOf(r).repair!.actions.flatMap((record) =>
        record.actions.filter((a) => a.status === "applied").map((a) => a.path)
      ).sort();
      const expected: Record<string, string> = {
        // Replaced (0644), but made from the sidecars, shrunk.json's 0600
        // among them: no more readable than that.
        "_index.json": "600",
        "_turn_journal/pending.jsonl": "640", // replaced
        "fromdb.json": "640", // new: the dir's 0750 without execute bits
        "orphan.json": "640", // new
        "pending.json": "640", // replaced
        "shrunk.json": "600", // replaced
      };
      assert.deepEqual(written, Object.keys(expected).sort());
      for (const [path, mode] of Object.entries(expected)) {
        assert.deepEqual(
          await ownerOf(join(store.sessionDir, path)),
          { uid: UID, gid: GID, mode },
          path,
        );
      }

      // The tool's own files (the run's records and quarantine) belong to
      // the session dir's owner too, so a later run as that user can write.
      const own = join(store.sessionDir, "_hermes_fsck");
      for (const path of await everyPath(own)) {
        const { uid, gid } = await ownerOf(path);
        assert.deepEqual({ uid, gid }, { uid: UID, gid: GID }, path);
      }

      // Undo puts the old files back with their owner and mode too.
      const runId = reportOf(r).repair!.runId!;
      const undo = await cli(
        ["undo", runId, "--session-dir", store.sessionDir],
        store,
      );
      assert.equal(undo.code, 1, show(undo));
      for (const [path, mode] of Object.entries(expected)) {
        if (path === "fromdb.json" || path === "orphan.json") {
          await assert.rejects(Deno.lstat(join(store.sessionDir, path)));
          continue;
        }
        assert.deepEqual(
          await ownerOf(join(store.sessionDir, path)),
          { uid: UID, gid: GID, mode },
          `${path} after undo`,
        );
      }
    });
  },
});

Deno.test({
  name:
    "ownership: a run killed as root leaves its lock and records to the session dir's owner",
  ignore: !IS_ROOT,
  fn: async () => {
    await withStore(async (store) => {
      await buildDamagedStore(store);
      await giveAway(store, {});
      const r = await faultCli(["repair", ...dirArgs(store)], store, {
        HERMES_FSCK_FAULT_AFTER_STEPS: "4",
      });
      assert.equal(r.code, 137, show(r));
      const lock = join(store.sessionDir, "_hermes_fsck.lock");
      for (
        const path of [
          lock,
          ...await everyPath(join(store.sessionDir, "_hermes_fsck")),
        ]
      ) {
        const { uid, gid } = await ownerOf(path);
        assert.deepEqual({ uid, gid }, { uid: UID, gid: GID }, path);
      }
    });
  },
});
