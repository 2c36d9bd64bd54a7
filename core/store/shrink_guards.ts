/**
 * Intentional shrinks (STORE_FORMAT.md §4): when a `.bak` with more messages
 * than its live file must NOT be restored, because the user cleared or
 * compressed the conversation on purpose. Each guard fails open: the caller
 * only asks when both files parsed as objects.
 *
 * @example
 * ```ts
 * import { intentionalShrinkGuard } from "./shrink_guards.ts";
 * import { summarizeSidecar } from "./sidecar_summary.ts";
 * const live = summarizeSidecar({ messages: [], intentional_shrink_generation: "0123456789ab4def8123456789abcdef" });
 * const bak = summarizeSidecar({ messages: [{ role: "user", content: "x" }] });
 * intentionalShrinkGuard(live, bak); // "shrink_generation"
 * ```
 * @module
 */

import { pyStrip, pyTruthy, type SidecarSummary } from "./sidecar_summary.ts";
import { SEED_KEYS } from "./sidecar_era.ts";

/**
 * The name of the guard that holds.
 *
 * @example
 * ```ts
 * import { type ShrinkGuard, intentionalShrinkGuard } from "./shrink_guards.ts";
 * import type { SidecarSummary } from "./sidecar_summary.ts";
 * declare const live: SidecarSummary;
 * declare const bak: SidecarSummary;
 * const guard: ShrinkGuard | null = intentionalShrinkGuard(live, bak);
 * if (guard) console.log(`the user shrank it on purpose (${guard})`);
 * ```
 */
export type ShrinkGuard =
  | "clear_sentinel"
  | "post_clear_messages"
  | "manual_compression"
  | "shrink_generation";

const UUID4_HEX = /^[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}$/;

/** Keys a cleared session holds, with the value each must equal in Python. */
const CLEARED_STATE: [string, "null" | "empty_list" | "zero"][] = [
  ["truncation_watermark", "zero"],
  ["truncation_boundary", "zero"],
  ["active_stream_id", "null"],
  ["pending_user_message", "null"],
  ["pending_attachments", "empty_list"],
  ["pending_started_at", "null"],
  ["pending_user_source", "null"],
];

/**
 * Returns the guard that forbids restoring `bak` over `live`, or null when
 * restoring is allowed. The guards are tried in the server's order.
 *
 * @example
 * ```ts
 * import { intentionalShrinkGuard } from "./shrink_guards.ts";
 * import type { SidecarSummary } from "./sidecar_summary.ts";
 * declare const live: SidecarSummary;
 * declare const bak: SidecarSummary;
 * intentionalShrinkGuard(live, bak) === null; // restore allowed
 * ```
 */
export function intentionalShrinkGuard(
  live: SidecarSummary,
  bak: SidecarSummary,
): ShrinkGuard | null {
  if (live.shape !== "object" || bak.shape !== "object") return null;
  if (isClearSentinel(live, bak)) return "clear_sentinel";
  if (isPostClear(live, bak)) return "post_clear_messages";
  if (isManualCompression(live, bak)) return "manual_compression";
  if (isNewShrinkGeneration(live, bak)) return "shrink_generation";
  return null;
}

function newClearGeneration(live: SidecarSummary, bak: SidecarSummary) {
  const generation = live.meta.clear_generation;
  return typeof generation === "string" && generation !== "" &&
    generation !== bak.meta.clear_generation;
}

/** Python's `value == 0.0`: any numeric zero, and `False`. */
function isPyZero(value: unknown): boolean {
  return value === 0 || value === false;
}

function isClearSentinel(live: SidecarSummary, bak: SidecarSummary): boolean {
  if (!newClearGeneration(live, bak)) return false;
  if (live.messageCount !== 0 || live.contextMessageCount !== 0) return false;
  return CLEARED_STATE.every(([key, expected]) => {
    if (!(key in live.meta)) return false;
    const value = live.meta[key];
    if (expected === "null") return value === null;
    if (expected === "zero") return isPyZero(value);
    return Array.isArray(value) && value.length === 0;
  });
}

function isPostClear(live: SidecarSummary, bak: SidecarSummary): boolean {
  return newClearGeneration(live, bak) && live.messageCount > 0 &&
    isPyZero(live.meta.truncation_watermark) &&
    isPyZero(live.meta.truncation_boundary);
}

function isManualCompression(
  live: SidecarSummary,
  bak: SidecarSummary,
): boolean {
  const meta = live.meta;
  const liveContext = live.contextMessageCount;
  const contextShorter = liveContext !== null && live.messageCount >= 0 &&
    liveContext < live.messageCount;
  const mode = meta.compression_anchor_mode;
  const recorded =
    (typeof mode === "string" && pyStrip(mode).toLowerCase() === "manual") ||
    (contextShorter && isNonBlank(meta.compression_anchor_summary) &&
      isNotNone(meta.compression_anchor_message_key) &&
      live.keys.some((key) => !SEED_KEYS.has(key))) ||
    (contextShorter && isNotNone(meta.truncation_watermark));
  if (!recorded) return false;
  // The backup predates the compression only if its context still holds the
  // uncompressed history: no compaction marker, and longer than live's (a
  // context that is not a list counts as empty on both sides).
  return !bak.contextHasCompactionMarker &&
    (bak.contextMessageCount ?? 0) > (liveContext ?? 0);
}

function isNewShrinkGeneration(
  live: SidecarSummary,
  bak: SidecarSummary,
): boolean {
  const current = live.meta.intentional_shrink_generation;
  if (typeof current !== "string" || !UUID4_HEX.test(current)) return false;
  const previous = bak.meta.intentional_shrink_generation;
  if (previous === undefined || previous === null) return true;
  return typeof previous === "string" && UUID4_HEX.test(previous) &&
    previous !== current;
}

/** Python's `str(value or '').strip()` is non-empty. */
function isNonBlank(value: unknown): boolean {
  if (!pyTruthy(value)) return false;
  // str() of a truthy number, list or object is never blank.
  return typeof value !== "string" || pyStrip(value) !== "";
}

/** Python's `value is not None` for a key read with `dict.get`. */
function isNotNone(value: unknown): boolean {
  return value !== null && value !== undefined;
}
