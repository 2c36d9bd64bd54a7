/**
 * The fuzz of issue 7: a seeded generator builds a healthy store, damages
 * it (flips bytes, truncates, splices one file into another, swaps JSON
 * values for values of another type, plants symlinks, FIFOs, stale temps),
 * then runs `audit` and `repair` on it, in this process through the CLI's
 * `main()` or as a subprocess with the binary's permissions, and checks
 * what must hold whatever the damage: the exit code is of the documented
 * mask (0, 1, 4, 5, 8), no exception escapes, the run ends within a time
 * limit, nothing outside the store changes, and every message the store
 * held is still in a live file, a backup or the quarantine.
 *
 * Every case is derived from `(seed, index)` alone, so a failure is
 * reproduced with `deno task fuzz --seed S --start I --count 1`.
 *
 * @example
 * ```ts
 * import { runFuzzCase } from "./fuzz_support.ts";
 * const result = await runFuzzCase(42, 0, { subprocess: false });
 * if (!result.ok) console.error(result.failure);
 * ```
 * @module
 */

import { join } from "node:path";
import {
  type CliResult,
  makeMessages,
  makeSidecar,
  type Message,
  runCli,
  TestStore,
} from "./fixtures.ts";
import { serverIndex } from "./check_support.ts";
import {
  cliEnv,
  cliHere,
  seededRandom,
  type StoreMessages,
  storeMessages,
  submittedEvent,
  treeDiff,
} from "./safety_support.ts";
import { withRawField, WRONG_VALUES } from "./hostile_support.ts";

/** How one case runs the CLI. */
export interface FuzzOptions {
  /** Run the CLI as a subprocess (true) or through `main()` here (false). */
  subprocess: boolean;
  /** Each run must finish within this (default 30 s). */
  timeoutMs?: number;
}

/** The outcome of one case. */
export type FuzzResult =
  | { ok: true; seed: number; index: number; damage: string[]; codes: number[] }
  | {
    ok: false;
    seed: number;
    index: number;
    damage: string[];
    failure: string;
  };

/** Exit codes a run may end with: the documented mask of 1, 4 and 8. */
export const FUZZ_EXIT_CODES: ReadonlySet<number> = new Set([0, 1, 4, 5, 8]);

/** Text of an exception passed off as an operational error (exit 8). */
const INTERNAL =
  /Uncaught|^\s+at |Maximum call stack|Cannot read propert|is not a function|is not iterable|of undefined|of null|Invalid string length|RangeError|TypeError|ReferenceError|SyntaxError|internal:/m;

type Random = () => number;

function pick<T>(rnd: Random, items: readonly T[]): T {
  return items[Math.floor(rnd() * items.length)];
}

function int(rnd: Random, lo: number, hi: number): number {
  return lo + Math.floor(rnd() * (hi - lo + 1));
}

/**
 * JSON indented as the server writes it, or compact when an earlier
 * mutation nested a value too deep for an indented JSON.stringify.
 */
function indented(value: unknown): string {
  try {
    return JSON.stringify(value, null, 2);
  } catch {
    return JSON.stringify(value);
  }
}

/** True when the text holds a run of brackets only a nested value has. */
function nestedInside(bytes: Uint8Array): boolean {
  const text = new TextDecoder().decode(bytes);
  return text.includes("[".repeat(100)) || text.includes('{"a":{"a":{"a":');
}

/** A value of another type; the nested and huge ones a quarter of the time. */
function wrongValue(rnd: Random): string {
  return rnd() < 0.25
    ? pick(rnd, WRONG_VALUES.slice(-3))
    : pick(rnd, WRONG_VALUES);
}

