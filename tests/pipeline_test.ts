/**
 * Tests of core/plugins/pipeline.ts, core/run/audit.ts and core/scan/snapshot.ts: one scan
 * feeds every check, a broken check becomes a finding of its own, and
 * finding ids are stable.
 */

import assert from "node:assert/strict";
import * as fs from "node:fs";
import nodeFs from "node:fs";
import { auditStore, summarizeFindings } from "../core/run/audit.ts";
import { type Check, defineCheck } from "../core/plugins/check.ts";
import type {
  Finding,
  FindingDraft,
  KindInfo,
} from "../core/report/finding.ts";
import {
  findingId,
  runChecks,
  selectChecks,
} from "../core/plugins/pipeline.ts";
import { scanStore, type StoreSnapshot } from "../core/scan/snapshot.ts";
import { builtinChecks } from "../checks/builtin.ts";
import { builtinRepairs } from "../repairs/builtin.ts";
import { registerChecks } from "../core/plugins/registry.ts";
import { TestStore, withStore } from "./fixtures.ts";

const OPTIONS = { now: Date.now(), serverStopped: false };

function kind(name: string, extra: Partial<KindInfo> = {}): KindInfo {
  return {
    kind: name,
    category: "info",
    severity: "info",
    summary: `${name}.`,
    explain: `${name}.`,
    ...extra,
  };
}

/** A check reporting one `kindName` finding per live session. */
function perSessionCheck(id: string, kindName: string): Check {
  return defineCheck({
    id,
    title: id,
    description: `${id}.`,
    kinds: [kind(kindName)],
    run(store) {
      return [...store.sessions.values()].filter((s) => s.live).map((s) => ({
        kind: kindName,
        sessionId: s.sessionId,
        paths: [s.live!.name],
        message: `${id} saw ${s.sessionId}.`,
      }));
    },
  });
}

function failingCheck(id: string, run: Check["run"]): Check {
  return defineCheck({
    id,
    title: id,
    description: `${id}.`,
    kinds: [kind("never_reported")],
    run,
  });
}

async function scanned(
  store: TestStore,
  fn: (snapshot: StoreSnapshot) => Promise<void>,
): Promise<void> {
  const snapshot = await scanStore({
    sessionDir: store.sessionDir,
    stateDbPath: store.stateDbPath,
  });
  try {
    await fn(snapshot);
  } finally {
    snapshot.stateDb.close();
  }
}

Deno.test("pipeline: a check that throws becomes one check_failed finding and the others still run", async () => {
  await withStore(async (store) => {
    await store.sidecar("abc", { messages: 2 });
    await store.sidecar("def", { messages: 2 });
    await scanned(store, async (snapshot) => {
      const findings = await runChecks(snapshot, [
        perSessionCheck("before", "seen_before"),
        failingCheck("thrower", () => {
          throw new Error("boom.");
        }),
        failingCheck(
          "async-thrower",
          () => Promise.reject(new RangeError("bad")),
        ),
        failingCheck("string-thrower", () => {
          throw "plain string";
        }),
        failingCheck(
          "not-a-list",
          () => ({ kind: "x" }) as unknown as FindingDraft[],
        ),
        perSessionCheck("after", "seen_after"),
      ], OPTIONS);
      assert.deepEqual(findings.map((f) => [f.check, f.kind]), [
        ["before", "seen_before"],
        ["before", "seen_before"],
        ["thrower", "check_failed"],
        ["async-thrower", "check_failed"],
        ["string-thrower", "check_failed"],
        ["not-a-list", "check_failed"],
        ["after", "seen_after"],
        ["after", "seen_after"],
      ]);
      const failed = findings.filter((f) => f.kind === "check_failed");
      for (const f of failed) {
        assert.equal(f.category, "unsafe_to_repair");
        assert.equal(f.severity, "error");
        assert.deepEqual(f.paths, []);
        assert.equal(f.repair, undefined);
        assert.match(f.message, new RegExp(f.check));
      }
      assert.match(failed[0].message, /boom/);
      assert.equal(failed[0].evidence.error, "boom");
      assert.match(failed[1].message, /bad/);
      assert.match(failed[2].message, /plain string/);
      // Each failing check gets its own id.
      assert.equal(new Set(failed.map((f) => f.id)).size, failed.length);
    });
  });
});

