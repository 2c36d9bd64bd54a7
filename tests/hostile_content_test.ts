/**
 * Hostile content (issue 7): bytes that are not what a store file should
 * hold. Truncated JSON at every byte of a sample sidecar, invalid UTF-8, a
 * byte order mark, NUL bytes, JSON nested 100,000 deep, huge strings,
 * duplicate keys, `messages` not a list, a top-level list or scalar, and a
 * value of every JSON type in every field the checks read. Each gives a
 * finding that names the file and the reason, never a crash, and a repair
 * never makes it worse.
 */

import assert from "node:assert/strict";
import { makeMessages, makeSidecar, TestStore, withStore } from "./fixtures.ts";
import { audit, makeOld, repair, STALE_AGE_MS } from "./check_support.ts";
import {
  cliHere,
  submittedEvent,
  treeBytes,
  treeDiff,
} from "./safety_support.ts";
import {
  assertNoCrashInside,
  assertSurvived,
  DEEP_LIST,
  DEEP_OBJECT,
  HUGE_STRING,
  jsonArgs,
  NESTED_LIST,
  NESTED_OBJECT,
  type ParsedReport,
  parsedReport,
  type ReportedFinding,
  withRawField,
  WRONG_VALUES,
} from "./hostile_support.ts";

const encoder = new TextEncoder();

/** A sample sidecar, compact, as bytes: every prefix of it is broken. */
const SAMPLE = encoder.encode(
  JSON.stringify(makeSidecar("sample", { messages: 2, title: "Sample é😀" })),
);

function findingOn(
  findings: ReportedFinding[],
  path: string,
): ReportedFinding | undefined {
  return findings.find((f) => f.paths.includes(path));
}

Deno.test("hostile content: a sidecar truncated at every byte is reported with its offset, as live and as .bak", async () => {
  await withStore(async (store) => {
    for (let cut = 0; cut < SAMPLE.length; cut++) {
      const prefix = SAMPLE.subarray(0, cut);
      await store.writeRaw(`live${cut}.json`, prefix);
      await store.writeRaw(`orphan${cut}.json.bak`, prefix);
      await store.sidecar(`pair${cut}`, { messages: 1 });
      await store.writeRaw(`pair${cut}.json.bak`, prefix);
    }
    // More sidecars than a test store's index follows: written here.
    await store.indexFromFiles();
    const before = await treeBytes(store.sessionDir);
    const report = await audit(store);
    for (let cut = 0; cut < SAMPLE.length; cut++) {
      for (
        const [name, kind] of [
          [`live${cut}.json`, "malformed_live"],
          [`orphan${cut}.json.bak`, "malformed_orphan_backup"],
          [`pair${cut}.json.bak`, "malformed_backup"],
        ]
      ) {
        const found = report.findings.filter((f) =>
          f.paths.includes(name) && f.kind === kind
        );
        assert.equal(found.length, 1, `${name}: ${kind} missing`);
        const [finding] = found;
        assert.ok(finding.message.includes(name), finding.message);
        if (cut === 0) {
          assert.equal(finding.evidence.problem, "empty", name);
          assert.match(finding.message, /is empty/);
        } else if (finding.evidence.problem === "invalid_utf8") {
          // Cut inside a multi-byte character: it starts at most 3 bytes back.
          const offset = finding.evidence.offset as number;
          assert.ok(cut - offset >= 1 && cut - offset <= 3, finding.message);
          assert.ok(SAMPLE[offset] >= 0xc2, finding.message);
          assert.match(finding.message, new RegExp(`at byte ${offset}\\b`));
        } else {
          // Every other prefix fails where it ends: the offset is the cut.
          assert.equal(finding.evidence.problem, "invalid_json", name);
          assert.equal(finding.evidence.offset, cut, finding.message);
          assert.match(finding.message, new RegExp(`at byte ${cut}\\b`));
        }
      }
    }
    // Nothing of it can be repaired: the repair changes no byte of the store.
    const repaired = await repair(store);
    assert.equal(repaired.exitCode, 4);
    assert.deepEqual(
      repaired.repair!.actions.filter((a) => a.status === "applied"),
      [],
    );
    assert.deepEqual(
      treeDiff(before, await treeBytes(store.sessionDir, { storeOnly: true })),
      [],
    );
  });
});

