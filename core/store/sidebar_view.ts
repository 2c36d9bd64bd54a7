/**
 * The session list (the sidebar) as the server builds it, worked out from
 * the store alone: which row stands for a session (its index entry, else
 * its loaded sidecar), whether the default list hides it, whether it is a
 * WebUI session, and whether the list files it under the CLI tab. The
 * discoverability checks compare this with what each file says; the rules
 * are those of the server's `all_sessions()` and its source classifier
 * (`api/models.py`, `api/agent_sessions.py`, exp-v0.52.262).
 *
 * @example
 * ```ts
 * import { sidebarRowOf } from "./sidebar_view.ts";
 * import type { StoreSnapshot, SessionFiles } from "../scan/store_snapshot.ts";
 * declare const session: SessionFiles;
 * declare const store: StoreSnapshot;
 * const row = sidebarRowOf(store, session);
 * if (row.hidden === "unloadable") console.log("the sidebar cannot show it");
 * ```
 * @module
 */

import type {
  IndexEntry,
  SessionFiles,
  StoreSnapshot,
} from "../scan/snapshot.ts";
import { pyInt, pyTruthy } from "./python_values.ts";
import type { StateDbSessionRow } from "../state_db/state_db.ts";

/**
 * Why the default session list leaves a session out: `background` (a
 * cron, webhook or kanban session without a project, hidden on purpose),
 * `unloadable` (its sidecar parses but the server cannot load it, and no
 * index entry stands in for it), or null when it is listed.
 *
 * @example
 * ```ts
 * import type { HiddenReason } from "./sidebar_view.ts";
 * const why: HiddenReason = "background";
 * ```
 */
export type HiddenReason = "background" | "unloadable" | null;

/**
 * A session's row in the list, and where its facts come from.
 *
 * @example
 * ```ts
 * import { type SidebarRow, sidebarRowOf } from "./sidebar_view.ts";
 * import type { StoreSnapshot, SessionFiles } from "../scan/store_snapshot.ts";
 * declare const session: SessionFiles;
 * declare const store: StoreSnapshot;
 * const row: SidebarRow = sidebarRowOf(store, session);
 * row.fields.is_cli_session; // as the list shows it
 * ```
 */
export interface SidebarRow {
  /** Why the list leaves it out, or null. */
  hidden: HiddenReason;
  /** The row's fields: the index entry's, else the sidecar's metadata. */
  fields: Record<string, unknown>;
  /** Where `fields` come from. */
  from: "index" | "sidecar";
  /** The session's index entry (the last one of its id), if any. */
  entry: IndexEntry | null;
  /** Its `webui` state.db row, if any. */
  stateRow: StateDbSessionRow | null;
  /** Why the sidecar cannot be loaded, or null when it can. */
  loadProblem: string | null;
}

/** Sources the default list hides (unless the session has a project). */
const BACKGROUND_SOURCES = new Set(["cron", "webhook", "kanban"]);

/** Messaging channels (`MESSAGING_SOURCES`): never CLI sessions. */
const MESSAGING_SOURCES = new Set([
  "discord",
  "email",
  "wecom",
  "wecom_callback",
  "slack",
  "telegram",
  "weixin",
  "matrix",
]);

/** Further sources that are never CLI sessions. */
const NON_CLI_SOURCES = new Set([
  ...MESSAGING_SOURCES,
  "cron",
  "webhook",
  "kanban",
  "tool",
  "api",
  "api_server",
  "subagent",
]);

/** Source names of an interactive terminal front end. */
const TERMINAL_SOURCES = new Set(["acp", "cli", "tui"]);

/**
 * Python's `str(value or "").strip().lower()` for the values a JSON field
 * holds (`True` prints as `true` once lowered, as in Python).
 *
 * @example
 * ```ts
 * import { safeLower } from "./sidebar_view.ts";
 * safeLower(" WebUI "); // "webui"
 * safeLower(null); // ""
 * ```
 */
export function safeLower(value: unknown): string {
  if (!pyTruthy(value)) return "";
  if (typeof value === "string") return value.trim().toLowerCase();
  if (typeof value === "number" || typeof value === "boolean") {
    return String(value).toLowerCase();
  }
  // A list or an object is never a source name.
  return "\u0000";
}

/**
 * Python's `int(value)` with 0 for what it refuses (the audit's
 * `_safe_int`).
 *
 * @example
 * ```ts
 * import { safeInt } from "./sidebar_view.ts";
 * safeInt("12"); // 12
 * safeInt(2.9); // 2
 * safeInt("2.5"); // 0
 * ```
 */
export function safeInt(value: unknown): number {
  return pyInt(value) ?? 0;
}

