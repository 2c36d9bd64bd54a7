/**
 * `deno task bench`: how fast hermes-fsck is, measured on synthetic stores
 * it builds itself (tools/bench_store.ts, cached between runs) and printed
 * as one table: start-up on an empty store, audit time against a bare
 * read-and-`JSON.parse` loop over the same files (tools/bench_bare_read.ts,
 * run in turn with the audit), time per session at each store size, peak
 * RSS of the audit, and repairs per second. Every figure is the median of
 * several runs of whole processes, started as an operator starts them.
 *
 * Peak RSS comes from `/usr/bin/time` when the machine has it, else from
 * polling the child's `/proc/<pid>/status` (VmHWM; a lower bound).
 *
 * @example
 * ```sh
 * deno task bench                                  # sizes 1000, 5000, 20000 (5 runs; 3 from 10,000 sessions)
 * deno task bench --sizes 500,2000 --runs 3        # quicker
 * deno task bench --repair 200 --cache /tmp/bench  # smaller repair store
 * ```
 * @module
 */

import { parseArgs } from "node:util";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CLI_FLAGS } from "./permissions.ts";
import { type BenchStore, ensureBenchStore } from "./bench_store.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const CLI = join(ROOT, "cli.ts");
const BARE = join(ROOT, "tools", "bench_bare_read.ts");
const TIME = "/usr/bin/time";

/**
 * The targets the table judges against.
 *
 * @example
 * ```ts
 * startupMs <= TARGETS.startupMs;
 * ```
 */
export const TARGETS = {
  startupMs: 100,
  auditToBareRatio: 1.2,
  peakRssMb: 150,
} as const;

/**
 * One finished child process.
 *
 * @example
 * ```ts
 * const run: ProcessRun = await runProcess(["true"]);
 * ```
 */
export interface ProcessRun {
  /** Its exit code. */
  code: number;
  /** Wall time from spawn to exit. */
  wallMs: number;
  /** User plus system CPU time (all threads), when /usr/bin/time is here. */
  cpuMs: number | null;
  /** Peak RSS in MB, or null when it could not be measured. */
  peakMb: number | null;
  /** What it printed, when asked for. */
  stdout: string;
}

/**
 * Runs a command to the end, timing it with `performance.now` and taking
 * its peak RSS.
 *
 * @example
 * ```ts
 * const run = await runProcess([Deno.execPath(), "--version"]);
 * console.log(run.wallMs, run.peakMb);
 * ```
 */
export async function runProcess(
  argv: string[],
  options: { stdout?: boolean } = {},
): Promise<ProcessRun> {
  const report = hasTime ? await Deno.makeTempFile() : null;
  const command = report
    ? [TIME, "-f", "%M %U %S", "-o", report, ...argv]
    : argv;
  const started = performance.now();
  const child = new Deno.Command(command[0], {
    args: command.slice(1),
    stdin: "null",
    stdout: options.stdout ? "piped" : "null",
    stderr: "null",
    env: { NO_COLOR: "1" },
  }).spawn();
  const polled = report ? null : pollPeak(child.pid);
  const output = options.stdout
    ? new Response(child.stdout).text()
    : Promise.resolve("");
  const status = await child.status;
  const wallMs = performance.now() - started;
  let peakMb: number | null = null;
  let cpuMs: number | null = null;
  if (report) {
    const [kb, user, sys] = (await Deno.readTextFile(report)).trim()
      .split("\n").at(-1)!.split(" ").map(Number);
    peakMb = Number.isFinite(kb) ? kb / 1024 : null;
    cpuMs = Number.isFinite(user + sys) ? (user + sys) * 1000 : null;
    await Deno.remove(report);
  } else peakMb = await polled!.stop();
  return { code: status.code, wallMs, cpuMs, peakMb, stdout: await output };
}

const hasTime = (() => {
  try {
    return Deno.statSync(TIME).isFile;
  } catch {
    return false;
  }
})();

/**
 * Polls a child's high-water mark until it exits (a lower bound), through a
 * shell loop: Deno reads /proc only with --allow-all.
 */
function pollPeak(pid: number): { stop(): Promise<number | null> } {
  const loop = `while kill -0 ${pid} 2>/dev/null; do ` +
    `grep VmHWM /proc/${pid}/status 2>/dev/null; sleep 0.01; done`;
  const output = new Deno.Command("sh", {
    args: ["-c", loop],
    stdout: "piped",
    stderr: "null",
  }).output();
  return {
    async stop() {
      const text = new TextDecoder().decode((await output).stdout);
      const kbs = [...text.matchAll(/VmHWM:\s+(\d+)/g)].map((m) =>
        Number(m[1])
      );
      return kbs.length ? Math.max(...kbs) / 1024 : null;
    },
  };
}