/** Broken bytes, each with what its finding must say. */
const BROKEN: { name: string; bytes: Uint8Array; reason: RegExp }[] = [
  {
    name: "invalid UTF-8",
    bytes: splice(SAMPLE, 5, [0xff, 0xfe]),
    reason: /not valid UTF-8 \(at byte 5\)/,
  },
  {
    name: "a truncated multi-byte character",
    bytes: SAMPLE.subarray(0, indexOfBytes(SAMPLE, [0xf0, 0x9f]) + 2),
    reason: /not valid UTF-8/,
  },
  {
    name: "a byte order mark",
    bytes: splice(SAMPLE, 0, [0xef, 0xbb, 0xbf]),
    reason: /byte order mark/,
  },
  {
    name: "a NUL byte between tokens",
    bytes: splice(SAMPLE, 1, [0]),
    reason: /not valid JSON/,
  },
  {
    name: "a NUL byte inside a string",
    bytes: splice(SAMPLE, indexOfBytes(SAMPLE, encoder.encode("Sample")), [0]),
    reason: /not valid JSON .*control character/,
  },
  {
    name: "NUL bytes only (a zero-filled block)",
    bytes: new Uint8Array(4096),
    reason: /not valid JSON/,
  },
  {
    name: "a list nested 100,000 deep and never closed",
    bytes: encoder.encode("[".repeat(100_000)),
    reason: /not valid JSON at byte 100000/,
  },
  {
    name: "trailing garbage",
    bytes: new Uint8Array([...SAMPLE, ...encoder.encode("}garbage")]),
    reason: new RegExp(`not valid JSON at byte ${SAMPLE.length}\\b`),
  },
];

Deno.test("hostile content: broken bytes give a finding naming the file and the reason, wherever the file is", async () => {
  for (const { name, bytes, reason } of BROKEN) {
    await withStore(async (store) => {
      await store.writeRaw("live.json", bytes);
      await store.writeRaw("orphan.json.bak", bytes);
      await store.sidecar("pair", { messages: 1 });
      await store.writeRaw("pair.json.bak", bytes);
      await store.writeRaw("_index.json", bytes);
      await store.writeRaw("_deleted_webui_sessions.json", bytes);
      await store.writeRaw("_turn_journal/pair.jsonl", bytes);
      const r = await cliHere(
        jsonArgs("audit", store.sessionDir),
        store,
      );
      assertSurvived(r, new Set([4]), name);
      const report = parsedReport(r);
      assertNoCrashInside(report, name);
      for (
        const [file, kind] of [
          ["live.json", "malformed_live"],
          ["orphan.json.bak", "malformed_orphan_backup"],
          ["pair.json.bak", "malformed_backup"],
          ["_index.json", "index_unparsable"],
          ["_deleted_webui_sessions.json", "tombstone_unreadable"],
        ]
      ) {
        const finding = report.findings.find((f) =>
          f.kind === kind && f.paths.includes(file)
        );
        assert.ok(finding, `${name}: no ${kind} on ${file}`);
        assert.ok(finding.message.includes(file), finding.message);
        assert.match(finding.message, reason, `${name}: ${file}`);
        assertPrintable(finding.message);
      }
      const journal = findingOn(report.findings, "_turn_journal/pair.jsonl");
      assert.equal(journal?.kind, "turn_journal_malformed_lines", name);
    });
  }
});

