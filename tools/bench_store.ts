/**
 * Synthetic session stores for the benchmark: sidecars shaped as the server
 * writes them (STORE_FORMAT.md §2, through the fixtures' `makeSidecar`),
 * turn journals, an index, a small state.db, and a few percent of damaged
 * sessions. Two shapes: `long-tailed` (message counts and lengths drawn
 * from long-tailed distributions, every 250th session holding 2,000+
 * messages) and `uniform` (every session about 120 messages, the shape
 * where per-file costs dominate). A store is built once into a cache dir
 * keyed by its parameters and reused by later runs.
 *
 * Session `i` depends only on the seed and `i`, so a store of 1,000 sessions
 * is the first 1,000 sessions of the store of 20,000: time per session can
 * be compared across sizes.
 *
 * @example
 * ```ts
 * import { ensureBenchStore } from "./bench_store.ts";
 * const store = await ensureBenchStore("/tmp/bench-cache", {
 *   sessions: 1000, damagePercent: 3, seed: 1, repairTargets: 0,
 * });
 * console.log(store.sessionDir, store.bytes);
 * ```
 * @module
 */

import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { makeSidecar, type Message } from "../tests/fixtures.ts";
// Seeded, so a store is the same bytes on every machine.
import { seededRandom } from "../tests/safety_support.ts";
import { compactEntry, sortIndexEntries } from "../core/store/compact_entry.ts";
import { summarizeSidecar } from "../core/store/sidecar_summary.ts";

/** Bumped whenever the generator changes, so stale caches are rebuilt. */
const GENERATOR_VERSION = 2;

/**
 * The shapes of store the bench builds.
 *
 * @example
 * ```ts
 * import type { BenchShape } from "./bench_store.ts";
 * const shape: BenchShape = "uniform";
 * ```
 */
export type BenchShape = "long-tailed" | "uniform";

/**
 * What store to build.
 *
 * @example
 * ```ts
 * import type { BenchStoreSpec } from "./bench_store.ts";
 * const spec: BenchStoreSpec = { sessions: 1000, damagePercent: 3, seed: 1, repairTargets: 0 };
 * ```
 */
export interface BenchStoreSpec {
  /** Its message counts; `long-tailed` when absent. */
  shape?: BenchShape;
  /** Sessions in the store. */
  sessions: number;
  /** Share of sessions (percent) damaged in one of the ways below. */
  damagePercent: number;
  /** Seeds every random choice: the same spec gives the same bytes. */
  seed: number;
  /**
   * When above 0: that many sessions (the first ones) get a repairable
   * per-session damage (shrunken live file, lost live file, pending turn),
   * for the repair benchmark; `damagePercent` applies to the rest.
   */
  repairTargets: number;
}

/**
 * A built store.
 *
 * @example
 * ```ts
 * import { type BenchStoreSpec, type BenchStore, ensureBenchStore } from "./bench_store.ts";
 * declare const spec: BenchStoreSpec;
 * declare const cacheDir: string;
 * const store: BenchStore = await ensureBenchStore(cacheDir, spec);
 * console.log(store.files, store.bytes / 1e6, "MB");
 * ```
 */
export interface BenchStore {
  /** What it was built from. */
  spec: BenchStoreSpec;
  /** The store's root (the session dir and `state.db` are inside). */
  root: string;
  /** Its session dir. */
  sessionDir: string;
  /** Its state.db. */
  stateDbPath: string;
  /** Files in the session dir and its journal dir. */
  files: number;
  /** Their total size. */
  bytes: number;
  /** The largest file. */
  largestFileBytes: number;
  /** Sessions with 2,000 or more messages. */
  hugeSessions: number;
  /** Damaged sessions by kind of damage. */
  damage: Record<string, number>;
}

/** The kinds of damage a scaling store gets, in equal shares. */
const DAMAGE_KINDS = [
  "shrunken_live",
  "orphan_backup",
  "malformed_live",
  "index_missing_entry",
  "index_drift",
  "pending_turn",
  "stale_temp",
  "state_db_missing_sidecar",
] as const;

/** The kinds of damage of a repair store's targets. */
const REPAIR_KINDS = ["shrunken_live", "orphan_backup", "pending_turn"];

/**
 * The cache dir name of a spec: every parameter and the generator version.
 *
 * @example
 * ```ts
 * import { storeKey } from "./bench_store.ts";
 * storeKey({ sessions: 1000, damagePercent: 3, seed: 1, repairTargets: 0 });
 * // "v2-s1000-d3-seed1-r0"
 * ```
 */
