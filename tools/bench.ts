/**
 * `deno task bench`: the speed and memory targets of issue 22, measured side
 * by side in one run and printed as one table with "met" or "NOT met" for
 * each. Stores (tools/bench_store.ts, cached between runs) of two shapes,
 * long-tailed and uniform, at each size; on each, three whole processes
 * started as an operator starts them: hermes-fsck's audit, a bare
 * read-and-`JSON.parse` loop over the same files (tools/bench_bare_read.ts),
 * and the server's own audit (`python3 -m api.session_recovery --audit`
 * from `../shared/upstream/hermes-webui-df65251d5`, or under
 * `$HERMES_FSCK_UPSTREAM`; skipped with a note where absent). They run in
 * rounds, one of each in a rotating order, so the machine's noise hits
 * every column alike; figures are medians over the rounds, ratios medians
 * of each round's ratio. Then start-up on an empty store and the repair's
 * time per file action (planning and writing, timed inside the run by
 * tools/bench_repair_cli.ts) against a bare durable replace on the same
 * disk.
 *
 * Peak RSS comes from `/usr/bin/time` when the machine has it, else from
 * polling the child's `/proc/<pid>/status` (VmHWM; a lower bound).
 *
 * @example
 * ```sh
 * deno task bench                      # sizes 2000,20000 (a while; builds ~3.3 GB of stores once)
 * deno task bench --quick              # tiny stores, one round: under a minute
 * deno task bench --sizes 500 --runs 3 --repair 100 --cache /tmp/bench
 * ```
 * @module
 */

import { parseArgs } from "node:util";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CLI_FLAGS } from "./permissions.ts";
import {
  type BenchShape,
  type BenchStore,
  defaultBenchCache,
  ensureBenchStore,
} from "./bench_store.ts";
import { upstreamDir } from "../tests/upstream_store_support.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const CLI = join(ROOT, "cli.ts");
const BARE = join(ROOT, "tools", "bench_bare_read.ts");
const REPAIR_CLI = join(ROOT, "tools", "bench_repair_cli.ts");
const TIME = "/usr/bin/time";

/**
 * The targets the table judges against.
 *
 * @example
 * ```ts
 * import { TARGETS } from "./bench.ts";
 * declare const startupMs: number;
 * startupMs <= TARGETS.startupMs;
 * ```
 */
export const TARGETS = {
  /** Audit wall time over the bare loop's, at most. */
  auditToBareRatio: 1.2,
  /** The server's audit wall time over hermes-fsck's, at least. */
  serverToAuditRatio: 2,
  /** Peak RSS of the audit at {@linkcode TARGETS.peakRssSessions}, at most. */
  peakRssMb: 150,
  peakRssSessions: 20_000,
  /** Audit of an empty store, whole process, at most. */
  startupMs: 100,
  /** Repair time per file action on the repair store, at most. */
  repairActionMs: 3,
} as const;

/**
 * One finished child process.
 *
 * @example
 * ```ts
 * import { type ProcessRun, runProcess } from "./bench.ts";
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
 * import { runProcess } from "./bench.ts";
 * const run = await runProcess([Deno.execPath(), "--version"]);
 * console.log(run.wallMs, run.peakMb);
 * ```
 */