Deno.test("hostile content: JSON nested 100,000 deep parses and is judged like any other value", async () => {
  await withStore(async (store) => {
    // Top level too deep for the server's json.loads, and a deep value in
    // every place the checks and repairs read or write.
    await store.writeRaw("toplist.json", DEEP_LIST);
    await store.writeRaw("topobject.json", DEEP_OBJECT);
    await store.writeRaw(
      "deepmessages.json",
      withRawField(makeSidecar("deepmessages"), "messages", DEEP_LIST),
    );
    await store.writeRaw(
      "deepcontent.json",
      JSON.stringify(makeSidecar("deepcontent", { messages: 2 })).replace(
        '"content":"message 0"',
        `"content":${DEEP_LIST}`,
      ),
    );
    // A pending journal turn on a sidecar with a deep workspace: recovered
    // without rewriting the deep value, then the index is rebuilt.
    await store.writeRaw(
      "deepmeta.json",
      withRawField(makeSidecar("deepmeta"), "workspace", DEEP_OBJECT),
    );
    await store.journal("deepmeta", [
      submittedEvent("deepmeta", "t1", "only in the journal"),
    ]);
    // Deep attachments of a pending turn: cannot be written into a message.
    await store.sidecar("deepattach", { messages: 2 });
    await store.writeRaw(
      "_turn_journal/deepattach.jsonl",
      withRawField(
        submittedEvent("deepattach", "t2", "attached"),
        "attachments",
        DEEP_LIST,
      ) + "\n",
    );
    await store.index([{ session_id: "deepcontent", title: "x" }]);
    const before = await treeBytes(store.sessionDir);
    for (const command of ["audit", "repair"]) {
      for (const format of ["json", "text", "webui-json"]) {
        const context = `${command} --format ${format}`;
        // Audit first, so that the repair below still has work to do.
        if (command === "repair" && format !== "json") continue;
        const r = await cliHere(
          [command, "--session-dir", store.sessionDir, "--no-state-db"]
            .concat(["--format", format, "--server-stopped"]),
          store,
        );
        assertSurvived(r, new Set([4, 5]), context);
        if (format !== "json") continue;
        const report = parsedReport(r);
        assertNoCrashInside(report, context);
        const findings = report.repair?.before.findings ?? report.findings;
        for (const file of ["toplist.json", "topobject.json"]) {
          const f = findings.find((f) =>
            f.paths.includes(file) && f.kind === "sidecar_missing_keys"
          );
          assert.ok(f, `${context}: ${file}`);
        }
        const deepMessages = findings.find((f) =>
          f.paths.includes("deepmessages.json") &&
          f.kind === "sidecar_missing_keys"
        );
        assert.equal(deepMessages, undefined, "a deep list is still a list");
        if (command === "audit") {
          assert.deepEqual(
            treeDiff(before, await treeBytes(store.sessionDir)),
            [],
          );
          continue;
        }
        const records = report.repair!.actions;
        const recovered = records.find((a) =>
          a.repair === "recover_pending_turn" &&
          a.actions.some((x) => x.path === "deepmeta.json")
        );
        assert.equal(recovered?.status, "applied", JSON.stringify(records));
        const attach = records.find((a) =>
          a.repair === "recover_pending_turn" &&
          a.actions.length === 0 && /deepattach|nested/.test(a.detail ?? "")
        );
        assert.equal(attach?.status, "skipped", JSON.stringify(records));
        assert.match(attach!.detail!, /_turn_journal\/deepattach\.jsonl/);
        const index = records.find((a) => a.repair === "rebuild_index");
        assert.equal(index?.status, "applied", JSON.stringify(records));
        // The deep workspace is intact in the live file.
        const text = await Deno.readTextFile(store.path("deepmeta.json"));
        assert.ok(text.includes(DEEP_OBJECT));
      }
    }
  });
});

Deno.test("hostile content: huge strings are read, judged and never echoed whole", async () => {
  await withStore(async (store) => {
    const big = "y".repeat(8 << 20); // 8 MiB
    await store.sidecar("hugetitle", { title: big, messages: 2 });
    await store.sidecar("hugeid", { messages: 2 });
    await store.writeRaw(
      "hugeid.json",
      withRawField(makeSidecar("hugeid"), "session_id", HUGE_STRING),
    );
    await store.sidecar("hugejournal", { messages: 2 });
    await store.journal("hugejournal", [
      { ...submittedEvent("hugejournal", "t1", big), session_id: big },
    ]);
    await store.index([{ session_id: big, title: big }]);
    const r = await cliHere(
      jsonArgs("repair", store.sessionDir, "--server-stopped"),
      store,
    );
    assertSurvived(r, new Set([5]));
    const report = parsedReport(r);
    assertNoCrashInside(report);
    const before = report.repair!.before.findings;
    const mismatch = before.find((f) => f.kind === "session_id_mismatch");
    assert.ok(mismatch, before.map((f) => f.kind).join());
    assert.deepEqual(mismatch.paths, ["hugeid.json"]);
    const invalid = before.filter((f) => f.kind === "invalid_session_id");
    assert.deepEqual(
      invalid.map((f) => f.paths[0]).sort(),
      ["_turn_journal/hugejournal.jsonl"],
    );
    // The index entry of no sidecar is swept as the server sweeps it.
    const ghost = before.filter((f) => f.kind === "index_missing_file");
    assert.equal(ghost.length, 1);
    // Messages quote at most a short excerpt of a hostile value.
    for (const f of [...before, ...report.findings]) {
      assert.ok(f.message.length < 1000, `${f.kind}: ${f.message.length}`);
    }
    // The huge journal turn was recovered whole.
    const live = await store.readJson("hugejournal.json") as {
      messages: { content: string }[];
    };
    assert.equal(live.messages.at(-2)?.content, big);
  });
});

