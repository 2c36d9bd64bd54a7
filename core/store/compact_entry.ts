/**
 * The index entry of a session, as today's server's `Session.compact()`
 * builds it (STORE_FORMAT.md §2), and the index as `_write_session_index`
 * sorts it.
 * Built from the scan's summary, so rebuilding the index reads nothing twice.
 *
 * @example
 * ```ts
 * import { compactEntry } from "./compact_entry.ts";
 * import { summarizeSidecar } from "./sidecar_summary.ts";
 * const entry = compactEntry("abc", summarizeSidecar({ session_id: "abc", title: "Hi", messages: [] }), 0);
 * entry.message_count; // 0
 * ```
 * @module
 */

import {
  isPlainObject,
  pyInt,
  pyStrip,
  pyTruthy,
  type SidecarSummary,
  toTimestamp,
} from "./sidecar_summary.ts";

export { pyTruthy };

/**
 * Whether a sidecar would be indexed under an id other than its file
 * name's: the server's rebuild lists it under a truthy `session_id` inside
 * it. Such an entry opens another session, or none, so hermes-fsck's
 * rebuild leaves the sidecar out and the index check does not ask for it
 * (session_id_mismatch or sidecar_missing_keys reports it, unsafe).
 *
 * @example
 * ```ts
 * import { listedUnderOtherId } from "./compact_entry.ts";
 * import { summarizeSidecar } from "./sidecar_summary.ts";
 * listedUnderOtherId("abc", summarizeSidecar({ session_id: "xyz" })); // true
 * listedUnderOtherId("abc", summarizeSidecar({ title: "no id" })); // false
 * ```
 */
export function listedUnderOtherId(
  fileSessionId: string,
  summary: SidecarSummary,
): boolean {
  const inner = summary.meta.session_id;
  return pyTruthy(inner) && inner !== fileSessionId;
}

/**
 * Whether a rebuilt index lists this parsed sidecar: a JSON object the
 * server's `Session(**data)` loads, under its own file name's id. Any
 * other is left out (and reported by a check of its own, unsafe), so the
 * index check does not ask the rebuild for it.
 *
 * @example
 * ```ts
 * import { indexable } from "./compact_entry.ts";
 * import { summarizeSidecar } from "./sidecar_summary.ts";
 * indexable("abc", summarizeSidecar({ session_id: "abc", workspace: 5 })); // false
 * ```
 */
export function indexable(
  fileSessionId: string,
  summary: SidecarSummary,
): boolean {
  return summary.shape === "object" && loadsAsSession(summary.meta) &&
    !listedUnderOtherId(fileSessionId, summary);
}

/**
 * Whether the server's `Session(**data)` takes these keys without raising:
 * `workspace` absent or a string, `created_workspace`, `worktree_path` and
 * `worktree_repo_root` empty or strings (the server makes paths of them).
 * A sidecar it cannot load is left out of its rebuild.
 */
function loadsAsSession(meta: Record<string, unknown>): boolean {
  if ("workspace" in meta && typeof meta.workspace !== "string") return false;
  for (
    const key of ["created_workspace", "worktree_path", "worktree_repo_root"]
  ) {
    if (pyTruthy(meta[key]) && typeof meta[key] !== "string") return false;
  }
  return true;
}

/**
 * The compact index entry of one sidecar, as today's server's
 * `Session.compact()` writes it (exp-v0.52.262): every field in its order,
 * each defaulted and normalized as the server's `Session` does on load.
 * `nowSeconds` stands in for the server's `time.time()` where a sidecar
 * lacks `created_at`/`updated_at`. Paths (`workspace`, `worktree_*`) are
 * kept as the sidecar has them, where the server resolves them on its own
 * host (the server wrote them resolved), and a missing `workspace` or
 * `model` is null where the server puts its configured default.
 *
 * @example
 * ```ts
 * import { compactEntry } from "./compact_entry.ts";
 * import type { SidecarSummary } from "./sidecar_summary.ts";
 * declare const summary: SidecarSummary;
 * compactEntry("abc", summary, Date.now() / 1000).last_message_at;
 * ```
 */
