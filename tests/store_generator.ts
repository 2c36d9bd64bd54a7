/**
 * Seeded stores of every server generation (G0..G4, STORE_FORMAT.md's
 * Versions table), healthy and damaged, for the differential tests that
 * run the server's own recovery code on the same store as hermes-fsck:
 * shrunken live sidecars (and shrinks the user made on purpose, as the
 * generation that has the guard writes them), malformed live sidecars and
 * backups, orphan backups with and without a state.db row, deleted
 * sessions (tombstone, G3 on), index entries without a file and sidecars
 * without an entry, a missing, corrupt or non-list index, state.db webui
 * rows without a sidecar (with and without messages, other sources, old
 * schemas, no state.db), and turn journals with pending turns (one legacy
 * file up to G1, per-process shards from G2, both at once after an
 * upgrade).
 *
 * @example
 * ```ts
 * import { generatedStore, Dice } from "./store_generator.ts";
 * const built = await generatedStore(new Dice(seededRandom(1)), store);
 * console.log(built.generation, built.withStateDb);
 * ```
 * @module
 */

import {
  FULL_SCHEMA,
  makeMessages,
  makeSidecar,
  type Message,
  type MessageRow,
  OLD_SCHEMA,
  type SessionRow,
  type TestStore,
} from "./fixtures.ts";

/**
 * Dice over a seeded PRNG (see `seededRandom` in tests/safety_support.ts).
 *
 * @example
 * ```ts
 * const dice = new Dice(seededRandom(7));
 * dice.int(1, 6);
 * ```
 */
export class Dice {
  /** Wraps a PRNG giving numbers in [0, 1). */
  constructor(readonly next: () => number) {}
  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }
  /** One of `items`. */
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }
}

/** The server generations of STORE_FORMAT.md's Versions table. */
export type Generation = 0 | 1 | 2 | 3 | 4;

/**
 * What {@linkcode generatedStore} built.
 *
 * @example
 * ```ts
 * const { generation, withStateDb, shards } = await generatedStore(dice, store);
 * ```
 */
export interface GeneratedStore {
  /** The generation whose shapes the store has. */
  generation: Generation;
  /** Whether there is a state.db to name on the command line. */
  withStateDb: boolean;
  /** Whether any turn journal is split in per-process shards. */
  shards: boolean;
}

/**
 * Options of {@linkcode generatedStore}.
 *
 * @example
 * ```ts
 * await generatedStore(dice, store, 2, { healthy: true, shards: false });
 * ```
 */
export interface GeneratorOptions {
  /** Only what the server writes in normal use: nothing to report. */
  healthy?: boolean;
  /** Per-process journal shards from G2 on (default true). */
  shards?: boolean;
  /**
   * The `compression_anchor_mode` values of manual compressions; by
   * default the server's spellings, which it compares trimmed and in lower
   * case.
   */
  manualModes?: string[];
}

const LOWER = "abcdefghijklmnopqrstuvwxyz0123456789_";
const MIXED = LOWER + "ABCXYZ--";
const EVENTS = ["worker_started", "assistant_started", "completed"] as const;

/** A uuid4().hex, as the server stamps shrink generations. */
function uuid4Hex(dice: Dice): string {
  const hex = (n: number) =>
    Array.from({ length: n }, () => dice.int(0, 15).toString(16)).join("");
  return hex(12) + "4" + hex(3) + dice.pick(["8", "9", "a", "b"]) + hex(15);
}

function newId(dice: Dice, generation: Generation, taken: Set<string>): string {
  const chars = generation === 0 ? LOWER : MIXED;
  for (;;) {
    let id = "";
    for (let i = dice.int(1, 9); i > 0; i--) id += dice.pick([...chars]);
    if (generation > 0 && dice.chance(0.1)) id = `api-${id}`;
    if (id.startsWith("_") || taken.has(id)) continue;
    taken.add(id);
    return id;
  }
}

