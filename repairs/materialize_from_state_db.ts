/**
 * `materialize_from_state_db`: creates a missing `<sid>.json` from its
 * state.db row and messages, with the server's own field mapping
 * (`_state_db_row_to_sidecar`), keeping workspace, worktree fields and
 * `message_count`. Create-or-fail: a sidecar that appears meanwhile wins.
 * The id is validated before it becomes a path.
 *
 * @example
 * ```ts
 * import { materializeFromStateDb } from "./materialize_from_state_db.ts";
 * import type { Finding } from "../core/report/finding.ts";
 * import type { RepairContext } from "../core/plugins/repair.ts";
 * declare const finding: Finding;
 * declare const context: RepairContext;
 * const plan = await materializeFromStateDb.plan([finding], context);
 * ```
 * @module
 */

import { resolve } from "../core/io/path.ts";
import { defineRepair } from "../core/plugins/repair.ts";
import { isValidSessionId } from "../core/store/session_id.ts";
import type {
  SqlValue,
  StateDbMessage,
  StateDbSessionRow,
} from "../core/state_db/state_db.ts";
import { deletion } from "../core/scan/store_facts.ts";
import {
  profileOfDb,
  stateDbOf,
  webuiRowFor,
} from "../core/state_db/profile_state_db.ts";
import { pyStrip } from "../core/store/sidecar_summary.ts";
import { sidecarName } from "../core/store/layout.ts";
import type { StoreSnapshot } from "../core/scan/snapshot.ts";

/** The `materialize_from_state_db` repair. */
export const materializeFromStateDb = defineRepair({
  id: "materialize_from_state_db",
  title: "Rebuild a lost sidecar from state.db",
  description:
    "Creates <sid>.json from the session's state.db row and messages, " +
    "never overwriting an existing file.",
  fixes: ["state_db_missing_sidecar"],
  scope: "finding",
  async plan([finding], context) {
    const id = finding.sessionId;
    if (!isValidSessionId(id)) return { skip: "the session id is not valid" };
    if (deletion(context.store, id) !== "not_deleted") {
      return {
        skip: deletion(context.store, id) === "deleted"
          ? "the session is in the delete tombstone"
          : "the delete tombstone cannot be read, so the session may have been deleted",
      };
    }
    const name = sidecarName(id);
    const current = await context.read(name);
    if (!current.ok) return { skip: `${name} ${current.problem}` };
    if (current.expect.exists) return { skip: `${name} exists now` };
    const built = sidecarFromStateDb(context.store, id);
    if ("skip" in built) return built;
    return {
      repair: "materialize_from_state_db",
      findingIds: [finding.id],
      sessionId: id,
      summary: `Create ${name} from state.db (${built.messages} messages).`,
      actions: [{
        op: "write",
        path: name,
        data: built.data,
        expect: { exists: false },
        note: `materialize ${name} from state.db`,
        sources: [built.source],
      }],
    };
  },
});

/**
 * The sidecar of session `id` as the server would rebuild it from the
 * state.db of its profile, as bytes, or why it cannot be: no readable
 * db, no row, no messages, or a message stored as a BLOB.
 *
 * @example
 * ```ts
 * import { sidecarFromStateDb } from "./materialize_from_state_db.ts";
 * import type { StoreSnapshot } from "../core/scan/store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * const built = sidecarFromStateDb(store, "abc");
 * if (!("skip" in built)) console.log(built.messages, built.source);
 * ```
 */
export function sidecarFromStateDb(
  store: StoreSnapshot,
  id: string,
):
  | { data: Uint8Array; messages: number; source: string }
  | { skip: string } {
  // From the db of the session's profile (core/state_db/profile_state_db.ts).
  const db = stateDbOf(store, store.sessions.get(id));
  if (db.status !== "ok") return { skip: "state.db is not readable" };
  const found = webuiRowFor(store, id);
  if (!found) return { skip: "state.db no longer has the row" };
  const messages = db.messagesFor(found.row);
  if (messages.length === 0) {
    return { skip: "state.db has no messages for it any more" };
  }
  const blob = messages.find((m) =>
    m.content instanceof Uint8Array || m.role instanceof Uint8Array
  );
  if (blob) {
    return {
      skip: `state.db ${db.path} holds a message of ${id} as a BLOB, ` +
        `which cannot be turned into text safely; rebuild ${
          sidecarName(id)
        } by hand`,
    };
  }
  const payload = stateDbRowToSidecar(
    found.row,
    messages,
    profileOfDb(store, db),
  );
  return {
    data: new TextEncoder().encode(JSON.stringify(payload, null, 2)),
    messages: messages.length,
    source: resolve(db.path),
  };
}

