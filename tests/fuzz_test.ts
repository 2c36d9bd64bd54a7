/**
 * The fuzz of issue 7 in the normal suite: a few hundred healthy stores,
 * each damaged at random from a fixed seed (flipped bytes, truncations,
 * splices, values of another type, symlinks, FIFOs, stale temps), then
 * audited and repaired. Most cases run the CLI's `main()` in this process;
 * a sample runs it as a subprocess with the binary's exact permissions.
 * tests/fuzz_support.ts says what each case checks; `deno task fuzz` runs
 * the same cases for as long as you like, from any seed.
 */

import assert from "node:assert/strict";
import { describeFailure, runFuzzCase } from "./fuzz_support.ts";
import { pool } from "./safety_support.ts";

/** The suite's seed: the same cases on every run, so a failure reproduces. */
const SEED = 20261121;

async function fuzz(
  indexes: number[],
  subprocess: boolean,
  width: number,
): Promise<void> {
  const failures: string[] = [];
  const codes = new Map<number, number>();
  await pool(indexes, width, async (index) => {
    const result = await runFuzzCase(SEED, index, { subprocess });
    if (!result.ok) failures.push(describeFailure(result));
    else for (const c of result.codes) codes.set(c, (codes.get(c) ?? 0) + 1);
  });
  assert.deepEqual(failures, [], failures.join("\n\n"));
  // The damage reaches the tool: clean, repaired and unsafe stores all occur.
  if (indexes.length >= 100) {
    for (const code of [0, 1, 4]) {
      assert.ok((codes.get(code) ?? 0) > 0, `no run ended with ${code}`);
    }
  }
}

Deno.test("fuzz: 300 damaged stores, audited and repaired in this process, survive with nothing lost", async () => {
  const indexes = Array.from({ length: 300 }, (_, i) => i).filter((i) =>
    i % 10 !== 0
  );
  await fuzz(indexes, false, 2);
});

Deno.test("fuzz: a sample of the damaged stores, as subprocesses with the binary's permissions", async () => {
  const indexes = Array.from({ length: 300 }, (_, i) => i).filter((i) =>
    i % 10 === 0
  );
  await fuzz(indexes, true, 2);
});