Deno.test("pipeline: an undeclared or malformed finding becomes check_failed, the good ones are kept", async () => {
  await withStore(async (store) => {
    await store.sidecar("abc");
    await scanned(store, async (snapshot) => {
      const check = defineCheck({
        id: "sloppy",
        title: "Sloppy",
        description: "Returns a mix.",
        kinds: [kind("declared_kind")],
        run: () => [
          { kind: "declared_kind", paths: ["abc.json"], message: "ok." },
          { kind: "other_kind", paths: ["abc.json"], message: "undeclared." },
          { kind: "declared_kind", message: "no paths." } as FindingDraft,
          {
            kind: "declared_kind",
            paths: [],
            message: 5,
          } as unknown as FindingDraft,
          null as unknown as FindingDraft,
          { kind: "check_failed", paths: [], message: "spoofed." },
        ],
      });
      const findings = await runChecks(snapshot, [check], OPTIONS);
      assert.deepEqual(findings.map((f) => f.kind), [
        "declared_kind",
        "check_failed",
        "check_failed",
        "check_failed",
        "check_failed",
        "check_failed",
      ]);
      assert.match(findings[1].message, /undeclared kind "other_kind"/);
      assert.match(findings[5].message, /undeclared kind "check_failed"/);
      assert.ok(findings.every((f) => f.check === "sloppy"));
    });
  });
});

Deno.test("pipeline: a draft becomes a finding with its kind's metadata", async () => {
  await withStore(async (store) => {
    await scanned(store, async (snapshot) => {
      const check = defineCheck({
        id: "meta",
        title: "Meta",
        description: "Meta.",
        kinds: [kind("fixable", {
          category: "repairable",
          severity: "warning",
          repair: "rebuild_index",
        })],
        run: () => [{
          kind: "fixable",
          sessionId: "abc",
          paths: ["abc.json"],
          message: "fix me.",
          evidence: { liveMessages: 2, bakMessages: -1 },
        }],
      });
      const [finding] = await runChecks(snapshot, [check], OPTIONS);
      assert.deepEqual(finding, {
        id: findingId({
          kind: "fixable",
          sessionId: "abc",
          paths: ["abc.json"],
          message: "",
        }),
        check: "meta",
        kind: "fixable",
        category: "repairable",
        severity: "warning",
        sessionId: "abc",
        paths: ["abc.json"],
        message: "fix me.",
        evidence: { liveMessages: 2, bakMessages: -1 },
        repair: "rebuild_index",
      });
    });
  });
});

Deno.test("pipeline: selectChecks by check id and by kind", () => {
  const a = perSessionCheck("check-a", "kind_a");
  const b = defineCheck({
    id: "check-b",
    title: "B",
    description: "B.",
    kinds: [kind("kind_b1"), kind("kind_b2")],
    run: () => [],
  });
  const c = perSessionCheck("check-c", "kind_c");
  const all = [a, b, c];
  const finding = (check: string, k: string) => ({ check, kind: k }) as Finding;

  const everything = selectChecks(all, { only: [], skip: [] });
  assert.deepEqual(everything.checks, all);
  assert.ok(everything.keep(finding("check-b", "kind_b2")));

  const byId = selectChecks(all, { only: ["check-b"], skip: [] });
  assert.deepEqual(byId.checks.map((c) => c.id), ["check-b"]);
  assert.ok(byId.keep(finding("check-b", "kind_b1")));
  assert.ok(!byId.keep(finding("check-a", "kind_a")));

  const byKind = selectChecks(all, { only: ["kind_b2"], skip: [] });
  assert.deepEqual(byKind.checks.map((c) => c.id), ["check-b"]);
  assert.ok(byKind.keep(finding("check-b", "kind_b2")));
  assert.ok(!byKind.keep(finding("check-b", "kind_b1")));

  const skipId = selectChecks(all, { only: [], skip: ["check-a"] });
  assert.deepEqual(skipId.checks.map((c) => c.id), ["check-b", "check-c"]);

  const skipKind = selectChecks(all, { only: [], skip: ["kind_b1"] });
  assert.deepEqual(skipKind.checks.map((c) => c.id), [
    "check-a",
    "check-b",
    "check-c",
  ]);
  assert.ok(!skipKind.keep(finding("check-b", "kind_b1")));
  assert.ok(skipKind.keep(finding("check-b", "kind_b2")));

  // check_failed findings are always kept: a crash must not be filtered away.
  assert.ok(byKind.keep(finding("check-b", "check_failed")));
});