/**
 * The median of some numbers.
 *
 * @example
 * ```ts
 * median([3, 1, 2]); // 2
 * ```
 */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function auditArgv(
  store: { sessionDir: string; stateDbPath: string },
  extra: string[] = [],
) {
  return [
    Deno.execPath(),
    "run",
    "--quiet",
    ...CLI_FLAGS,
    CLI,
    "audit",
    "--session-dir",
    store.sessionDir,
    "--state-db",
    store.stateDbPath,
    ...extra,
  ];
}

function bareArgv(store: BenchStore) {
  return [Deno.execPath(), "run", "--allow-read", BARE, store.sessionDir];
}

/** An audit must end with 0 or 4 (problems found), never 8 or 16. */
function checkAudit(run: ProcessRun, what: string): ProcessRun {
  if (run.code !== 0 && run.code !== 4) {
    throw new Error(`${what} exited ${run.code}`);
  }
  return run;
}

interface SizeResult {
  store: BenchStore;
  /** The audit's extra flags (`--workers 0` for the one-thread row). */
  extra: string[];
  auditMs: number;
  bareMs: number;
  ratio: number;
  /** Audit CPU over bare-loop CPU, pair by pair; null without CPU times. */
  cpuRatio: number | null;
  peakMb: number | null;
  peakMaxMb: number | null;
  /** Pairs of runs (audit, bare loop) the medians are taken over. */
  pairs: number;
}

/**
 * Seconds of pairs a size gets at least (with at most four times `--runs`
 * pairs): a short run is the noisiest, since the machine's load moves a
 * 0.7 s run by a fifth, so a small store gets more pairs than a big one.
 */
const MIN_PAIR_SECONDS = 20;

/** Runs of the empty-store audit, at least: each takes a tenth of a second. */
const MIN_STARTUP_RUNS = 30;

async function measureSize(
  store: BenchStore,
  runs: number,
  log: (m: string) => void,
  extra: string[] = [],
): Promise<SizeResult> {
  log(
    `audit ${
      extra.join(" ")
    } vs bare loop: ${store.spec.sessions} sessions, at least ${runs} runs`,
  );
  // Untimed first runs: both find the files in the page cache.
  checkAudit(await runProcess(auditArgv(store, extra)), "audit");
  await runProcess(bareArgv(store));
  const audits: ProcessRun[] = [];
  const bares: ProcessRun[] = [];
  const started = performance.now();
  for (
    let i = 0;
    i < runs ||
    (i < runs * 4 && performance.now() - started < MIN_PAIR_SECONDS * 1000);
    i++
  ) {
    audits.push(
      checkAudit(await runProcess(auditArgv(store, extra)), "audit"),
    );
    bares.push(await runProcess(bareArgv(store)));
  }
  const peaks = audits.map((r) => r.peakMb).filter((p) => p !== null);
  return {
    store,
    extra,
    auditMs: median(audits.map((r) => r.wallMs)),
    bareMs: median(bares.map((r) => r.wallMs)),
    ratio: median(audits.map((r, i) => r.wallMs / bares[i].wallMs)),
    cpuRatio: audits.every((r, i) => r.cpuMs && bares[i].cpuMs)
      ? median(audits.map((r, i) => r.cpuMs! / bares[i].cpuMs!))
      : null,
    peakMb: peaks.length ? median(peaks) : null,
    peakMaxMb: peaks.length ? Math.max(...peaks) : null,
    pairs: audits.length,
  };
}