export async function runProcess(
  argv: string[],
  options: { stdout?: boolean; cwd?: string; env?: Record<string, string> } =
    {},
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
    cwd: options.cwd,
    env: { NO_COLOR: "1", ...options.env },
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
 * import { median } from "./bench.ts";
 * median([3, 1, 2]); // 2
 * ```
 */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

type Store = { sessionDir: string; stateDbPath: string };

function auditArgv(store: Store, extra: string[] = []) {
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

/** An audit must end with 0 or 4 (problems found), never 8 or 16. */
function checkAudit(run: ProcessRun, what: string): ProcessRun {
  if (run.code !== 0 && run.code !== 4) {
    throw new Error(`${what} exited ${run.code}`);
  }
  return run;
}

/**
 * The server's own audit, ready to run, or why it cannot be: its code
 * (`upstreamDir`), the interpreter `python3` resolves to (run directly, so
 * a version manager's shim does not add its start-up to the server's), and
 * a scratch home so the module never touches the operator's own store.
 */
interface ServerAudit {
  python: string;
  cwd: string;
  env: Record<string, string>;
  scratch: string;
}

async function serverAudit(): Promise<ServerAudit | string> {
  const cwd = await upstreamDir(UPSTREAM_VERSION);
  if (cwd.startsWith("skipped")) return cwd;
  const out = await new Deno.Command("python3", {
    args: ["-c", "import sys; print(sys.executable)"],
    stdout: "piped",
    stderr: "null",
  }).output();
  const python = new TextDecoder().decode(out.stdout).trim();
  if (!out.success || !python) return "skipped: python3 did not start";
  const scratch = await Deno.makeTempDir({ prefix: "hermes-fsck-bench-py-" });
  return {
    python,
    cwd,
    scratch,
    env: {
      PYTHONDONTWRITEBYTECODE: "1",
      HERMES_HOME: join(scratch, "hermes"),
      HERMES_WEBUI_STATE_DIR: join(scratch, "webui"),
      HOME: scratch,
    },
  };
}

const UPSTREAM_VERSION = "hermes-webui-df65251d5";

/** One of the three processes a row times. */
interface Tool {
  name: "audit" | "bare" | "server";
  run(): Promise<ProcessRun>;
}

function toolsFor(store: BenchStore, server: ServerAudit | null): Tool[] {
  const tools: Tool[] = [
    {
      name: "audit",
      run: async () => checkAudit(await runProcess(auditArgv(store)), "audit"),
    },
    {
      name: "bare",
      run: () =>
        runProcess([
          Deno.execPath(),
          "run",
          "--allow-read",
          BARE,
          store.sessionDir,
        ]),
    },
  ];
  if (server) {
    tools.push({
      name: "server",
      run: async () => {
        const run = await runProcess([
          server.python,
          "-m",
          "api.session_recovery",
          "--audit",
          "--session-dir",
          store.sessionDir,
          "--state-db",
          store.stateDbPath,
        ], { cwd: server.cwd, env: server.env });
        if (run.code !== 0) {
          throw new Error(
            `the server's audit exited ${run.code} on ${store.sessionDir}`,
          );
        }
        return run;
      },
    });
  }
  return tools;
}

interface RowResult {
  store: BenchStore;
  auditMs: number;
  bareMs: number;
  serverMs: number | null;
  /** Medians of each round's ratio. */
  auditToBare: number;
  serverToAudit: number | null;
  serverToBare: number | null;
  peakMb: number | null;
  rounds: number;
}

/**
 * Times the tools on one store in rounds, one run of each a round, the
 * order rotating, until `runs` rounds and `minSeconds` have passed (at most
 * four times `runs`): a short run is the noisiest, since the machine's load
 * moves a one-second run by a fifth, so a small store gets more rounds.
 */