export function compactEntry(
  fileSessionId: string,
  summary: SidecarSummary,
  nowSeconds: number,
): Record<string, unknown> {
  const m = summary.meta;
  const get = (key: string) => (key in m ? m[key] : null);
  const or = (key: string, fallback: unknown) =>
    pyTruthy(m[key]) ? m[key] : fallback;
  const bool = (key: string) => pyTruthy(m[key]);
  const dictOr = (key: string, fallback: unknown) =>
    isPlainObject(m[key]) ? m[key] : fallback;
  const stripped = (key: string) =>
    pyTruthy(m[key]) ? pyStrip(strOf(m[key])) : null;
  const pending = get("pending_user_message");
  const hasPending = pyTruthy(pending);
  const updatedAt = or("updated_at", nowSeconds);
  let messageCount = persistedMessageCount(m) ??
    Math.max(summary.messageCount, 0);
  if (hasPending) messageCount = Math.max(messageCount, 1);
  let lastMessageAt: unknown = summary.lastMessageAt || updatedAt;
  if (hasPending && pyTruthy(m.pending_started_at)) {
    lastMessageAt = m.pending_started_at;
  }
  const provider = m.model_provider;
  const workspace = "workspace" in m ? m.workspace : null;
  const recoverySource = stripped("compression_recovery_source_session_id");
  const recoveryAction = stripped("compression_recovery_action");
  const postCompression = nonNegativeInt(
    get("post_compression_context_tokens_estimate"),
  );
  return {
    session_id: or("session_id", fileSessionId),
    title: "title" in m ? m.title : "Untitled",
    workspace,
    model: get("model"),
    model_provider: pyTruthy(provider)
      ? pyStrip(strOf(provider)).toLowerCase()
      : null,
    message_count: messageCount,
    created_at: or("created_at", nowSeconds),
    updated_at: updatedAt,
    last_message_at: lastMessageAt,
    pinned: bool("pinned"),
    archived: bool("archived"),
    project_id: or("project_id", null),
    profile: get("profile"),
    input_tokens: or("input_tokens", 0),
    output_tokens: or("output_tokens", 0),
    estimated_cost: get("estimated_cost"),
    cache_read_tokens: or("cache_read_tokens", 0),
    cache_write_tokens: or("cache_write_tokens", 0),
    cache_hit_percent: cacheHitPercent(
      or("cache_read_tokens", 0),
      or("input_tokens", 0),
    ),
    personality: get("personality"),
    compression_anchor_visible_idx: get("compression_anchor_visible_idx"),
    compression_anchor_message_key: get("compression_anchor_message_key"),
    compression_anchor_summary: get("compression_anchor_summary"),
    pre_compression_snapshot: bool("pre_compression_snapshot"),
    context_engine: get("context_engine"),
    compression_anchor_engine: get("compression_anchor_engine"),
    compression_anchor_mode: get("compression_anchor_mode"),
    compression_anchor_details: dictOr("compression_anchor_details", {}),
    context_engine_state: dictOr("context_engine_state", {}),
    context_length: get("context_length"),
    threshold_tokens: get("threshold_tokens"),
    last_prompt_tokens: get("last_prompt_tokens"),
    post_compression_context_tokens_estimate: postCompression
      ? postCompression
      : null,
    compression_recovery: dictOr("compression_recovery", {}),
    recommended_recovery_action: get("recommended_recovery_action"),
    gateway_routing: dictOr("gateway_routing", null),
    gateway_routing_history: Array.isArray(m.gateway_routing_history)
      ? m.gateway_routing_history
      : [],
    manual_title: bool("manual_title"),
    ...(pyTruthy(m.parent_session_id)
      ? { parent_session_id: m.parent_session_id }
      : {}),
    created_workspace: pyTruthy(m.created_workspace)
      ? m.created_workspace
      : workspace,
    ...(pyTruthy(recoverySource) || pyTruthy(recoveryAction)
      ? {
        compression_recovery_source_session_id: recoverySource,
        compression_recovery_action: recoveryAction,
      }
      : {}),
    ...(pyTruthy(m.worktree_path)
      ? {
        worktree_path: m.worktree_path,
        worktree_branch: pyTruthy(m.worktree_branch)
          ? strOf(m.worktree_branch)
          : null,
        worktree_repo_root: or("worktree_repo_root", null),
        worktree_created_at: get("worktree_created_at"),
      }
      : {}),
    user_message_count: summary.userMessageCount,
    active_stream_id: get("active_stream_id"),
    pending_user_message: pending,
    has_pending_user_message: hasPending,
    is_cli_session: bool("is_cli_session"),
    source_tag: get("source_tag"),
    raw_source: get("raw_source"),
    session_source: get("session_source"),
    source_label: get("source_label"),
    read_only: bool("read_only"),
    enabled_toolsets: get("enabled_toolsets"),
    composer_draft: dictOr("composer_draft", {}),
    process_wakeup_pause: dictOr("process_wakeup_pause", {}),
    share_token: stripped("share_token"),
    share_created_at: get("share_created_at"),
    is_streaming: false,
  };
}