Deno.test("pipeline: selectChecks throws a TypeError on an unknown name", () => {
  const all = [perSessionCheck("check-a", "kind_a")];
  assert.throws(
    () => selectChecks(all, { only: ["no-such-check"], skip: [] }),
    (error: unknown) =>
      error instanceof TypeError && /no-such-check/.test(error.message),
  );
  assert.throws(
    () => selectChecks(all, { only: [], skip: ["no_such_kind"] }),
    TypeError,
  );
  // The built-in ids and kinds are all known.
  for (const check of builtinChecks) {
    selectChecks(builtinChecks, { only: [check.id], skip: [] });
    for (const k of check.kinds) {
      selectChecks(builtinChecks, { only: [k.kind], skip: [] });
    }
  }
});

/** A store with problems of several kinds, for whole-pipeline tests. */
async function problemStore(store: TestStore, temps = true): Promise<void> {
  await store.sidecar("live1", { messages: 2 });
  await store.backup("live1", { messages: 6 }); // shrunken
  await store.sidecar("live2", { messages: 4 });
  await store.backup("gone", { messages: 3 }); // orphan backup
  await store.sidecar("noindex", { messages: 1 });
  await store.index([
    { session_id: "live1", updated_at: 2 },
    { session_id: "live2", updated_at: 1 },
    { session_id: "ghost", updated_at: 0 },
  ]);
  await store.tombstone(["deleted1"]);
  await store.journal("live2", [
    {
      event: "submitted",
      turn_id: "t1",
      session_id: "live2",
      created_at: 1,
      content: "first lost prompt",
    },
    {
      event: "submitted",
      turn_id: "t2",
      session_id: "live2",
      created_at: 2,
      content: "second lost prompt",
    },
  ]);
  await store.journal("live1", [
    { event: "submitted", turn_id: "t9", created_at: 1, content: "x" },
    { event: "completed", turn_id: "t9", created_at: 2 },
  ]);
  if (temps) {
    await store.writeRaw("live2.tmp.123.456", "{}");
    await store.writeRaw("_index.tmp.123.456", "[]");
  }
  store.stateDb({
    sessions: [
      { id: "live1", source: "webui", started_at: 1 },
      { id: "gone", source: "webui", started_at: 2 },
      { id: "dbonly", source: "webui", started_at: 3 },
    ],
    messages: [
      {
        id: 1,
        session_id: "dbonly",
        role: "user",
        content: "hi",
        timestamp: 1,
      },
    ],
  });
}