async function measureRow(
  store: BenchStore,
  server: ServerAudit | null,
  runs: number,
  minSeconds: number,
  log: (m: string) => void,
): Promise<RowResult> {
  const tools = toolsFor(store, server);
  log(
    `${store.spec.shape ?? "long-tailed"}, ${store.spec.sessions} sessions: ` +
      `${tools.map((t) => t.name).join(", ")}, at least ${runs} rounds`,
  );
  // Untimed first runs: every tool finds the files in the page cache.
  for (const tool of tools) await tool.run();
  const times = new Map(tools.map((t) => [t.name, [] as ProcessRun[]]));
  const started = performance.now();
  for (
    let round = 0;
    round < runs ||
    (round < runs * 4 && performance.now() - started < minSeconds * 1000);
    round++
  ) {
    for (let i = 0; i < tools.length; i++) {
      const tool = tools[(round + i) % tools.length];
      times.get(tool.name)!.push(await tool.run());
    }
  }
  const audit = times.get("audit")!;
  const bare = times.get("bare")!;
  const serverRuns = times.get("server");
  const ratio = (a: ProcessRun[], b: ProcessRun[]) =>
    median(a.map((r, i) => r.wallMs / b[i].wallMs));
  const peaks = audit.map((r) => r.peakMb).filter((p) => p !== null);
  return {
    store,
    auditMs: median(audit.map((r) => r.wallMs)),
    bareMs: median(bare.map((r) => r.wallMs)),
    serverMs: serverRuns ? median(serverRuns.map((r) => r.wallMs)) : null,
    auditToBare: ratio(audit, bare),
    serverToAudit: serverRuns ? ratio(serverRuns, audit) : null,
    serverToBare: serverRuns ? ratio(serverRuns, bare) : null,
    peakMb: peaks.length ? median(peaks) : null,
    rounds: audit.length,
  };
}