/**
 * The sidecar the server builds from a state.db row (seed `000_*`,
 * `_state_db_row_to_sidecar`), in its key order.
 *
 * @example
 * ```ts
 * import { stateDbRowToSidecar } from "./materialize_from_state_db.ts";
 * import type { StateDbSessionRow, StateDbMessage } from "../core/state_db/state_db.ts";
 * declare const row: StateDbSessionRow;
 * declare const messages: StateDbMessage[];
 * stateDbRowToSidecar(row, messages).title; // row title or "Recovered WebUI Session"
 * ```
 */
export function stateDbRowToSidecar(
  row: StateDbSessionRow,
  rows: StateDbMessage[],
  profile: string | null = null,
): Record<string, unknown> {
  const c = row.columns;
  const source = pyStrip(String(json(c.source) ?? "")).toLowerCase();
  const startedAt = json(c.started_at) || 0;
  const messages = rows.map((m) => {
    const message: Record<string, unknown> = {
      role: json(m.role),
      content: json(m.content) || "",
    };
    if (m.timestamp !== null) message.timestamp = json(m.timestamp);
    return message;
  });
  const lastTimestamp = messages.length
    ? messages[messages.length - 1].timestamp
    : startedAt;
  const workspace = json(c.workspace) || "";
  const messageCount = json(c.message_count);
  return {
    session_id: row.id,
    title: json(c.title) || "Recovered WebUI Session",
    workspace: typeof workspace === "string" ? workspace : "",
    message_count: Number.isInteger(messageCount)
      ? messageCount
      : messages.length,
    worktree_path: json(c.worktree_path) || null,
    worktree_branch: json(c.worktree_branch) || null,
    worktree_repo_root: json(c.worktree_repo_root) || null,
    worktree_created_at: json(c.worktree_created_at) || null,
    model: json(c.model) || "unknown",
    model_provider: null,
    created_at: startedAt,
    updated_at: lastTimestamp || startedAt,
    pinned: false,
    archived: false,
    project_id: null,
    // The server writes null (its active profile's rows); a row from a
    // named profile's db names that profile, or the rebuilt sidecar would
    // be compared with the default home's rows, which lack it.
    profile,
    input_tokens: 0,
    output_tokens: 0,
    estimated_cost: null,
    personality: null,
    active_stream_id: null,
    pending_user_message: null,
    pending_attachments: [],
    pending_started_at: null,
    compression_anchor_visible_idx: null,
    compression_anchor_message_key: null,
    compression_anchor_summary: null,
    context_length: null,
    threshold_tokens: null,
    last_prompt_tokens: null,
    gateway_routing: null,
    gateway_routing_history: [],
    llm_title_generated: false,
    parent_session_id: json(c.parent_session_id),
    is_cli_session: false,
    source_tag: source || null,
    raw_source: source || null,
    session_source: source || null,
    source_label: source ? titleCase(source) : null,
    enabled_toolsets: null,
    composer_draft: {},
    messages,
    tool_calls: [],
    _recovered_from_state_db: true,
  };
}

/** A SQLite value as JSON: big integers become numbers or strings. */
function json(value: SqlValue): string | number | null {
  if (typeof value === "bigint") {
    return Number.isSafeInteger(Number(value)) ? Number(value) : String(value);
  }
  if (value instanceof Uint8Array) return null;
  return value;
}

/** Python's `str.title()` for the ASCII source names state.db holds. */
function titleCase(text: string): string {
  return text.toLowerCase().replace(
    /(^|[^a-z])([a-z])/g,
    (_, before, letter) => before + letter.toUpperCase(),
  );
}
