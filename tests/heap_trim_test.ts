/**
 * Tests of the heap trim (core/scan/heap_trim.ts): when it collects, that a
 * thread's trim collects for real only where V8 exposes `gc`, that a scan
 * with `trimHeap` trims the heaps of this thread and its worker without
 * changing what it finds, and that the CLI trims only a big store's.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  HEAP_TRIM_STEP,
  HeapTrim,
  MIN_BYTES_FOR_HEAP_TRIM,
} from "../core/scan/heap_trim.ts";
import {
  type CliResult,
  cliRunArgs,
  makeMessages,
  makeSidecar,
  runCommand,
} from "./fixtures.ts";
import { CLI_V8_FLAGS } from "../tools/permissions.ts";

Deno.test("heap trim: collects once the heap has grown a step past what the last collection left", () => {
  let used = 10_000;
  let collected = 0;
  const trim = new HeapTrim(() => used, () => {
    collected++;
    used = 12_000; // what survives
  }, 5_000);
  used = 14_999;
  assert.equal(trim.check(), false, "under a step past the first look");
  used = 15_000;
  assert.equal(trim.check(), true);
  assert.equal(collected, 1);
  // The floor is now what the collection left, 12,000.
  used = 16_999;
  assert.equal(trim.check(), false);
  used = 17_000;
  assert.equal(trim.check(), true);
  assert.equal(trim.collections, 2);
  assert.equal(HEAP_TRIM_STEP, 4 * 1024 * 1024);
});

Deno.test("heap trim: tick looks at the heap on every 64th call only", () => {
  let looks = 0;
  const trim = new HeapTrim(() => {
    looks++;
    return 0;
  }, () => {});
  looks = 0;
  for (let i = 0; i < 63; i++) trim.tick();
  assert.equal(looks, 0);
  trim.tick();
  assert.equal(looks, 1);
  for (let i = 0; i < 128; i++) trim.tick();
  assert.equal(looks, 3);
});

/** Runs a script in a new Deno, with a `--v8-flags=` argument or none. */
function denoEval(
  v8Flags: string | null,
  script: string,
  args: string[] = [],
): Promise<CliResult> {
  return runCommand(Deno.execPath(), [
    "eval",
    ...(v8Flags ? [v8Flags] : []),
    script,
    ...args,
  ]);
}

/** A project module's URL, for a script's imports. */
function moduleUrl(path: string): string {
  return new URL(`../${path}`, import.meta.url).href;
}

/** Runs a script in a new Deno and parses its last line. */
async function runScript(
  v8Flags: string | null,
  script: string,
): Promise<Record<string, unknown>> {
  const result = await denoEval(v8Flags, script);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout.trim().split("\n").at(-1)!);
}

// Makes garbage that lives long enough to reach the old generation, and
// looks at the heap before and after each check that collected.
const GARBAGE_LOOP = `
import { threadHeapTrim } from "${moduleUrl("core/scan/heap_trim.ts")}";
import { getHeapStatistics } from "node:v8";
const trim = await threadHeapTrim();
const used = () => getHeapStatistics().used_heap_size;
let recent = [];
let shrank = 0;
let collected = 0;
for (let i = 0; i < 4000; i++) {
  recent.push(Array.from({ length: 500 }, (_, k) => "x" + i + "/" + k));
  if (recent.length > 30) recent.shift();
  const before = used();
  if (trim.check()) {
    collected++;
    if (used() < before) shrank++;
  }
}
console.log(JSON.stringify({
  same: trim === await threadHeapTrim(),
  collections: trim.collections,
  collected,
  shrank,
}));
`;

Deno.test("heap trim: with --expose-gc a thread's trim collects, and each collection shrinks the heap; without, it never collects", async () => {
  const exposed = await runScript("--v8-flags=--expose-gc", GARBAGE_LOOP);
  assert.equal(exposed.same, true, "one trim per thread");
  assert.ok(
    (exposed.collections as number) >= 3,
    JSON.stringify(exposed),
  );
  assert.equal(exposed.collected, exposed.collections);
  assert.equal(exposed.shrank, exposed.collections);
  const hidden = await runScript(null, GARBAGE_LOOP);
  assert.deepEqual(hidden, {
    same: true,
    collections: 0,
    collected: 0,
    shrank: 0,
  });
});