/** A sidecar's fields as `generation` writes them, `count` messages. */
function sidecarOf(
  id: string,
  generation: Generation,
  messages: number | Message[],
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const count = typeof messages === "number" ? messages : messages.length;
  const fields: Record<string, unknown> = { messages };
  if (generation >= 1) {
    fields.message_count = count;
    fields.truncation_watermark = null;
    fields.read_only = false;
  }
  if (generation >= 2) {
    fields.truncation_boundary = null;
    fields.pending_user_source = null;
  }
  if (generation >= 3) fields.clear_generation = null;
  if (generation >= 4) fields.intentional_shrink_generation = null;
  return makeSidecar(id, { ...fields, ...extra });
}

function text(value: unknown, dice: Dice): string {
  return dice.chance(0.5)
    ? JSON.stringify(value, null, 2)
    : JSON.stringify(value);
}

/** A file that is not a readable session (for live sidecars and backups). */
function brokenFile(dice: Dice, id: string): string {
  const full = JSON.stringify(makeSidecar(id, { messages: 3 }));
  return dice.pick([
    full.slice(0, dice.int(1, full.length - 1)),
    "[]",
    JSON.stringify({ session_id: id, messages: "none" }),
    "",
  ]);
}

/**
 * A live sidecar and its `.bak` whose shrink the user made on purpose, as
 * the first generation that guards it writes them: manual compression
 * (G2), clearing (G3), a shrink generation (G4). The server's audit leaves
 * them alone.
 */
function guardedShrink(
  dice: Dice,
  id: string,
  generation: Generation,
  manualModes: string[],
): { live: Record<string, unknown>; bak: Record<string, unknown> } {
  const kinds = [
    "compress",
    ...(generation >= 3 ? ["clear"] : []),
    ...(generation >= 4 ? ["shrink"] : []),
  ];
  const kind = dice.pick(kinds);
  const before = makeMessages(dice.int(4, 9));
  if (kind === "compress") {
    return {
      live: sidecarOf(id, generation, before, {
        context_messages: before.slice(-2),
        compression_anchor_mode: dice.pick(manualModes),
      }),
      bak: sidecarOf(id, generation, before.length + 2, {
        context_messages: makeMessages(before.length + 2),
      }),
    };
  }
  if (kind === "clear") {
    return {
      live: sidecarOf(id, generation, 0, {
        context_messages: [],
        truncation_watermark: 0.0,
        truncation_boundary: 0.0,
        clear_generation: uuid4Hex(dice),
        pending_user_source: null,
      }),
      bak: sidecarOf(id, generation, before),
    };
  }
  return {
    live: sidecarOf(id, generation, before.slice(0, 2), {
      intentional_shrink_generation: uuid4Hex(dice),
    }),
    bak: sidecarOf(id, generation, before),
  };
}

/**
 * The events of a few turns of one session, each with a created_at of its
 * own (so the server's merge of shards never depends on the order a dir
 * lists them), some left pending.
 */
function journalTurns(
  dice: Dice,
  sid: string,
  generation: Generation,
  userTexts: string[],
  clock: { t: number },
  healthy: boolean,
): Record<string, unknown>[] {
  const events: Record<string, unknown>[] = [];
  for (let turn = dice.int(1, 3); turn > 0; turn--) {
    const turnId = `2026051${dice.int(0, 9)}T0011${dice.int(10, 99)}Z-` +
      uuid4Hex(dice).slice(0, 12);
    const roll = dice.next();
    const content = roll < 0.3 && userTexts.length
      ? ` ${dice.pick(userTexts)} `
      : roll < 0.4
      ? ""
      : `prompt ${turnId}`;
    const base = { version: 1, session_id: sid, turn_id: turnId };
    events.push({
      ...base,
      event: "submitted",
      stream_id: "s1",
      created_at: clock.t += 0.5,
      role: "user",
      content,
      attachments: [],
      workspace: "/work/project",
      model: "test-model",
    });
    if (generation === 0) {
      // G0 logged submissions only: one stays pending unless it was saved.
      if (healthy) events[events.length - 1].content = userTexts[0] ?? "";
      continue;
    }
    if (healthy) {
      events.push({
        ...base,
        event: "completed",
        stream_id: "s1",
        created_at: clock.t += 0.5,
        ...(generation >= 2 ? { terminal: true } : {}),
      });
      continue;
    }
    for (let e = dice.int(0, 3); e > 0; e--) {
      const event = dice.pick([...EVENTS, "interrupted"]);
      const terminal = event === "completed" || event === "interrupted";
      events.push({
        ...base,
        event,
        stream_id: "s1",
        created_at: clock.t += 0.5,
        ...(terminal && generation >= 2 ? { terminal: true } : {}),
      });
    }
  }
  return events;
}

