/**
 * The intentional-shrink guards of STORE_FORMAT.md §4, end to end: for each
 * guard, a store where it holds (the bigger `.bak` is kept, an
 * `intentional_shrink_kept` info finding says why, and repair touches
 * nothing) and stores where one condition is changed so it does not hold
 * (`shrunken_live` is reported and repair restores the `.bak`). Plus the
 * fail-open rule: a live file that cannot be read is restored.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { Report } from "../core/report/report.ts";
import { runPipeline } from "../core/run/run.ts";
import {
  makeMessages,
  makeSidecar,
  type Message,
  TestStore,
} from "./fixtures.ts";

const SID = "guarded";
const LIVE = `${SID}.json`;
const BAK = `${SID}.json.bak`;

/** Two valid uuid4 hex strings (`^[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}$`). */
const GEN_A = "3f2b8c1d9e0a4b7c8d1e2f3a4b5c6d7e";
const GEN_B = "a1b2c3d4e5f64a1b9c2d3e4f5a6b7c8d";

/** A compaction marker as the server writes it into `context_messages`. */
const MARKER_MESSAGE: Message = {
  role: "user",
  content: "[Context compaction] Earlier turns were summarized: ...",
  timestamp: 1778458100,
};

type Fields = Record<string, unknown>;

/**
 * Writes a sidecar as Python's `json.dumps(indent=2)` would: a float zero is
 * spelled `0.0`, as the server spells the cleared truncation fields.
 */
async function writePython(
  store: TestStore,
  name: string,
  id: string,
  fields: Fields,
): Promise<Uint8Array> {
  const text = JSON.stringify(makeSidecar(id, fields), null, 2).replace(
    /("truncation_(?:watermark|boundary)": )0(?=,|\n)/g,
    "$10.0",
  );
  await store.writeRaw(name, text);
  return new TextEncoder().encode(text);
}

function pipeline(
  store: TestStore,
  command: "audit" | "repair",
): Promise<Report> {
  return runPipeline({
    command,
    sessionDir: store.sessionDir,
    stateDbPath: null,
    hermesHome: store.hermesHome,
  });
}

async function bytes(store: TestStore, name: string): Promise<Uint8Array> {
  return await Deno.readFile(store.path(name));
}

async function filesBelow(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) out.push(...await filesBelow(path));
    else if (entry.isFile) out.push(path);
  }
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** A store with a live sidecar and a backup, given as fields or raw text. */
interface Case {
  name: string;
  live: Fields | string;
  bak: Fields | string;
}

async function build(store: TestStore, c: Case) {
  const write = async (name: string, value: Fields | string) => {
    if (typeof value === "string") {
      await store.writeRaw(name, value);
      return new TextEncoder().encode(value);
    }
    return await writePython(store, name, SID, value);
  };
  const written = {
    live: await write(LIVE, c.live),
    bak: await write(BAK, c.bak),
  };
  await store.indexFromFiles();
  const index = await store.exists("_index.json")
    ? await bytes(store, "_index.json")
    : null;
  return { ...written, index };
}

/** The guard holds: kept as is by audit and repair. */
function expectKept(c: Case, guard: string) {
  Deno.test(`guard holds, kept: ${c.name}`, async () => {
    const store = await TestStore.create();
    try {
      const written = await build(store, c);
      const audit = await pipeline(store, "audit");
      assert.deepEqual(
        audit.findings.filter((f) => f.kind === "shrunken_live"),
        [],
        "no shrunken_live when a guard holds",
      );
      const kept = audit.findings.filter((f) =>
        f.kind === "intentional_shrink_kept"
      );
      assert.equal(kept.length, 1);
      assert.equal(kept[0].category, "info");
      assert.equal(kept[0].sessionId, SID);
      assert.equal(kept[0].evidence.guard, guard);
      assert.equal(audit.status, "ok");
      assert.equal(audit.exitCode, 0);

      const repair = await pipeline(store, "repair");
      assert.equal(repair.exitCode, 0);
      assert.deepEqual(repair.repair?.actions, []);
      assert.deepEqual(await bytes(store, LIVE), written.live);
      assert.deepEqual(await bytes(store, BAK), written.bak);
      assert.equal(await store.exists("_hermes_fsck"), false);
      assert.deepEqual(
        await store.exists("_index.json")
          ? await bytes(store, "_index.json")
          : null,
        written.index,
      );
    } finally {
      await store.cleanup();
    }
  });
}