Deno.test("hostile content: duplicate keys, messages not a list, top-level lists and scalars", async () => {
  await withStore(async (store) => {
    await store.writeRaw(
      "dupid.json",
      '{"session_id": "dupid", "session_id": "other", "title": "t", ' +
        '"created_at": 1, "updated_at": 1, "messages": []}',
    );
    // The last duplicate wins, as in Python's json.loads: 3 messages.
    await store.writeRaw(
      "dupmsgs.json",
      JSON.stringify(makeSidecar("dupmsgs", { messages: 3 })).replace(
        '"messages":',
        '"messages": [], "messages":',
      ),
    );
    await store.writeRaw(
      "dupmsgs.json.bak",
      JSON.stringify(makeSidecar("dupmsgs", { messages: 2 })),
    );
    for (
      const [id, raw] of [
        ["msgstring", '"hello"'],
        ["msgobject", '{"0": {}}'],
        ["msgnull", "null"],
        ["msgnumber", "3"],
      ]
    ) {
      await store.writeRaw(
        `${id}.json`,
        withRawField(makeSidecar(id), "messages", raw),
      );
    }
    for (
      const [id, raw] of [
        ["toplist", '[{"session_id": "toplist"}]'],
        ["topnumber", "42"],
        ["topstring", '"toplevel"'],
        ["topnull", "null"],
        ["toptrue", "true"],
      ]
    ) {
      await store.writeRaw(`${id}.json`, raw);
      await store.writeRaw(`bak${id}.json.bak`, raw);
    }
    const report = await audit(store);
    const of = (path: string) =>
      report.findings.filter((f) => f.paths.includes(path)).map((f) => f.kind);
    assert.deepEqual(of("dupid.json"), ["session_id_mismatch"]);
    assert.match(
      report.findings.find((f) => f.paths.includes("dupid.json"))!.message,
      /dupid\.json holds the session_id "other"/,
    );
    assert.ok(
      of("dupmsgs.json").includes("redundant_backup"),
      of("dupmsgs.json").join(),
    );
    for (const id of ["msgstring", "msgobject", "msgnull", "msgnumber"]) {
      assert.deepEqual(of(`${id}.json`), ["sidecar_missing_keys"], id);
      const f = report.findings.find((f) => f.paths.includes(`${id}.json`))!;
      assert.match(f.message, new RegExp(`${id}\\.json lacks messages`));
    }
    for (
      const id of ["toplist", "topnumber", "topstring", "topnull", "toptrue"]
    ) {
      const f = report.findings.find((f) => f.paths.includes(`${id}.json`));
      assert.equal(f?.kind, "sidecar_missing_keys", id);
      assert.match(f!.message, /is a JSON (array|scalar), not an object/);
      const orphan = report.findings.find((f) =>
        f.paths.includes(`bak${id}.json.bak`)
      );
      assert.equal(orphan?.kind, "malformed_orphan_backup", id);
      assert.match(
        orphan!.message,
        /not a session object with a messages list/,
      );
    }
    const repaired = await repair(store);
    assert.ok(
      !repaired.repair!.actions.some((a) => a.status === "failed"),
      JSON.stringify(repaired.repair!.actions),
    );
  });
});

// ------------------------------------------------- every type in every field

