/**
 * No false alarm: a healthy store as each server generation (G0..G4 in
 * STORE_FORMAT.md's Versions table) leaves it audits clean through the CLI,
 * exit 0 and no `repairable` or `unsafe_to_repair` finding. One test per
 * generation and aspect, so a failure names the shape that is misread.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  makeMessages,
  makeSidecar,
  type TestStore,
  withStore,
} from "./fixtures.ts";
import { cliJson, serverIndex } from "./check_support.ts";

const TURN = "20260511T001122Z-abcdef123456";

/** The journal of one finished turn, as the given generation writes it. */
function finishedTurn(sid: string, lifecycle: boolean, terminalFlag: boolean) {
  const base = { version: 1, turn_id: TURN, session_id: sid, stream_id: "s1" };
  const events: Record<string, unknown>[] = [{
    ...base,
    event: "submitted",
    created_at: 1778458100.1,
    role: "user",
    content: "message 0",
    attachments: [],
    workspace: "/work/project",
    model: "test-model",
    model_provider: null,
  }];
  if (!lifecycle) return events;
  events.push({ ...base, event: "worker_started", created_at: 1778458100.2 });
  events.push({
    ...base,
    event: "assistant_started",
    created_at: 1778458100.3,
    assistant_message_index: 1,
  });
  events.push({
    ...base,
    event: "completed",
    created_at: 1778458100.4,
    ...(terminalFlag ? { terminal: true } : {}),
  });
  return events;
}

/** Drops keys a generation did not yet write. */
function without(
  sidecar: Record<string, unknown>,
  keys: string[],
): Record<string, unknown> {
  const copy = { ...sidecar };
  for (const key of keys) delete copy[key];
  return copy;
}

async function writeSidecar(
  store: TestStore,
  sidecar: Record<string, unknown>,
): Promise<void> {
  await store.writeRaw(
    `${sidecar.session_id}.json`,
    JSON.stringify(sidecar, null, 2),
  );
}

async function assertAuditsClean(store: TestStore): Promise<void> {
  const { code, report, stderr } = await cliJson(store, ["audit"]);
  const problems = report.findings.filter((f) => f.category !== "info");
  assert.deepEqual(
    { code, problems },
    { code: 0, problems: [] },
    `healthy store not clean: ${
      problems.map((f) => `${f.kind} (${f.category})`).join(", ")
    }\n${JSON.stringify(report.findings, null, 2)}\n${stderr}`,
  );
}

/** Sidecars of a generation: `ids`, each with a finished journaled turn. */
async function generationStore(
  store: TestStore,
  options: {
    ids: string[];
    dropKeys?: string[];
    extra?: Record<string, unknown>;
    lifecycle?: boolean;
    terminalFlag?: boolean;
    sharded?: boolean;
  },
): Promise<Record<string, unknown>[]> {
  const sidecars: Record<string, unknown>[] = [];
  for (const id of options.ids) {
    const full = makeSidecar(id, { messages: 2, ...(options.extra ?? {}) });
    const sidecar = without(full, options.dropKeys ?? []);
    await writeSidecar(store, sidecar);
    sidecars.push(sidecar);
    const events = finishedTurn(
      id,
      options.lifecycle ?? false,
      options.terminalFlag ?? false,
    );
    const name = options.sharded ? `${id}~4242` : id;
    await store.writeRaw(
      `_turn_journal/${name}.jsonl`,
      events.map((e) => JSON.stringify(e)).join("\n") + "\n",
    );
  }
  await store.index(serverIndex(sidecars));
  return sidecars;
}

// G0 wrote no message_count, pending_user_source or later keys.
const G0_MISSING = [
  "message_count",
  "read_only",
  "interruption_cause",
  "pending_user_source",
];

Deno.test("healthy G0 store (f6ce79185c): lower-case ids, submitted-only journal", async () => {
  await withStore(async (store) => {
    await generationStore(store, {
      ids: ["abc123", "chat_7"],
      dropKeys: G0_MISSING,
    });
    await assertAuditsClean(store);
  });
});

Deno.test("healthy G1 store: ids with '-' and upper case", async () => {
  await withStore(async (store) => {
    await generationStore(store, {
      ids: ["api-Chat_7", "Web-UI-2"],
      extra: { message_count: 2 },
      dropKeys: ["pending_user_source"],
      lifecycle: true,
    });
    await assertAuditsClean(store);
  });
});

Deno.test("healthy G1 store: lower-case ids, lifecycle journal events, message_count", async () => {
  await withStore(async (store) => {
    await generationStore(store, {
      ids: ["abc123"],
      extra: { message_count: 2 },
      lifecycle: true,
    });
    await assertAuditsClean(store);
  });
});

Deno.test("healthy G2 store: pid-sharded journal <sid>~<pid>.jsonl with terminal flag", async () => {
  await withStore(async (store) => {
    await generationStore(store, {
      ids: ["abc123"],
      extra: { message_count: 2, pending_user_source: null },
      lifecycle: true,
      terminalFlag: true,
      sharded: true,
    });
    await assertAuditsClean(store);
  });
});

Deno.test("healthy G3 store: delete tombstone of a deleted session", async () => {
  await withStore(async (store) => {
    await generationStore(store, {
      ids: ["abc123"],
      extra: { message_count: 2, clear_generation: 1 },
      lifecycle: true,
      terminalFlag: true,
      sharded: true,
    });
    await store.tombstone(["gone_session"]);
    await assertAuditsClean(store);
  });
});

Deno.test("healthy G4 store: intentional_shrink_generation and created_workspace", async () => {
  await withStore(async (store) => {
    await generationStore(store, {
      ids: ["Api-Chat_9"],
      extra: {
        message_count: 2,
        intentional_shrink_generation: 1,
        created_workspace: "/work/project",
      },
      lifecycle: true,
      terminalFlag: true,
      sharded: true,
    });
    await assertAuditsClean(store);
  });
});

const UUID_A = "0123456789ab4def8123456789abcdef";

/** A live sidecar after a deliberate shrink, and the bigger `.bak` before it. */
async function shrunkStore(
  store: TestStore,
  live: Record<string, unknown>,
  backup: Record<string, unknown>,
): Promise<void> {
  const sidecar = await store.sidecar("abc123", live);
  await store.backup("abc123", backup);
  await store.index(serverIndex([sidecar]));
}

Deno.test("healthy G3 store: messages after a clear, bigger .bak left behind (clear_generation guard)", async () => {
  await withStore(async (store) => {
    await shrunkStore(store, {
      messages: 2,
      message_count: 2,
      clear_generation: UUID_A,
      truncation_watermark: 0,
      truncation_boundary: 0,
    }, { messages: 10, message_count: 10 });
    await assertAuditsClean(store);
  });
});

Deno.test("healthy G4 store: truncate/undo shrink with intentional_shrink_generation, bigger .bak", async () => {
  await withStore(async (store) => {
    await shrunkStore(store, {
      messages: 2,
      message_count: 2,
      intentional_shrink_generation: UUID_A,
    }, { messages: 10, message_count: 10 });
    await assertAuditsClean(store);
  });
});

Deno.test("healthy G2 store: manual compression (mode ' Manual '), bigger .bak", async () => {
  await withStore(async (store) => {
    await shrunkStore(store, {
      messages: 10,
      message_count: 10,
      context_messages: makeMessages(2),
      compression_anchor_mode: " Manual ",
    }, {
      messages: 10,
      message_count: 10,
      context_messages: makeMessages(10),
    });
    await assertAuditsClean(store);
  });
});
