/**
 * Reports of any size: an `_index.json` of hundreds of thousands of
 * entries naming sessions that have no sidecar (or invalid ids) is audited
 * with `--format json`, and its problems come out as one finding of each
 * kind with a count, not one per entry; the JSON, webui-json and text
 * renderers hand their output out in pieces whose concatenation is what
 * one string would have been.
 */

import assert from "node:assert/strict";
import { runCli, TestStore } from "./fixtures.ts";
import { jsonPieces } from "../core/json/json_pieces.ts";
import { pythonJsonDumps, pythonJsonPieces } from "../core/json/python_json.ts";
import { renderText, renderTextPieces } from "../core/report/render_text.ts";
import type { Report } from "../core/report/report.ts";
import type { Finding } from "../core/report/finding.ts";

/** Writes an index of `count` entries, `entry(i)` each, without one big string. */
async function writeIndex(
  store: TestStore,
  count: number,
  entry: (i: number) => string,
): Promise<void> {
  const file = await Deno.open(`${store.sessionDir}/_index.json`, {
    write: true,
    create: true,
    truncate: true,
  });
  const encoder = new TextEncoder();
  try {
    const batch: string[] = ["["];
    for (let i = 0; i < count; i++) {
      batch.push((i ? ", " : "") + entry(i));
      if (batch.length >= 10_000 || i === count - 1) {
        if (i === count - 1) batch.push("]");
        const bytes = encoder.encode(batch.join(""));
        for (let at = 0; at < bytes.length;) {
          at += await file.write(bytes.subarray(at));
        }
        batch.length = 0;
      }
    }
  } finally {
    file.close();
  }
}

Deno.test("report size: 200,000 index entries without a sidecar are one finding with a count, in JSON that parses", async () => {
  const store = await TestStore.create();
  try {
    await store.sidecar("real_1", { messages: 2 });
    const count = 200_000;
    await writeIndex(store, count, (i) =>
      JSON.stringify({
        // The first lists the one sidecar; every tenth lists an id again,
        // which is counted once.
        session_id: i === 0
          ? "real_1"
          : `gone_${String(i % 10 === 9 ? 1 : i).padStart(6, "0")}`,
        title: "t",
        message_count: 1,
      }));
    const result = await runCli([
      "audit",
      "--session-dir",
      store.sessionDir,
      "--no-state-db",
      "--format",
      "json",
    ]);
    assert.equal(result.code, 4, result.stderr);
    const report = JSON.parse(result.stdout) as Report;
    const missing = report.findings.filter((f) =>
      f.kind === "index_missing_file"
    );
    assert.equal(missing.length, 1, JSON.stringify(missing.slice(0, 3)));
    const [finding] = missing;
    const distinct = count - count / 10 - 1;
    assert.equal(finding.evidence.count, distinct);
    assert.equal(finding.sessionId, undefined);
    assert.deepEqual(finding.paths, ["_index.json"]);
    assert.equal(finding.repair, "rebuild_index");
    const ids = finding.evidence.sessionIds as string[];
    assert.equal(ids.length, 20);
    assert.deepEqual(ids.slice(0, 2), ["gone_000001", "gone_000002"]);
    assert.match(finding.message, new RegExp(`lists ${distinct} sessions`));
    // The listed session with a sidecar is not reported as unlisted.
    assert.ok(
      !report.findings.some((f) => f.kind === "index_missing_entry"),
      JSON.stringify(report.findings.map((f) => f.kind)),
    );
    assert.equal(report.summary.repairable, report.findings.length);
  } finally {
    await store.cleanup();
  }
});

Deno.test("report size: 200,000 index entries with invalid ids are one index_missing_file finding, in webui-json and text", async () => {
  const store = await TestStore.create();
  try {
    const count = 200_000;
    await writeIndex(
      store,
      count,
      (i) => JSON.stringify({ session_id: `../x${i}`, title: "t" }),
    );
    const args = ["audit", "--session-dir", store.sessionDir, "--no-state-db"];
    const [webui, text] = await Promise.all([
      runCli([...args, "--format", "webui-json"]),
      runCli([...args, "--verbose"]),
    ]);
    assert.equal(webui.code, 4, webui.stderr);
    const audit = JSON.parse(webui.stdout);
    const kinds = audit.items.map((i: { kind: string }) => i.kind);
    // The server sweeps entries without a sidecar, invalid ids among them:
    // no invalid_session_id for the index.
    assert.deepEqual(kinds, ["index_missing_file"]);
    assert.equal(text.code, 4, text.stderr);
    assert.match(
      text.stdout,
      /_index\.json lists 200000 sessions that have no sidecar/,
    );
  } finally {
    await store.cleanup();
  }
});

/** A report with `count` findings of a few kinds, messages with escapes. */
function bigReport(count: number): Report {
  const findings: Finding[] = [];
  for (let i = 0; i < count; i++) {
    findings.push({
      id: i.toString(16).padStart(16, "0"),
      check: "index-coverage",
      kind: i % 3 ? "index_missing_file" : "orphan_backup",
      category: i % 5 ? "repairable" : "unsafe_to_repair",
      severity: "warning",
      sessionId: `s_${i}`,
      paths: [`s_${i}.json`, "_index.json"],
      message: `"s_${i}" é\n\u2028 lists ${i}`,
      evidence: {
        liveMessages: i % 7 - 1,
        bakMessages: -1,
        nested: { list: [i, [i], {}], empty: [] },
        missing: undefined,
      },
      ...(i % 2 ? { repair: "rebuild_index" } : {}),
    });
  }
  return {
    schemaVersion: 1,
    tool: { name: "hermes-fsck", version: "0.0.0" },
    command: "audit",
    dryRun: false,
    sessionDir: "/srv/sessions",
    stateDb: { path: null, status: "absent" },
    startedAt: "2026-01-01T00:00:00.000Z",
    durationMs: 1,
    status: "warn",
    summary: { sessions: 1, repairable: count, unsafe_to_repair: 0, info: 0 },
    findings,
    stats: { filesRead: 0, bytesRead: 0 },
    interrupted: false,
    exitCode: 4,
  };
}

Deno.test("report size: the JSON renderers hand out pieces that join into what one string would be", () => {
  const report = bigReport(20_000);
  const pieces = [...jsonPieces(report)];
  assert.ok(pieces.length > 10, `${pieces.length} pieces`);
  assert.ok(pieces.every((p) => p.length < 80_000));
  assert.equal(pieces.join(""), JSON.stringify(report, null, 2));
  for (
    const value of [
      [],
      {},
      null,
      "x",
      [undefined, () => 1, new Date(0)],
      { a: undefined, b: [[]], c: { d: {} } },
    ]
  ) {
    assert.equal(
      [...jsonPieces(value)].join(""),
      JSON.stringify(value, null, 2),
    );
  }
  const python = [...pythonJsonPieces(report)];
  assert.ok(python.length > 10, `${python.length} pieces`);
  assert.equal(python.join(""), pythonJsonDumps(report));
  const text = [...renderTextPieces(report, { verbose: true })];
  assert.ok(text.length > 5, `${text.length} pieces`);
  assert.equal(text.join(""), renderText(report, { verbose: true }));
});

Deno.test("report size: --verbose text of 300,000 findings does not overflow the stack", () => {
  const report = bigReport(300_000);
  let lines = 0;
  for (const piece of renderTextPieces(report, { verbose: true })) {
    lines += piece.split("\n").length - 1;
  }
  assert.ok(lines > 300_000, `${lines} lines`);
});
