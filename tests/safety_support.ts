/**
 * Shared by the proof tests of the safety layer (crash, concurrency,
 * idempotence, ownership, undo and lock): a damaged store that exercises
 * every repair kind, the CLI as a subprocess with a HOME and Hermes paths
 * inside the store's temp dir, byte snapshots of a store, and the messages
 * a store holds anywhere (live file, backup, quarantine).
 *
 * @example
 * ```ts
 * import { buildDamagedStore, cli, dirArgs } from "./safety_support.ts";
 * const store = await TestStore.create();
 * await buildDamagedStore(store);
 * const r = await cli(["repair", "--server-stopped", ...dirArgs(store)], store);
 * ```
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { createHash } from "node:crypto";
import {
  type CliResult,
  FAULT_CLI,
  makeMessages,
  runCli,
  runCliHere,
  startCli,
  storeEnv,
  TestStore,
} from "./fixtures.ts";

/** The run dirs of a session dir, relative to it. */
export const RUNS = "_hermes_fsck/runs";

/** The content of the user turn only the journal of `pending` holds. */
export const PENDING_CONTENT = "please do not lose me: the only copy";
/** The pending turn of the damaged store, as `originalOf` takes it. */
export const PENDING = [{ sid: "pending", content: PENDING_CONTENT }];

/** The turn id of that turn. */
export const PENDING_TURN = "20260511T001122Z-abcdef123456";

/** A submitted journal event of session `sid` with the given content. */
export function submittedEvent(
  sid: string,
  turnId: string,
  content: string,
  createdAt = 1778458282.1,
): Record<string, unknown> {
  return {
    version: 1,
    event: "submitted",
    turn_id: turnId,
    session_id: sid,
    stream_id: `stream-${turnId}`,
    created_at: createdAt,
    role: "user",
    content,
    attachments: [],
    workspace: "/work/project",
    model: "test-model",
  };
}

/**
 * A damaged store with one case of every repair kind, all repairable:
 * - `shrunk`: live has 3 messages of its own, the backup 8 others
 *   (`restore_from_bak` replaces a file; the live messages must survive in
 *   quarantine);
 * - `orphan`: only a backup, and a state.db row (`restore_from_bak` creates
 *   a file);
 * - `fromdb`: a state.db row with messages and no sidecar
 *   (`materialize_from_state_db`);
 * - `pending`: a journal turn whose user message only the journal has
 *   (`recover_pending_turn`: sidecar and journal);
 * - `healthy`, and an index listing only a session that does not exist
 *   (`rebuild_index`).
 * A full repair leaves it clean (exit 1).
 */
export async function buildDamagedStore(store: TestStore): Promise<void> {
  await store.sidecar("shrunk", { messages: makeMessages(3, "shrunk live") });
  await store.backup("shrunk", { messages: makeMessages(8, "shrunk bak") });
  await store.backup("orphan", { messages: makeMessages(5, "orphan bak") });
  await store.sidecar("pending", { messages: makeMessages(2, "pending") });
  await store.journal("pending", [
    submittedEvent("pending", PENDING_TURN, PENDING_CONTENT),
  ]);
  await store.sidecar("healthy", { messages: makeMessages(4, "healthy") });
  await store.index([{
    session_id: "gone",
    title: "Gone",
    message_count: 1,
    updated_at: 1778458000.5,
    last_message_at: 1778458000.5,
  }]);
  store.stateDb({
    sessions: [
      {
        id: "orphan",
        source: "webui",
        title: "Orphan",
        started_at: 1778450000,
      },
      {
        id: "fromdb",
        source: "webui",
        title: "From DB",
        started_at: 1778450000,
      },
      { id: "shrunk", source: "webui", title: "Shrunk" },
      { id: "pending", source: "webui", title: "Pending" },
      { id: "healthy", source: "webui", title: "Healthy" },
    ],
    messages: [
      {
        id: 1,
        session_id: "fromdb",
        role: "user",
        content: "db question",
        timestamp: 1778450001,
      },
      {
        id: 2,
        session_id: "fromdb",
        role: "assistant",
        content: "db answer",
        timestamp: 1778450002,
      },
    ],
  });
}