/** Top-level keys of a sidecar the checks and repairs read (STORE_FORMAT §2, §4). */
const SIDECAR_FIELDS = [
  "session_id",
  "title",
  "workspace",
  "model",
  "model_provider",
  "created_at",
  "updated_at",
  "pinned",
  "archived",
  "project_id",
  "profile",
  "input_tokens",
  "output_tokens",
  "estimated_cost",
  "personality",
  "active_stream_id",
  "pending_user_message",
  "pending_attachments",
  "pending_started_at",
  "pending_user_source",
  "compression_anchor_visible_idx",
  "compression_anchor_message_key",
  "compression_anchor_summary",
  "compression_anchor_mode",
  "context_length",
  "threshold_tokens",
  "last_prompt_tokens",
  "gateway_routing",
  "gateway_routing_history",
  "parent_session_id",
  "worktree_path",
  "worktree_branch",
  "worktree_repo_root",
  "worktree_created_at",
  "is_cli_session",
  "source_tag",
  "raw_source",
  "session_source",
  "source_label",
  "read_only",
  "enabled_toolsets",
  "composer_draft",
  "messages",
  "tool_calls",
  "context_messages",
  "clear_generation",
  "intentional_shrink_generation",
  "truncation_watermark",
  "truncation_boundary",
];

/** Fields that decide whether the others are read at all: wrong one at a time. */
const GATE_FIELDS = new Set(["session_id", "messages"]);

/** Keys of a message. */
const MESSAGE_FIELDS = [
  "role",
  "content",
  "timestamp",
  "_ts",
  "attachments",
  "tool_calls",
  "_recovered",
  "_error",
];

/** Keys of an index entry. */
const INDEX_FIELDS = [
  "session_id",
  "title",
  "message_count",
  "created_at",
  "updated_at",
  "last_message_at",
  "pinned",
  "archived",
  "workspace",
  "model",
  "is_streaming",
];

/** Keys of a journal event. */
const EVENT_FIELDS = [
  "version",
  "event",
  "turn_id",
  "session_id",
  "stream_id",
  "created_at",
  "role",
  "content",
  "attachments",
  "reason",
];

/** A number where a string belongs, a string where a number belongs. */
const SWAPS = ["7", '"text"'];

/** A sidecar that exercises every check: stream state, guards, a context. */
function busySidecar(id: string, messages = 3): Record<string, unknown> {
  return makeSidecar(id, {
    messages,
    active_stream_id: "stream-1",
    pending_user_message: "still pending",
    pending_started_at: 1778458000,
    context_messages: makeMessages(1),
    clear_generation: "gen-1",
    truncation_watermark: 0.0,
    truncation_boundary: 0.0,
    intentional_shrink_generation: "0123456789ab4def8123456789abcdef",
  });
}

/** JSON text of `value` with each of `fields` replaced by the raw JSON `raw`. */
function withRawFields(
  value: Record<string, unknown>,
  fields: readonly string[],
  raw: string,
  pretty = false,
): string {
  const marker = "\u0001raw\u0001";
  const copy: Record<string, unknown> = { ...value };
  for (const field of fields) copy[field] = marker;
  const text = pretty ? JSON.stringify(copy, null, 2) : JSON.stringify(copy);
  return text.replaceAll(JSON.stringify(marker), raw);
}

/**
 * Writes the sessions of one wrong value: the fields wrong in the live file
 * (indented, as the server writes), in its larger .bak, in both; in an
 * orphan .bak with a state.db row; in a stale save temp with more messages.
 * Every one has a pending journal turn and stream state, so every check and
 * repair reads the fields.
 */
