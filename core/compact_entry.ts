/**
 * The index entry of a session, as the server's `Session.compact()` builds
 * it (STORE_FORMAT.md §2), and the index as `_write_session_index` sorts it.
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
  pyTruthy,
  type SidecarSummary,
  toTimestamp,
} from "./sidecar_summary.ts";

export { pyTruthy };

/**
 * The compact index entry of one sidecar. `nowSeconds` stands in for the
 * server's `time.time()` where a sidecar lacks `created_at`/`updated_at`.
 *
 * @example
 * ```ts
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
  const pending = get("pending_user_message");
  const hasPending = pyTruthy(pending);
  const updatedAt = or("updated_at", nowSeconds);
  let messageCount = Math.max(summary.messageCount, 0);
  if (hasPending) messageCount = Math.max(messageCount, 1);
  let lastMessageAt: unknown = summary.lastMessageAt || updatedAt;
  if (hasPending && pyTruthy(m.pending_started_at)) {
    lastMessageAt = m.pending_started_at;
  }
  const provider = m.model_provider;
  const worktreePath = m.worktree_path;
  const parent = m.parent_session_id;
  return {
    session_id: or("session_id", fileSessionId),
    title: "title" in m ? m.title : "Untitled",
    workspace: get("workspace"),
    model: get("model"),
    model_provider: pyTruthy(provider)
      ? strOf(provider).trim().toLowerCase()
      : null,
    message_count: messageCount,
    created_at: or("created_at", nowSeconds),
    updated_at: updatedAt,
    last_message_at: lastMessageAt,
    pinned: pyTruthy(m.pinned),
    archived: pyTruthy(m.archived),
    project_id: or("project_id", null),
    profile: get("profile"),
    input_tokens: or("input_tokens", 0),
    output_tokens: or("output_tokens", 0),
    estimated_cost: get("estimated_cost"),
    personality: get("personality"),
    compression_anchor_visible_idx: get("compression_anchor_visible_idx"),
    compression_anchor_message_key: get("compression_anchor_message_key"),
    compression_anchor_summary: get("compression_anchor_summary"),
    context_length: get("context_length"),
    threshold_tokens: get("threshold_tokens"),
    last_prompt_tokens: get("last_prompt_tokens"),
    gateway_routing: isPlainObject(m.gateway_routing)
      ? m.gateway_routing
      : null,
    gateway_routing_history: Array.isArray(m.gateway_routing_history)
      ? m.gateway_routing_history
      : [],
    ...(pyTruthy(parent) ? { parent_session_id: parent } : {}),
    ...(pyTruthy(worktreePath)
      ? {
        worktree_path: worktreePath,
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
    is_cli_session: pyTruthy(m.is_cli_session),
    source_tag: get("source_tag"),
    raw_source: get("raw_source"),
    session_source: get("session_source"),
    source_label: get("source_label"),
    read_only: pyTruthy(m.read_only),
    enabled_toolsets: get("enabled_toolsets"),
    composer_draft: isPlainObject(m.composer_draft) ? m.composer_draft : {},
    is_streaming: false,
  };
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
