/**
 * The benchmark (tools/bench.ts) run small, as a whole process: it builds
 * and caches its stores and prints every figure issue 6 asks for. No figure
 * is judged here: speed and memory are the benchmark's to report, not a
 * test's.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { runCommand } from "./fixtures.ts";

Deno.test("bench: a small run prints the table, start-up, the repair split and every target", async () => {
  const cache = await Deno.makeTempDir({ prefix: "hermes-fsck-bench-test-" });
  try {
    const bench = new URL("../tools/bench.ts", import.meta.url).pathname;
    const args = [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-run",
      bench,
      "--sizes",
      "40,80",
      "--runs",
      "1",
      "--repair",
      "10",
      "--repair-runs",
      "1",
      "--cache",
      cache,
    ];
    const { code, stdout, stderr } = await runCommand(Deno.execPath(), args);
    assert.equal(code, 0, stderr);
    assert.match(stderr, /building v2-s40-/);
    const lines = stdout.split("\n");
    const row = (sessions: number, extra = "") =>
      lines.find((l) =>
        l.startsWith(`${sessions} `) && l.trimEnd().endsWith(extra)
      );
    // sessions, files, MB, largest MB, audit s, bare s, audit/bare, cpu a/b,
    // ms/session, MB/s, peak RSS MB
    for (const line of [row(40), row(80), row(80, "--workers 0")]) {
      assert.ok(line, stdout);
      const figures = line.replace("--workers 0", "").trim().split(/\s+/);
      assert.equal(figures.length, 11, line);
      assert.ok(figures.every((f) => Number.isFinite(Number(f))), line);
    }
    // Small runs are the noisiest: they get 20 s of pairs, up to 4 x --runs.
    assert.match(
      stdout,
      /median of the pairs, [1-4], [1-4], [1-4] pairs row by row/,
    );
    assert.match(stdout, /^start-up, audit of an empty store: \d+ ms$/m);
    assert.match(
      stdout,
      /^repair of 10 damaged sessions \(20 in the store\): [\d.]+ s, \d+ repairs applied, \d+ repairs\/s$/m,
    );
    assert.match(
      stdout,
      /^ {2}of which start-up: [\d.]+ s; scanning: \d+ audits of [\d.]+ s; writing: -?[\d.]+ s for \d+ file actions, -?[\d.]+ ms each$/m,
    );
    for (
      const target of [
        /^ {2}start-up <= 100 ms: \d+ ms, (met|NOT met)$/m,
        /^ {2}audit <= 1\.2x the bare loop: [\d.]+x, [\d.]+x, (met|NOT met)$/m,
        /^ {2}linear scaling: time per session at 80 is [\d.]+x that at 40$/m,
        /^ {2}peak RSS <= 150 MB at 80 sessions: \d+ MB \(max \d+\), (met|NOT met)$/m,
        /^ {2}peak RSS <= 150 MB at 80 sessions with --workers 0: \d+ MB/m,
        /^ {2}peak RSS bounded by the largest file: from 40 to 80 sessions the peak grows -?\d+ MB/m,
      ]
    ) assert.match(stdout, target);
    assert.doesNotMatch(stdout, /(^|\s)-0(\.0+)?(\s|$)/m, "no minus zero");
    // The stores are cached for the next run.
    const cached = [];
    for await (const entry of Deno.readDir(cache)) cached.push(entry.name);
    assert.ok(cached.some((name) => name.startsWith("v2-s40-")), `${cached}`);
    const again = await runCommand(Deno.execPath(), args);
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stderr, /building/);
    await Deno.stat(join(cache, cached.find((n) => n.startsWith("v2-s80-"))!));
  } finally {
    await Deno.remove(cache, { recursive: true });
  }
});
