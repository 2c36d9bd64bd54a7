/**
 * I/O errors in the middle of a repair (the safety layer's
 * `HERMES_FSCK_FAULT_KIND=io_error`: the durable step N fails once, as a
 * failing disk would, and the run goes on). After an error at any step:
 * every file of the store is still at its path (an error between moving
 * the old file aside and linking the new one in puts the old one back), no
 * message is lost, the next repair completes and the store audits clean,
 * and undoing the runs gives back the original bytes.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { TestStore } from "./fixtures.ts";
import {
  assertNoMessageLost,
  assertNoUncaught,
  atFaultPoint,
  buildDamagedStore,
  completeThenUndo,
  dirArgs,
  faultCli,
  originalOf,
  PENDING,
  pool,
  runDirs,
  show,
  treeBytes,
} from "./safety_support.ts";

/** The sidecars and backups of a store: the files a repair may replace. */
function sessionFiles(files: Map<string, unknown>): string[] {
  return [...files.keys()].filter((name) => /^[a-z]+\.json(\.bak)?$/.test(name))
    .sort();
}

Deno.test("io fault: an I/O error at any durable step of a repair leaves every file at its path and loses nothing", async () => {
  const pristine = await TestStore.create();
  const work = await Deno.makeTempDir({ prefix: "hermes-fsck-io-fault-" });
  try {
    await buildDamagedStore(pristine);
    const original = await originalOf(pristine, PENDING);
    const before = sessionFiles(original.files);
    assert.ok(before.includes("shrunk.json"), before.join(", "));

    // Every step of the run gets its error; 80 is past the last (checked).
    const STEPS = 80;
    let lastTraced = 0;
    let putBack = 0;
    const failures: string[] = [];
    const steps = Array.from({ length: STEPS }, (_, i) => i + 1);
    await pool(
      steps,
      4,
      (n) =>
        atFaultPoint(
          pristine.root,
          join(work, `n${n}`),
          failures,
          async (store) => {
            const context = `I/O error at step ${n}`;
            const faulted = await faultCli(
              [
                "repair",
                "--server-stopped",
                ...dirArgs(store),
                "--format",
                "json",
              ],
              store,
              {
                HERMES_FSCK_FAULT_AFTER_STEPS: String(n),
                HERMES_FSCK_FAULT_KIND: "io_error",
              },
            );
            assertNoUncaught(faulted);
            assert.ok(faulted.code !== 137, `${context}: ${show(faulted)}`);
            if (/injected I\/O error/.test(faulted.stdout + faulted.stderr)) {
              lastTraced = Math.max(lastTraced, n);
            }
            if (/the old file was put back/.test(faulted.stdout)) putBack++;
            const now = sessionFiles(
              await treeBytes(store.sessionDir, { storeOnly: true }),
            );
            for (const name of before) {
              assert.ok(
                now.includes(name),
                `${context}: ${name} is gone\n${show(faulted)}`,
              );
            }
            await assertNoMessageLost(
              store.sessionDir,
              original.messages,
              original.pending,
              context,
            );
            const runs = await runDirs(store.sessionDir);
            await completeThenUndo(store, original, context, runs);
          },
        ),
    );
    assert.ok(lastTraced > 20, `errors showed up to step ${lastTraced} only`);
    assert.ok(lastTraced < STEPS - 5, `the run has ${lastTraced}+ steps`);
    assert.deepEqual(failures.sort(), [], `${failures.length} steps failed`);
    // Some errors fell between moving a file aside and linking its
    // replacement in, and those files were put back.
    assert.ok(putBack > 0, "no error fell between move-aside and link");
  } finally {
    await pristine.cleanup();
    await Deno.remove(work, { recursive: true });
  }
});
