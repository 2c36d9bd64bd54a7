/**
 * Sidecar/`.bak` pairs for every form of the intentional-shrink guards
 * (STORE_FORMAT.md §4) and of their near misses, with the verdict today's
 * server (or, for a sidecar with no field newer than the seed, the seed's
 * server) gives: `restore`, or the guard that keeps the live file. Shared by
 * the fixture test CI always runs and the differential test against the
 * server's own `inspect_session_recovery_status`.
 *
 * @example
 * ```ts
 * import { GUARD_CASES, writeGuardCase } from "./shrink_guard_cases.ts";
 * for (const c of GUARD_CASES) await writeGuardCase(store.sessionDir, c);
 * ```
 * @module
 */

import { join } from "node:path";
import { makeMessages, makeSidecar, type Message } from "./fixtures.ts";

/** What a case expects: restore the backup, or keep live by a guard. */
export type GuardVerdict =
  | "restore"
  | "clear_sentinel"
  | "post_clear_messages"
  | "manual_compression"
  | "shrink_generation";

/** One sidecar/backup pair. */
export interface GuardCase {
  /** The session id, also the case's name. */
  id: string;
  /** The live sidecar's fields (see makeSidecar), or raw text. */
  live: Record<string, unknown> | string;
  /** The backup's fields. */
  bak: Record<string, unknown>;
  expect: GuardVerdict;
  /**
   * Which server version is the oracle: `today` for a sidecar carrying a
   * field newer than the seed (the newer rule decides), `both` when the
   * seed's server agrees too.
   */
  oracle: "today" | "both" | "seed";
}

/** Two valid uuid4 hex strings. */
export const GEN_A = "3f2b8c1d9e0a4b7c8d1e2f3a4b5c6d7e";
export const GEN_B = "a1b2c3d4e5f64a1b9c2d3e4f5a6b7c8d";

/** Placeholders serialized as Python writes floats. */
export const FLOAT_ZERO = "\u0000float:0.0";
export const NEG_ZERO = "\u0000float:-0.0";

const FULL = makeMessages(6);
const CUT = FULL.slice(0, 2);

function marker(content: unknown, extra: Message = {}): Message {
  return { role: "user", content, timestamp: 1778458100, ...extra };
}

/** A cleared sidecar, exactly as /api/session/clear leaves it. */
const CLEARED = {
  messages: [],
  context_messages: [],
  truncation_watermark: FLOAT_ZERO,
  truncation_boundary: FLOAT_ZERO,
  pending_user_source: null,
  clear_generation: GEN_A,
};

/** A manual compression: visible transcript kept, context shortened. */
function compressed(extra: Record<string, unknown>): Record<string, unknown> {
  return {
    messages: CUT,
    context_messages: [FULL[5]],
    truncation_watermark: null,
    ...extra,
  };
}

/** A backup whose context holds `context` (the full history by default). */
function bakWith(context: unknown[] = FULL): Record<string, unknown> {
  return {
    messages: FULL,
    context_messages: context,
    truncation_watermark: null,
  };
}

function without(
  fields: Record<string, unknown>,
  key: string,
): Record<string, unknown> {
  const copy = { ...fields };
  delete copy[key];
  return copy;
}

const MANUAL = { compression_anchor_mode: "manual" };