async function wrongSessions(
  store: TestStore,
  prefix: string,
  fields: readonly string[],
  raw: string,
  rows: Record<string, string>[],
  variants: readonly string[] = ["live", "bak", "both", "orphan", "temp"],
): Promise<void> {
  for (const where of ["live", "bak", "both"]) {
    if (!variants.includes(where)) continue;
    const id = `${prefix}_${where}`;
    const live = busySidecar(id);
    const bak = { ...busySidecar(id, 6), clear_generation: "gen-0" };
    await store.writeRaw(
      `${id}.json`,
      where === "bak"
        ? JSON.stringify(live, null, 2)
        : withRawFields(live, fields, raw, true),
    );
    await store.writeRaw(
      `${id}.json.bak`,
      where === "live" ? JSON.stringify(bak) : withRawFields(bak, fields, raw),
    );
    await store.journal(id, [submittedEvent(id, "t1", `turn of ${id}`)]);
  }
  const orphan = `${prefix}_orphan`;
  if (variants.includes("orphan")) {
    await store.writeRaw(
      `${orphan}.json.bak`,
      withRawFields(busySidecar(orphan), fields, raw),
    );
    rows.push({ id: orphan, source: "webui", title: orphan });
  }
  if (!variants.includes("temp")) return;
  const temp = `${prefix}_temp`;
  await store.writeRaw(`${temp}.json`, JSON.stringify(busySidecar(temp)));
  await store.writeRaw(
    `${temp}.tmp.1.2`,
    withRawFields(busySidecar(temp, 9), fields, raw),
  );
  await makeOld(store, `${temp}.tmp.1.2`, STALE_AGE_MS);
}

/**
 * Audits a store in this process, as the CLI would, then plans its repair
 * (`repair --dry-run`: every repair reads, edits and renders the values it
 * would write, which is where a value of the wrong type could break it;
 * the writes themselves only copy bytes and are fuzzed in fuzz_test.ts),
 * and checks both survived. An empty index makes every sidecar part of a
 * planned index rebuild.
 */
async function auditAndRepair(
  store: TestStore,
  context: string,
): Promise<ParsedReport> {
  if (!(await store.exists("_index.json"))) await store.index([]);
  const withDb = await Deno.lstat(store.stateDbPath).then(
    () => true,
    () => false,
  );
  let last: ParsedReport | undefined;
  for (const command of [["audit"], ["repair", "--dry-run"]]) {
    const r = await cliHere(
      [
        ...command,
        "--session-dir",
        store.sessionDir,
        ...(withDb ? ["--state-db", store.stateDbPath] : ["--no-state-db"]),
        "--format",
        "json",
        "--server-stopped",
        ...(command[0] === "repair"
          ? ["--also-repair", "redundant_backup"]
          : []),
      ],
      store,
    );
    assertSurvived(r, undefined, `${context} ${command.join(" ")}`);
    last = parsedReport(r);
    assertNoCrashInside(last, `${context} ${command.join(" ")}`);
  }
  return last!;
}

Deno.test("hostile content: a number where a string belongs and the reverse, in every sidecar field, one at a time", async () => {
  await withStore(async (store) => {
    const rows: Record<string, string>[] = [];
    for (const [f, field] of SIDECAR_FIELDS.entries()) {
      for (const [v, raw] of SWAPS.entries()) {
        await wrongSessions(store, `f${f}_${v}`, [field], raw, rows);
      }
    }
    store.stateDb({ sessions: rows });
    const report = await auditAndRepair(store, "one field at a time");
    // What the server needs to load a session, of the wrong type, is named.
    const before = report.repair!.before.findings;
    const f = SIDECAR_FIELDS.indexOf("messages");
    const missing = before.find((x) =>
      x.kind === "sidecar_missing_keys" && x.paths[0] === `f${f}_0_both.json`
    );
    assert.ok(missing, "messages: 7 not reported");
    assert.match(missing.message, /lacks messages/);
    const id = SIDECAR_FIELDS.indexOf("session_id");
    const noId = before.find((x) =>
      x.kind === "sidecar_missing_keys" && x.paths[0] === `f${id}_0_both.json`
    );
    assert.match(noId?.message ?? "", /lacks session_id/);
  });
});

Deno.test("hostile content: every JSON type, nested and huge values in every sidecar field", async () => {
  await withStore(async (store) => {
    const rows: Record<string, string>[] = [];
    const others = SIDECAR_FIELDS.filter((f) => !GATE_FIELDS.has(f));
    for (const [v, raw] of WRONG_VALUES.entries()) {
      // Every field but the gates wrong at once, then each gate alone. A
      // file with 47 nested or huge values takes long to read and parse in
      // every pass, so those are only in a pair, where each file is read
      // the most.
      const nested = raw === NESTED_LIST || raw === NESTED_OBJECT ||
        raw === HUGE_STRING;
      await wrongSessions(
        store,
        `all${v}`,
        others,
        raw,
        rows,
        nested ? ["both"] : undefined,
      );
      for (const gate of GATE_FIELDS) {
        await wrongSessions(
          store,
          `${gate.replace("_", "")}${v}`,
          [gate],
          raw,
          rows,
        );
      }
    }
    store.stateDb({ sessions: rows });
    await auditAndRepair(store, "every type");
  });
});