export function storeKey(spec: BenchStoreSpec): string {
  const shape = spec.shape === "uniform" ? "-uniform" : "";
  return `v${GENERATOR_VERSION}${shape}-s${spec.sessions}` +
    `-d${spec.damagePercent}-seed${spec.seed}-r${spec.repairTargets}`;
}

/**
 * Returns the cached store of a spec, building it first when the cache has
 * none (a half-built one, without its manifest, is built again).
 *
 * @example
 * ```ts
 * import { type BenchStoreSpec, ensureBenchStore } from "./bench_store.ts";
 * declare const spec: BenchStoreSpec;
 * declare const cacheDir: string;
 * const store = await ensureBenchStore(cacheDir, spec, (m) => console.error(m));
 * ```
 */
export async function ensureBenchStore(
  cacheDir: string,
  spec: BenchStoreSpec,
  log: (message: string) => void = () => {},
): Promise<BenchStore> {
  const root = join(cacheDir, storeKey(spec));
  const manifest = join(root, "store.json");
  try {
    return JSON.parse(await Deno.readTextFile(manifest)) as BenchStore;
  } catch {
    // Not built yet (or interrupted while building): build it below.
  }
  await Deno.remove(root, { recursive: true }).catch(() => {});
  log(`building ${storeKey(spec)} in ${root} (cached for later runs)`);
  const started = performance.now();
  const store = await buildStore(root, spec);
  await Deno.writeTextFile(manifest, JSON.stringify(store, null, 2));
  log(
    `built ${spec.sessions} sessions, ${mb(store.bytes)} MB in ` +
      `${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  return store;
}

function mb(bytes: number): string {
  return (bytes / 1e6).toFixed(0);
}

/** The id of session `i`: valid for the server (`^[0-9a-z_]+$`). */
function sessionId(i: number): string {
  return `bench_${i.toString().padStart(6, "0")}`;
}

async function buildStore(
  root: string,
  spec: BenchStoreSpec,
): Promise<BenchStore> {
  const sessionDir = join(root, "webui", "sessions");
  const journalDir = join(sessionDir, "_turn_journal");
  const stateDbPath = join(root, "hermes", "state.db");
  await Deno.mkdir(journalDir, { recursive: true });
  await Deno.mkdir(join(root, "hermes"), { recursive: true });
  const store: BenchStore = {
    spec,
    root,
    sessionDir,
    stateDbPath,
    files: 0,
    bytes: 0,
    largestFileBytes: 0,
    hugeSessions: 0,
    damage: {},
  };
  const write = async (path: string, text: string) => {
    const bytes = encoder.encode(text);
    await Deno.writeFile(path, bytes);
    store.files++;
    store.bytes += bytes.length;
    store.largestFileBytes = Math.max(store.largestFileBytes, bytes.length);
  };
  const index: Record<string, unknown>[] = [];
  const db = new DatabaseSync(stateDbPath);
  db.exec(
    "CREATE TABLE sessions (id TEXT PRIMARY KEY, source TEXT, title TEXT, " +
      "model TEXT, started_at REAL, message_count INTEGER, workspace TEXT)",
  );
  db.exec(
    "CREATE TABLE messages (id INTEGER PRIMARY KEY, session_id TEXT, " +
      "role TEXT, content TEXT, timestamp REAL)",
  );
  const addRow = db.prepare(
    "INSERT INTO sessions VALUES (?, 'webui', ?, 'bench-model', ?, ?, ?)",
  );
  const addMessage = db.prepare(
    "INSERT INTO messages (session_id, role, content, timestamp) VALUES (?, ?, ?, ?)",
  );
  db.exec("BEGIN");
  const now = 1778458000;
  for (let i = 0; i < spec.sessions; i++) {
    const id = sessionId(i);
    const rng = seededRandom(spec.seed * 1_000_003 + i);
    const session = makeSession(
      messageCount(i, rng, spec),
      spec.shape === "uniform" ? UNIFORM_TEXT_SCALE : 1,
      rng,
      now,
    );
    if (session.messages.length >= 2000) store.hugeSessions++;
    const damage = damageOf(i, rng, spec);
    if (damage) store.damage[damage] = (store.damage[damage] ?? 0) + 1;
    const full = makeSidecar(id, session.fields);
    const text = JSON.stringify(full, null, 2);
    const live = join(sessionDir, `${id}.json`);
    addRow.run(
      id,
      String(session.fields.title),
      session.fields.created_at as number,
      session.messages.length,
      "/work/project",
    );
    const entry = compactEntry(id, summarizeSidecar(full), now);
    if (damage === "index_drift") entry.message_count = 0;
    if (damage !== "index_missing_entry") index.push(entry);
    switch (damage) {
      case "shrunken_live": {
        // The #1558 shape: a save with fewer messages; the .bak has them.
        await write(`${live}.bak`, text);
        const kept = session.messages.slice(0, rng() < 0.5 ? 0 : 1);
        await write(
          live,
          JSON.stringify(
            makeSidecar(id, { ...session.fields, messages: kept }),
            null,
            2,
          ),
        );
        break;
      }
      case "orphan_backup":
        await write(`${live}.bak`, text);
        break;
      case "malformed_live":
        // A torn write: the file stops in the middle.
        await write(live, text.slice(0, Math.floor(text.length * rng())));
        break;
      case "stale_temp": {
        await write(live, text);
        const temp = join(sessionDir, `${id}.tmp.4242.${i}`);
        await write(temp, text.slice(0, Math.floor(text.length / 2)));
        const old = new Date((now - 7 * 86400) * 1000);
        await Deno.utime(temp, old, old);
        break;
      }
      case "state_db_missing_sidecar":
        for (const message of session.messages.slice(0, 20)) {
          addMessage.run(
            id,
            String(message.role),
            String(message.content).slice(0, 200),
            message.timestamp as number,
          );
        }
        break;
      default:
        await write(live, text);
    }
    const journal = journalOf(id, session.messages, rng, damage);
    if (journal) await write(join(journalDir, `${id}.jsonl`), journal);
  }
  db.exec("COMMIT");
  db.close();
  await write(
    join(sessionDir, "_index.json"),
    JSON.stringify(sortIndexEntries(index), null, 2),
  );
  return store;
}

function damageOf(
  i: number,
  rng: () => number,
  spec: BenchStoreSpec,
): string | null {
  if (i < spec.repairTargets) return REPAIR_KINDS[i % REPAIR_KINDS.length];
  if (rng() * 100 >= spec.damagePercent) return null;
  return DAMAGE_KINDS[Math.floor(rng() * DAMAGE_KINDS.length)];
}

interface GeneratedSession {
  fields: Record<string, unknown> & { messages: Message[] };
  messages: Message[];
}

/** How many messages session `i` of a store of `spec`'s shape holds. */
function messageCount(
  i: number,
  rng: () => number,
  spec: BenchStoreSpec,
): number {
  if (spec.shape === "uniform") return 110 + Math.floor(rng() * 21);
  // Log-normal (median 30): most sessions are short, a few are long; every
  // 250th is a 2,000+ message marathon.
  return i % 250 === 125
    ? 2000 + Math.floor(rng() * 2000)
    : Math.min(6000, Math.max(1, Math.round(30 * Math.exp(1.2 * gauss(rng)))));
}

/**
 * The uniform shape's texts are this much shorter, so its sessions of about
 * 120 messages are about 65 KB (130 MB at 2,000 sessions), as issue 22
 * measured them.
 */
const UNIFORM_TEXT_SCALE = 0.42;

function makeSession(
  count: number,
  scale: number,
  rng: () => number,
  now: number,
): GeneratedSession {
  const messages: Message[] = [];
  let ts = now - 30 * 86400 + rng() * 20 * 86400;
  const created = ts;
  while (messages.length < count) {
    ts += 5 + rng() * 120;
    const user: Message = {
      role: "user",
      content: rng() < 0.1
        ? [{ type: "text", text: text(rng, 120 * scale) }]
        : text(rng, 120 * scale),
      timestamp: ts,
    };
    if (rng() < 0.05) {
      user.attachments = [{
        name: "notes.md",
        size: 1200,
        mime: "text/markdown",
      }];
    }
    messages.push(user);
    if (rng() < 0.3 && messages.length + 2 < count) {
      const callId = `call_${Math.floor(rng() * 1e9).toString(36)}`;
      messages.push({
        role: "assistant",
        content: "",
        tool_calls: [{
          id: callId,
          type: "function",
          function: { name: "read_file", arguments: '{"path": "src/main.ts"}' },
        }],
        timestamp: ts += 2,
      });
      messages.push({
        role: "tool",
        tool_call_id: callId,
        content: text(rng, 1500 * scale),
        timestamp: ts += 1,
      });
    }
    messages.push({
      role: "assistant",
      content: text(rng, 600 * scale),
      timestamp: ts += 3 + rng() * 30,
    });
  }
  messages.length = count;
  return {
    messages,
    fields: {
      messages,
      title: text(rng, 30).slice(0, 60).trim() || "Untitled",
      created_at: created,
      updated_at: ts,
      input_tokens: Math.floor(rng() * 1e6),
      output_tokens: Math.floor(rng() * 1e5),
      context_length: 200000,
      last_prompt_tokens: Math.floor(rng() * 1e5),
      enabled_toolsets: ["files", "web"],
    },
  };
}

function journalOf(
  id: string,
  messages: Message[],
  rng: () => number,
  damage: string | null,
): string | null {
  // A quarter of the sessions have a journal (it is append-only: every turn
  // since it was started, all completed); a pending turn adds a submitted
  // prompt the sidecar lacks.
  if (damage !== "pending_turn" && rng() >= 0.25) return null;
  const lines: string[] = [];
  const users = messages.filter((m) => m.role === "user");
  let n = 0;
  const event = (turn: string, name: string, at: number, extra = {}) =>
    JSON.stringify({
      version: 1,
      event: name,
      turn_id: turn,
      session_id: id,
      stream_id: `stream_${turn}`,
      created_at: at,
      ...extra,
    });
  for (const user of users) {
    const at = user.timestamp as number;
    const turn = `20260511T${String(n++).padStart(6, "0")}Z-${id.slice(-6)}`;
    lines.push(event(turn, "submitted", at, {
      role: "user",
      content: user.content,
      attachments: [],
      workspace: "/work/project",
      model: "bench-model",
    }));
    lines.push(event(turn, "worker_started", at + 0.1));
    lines.push(event(turn, "assistant_started", at + 0.5));
    lines.push(event(turn, "completed", at + 9));
  }
  if (damage === "pending_turn") {
    const at = 1778458100 + rng();
    lines.push(event(`20260511T999999Z-${id.slice(-6)}`, "submitted", at, {
      role: "user",
      content: `A prompt the server never saved: ${text(rng, 80)}`,
      attachments: [],
      workspace: "/work/project",
      model: "bench-model",
    }));
  }
  return lines.join("\n") + "\n";
}

const encoder = new TextEncoder();

/**
 * A corpus to cut message texts from: prose, code with quotes and
 * backslashes (escapes in JSON), and some non-ASCII (multi-byte UTF-8).
 */
const CORPUS = (() => {
  const words = [
    "the",
    "session",
    "server",
    "message",
    "restore",
    "backup",
    "file",
    "index",
    "deploy",
    "container",
    "function",
    "return",
    "const",
    "value",
    "café",
    "naïve",
    "数据",
    "会话",
    "🙂",
    "résumé",
    "straße",
    "ok",
    'print("hello")',
    "path\\to\\file",
    '{"key": 1}',
    "\n",
    "\n\n```ts\n",
    "\n```\n",
    "-",
    "*",
    "1.",
    "because",
    "error",
    "retry",
    "timeout",
  ];
  const rng = seededRandom(7);
  let out = "";
  while (out.length < 1 << 20) {
    out += words[Math.floor(rng() * words.length)] + " ";
  }
  return out;
})();

/** A text of log-normal length around `median` characters. */
function text(rng: () => number, median: number): string {
  const length = Math.min(
    20000,
    Math.max(1, Math.round(median * Math.exp(0.9 * gauss(rng)))),
  );
  const start = Math.floor(rng() * (CORPUS.length - length));
  return CORPUS.slice(start, start + length);
}

/** A standard normal deviate (Box-Muller). */
function gauss(rng: () => number): number {
  const u = Math.max(rng(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

/**
 * Where bench stores are cached unless `--cache` says otherwise.
 *
 * @example
 * ```ts
 * import { defaultBenchCache } from "./bench_store.ts";
 * defaultBenchCache(); // e.g. "/root/.cache/hermes-fsck-bench"
 * ```
 */
export function defaultBenchCache(): string {
  return join(
    Deno.env.get("XDG_CACHE_HOME") ??
      join(Deno.env.get("HOME") ?? "/tmp", ".cache"),
    "hermes-fsck-bench",
  );
}
