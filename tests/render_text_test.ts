/**
 * The text report at scale: a store with 10,000 findings of three kinds
 * gives a report of a few dozen lines (each kind once, with its count, the
 * first five examples and how many more), and --verbose lists every one.
 */

import assert from "node:assert/strict";
import { runCli, TestStore } from "./fixtures.ts";

Deno.test("text report: 10,000 findings stay readable, grouped by kind; --verbose lists all", async () => {
  const store = await TestStore.create();
  try {
    // 1,000 index entries without a sidecar (past that, one index's
    // entries are one finding with a count: report_size_test.ts), 600
    // sidecars without an entry, 8,400 backups without a live file:
    // 10,000 findings in all.
    const entries = Array.from({ length: 1000 }, (_, i) => ({
      session_id: `gone_${i}`,
      title: "t",
      updated_at: 1,
      message_count: 1,
      last_message_at: 1,
    }));
    await store.index(entries);
    for (let i = 0; i < 600; i++) await store.writeRaw(`new_${i}.json`, "{}");
    for (let i = 0; i < 8400; i++) {
      await store.backup(`lost_${i}`, { messages: 2 });
    }
    const args = ["audit", "--session-dir", store.sessionDir, "--no-state-db"];
    const [short, verbose] = await Promise.all([
      runCli(args),
      runCli([...args, "--verbose"]),
    ]);
    assert.equal(short.code, 4, short.stderr);
    const lines = short.stdout.trimEnd().split("\n");
    assert.ok(lines.length < 60, `${lines.length} lines`);
    for (
      const [kind, count] of [
        ["index_missing_file", 1000],
        ["index_missing_entry", 600],
        ["orphan_backup", 8400],
      ] as const
    ) {
      const header = lines.findIndex((l) => l.startsWith(`${kind} (${count},`));
      assert.ok(header >= 0, `a header for ${kind}`);
      assert.equal(lines.filter((l) => l.startsWith(`${kind} (`)).length, 1);
      const examples = lines.slice(header + 1, header + 6);
      assert.ok(examples.every((l) => l.startsWith("  - ")), kind);
      assert.equal(
        lines[header + 6],
        `  ... and ${count - 5} more (--verbose lists all)`,
      );
    }
    assert.match(lines.at(-1)!, /^Next: /);
    const listed = verbose.stdout.split("\n").filter((l) =>
      l.startsWith("  - ")
    );
    assert.ok(listed.length >= 10_000, `${listed.length} findings listed`);
    assert.ok(!verbose.stdout.includes("more (--verbose lists all)"));
  } finally {
    await store.cleanup();
  }
});