async function measureStartup(runs: number): Promise<number> {
  const root = await Deno.makeTempDir({ prefix: "hermes-fsck-bench-empty-" });
  try {
    const store = {
      sessionDir: join(root, "sessions"),
      stateDbPath: join(root, "state.db"),
    };
    await Deno.mkdir(store.sessionDir);
    await Deno.writeFile(store.stateDbPath, new Uint8Array());
    const argv = auditArgv(store).map((a) =>
      a === "--state-db" ? "--no-state-db" : a
    ).filter((a) => a !== store.stateDbPath);
    checkAudit(await runProcess(argv), "audit of an empty store");
    const walls: number[] = [];
    for (let i = 0; i < runs; i++) {
      walls.push(checkAudit(await runProcess(argv), "audit").wallMs);
    }
    return median(walls);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

interface RepairResult {
  targets: number;
  repairMs: number;
  applied: number;
  /** File writes and removals the applied repairs made. */
  fileActions: number;
  /** Audits the run made: one first, one after each pass that changed something. */
  audits: number;
  perSecond: number;
  /** The repair's time inside its process: repairMs less start-up. */
  insideMs: number;
  /** An audit's time inside its process, on a copy of the same store. */
  auditMs: number;
  fsyncMs: number;
}

async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.isDirectory) await copyTree(source, target);
    else if (entry.isFile && entry.name !== "store.json") {
      await Deno.copyFile(source, target);
    }
  }
}