/**
 * The sidecar's persisted `message_count` (since v0.51.139) as the server
 * reads it on load: Python's `int()` of it when that is at least 0, else
 * null, and then the server counts `messages`.
 *
 * @example
 * ```ts
 * import { persistedMessageCount } from "./compact_entry.ts";
 * persistedMessageCount({ message_count: "4" }); // 4
 * persistedMessageCount({ message_count: -1 }); // null
 * ```
 */
export function persistedMessageCount(
  meta: Record<string, unknown>,
): number | null {
  if (meta.message_count === null || meta.message_count === undefined) {
    return null;
  }
  return nonNegativeInt(meta.message_count);
}

/** Python's `int(x)` when it is at least 0; null where it raises or is negative. */
function nonNegativeInt(value: unknown): number | null {
  const parsed = pyInt(value);
  return parsed !== null && parsed >= 0 ? parsed : null;
}

/**
 * The server's `prompt_cache_hit_percent`: cache reads over the prompt
 * tokens, in percent, rounded half to even as Python's `round()`, at most
 * 100; null when either is not positive.
 */
function cacheHitPercent(cacheRead: unknown, prompt: unknown): number | null {
  const read = toIntOrZero(cacheRead);
  const total = toIntOrZero(prompt);
  if (read <= 0 || total <= 0) return null;
  return Math.min(100, roundHalfEven((read / total) * 100));
}

/** `int(x or 0)`, 0 where it raises. */
function toIntOrZero(value: unknown): number {
  return pyTruthy(value) ? pyInt(value) ?? 0 : 0;
}

function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * `str()` of a value the sidecar holds, without recursing: String() of a
 * list nested 100,000 deep overflows the stack, so lists and objects
 * become their JSON.
 */
function strOf(value: unknown): string {
  return typeof value === "object" && value !== null
    ? JSON.stringify(value)
    : String(value);
}

/**
 * Sorts index entries as the server does: by `updated_at`, newest first,
 * keeping the given order among equals. Values that are not numbers sort
 * as 0.
 *
 * @example
 * ```ts
 * import { sortIndexEntries } from "./compact_entry.ts";
 * sortIndexEntries([{ updated_at: 1 }, { updated_at: 2 }]); // [{updated_at: 2}, {updated_at: 1}]
 * ```
 */
export function sortIndexEntries<T extends Record<string, unknown>>(
  entries: T[],
): T[] {
  const key = (e: T) => toTimestamp(e.updated_at) ?? 0;
  return entries
    .map((entry, i) => ({ entry, i, k: key(entry) }))
    .sort((a, b) => b.k - a.k || a.i - b.i)
    .map((x) => x.entry);
}