/** A healthy store: sidecars (some with a .bak), index, journals, state.db. */
async function buildHealthy(store: TestStore, rnd: Random): Promise<void> {
  const sidecars: Record<string, unknown>[] = [];
  const sessions: Record<string, string | number>[] = [];
  const messages: Record<string, string | number | null>[] = [];
  const count = int(rnd, 2, 4);
  for (let i = 0; i < count; i++) {
    const id = `s${i}`;
    const list: Message[] = makeMessages(int(rnd, 1, 6), `${id} says`);
    const sidecar = makeSidecar(id, { messages: list, title: `Chat ${i}` });
    await store.writeRaw(`${id}.json`, JSON.stringify(sidecar, null, 2));
    sidecars.push(sidecar);
    if (rnd() < 0.5) {
      // A .bak the conversation has outgrown: the server leaves those.
      await store.writeRaw(
        `${id}.json.bak`,
        JSON.stringify(makeSidecar(id, { messages: list.slice(0, 1) })),
      );
    }
    if (rnd() < 0.6) {
      const turn = `2026051${i}T001122Z-abcdef12345${i}`;
      await store.journal(id, [
        submittedEvent(id, turn, String(list[0].content)),
        { ...submittedEvent(id, turn, ""), event: "completed" },
      ]);
    }
    sessions.push({ id, source: "webui", title: `Chat ${i}`, started_at: i });
    list.forEach((m, n) =>
      messages.push({
        id: i * 100 + n,
        session_id: id,
        role: String(m.role),
        content: String(m.content),
        timestamp: Number(m.timestamp),
      })
    );
  }
  await store.index(serverIndex(sidecars));
  if (rnd() < 0.3) await store.tombstone(["gone_long_ago"]);
  if (rnd() < 0.8) store.stateDb({ sessions, messages });
}

/**
 * Every entry below `dir` with its bytes (files), `-> target` (symlinks),
 * `dir` or `special` (FIFOs and sockets are never opened: reading a FIFO
 * would block), keyed by path relative to `dir`.
 */
async function tree(dir: string): Promise<Map<string, Uint8Array | string>> {
  const out = new Map<string, Uint8Array | string>();
  async function walk(path: string, rel: string): Promise<void> {
    for await (const entry of Deno.readDir(path)) {
      const childRel = rel ? `${rel}/${entry.name}` : entry.name;
      const child = join(path, entry.name);
      if (entry.isSymlink) {
        out.set(childRel, `-> ${await Deno.readLink(child)}`);
      } else if (entry.isDirectory) {
        out.set(`${childRel}/`, "dir");
        await walk(child, childRel);
      } else if (entry.isFile) out.set(childRel, await Deno.readFile(child));
      else out.set(childRel, "special");
    }
  }
  await walk(dir, "");
  return out;
}

/** The regular files of the store a mutation may hit, relative to the root. */
async function storeFiles(store: TestStore): Promise<string[]> {
  const files: string[] = [];
  for (const [path, bytes] of await tree(store.root)) {
    if (typeof bytes === "string" || path.endsWith("/")) continue;
    if (!path.startsWith("webui/sessions/") && path !== "hermes/state.db") {
      continue;
    }
    files.push(path);
  }
  return files.sort();
}

async function mkfifo(path: string): Promise<void> {
  await new Deno.Command("mkfifo", { args: [path] }).output();
}