/** The paths of a store (a {@linkcode TestStore}, or a copy of one). */
export interface StorePaths {
  root: string;
  sessionDir: string;
  hermesHome: string;
  stateDbPath: string;
}

/** The paths of a store laid out as {@linkcode TestStore} lays it out. */
export function pathsAt(root: string): StorePaths {
  return {
    root,
    sessionDir: join(root, "webui", "sessions"),
    hermesHome: join(root, "hermes"),
    stateDbPath: join(root, "hermes", "state.db"),
  };
}

/** `--session-dir` and `--state-db` of a store. */
export function dirArgs(store: StorePaths): string[] {
  return ["--session-dir", store.sessionDir, "--state-db", store.stateDbPath];
}

/** The environment the CLI runs with: every default path inside the store. */
export function cliEnv(store: StorePaths): Record<string, string> {
  return storeEnv(store);
}

/** Runs the CLI as a subprocess, with the binary's exact permissions. */
export async function cli(
  args: string[],
  store: StorePaths,
  env: Record<string, string> = {},
): Promise<CliResult> {
  return await runCli(args, { env: { ...cliEnv(store), ...env } });
}

/**
 * Runs the CLI as {@linkcode cli} does, through the tests' fault-injecting
 * entry (tests/fault_cli.ts): `faults` sets `HERMES_FSCK_FAULT_AFTER_STEPS`
 * and `HERMES_FSCK_FAULT_KIND`.
 */
export async function faultCli(
  args: string[],
  store: StorePaths,
  faults: Record<string, string>,
): Promise<CliResult> {
  return await runCli(args, {
    env: { ...cliEnv(store), ...faults },
    entry: FAULT_CLI,
  });
}

/**
 * Runs the CLI's `main` in this process, its output captured: the same
 * code as the binary minus the process start-up, for the many audits and
 * undos of the crash test. (Never with a fault point: it would exit this
 * process.)
 */
export function cliHere(
  args: string[],
  store: StorePaths,
): Promise<CliResult> {
  return runCliHere(args, { env: cliEnv(store) });
}