async function measureRepair(
  store: BenchStore,
  runs: number,
  log: (m: string) => void,
): Promise<RepairResult> {
  log(`repair of ${store.spec.repairTargets} damaged sessions, ${runs} runs`);
  const walls: number[] = [];
  /** The repair's time inside the process. */
  const insides: number[] = [];
  const audits: number[] = [];
  let applied = 0;
  let fileActions = 0;
  let auditCount = 0;
  for (let i = 0; i < runs; i++) {
    const root = await Deno.makeTempDir({
      dir: join(store.root, ".."),
      prefix: "repair-run-",
    });
    try {
      await copyTree(store.root, root);
      const copy = {
        sessionDir: join(root, "webui", "sessions"),
        stateDbPath: join(root, "hermes", "state.db"),
      };
      // Timed inside the process (the report's durationMs): the repair
      // starts once, so a whole process's start-up is not the audits'.
      const audit = checkAudit(
        await runProcess(auditArgv(copy, ["--format", "json"]), {
          stdout: true,
        }),
        "audit",
      );
      audits.push(JSON.parse(audit.stdout).durationMs);
      const argv = auditArgv(copy).map((a) => a === "audit" ? "repair" : a);
      const run = await runProcess([...argv, "--format", "json"], {
        stdout: true,
      });
      if (run.code & 8) throw new Error(`repair exited ${run.code}`);
      const report = JSON.parse(run.stdout);
      const records = report.repair.actions as {
        status: string;
        pass: number;
        actions: unknown[];
      }[];
      const done = records.filter((r) => r.status === "applied");
      applied = done.length;
      fileActions = done.reduce((n, r) => n + r.actions.length, 0);
      auditCount = 1 + new Set(done.map((r) => r.pass)).size;
      walls.push(run.wallMs);
      insides.push(report.durationMs);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  }
  const repairMs = median(walls);
  return {
    targets: store.spec.repairTargets,
    repairMs,
    applied,
    fileActions,
    audits: auditCount,
    perSecond: applied / (repairMs / 1000),
    insideMs: median(insides),
    auditMs: median(audits),
    fsyncMs: await fsyncCost(join(store.root, "..")),
  };
}

/**
 * What one durable replace costs on this disk, the floor under a repair:
 * write a temp, fsync it, rename it into place, fsync the dir.
 */
async function fsyncCost(parent: string): Promise<number> {
  const dir = await Deno.makeTempDir({ dir: parent, prefix: "fsync-" });
  try {
    const data = new Uint8Array(50_000);
    const count = 100;
    const started = performance.now();
    for (let i = 0; i < count; i++) {
      const temp = join(dir, `f${i}.tmp`);
      const file = await Deno.open(temp, { write: true, create: true });
      await file.write(data);
      await file.sync();
      file.close();
      await Deno.rename(temp, join(dir, `f${i}`));
      const handle = await Deno.open(dir, { read: true });
      await handle.sync().catch(() => {});
      handle.close();
    }
    return (performance.now() - started) / count;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function machine(): string {
  // Through cat: Deno reads /proc only with --allow-all.
  const read = (path: string) => {
    try {
      const out = new Deno.Command("cat", { args: [path], stderr: "null" })
        .outputSync();
      return new TextDecoder().decode(out.stdout);
    } catch {
      return "";
    }
  };
  const cpu = /model name\s*:\s*(.+)/.exec(read("/proc/cpuinfo"))?.[1] ??
    Deno.build.arch;
  const kb = Number(/MemTotal:\s+(\d+)/.exec(read("/proc/meminfo"))?.[1] ?? 0);
  const memory = kb ? `, ${(kb / 1024 / 1024).toFixed(0)} GiB` : "";
  return `${navigator.hardwareConcurrency} cores (${cpu.trim()})${memory}, ` +
    `${Deno.build.os}, Deno ${Deno.version.deno}`;
}

function fmt(n: number, digits = 0): string {
  // A value that rounds to zero is "0", never "-0".
  return n.toFixed(digits).replace(/^-(0(\.0+)?)$/, "$1");
}

function verdict(ok: boolean): string {
  return ok ? "met" : "NOT met";
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      sizes: { type: "string", default: "1000,5000,20000" },
      runs: { type: "string", default: "5" },
      repair: { type: "string", default: "1000" },
      "repair-runs": { type: "string", default: "3" },
      damage: { type: "string", default: "3" },
      seed: { type: "string", default: "1" },
      cache: { type: "string" },
    },
  });
  const sizes = values.sizes.split(",").map(Number).filter((n) => n > 0)
    .sort((a, b) => a - b);
  const runs = Math.max(1, Number(values.runs));
  const repairTargets = Number(values.repair);
  const cache = values.cache ??
    join(
      Deno.env.get("XDG_CACHE_HOME") ??
        join(Deno.env.get("HOME") ?? "/tmp", ".cache"),
      "hermes-fsck-bench",
    );
  const log = (m: string) => console.error(`bench: ${m}`);
  const spec = (sessions: number, targets = 0) => ({
    sessions,
    damagePercent: targets ? 0 : Number(values.damage),
    seed: Number(values.seed),
    repairTargets: targets,
  });
  const started = performance.now();
  const stores = [];
  for (const size of sizes) {
    stores.push(await ensureBenchStore(cache, spec(size), log));
  }
  const repairStore = repairTargets > 0
    ? await ensureBenchStore(
      cache,
      spec(repairTargets * 2, repairTargets),
      log,
    )
    : null;

  const startupRuns = Math.max(runs * 2, MIN_STARTUP_RUNS);
  log(`start-up: audit of an empty store, ${startupRuns} runs`);
  const startupMs = await measureStartup(startupRuns);
  const results: SizeResult[] = [];
  // A store of 10,000 sessions or more takes tens of seconds a pair of
  // runs: three pairs keep the whole benchmark to a few minutes.
  const pairsAt = (store: BenchStore) =>
    store.spec.sessions >= 10_000 ? Math.min(runs, 3) : runs;
  for (const store of stores) {
    results.push(await measureSize(store, pairsAt(store), log));
  }
  // The largest store again in one thread: what --workers 0 saves in
  // memory and costs in time.
  const largest = stores.at(-1)!;
  const oneThread = await measureSize(largest, pairsAt(largest), log, [
    "--workers",
    "0",
  ]);
  const repair = repairStore
    ? await measureRepair(
      repairStore,
      Math.max(1, Number(values["repair-runs"])),
      log,
    )
    : null;

  const lines: string[] = [];
  lines.push(`hermes-fsck benchmark (medians; whole processes)`);
  lines.push(`machine: ${machine()}`);
  lines.push(
    `peak RSS from: ${hasTime ? TIME : "/proc/<pid>/status VmHWM polling"}`,
  );
  lines.push("");
  lines.push(
    "sessions   files      MB  largest MB  audit s   bare s  audit/bare  cpu a/b  ms/session  audit MB/s  peak RSS MB",
  );
  for (const r of [...results, oneThread]) {
    const s = r.store;
    lines.push(
      [
        String(s.spec.sessions).padEnd(9),
        String(s.files).padStart(6),
        fmt(s.bytes / 1e6).padStart(7),
        fmt(s.largestFileBytes / 1e6, 1).padStart(11),
        fmt(r.auditMs / 1000, 2).padStart(8),
        fmt(r.bareMs / 1000, 2).padStart(8),
        fmt(r.ratio, 2).padStart(11),
        (r.cpuRatio === null ? "n/a" : fmt(r.cpuRatio, 2)).padStart(8),
        fmt(r.auditMs / s.spec.sessions, 3).padStart(11),
        fmt(s.bytes / 1e6 / (r.auditMs / 1000)).padStart(11),
        (r.peakMb === null ? "n/a" : fmt(r.peakMb)).padStart(12),
        r.extra.join(" "),
      ].join(" "),
    );
  }
  lines.push(
    `(audit/bare: wall time, median of the pairs, ${
      [...results, oneThread].map((r) => r.pairs).join(", ")
    } pairs row by row; cpu a/b: user+system CPU ` +
      "of all threads, the same way: the audit spends more CPU on two cores to take less time)",
  );
  const first = results[0];
  const last = results.at(-1)!;
  const scaling = (last.auditMs / last.store.spec.sessions) /
    (first.auditMs / first.store.spec.sessions);
  lines.push("");
  lines.push(
    `damage in each store: ${
      Object.entries(last.store.damage).map(([k, v]) => `${k} ${v}`).join(", ")
    }; sessions of 2,000+ messages: ${last.store.hugeSessions}`,
  );
  lines.push("");
  lines.push(`start-up, audit of an empty store: ${fmt(startupMs)} ms`);
  if (repair) {
    lines.push(
      `repair of ${repair.targets} damaged sessions (${
        repairStore!.spec.sessions
      } in the store): ` +
        `${
          fmt(repair.repairMs / 1000, 2)
        } s, ${repair.applied} repairs applied, ` +
        `${fmt(repair.perSecond)} repairs/s`,
    );
    // A run starts once, then audits first and after each pass that
    // changed something; the rest of its time is writing. Both are timed
    // inside their processes.
    const scanning = repair.audits * repair.auditMs;
    const writing = repair.insideMs - scanning;
    lines.push(
      `  of which start-up: ${
        fmt((repair.repairMs - repair.insideMs) / 1000, 2)
      } s; scanning: ${repair.audits} audits of ${
        fmt(repair.auditMs / 1000, 2)
      } s; writing: ${fmt(writing / 1000, 2)} s for ${repair.fileActions} ` +
        `file actions, ${
          fmt(writing / Math.max(1, repair.fileActions), 1)
        } ms each`,
    );
    lines.push(
      `  (one bare durable replace here, write + fsync + rename + fsync dir: ` +
        `${
          fmt(repair.fsyncMs, 1)
        } ms; an action also writes its undo record durably, twice)`,
    );
  }
  lines.push("");
  lines.push("targets:");
  lines.push(
    `  start-up <= ${TARGETS.startupMs} ms: ${fmt(startupMs)} ms, ${
      verdict(startupMs <= TARGETS.startupMs)
    }`,
  );
  const worst = Math.max(...results.map((r) => r.ratio));
  lines.push(
    `  audit <= ${TARGETS.auditToBareRatio}x the bare loop: ${
      results.map((r) => `${fmt(r.ratio, 2)}x`).join(", ")
    }, ${verdict(worst <= TARGETS.auditToBareRatio)}`,
  );
  lines.push(
    `  linear scaling: time per session at ${last.store.spec.sessions} is ${
      fmt(scaling, 2)
    }x that at ${first.store.spec.sessions}`,
  );
  for (const r of [last, oneThread]) {
    if (r.peakMb === null) continue;
    lines.push(
      `  peak RSS <= ${TARGETS.peakRssMb} MB at ${r.store.spec.sessions} sessions` +
        `${r.extra.length ? ` with ${r.extra.join(" ")}` : ""}: ` +
        `${fmt(r.peakMb)} MB (max ${fmt(r.peakMaxMb!)}), ${
          verdict(r.peakMb <= TARGETS.peakRssMb)
        }` +
        (r.extra.length ? `, at ${fmt(r.ratio, 2)}x the bare loop` : ""),
    );
  }
  if (first !== last && first.peakMb !== null && last.peakMb !== null) {
    // "Independent of store size, bounded by the largest single file": the
    // peak may grow with the largest file (the index has an entry per
    // session), not more.
    const growth = last.peakMb - first.peakMb;
    // In the peak's unit (its MB are KB / 1024 from the OS).
    const fileGrowth =
      (last.store.largestFileBytes - first.store.largestFileBytes) / 2 ** 20;
    const sessions = last.store.spec.sessions - first.store.spec.sessions;
    lines.push(
      `  peak RSS bounded by the largest file: from ${first.store.spec.sessions} ` +
        `to ${last.store.spec.sessions} sessions the peak grows ${
          fmt(growth)
        } MB (${fmt(growth * 1024 / sessions, 2)} KB a session), the largest ` +
        `file ${fmt(fileGrowth)} MB, ${verdict(growth <= fileGrowth)}`,
    );
  }
  lines.push("");
  lines.push(
    `(${
      fmt((performance.now() - started) / 1000)
    } s; stores cached in ${cache})`,
  );
  console.log(lines.join("\n"));
}