/**
 * True when any of `source`, `source_tag`, `session_source` of the fields
 * says `webui`: the session was made by the WebUI.
 *
 * @example
 * ```ts
 * import { hasWebuiOrigin } from "./sidebar_view.ts";
 * hasWebuiOrigin({ source_tag: "WebUI" }); // true
 * ```
 */
export function hasWebuiOrigin(fields: Record<string, unknown>): boolean {
  return ["source", "source_tag", "session_source"].some((key) => {
    const value = fields[key];
    return typeof value === "string" && value.trim().toLowerCase() === "webui";
  });
}

/**
 * Whether the list files a row under the CLI tab, by the server's source
 * classifier: a `webui` source never, messaging and background sources
 * never, a `cli` session source or terminal source tag always, and a bare
 * `is_cli_session` flag only with a default CLI title.
 *
 * @example
 * ```ts
 * import { listsAsCli } from "./sidebar_view.ts";
 * listsAsCli({ source_tag: "cli" }); // true
 * listsAsCli({ source_tag: "webui", is_cli_session: true }); // false
 * ```
 */
export function listsAsCli(fields: Record<string, unknown>): boolean {
  const source = safeLower(fields.session_source);
  const tag = safeLower(fields.source_tag);
  const raw = safeLower(fields.raw_source);
  const name = safeLower(fields.source);
  const label = safeLower(fields.source_label);
  const all = [source, tag, raw, name, label];
  if (all.includes("webui")) return false;
  if (all.some((value) => NON_CLI_SOURCES.has(value))) return false;
  if (source === "messaging") return false;
  if (source === "cli") return true;
  if (source === "external_agent" || source === "external-agent") return true;
  if ([tag, raw, name, label].some((value) => TERMINAL_SOURCES.has(value))) {
    return true;
  }
  return pyTruthy(fields.is_cli_session) &&
    ![source, tag, raw, name].some((value) => MESSAGING_SOURCES.has(value)) &&
    hasDefaultCliTitle(fields);
}

/** A title the agent makes up (`Untitled`, `CLI session`, `<source> session`). */
function hasDefaultCliTitle(fields: Record<string, unknown>): boolean {
  const title = safeLower(fields.title);
  if (
    !title || title === "untitled" || title === "cli" || title === "cli session"
  ) {
    return true;
  }
  const names = new Set(["cli"]);
  for (
    const key of [
      "source",
      "session_source",
      "source_tag",
      "raw_source",
      "source_label",
    ]
  ) {
    let name = safeLower(fields[key]);
    if (name.endsWith(" session")) name = name.slice(0, -8).trim();
    if (name) names.add(name);
  }
  return [...names].some((name) => title === `${name} session`);
}

/**
 * Why the server cannot load a sidecar that parses as an object (its
 * `Session(**json)` throws), or null when it can: `workspace` present but
 * not a string, or `worktree_path`, `worktree_repo_root` or
 * `created_workspace` set to something other than a string.
 *
 * @example
 * ```ts
 * import { loadProblemOf } from "./sidebar_view.ts";
 * loadProblemOf({ workspace: 5 }); // "workspace is not a string"
 * loadProblemOf({ workspace: "/w" }); // null
 * ```
 */
export function loadProblemOf(meta: Record<string, unknown>): string | null {
  if ("workspace" in meta && typeof meta.workspace !== "string") {
    return "workspace is not a string";
  }
  for (
    const key of ["worktree_path", "worktree_repo_root", "created_workspace"]
  ) {
    const value = meta[key];
    if (pyTruthy(value) && typeof value !== "string") {
      return `${key} is not a string`;
    }
  }
  return null;
}

/**
 * The session's `webui` row of state.db, if the snapshot has one.
 *
 * @example
 * ```ts
 * import { webuiRowOf } from "./sidebar_view.ts";
 * import type { StoreSnapshot } from "../scan/store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * webuiRowOf(store, "abc")?.messageCount;
 * ```
 */
export function webuiRowOf(
  store: StoreSnapshot,
  sessionId: string,
): StateDbSessionRow | null {
  const db = store.stateDb;
  if (db.status !== "ok") return null;
  let rows = rowsById.get(db.webuiRows);
  if (!rows) {
    rows = new Map(db.webuiRows.map((row) => [row.id, row]));
    rowsById.set(db.webuiRows, rows);
  }
  return rows.get(sessionId) ?? null;
}

const rowsById = new WeakMap<
  StateDbSessionRow[],
  Map<string, StateDbSessionRow>
>();

