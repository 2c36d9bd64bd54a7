/**
 * `deno task fuzz`: the fuzz of the test suite (tests/fuzz_test.ts) for long
 * runs. Each case builds a healthy store, damages it at random, and checks
 * that `audit` and `repair` survive it (tests/fuzz_support.ts says what is
 * checked). Cases run in this process through the CLI's `main()`, and every
 * `--subprocess-every`th one as a subprocess with the binary's permissions.
 * Exits 1 after the first failures (all of them with `--keep-going`),
 * printing how to reproduce each.
 *
 * @example
 * ```sh
 * deno task fuzz                        # 1000 cases from a random seed
 * deno task fuzz --seed 7 --count 5000  # a long run, reproducible
 * deno task fuzz --seed 7 --start 1234 --count 1   # one case again
 * ```
 * @module
 */

import { parseArgs } from "node:util";
import { describeFailure, runFuzzCase } from "../tests/fuzz_support.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    seed: { type: "string" },
    count: { type: "string", default: "1000" },
    start: { type: "string", default: "0" },
    "subprocess-every": { type: "string", default: "25" },
    "keep-going": { type: "boolean", default: false },
  },
});

const seed = values.seed === undefined
  ? Math.floor(Math.random() * 2 ** 31)
  : Number(values.seed);
const count = Number(values.count);
const start = Number(values.start);
const every = Number(values["subprocess-every"]);
for (
  const [name, value] of [["seed", seed], ["count", count], ["start", start], [
    "subprocess-every",
    every,
  ]] as const
) {
  if (!Number.isInteger(value) || value < 0) {
    console.error(`fuzz: --${name} must be a whole number, not ${value}`);
    Deno.exit(2);
  }
}

console.log(`fuzz: seed ${seed}, cases ${start} to ${start + count - 1}`);
const started = performance.now();
let failures = 0;
for (let index = start; index < start + count; index++) {
  const subprocess = every > 0 && index % every === 0;
  const result = await runFuzzCase(seed, index, { subprocess });
  if (!result.ok) {
    failures++;
    console.error(describeFailure(result));
    if (!values["keep-going"]) break;
  }
  if ((index - start + 1) % 100 === 0) {
    const seconds = ((performance.now() - started) / 1000).toFixed(0);
    console.log(
      `fuzz: ${index - start + 1} cases, ${failures} failed, ${seconds} s`,
    );
  }
}
const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(`fuzz: done in ${seconds} s, ${failures} failed (seed ${seed})`);
Deno.exit(failures > 0 ? 1 : 0);
