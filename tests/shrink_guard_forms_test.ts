/**
 * Every form of the intentional-shrink guards as today's server applies
 * them (STORE_FORMAT.md §4), on fixture stores CI always runs: each case of
 * tests/shrink_guard_cases.ts gets the verdict it expects, so a guard the
 * server honours is never reported as a loss to restore (a false alarm) and
 * a near miss is still restored. tests/shrink_guards_upstream_test.ts checks
 * the same expectations against the server's own code.
 *
 * @module
 */

import assert from "node:assert/strict";
import { runCli, storeArgs, TestStore } from "./fixtures.ts";
import { GUARD_CASES } from "./shrink_guard_cases.ts";
import { auditGuardCases } from "./shrink_guard_support.ts";

Deno.test("each shrink-guard form gets today's server's verdict", async () => {
  const store = await TestStore.create();
  try {
    const { verdicts } = await auditGuardCases(store);
    const wrong = GUARD_CASES
      .filter(({ id, expect }) => verdicts.get(id) !== expect)
      .map(({ id, expect }) =>
        `${id}: expected ${expect}, got ${verdicts.get(id)}`
      );
    assert.deepEqual(wrong, []);
  } finally {
    await store.cleanup();
  }
});

Deno.test("repair restores exactly the cases without a guard and leaves the guarded ones byte for byte", async () => {
  const store = await TestStore.create();
  try {
    await auditGuardCases(store);
    const before = new Map<string, Uint8Array>();
    for (const { id } of GUARD_CASES) {
      before.set(id, await Deno.readFile(store.path(`${id}.json`)));
    }
    const result = await runCli(["repair", ...storeArgs(store, false)]);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    const wrong: string[] = [];
    for (const { id, expect } of GUARD_CASES) {
      const live = await Deno.readFile(store.path(`${id}.json`));
      const bak = await Deno.readFile(store.path(`${id}.json.bak`));
      const want = expect === "restore" ? bak : before.get(id)!;
      if (!sameBytes(live, want)) wrong.push(`${id} (${expect})`);
    }
    assert.deepEqual(wrong, []);
  } finally {
    await store.cleanup();
  }
});

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