/** The cases, each a session of one store. */
export const GUARD_CASES: GuardCase[] = [
  // No guard field at all: a plain loss, restored by both versions.
  {
    id: "g0_plain_loss",
    live: { messages: CUT },
    bak: { messages: FULL },
    expect: "restore",
    oracle: "both",
  },
  {
    id: "live_unparsable",
    live: '{"messages": [',
    bak: { messages: FULL },
    expect: "restore",
    oracle: "both",
  },
  {
    id: "live_is_list",
    live: "[]",
    bak: { messages: FULL },
    expect: "restore",
    oracle: "both",
  },
  // 1. Clear sentinel.
  {
    id: "clear_exact",
    live: CLEARED,
    bak: bakWith(),
    expect: "clear_sentinel",
    oracle: "today",
  },
  {
    id: "clear_int_zero",
    live: { ...CLEARED, truncation_watermark: 0, truncation_boundary: 0 },
    bak: bakWith(),
    expect: "clear_sentinel",
    oracle: "today",
  },
  {
    id: "clear_neg_zero",
    live: { ...CLEARED, truncation_boundary: NEG_ZERO },
    bak: bakWith(),
    expect: "clear_sentinel",
    oracle: "today",
  },
  {
    id: "clear_false_zero",
    live: { ...CLEARED, truncation_watermark: false },
    bak: bakWith(),
    expect: "clear_sentinel",
    oracle: "today",
  },
  {
    id: "clear_same_generation",
    live: CLEARED,
    bak: { ...bakWith(), clear_generation: GEN_A },
    expect: "restore",
    oracle: "today",
  },
  {
    id: "clear_other_generation",
    live: CLEARED,
    bak: { ...bakWith(), clear_generation: GEN_B },
    expect: "clear_sentinel",
    oracle: "today",
  },
  {
    id: "clear_no_source_key",
    live: without(CLEARED, "pending_user_source"),
    bak: bakWith(),
    expect: "restore",
    oracle: "today",
  },
  {
    id: "clear_no_context_key",
    live: without(CLEARED, "context_messages"),
    bak: bakWith(),
    expect: "restore",
    oracle: "today",
  },
  {
    id: "clear_empty_generation",
    live: { ...CLEARED, clear_generation: "" },
    bak: bakWith(),
    expect: "restore",
    oracle: "today",
  },
  {
    id: "clear_watermark_null",
    live: { ...CLEARED, truncation_watermark: null },
    bak: bakWith(),
    expect: "restore",
    oracle: "today",
  },
  // 2. Post-clear messages.
  {
    id: "post_clear",
    live: { ...CLEARED, messages: CUT, context_messages: CUT },
    bak: bakWith(),
    expect: "post_clear_messages",
    oracle: "today",
  },
  {
    id: "post_clear_no_boundary",
    live: without(
      { ...CLEARED, messages: CUT, context_messages: CUT },
      "truncation_boundary",
    ),
    bak: bakWith(),
    expect: "restore",
    oracle: "today",
  },
  {
    id: "post_clear_watermark_set",
    live: {
      ...CLEARED,
      messages: CUT,
      context_messages: CUT,
      truncation_watermark: 1778458001,
    },
    bak: bakWith(),
    expect: "restore",
    oracle: "today",
  },
  // 3. Manual compression: the mode, in any case and padding.
  {
    id: "manual_mode",
    live: compressed(MANUAL),
    bak: bakWith(),
    expect: "manual_compression",
    oracle: "today",
  },
  {
    id: "manual_mode_upper",
    live: compressed({ compression_anchor_mode: "MANUAL" }),
    bak: bakWith(),
    expect: "manual_compression",
    oracle: "today",
  },
  {
    id: "manual_mode_padded",
    live: compressed({ compression_anchor_mode: " Manual\n" }),
    bak: bakWith(),
    expect: "manual_compression",
    oracle: "today",
  },
  {
    id: "manual_mode_py_space",
    live: compressed({ compression_anchor_mode: "\x1cmanual\x85" }),
    bak: bakWith(),
    expect: "manual_compression",
    oracle: "today",
  },
  {
    id: "manual_mode_bom",
    live: compressed({ compression_anchor_mode: "\ufeffmanual" }),
    bak: bakWith(),
    expect: "restore",
    oracle: "today",
  },
  {
    id: "manual_mode_auto",
    live: compressed({ compression_anchor_mode: "auto" }),
    bak: bakWith(),
    expect: "restore",
    oracle: "today",
  },
  // ... the watermark clause: 0.0 counts as set.
  {
    id: "watermark_zero",
    live: compressed({ truncation_watermark: FLOAT_ZERO }),
    bak: bakWith(),
    expect: "manual_compression",
    oracle: "today",
  },
  {
    id: "watermark_set",
    live: compressed({ truncation_watermark: 1778458001.5 }),
    bak: bakWith(),
    expect: "manual_compression",
    oracle: "today",
  },
  {
    id: "watermark_zero_context_not_shorter",
    live: {
      messages: CUT,
      context_messages: CUT,
      truncation_watermark: FLOAT_ZERO,
    },
    bak: bakWith(),
    expect: "restore",
    oracle: "today",
  },
  // ... the anchor clause: a non-blank summary and a non-null key.
  {
    id: "anchor_key_zero",
    live: compressed({
      compression_anchor_summary: "compressed 4 turns",
      compression_anchor_message_key: 0,
    }),
    bak: bakWith(),
    expect: "manual_compression",
    oracle: "today",
  },
  {
    id: "anchor_summary_number",
    live: compressed({
      compression_anchor_summary: 5,
      compression_anchor_message_key: "k",
    }),
    bak: bakWith(),
    expect: "manual_compression",
    oracle: "today",
  },
  {
    id: "anchor_summary_blank",
    live: compressed({
      compression_anchor_summary: " \t",
      compression_anchor_message_key: "k",
    }),
    bak: bakWith(),
    expect: "restore",
    oracle: "today",
  },
  {
    id: "anchor_key_null",
    live: compressed({
      compression_anchor_summary: "s",
      compression_anchor_message_key: null,
    }),
    bak: bakWith(),
    expect: "restore",
    oracle: "today",
  },
  // A seed-era sidecar (no key the seed never wrote): the seed's rule, restore.
  {
    id: "anchor_seed_era",
    live: without(
      compressed({
        compression_anchor_summary: "s",
        compression_anchor_message_key: "k",
      }),
      "truncation_watermark",
    ),
    bak: { messages: FULL, context_messages: FULL },
    expect: "restore",
    oracle: "seed",
  },
  // ... and only when the backup predates the compression.
  {
    id: "bak_context_not_longer",
    live: compressed(MANUAL),
    bak: bakWith([FULL[5]]),
    expect: "restore",
    oracle: "today",
  },
  {
    id: "bak_context_not_list",
    live: compressed(MANUAL),
    bak: { messages: FULL, context_messages: null },
    expect: "restore",
    oracle: "today",
  },
  {
    id: "live_context_not_list",
    live: { messages: CUT, context_messages: "x", ...MANUAL },
    bak: bakWith(),
    expect: "manual_compression",
    oracle: "today",
  },
  // The compaction marker in every form the server recognises.
  {
    id: "marker_bracketed",
    live: compressed(MANUAL),
    bak: bakWith([marker("[Context compaction] summary"), ...FULL]),
    expect: "restore",
    oracle: "today",
  },
  {
    id: "marker_padded_upper",
    live: compressed(MANUAL),
    bak: bakWith([...FULL, marker(" \n[CONTEXT COMPACTION] summary")]),
    expect: "restore",
    oracle: "today",
  },
  {
    id: "marker_py_space",
    live: compressed(MANUAL),
    bak: bakWith([...FULL, marker("\x1c[context compaction]")]),
    expect: "restore",
    oracle: "today",
  },
  {
    id: "marker_text_part",
    live: compressed(MANUAL),
    bak: bakWith([
      ...FULL,
      marker([{ type: "text", text: "[context compaction] s" }]),
    ]),
    expect: "restore",
    oracle: "today",
  },
  {
    id: "marker_input_text_part",
    live: compressed(MANUAL),
    bak: bakWith([
      ...FULL,
      marker([{ type: "input_text", text: "[context compaction] s" }]),
    ]),
    expect: "restore",
    oracle: "today",
  },
  {
    id: "marker_output_text_part",
    live: compressed(MANUAL),
    bak: bakWith([
      ...FULL,
      marker([{ type: "output_text", text: "[context compaction] s" }]),
    ]),
    expect: "restore",
    oracle: "today",
  },
  {
    id: "marker_assistant",
    live: compressed(MANUAL),
    bak: bakWith([
      ...FULL,
      marker("[context compaction] s", { role: "assistant" }),
    ]),
    expect: "restore",
    oracle: "today",
  },
  {
    id: "marker_unbracketed_summary",
    live: compressed(MANUAL),
    bak: bakWith([
      ...FULL,
      marker("Context compaction: s", { _compressed_summary: true }),
    ]),
    expect: "restore",
    oracle: "today",
  },
  // Near misses: not a marker, so the backup predates the compression.
  {
    id: "nomarker_unbracketed_plain",
    live: compressed(MANUAL),
    bak: bakWith([...FULL, marker("Context compaction: s")]),
    expect: "manual_compression",
    oracle: "today",
  },
  {
    id: "nomarker_unbracketed_falsy_flag",
    live: compressed(MANUAL),
    bak: bakWith([
      ...FULL,
      marker("context compaction", { _compressed_summary: 0 }),
    ]),
    expect: "manual_compression",
    oracle: "today",
  },
  {
    id: "nomarker_tool",
    live: compressed(MANUAL),
    bak: bakWith([...FULL, marker("[context compaction]", { role: "tool" })]),
    expect: "manual_compression",
    oracle: "today",
  },
  {
    id: "nomarker_no_role",
    live: compressed(MANUAL),
    bak: bakWith([...FULL, marker("[context compaction]", { role: "" })]),
    expect: "manual_compression",
    oracle: "today",
  },
  {
    id: "nomarker_image_part",
    live: compressed(MANUAL),
    bak: bakWith([
      ...FULL,
      marker([{ type: "image", text: "[context compaction]" }]),
    ]),
    expect: "manual_compression",
    oracle: "today",
  },
  {
    id: "nomarker_content_fallback",
    live: compressed(MANUAL),
    bak: bakWith([
      ...FULL,
      marker([{ type: "text", content: "[context compaction]" }]),
    ]),
    expect: "manual_compression",
    oracle: "today",
  },
  {
    id: "nomarker_task_list",
    live: compressed(MANUAL),
    bak: bakWith([
      ...FULL,
      marker(
        "[Your active task list was preserved across context compression] x",
      ),
    ]),
    expect: "manual_compression",
    oracle: "today",
  },
  {
    id: "nomarker_session_arc",
    live: compressed(MANUAL),
    bak: bakWith([...FULL, marker("[Session Arc Summary] x")]),
    expect: "manual_compression",
    oracle: "today",
  },
  {
    id: "marker_after_unhashable",
    live: compressed(MANUAL),
    bak: bakWith([
      marker("[context compaction]"),
      marker([{ type: ["text"], text: "x" }]),
      ...FULL,
    ]),
    expect: "restore",
    oracle: "today",
  },
  {
    id: "nomarker_unhashable_first",
    live: compressed(MANUAL),
    bak: bakWith([
      marker([{ type: { a: 1 }, text: "x" }]),
      marker("[context compaction]"),
      ...FULL,
    ]),
    expect: "manual_compression",
    oracle: "today",
  },
  // 4. Shrink generation.
  {
    id: "gen_bak_lacks",
    live: { messages: CUT, intentional_shrink_generation: GEN_A },
    bak: { messages: FULL },
    expect: "shrink_generation",
    oracle: "today",
  },
  {
    id: "gen_bak_null",
    live: { messages: CUT, intentional_shrink_generation: GEN_A },
    bak: { messages: FULL, intentional_shrink_generation: null },
    expect: "shrink_generation",
    oracle: "today",
  },
  {
    id: "gen_bak_older",
    live: { messages: CUT, intentional_shrink_generation: GEN_A },
    bak: { messages: FULL, intentional_shrink_generation: GEN_B },
    expect: "shrink_generation",
    oracle: "today",
  },
  {
    id: "gen_bak_same",
    live: { messages: CUT, intentional_shrink_generation: GEN_A },
    bak: { messages: FULL, intentional_shrink_generation: GEN_A },
    expect: "restore",
    oracle: "today",
  },
  {
    id: "gen_bak_malformed",
    live: { messages: CUT, intentional_shrink_generation: GEN_A },
    bak: { messages: FULL, intentional_shrink_generation: "x" },
    expect: "restore",
    oracle: "today",
  },
  {
    id: "gen_live_upper",
    live: { messages: CUT, intentional_shrink_generation: GEN_A.toUpperCase() },
    bak: { messages: FULL },
    expect: "restore",
    oracle: "today",
  },
  {
    id: "gen_live_v1",
    live: {
      messages: CUT,
      intentional_shrink_generation: "3f2b8c1d9e0a1b7c8d1e2f3a4b5c6d7e",
    },
    bak: { messages: FULL },
    expect: "restore",
    oracle: "today",
  },
];

/** Serializes as Python's json.dumps(indent=2) would, floats included. */
export function pythonText(value: unknown): string {
  return JSON.stringify(value, null, 2)
    .replaceAll(JSON.stringify(FLOAT_ZERO), "0.0")
    .replaceAll(JSON.stringify(NEG_ZERO), "-0.0");
}

/**
 * Writes a case's `<id>.json` and `<id>.json.bak` into `sessionDir`.
 *
 * @example
 * ```ts
 * await writeGuardCase(store.sessionDir, GUARD_CASES[0]);
 * ```
 */
export async function writeGuardCase(
  sessionDir: string,
  guardCase: GuardCase,
): Promise<void> {
  const { id, live, bak } = guardCase;
  const liveText = typeof live === "string"
    ? live
    : pythonText(makeSidecar(id, live));
  await Deno.writeTextFile(join(sessionDir, `${id}.json`), liveText);
  await Deno.writeTextFile(
    join(sessionDir, `${id}.json.bak`),
    pythonText(makeSidecar(id, bak)),
  );
}
