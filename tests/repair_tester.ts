/**
 * A tester for one repair: each case builds a store, audits it for the
 * kinds the repair fixes (as `checks --format json` lists them), repairs
 * with only those kinds selected (`repair --check KINDS`), and asserts the
 * findings before and after, that only this repair acted, exactly which
 * store files changed and how, and that `undo RUN_ID` gives back every
 * byte of the session dir and state.db. Stores the repair must leave
 * alone are repaired too and must not change by a byte.
 *
 * @example
 * ```ts
 * import { testRepair } from "./repair_tester.ts";
 * testRepair("restore_from_bak", {
 *   leaveAlone: [{ name: "a healthy pair", store: async (s) => {
 *     await s.sidecar("abc", { messages: 4 });
 *     await s.backup("abc", { messages: 2 });
 *   } }],
 *   repaired: [{
 *     name: "a shrunken live sidecar",
 *     store: async (s) => {
 *       await s.sidecar("abc", { messages: 2 });
 *       await s.backup("abc", { messages: 6 });
 *     },
 *     before: [{ kind: "shrunken_live", sessionId: "abc" }],
 *     files: { "abc.json": (text) => JSON.parse(text).messages.length === 6 },
 *   }],
 * });
 * ```
 * @module
 */

import assert from "node:assert/strict";
import {
  assertFindings,
  auditOnly,
  catalog,
  cliOn,
  type ExpectedFinding,
  onFreshStore,
  parseReport,
  type RunOptions,
  storeArgsFor,
  type ValidCase,
} from "./check_tester.ts";
import { treeBytes, treeDiff } from "./safety_support.ts";
import type { TestStore } from "./fixtures.ts";
import { isDeepStrictEqual } from "node:util";
import { serverIndex } from "./check_support.ts";

/**
 * An `_index.json` that lists exactly these sidecars, as the server's
 * full rebuild writes it.
 *
 * @example
 * ```ts
 * import { makeSidecar } from "./fixtures.ts";
 * const files = { "_index.json": indexOf([makeSidecar("abc", { messages: 6 })]) };
 * ```
 */
export function indexOf(
  sidecars: Record<string, unknown>[],
): (text: string) => boolean {
  return (text) => isDeepStrictEqual(JSON.parse(text), serverIndex(sidecars));
}

/**
 * What a changed file of the session dir must be after the repair: its
 * exact text, `null` for gone, or a test of its text that must hold.
 */
export type FileAfter = string | null | ((text: string) => boolean);

/** Arguments of the repair run only (the audits around it take none). */
export interface RepairOnlyOptions {
  /** Such as `--also-repair redundant_backup`, which `audit` refuses. */
  repairArgs?: string[];
}

/** A store the repair must fix. */
export interface RepairedCase extends ValidCase, RepairOnlyOptions {
  /** The findings of the repair's kinds before it runs. */
  before: ExpectedFinding[];
  /** The findings of the repair's kinds after it ran; none by default. */
  after?: ExpectedFinding[];
  /** Every file of the session dir the repair changes, made or removed. */
  files: Record<string, FileAfter>;
  /**
   * Other repairs the same run applies as a consequence (the index follows
   * a sidecar the repair changed, as the server's save keeps it).
   */
  followedBy?: string[];
}

/** The cases of one repair. */
export interface RepairCases {
  /** Stores with findings the repair must leave alone (or none at all). */
  leaveAlone: (ValidCase & RunOptions & RepairOnlyOptions)[];
  repaired: RepairedCase[];
}

type Tree = Map<string, Uint8Array | string>;

async function storeBytes(store: TestStore): Promise<{
  files: Tree;
  stateDb: Uint8Array | null;
}> {
  return {
    files: await treeBytes(store.sessionDir, { storeOnly: true }),
    stateDb: await Deno.readFile(store.stateDbPath).catch(() => null),
  };
}

async function repairOnly(
  store: TestStore,
  kinds: string[],
  options: RunOptions & RepairOnlyOptions,
) {
  const args = [
    "repair",
    ...await storeArgsFor(store, options),
    ...(options.repairArgs ?? []),
    "--check",
    kinds.join(","),
    "--format",
    "json",
    "--quiet",
  ];
  return parseReport(await cliOn(store, args));
}

