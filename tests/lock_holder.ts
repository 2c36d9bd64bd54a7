/**
 * A process that takes the repair lock the way `repair` and `undo` do, for
 * the lock tests: one of several started at once, or a holder killed for
 * real. It waits for `GO_FILE` to exist (after creating
 * `GO_FILE.ready.<pid>`), takes the lock of `SESSION_DIR`, prints one JSON
 * line (`{"got": true, "tookOverFrom": ...}` or `{"got": false, "error"}`),
 * then holds the lock for `HOLD_MS` (or until killed, with `forever`) and
 * releases it.
 *
 * Run: `deno run --allow-read --allow-write --allow-env tests/lock_holder.ts
 * SESSION_DIR GO_FILE|- HOLD_MS|forever`.
 *
 * @module
 */

import { acquireLock } from "../core/io/lock.ts";

const [sessionDir, goFile, hold] = Deno.args;
if (goFile !== "-") {
  await Deno.writeTextFile(`${goFile}.ready.${Deno.pid}`, "");
  const deadline = Date.now() + 30_000;
  while (!(await Deno.lstat(goFile).catch(() => null))) {
    if (Date.now() > deadline) throw new Error(`${goFile} never came`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
let lock;
try {
  lock = await acquireLock(sessionDir, "repair");
} catch (error) {
  console.log(JSON.stringify({ got: false, error: String(error) }));
  Deno.exit(0);
}
console.log(JSON.stringify({ got: true, tookOverFrom: lock.tookOverFrom }));
if (hold === "forever") {
  setInterval(() => {}, 60_000); // an empty event loop would end the process
  await new Promise(() => {});
}
await new Promise((resolve) => setTimeout(resolve, Number(hold)));
await lock.release();