Deno.test("pipeline: finding ids are stable across runs and differ by turn key", async () => {
  await withStore(async (store) => {
    await problemStore(store);
    const run = async () => {
      const audit = await auditStore({
        scan: { sessionDir: store.sessionDir, stateDbPath: store.stateDbPath },
        checks: builtinChecks,
      });
      audit.store.stateDb.close();
      return audit.findings;
    };
    const first = await run();
    const second = await run();
    assert.ok(first.length >= 5, `only ${first.length} findings`);
    assert.deepEqual(
      first.map((f) => [f.kind, f.id]),
      second.map((f) => [f.kind, f.id]),
    );
    assert.equal(new Set(first.map((f) => f.id)).size, first.length);
    assert.ok(!first.some((f) => f.kind === "check_failed"));
    // Without --server-stopped a pending turn may be live: info.
    const pending = first.filter((f) =>
      f.kind === "turn_journal_pending_unconfirmed"
    );
    assert.deepEqual(pending.map((f) => f.evidence.turnId), ["t1", "t2"]);
    assert.equal(pending[0].sessionId, pending[1].sessionId);
    assert.deepEqual(pending[0].paths, pending[1].paths);
    assert.notEqual(pending[0].id, pending[1].id);
  });
  const draft = {
    kind: "turn_journal_pending_turn",
    sessionId: "abc",
    paths: ["_turn_journal/abc.jsonl", "abc.json"],
    message: "one",
  };
  const id = findingId({ ...draft, key: "t1" });
  assert.match(id, /^[0-9a-f]{16}$/);
  assert.equal(findingId({ ...draft, key: "t1", message: "two" }), id);
  assert.notEqual(findingId({ ...draft, key: "t2" }), id);
  assert.notEqual(findingId(draft), id);
  assert.notEqual(findingId({ ...draft, key: "t1", sessionId: "abd" }), id);
  assert.notEqual(
    findingId({ ...draft, key: "t1", paths: ["abc.json"] }),
    id,
  );
});

/**
 * Counts every open of a file below the session dir (node:fs, which the
 * scan uses, and Deno's own readers) while `fn` runs.
 */
async function countingOpens(
  sessionDir: string,
  fn: (opened: Map<string, number>) => Promise<void>,
): Promise<void> {
  const opened = new Map<string, number>();
  const count = (path: unknown) => {
    const key = String(path);
    if (!key.startsWith(sessionDir + "/")) return;
    const name = key.slice(sessionDir.length + 1);
    opened.set(name, (opened.get(name) ?? 0) + 1);
  };
  const originalOpen = fs.promises.open;
  const originalOpenSync = nodeFs.openSync;
  const deno = Deno as unknown as Record<string, unknown>;
  const denoReaders = [
    "readFile",
    "readFileSync",
    "readTextFile",
    "readTextFileSync",
    "open",
    "openSync",
  ];
  const originals = new Map(denoReaders.map((name) => [name, deno[name]]));
  fs.promises.open = ((path: fs.PathLike, ...rest: unknown[]) => {
    count(path);
    return (originalOpen as (...a: unknown[]) => unknown)(path, ...rest);
  }) as typeof fs.promises.open;
  // The scan reads synchronously (see core/io/file_read.ts), in this thread for
  // a store this small.
  nodeFs.openSync = ((path: fs.PathLike, ...rest: unknown[]) => {
    count(path);
    return (originalOpenSync as (...a: unknown[]) => unknown)(path, ...rest);
  }) as typeof fs.openSync;
  for (const name of denoReaders) {
    const original = originals.get(name) as (...a: unknown[]) => unknown;
    deno[name] = (path: unknown, ...rest: unknown[]) => {
      count(path);
      return original(path, ...rest);
    };
  }
  try {
    await fn(opened);
  } finally {
    fs.promises.open = originalOpen;
    nodeFs.openSync = originalOpenSync;
    for (const [name, original] of originals) deno[name] = original;
  }
}

/** The built-in checks twice, 25 more, and probes counting opens around them. */
function manyChecks(opened: Map<string, number>): {
  checks: Check[];
  opensDuringChecks: () => number;
} {
  const total = () => [...opened.values()].reduce((a, b) => a + b, 0);
  let before = -1;
  let after = -1;
  const probe = (id: string, record: () => void) =>
    defineCheck({
      id,
      title: "Probe",
      description: "Counts opens.",
      kinds: [],
      run: () => {
        record();
        return [];
      },
    });
  const extra = Array.from(
    { length: 25 },
    (_, i) => perSessionCheck(`extra-${i}`, `extra_kind_${i}`),
  );
  return {
    checks: [
      probe("probe-start", () => before = total()),
      ...builtinChecks,
      ...extra,
      ...builtinChecks,
      probe("probe-end", () => after = total()),
    ],
    opensDuringChecks: () => {
      assert.ok(before >= 0 && after >= 0, "probes did not run");
      return after - before;
    },
  };
}

