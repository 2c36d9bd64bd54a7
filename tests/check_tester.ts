/**
 * A tester for one check, in the spirit of ESLint's RuleTester: stores that
 * must report nothing from the check, and stores that must report exactly
 * the given findings. Each store is built in its own temp dir (real files,
 * real SQLite) and audited through the CLI's `main` with only that check
 * selected (`audit --check ID --format json`), so the test sees what a user
 * sees and nothing of the check's insides. A last step asserts that every
 * kind the check declares (as `checks --format json` lists it) is built by
 * some invalid store or named as one no test can build, with the reason,
 * and that each kind built has a valid store that comes close to it.
 *
 * Set `HERMES_FSCK_TESTER_SUBPROCESS=1` to run every case through the CLI
 * as a subprocess instead (slower; the same assertions).
 *
 * @example
 * ```ts
 * import { TestStore } from "./fixtures.ts";
 * const store = await TestStore.create();
 * import { testCheck } from "./check_tester.ts";
 * testCheck("malformed-backup", {
 *   valid: [{ name: "a healthy pair", nearMiss: "malformed_backup", store: async (s) => {
 *     await s.sidecar("abc", { messages: 4 });
 *     await s.backup("abc", { messages: 2 });
 *   } }],
 *   invalid: [{
 *     name: "a backup that does not parse",
 *     store: async (s) => {
 *       await s.sidecar("abc", { messages: 4 });
 *       await s.writeRaw("abc.json.bak", "{");
 *     },
 *     findings: [{ kind: "malformed_backup", sessionId: "abc" }],
 *   }],
 * });
 * ```
 * @module
 */

import assert from "node:assert/strict";
import {
  type CliResult,
  runCli,
  runCliHere,
  storeEnv,
  TestStore,
} from "./fixtures.ts";

/**
 * Builds a store's files in its empty temp dir. A function it returns is
 * called once the run is over: to end what must last through the run (a
 * lock another process holds).
 */
export type BuildStore = (store: TestStore) => Promise<unknown> | unknown;

/** How a case runs the CLI, besides the store's dirs. */
export interface RunOptions {
  /**
   * `auto` (the default) names the store's state.db when the case made
   * one and passes `--no-state-db` otherwise; `given` always names it
   * (made or not); `none` always passes `--no-state-db`.
   */
  stateDb?: "auto" | "given" | "none";
  /** More arguments, such as `--server-stopped`. */
  args?: string[];
}

/** A store the check must report nothing on. */
export interface ValidCase extends RunOptions {
  /** What the store is, for the step's name. */
  name: string;
  /** Builds it. */
  store: BuildStore;
  /** The kind this store comes closest to without being one. */
  nearMiss?: string;
}

/**
 * A finding the check must report: its kind and, where given, the rest
 * must match exactly.
 *
 * @example
 * ```ts
 * const expected: ExpectedFinding = { kind: "stale_temp", paths: ["abc.json.tmp.1.2"] };
 * ```
 */
export interface ExpectedFinding {
  kind: string;
  sessionId?: string;
  paths?: string[];
  category?: string;
}

/** A store the check must report exactly these findings on. */
export interface InvalidCase extends ValidCase {
  /** Every finding of the audit, in any order. */
  findings: ExpectedFinding[];
  /** More assertions on the parsed report, when kinds and ids are not enough. */
  assert?: (report: TesterReport, store: TestStore) => void | Promise<void>;
}

/** The cases of one check. */
export interface CheckCases {
  valid: ValidCase[];
  invalid: InvalidCase[];
  /**
   * Kinds of the check that no test here can build, each with the reason
   * (for example a race with a live server).
   */
  unbuildable?: Record<string, string>;
}

/**
 * What the tester reads of a JSON report.
 *
 * @example
 * ```ts
 * const report: TesterReport = { exitCode: 0, findings: [] };
 * ```
 */
export interface TesterReport {
  exitCode: number;
  findings: ReportedFinding[];
  repair?: {
    runId: string | null;
    actions: { repair: string; status: string }[];
  };
}

/**
 * One finding of a JSON report, as the tester reads it.
 *
 * @example
 * ```ts
 * const f: ReportedFinding = { check: "temp-files", kind: "stale_temp", category: "repairable", paths: [], message: "" };
 * ```
 */
export interface ReportedFinding {
  check: string;
  kind: string;
  category: string;
  sessionId?: string;
  paths: string[];
  message: string;
}

const SUBPROCESS = Deno.env.get("HERMES_FSCK_TESTER_SUBPROCESS") === "1";