/** Writes one session's journal as the generation lays it out. */
async function writeJournal(
  store: TestStore,
  dice: Dice,
  sid: string,
  generation: Generation,
  events: Record<string, unknown>[],
  shardsOk: boolean,
): Promise<boolean> {
  const files = new Map<string, string[]>();
  const shardNames = generation >= 2 && shardsOk
    ? Array.from(
      { length: dice.int(1, 2) },
      (_, i) => `${sid}~${1000 + 7 * i + dice.int(0, 6)}.jsonl`,
    )
    : [];
  const legacy = `${sid}.jsonl`;
  const names = shardNames.length && dice.chance(0.8)
    ? shardNames
    : [...shardNames, legacy];
  for (const event of events) {
    const name = dice.pick(names);
    const lines = files.get(name) ?? [];
    lines.push(JSON.stringify(event));
    if (dice.chance(0.05)) lines.push("{not json"); // a torn append
    files.set(name, lines);
  }
  for (const [name, lines] of files) {
    // A journal is append-only but clocks are not monotonic.
    if (dice.chance(0.3)) lines.reverse();
    await store.writeRaw(`_turn_journal/${name}`, lines.join("\n") + "\n");
  }
  return [...files.keys()].some((name) => name.includes("~"));
}

/**
 * Builds a seeded store of one generation in `store`.
 *
 * @example
 * ```ts
 * const built = await generatedStore(dice, store);
 * ```
 */