/** Applies one random mutation; returns what it did, for the report. */
async function mutate(
  store: TestStore,
  rnd: Random,
  sibling: string,
): Promise<string> {
  const files = await storeFiles(store);
  if (files.length === 0) return "nothing to mutate";
  // A kind of file first, then one of that kind: the index, the tombstone,
  // the journals and state.db are hit as often as the many sidecars.
  const kinds = [
    /\.json$/,
    /\.json\.bak$/,
    /\.jsonl$/,
    /_index\.json$/,
    /_deleted_webui_sessions\.json$/,
    /state\.db$/,
  ];
  const ofKind = files.filter((f) => pick(rnd, kinds).test(f));
  const rel = pick(rnd, ofKind.length > 0 ? ofKind : files);
  const path = join(store.root, rel);
  const bytes = await Deno.readFile(path);
  const kind = pick(rnd, [
    "flip",
    "flip",
    "truncate",
    "truncate",
    "splice",
    "swap",
    "swap",
    "swap",
    "symlink",
    "fifo",
    "temp",
    "garbage_line",
    "empty",
  ]);
  switch (kind) {
    case "flip": {
      const out = bytes.slice();
      const n = int(rnd, 1, 8);
      for (let i = 0; i < n && out.length > 0; i++) {
        out[int(rnd, 0, out.length - 1)] ^= int(rnd, 1, 255);
      }
      await Deno.writeFile(path, out);
      return `flip ${n} bytes of ${rel}`;
    }
    case "truncate": {
      const at = int(rnd, 0, bytes.length);
      await Deno.writeFile(path, bytes.subarray(0, at));
      return `truncate ${rel} at ${at}`;
    }
    case "splice": {
      const other = pick(rnd, files);
      const from = await Deno.readFile(join(store.root, other));
      const start = int(rnd, 0, from.length);
      const chunk = from.subarray(start, start + int(rnd, 1, 200));
      const at = int(rnd, 0, bytes.length);
      await Deno.writeFile(
        path,
        new Uint8Array([
          ...bytes.subarray(0, at),
          ...chunk,
          ...bytes.subarray(at),
        ]),
      );
      return `splice ${chunk.length} bytes of ${other} into ${rel} at ${at}`;
    }
    case "swap": {
      if (rel.endsWith(".jsonl")) {
        // A journal: one event's field of another type.
        const lines = new TextDecoder().decode(bytes).split("\n");
        const at = int(rnd, 0, Math.max(0, lines.length - 2));
        let event: unknown;
        try {
          event = JSON.parse(lines[at]);
        } catch { /* not an event */ }
        if (event && typeof event === "object" && !Array.isArray(event)) {
          const key = pick(
            rnd,
            rnd() < 0.5
              ? ["event", "turn_id", "created_at", "content", "session_id"]
              : Object.keys(event),
          );
          const raw = wrongValue(rnd);
          lines[at] = withRawField(event as Record<string, unknown>, key, raw);
          await Deno.writeTextFile(path, lines.join("\n"));
          return `set ${key} of line ${at + 1} of ${rel} to ${
            raw.length > 20 ? `${raw.slice(0, 12)}...` : raw
          }`;
        }
      }
      let value: unknown;
      try {
        value = JSON.parse(new TextDecoder().decode(bytes));
      } catch {
        await Deno.writeFile(path, bytes.subarray(0, bytes.length >> 1));
        return `truncate ${rel} to half (not JSON to swap in)`;
      }
      const raw = wrongValue(rnd);
      const shown = raw.length > 20 ? `${raw.slice(0, 12)}...` : raw;
      // A top-level key, a key of a list element (an index entry or a
      // message), or the whole document.
      if (Array.isArray(value) && value.length > 0 && rnd() < 0.8) {
        const i = int(rnd, 0, value.length - 1);
        const item = value[i];
        if (item && typeof item === "object" && !Array.isArray(item)) {
          const key = pick(rnd, Object.keys(item).concat(["session_id"]));
          const text = withRawField(item, key, raw);
          const list = value.map((x, n) => n === i ? "\u0001" : x);
          await Deno.writeTextFile(
            path,
            JSON.stringify(list).replace('"\\u0001"', text),
          );
          return `set [${i}].${key} of ${rel} to ${shown}`;
        }
      }
      if (value && typeof value === "object" && !Array.isArray(value)) {
        const object = value as Record<string, unknown>;
        const messages = object.messages;
        if (Array.isArray(messages) && messages.length > 0 && rnd() < 0.4) {
          const i = int(rnd, 0, messages.length - 1);
          const key = pick(rnd, ["role", "content", "timestamp", "_ts"]);
          const marker = "\u0002raw\u0002";
          messages[i] = { ...messages[i], [key]: marker };
          await Deno.writeTextFile(
            path,
            indented(object).replace(
              JSON.stringify(marker),
              raw,
            ),
          );
          return `set messages[${i}].${key} of ${rel} to ${shown}`;
        }
        const key = pick(
          rnd,
          Object.keys(object).concat(["active_stream_id", "clear_generation"]),
        );
        await Deno.writeTextFile(
          path,
          withRawField(object, key, raw, !nestedInside(bytes)),
        );
        return `set ${key} of ${rel} to ${shown}`;
      }
      await Deno.writeTextFile(path, raw);
      return `replace ${rel} with ${shown}`;
    }
    case "symlink": {
      if (!rel.startsWith("webui/sessions/")) return "no symlink on state.db";
      const target = join(sibling, `target-${int(rnd, 0, 1e6)}`);
      if (rnd() < 0.5) await Deno.writeFile(target, bytes);
      await Deno.remove(path);
      const own = await Deno.lstat(store.path("_hermes_fsck")).catch(() =>
        null
      );
      if (rnd() < 0.2 && !rel.includes("_turn_journal") && own === null) {
        // A link to the tool's own dir: it must not carry a write out.
        await Deno.writeFile(path, bytes);
        await Deno.symlink(sibling, store.path("_hermes_fsck"));
        return `link _hermes_fsck to ${sibling}`;
      }
      await Deno.symlink(target, path);
      return `replace ${rel} with a link out of the store`;
    }
    case "fifo": {
      if (!rel.startsWith("webui/sessions/")) return "no FIFO for state.db";
      await Deno.remove(path);
      await mkfifo(path);
      return `replace ${rel} with a FIFO`;
    }
    case "temp": {
      const sid = /^webui\/sessions\/([0-9a-z_]+)\.json$/.exec(rel)?.[1];
      if (!sid) return `no temp for ${rel}`;
      const temp = store.path(`${sid}.tmp.${int(rnd, 1, 99)}.1`);
      const cut = rnd() < 0.5 ? bytes.length : int(rnd, 0, bytes.length);
      await Deno.writeFile(temp, bytes.subarray(0, cut));
      const old = new Date(Date.now() - 2 * 3600_000);
      await Deno.utime(temp, old, old);
      return `stale save temp of ${sid} (${cut} bytes)`;
    }
    case "garbage_line": {
      const line = pick(rnd, [
        "not json",
        "[1,",
        '{"event": "submitted", "turn_id": 7}',
        '{"event": "submitted", "turn_id": "t9", "content": "pending here", "created_at": "soon"}',
        "\u0000\u0000",
        '{"event": [[[[]]]], "turn_id": "t8", "content": "odd"}',
      ]);
      await Deno.writeTextFile(path, `\n${line}\n`, { append: true });
      return `append ${JSON.stringify(line)} to ${rel}`;
    }
    default: {
      await Deno.writeFile(path, new Uint8Array());
      return `empty ${rel}`;
    }
  }
}

