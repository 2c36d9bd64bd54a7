/**
 * Tests of the scan part by part (core/scan/part_scan.ts): no part is handed
 * over before the store-wide files it is cut from are read (`waitFor`), even
 * when all of its sessions are read first, as a worker may read them while
 * this thread still reads the index; and a failed read checks no part. An
 * audit with nothing to read but the store-wide files still ends.
 */

import assert from "node:assert/strict";
import { PartScan } from "../core/scan/part_scan.ts";
import { ScanRun } from "../core/scan/scan_run.ts";
import { SessionWalk } from "../core/scan/session_walk.ts";
import type { StoreSnapshot } from "../core/scan/snapshot.ts";
import { runCli } from "./fixtures.ts";

/** A scan of sessions a, b, c in parts of one, with what onPart saw. */
function threePartScan() {
  const parts: string[][] = [];
  const options = {
    sessions: 1,
    onPart(part: StoreSnapshot) {
      parts.push([...part.sessions.keys()]);
    },
  };
  const run = new ScanRun({
    sessionDir: "/nonexistent",
    stateDbPath: null,
    parts: options,
  });
  const names = ["a.json", "b.json", "c.json"];
  const scan = new PartScan(
    run.store,
    () => new SessionWalk(names, [], [], () => false),
    options,
  );
  return { scan, parts };
}

/** Takes every task and says it is done, as the readers would. */
async function readAll(scan: PartScan): Promise<void> {
  for (let i = 0; i < scan.tasks.count; i++) {
    const task = scan.tasks.take(i);
    scan.done(task.sessionId);
  }
  // Let every promise callback run.
  await new Promise((resolve) => setTimeout(resolve, 0));
}

Deno.test("part scan: every session read, no part is handed over before the store-wide reads end", async () => {
  const { scan, parts } = threePartScan();
  const storeWide = Promise.withResolvers<void>();
  scan.waitFor(storeWide.promise);
  await readAll(scan);
  assert.deepEqual(parts, []);
  storeWide.resolve();
  await scan.finish();
  assert.deepEqual(parts, [["a"], ["b"], ["c"]]);
});

Deno.test("part scan: a store-wide read that fails checks no part, and finish throws it", async () => {
  const { scan, parts } = threePartScan();
  const storeWide = Promise.withResolvers<void>();
  scan.waitFor(storeWide.promise);
  await readAll(scan);
  storeWide.reject(new Error("_index.json: written to while read"));
  await assert.rejects(scan.finish(), /_index\.json: written to while read/);
  assert.deepEqual(parts, []);
});

Deno.test("part scan: without waitFor, a part goes to onPart as soon as its sessions are read", async () => {
  const { scan, parts } = threePartScan();
  await readAll(scan);
  assert.deepEqual(parts, [["a"], ["b"], ["c"]]);
  await scan.finish();
});

Deno.test("part scan: an audit of a session dir with no session file, or only an index, ends", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hermes-fsck-parts-" });
  try {
    const audit = () =>
      runCli(["audit", "--session-dir", dir, "--no-state-db"], {
        timeoutMs: 20_000,
      });
    const empty = await audit();
    assert.equal(empty.code, 0, empty.stderr);
    await Deno.writeTextFile(`${dir}/_index.json`, "[]");
    const indexOnly = await audit();
    assert.equal(indexOnly.code, 0, indexOnly.stderr);
    assert.match(indexOnly.stdout, /0 sessions/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
