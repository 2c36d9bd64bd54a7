import assert from "node:assert/strict";
import { validateReport } from "../core/report/report_schema.ts";
import { REPORT_SCHEMA_VERSION } from "../core/run/version.ts";
import { runCli, storeArgs, TestStore } from "./fixtures.ts";

async function damagedStore(): Promise<TestStore> {
  const store = await TestStore.create();
  await store.sidecar("shrunk", { messages: 2 });
  await store.backup("shrunk", { messages: 9 });
  await store.backup("orphan", { messages: 4 });
  await store.writeRaw("broken.json.bak", "{not json");
  await store.index([{ session_id: "gone", message_count: 1 }]);
  await store.journal("shrunk", [{
    version: 1,
    event: "submitted",
    turn_id: "t1",
    session_id: "shrunk",
    created_at: 1778459000.25,
    content: "only in the journal",
  }]);
  store.stateDb({
    sessions: [
      { id: "orphan", source: "webui" },
      { id: "lost", source: "webui", started_at: 10 },
      { id: "empty", source: "webui" },
    ],
    messages: [{
      id: 1,
      session_id: "lost",
      role: "user",
      content: "hi",
      timestamp: 1,
    }],
  });
  return store;
}

Deno.test("json reports of audit, dry run and repair follow the published schema", async () => {
  const store = await damagedStore();
  try {
    for (
      const command of [["audit"], ["repair", "--dry-run"], ["repair"], [
        "audit",
      ]]
    ) {
      const result = await runCli([
        ...command,
        "--format",
        "json",
        ...storeArgs(store),
      ]);
      const report = JSON.parse(result.stdout);
      assert.deepEqual(
        validateReport(report),
        [],
        `${command.join(" ")}: schema problems`,
      );
      assert.equal(report.schemaVersion, REPORT_SCHEMA_VERSION);
      assert.equal(
        report.exitCode,
        result.code,
        `${command.join(" ")}: exitCode field`,
      );
    }
  } finally {
    await store.cleanup();
  }
});

Deno.test("the schema rejects reports that break it", () => {
  const problems = validateReport({
    schemaVersion: 2,
    tool: { name: "other", version: "1" },
    command: "fix",
    findings: [{ id: "xyz", kind: "Bad-Kind", category: "maybe" }],
  });
  const text = problems.join("\n");
  for (
    const expected of [
      "$.schemaVersion: must be 1",
      "$.tool.name: must be",
      "$.command: must be one of",
      '$: missing required property "summary"',
      "$.findings[0].id: must match",
      "$.findings[0].kind: must match",
      "$.findings[0].category: must be one of",
      '$.findings[0]: missing required property "message"',
    ]
  ) {
    assert.ok(text.includes(expected), `expected "${expected}" in:\n${text}`);
  }
});

Deno.test("a report naming today's clear and shrink generation guards follows the schema", async () => {
  const store = await TestStore.create();
  try {
    const rows = [];
    for (
      const [id, meta] of [
        ["cleared", { clear_generation: "0123456789ab4def8123456789abcdef" }],
        ["shrunk", {
          intentional_shrink_generation: "fedcba9876544321a123456789abcdef",
        }],
      ] as const
    ) {
      await store.sidecar(id, { messages: 1, ...meta });
      rows.push(
        ...[1, 2, 3].map((n) => ({
          session_id: id,
          role: n % 2 ? "user" : "assistant",
          content: `turn ${n}`,
          timestamp: n,
        })),
      );
    }
    store.stateDb({
      sessions: [
        { id: "cleared", source: "webui" },
        { id: "shrunk", source: "webui" },
      ],
      messages: rows,
    });
    const result = await runCli([
      "audit",
      "--format",
      "json",
      ...storeArgs(store),
    ]);
    const report = JSON.parse(result.stdout);
    const guards = report.findings.map((f: { evidence: { guard?: string } }) =>
      f.evidence.guard
    ).filter(Boolean).sort();
    assert.deepEqual(guards, [
      "clear_generation",
      "intentional_shrink_generation",
    ]);
    assert.deepEqual(validateReport(report), []);
  } finally {
    await store.cleanup();
  }
});