/**
 * The session's index entry as the server keys them (the last entry of an
 * id wins), from an index the list can use: a list of objects. Null when
 * there is none, or when the index cannot be used (the server then lists
 * by a full scan of the sidecars).
 *
 * @example
 * ```ts
 * import { indexEntryOf } from "./sidebar_view.ts";
 * import type { StoreSnapshot } from "../scan/store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * indexEntryOf(store, "abc")?.entry.message_count;
 * ```
 */
export function indexEntryOf(
  store: StoreSnapshot,
  sessionId: string,
): IndexEntry | null {
  const index = store.index;
  if (!index?.read.ok) return null;
  const summary = index.read.value;
  if (summary.shape !== "list" || summary.badEntries.length > 0) return null;
  let entries = entriesById.get(summary.entries);
  if (!entries) {
    entries = new Map(summary.entries.map((entry) => [entry.sessionId, entry]));
    entriesById.set(summary.entries, entries);
  }
  return entries.get(sessionId) ?? null;
}

const entriesById = new WeakMap<IndexEntry[], Map<string, IndexEntry>>();

/**
 * The row the list shows for a session with a live sidecar that parses as
 * an object, and whether the default list hides it. The index entry stands
 * for the session when it has `last_message_at` (else the server reloads
 * the sidecar); a `webui` state.db row makes the list treat it as a WebUI
 * session, whatever the files say.
 *
 * @example
 * ```ts
 * import { sidebarRowOf } from "./sidebar_view.ts";
 * import type { StoreSnapshot } from "../scan/store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * const row = sidebarRowOf(store, store.sessions.get("abc")!);
 * ```
 */
export function sidebarRowOf(
  store: StoreSnapshot,
  session: SessionFiles,
): SidebarRow {
  const live = session.live;
  const meta = live?.read.ok && live.read.value.shape === "object"
    ? live.read.value.meta
    : {};
  const loadProblem = live?.read.ok ? loadProblemOf(meta) : "unreadable";
  const entry = indexEntryOf(store, session.sessionId);
  const stateRow = webuiRowOf(store, session.sessionId);
  const fromIndex = entry !== null && "last_message_at" in entry.entry;
  const fields: Record<string, unknown> = fromIndex ? { ...entry.entry } : {
    ...meta,
    message_count: live?.read.ok ? live.read.value.messageCount : 0,
  };
  // A row made from a loaded sidecar has the Session's fields, among
  // which there is no `source`, and whose flag is `bool(value)`.
  if (!fromIndex) {
    delete fields.source;
    fields.is_cli_session = pyTruthy(meta.is_cli_session);
  }
  if (stateRow) {
    // The list overlays a WebUI row's state.db source: never CLI.
    fields.is_cli_session = false;
  }
  let hidden: HiddenReason = null;
  if (!fromIndex && loadProblem !== null) hidden = "unloadable";
  else if (!stateRow && isHiddenBackground(session.sessionId, fields)) {
    hidden = "background";
  }
  return {
    hidden,
    fields,
    from: fromIndex ? "index" : "sidecar",
    entry,
    stateRow,
    loadProblem,
  };
}

/**
 * A cron, webhook or kanban session (by its first set source field, or a
 * `cron_` id) is hidden from the default list, unless it has a project
 * and messages: project chips list those.
 */
function isHiddenBackground(
  sessionId: string,
  fields: Record<string, unknown>,
): boolean {
  const source = [
    fields.source_tag,
    fields.source,
    fields.raw_source,
    fields.session_source,
  ]
    .find(pyTruthy);
  const background =
    (typeof source === "string" && BACKGROUND_SOURCES.has(source)) ||
    sessionId.startsWith("cron_");
  if (!background) return false;
  return !(pyTruthy(fields.project_id) && safeInt(fields.message_count) > 0);
}

/**
 * The most messages any place knows the session to have: its sidecar
 * (`len(messages)`, else its `message_count`), its index entry's
 * `message_count`, its `webui` state.db row. The audit calls a session
 * with any "messageful".
 *
 * @example
 * ```ts
 * import { type SidebarRow, knownMessageCount } from "./sidebar_view.ts";
 * import type { SessionFiles } from "../scan/store_snapshot.ts";
 * declare const session: SessionFiles;
 * declare const row: SidebarRow;
 * knownMessageCount(session, row) > 0;
 * ```
 */
export function knownMessageCount(
  session: SessionFiles,
  row: SidebarRow,
): number {
  const live = session.live;
  let sidecar = 0;
  if (live?.read.ok && live.read.value.shape === "object") {
    const summary = live.read.value;
    sidecar = summary.messageCount >= 0
      ? summary.messageCount
      : safeInt(summary.meta.message_count);
  }
  const indexed = row.entry ? safeInt(row.entry.entry.message_count) : 0;
  return Math.max(sidecar, indexed, row.stateRow?.messageCount ?? 0);
}