Deno.test("pipeline: the scan reads each file exactly once, however many checks run", async () => {
  await withStore(async (store) => {
    await problemStore(store, false);
    // 3 sidecars + 2 backups + index + tombstone + 2 journals.
    const expectedFiles = [
      "live1.json",
      "live2.json",
      "noindex.json",
      "live1.json.bak",
      "gone.json.bak",
      "_index.json",
      "_deleted_webui_sessions.json",
      "_turn_journal/live1.jsonl",
      "_turn_journal/live2.jsonl",
    ];
    await countingOpens(store.sessionDir, async (opened) => {
      const { checks, opensDuringChecks } = manyChecks(opened);
      const audit = await auditStore({
        scan: { sessionDir: store.sessionDir, stateDbPath: store.stateDbPath },
        checks,
      });
      audit.store.stateDb.close();
      assert.equal(audit.store.stats.filesRead, expectedFiles.length);
      assert.deepEqual([...opened.keys()].sort(), [...expectedFiles].sort());
      for (const name of expectedFiles) {
        assert.equal(
          opened.get(name),
          1,
          `${name} opened ${opened.get(name)}x`,
        );
      }
      assert.equal(opensDuringChecks(), 0, "checks opened files");
      assert.ok(!audit.findings.some((f) => f.kind === "check_failed"));
      assert.equal(
        audit.findings.filter((f) => f.kind === "extra_kind_0").length,
        3,
      );
    });
  });
});

Deno.test("pipeline: with temp files present, no file is read twice and index temps are not read", async () => {
  await withStore(async (store) => {
    await problemStore(store, true);
    await countingOpens(store.sessionDir, async (opened) => {
      const { checks, opensDuringChecks } = manyChecks(opened);
      const audit = await auditStore({
        scan: { sessionDir: store.sessionDir, stateDbPath: store.stateDbPath },
        checks,
      });
      audit.store.stateDb.close();
      for (const [name, times] of opened) {
        assert.equal(times, 1, `${name} opened ${times}x`);
      }
      assert.equal(audit.store.stats.filesRead, opened.size);
      assert.ok(!opened.has("_index.tmp.123.456"), "an index temp was read");
      assert.equal(opensDuringChecks(), 0, "checks opened files");
      assert.ok(!audit.findings.some((f) => f.kind === "check_failed"));
    });
  });
});

Deno.test("audit: status and summary from the findings' categories", async () => {
  const f = (category: Finding["category"]) => ({ category }) as Finding;
  assert.deepEqual(summarizeFindings([], 3), {
    status: "ok",
    summary: { sessions: 3, repairable: 0, unsafe_to_repair: 0, info: 0 },
    findings: [],
  });
  assert.equal(summarizeFindings([f("info")], 0).status, "ok");
  assert.equal(
    summarizeFindings([f("repairable"), f("info")], 0).status,
    "warn",
  );
  const mixed = summarizeFindings(
    [f("repairable"), f("unsafe_to_repair"), f("repairable")],
    2,
  );
  assert.equal(mixed.status, "needs_manual_review");
  assert.deepEqual(mixed.summary, {
    sessions: 2,
    repairable: 2,
    unsafe_to_repair: 1,
    info: 0,
  });
  // A crashing check makes a clean store need review, and keep() cannot hide it.
  await withStore(async (store) => {
    await store.sidecar("abc");
    await store.index([{ session_id: "abc", updated_at: 1778458000.5 }]);
    const audit = await auditStore({
      scan: { sessionDir: store.sessionDir, stateDbPath: null },
      checks: [failingCheck("crash", () => {
        throw new Error("x");
      })],
      keep: selectChecks([failingCheck("crash", () => [])], {
        only: [],
        skip: ["never_reported"],
      }).keep,
    });
    audit.store.stateDb.close();
    assert.equal(audit.status, "needs_manual_review");
    assert.equal(audit.summary.sessions, 1);
    assert.equal(audit.summary.unsafe_to_repair, 1);
  });
});