/** No guard holds: reported as shrunken_live, and repair restores. */
function expectRestored(c: Case) {
  Deno.test(`guard does not hold, restored: ${c.name}`, async () => {
    const store = await TestStore.create();
    try {
      const written = await build(store, c);
      const audit = await pipeline(store, "audit");
      assert.deepEqual(
        audit.findings.filter((f) => f.kind === "intentional_shrink_kept"),
        [],
      );
      const shrunken = audit.findings.filter((f) => f.kind === "shrunken_live");
      assert.equal(shrunken.length, 1, "shrunken_live is reported");
      assert.equal(shrunken[0].sessionId, SID);
      assert.equal(shrunken[0].category, "repairable");
      assert.equal(audit.status, "warn");

      const repair = await pipeline(store, "repair");
      assert.equal(repair.exitCode, 1);
      assert.deepEqual(await bytes(store, LIVE), written.bak, "live = .bak");
      assert.deepEqual(await bytes(store, BAK), written.bak, ".bak kept");
      assert.equal(
        repair.findings.filter((f) => f.kind === "shrunken_live").length,
        0,
      );
      // The replaced live file is kept in the run's quarantine.
      const runDir = repair.repair?.runDir;
      assert.ok(runDir);
      const copies = [];
      for (const path of await filesBelow(join(store.sessionDir, runDir))) {
        if (sameBytes(await Deno.readFile(path), written.live)) {
          copies.push(path);
        }
      }
      assert.equal(copies.length, 1, "old live bytes are in quarantine");
    } finally {
      await store.cleanup();
    }
  });
}

// ------------------------------------------------ 1. clear sentinel

const clearedLive: Fields = {
  messages: 0,
  context_messages: [],
  clear_generation: "gen_2",
  truncation_watermark: 0,
  truncation_boundary: 0,
  active_stream_id: null,
  pending_user_message: null,
  pending_attachments: [],
  pending_started_at: null,
  pending_user_source: null,
};
const bakBeforeClear: Fields = {
  messages: 12,
  context_messages: makeMessages(12),
  clear_generation: "gen_1",
  truncation_watermark: 0,
  truncation_boundary: 0,
};

expectKept({
  name: "clear sentinel (new clear_generation, everything cleared)",
  live: clearedLive,
  bak: bakBeforeClear,
}, "clear_sentinel");
expectKept({
  name: "clear sentinel, backup without any clear_generation",
  live: clearedLive,
  bak: { messages: 12 },
}, "clear_sentinel");
for (
  const [name, change] of [
    ["same clear_generation as the backup", { clear_generation: "gen_1" }],
    ["empty clear_generation", { clear_generation: "" }],
    ["clear_generation not a string", { clear_generation: 2 }],
    ["a non-empty pending_user_message", {
      pending_user_message: "What is the meaning of life?",
    }],
    ["a non-zero truncation_watermark", { truncation_watermark: 5.5 }],
    ["a non-zero truncation_boundary", { truncation_boundary: 3 }],
    ["an active_stream_id", { active_stream_id: "a".repeat(32) }],
    ["pending_attachments", { pending_attachments: [{ name: "a.png" }] }],
    ["a pending_started_at", { pending_started_at: 1778458000 }],
    ["a pending_user_source", { pending_user_source: "webui" }],
    ["non-empty context_messages", { context_messages: makeMessages(1) }],
  ] as [string, Fields][]
) {
  expectRestored({
    name: `clear sentinel with ${name}`,
    live: { ...clearedLive, ...change },
    bak: bakBeforeClear,
  });
}

// ------------------------------------------- 2. post-clear messages

const postClearLive: Fields = {
  messages: 3,
  clear_generation: "gen_2",
  truncation_watermark: 0,
  truncation_boundary: 0,
};

