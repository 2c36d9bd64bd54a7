/**
 * Support for the tests of single checks: a fresh store per test, audit and
 * repair end to end through `runPipeline`, the CLI with a store's dirs and
 * its JSON report, the server's own index of a set of sidecars, and file
 * ages for the temp rules.
 *
 * @example
 * ```ts
 * import { audit, ofKind, withStore } from "./check_support.ts";
 * await withStore(async (store) => {
 *   await store.sidecar("abc", { messages: 2 });
 *   assert.equal(ofKind(await audit(store), "malformed_live").length, 0);
 * });
 * ```
 * @module
 */

import assert from "node:assert/strict";
import { compactEntry, sortIndexEntries } from "../core/store/compact_entry.ts";
import type { Finding } from "../core/report/finding.ts";
import type { Report } from "../core/report/report.ts";
import { type PipelineOptions, runPipeline } from "../core/run/run.ts";
import { summarizeSidecar } from "../core/store/sidecar_summary.ts";
import {
  type CliResult,
  runCli,
  storeArgs,
  TestStore,
  withStore,
} from "./fixtures.ts";

export { withStore };

/** Options of a run besides the store's dirs. */
export type RunExtra = Partial<PipelineOptions> & { withStateDb?: boolean };

function run(
  command: "audit" | "repair",
  store: TestStore,
  extra: RunExtra,
): Promise<Report> {
  const { withStateDb = false, ...rest } = extra;
  return runPipeline({
    command,
    sessionDir: store.sessionDir,
    stateDbPath: withStateDb ? store.stateDbPath : null,
    hermesHome: store.hermesHome,
    ...rest,
  });
}

/**
 * Audits a store (without state.db unless `withStateDb`).
 *
 * @example
 * ```ts
 * const report = await audit(store);
 * ```
 */
export function audit(store: TestStore, extra: RunExtra = {}): Promise<Report> {
  return run("audit", store, extra);
}

/**
 * Repairs a store (without state.db unless `withStateDb`).
 *
 * @example
 * ```ts
 * const report = await repair(store, { serverStopped: true });
 * ```
 */
export function repair(
  store: TestStore,
  extra: RunExtra = {},
): Promise<Report> {
  return run("repair", store, extra);
}

/**
 * The findings of one kind in a report.
 *
 * @example
 * ```ts
 * ofKind(report, "stale_temp").length; // 1
 * ```
 */
export function ofKind(report: Report, kind: string): Finding[] {
  return report.findings.filter((f) => f.kind === kind);
}

/**
 * The kinds of a report's findings, each once, sorted.
 *
 * @example
 * ```ts
 * kindsOf(report); // ["index_entry_drift"]
 * ```
 */
export function kindsOf(report: Report): string[] {
  return [...new Set(report.findings.map((f) => f.kind))].sort();
}

/**
 * Asserts a report is clean: status `ok` and no repairable or unsafe
 * finding (info findings of other checks may remain).
 *
 * @example
 * ```ts
 * assertClean(await audit(store));
 * ```
 */
export function assertClean(report: Report): void {
  const problems = report.findings.filter((f) => f.category !== "info");
  assert.deepEqual(problems, [], "the store is not clean");
  assert.equal(report.status, "ok");
}

/**
 * Runs the CLI on a store without state.db, with `--format json`, and
 * parses its report.
 *
 * @example
 * ```ts
 * const { code, report } = await cliJson(store, ["repair"]);
 * ```
 */
export async function cliJson(
  store: TestStore,
  args: string[],
): Promise<CliResult & { report: Report }> {
  const result = await runCli([
    ...args,
    ...storeArgs(store, false),
    "--format",
    "json",
  ]);
  let report: Report;
  try {
    report = JSON.parse(result.stdout);
  } catch {
    throw new Error(
      `no JSON report (exit ${result.code}):\n${result.stdout}\n${result.stderr}`,
    );
  }
  return { ...result, report };
}

/**
 * The index the server writes for these sidecars: their compact entries,
 * newest first.
 *
 * @example
 * ```ts
 * await store.index(serverIndex([await store.sidecar("a"), await store.sidecar("b")]));
 * ```
 */
export function serverIndex(
  sidecars: Record<string, unknown>[],
): Record<string, unknown>[] {
  return sortIndexEntries(
    sidecars.map((s) =>
      compactEntry(String(s.session_id), summarizeSidecar(s), 0)
    ),
  );
}

/** One hour and a minute: older than the stale-temp age. */
export const STALE_AGE_MS = 61 * 60 * 1000;

/**
 * Sets a file's mtime to `ageMs` before now.
 *
 * @example
 * ```ts
 * await makeOld(store, "abc.tmp.1.2", STALE_AGE_MS);
 * ```
 */
export async function makeOld(
  store: TestStore,
  name: string,
  ageMs: number,
): Promise<void> {
  const when = new Date(Date.now() - ageMs);
  await Deno.utime(store.path(name), when, when);
}

/**
 * The bytes of a file of the session dir, as text.
 *
 * @example
 * ```ts
 * const before = await text(store, "abc.json");
 * ```
 */
export function text(store: TestStore, name: string): Promise<string> {
  return Deno.readTextFile(store.path(name));
}

/**
 * Paths of files in the quarantine of every run, relative to the session dir.
 *
 * @example
 * ```ts
 * await quarantined(store); // ["_hermes_fsck/runs/<run>/files/0001-abc.tmp.1.2"]
 * ```
 */
export async function quarantined(store: TestStore): Promise<string[]> {
  const found: string[] = [];
  const runs = store.path("_hermes_fsck/runs");
  try {
    for await (const runDir of Deno.readDir(runs)) {
      const files = `${runs}/${runDir.name}/files`;
      try {
        for await (const file of Deno.readDir(files)) {
          found.push(`_hermes_fsck/runs/${runDir.name}/files/${file.name}`);
        }
      } catch { /* a run without files */ }
    }
  } catch { /* no run yet */ }
  return found.sort();
}