Deno.test("hostile content: every JSON type, nested and huge values in every message field", async () => {
  await withStore(async (store) => {
    for (const [v, raw] of WRONG_VALUES.entries()) {
      for (const [f, field] of MESSAGE_FIELDS.entries()) {
        // The first and third message wrong, in a session the .bak outgrew,
        // in the context, and in a .bak identical to its live file.
        const messages = makeMessages(4).map((m, n) =>
          n % 2 === 0 ? JSON.parse(withRawField(m, field, '"__RAW__"')) : m
        );
        const text = (value: Record<string, unknown>) =>
          JSON.stringify(value, null, 2).replaceAll('"__RAW__"', raw);
        const id = `m${v}_${f}`;
        await store.writeRaw(
          `${id}.json`,
          text({
            ...busySidecar(id),
            messages: messages.slice(0, 2),
            context_messages: messages,
          }),
        );
        await store.writeRaw(
          `${id}.json.bak`,
          text({ ...busySidecar(id), messages }),
        );
        await store.journal(id, [submittedEvent(id, "t1", `turn of ${id}`)]);
        const same = `s${v}_${f}`;
        const sidecar = text({ ...makeSidecar(same), messages });
        await store.writeRaw(`${same}.json`, sidecar);
        await store.writeRaw(`${same}.json.bak`, sidecar);
      }
    }
    await auditAndRepair(store, "message fields");
  });
});

Deno.test("hostile content: every JSON type, nested and huge values in every index, journal and tombstone field", async () => {
  await withStore(async (store) => {
    const entries: string[] = [];
    for (const [v, raw] of WRONG_VALUES.entries()) {
      for (const [f, field] of INDEX_FIELDS.entries()) {
        const id = `x${v}_${f}`;
        await store.sidecar(id);
        entries.push(
          withRawField(
            {
              session_id: id,
              title: `Session ${id}`,
              message_count: 2,
              updated_at: 1778458000.5,
              last_message_at: 1778458001,
            },
            field,
            raw,
          ),
        );
      }
      for (const [f, field] of EVENT_FIELDS.entries()) {
        const id = `j${v}_${f}`;
        await store.sidecar(id);
        const lines = [
          withRawField(submittedEvent(id, "t1", `turn of ${id}`), field, raw),
          withRawField(
            { ...submittedEvent(id, "t2", "done"), event: "completed" },
            field,
            raw,
          ),
        ];
        await store.writeRaw(
          `_turn_journal/${id}.jsonl`,
          lines.join("\n") + "\n",
        );
      }
    }
    await store.writeRaw("_index.json", `[${entries.join(", ")}]`);
    await auditAndRepair(store, "index and journal fields");
  });
  for (const field of ["version", "ids"]) {
    for (const raw of WRONG_VALUES) {
      await withStore(async (store) => {
        await store.backup("gone", { messages: 2 });
        await store.writeRaw(
          "_deleted_webui_sessions.json",
          withRawField({ version: 1, ids: ["gone"] }, field, raw),
        );
        store.stateDb({ sessions: [{ id: "gone", source: "webui" }] });
        await auditAndRepair(store, `tombstone field ${field}`);
      });
    }
  }
});

// ------------------------------------------------------------------ helpers

function splice(bytes: Uint8Array, at: number, insert: number[]): Uint8Array {
  return new Uint8Array([
    ...bytes.subarray(0, at),
    ...insert,
    ...bytes.subarray(at),
  ]);
}

function indexOfBytes(haystack: Uint8Array, needle: ArrayLike<number>): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let k = 0; k < needle.length; k++) {
      if (haystack[i + k] !== needle[k]) continue outer;
    }
    return i;
  }
  throw new Error("needle not found");
}

// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/;

/** A message shown to an operator holds no raw control characters. */
function assertPrintable(message: string): void {
  assert.doesNotMatch(
    message,
    CONTROL,
    `control character in ${JSON.stringify(message)}`,
  );
}