expectKept({
  name: "post-clear messages (new clear_generation, watermarks 0.0)",
  live: postClearLive,
  bak: bakBeforeClear,
}, "post_clear_messages");
expectKept({
  name: "post-clear messages, backup without a clear_generation",
  live: postClearLive,
  bak: { messages: 12 },
}, "post_clear_messages");
for (
  const [name, change] of [
    ["the same clear_generation as the backup", { clear_generation: "gen_1" }],
    ["no clear_generation", { clear_generation: null }],
    ["a non-zero truncation_watermark", { truncation_watermark: 2 }],
    ["a non-zero truncation_boundary", { truncation_boundary: 2 }],
  ] as [string, Fields][]
) {
  expectRestored({
    name: `post-clear messages with ${name}`,
    live: { ...postClearLive, ...change },
    bak: bakBeforeClear,
  });
}

// --------------------------------------------- 3. manual compression

const compressedContext = [MARKER_MESSAGE, ...makeMessages(1, "kept")];
const uncompressedBak: Fields = {
  messages: 12,
  context_messages: makeMessages(12),
};
const manualModeLive: Fields = {
  messages: 5,
  context_messages: compressedContext,
  compression_anchor_mode: "manual",
};
const anchorLive: Fields = {
  messages: 5,
  context_messages: compressedContext,
  compression_anchor_summary: "The user asked for a summary of ...",
  compression_anchor_message_key: "msg-3",
  // A key the seed-era server never wrote: this form decides only then.
  pending_user_source: null,
};
const watermarkLive: Fields = {
  messages: 5,
  context_messages: compressedContext,
  truncation_watermark: 3.0,
};

expectKept({
  name: 'manual compression: compression_anchor_mode "manual"',
  live: manualModeLive,
  bak: uncompressedBak,
}, "manual_compression");
expectKept({
  name: "manual compression: shorter context + anchor summary and key",
  live: anchorLive,
  bak: uncompressedBak,
}, "manual_compression");
expectKept({
  name: "manual compression: shorter context + truncation_watermark",
  live: watermarkLive,
  bak: uncompressedBak,
}, "manual_compression");
expectKept({
  name: "manual compression: a tool message in the backup is no marker",
  live: manualModeLive,
  bak: {
    messages: 12,
    context_messages: [
      { role: "tool", content: "[Context compaction] tool output" },
      ...makeMessages(11),
    ],
  },
}, "manual_compression");

expectRestored({
  name: 'manual compression: backup context has a "[Context compaction" marker',
  live: manualModeLive,
  bak: {
    messages: 12,
    context_messages: [...makeMessages(6), MARKER_MESSAGE, ...makeMessages(5)],
  },
});
expectRestored({
  name: "manual compression: backup marker in other case, as a list of parts",
  live: anchorLive,
  bak: {
    messages: 12,
    context_messages: [
      {
        role: "assistant",
        content: [{ type: "text", text: "[CONTEXT COMPACTION] summary" }],
      },
      ...makeMessages(11),
    ],
  },
});
expectRestored({
  name: "manual compression: backup context not longer than live's",
  live: manualModeLive,
  bak: { messages: 12, context_messages: makeMessages(2) },
});
expectRestored({
  name: "manual compression: backup without context_messages",
  live: manualModeLive,
  bak: { messages: 12 },
});
expectRestored({
  name: 'manual compression: compression_anchor_mode "auto" records nothing',
  live: { ...manualModeLive, compression_anchor_mode: "auto" },
  bak: uncompressedBak,
});
expectRestored({
  name: "manual compression: empty compression_anchor_summary",
  live: { ...anchorLive, compression_anchor_summary: "" },
  bak: uncompressedBak,
});
expectRestored({
  name: "manual compression: no compression_anchor_message_key",
  live: { ...anchorLive, compression_anchor_message_key: null },
  bak: uncompressedBak,
});
expectKept({
  name: "manual compression: truncation_watermark 0.0 counts as set",
  live: { ...watermarkLive, truncation_watermark: 0 },
  bak: uncompressedBak,
}, "manual_compression");
expectRestored({
  name: "manual compression: truncation_watermark null is not set",
  live: { ...watermarkLive, truncation_watermark: null },
  bak: uncompressedBak,
});
expectRestored({
  name: "manual compression: live context not shorter than its messages",
  live: { ...anchorLive, context_messages: makeMessages(5) },
  bak: uncompressedBak,
});