export async function generatedStore(
  dice: Dice,
  store: TestStore,
  generation: Generation = dice.int(0, 4) as Generation,
  options: GeneratorOptions = {},
): Promise<GeneratedStore> {
  const healthy = options.healthy ?? false;
  const shardsOk = options.shards ?? true;
  const taken = new Set<string>();
  const clock = { t: 1778458000 };
  const schema = dice.pick([null, FULL_SCHEMA, FULL_SCHEMA, OLD_SCHEMA]);
  const rows: SessionRow[] = [];
  const dbMessages: MessageRow[] = [];
  let messageId = 1;
  const addRow = (id: string, messages: number, source = "webui") => {
    rows.push({
      id,
      source,
      title: `Row ${id}`,
      started_at: dice.chance(0.1) ? null : dice.int(1, 5) * 100,
    });
    for (let i = 0; i < messages; i++) {
      dbMessages.push({
        id: messageId++,
        session_id: id,
        role: i % 2 ? "assistant" : "user",
        content: `db ${id} ${i}`,
        timestamp: dice.int(1, 50),
      });
    }
  };
  const indexed: string[] = [];
  const gone: string[] = []; // sessions with no live sidecar
  let shards = false;
  const journal = async (id: string, texts: string[], finished: boolean) => {
    const events = journalTurns(dice, id, generation, texts, clock, finished);
    if (await writeJournal(store, dice, id, generation, events, shardsOk)) {
      shards = true;
    }
  };

  for (let n = dice.int(0, 8); n > 0; n--) {
    const id = newId(dice, generation, taken);
    const shape = dice.pick(
      healthy ? ["healthy", "healthy", "guarded"] : [
        "healthy",
        "healthy",
        "shrunken",
        "guarded",
        "malformed_live",
        "orphan",
        "orphan_malformed",
        "row_only",
      ],
    );
    let userTexts: string[] = [];
    let live: string | null = null;
    let bak: string | null = null;
    if (shape === "healthy" || shape === "shrunken") {
      const count = dice.int(0, 8);
      const messages = makeMessages(count);
      userTexts = messages.filter((m) => m.role === "user").map((m) =>
        String(m.content)
      );
      live = text(sidecarOf(id, generation, messages), dice);
      if (shape === "shrunken") {
        bak = text(sidecarOf(id, generation, count + dice.int(1, 4)), dice);
      } else if (dice.chance(0.3)) {
        bak = text(sidecarOf(id, generation, dice.int(0, count)), dice);
      }
    } else if (shape === "guarded") {
      if (generation >= 2) {
        const pair = guardedShrink(
          dice,
          id,
          generation,
          options.manualModes ?? ["manual", "Manual", " MANUAL "],
        );
        live = text(pair.live, dice);
        bak = text(pair.bak, dice);
      } else live = text(sidecarOf(id, generation, 2), dice);
    } else if (shape === "malformed_live") {
      live = brokenFile(dice, id);
      if (dice.chance(0.5)) {
        bak = dice.chance(0.7)
          ? text(sidecarOf(id, generation, dice.int(1, 5)), dice)
          : brokenFile(dice, id);
      }
    } else if (shape === "orphan") {
      bak = text(sidecarOf(id, generation, dice.int(1, 6)), dice);
    } else if (shape === "orphan_malformed") {
      bak = brokenFile(dice, id);
    }
    if (live !== null) await store.writeRaw(`${id}.json`, live);
    if (bak !== null) await store.writeRaw(`${id}.json.bak`, bak);
    if (live === null) gone.push(id);
    if (healthy || dice.chance(live !== null ? 0.85 : 0.4)) indexed.push(id);
    if (schema && (shape === "row_only" || dice.chance(0.6))) {
      addRow(
        id,
        healthy || dice.chance(0.75) ? dice.int(1, 4) : 0,
        dice.pick(["webui", "webui", "webui", "cli"]),
      );
    }
    if (dice.chance(0.4)) await journal(id, userTexts, healthy);
  }
  // Sessions only state.db, the index or a journal still names.
  for (let n = !healthy && dice.chance(0.5) ? dice.int(1, 3) : 0; n > 0; n--) {
    const id = newId(dice, generation, taken);
    gone.push(id);
    if (schema) {
      addRow(
        id,
        dice.chance(0.6) ? dice.int(1, 3) : 0,
        dice.pick([
          "webui",
          "webui",
          "telegram",
        ]),
      );
    }
    if (dice.chance(0.4)) indexed.push(id);
    if (dice.chance(0.2)) await journal(id, [], false);
  }
  // Deleted sessions (G3 on): the tombstone names some that are gone, and
  // now and then one that is back (a live sidecar wins).
  if (generation >= 3 && dice.chance(0.6)) {
    const ids = gone.filter(() => dice.chance(0.6));
    if (taken.size && dice.chance(0.2)) ids.push(dice.pick([...taken]));
    // Numeric ids and a string version read as the server reads them.
    const listed: unknown[] = ids.sort().map((id) =>
      /^[1-9][0-9]{0,8}$/.test(id) && dice.chance(0.5) ? Number(id) : id
    );
    await store.writeRaw(
      "_deleted_webui_sessions.json",
      dice.chance(0.9)
        ? JSON.stringify({ version: dice.pick([1, 1, "1"]), ids: listed })
        : dice.pick(["{", JSON.stringify({ version: 2, ids })]),
    );
  }
  // The index: absent (G1 rebuilds it at startup), corrupt, or a list.
  const indexRoll = healthy ? 1 : dice.next();
  if (indexRoll < 0.07) await store.writeRaw("_index.json", "[{");
  else if (indexRoll < 0.12) await store.index({ not: "a list" });
  else if (indexRoll < (generation >= 1 ? 0.3 : 0.15)) {
    // no index at all
  } else {
    const entries = indexed.map((id) => ({
      session_id: id,
      title: `Session ${id}`,
      message_count: 2,
      updated_at: 1778458000.5,
      last_message_at: 1778458001,
    }));
    const odd: unknown[] = dice.chance(0.15)
      ? [dice.pick([{ session_id: 7 }, { title: "no id" }, "not an entry"])]
      : [];
    const all: unknown[] = [...entries, ...odd];
    for (let i = all.length - 1; i > 0; i--) {
      const j = dice.int(0, i);
      [all[i], all[j]] = [all[j], all[i]];
    }
    await store.index(all);
  }
  if (schema && !healthy && dice.chance(0.08)) {
    // A state.db that is not a database: the server's look-ups fail open.
    await Deno.writeTextFile(store.stateDbPath, "not a database");
  } else if (schema) {
    store.stateDb({ sessions: rows, messages: dbMessages }, schema);
  }
  return { generation, withStateDb: schema !== null, shards };
}
