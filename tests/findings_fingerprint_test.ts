/**
 * The audit's findings on the bench stores (tools/bench_store.ts, both
 * shapes, small) and on seeded fuzz stores (tests/fuzz_support.ts) must be
 * exactly those in tests/golden/findings.json: so a refactor that changes
 * what any check reports fails here, store by store, finding by finding.
 *
 * Compared, in the report's order: each finding's check, kind, category,
 * severity, repair, sessionId, paths and evidence, and each store's exit
 * code. Left out: ids and messages (ids hash absolute state.db paths, which
 * differ from run to run), and evidence that measures time against the
 * clock (`ageSeconds`, `pendingAgeSeconds`, any `...Ms`). The stores' temp
 * dirs are written `<root>`, `<sibling>` and `<cache>`.
 *
 * When a change of behaviour is meant (a new kind, a check that now sees
 * more), regenerate the golden file with one command, then read its diff:
 *
 * ```sh
 * deno test --allow-read --allow-write --allow-env --allow-run tests/findings_fingerprint_test.ts -- --update
 * ```
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { ensureBenchStore } from "../tools/bench_store.ts";
import { runCli, TestStore } from "./fixtures.ts";
import { buildFuzzStore } from "./fuzz_support.ts";

const GOLDEN = new URL("./golden/findings.json", import.meta.url).pathname;
const UPDATE = Deno.args.includes("--update");

/** The fuzz cases compared: seed and how many. */
const FUZZ_SEED = 11;
const FUZZ_CASES = 100;

/** The bench stores compared: small, damaged as the bench damages them. */
const BENCH_STORES = [
  { shape: "long-tailed", sessions: 500, damagePercent: 3 },
  { shape: "uniform", sessions: 300, damagePercent: 10 },
] as const;

/** Evidence that measures time against the clock, not the store. */
const CLOCK_KEY = /Seconds$|Ms$/;

/** What a store's audit is compared by. */
interface Fingerprint {
  exitCode: number;
  findings: Record<string, unknown>[];
}

/** Replaces the store's temp dirs in every string of a value. */
function normalize(value: unknown, dirs: [string, string][]): unknown {
  if (typeof value === "string") {
    return dirs.reduce((s, [dir, name]) => s.replaceAll(dir, name), value);
  }
  if (Array.isArray(value)) return value.map((v) => normalize(v, dirs));
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key]) => !CLOCK_KEY.test(key))
        .map(([key, v]) => [key, normalize(v, dirs)]),
    );
  }
  return value;
}

/**
 * Audits a store through the CLI and returns its fingerprint; `dirs` maps
 * temp dirs to placeholders, longest first.
 */
async function fingerprint(
  sessionDir: string,
  stateDb: string | null,
  dirs: [string, string][],
): Promise<Fingerprint> {
  const result = await runCli([
    "audit",
    "--format",
    "json",
    "--session-dir",
    sessionDir,
    ...(stateDb ? ["--state-db", stateDb] : ["--no-state-db"]),
  ]);
  let report;
  try {
    report = JSON.parse(result.stdout);
  } catch {
    throw new Error(
      `audit of ${sessionDir} exited ${result.code} without a JSON report:\n${result.stderr}`,
    );
  }
  return {
    exitCode: result.code,
    findings: report.findings.map((f: Record<string, unknown>) =>
      normalize({
        check: f.check,
        kind: f.kind,
        category: f.category,
        severity: f.severity,
        repair: f.repair ?? null,
        sessionId: f.sessionId ?? null,
        paths: f.paths,
        evidence: f.evidence,
      }, dirs)
    ),
  };
}

async function benchFingerprints(): Promise<Record<string, Fingerprint>> {
  const cache = await Deno.makeTempDir({ prefix: "hermes-fsck-golden-" });
  try {
    const out: Record<string, Fingerprint> = {};
    await Promise.all(BENCH_STORES.map(async (spec) => {
      const store = await ensureBenchStore(cache, {
        ...spec,
        seed: 1,
        repairTargets: 0,
      });
      out[`bench ${spec.shape} ${spec.sessions}`] = await fingerprint(
        store.sessionDir,
        store.stateDbPath,
        [[cache, "<cache>"]],
      );
    }));
    return out;
  } finally {
    await Deno.remove(cache, { recursive: true });
  }
}

async function fuzzFingerprint(index: number): Promise<Fingerprint> {
  const store = await TestStore.create();
  const sibling = `${store.root}-sibling`;
  try {
    await buildFuzzStore(FUZZ_SEED, index, store, sibling);
    const withDb = await Deno.lstat(store.stateDbPath).then(
      () => true,
      () => false,
    );
    return await fingerprint(
      store.sessionDir,
      withDb ? store.stateDbPath : null,
      [[sibling, "<sibling>"], [store.root, "<root>"]],
    );
  } finally {
    await store.cleanup();
    await Deno.remove(sibling, { recursive: true }).catch(() => {});
  }
}

/** Every store's fingerprint, by name, in a fixed order. */
async function allFingerprints(): Promise<Record<string, Fingerprint>> {
  const bench = await benchFingerprints();
  const out: Record<string, Fingerprint> = {};
  for (const spec of BENCH_STORES) {
    const name = `bench ${spec.shape} ${spec.sessions}`;
    out[name] = bench[name];
  }
  // Four at a time: each case is a store build and a CLI process.
  for (let start = 0; start < FUZZ_CASES; start += 4) {
    const indexes = Array.from(
      { length: Math.min(4, FUZZ_CASES - start) },
      (_, i) => start + i,
    );
    const prints = await Promise.all(indexes.map(fuzzFingerprint));
    indexes.forEach((index, i) => {
      out[`fuzz ${FUZZ_SEED}/${index}`] = prints[i];
    });
  }
  return out;
}

/** One line a finding, so a failure shows which findings changed. */
function lines(print: Fingerprint): string[] {
  return [
    `exit ${print.exitCode}`,
    ...print.findings.map((f) => JSON.stringify(f)),
  ];
}

Deno.test("findings fingerprint: the audit reports exactly the golden findings on the bench and fuzz stores", async () => {
  const actual = await allFingerprints();
  if (UPDATE) {
    await Deno.mkdir(join(GOLDEN, ".."), { recursive: true });
    await Deno.writeTextFile(GOLDEN, JSON.stringify(actual, null, 2) + "\n");
    console.log(`wrote ${GOLDEN}`);
    return;
  }
  let golden: Record<string, Fingerprint>;
  try {
    golden = JSON.parse(await Deno.readTextFile(GOLDEN));
  } catch (error) {
    throw new Error(
      `${GOLDEN} is missing or not JSON (${error}); write it with: deno test --allow-read --allow-write --allow-env --allow-run tests/findings_fingerprint_test.ts -- --update`,
    );
  }
  assert.deepEqual(Object.keys(actual), Object.keys(golden), "the stores");
  // Every finding kind the golden file holds, so it covers the checks.
  const kinds = new Set(
    Object.values(golden).flatMap((p) => p.findings.map((f) => f.kind)),
  );
  assert.ok(kinds.size >= 15, `only ${kinds.size} kinds: ${[...kinds]}`);
  for (const name of Object.keys(golden)) {
    assert.deepEqual(
      lines(actual[name]),
      lines(golden[name]),
      `the findings on store "${name}" changed; if that is meant, regenerate ${GOLDEN} (see this file's doc comment) and review its diff`,
    );
  }
});