async function measureStartup(runs: number): Promise<number> {
  const root = await Deno.makeTempDir({ prefix: "hermes-fsck-bench-empty-" });
  try {
    const sessionDir = join(root, "sessions");
    await Deno.mkdir(sessionDir);
    const argv = auditArgv({ sessionDir, stateDbPath: "" }).slice(0, -2);
    argv.push("--no-state-db");
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
  store: BenchStore;
  repairMs: number;
  applied: number;
  /** File writes and removals the applied repairs made. */
  fileActions: number;
  /** Audits the run made: one first, one after each pass that changed something. */
  audits: number;
  /** The repair's time inside its process: repairMs less start-up. */
  insideMs: number;
  /** An audit's time inside its process, on a copy of the same store. */
  auditMs: number;
  /** Inside less the audits, per file action (the audits timed apart). */
  leftMs: number;
  /** Planning time per file action, timed inside the run. */
  planMs: number;
  /** Safety layer's time per file action, timed inside the run. */
  writeMs: number;
  /** planMs + writeMs: what the target judges. */
  actionMs: number;
  /** One bare durable replace on the same disk, beside each run (median). */
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
  const insides: number[] = [];
  const audits: number[] = [];
  const perAction: number[] = [];
  const plans: number[] = [];
  const writes: number[] = [];
  const bares: number[] = [];
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
      const auditMs = JSON.parse(audit.stdout).durationMs;
      const argv = auditArgv(copy).map((a) =>
        a === "audit" ? "repair" : a === CLI ? REPAIR_CLI : a
      );
      // The floor, measured beside each run: a shared disk's fsync time
      // swings by several times within minutes.
      bares.push(await fsyncCost(root));
      const timesFile = join(root, "times.json");
      const run = await runProcess([...argv, "--format", "json"], {
        stdout: true,
        env: { HERMES_FSCK_BENCH_TIMES: timesFile },
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
      audits.push(auditMs);
      // A run starts once, then audits first and after each pass that
      // changed something; the rest of its time is writing.
      const actions = Math.max(1, fileActions);
      perAction.push((report.durationMs - auditCount * auditMs) / actions);
      const times = JSON.parse(await Deno.readTextFile(timesFile));
      plans.push(times.planMs / actions);
      writes.push(times.writeMs / actions);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  }
  return {
    store,
    repairMs: median(walls),
    applied,
    fileActions,
    audits: auditCount,
    insideMs: median(insides),
    auditMs: median(audits),
    leftMs: median(perAction),
    planMs: median(plans),
    writeMs: median(writes),
    actionMs: median(plans.map((plan, i) => plan + writes[i])),
    fsyncMs: median(bares),
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

/** A file of /proc, through cat: Deno reads /proc only with --allow-all. */
function readProc(path: string): string {
  try {
    const out = new Deno.Command("cat", { args: [path], stderr: "null" })
      .outputSync();
    return new TextDecoder().decode(out.stdout);
  } catch {
    return "";
  }
}

function machine(): string {
  const cpu = /model name\s*:\s*(.+)/.exec(readProc("/proc/cpuinfo"))?.[1] ??
    Deno.build.arch;
  const kb = Number(
    /MemTotal:\s+(\d+)/.exec(readProc("/proc/meminfo"))?.[1] ?? 0,
  );
  const memory = kb ? `, ${(kb / 1024 / 1024).toFixed(0)} GiB` : "";
  return `${navigator.hardwareConcurrency} cores (${cpu.trim()})${memory}, ` +
    `${Deno.build.os}, Deno ${Deno.version.deno}`;
}

function load(): string {
  return readProc("/proc/loadavg").split(" ").slice(0, 3).join(" ") || "n/a";
}

function fmt(n: number, digits = 0): string {
  // A value that rounds to zero is "0", never "-0".
  return n.toFixed(digits).replace(/^-(0(\.0+)?)$/, "$1");
}

function verdict(ok: boolean): string {
  return ok ? "met" : "NOT met";
}

/** The table's columns: header and width (right-aligned but the first). */
const COLUMNS: [string, number][] = [
  ["shape", 11],
  ["sessions", 8],
  ["files", 6],
  ["MB", 5],
  ["audit s", 7],
  ["bare s", 7],
  ["server s", 8],
  ["audit/bare", 10],
  ["server/audit", 12],
  ["server/bare", 11],
  ["peak RSS MB", 11],
  ["rounds", 6],
];

function tableLine(cells: string[]): string {
  return cells.map((c, i) =>
    i === 0 ? c.padEnd(COLUMNS[i][1]) : c.padStart(COLUMNS[i][1])
  ).join("  ").trimEnd();
}

function rowCells(r: RowResult): string[] {
  const s = r.store;
  const opt = (n: number | null, digits: number) =>
    n === null ? "n/a" : fmt(n, digits);
  return [
    s.spec.shape ?? "long-tailed",
    String(s.spec.sessions),
    String(s.files),
    fmt(s.bytes / 1e6),
    fmt(r.auditMs / 1000, 2),
    fmt(r.bareMs / 1000, 2),
    opt(r.serverMs === null ? null : r.serverMs / 1000, 2),
    fmt(r.auditToBare, 2),
    opt(r.serverToAudit, 2),
    opt(r.serverToBare, 2),
    opt(r.peakMb, 0),
    String(r.rounds),
  ];
}

const SHAPES: BenchShape[] = ["long-tailed", "uniform"];

/** The report: the table, start-up, repair, and every target's verdict. */
function report(
  rows: RowResult[],
  startupMs: number,
  startupRuns: number,
  repair: RepairResult | null,
  server: ServerAudit | string,
  header: string[],
): string[] {
  const lines = [...header, ""];
  lines.push(tableLine(COLUMNS.map(([name]) => name)));
  for (const r of rows) lines.push(tableLine(rowCells(r)));
  lines.push(
    "(wall times of whole processes, medians over the rounds; ratios: " +
      "medians of each round's ratio)",
  );
  if (typeof server === "string") lines.push(`server column ${server}`);
  lines.push("");
  lines.push(
    `start-up, audit of an empty store: ${fmt(startupMs)} ms ` +
      `(median of ${startupRuns} runs)`,
  );
  if (repair) {
    lines.push(
      `repair of ${repair.store.spec.repairTargets} damaged sessions ` +
        `(${repair.store.spec.sessions} in the store): ` +
        `${fmt(repair.repairMs / 1000, 2)} s, ${repair.applied} repairs, ` +
        `${repair.fileActions} file actions`,
    );
    const outside = repair.insideMs - repair.audits * repair.auditMs;
    lines.push(
      `  start-up ${fmt((repair.repairMs - repair.insideMs) / 1000, 2)} s; ` +
        `scanning ${repair.audits} audits of ${
          fmt(repair.auditMs / 1000, 2)
        } s; the rest ${fmt(outside / 1000, 2)} s: ${
          fmt(repair.leftMs, 1)
        } ms a file action`,
    );
    lines.push(
      `  timed inside the run, a file action: ${
        fmt(repair.actionMs, 1)
      } ms (planning ${fmt(repair.planMs, 1)} ms, writing ${
        fmt(repair.writeMs, 1)
      } ms)`,
    );
    lines.push(
      `  one bare durable replace on the same disk (write, fsync, rename, ` +
        `fsync dir), beside each run: ${fmt(repair.fsyncMs, 1)} ms`,
    );
  }
  lines.push("");
  lines.push("targets (issue 22):");
  for (const shape of SHAPES) {
    const of = rows.filter((r) =>
      (r.store.spec.shape ?? "long-tailed") === shape
    );
    if (of.length === 0) continue;
    const at = (r: RowResult, x: number | null) =>
      `${x === null ? "n/a" : fmt(x, 2)}x at ${r.store.spec.sessions}`;
    lines.push(
      `  audit <= ${TARGETS.auditToBareRatio}x the bare loop, ${shape}: ${
        of.map((r) => at(r, r.auditToBare)).join(", ")
      }: ${
        verdict(of.every((r) => r.auditToBare <= TARGETS.auditToBareRatio))
      }`,
    );
  }
  for (const shape of SHAPES) {
    const of = rows.filter((r) =>
      (r.store.spec.shape ?? "long-tailed") === shape
    );
    if (of.length === 0) continue;
    const what =
      `  audit >= ${TARGETS.serverToAuditRatio}x faster than the server's audit, ${shape}`;
    if (typeof server === "string") {
      lines.push(`${what}: not measured (${server})`);
      continue;
    }
    lines.push(
      `${what}: server/audit ${
        of.map((r) =>
          `${fmt(r.serverToAudit!, 2)}x at ${r.store.spec.sessions}`
        )
          .join(", ")
      }: ${
        verdict(
          of.every((r) => r.serverToAudit! >= TARGETS.serverToAuditRatio),
        )
      }`,
    );
  }
  const big = rows.filter((r) =>
    r.store.spec.sessions >= TARGETS.peakRssSessions
  );
  const peakWhat =
    `  peak RSS <= ${TARGETS.peakRssMb} MB at ${TARGETS.peakRssSessions} sessions`;
  if (rows.length === 0) {
    lines.push(`${peakWhat}: not measured (no store sizes)`);
  } else if (big.length === 0) {
    const largest = rows.reduce((a, b) =>
      b.store.spec.sessions > a.store.spec.sessions ? b : a
    );
    lines.push(
      `${peakWhat}: not measured (largest store ${largest.store.spec.sessions} sessions: ${
        largest.peakMb === null ? "n/a" : `${fmt(largest.peakMb)} MB`
      })`,
    );
  } else if (big.some((r) => r.peakMb === null)) {
    lines.push(`${peakWhat}: not measured (no peak RSS on this machine)`);
  } else {
    lines.push(
      `${peakWhat}: ${
        big.map((r) =>
          `${fmt(r.peakMb!)} MB ${r.store.spec.shape ?? "long-tailed"}`
        )
          .join(", ")
      }: ${verdict(big.every((r) => r.peakMb! <= TARGETS.peakRssMb))}`,
    );
  }
  lines.push(
    `  empty-store start-up <= ${TARGETS.startupMs} ms: ${fmt(startupMs)} ms: ${
      verdict(startupMs <= TARGETS.startupMs)
    }`,
  );
  const repairWhat = `  repair <= ${TARGETS.repairActionMs} ms a file action`;
  if (!repair) lines.push(`${repairWhat}: not measured (--repair 0)`);
  else {
    lines.push(
      `${repairWhat}: ${fmt(repair.actionMs, 1)} ms, ${
        fmt(repair.actionMs / repair.fsyncMs, 2)
      }x a bare durable replace of ${fmt(repair.fsyncMs, 1)} ms: ${
        verdict(repair.actionMs <= TARGETS.repairActionMs)
      }`,
    );
  }
  return lines;
}

/** `--quick`: tiny stores, one round, for trying the bench out. */
const QUICK = {
  sizes: "50,200",
  runs: "1",
  "min-seconds": "0",
  repair: "10",
  "repair-runs": "1",
  "startup-runs": "5",
};

const FULL = {
  sizes: "2000,20000",
  runs: "5",
  "min-seconds": "20",
  repair: "1000",
  "repair-runs": "3",
  "startup-runs": "30",
};

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      quick: { type: "boolean", default: false },
      sizes: { type: "string" },
      runs: { type: "string" },
      "min-seconds": { type: "string" },
      repair: { type: "string" },
      "repair-runs": { type: "string" },
      "startup-runs": { type: "string" },
      damage: { type: "string", default: "3" },
      seed: { type: "string", default: "1" },
      cache: { type: "string" },
    },
  });
  const base = values.quick ? QUICK : FULL;
  const option = (name: keyof typeof FULL) =>
    Number(values[name] ?? base[name]);
  const sizes = (values.sizes ?? base.sizes).split(",").map(Number)
    .filter((n) => n > 0).sort((a, b) => a - b);
  const runs = Math.max(1, option("runs"));
  const repairTargets = option("repair");
  const cache = values.cache ?? defaultBenchCache();
  const log = (m: string) => console.error(`bench: ${m}`);
  const spec = (shape: BenchShape, sessions: number, targets = 0) => ({
    shape,
    sessions,
    damagePercent: targets ? 0 : Number(values.damage),
    seed: Number(values.seed),
    repairTargets: targets,
  });
  const started = performance.now();
  const header = [
    `hermes-fsck benchmark, ${new Date().toISOString().slice(0, 16)}Z`,
    `machine: ${machine()}; load average at start ${load()}`,
    `peak RSS from: ${hasTime ? TIME : "/proc/<pid>/status VmHWM polling"}`,
  ];
  const stores: BenchStore[] = [];
  for (const shape of SHAPES) {
    for (const size of sizes) {
      stores.push(await ensureBenchStore(cache, spec(shape, size), log));
    }
  }
  const repairStore = repairTargets > 0
    ? await ensureBenchStore(
      cache,
      spec("long-tailed", repairTargets * 2, repairTargets),
      log,
    )
    : null;
  const server = await serverAudit();
  if (typeof server === "string") log(`server's audit ${server}`);
  try {
    const startupRuns = Math.max(1, option("startup-runs"));
    log(`start-up: audit of an empty store, ${startupRuns} runs`);
    const startupMs = await measureStartup(startupRuns);
    const rows: RowResult[] = [];
    // A store of 10,000 sessions or more takes a minute a round: three
    // rounds keep the whole benchmark to a quarter of an hour.
    for (const store of stores) {
      const big = store.spec.sessions >= 10_000;
      rows.push(
        await measureRow(
          store,
          typeof server === "string" ? null : server,
          big ? Math.min(runs, 3) : runs,
          big ? 0 : option("min-seconds"),
          log,
        ),
      );
    }
    const repair = repairStore
      ? await measureRepair(
        repairStore,
        Math.max(1, option("repair-runs")),
        log,
      )
      : null;
    const lines = report(rows, startupMs, startupRuns, repair, server, header);
    lines.push("");
    lines.push(
      `(${
        fmt((performance.now() - started) / 1000)
      } s; load average at end ${load()}; stores cached in ${cache})`,
    );
    console.log(lines.join("\n"));
  } finally {
    if (typeof server !== "string") {
      await Deno.remove(server.scratch, { recursive: true });
    }
  }
}