/** Everything below the store root but the session dir, and the sibling dir. */
async function outsideOf(
  store: TestStore,
  sibling: string,
): Promise<Map<string, Uint8Array | string>> {
  const all = await tree(store.root);
  for (const path of [...all.keys()]) {
    if (path.startsWith("webui/sessions/")) all.delete(path);
  }
  for (const [path, bytes] of await tree(sibling)) {
    all.set(`<sibling>/${path}`, bytes);
  }
  return all;
}

function lostMessages(before: StoreMessages, after: StoreMessages): string[] {
  const lost: string[] = [];
  for (const [sid, messages] of before.messages) {
    const found = after.messages.get(sid) ?? new Set();
    for (const m of messages) if (!found.has(m)) lost.push(`${sid}: ${m}`);
  }
  return lost;
}

/**
 * Builds, damages and checks one case. Never throws for a failed check:
 * the result says what failed.
 *
 * @example
 * ```ts
 * const result = await runFuzzCase(1, 7, { subprocess: true });
 * ```
 */
export async function runFuzzCase(
  seed: number,
  index: number,
  options: FuzzOptions,
): Promise<FuzzResult> {
  const store = await TestStore.create();
  const sibling = `${store.root}-sibling`;
  const damage: string[] = [];
  const codes: number[] = [];
  const fail = (failure: string): FuzzResult => ({
    ok: false,
    seed,
    index,
    damage,
    failure,
  });
  try {
    damage.push(...await buildFuzzStore(seed, index, store, sibling));
    const before = await storeMessages(store.sessionDir);
    const outside = await outsideOf(store, sibling);
    const args = [
      "--session-dir",
      store.sessionDir,
      ...(await Deno.lstat(store.stateDbPath).then(
        () => ["--state-db", store.stateDbPath],
        () => ["--no-state-db"],
      )),
    ];
    for (
      const command of [
        ["audit", "--format", "json"],
        ["repair", "--server-stopped", "--format", "json"],
        ["audit", "--format", "text"],
      ]
    ) {
      const r = await runWithin(
        options.timeoutMs ?? 30_000,
        () =>
          options.subprocess
            ? runCli([...command, ...args], { env: cliEnv(store) })
            : cliHere([...command, ...args], store),
      );
      if (r === "timeout") {
        return fail(`${command[0]} did not finish within the time limit`);
      }
      codes.push(r.code);
      const what = `${command.join(" ")}: exit ${r.code}`;
      if (!FUZZ_EXIT_CODES.has(r.code)) {
        return fail(`${what} is not in {0,1,4,5,8}\n${r.stderr}`);
      }
      if (INTERNAL.test(r.stdout + r.stderr)) {
        return fail(
          `${what}: an exception escaped\n${r.stderr}${
            r.stdout.slice(0, 2000)
          }`,
        );
      }
      if (r.code === 8 && !/\[exit 8\]|failed/.test(r.stderr + r.stdout)) {
        return fail(`${what} without a reason\n${r.stderr}`);
      }
      if (command[2] === "json") {
        try {
          const report = JSON.parse(r.stdout);
          const crashed = [
            ...report.findings,
            ...(report.repair?.before.findings ?? []),
          ].filter((f: { kind: string }) => f.kind === "check_failed");
          if (crashed.length > 0) {
            return fail(`${what}: a check crashed: ${crashed[0].message}`);
          }
        } catch {
          if (r.code !== 8) return fail(`${what}: no JSON report\n${r.stdout}`);
        }
      }
    }
    const changed = treeDiff(outside, await outsideOf(store, sibling));
    if (changed.length > 0) {
      return fail(`changed outside the store: ${changed.join(", ")}`);
    }
    const lost = lostMessages(before, await storeMessages(store.sessionDir));
    if (lost.length > 0) return fail(`messages lost: ${lost.join("; ")}`);
    return { ok: true, seed, index, damage, codes };
  } catch (error) {
    return fail(`the harness failed: ${(error as Error).stack ?? error}`);
  } finally {
    await store.cleanup();
    await Deno.remove(sibling, { recursive: true }).catch(() => {});
  }
}