/** The forced collections (`gc()`, "testing" in V8's trace) of each heap. */
function trimsByHeap(stdout: string): Map<string, number> {
  const trims = new Map<string, number>();
  for (const line of stdout.split("\n")) {
    const gc = /^\[\d+:(0x[0-9a-f]+)\].*Mark-Compact.*\btesting\b/.exec(line);
    if (gc) trims.set(gc[1], (trims.get(gc[1]) ?? 0) + 1);
  }
  return trims;
}

/** Writes 24 sessions of about 1 MB, parsed whole, and an empty index. */
async function writeTrimStore(dir: string): Promise<void> {
  // Sessions with context_messages are parsed whole, the plain way: a few
  // MB of objects each, garbage once summarized.
  for (let i = 0; i < 24; i++) {
    const id = `trim_${String(i).padStart(3, "0")}`;
    const messages = makeMessages(8000, `session ${i}`);
    await Deno.writeTextFile(
      join(dir, `${id}.json`),
      JSON.stringify(makeSidecar(id, { messages, context_messages: messages })),
    );
  }
  // An index that lists none of them: a finding for each.
  await Deno.writeTextFile(join(dir, "_index.json"), "[]");
}

// An audit part by part, as the CLI makes it, with one worker; its
// findings go to a file, since V8's trace goes to stdout.
const AUDIT_SCRIPT = `
import { auditStore, DEFAULT_PART_SESSIONS } from "${
  moduleUrl("core/run/audit.ts")
}";
import { builtinChecks } from "${moduleUrl("checks/builtin.ts")}";
const [sessionDir, trimHeap, out] = Deno.args;
const { findings, store } = await auditStore({
  scan: { sessionDir, stateDbPath: null, workers: 1, trimHeap: trimHeap === "yes" },
  checks: builtinChecks,
  checkOptions: { now: 1778500000000 },
  partSessions: DEFAULT_PART_SESSIONS,
});
store.stateDb.close();
await Deno.writeTextFile(out, JSON.stringify(findings));
`;

Deno.test("heap trim: a scan with trimHeap trims this thread's heap and its worker's, and finds the same as one without", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hermes-fsck-trim-" });
  try {
    await writeTrimStore(dir);
    const audit = async (trimHeap: "yes" | "no") => {
      const out = join(dir, `_findings_${trimHeap}.out`);
      const run = await denoEval(`${CLI_V8_FLAGS},--trace-gc`, AUDIT_SCRIPT, [
        dir,
        trimHeap,
        out,
      ]);
      assert.equal(run.code, 0, run.stderr);
      const findings = JSON.parse(await Deno.readTextFile(out));
      await Deno.remove(out);
      return { trims: trimsByHeap(run.stdout), findings };
    };
    const trimmed = await audit("yes");
    const untrimmed = await audit("no");
    assert.equal(trimmed.trims.size, 2, `both heaps: ${[...trimmed.trims]}`);
    assert.equal(untrimmed.trims.size, 0);
    assert.ok(trimmed.findings.length >= 24, `${trimmed.findings.length}`);
    assert.deepEqual(trimmed.findings, untrimmed.findings);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("heap trim: the CLI trims only a store of 256 MB or more, and a smaller one's audit is the same", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hermes-fsck-trim-" });
  try {
    await writeTrimStore(dir);
    assert.equal(MIN_BYTES_FOR_HEAP_TRIM, 256 * 1024 * 1024);
    const args = [
      "audit",
      "--format",
      "json",
      "--workers",
      "1",
      "--no-state-db",
      "--session-dir",
      dir,
    ];
    const withFlags = (v8Flags: string) =>
      cliRunArgs(args).map((arg) => arg === CLI_V8_FLAGS ? v8Flags : arg);
    const traced = await runCommand(
      Deno.execPath(),
      withFlags(`${CLI_V8_FLAGS},--trace-gc`),
    );
    assert.equal(traced.code, 4, traced.stderr);
    assert.equal(trimsByHeap(traced.stdout).size, 0, "26 MB: no trim");
    // V8 writes its trace into the report, so the reports are compared
    // from runs without it.
    const withGc = await runCommand(Deno.execPath(), withFlags(CLI_V8_FLAGS));
    const withoutGc = await runCommand(
      Deno.execPath(),
      withFlags(CLI_V8_FLAGS.replace(",--expose-gc", "")),
    );
    assert.equal(withGc.code, 4, withGc.stderr);
    assert.equal(withoutGc.code, 4, withoutGc.stderr);
    const findings = JSON.parse(withGc.stdout).findings;
    assert.ok(findings.length >= 24, `${findings.length} findings`);
    assert.deepEqual(findings, JSON.parse(withoutGc.stdout).findings);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
