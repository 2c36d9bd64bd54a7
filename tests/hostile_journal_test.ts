/**
 * Hostile turn journals (issue 7): malformed lines, `created_at` missing or
 * not a number, events without `turn_id`, enormous lines, and journal file
 * names with ids that are not valid. Each is reported with its file and
 * line; none stops the run; no invalid id becomes a path. (The line-level
 * rules are also unit-tested in turn_journal_test.ts and
 * turn_journal_health_test.ts; here they meet the CLI.)
 */

import assert from "node:assert/strict";
import { withStore } from "./fixtures.ts";
import { cliHere, submittedEvent, treeBytes } from "./safety_support.ts";
import {
  assertNoCrashInside,
  assertSurvived,
  jsonArgs,
  parsedReport,
} from "./hostile_support.ts";

Deno.test("hostile journal: malformed lines, bad created_at and missing turn_id are reported by line; pending turns are still recovered", async () => {
  await withStore(async (store) => {
    await store.sidecar("s1", { messages: 2 });
    await store.journal("s1", [
      "not json at all",
      "[1, 2, 3]",
      '"a string"',
      "null",
      "\u0000\u0000\u0000",
      '{"torn": ',
      { event: "submitted", content: "no turn id", created_at: 1 },
      { ...submittedEvent("s1", "", "empty turn id") },
      {
        ...submittedEvent("s1", "t1", "created_at is text"),
        created_at: "soon",
      },
      {
        ...submittedEvent("s1", "t2", "created_at missing"),
        created_at: undefined,
      },
      {
        ...submittedEvent("s1", "t3", "created_at is a list"),
        created_at: [1],
      },
      {
        ...submittedEvent("s1", "t4", "created_at is NaN-ish"),
        created_at: null,
      },
    ]);
    const r = await cliHere(
      jsonArgs("repair", store.sessionDir, "--server-stopped"),
      store,
    );
    assertSurvived(r, new Set([1]));
    const report = parsedReport(r);
    assertNoCrashInside(report);
    const [health] = report.repair!.before.findings.filter((f) =>
      f.kind === "turn_journal_malformed_lines"
    );
    assert.ok(health, JSON.stringify(report.repair!.before.findings));
    assert.deepEqual(health.paths, ["_turn_journal/s1.jsonl"]);
    assert.deepEqual(health.evidence.malformedLines, [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(health.evidence.missingTurnIdLines, [7, 8]);
    // null is how the server stamps a turn without a start time: not bad.
    assert.deepEqual(health.evidence.badCreatedAtLines, [9, 10, 11]);
    assert.match(health.message, /^_turn_journal\/s1\.jsonl has /);
    // The four turns with odd created_at were recovered all the same, in
    // one repair of the session.
    const recovered = report.repair!.actions.filter((a) =>
      a.repair === "recover_pending_turn" && a.status === "applied"
    );
    assert.equal(recovered.length, 1);
    assert.deepEqual(recovered[0].actions.map((a) => a.path), [
      "s1.json",
      "_turn_journal/s1.jsonl",
    ]);
  });
});

Deno.test("hostile journal: enormous lines are read whole, within the size limit, and judged like short ones", async () => {
  await withStore(async (store) => {
    await store.sidecar("big", { messages: 2 });
    const content = "q".repeat(48 << 20); // a 48 MiB prompt
    const garbage = "#".repeat(16 << 20); // a 16 MiB line of nothing
    const deep = "[".repeat(1 << 20); // a line nested a million deep, torn
    const event = JSON.stringify(submittedEvent("big", "t1", content));
    await store.writeRaw(
      "_turn_journal/big.jsonl",
      [garbage, deep, event, ""].join("\n"),
    );
    const started = performance.now();
    const r = await cliHere(
      jsonArgs("repair", store.sessionDir, "--server-stopped"),
      store,
    );
    // A guard against work that grows with the square of a line, not a
    // speed figure: alone this takes about 25 s, under a loaded suite 70 s.
    assert.ok(performance.now() - started < 240_000, "runaway work");
    assertSurvived(r, new Set([1]));
    const report = parsedReport(r);
    assertNoCrashInside(report);
    const health = report.repair!.before.findings.find((f) =>
      f.kind === "turn_journal_malformed_lines"
    );
    assert.deepEqual(health?.evidence.malformedLines, [1, 2]);
    assert.ok(health!.message.length < 500, "the lines are not quoted");
    const live = await store.readJson("big.json") as {
      messages: { content: unknown }[];
    };
    assert.equal(live.messages.at(-2)?.content, content);

    // Past --max-file-size the journal is reported, not read.
    const small = await cliHere(
      jsonArgs("audit", store.sessionDir, "--max-file-size", "1M"),
      store,
    );
    assertSurvived(small, new Set([4]));
    const tooBig = parsedReport(small).findings.find((f) =>
      f.paths.includes("_turn_journal/big.jsonl")
    );
    assert.equal(tooBig?.kind, "unreadable_file");
    assert.match(tooBig!.message, /over the limit of 1048576/);
  });
});

Deno.test("hostile journal: journal file names with invalid ids are reported and never become paths", async () => {
  await withStore(async (store) => {
    await store.sidecar("good", { messages: 2 });
    const names = [
      "sp ace",
      ".",
      "",
      "new\nline",
      "tab\there",
      "é",
      "x".repeat(240),
    ];
    // Ids the server's journal rule accepts (with '.', or a leading '_'),
    // though no sidecar can have them: orphan journals, never invalid ids.
    const accepted = ["Up.per", "dots.in.name", "_system"];
    for (const name of [...names, ...accepted]) {
      await store.writeRaw(
        `_turn_journal/${name}.jsonl`,
        JSON.stringify(submittedEvent(name, "t1", `pending in ${name}`)) + "\n",
      );
    }
    const before = await treeBytes(store.sessionDir);
    const r = await cliHere(jsonArgs("repair", store.sessionDir), store);
    assertSurvived(r, new Set([4]));
    const report = parsedReport(r);
    assertNoCrashInside(report);
    const invalid = report.findings.filter((f) =>
      f.kind === "invalid_session_id" && f.evidence.source === "journal"
    );
    for (const name of names) {
      const path = `_turn_journal/${name}.jsonl`;
      const finding = invalid.find((f) => f.paths.includes(path));
      assert.ok(finding, `${JSON.stringify(name)} not reported`);
      // The name is quoted, so a newline or tab cannot break the report.
      assert.doesNotMatch(finding.message, /[\n\t]/);
    }
    for (const name of accepted) {
      const path = `_turn_journal/${name}.jsonl`;
      assert.ok(!invalid.some((f) => f.paths.includes(path)), name);
      const orphan = report.findings.find((f) =>
        f.kind === "turn_journal_orphan" && f.paths.includes(path)
      );
      assert.ok(orphan, `${name} is no orphan journal`);
      assert.equal(orphan.category, "info");
    }
    // Nothing was created from them: the store is as it was.
    const after = await treeBytes(store.sessionDir, { storeOnly: true });
    assert.deepEqual([...after.keys()].sort(), [...before.keys()].sort());
    // The text report stays one finding per line.
    const text = await cliHere([
      "audit",
      "--session-dir",
      store.sessionDir,
      "--no-state-db",
      "--verbose",
    ], store);
    assertSurvived(text, new Set([4]));
    assert.doesNotMatch(text.stdout, /\tthere/);
  });
});
