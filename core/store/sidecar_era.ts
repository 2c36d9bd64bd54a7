/**
 * Which server era wrote a sidecar, as far as its keys tell: the seed-era
 * server (G0, f6ce79185c and before) wrote a fixed set of keys, and every
 * later one writes at least one more (`read_only` since v0.51.58, and all
 * metadata keys on each save). A repair that must act as the sidecar's own
 * server would (closing a stale turn) uses the seed's rules only for a
 * sidecar no later server touched.
 *
 * @example
 * ```ts
 * import { isSeedShaped } from "./sidecar_era.ts";
 * isSeedShaped({ session_id: "a", messages: [] }, "a"); // true
 * isSeedShaped({ session_id: "a", read_only: false, messages: [] }, "a"); // false
 * ```
 * @module
 */

/**
 * Every top-level key the seed's server (f6ce79185c, G0) writes. A sidecar
 * with a key outside this set was written by a later server.
 *
 * @example
 * ```ts
 * import { SEED_KEYS } from "./sidecar_era.ts";
 * SEED_KEYS.has("read_only"); // false: since v0.51.58
 * ```
 */
export const SEED_KEYS: ReadonlySet<string> = new Set([
  "session_id",
  "title",
  "workspace",
  "model",
  "model_provider",
  "created_at",
  "updated_at",
  "pinned",
  "archived",
  "project_id",
  "profile",
  "input_tokens",
  "output_tokens",
  "estimated_cost",
  "personality",
  "active_stream_id",
  "pending_user_message",
  "pending_attachments",
  "pending_started_at",
  "compression_anchor_visible_idx",
  "compression_anchor_message_key",
  "compression_anchor_summary",
  "context_length",
  "threshold_tokens",
  "last_prompt_tokens",
  "gateway_routing",
  "gateway_routing_history",
  "llm_title_generated",
  "parent_session_id",
  "worktree_path",
  "worktree_branch",
  "worktree_repo_root",
  "worktree_created_at",
  "is_cli_session",
  "source_tag",
  "raw_source",
  "session_source",
  "source_label",
  "enabled_toolsets",
  "composer_draft",
  "messages",
  "tool_calls",
  "context_messages",
]);

/** The seed-era id rule: only these ids were loaded and repaired. */
const SEED_ID = /^[0-9a-z_]+$/;

/**
 * True when the seed-era server could have written this sidecar and would
 * have repaired it: every key is one it wrote, and the id passes its
 * narrower rule (`[0-9a-z_]`; other ids only later servers load).
 *
 * @example
 * ```ts
 * import { isSeedShaped } from "./sidecar_era.ts";
 * isSeedShaped({ messages: [] }, "Api-1"); // false
 * ```
 */
export function isSeedShaped(
  doc: Record<string, unknown>,
  sessionId: string,
): boolean {
  if (!SEED_ID.test(sessionId)) return false;
  return Object.keys(doc).every((key) => SEED_KEYS.has(key));
}
