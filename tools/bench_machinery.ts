/**
 * `deno task bench:machinery`: does each piece of the scan's speed and
 * memory machinery pay for itself? The audit of one bench store (built and
 * cached by tools/bench_store.ts, as `deno task bench` does) is run as a
 * whole process in variants, each with one piece taken away, in rounds in
 * a rotating order; it prints each variant's median wall time and peak RSS
 * beside the shipped audit's, and their ratios.
 *
 * Variants: as shipped; no worker threads (`workers: 0`); not in parts
 * (the whole store at once, where the string pool then compacts it); no
 * heap trim; none of the binary's V8 flags.
 *
 * @example
 * ```sh
 * deno task bench:machinery                          # uniform, 20,000 sessions
 * deno task bench:machinery --shape long-tailed --sessions 2000 --runs 5
 * ```
 * @module
 */

import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { CLI_FLAGS, CLI_PERMISSIONS } from "./permissions.ts";
import {
  type BenchShape,
  defaultBenchCache,
  ensureBenchStore,
} from "./bench_store.ts";
import { runProcess } from "./bench.ts";
import { auditStore, DEFAULT_PART_SESSIONS } from "../core/run/audit.ts";
import { builtinChecks } from "../checks/builtin.ts";
import { withRepairs } from "../core/plugins/registry.ts";
import { builtinRepairs } from "../repairs/builtin.ts";

/**
 * One way of running the audit: what is taken away.
 *
 * @example
 * ```ts
 * import { VARIANTS } from "./bench_machinery.ts";
 * VARIANTS.map((v) => v.name); // ["shipped", "no workers", ...]
 * ```
 */
export const VARIANTS = [
  { name: "shipped", id: "shipped", v8Flags: true },
  { name: "no workers", id: "no-workers", v8Flags: true },
  { name: "not in parts", id: "no-parts", v8Flags: true },
  { name: "no heap trim", id: "no-trim", v8Flags: true },
  { name: "no V8 flags", id: "shipped", v8Flags: false },
] as const;

const SELF = fileURLToPath(import.meta.url);

/** The child: one audit of `dir` as variant `id`, its finding count out. */
async function child(id: string, sessionDir: string, stateDbPath: string) {
  const result = await auditStore({
    scan: {
      sessionDir,
      stateDbPath,
      workers: id === "no-workers" ? 0 : undefined,
      trimHeap: id === "no-trim" ? false : undefined,
    },
    checks: withRepairs(builtinChecks, builtinRepairs),
    partSessions: id === "no-parts" ? 0 : DEFAULT_PART_SESSIONS,
  });
  result.store.stateDb.close();
  console.log(result.findings.length);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function main() {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      shape: { type: "string", default: "uniform" },
      sessions: { type: "string", default: "20000" },
      runs: { type: "string", default: "3" },
      cache: { type: "string" },
      child: { type: "string" },
      "session-dir": { type: "string" },
      "state-db": { type: "string" },
    },
  });
  if (values.child) {
    await child(values.child, values["session-dir"]!, values["state-db"]!);
    return;
  }
  const cache = values.cache ?? defaultBenchCache();
  const store = await ensureBenchStore(cache, {
    sessions: Number(values.sessions),
    shape: values.shape as BenchShape,
    damagePercent: 3,
    seed: 1,
    repairTargets: 0,
  }, (line) => console.error(`bench: ${line}`));
  const runs = Math.max(1, Number(values.runs));
  const wall = VARIANTS.map(() => [] as number[]);
  const peak = VARIANTS.map(() => [] as number[]);
  const counts = new Set<string>();
  const audit = (variant: typeof VARIANTS[number]) =>
    runProcess([
      Deno.execPath(),
      "run",
      ...(variant.v8Flags ? CLI_FLAGS : CLI_PERMISSIONS),
      SELF,
      "--child",
      variant.id,
      "--session-dir",
      store.sessionDir,
      "--state-db",
      store.stateDbPath,
    ], { stdout: true });
  // Untimed: the files come into the page cache, the modules compiled.
  await audit(VARIANTS[0]);
  for (let round = 0; round < runs; round++) {
    for (let k = 0; k < VARIANTS.length; k++) {
      const i = (k + round) % VARIANTS.length;
      const variant = VARIANTS[i];
      const run = await audit(variant);
      if (run.code !== 0) throw new Error(`${variant.name} exited ${run.code}`);
      counts.add(run.stdout.trim());
      wall[i].push(run.wallMs);
      if (run.peakMb !== null) peak[i].push(run.peakMb);
    }
  }
  if (counts.size !== 1) {
    throw new Error(`the variants found different counts: ${[...counts]}`);
  }
  const base = { wall: median(wall[0]), peak: median(peak[0]) };
  console.log(
    `audit of ${values.shape}, ${values.sessions} sessions (${
      Math.round(store.bytes / 1e6)
    } MB), medians of ${runs} rounds; every variant found the same ${
      [...counts][0]
    } findings`,
  );
  console.log(
    "variant          wall s  peak RSS MB  wall/shipped  RSS/shipped",
  );
  VARIANTS.forEach((variant, i) => {
    const w = median(wall[i]);
    const p = median(peak[i]);
    console.log(
      `${variant.name.padEnd(15)} ${(w / 1000).toFixed(2).padStart(7)} ${
        p.toFixed(0).padStart(12)
      } ${(w / base.wall).toFixed(2).padStart(13)} ${
        (p / base.peak).toFixed(2).padStart(12)
      }`,
    );
  });
}

if (import.meta.main) await main();
