/**
 * Idempotence (issue 3): a repair that has run leaves nothing for a second
 * one. On a store damaged in every repairable way, the second `repair`
 * exits 0, changes no byte and no file time, and creates no run dir.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  buildDamagedStore,
  cli,
  dirArgs,
  reportOf,
  runDirs,
  show,
  treeBytes,
  treeDiff,
  withStore,
} from "./safety_support.ts";

/** Every file's mtime below a dir. */
async function mtimes(dir: string): Promise<Map<string, number | null>> {
  const out = new Map<string, number | null>();
  for (const path of (await treeBytes(dir)).keys()) {
    const info = await Deno.lstat(join(dir, path));
    if (info.isFile) out.set(path, info.mtime?.getTime() ?? null);
  }
  return out;
}

Deno.test("idempotence: a second repair exits 0, changes no byte and creates no run", async () => {
  await withStore(async (store) => {
    await buildDamagedStore(store);
    const first = await cli(["repair", ...dirArgs(store)], store);
    assert.equal(first.code, 1, show(first));
    const runs = await runDirs(store.sessionDir);
    assert.equal(runs.length, 1);

    const bytes = await treeBytes(store.root);
    const times = await mtimes(store.root);
    const second = await cli(["repair", ...dirArgs(store)], store);
    assert.equal(second.code, 0, show(second));
    assert.equal(second.stderr, "");
    assert.doesNotMatch(second.stdout, /^Run /m, second.stdout);
    assert.deepEqual(treeDiff(bytes, await treeBytes(store.root)), []);
    assert.deepEqual(await mtimes(store.root), times);
    assert.deepEqual(await runDirs(store.sessionDir), runs);

    // The JSON report of a third one says the same: nothing to do, no run.
    const third = await cli(
      ["repair", ...dirArgs(store), "--format", "json"],
      store,
    );
    assert.equal(third.code, 0, show(third));
    const report = reportOf(third);
    assert.equal(report.repair?.runId, null);
    assert.deepEqual(report.repair?.actions, []);
    assert.equal(report.summary.repairable, 0);
    assert.deepEqual(treeDiff(bytes, await treeBytes(store.root)), []);
    assert.deepEqual(await mtimes(store.root), times);
    assert.deepEqual(await runDirs(store.sessionDir), runs);
  });
});