/**
 * Builds the store of case `(seed, index)` in `store`: healthy, then
 * damaged one to three ways. `sibling` (created here) is the dir beside
 * the store that some damage links to. Returns what was damaged.
 *
 * @example
 * ```ts
 * const damage = await buildFuzzStore(42, 0, store, `${store.root}-sibling`);
 * ```
 */
export async function buildFuzzStore(
  seed: number,
  index: number,
  store: TestStore,
  sibling: string,
): Promise<string[]> {
  const rnd = seededRandom((seed * 7919 + index * 104729) >>> 0);
  await Deno.mkdir(sibling);
  await buildHealthy(store, rnd);
  const damage: string[] = [];
  const mutations = int(rnd, 1, 3);
  for (let i = 0; i < mutations; i++) {
    damage.push(await mutate(store, rnd, sibling));
  }
  return damage;
}

async function runWithin(
  ms: number,
  fn: () => Promise<CliResult>,
): Promise<CliResult | "timeout"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), ms);
  });
  try {
    return await Promise.race([fn(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A failed case, as a person reads it, with the command that reproduces it. */
export function describeFailure(result: FuzzResult): string {
  if (result.ok) return `case ${result.index}: ok`;
  return [
    `fuzz case seed ${result.seed} index ${result.index} failed: ${result.failure}`,
    `  damage: ${result.damage.join("; ")}`,
    `  reproduce: deno task fuzz --seed ${result.seed} --start ${result.index} --count 1`,
  ].join("\n");
}