function assertFilesAfter(
  original: Tree,
  now: Tree,
  files: Record<string, FileAfter>,
  context: string,
): void {
  const changed = treeDiff(original, now).map((line) =>
    line.slice(line.indexOf(" ") + 1)
  );
  assert.deepEqual(
    changed.filter((path) => !path.endsWith("/")).sort(),
    Object.keys(files).sort(),
    `${context}: the files the repair changed`,
  );
  const decoder = new TextDecoder();
  for (const [path, want] of Object.entries(files)) {
    const bytes = now.get(path);
    if (want === null) {
      assert.equal(bytes, undefined, `${context}: ${path} should be gone`);
      continue;
    }
    assert.ok(bytes instanceof Uint8Array, `${context}: ${path} is missing`);
    const text = decoder.decode(bytes);
    if (typeof want === "string") {
      assert.equal(text, want, `${context}: ${path}`);
    } else {
      assert.ok(want(text), `${context}: ${path} is not as expected:\n${text}`);
    }
  }
}

/**
 * Registers one test for a repair: a step per store it must leave alone
 * and per store it must fix, then undo.
 *
 * @example
 * ```ts
 * testRepair("remove_stale_temp", { leaveAlone: [], repaired: [] });
 * ```
 */
export function testRepair(repairId: string, cases: RepairCases): void {
  Deno.test(`repair ${repairId}`, async (t) => {
    const kinds = (await catalog()).repairs.get(repairId);
    assert.ok(kinds, `no repair ${repairId} in 'checks --format json'`);
    for (const alone of cases.leaveAlone) {
      await t.step(
        `leaves alone: ${alone.name}`,
        () =>
          onFreshStore(async (store) => {
            await alone.store(store);
            const before = await storeBytes(store);
            const report = await repairOnly(store, kinds, alone);
            const context = `${repairId}, ${alone.name}`;
            assert.deepEqual(
              (report.repair?.actions ?? []).filter((a) =>
                a.status === "applied"
              ),
              [],
              context,
            );
            const after = await storeBytes(store);
            assert.deepEqual(treeDiff(before.files, after.files), [], context);
            assert.deepEqual(after.stateDb, before.stateDb, context);
          }),
      );
    }
    assert.ok(cases.repaired.length > 0, `${repairId}: no store to repair`);
    for (const c of cases.repaired) {
      await t.step(`repairs: ${c.name}`, () =>
        onFreshStore(async (store) => {
          const context = `${repairId}, ${c.name}`;
          await c.store(store);
          const original = await storeBytes(store);
          const found = await auditOnly(store, kinds, c);
          assertFindings(found.findings, c.before, `${context}, before`);

          const report = await repairOnly(store, kinds, c);
          const applied = (report.repair?.actions ?? []).filter((a) =>
            a.status === "applied"
          );
          assert.ok(applied.length > 0, `${context}: nothing was applied`);
          assert.ok(
            applied.some((a) => a.repair === repairId),
            `${context}: ${repairId} did not act`,
          );
          const allowed = [repairId, ...(c.followedBy ?? [])];
          for (const action of applied) {
            assert.ok(
              allowed.includes(action.repair),
              `${context}: ${action.repair} acted`,
            );
          }
          const runId = report.repair?.runId;
          assert.ok(runId, `${context}: the repair recorded no run`);
          const now = await storeBytes(store);
          assertFilesAfter(original.files, now.files, c.files, context);

          const after = await auditOnly(store, kinds, c);
          assertFindings(after.findings, c.after ?? [], `${context}, after`);

          const undo = await cliOn(store, [
            "undo",
            runId,
            "--session-dir",
            store.sessionDir,
            "--format",
            "json",
          ]);
          assert.ok(undo.code === 0 || undo.code === 1, undo.stderr);
          assert.deepEqual(JSON.parse(undo.stdout).refused, [], context);
          const undone = await storeBytes(store);
          assert.deepEqual(
            treeDiff(original.files, undone.files),
            [],
            `${context}: undo did not give back every byte`,
          );
          assert.deepEqual(undone.stateDb, original.stateDb, context);
        }));
    }
  });
}
