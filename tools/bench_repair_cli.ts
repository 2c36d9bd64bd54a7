/**
 * hermes-fsck for the repair benchmark: the CLI as shipped, with the time
 * the run spends planning repairs and applying their actions (the safety
 * layer) timed inside the process, so a file action's cost is measured
 * directly rather than as what is left of the run once its audits are
 * taken off. The times go, as JSON, to the file named by
 * `HERMES_FSCK_BENCH_TIMES`; everything else is the CLI's.
 *
 * @example
 * ```sh
 * HERMES_FSCK_BENCH_TIMES=/tmp/times.json deno run <CLI_FLAGS> tools/bench_repair_cli.ts repair --session-dir ...
 * ```
 * @module
 */

import { main } from "../cli.ts";
import { StoreWriter } from "../core/io/safety.ts";
import type { Repair } from "../core/plugins/repair.ts";
import { builtinRepairs } from "../repairs/builtin.ts";

/**
 * Time spent in the repairs' plans and in the safety layer, in ms.
 *
 * @example
 * ```ts
 * import type { RepairTimes } from "./bench_repair_cli.ts";
 * declare const path: string;
 * const times: RepairTimes = JSON.parse(await Deno.readTextFile(path));
 * ```
 */
export interface RepairTimes {
  planMs: number;
  writeMs: number;
}

const times: RepairTimes = { planMs: 0, writeMs: 0 };

async function timed<T>(
  key: keyof RepairTimes,
  work: () => Promise<T>,
): Promise<T> {
  const started = performance.now();
  try {
    return await work();
  } finally {
    times[key] += performance.now() - started;
  }
}

if (import.meta.main) {
  // `apply` goes through `applyBatch`, so every write is timed once.
  const applyBatch = StoreWriter.prototype.applyBatch;
  StoreWriter.prototype.applyBatch = function (actions) {
    return timed("writeMs", () => applyBatch.call(this, actions));
  };
  const repairs: Repair[] = builtinRepairs.map((repair) => ({
    ...repair,
    plan: (findings, context) =>
      timed("planMs", () => repair.plan(findings, context)),
  }));
  const code = await main(Deno.args, undefined, { repairs });
  const out = Deno.env.get("HERMES_FSCK_BENCH_TIMES");
  if (out) await Deno.writeTextFile(out, JSON.stringify(times));
  Deno.exit(code);
}