/**
 * Runs the CLI on a store: in this process, or as a subprocess under
 * `HERMES_FSCK_TESTER_SUBPROCESS=1`; its environment inside the store.
 *
 * @example
 * ```ts
 * import { TestStore } from "./fixtures.ts";
 * const store = await TestStore.create();
 * const r = await cliOn(store, ["audit", ...await storeArgsFor(store, {})]);
 * ```
 */
export function cliOn(store: TestStore, args: string[]): Promise<CliResult> {
  const env = storeEnv(store);
  return SUBPROCESS ? runCli(args, { env }) : runCliHere(args, { env });
}

/**
 * `--session-dir` and the state.db argument of a case.
 *
 * @example
 * ```ts
 * import { TestStore } from "./fixtures.ts";
 * const store = await TestStore.create();
 * storeArgsFor(store, { stateDb: "none" }); // ["--session-dir", "...", "--no-state-db"]
 * ```
 */
export async function storeArgsFor(
  store: TestStore,
  options: RunOptions,
): Promise<string[]> {
  const mode = options.stateDb ?? "auto";
  const named = mode === "given" ||
    (mode === "auto" && await exists(store.stateDbPath));
  return [
    "--session-dir",
    store.sessionDir,
    ...(named ? ["--state-db", store.stateDbPath] : ["--no-state-db"]),
    ...(options.args ?? []),
  ];
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Parses the JSON report of a run, failing with its whole output.
 *
 * @example
 * ```ts
 * import { TestStore } from "./fixtures.ts";
 * const store = await TestStore.create();
 * const report = parseReport(await cliOn(store, ["audit", "--format", "json"]));
 * ```
 */
export function parseReport(result: CliResult): TesterReport {
  try {
    return JSON.parse(result.stdout);
  } catch {
    throw new assert.AssertionError({
      message:
        `not a JSON report (exit ${result.code}):\n${result.stdout}\n${result.stderr}`,
    });
  }
}

/**
 * Audits a store with only `select` (check ids or kinds) and returns the
 * parsed report.
 *
 * @example
 * ```ts
 * import { TestStore } from "./fixtures.ts";
 * const store = await TestStore.create();
 * const report = await auditOnly(store, ["temp-files"], {});
 * ```
 */
export async function auditOnly(
  store: TestStore,
  select: string[],
  options: RunOptions,
): Promise<TesterReport> {
  const args = [
    "audit",
    ...await storeArgsFor(store, options),
    "--check",
    select.join(","),
    "--format",
    "json",
    "--quiet",
  ];
  return parseReport(await cliOn(store, args));
}

/**
 * Asserts that the reported findings are exactly the expected ones, in
 * any order: each expected finding matches one reported finding on its
 * kind and on every other field it gives.
 *
 * @example
 * ```ts
 * import { TestStore } from "./fixtures.ts";
 * const store = await TestStore.create();
 * const report = await auditOnly(store, ["temp-files"], {});
 * assertFindings(report.findings, [{ kind: "stale_temp" }], "a stale temp");
 * ```
 */
export function assertFindings(
  reported: readonly ReportedFinding[],
  expected: readonly ExpectedFinding[],
  context: string,
): void {
  const left = [...reported];
  const missing: ExpectedFinding[] = [];
  // The most specific expectations first, so a loose one cannot take the
  // finding a specific one needs.
  const ordered = [...expected].sort((a, b) =>
    Object.keys(b).length - Object.keys(a).length
  );
  for (const want of ordered) {
    const at = left.findIndex((got) => matches(got, want));
    if (at < 0) missing.push(want);
    else left.splice(at, 1);
  }
  if (missing.length === 0 && left.length === 0) return;
  const brief = (f: ReportedFinding) => ({
    kind: f.kind,
    sessionId: f.sessionId,
    paths: f.paths,
    category: f.category,
    message: f.message,
  });
  throw new assert.AssertionError({
    message: `${context}:\n  expected but not reported: ${
      JSON.stringify(missing)
    }\n  reported but not expected: ${
      JSON.stringify(left.map(brief), null, 1)
    }`,
  });
}

function matches(got: ReportedFinding, want: ExpectedFinding): boolean {
  if (got.kind !== want.kind) return false;
  if ("sessionId" in want && got.sessionId !== want.sessionId) return false;
  if (want.category !== undefined && got.category !== want.category) {
    return false;
  }
  if (want.paths !== undefined) {
    if (JSON.stringify(got.paths) !== JSON.stringify(want.paths)) return false;
  }
  return true;
}

/**
 * Runs `fn` on a fresh store, removed afterwards whatever happens.
 *
 * @example
 * ```ts
 * import { TestStore } from "./fixtures.ts";
 * const store = await TestStore.create();
 * await onFreshStore((store) => store.sidecar("abc"));
 * ```
 */
export async function onFreshStore<T>(
  fn: (store: TestStore) => Promise<T>,
): Promise<T> {
  const store = await TestStore.create();
  try {
    return await fn(store);
  } finally {
    await store.cleanup();
  }
}

/**
 * The user-visible catalog (`checks --format json`): each check's kinds
 * and each repair's fixed kinds.
 *
 * @example
 * ```ts
 * (await catalog()).checks.get("temp-files"); // ["young_temp", ...]
 * ```
 */
export async function catalog(): Promise<{
  checks: Map<string, string[]>;
  repairs: Map<string, string[]>;
}> {
  const result = await runCliHere(["checks", "--format", "json"]);
  assert.equal(result.code, 0, result.stderr);
  const parsed = JSON.parse(result.stdout) as {
    checks: { id: string; kinds: { kind: string }[] }[];
    repairs: { id: string; fixes: string[] }[];
  };
  return {
    checks: new Map(
      parsed.checks.map((c) => [c.id, c.kinds.map((k) => k.kind)]),
    ),
    repairs: new Map(parsed.repairs.map((r) => [r.id, r.fixes])),
  };
}

/**
 * Registers one test for a check: a step per valid and per invalid store,
 * and a step that every kind it declares is built or named unbuildable.
 *
 * @example
 * ```ts
 * import { TestStore } from "./fixtures.ts";
 * const store = await TestStore.create();
 * testCheck("redundant-backup", {
 *   valid: [{
 *     name: "a backup with more messages",
 *     nearMiss: "redundant_backup",
 *     store: async (s) => {
 *       await s.sidecar("abc", { messages: 4 });
 *       await s.backup("abc", { messages: 6 });
 *     },
 *   }],
 *   invalid: [{
 *     name: "a backup the live file outgrew",
 *     store: async (s) => {
 *       await s.sidecar("abc", { messages: 4 });
 *       await s.backup("abc", { messages: 4 });
 *     },
 *     findings: [{ kind: "redundant_backup", sessionId: "abc" }],
 *   }],
 * });
 * ```
 */
export function testCheck(checkId: string, cases: CheckCases): void {
  Deno.test(`check ${checkId}`, async (t) => {
    for (const valid of cases.valid) {
      await t.step(`valid: ${valid.name}`, () =>
        onFreshStore(async (store) => {
          const end = await valid.store(store);
          try {
            const report = await auditOnly(store, [checkId], valid);
            assertFindings(report.findings, [], `${checkId}, ${valid.name}`);
          } finally {
            if (typeof end === "function") await end();
          }
        }));
    }
    for (const invalid of cases.invalid) {
      await t.step(
        `invalid: ${invalid.name}`,
        () =>
          onFreshStore(async (store) => {
            await invalid.store(store);
            const report = await auditOnly(store, [checkId], invalid);
            const context = `${checkId}, ${invalid.name}`;
            assertFindings(report.findings, invalid.findings, context);
            for (const finding of report.findings) {
              assert.equal(finding.check, checkId, context);
            }
            await invalid.assert?.(report, store);
          }),
      );
    }
    await t.step(
      "every declared kind is built or named unbuildable",
      async () => {
        const declared = (await catalog()).checks.get(checkId);
        assert.ok(declared, `no check ${checkId} in 'checks --format json'`);
        const built = new Set(
          cases.invalid.flatMap((c) => c.findings.map((f) => f.kind)),
        );
        const unbuildable = Object.keys(cases.unbuildable ?? {});
        const uncovered = declared.filter((k) =>
          !built.has(k) && !unbuildable.includes(k)
        );
        assert.deepEqual(uncovered, [], `${checkId}: kinds without a store`);
        const missed = new Set(cases.valid.map((c) => c.nearMiss));
        const withoutNearMiss = [...built].filter((k) => !missed.has(k));
        assert.deepEqual(
          withoutNearMiss,
          [],
          `${checkId}: built kinds without a valid near-miss store`,
        );
        for (const kind of unbuildable) {
          assert.ok(declared.includes(kind), `${checkId} has no kind ${kind}`);
          assert.ok(
            !built.has(kind),
            `${kind} is built, yet named unbuildable`,
          );
        }
      },
    );
  });
}