/** A CLI result for an assertion message. */
export function show(r: CliResult): string {
  return `exit ${r.code}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;
}

/** No uncaught exception and no stack trace in a CLI run's output. */
export function assertNoUncaught(r: CliResult): void {
  const all = r.stdout + r.stderr;
  assert.ok(!all.includes("Uncaught"), `uncaught exception:\n${show(r)}`);
  assert.doesNotMatch(all, /^\s+at /m, `stack trace:\n${show(r)}`);
}

/** Runs `fn` with a fresh store and always removes its temp dir. */
export { withStore } from "./check_support.ts";

/**
 * Starts cli.ts as a subprocess with the binary's exact permissions and
 * returns at once, for tests that kill it or race it.
 */
export function spawnCli(
  args: string[],
  store: StorePaths,
  output: "piped" | "null" = "piped",
): Deno.ChildProcess {
  return startCli(args, { env: cliEnv(store), output });
}

/** Copies a whole dir tree with `cp -a` (modes, owners, times kept). */
export async function copyTree(from: string, to: string): Promise<void> {
  const out = await new Deno.Command("cp", {
    args: ["-a", from, to],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
}

/**
 * Every file below a dir with its bytes, relative paths as keys. Files of
 * the tool's own are left out when `storeOnly`: the `_hermes_fsck/` dir,
 * the lock (and a stale lock moved aside), and `*.hermes-fsck.tmp.*` temps
 * a crash left; and the relative paths in `skip` (a FIFO, which a read
 * would wait on). Symlinks are recorded as `-> target`.
 */
export async function treeBytes(
  dir: string,
  options: { storeOnly?: boolean; skip?: string[] } = {},
): Promise<Map<string, Uint8Array | string>> {
  const files = new Map<string, Uint8Array | string>();
  async function walk(path: string, rel: string): Promise<void> {
    for await (const entry of Deno.readDir(path)) {
      const childRel = rel ? `${rel}/${entry.name}` : entry.name;
      const child = join(path, entry.name);
      if (options.storeOnly && isToolOwn(childRel)) continue;
      if (options.skip?.includes(childRel)) continue;
      if (entry.isSymlink) {
        files.set(childRel, `-> ${await Deno.readLink(child)}`);
      } else if (entry.isDirectory) {
        files.set(`${childRel}/`, "dir");
        await walk(child, childRel);
      } else {
        files.set(childRel, await Deno.readFile(child));
      }
    }
  }
  await walk(dir, "");
  return files;
}

function isToolOwn(rel: string): boolean {
  return rel === "_hermes_fsck" || rel.startsWith("_hermes_fsck/") ||
    /^_hermes_fsck\.lock(\..*)?$/.test(rel) ||
    /\.hermes-fsck\.tmp\.\d+\.[0-9a-f]+$/.test(rel);
}

/** The paths whose bytes differ between two {@linkcode treeBytes} maps. */
export function treeDiff(
  expected: Map<string, Uint8Array | string>,
  actual: Map<string, Uint8Array | string>,
): string[] {
  const out: string[] = [];
  for (const [path, bytes] of expected) {
    if (!actual.has(path)) out.push(`missing ${path}`);
    else if (!sameBytes(bytes, actual.get(path)!)) out.push(`changed ${path}`);
  }
  for (const path of actual.keys()) {
    if (!expected.has(path)) out.push(`added ${path}`);
  }
  return out.sort();
}

function sameBytes(a: Uint8Array | string, b: Uint8Array | string): boolean {
  if (typeof a === "string" || typeof b === "string") return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** SHA-256 of bytes, hex. */
export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Where the messages of a store are, session by session. */
export interface StoreMessages {
  /** Every message (as JSON) of every sidecar, backup and quarantined copy, by session. */
  messages: Map<string, Set<string>>;
  /** User-message texts of the live sidecars, by session. */
  liveUserTexts: Map<string, Set<string>>;
  /** Contents of `submitted` events of the live journals, by session. */
  journalTexts: Map<string, Set<string>>;
}

/**
 * Reads every message the store holds: live sidecars, backups, and every
 * file in `_hermes_fsck/runs/<run>/files/` (named `NNNN-<file name>`).
 * Files that do not parse add nothing.
 */
export async function storeMessages(
  sessionDir: string,
): Promise<StoreMessages> {
  const result: StoreMessages = {
    messages: new Map(),
    liveUserTexts: new Map(),
    journalTexts: new Map(),
  };
  const add = <T>(map: Map<string, Set<T>>, sid: string, value: T) => {
    let set = map.get(sid);
    if (!set) map.set(sid, set = new Set());
    set.add(value);
  };
  const addSidecar = async (path: string, sid: string, live: boolean) => {
    const value = await readJson(path);
    const messages = (value as { messages?: unknown })?.messages;
    if (!Array.isArray(messages)) return;
    for (const message of messages) {
      add(result.messages, sid, JSON.stringify(message));
      if (live && message?.role === "user") {
        add(result.liveUserTexts, sid, textOf(message.content));
      }
    }
  };
  for await (const entry of Deno.readDir(sessionDir)) {
    if (!entry.isFile) continue;
    const live = /^([0-9a-z_]+)\.json$/.exec(entry.name);
    const bak = /^([0-9a-z_]+)\.json\.bak$/.exec(entry.name);
    if (live) await addSidecar(join(sessionDir, entry.name), live[1], true);
    if (bak) await addSidecar(join(sessionDir, entry.name), bak[1], false);
  }
  for (const run of await runDirs(sessionDir)) {
    const files = join(sessionDir, RUNS, run, "files");
    for (const entry of await listDir(files)) {
      const kept = /^\d+-([0-9a-z_]+)\.json(\.bak)?$/.exec(entry.name);
      if (kept) await addSidecar(join(files, entry.name), kept[1], false);
    }
  }
  const journals = join(sessionDir, "_turn_journal");
  for (const entry of await listDir(journals)) {
    const name = /^([0-9a-z_]+)\.jsonl$/.exec(entry.name);
    if (!name || !entry.isFile) continue;
    const text = await Deno.readTextFile(join(journals, entry.name));
    for (const line of text.split("\n")) {
      try {
        const event = JSON.parse(line);
        if (event?.event === "submitted") {
          add(result.journalTexts, name[1], textOf(event.content));
        }
      } catch { /* a malformed line holds nothing */ }
    }
  }
  return result;
}

/**
 * Asserts that every message of `before` is still somewhere in the store
 * (live, backup or quarantine, same session), and that each journal-only
 * turn is still in the live journal or in the live sidecar.
 */
export async function assertNoMessageLost(
  sessionDir: string,
  before: StoreMessages,
  pendingTurns: { sid: string; content: string }[],
  context: string,
): Promise<void> {
  const now = await storeMessages(sessionDir);
  for (const [sid, messages] of before.messages) {
    const found = now.messages.get(sid) ?? new Set();
    const lost = [...messages].filter((m) => !found.has(m));
    assert.deepEqual(lost, [], `${context}: messages of ${sid} lost`);
  }
  for (const { sid, content } of pendingTurns) {
    const inJournal = now.journalTexts.get(sid)?.has(content) ?? false;
    const inSidecar = now.liveUserTexts.get(sid)?.has(content) ?? false;
    assert.ok(
      inJournal || inSidecar,
      `${context}: the pending turn of ${sid} is neither in its journal nor in its sidecar`,
    );
  }
}

/** A content as text; JSON for lists and objects (String() of a deeply nested list overflows). */
function textOf(content: unknown): string {
  return typeof content === "object" && content !== null
    ? JSON.stringify(content)
    : String(content);
}

/** The entries of a dir; none when it does not exist. */
export async function listDir(dir: string): Promise<Deno.DirEntry[]> {
  const out: Deno.DirEntry[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) out.push(entry);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return out;
}

/** The run ids of a session dir (the dirs in `_hermes_fsck/runs`). */
export async function runDirs(sessionDir: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const entry of Deno.readDir(join(sessionDir, RUNS))) {
      if (entry.isDirectory) out.push(entry.name);
    }
  } catch { /* no runs */ }
  return out.sort();
}

async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await Deno.readTextFile(path));
  } catch {
    return null;
  }
}

/** Parses the JSON report a `--format json` run printed. */
export function reportOf(r: CliResult): {
  exitCode: number;
  summary: { repairable: number; unsafe_to_repair: number };
  findings: { kind: string; category: string; paths: string[] }[];
  repair?: {
    runId: string | null;
    staleLock: { pid: number; host: string } | null;
    actions: {
      repair: string;
      status: string;
      actions: { op: string; path: string; status: string }[];
    }[];
  };
} {
  try {
    return JSON.parse(r.stdout);
  } catch {
    throw new assert.AssertionError({
      message: `not a JSON report:\n${show(r)}`,
    });
  }
}

/** A small seeded PRNG (mulberry32): the same seed gives the same timings. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs `fn` over items with at most `width` at a time, in order of start. */
export async function pool<T>(
  items: readonly T[],
  width: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: width }, worker));
}

/** What every check after a fault compares with: the store before it. */
export interface Original {
  files: Map<string, Uint8Array | string>;
  stateDb: Uint8Array;
  messages: StoreMessages;
  pending: { sid: string; content: string }[];
}

export async function originalOf(
  store: StorePaths,
  pending: { sid: string; content: string }[],
): Promise<Original> {
  return {
    files: await treeBytes(store.sessionDir, { storeOnly: true }),
    stateDb: await Deno.readFile(store.stateDbPath),
    messages: await storeMessages(store.sessionDir),
    pending,
  };
}

/**
 * A repair with no fault completes (exit 0 or 1) and an audit then
 * finds nothing repairable (and nothing unsafe: the store has nothing
 * unsafe once repaired). Returns the completing run's id, if it wrote.
 */
export async function completeAndAudit(
  store: StorePaths,
  original: Original,
  context: string,
): Promise<string | null> {
  const repair = await cliHere(
    ["repair", "--server-stopped", ...dirArgs(store), "--format", "json"],
    store,
  );
  assertNoUncaught(repair);
  assert.ok(
    repair.code === 0 || repair.code === 1,
    `${context}: the next repair did not complete:\n${show(repair)}`,
  );
  const report = reportOf(repair);
  await assertNoMessageLost(
    store.sessionDir,
    original.messages,
    original.pending,
    `${context}, after the next repair`,
  );
  const audit = await cliHere(
    ["audit", "--server-stopped", ...dirArgs(store), "--format", "json"],
    store,
  );
  const found = reportOf(audit);
  assert.equal(
    found.summary.repairable,
    0,
    `${context}: audit after the next repair:\n${show(audit)}`,
  );
  assert.equal(
    found.summary.unsafe_to_repair,
    0,
    `${context}: audit after the next repair:\n${show(audit)}`,
  );
  assert.equal(audit.code, 0, `${context}: ${show(audit)}`);
  return report.repair?.runId ?? null;
}

/** Undoes each run, newest first; then the store is the original. */
export async function undoAll(
  store: StorePaths,
  runIds: string[],
  original: Original,
  context: string,
): Promise<void> {
  for (const runId of runIds) {
    const undo = await cliHere(
      ["undo", runId, "--session-dir", store.sessionDir, "--format", "json"],
      store,
    );
    assertNoUncaught(undo);
    assert.ok(
      undo.code === 0 || undo.code === 1,
      `${context}: undo ${runId}:\n${show(undo)}`,
    );
    assert.deepEqual(
      JSON.parse(undo.stdout).refused,
      [],
      `${context}: undo ${runId}`,
    );
  }
  const now = await treeBytes(store.sessionDir, { storeOnly: true });
  assert.deepEqual(
    treeDiff(original.files, now),
    [],
    `${context}: after undo of ${
      runIds.join(", ")
    } the store is not the original`,
  );
  assert.deepEqual(
    await Deno.readFile(store.stateDbPath),
    original.stateDb,
    `${context}: state.db changed`,
  );
}

/** A run's action records: path and status, in order. */
export async function actionsOf(
  store: StorePaths,
  runId: string,
): Promise<{ path: string; status: string }[]> {
  const dir = join(store.sessionDir, RUNS, runId, "actions");
  const out: { seq: number; path: string; status: string }[] = [];
  for (const entry of await listDir(dir)) {
    if (!/^\d+\.json$/.test(entry.name)) continue;
    out.push(JSON.parse(await Deno.readTextFile(join(dir, entry.name))));
  }
  return out.sort((a, b) => a.seq - b.seq).map(({ path, status }) => ({
    path,
    status,
  }));
}

/**
 * Runs `body` on a fresh copy of the store at `pristineRoot`, made at
 * `root` and removed after; a failed assertion is collected in `failures`
 * (shortened) rather than thrown, so one test reports every fault point
 * that failed.
 */
export async function atFaultPoint(
  pristineRoot: string,
  root: string,
  failures: string[],
  body: (store: StorePaths) => Promise<void>,
): Promise<void> {
  const store = pathsAt(root);
  await copyTree(pristineRoot, store.root);
  try {
    await body(store);
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    failures.push(text.length > 1500 ? `${text.slice(0, 1500)}...` : text);
  } finally {
    await Deno.remove(store.root, { recursive: true });
  }
}

/**
 * After a fault: a repair without one completes and the store audits
 * clean, then undoing that run and `runs` (newest first) gives back the
 * original bytes.
 */
export async function completeThenUndo(
  store: StorePaths,
  original: Original,
  context: string,
  runs: string[],
): Promise<void> {
  const completing = await completeAndAudit(store, original, context);
  await undoAll(
    store,
    completing ? [completing, ...runs] : runs,
    original,
    context,
  );
}