// ---------------------------------------------- 4. shrink generation

expectKept({
  name: "shrink generation: backup has none",
  live: { messages: 3, intentional_shrink_generation: GEN_A },
  bak: { messages: 12 },
}, "shrink_generation");
expectKept({
  name: "shrink generation: backup's is null",
  live: { messages: 3, intentional_shrink_generation: GEN_A },
  bak: { messages: 12, intentional_shrink_generation: null },
}, "shrink_generation");
expectKept({
  name: "shrink generation: backup's is a different valid one",
  live: { messages: 3, intentional_shrink_generation: GEN_A },
  bak: { messages: 12, intentional_shrink_generation: GEN_B },
}, "shrink_generation");
for (
  const [name, live, bak] of [
    ["the same generation in the backup", GEN_A, GEN_A],
    ["upper-case hex", GEN_A.toUpperCase(), undefined],
    ["version digit not 4", GEN_A.slice(0, 12) + "1" + GEN_A.slice(13), null],
    ["variant digit not 8-b", GEN_A.slice(0, 16) + "c" + GEN_A.slice(17), null],
    ["a dashed uuid", "3f2b8c1d-9e0a-4b7c-8d1e-2f3a4b5c6d7e", null],
    ["one character short", GEN_A.slice(1), null],
    ["a number", 12345, null],
    ["an invalid generation in the backup", GEN_A, "not-a-uuid"],
  ] as [string, unknown, unknown][]
) {
  const bakFields: Fields = { messages: 12 };
  if (bak !== undefined) bakFields.intentional_shrink_generation = bak;
  expectRestored({
    name: `shrink generation: ${name}`,
    live: { messages: 3, intentional_shrink_generation: live },
    bak: bakFields,
  });
}

// -------------------------------------------------------- fail open

const parsableBak: Fields = { messages: 12 };

expectRestored({
  name: "fail open: live is truncated JSON",
  live: '{\n  "session_id": "guarded",\n  "messages": [\n    {"role": "user"',
  bak: parsableBak,
});
expectRestored({
  name: "fail open: live is empty",
  live: "",
  bak: parsableBak,
});
expectRestored({
  name: "fail open: unparsable live that names a shrink generation",
  live: `{"intentional_shrink_generation": "${GEN_A}", "clear_generation": ` +
    `"gen_2", "messages": [`,
  bak: parsableBak,
});
expectRestored({
  name: "fail open: live parses but is a list, not a session",
  live: "[]",
  bak: parsableBak,
});

Deno.test("fail open: the finding on an unparsable live says why and counts -1", async () => {
  const store = await TestStore.create();
  try {
    await store.writeRaw(LIVE, '{"messages": [');
    await writePython(store, BAK, SID, parsableBak);
    const audit = await pipeline(store, "audit");
    const [finding] = audit.findings.filter((f) => f.kind === "shrunken_live");
    assert.ok(finding, "shrunken_live is reported");
    assert.equal(finding.evidence.liveMessages, -1);
    assert.equal(finding.evidence.bakMessages, 12);
    assert.equal(finding.evidence.liveProblem, "invalid_json");
  } finally {
    await store.cleanup();
  }
});

Deno.test("a guarded live with an unparsable .bak: nothing to restore, both kept", async () => {
  const store = await TestStore.create();
  try {
    const live = await writePython(store, LIVE, SID, {
      messages: 3,
      intentional_shrink_generation: GEN_A,
    });
    await store.writeRaw(BAK, '{"messages": [{"role": "user"}, ');
    await store.indexFromFiles();
    const repair = await pipeline(store, "repair");
    assert.deepEqual(
      repair.findings.filter((f) => f.kind === "shrunken_live"),
      [],
    );
    assert.deepEqual(repair.repair?.actions, []);
    assert.deepEqual(await bytes(store, LIVE), live);
    assert.equal(
      await Deno.readTextFile(store.path(BAK)),
      '{"messages": [{"role": "user"}, ',
    );
  } finally {
    await store.cleanup();
  }
});
