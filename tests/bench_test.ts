/**
 * The benchmark (tools/bench.ts) in its quick mode, as a whole process: it
 * builds and caches its stores and prints one table with a row per store
 * shape and size and a column per tool, then every target of issue 22 with
 * its verdict. No figure is judged here: speed and memory are the
 * benchmark's to report, not a test's.
 */

import assert from "node:assert/strict";
import { runCommand } from "./fixtures.ts";
import { upstreamDir } from "./upstream_store_support.ts";

const COLUMNS = [
  "shape",
  "sessions",
  "files",
  "MB",
  "audit s",
  "bare s",
  "server s",
  "audit/bare",
  "server/audit",
  "server/bare",
  "peak RSS MB",
  "rounds",
];

Deno.test("bench --quick prints a row per shape and size, every column, and every target with its verdict", async () => {
  const cache = await Deno.makeTempDir({ prefix: "hermes-fsck-bench-test-" });
  const server = !(await upstreamDir("hermes-webui-df65251d5"))
    .startsWith("skipped");
  try {
    const bench = new URL("../tools/bench.ts", import.meta.url).pathname;
    const args = [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-run",
      bench,
      "--quick",
      "--sizes",
      "20,40",
      "--cache",
      cache,
    ];
    const { code, stdout, stderr } = await runCommand(Deno.execPath(), args);
    assert.equal(code, 0, stderr);
    assert.match(stderr, /building v2-s20-/);
    assert.match(stderr, /building v2-uniform-s40-/);
    const lines = stdout.split("\n");
    const head = lines.findIndex((l) => l.startsWith("shape "));
    assert.ok(head >= 0, stdout);
    assert.deepEqual(lines[head].split(/\s{2,}/), COLUMNS, lines[head]);
    const rows = lines.slice(head + 1, head + 5).map((l) => l.split(/\s+/));
    assert.deepEqual(
      rows.map((r) => `${r[0]} ${r[1]}`),
      ["long-tailed 20", "long-tailed 40", "uniform 20", "uniform 40"],
      stdout,
    );
    for (const row of rows) {
      assert.equal(row.length, COLUMNS.length, row.join(" "));
      for (const [i, cell] of row.slice(1).entries()) {
        const serverColumn = COLUMNS[i + 1].startsWith("server");
        if (serverColumn && !server) assert.equal(cell, "n/a");
        else {assert.ok(
            Number.isFinite(Number(cell)),
            `${COLUMNS[i + 1]}: ${cell}`,
          );}
      }
    }
    assert.match(stdout, /^start-up, audit of an empty store: \d+ ms/m);
    assert.match(
      stdout,
      /^repair of 10 damaged sessions \(20 in the store\): [\d.]+ s, \d+ repairs, \d+ file actions$/m,
    );
    assert.match(stdout, /ms a file action$/m);
    assert.match(
      stdout,
      /^ {2}timed inside the run, a file action: [\d.]+ ms \(planning [\d.]+ ms, writing [\d.]+ ms\)$/m,
    );
    assert.match(stdout, /^ {2}one bare durable replace .*: [\d.]+ ms$/m);
    const verdict = "(met|NOT met)";
    const targets = [
      `audit <= 1.2x the bare loop, long-tailed: [\\d.]+x at 20, [\\d.]+x at 40: ${verdict}`,
      `audit <= 1.2x the bare loop, uniform: [\\d.]+x at 20, [\\d.]+x at 40: ${verdict}`,
      ...["long-tailed", "uniform"].map((shape) =>
        `audit >= 2x faster than the server's audit, ${shape}: ` +
        (server
          ? `server/audit [\\d.]+x at 20, [\\d.]+x at 40: ${verdict}`
          : "not measured \\(skipped: .*\\)")
      ),
      "peak RSS <= 150 MB at 20000 sessions: not measured \\(largest store 40 sessions: \\d+ MB\\)",
      `empty-store start-up <= 100 ms: \\d+ ms: ${verdict}`,
      `repair <= 3 ms a file action: [\\d.]+ ms, [\\d.]+x a bare durable replace of [\\d.]+ ms: ${verdict}`,
    ];
    for (const target of targets) {
      assert.match(stdout, new RegExp(`^ {2}${target}$`, "m"));
    }
    assert.doesNotMatch(stdout, /(^|\s)-0(\.0+)?(\s|$)/m, "no minus zero");
    // The stores are cached for the next run.
    const again = await runCommand(Deno.execPath(), [
      ...args.slice(0, -5),
      "--quick",
      "--sizes",
      "20",
      "--repair",
      "0",
      "--cache",
      cache,
    ]);
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stderr, /building/);
    assert.match(
      again.stdout,
      /^ {2}repair <= 3 ms a file action: not measured \(--repair 0\)$/m,
    );
  } finally {
    await Deno.remove(cache, { recursive: true });
  }
});

Deno.test("bench:machinery prints every variant beside the shipped audit, all finding the same", async () => {
  const cache = await Deno.makeTempDir({ prefix: "hermes-fsck-bench-test-" });
  try {
    const tool = new URL("../tools/bench_machinery.ts", import.meta.url)
      .pathname;
    const { code, stdout, stderr } = await runCommand(Deno.execPath(), [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-run",
      tool,
      "--sessions",
      "30",
      "--runs",
      "1",
      "--cache",
      cache,
    ]);
    assert.equal(code, 0, stderr);
    assert.match(
      stdout,
      /^audit of uniform, 30 sessions .* every variant found the same \d+ findings$/m,
    );
    const names = stdout.split("\n").filter((l) =>
      /^[a-zA-Z0-9 ]+?\s+\d+\.\d\d\s/.test(l)
    )
      .map((l) => l.slice(0, 15).trim());
    assert.deepEqual(names, [
      "shipped",
      "no workers",
      "not in parts",
      "no heap trim",
      "no V8 flags",
    ], stdout);
    assert.match(stdout, /^shipped\s+\d+\.\d\d\s+\d+\s+1\.00\s+1\.00$/m);
  } finally {
    await Deno.remove(cache, { recursive: true });
  }
});