Deno.test("check: defineCheck rejects bad ids and bad kinds; registration rejects repairable kinds without a repair", () => {
  const base = {
    title: "T",
    description: "D.",
    kinds: [] as KindInfo[],
    run: () => [],
  };
  for (
    const id of ["", "Bad", "bad_id", "bad id", "-bad", "bad-", "a--b", "é"]
  ) {
    assert.throws(() => defineCheck({ ...base, id }), TypeError, id);
  }
  for (const name of ["Bad", "bad-kind", "", "_x", "x_"]) {
    assert.throws(
      () => defineCheck({ ...base, id: "ok", kinds: [kind(name)] }),
      TypeError,
      name,
    );
  }
  // A repairable kind that no repair fixes is refused when the checks
  // and repairs are registered together.
  const unfixed = defineCheck({
    ...base,
    id: "ok",
    kinds: [kind("fixable", { category: "repairable" })],
  });
  assert.throws(
    () => registerChecks([unfixed], builtinRepairs),
    (error: unknown) =>
      error instanceof TypeError && /fixable/.test(error.message),
  );
  assert.throws(
    () =>
      defineCheck({
        ...base,
        id: "ok",
        run: undefined as unknown as Check["run"],
      }),
    TypeError,
  );
  const good = {
    ...base,
    id: "good-check-2",
    kinds: [
      kind("fixable_kind", { category: "repairable", repair: "rebuild_index" }),
      kind("unsafe_kind", { category: "unsafe_to_repair" }),
    ],
  };
  assert.deepEqual(defineCheck(good), good);
  for (const check of builtinChecks) {
    assert.deepEqual(defineCheck(check), check);
  }
});

Deno.test("engine: findings come in its order, whatever order visitors report in, the store whole or in parts; a session visitor sees one session", async () => {
  await withStore(async (store) => {
    await store.sidecar("bb", { messages: 2 });
    await store.sidecar("aa", { messages: 2 });
    await store.writeRaw("aa.tmp.1.2", "{}");
    await store.writeRaw("_index.tmp.3.4", "[]");
    const seen: string[] = [];
    const check = defineCheck({
      id: "everything",
      title: "Everything",
      description: "Reports what each visitor is given.",
      kinds: {
        saw: {
          category: "info",
          severity: "info",
          summary: "S.",
          explain: "E.",
        },
      },
      create(context) {
        const report = (key: string) =>
          context.report({ kind: "saw", paths: [], message: key, key });
        return {
          temp({ temp, store }) {
            report(`temp ${temp.name} ${store.sessions.size}`);
          },
          session({ sessionId, files, store }) {
            seen.push(
              `${sessionId}: ${[...store.sessions.keys()]} ${
                files.temps.map((t) => t.name)
              }`,
            );
            report(`session ${sessionId}`);
          },
          end() {
            report(`end ${context.store.index?.name ?? "no index"}`);
          },
        };
      },
    });
    const expected = [
      "end _index.json",
      "session aa",
      "session bb",
      "temp _index.tmp.3.4 0",
      "temp aa.tmp.1.2 1",
    ];
    await scanned(store, async (snapshot) => {
      const findings = await runChecks(snapshot, [check], OPTIONS);
      assert.deepEqual(findings.map((f) => f.message), expected);
    });
    assert.deepEqual(seen, ["aa: aa aa.tmp.1.2", "bb: bb "]);
    seen.length = 0;
    const audit = await auditStore({
      scan: { sessionDir: store.sessionDir, stateDbPath: null },
      checks: [check],
      partSessions: 1,
    });
    audit.store.stateDb.close();
    assert.deepEqual(audit.findings.map((f) => f.message), expected);
    assert.deepEqual(seen, ["aa: aa aa.tmp.1.2", "bb: bb "]);
  });
});
