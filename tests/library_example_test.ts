/**
 * Way 1 of extending: the library example, a program of its own built on
 * mod.ts (and the CLI's `main`) that adds a check. Run as a subprocess with
 * the permissions its compile task bakes in, and through `runPipeline` with a
 * custom check list.
 *
 * @module
 */

import assert from "node:assert/strict";
import { builtinChecks, runPipeline } from "../mod.ts";
import { staleUntitledCheck } from "../examples/library/stale_untitled.ts";
import { type CliResult, runCli, storeArgs, withStore } from "./fixtures.ts";
import { repoPath } from "./plugin_support.ts";

const PROGRAM = repoPath("examples/library/my_fsck.ts");
const DAY = 24 * 60 * 60;
const now = Date.now() / 1000;

function myFsck(
  args: string[],
  env: Record<string, string> = {},
): Promise<CliResult> {
  return runCli(args, {
    entry: PROGRAM,
    env: { HERMES_FSCK_PLUGIN_DIR: "", ...env },
  });
}

Deno.test("the library example is hermes-fsck plus its check", async () => {
  await withStore(async (store) => {
    await store.sidecar("forgotten", { title: "", updated_at: now - 40 * DAY });
    await store.sidecar("untitled", {
      title: "Untitled",
      updated_at: now - 90 * DAY,
    });
    await store.sidecar("recent", { title: "", updated_at: now - 2 * DAY });
    await store.sidecar("named", { title: "Trip", updated_at: now - 90 * DAY });
    await store.sidecar("shrunk", { messages: 1 });
    await store.backup("shrunk", { messages: 5 });

    const audit = await myFsck([
      "audit",
      ...storeArgs(store, false),
      "--format",
      "json",
    ]);
    assert.equal(audit.code, 4, audit.stderr);
    const report = JSON.parse(audit.stdout);
    const stale = report.findings.filter((f: { kind: string }) =>
      f.kind === "stale_untitled_session"
    );
    assert.deepEqual(
      stale.map((f: { sessionId: string }) => f.sessionId).sort(),
      ["forgotten", "untitled"],
    );
    assert.equal(stale[0].check, "stale-untitled");
    assert.equal(stale[0].category, "info");
    assert.ok(
      report.findings.some((f: { kind: string }) => f.kind === "shrunken_live"),
      "the built-in checks still run",
    );

    const lenient = await myFsck(
      ["audit", ...storeArgs(store, false), "--check", "stale-untitled"],
      { STALE_UNTITLED_DAYS: "365" },
    );
    assert.equal(lenient.code, 0);
    assert.match(lenient.stdout, /no problems found/);

    const repair = await myFsck(["repair", ...storeArgs(store, false)]);
    assert.equal(repair.code, 1, "its repairs are the built-in ones");

    const checks = await myFsck(["checks"]);
    assert.match(checks.stdout, /stale-untitled: Old sessions without a title/);
    const explain = await myFsck(["explain", "stale_untitled_session"]);
    assert.equal(explain.code, 0);
    assert.match(explain.stdout, /Check: stale-untitled/);

    const bad = await myFsck(["checks"], { STALE_UNTITLED_DAYS: "soon" });
    assert.equal(bad.code, 16);
  });
});

Deno.test("runPipeline runs a custom check list", async () => {
  await withStore(async (store) => {
    await store.sidecar("forgotten", {
      title: " ",
      updated_at: now - 40 * DAY,
    });
    const report = await runPipeline({
      command: "audit",
      sessionDir: store.sessionDir,
      stateDbPath: null,
      checks: [...builtinChecks, staleUntitledCheck(30)],
    });
    assert.deepEqual(report.findings.map((f) => f.kind), [
      "stale_untitled_session",
    ]);
    assert.deepEqual(report.findings[0].evidence, { idleDays: 40 });
    assert.equal(report.exitCode, 0);
  });
});
