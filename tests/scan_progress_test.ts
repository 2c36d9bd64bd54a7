/**
 * Tests of the progress line (core/scan/progress.ts): drawn only on a
 * terminal, never with --quiet, only after the delay, at most a few times a
 * second, and erased at the end; and through the CLI, nothing on a pipe
 * while a real terminal (a pty from `script`) gets the line.
 */

import assert from "node:assert/strict";
import {
  formatProgress,
  formatRepairProgress,
  ProgressLine,
  showProgress,
} from "../core/scan/progress.ts";
import { cliRunArgs, runCli, TestStore } from "./fixtures.ts";

Deno.test("progress: shown only on a terminal and never with --quiet", () => {
  assert.equal(showProgress({ stderrIsTerminal: true, quiet: false }), true);
  assert.equal(showProgress({ stderrIsTerminal: false, quiet: false }), false);
  assert.equal(showProgress({ stderrIsTerminal: true, quiet: true }), false);
  assert.equal(showProgress({ stderrIsTerminal: false, quiet: true }), false);
});

Deno.test("progress: the line says files scanned, MB/s and the time left", () => {
  assert.equal(
    formatProgress({
      filesDone: 500,
      files: 2000,
      bytesRead: 50e6,
      elapsedMs: 2000,
    }),
    "hermes-fsck: scanned 500 of 2000 files, 25 MB/s, about 6 s left",
  );
  assert.equal(
    formatProgress({ filesDone: 0, files: 10, bytesRead: 0, elapsedMs: 0 }),
    "hermes-fsck: scanned 0 of 10 files, 0 MB/s",
  );
});

Deno.test("progress: nothing in the first second, then at most every 250 ms, erased at the end", () => {
  const written: string[] = [];
  const line = new ProgressLine((text) => written.push(text));
  const at = (elapsedMs: number, filesDone: number) =>
    line.update({
      filesDone,
      files: 100,
      bytesRead: filesDone * 1e6,
      elapsedMs,
    });
  at(100, 1);
  at(999, 10);
  assert.equal(written.length, 0, "a scan under a second shows nothing");
  at(1000, 20);
  at(1100, 21);
  at(1249, 22);
  at(1250, 30);
  assert.equal(written.length, 2);
  assert.ok(written[0].startsWith("\rhermes-fsck: scanned 20 of 100 files, "));
  assert.ok(written[0].endsWith("\x1b[K"), "erases the rest of the line");
  assert.match(written[1], /scanned 30 of 100 files/);
  line.done();
  assert.equal(written.at(-1), "\r\x1b[K");
  const quiet: string[] = [];
  const short = new ProgressLine((text) => quiet.push(text));
  short.update({ filesDone: 1, files: 1, bytesRead: 1, elapsedMs: 10 });
  short.done();
  assert.deepEqual(quiet, [], "a line never drawn is not erased either");
});

async function storeWithFiles(): Promise<TestStore> {
  const store = await TestStore.create();
  for (let i = 0; i < 5; i++) await store.sidecar(`s${i}`, { messages: 3 });
  return store;
}

Deno.test("progress CLI: no progress line when stderr is not a terminal", async () => {
  const store = await storeWithFiles();
  try {
    const result = await runCli(
      ["audit", "--session-dir", store.sessionDir, "--no-state-db"],
      { env: { HERMES_FSCK_PROGRESS_DELAY_MS: "0" } },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, "");
  } finally {
    await store.cleanup();
  }
});

/** Runs the CLI with its stderr on a pty (`script`); returns what it drew. */
async function onTerminal(args: string[]): Promise<string | null> {
  try {
    await Deno.stat("/usr/bin/script");
  } catch {
    return null;
  }
  const command = [Deno.execPath(), ...cliRunArgs(args)].join(" ");
  const output = await new Deno.Command("/usr/bin/script", {
    args: ["-qec", `${command} >/dev/null`, "/dev/null"],
    env: { NO_COLOR: "1", HERMES_FSCK_PROGRESS_DELAY_MS: "0" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return new TextDecoder().decode(output.stdout);
}

Deno.test("progress CLI: a terminal gets the line, and --quiet silences it", async () => {
  const store = await storeWithFiles();
  try {
    const args = ["audit", "--session-dir", store.sessionDir, "--no-state-db"];
    const drawn = await onTerminal(args);
    if (drawn === null) return; // no `script` here to make a terminal
    // The index (read first, on its own) and the five sidecars.
    assert.match(drawn, /\rhermes-fsck: scanned \d+ of \d+ files, \d+ MB\/s/);
    assert.ok(drawn.endsWith("\r\x1b[K"), "the line is erased at the end");
    assert.equal(await onTerminal([...args, "--quiet"]), "");
  } finally {
    await store.cleanup();
  }
});

Deno.test("progress: a repair pass's line follows the scan's, and a new scan's clock draws again", () => {
  const written: string[] = [];
  const line = new ProgressLine((text) => written.push(text));
  line.update({ filesDone: 5, files: 10, bytesRead: 5e6, elapsedMs: 1100 });
  // The repairs' clock starts at their own beginning: drawn past its delay,
  // however recently the scan's line was.
  line.repairs({ pass: 1, done: 0, total: 40, elapsedMs: 500 });
  line.repairs({ pass: 1, done: 3, total: 40, elapsedMs: 1000 });
  line.repairs({ pass: 1, done: 4, total: 40, elapsedMs: 1100 });
  // The next audit's scan starts its clock again.
  line.update({ filesDone: 2, files: 12, bytesRead: 2e6, elapsedMs: 1000 });
  line.repairs({ pass: 2, done: 0, total: 1, elapsedMs: 1000 });
  assert.deepEqual(written.map((t) => t.replace(/, \d+ MB.*$/, "")), [
    "\rhermes-fsck: scanned 5 of 10 files",
    "\rhermes-fsck: repair pass 1: 3 of 40 repairs done\x1b[K",
    "\rhermes-fsck: scanned 2 of 12 files",
    "\rhermes-fsck: repair pass 2: 0 of 1 repairs done\x1b[K",
  ]);
  assert.equal(
    formatRepairProgress({ pass: 1, done: 3, total: 40, elapsedMs: 0 }),
    "hermes-fsck: repair pass 1: 3 of 40 repairs done",
  );
});
