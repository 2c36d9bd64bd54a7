/**
 * state.db ahead of a sidecar: a `webui` row with more messages than its
 * live sidecar holds. The agent writes every message to state.db as the
 * turn runs; a sidecar with fewer lost turns the agent still has (a save
 * that shrank it, a restore of an old copy). Which side is right needs a
 * person, unless the store shows why: the user cleared or shrank it on
 * purpose, today's server heals it from state.db on its next load (a turn
 * left unfinished), or the extra rows are the turn a retry, undo or edit
 * removed before the user sent again.
 *
 * @example
 * ```ts
 * import { stateDbSidecarDrift } from "./state_db_sidecar_drift.ts";
 * import { runChecks } from "../core/plugins/pipeline.ts";
 * import type { StoreSnapshot } from "../core/scan/store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * const findings = await runChecks(store, [stateDbSidecarDrift], { now: Date.now(), serverStopped: false });
 * ```
 * @module
 */

import { join } from "../core/io/path.ts";
import { defineCheck } from "../core/plugins/check.ts";
import { parseJsonBytes, readRegularFile } from "../core/io/file_read.ts";
import type { Evidence, JsonValue } from "../core/report/finding.ts";
import { isValidSessionId } from "../core/store/session_id.ts";
import {
  DEFAULT_MAX_FILE_BYTES,
  type StoreSnapshot,
} from "../core/scan/snapshot.ts";
import type { StateDbMessage } from "../core/state_db/state_db.ts";
import {
  isPlainObject,
  messageText,
  pyStrip,
  type SidecarSummary,
  toTimestamp,
} from "../core/store/sidecar_summary.ts";
import { messageCountOf } from "../core/scan/store_facts.ts";
import { shortText } from "../core/report/shown_value.ts";
import { activeRunVerdict } from "../core/scan/run_journal_scan.ts";
import {
  compressionParentReason,
  hasStreamState,
  hasUnfinishedTurn,
  outputEvidence,
  outputText,
  pendingAgeSeconds,
  STALE_PENDING_GRACE_SECONDS,
} from "../core/journal/stream_state.ts";
import type { CheckOptions } from "../core/plugins/check.ts";
import type {
  StateDbReader,
  StateDbSessionRow,
} from "../core/state_db/state_db.ts";
import { closeHealedTurn } from "../core/state_db/state_db_heal.ts";
import { readStreamJournal } from "../core/journal/stream_journal.ts";

const UUID4_HEX = /^[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}$/;

/** How many state.db rows a finding names. */
const NAMED_ROWS = 10;

/** The `state-db-sidecar-drift` check. */
export const stateDbSidecarDrift = defineCheck({
  id: "state-db-sidecar-drift",
  title: "Sidecars with fewer messages than state.db",
  description:
    "Compares each webui row's message count in state.db with its live " +
    "sidecar and reports sidecars that hold fewer.",
  kinds: {
    sidecar_behind_state_db: {
      category: "unsafe_to_repair",
      severity: "error",
      summary: "state.db has more messages for a session than its sidecar.",
      explain:
        "The agent records every message of a WebUI session in state.db; " +
        "this sidecar holds fewer (the evidence gives both counts, and " +
        "missingRows names the state.db rows, up to 10, that no sidecar " +
        "message matches by role and text), and nothing in the store says " +
        "why (no clear or shrink generation, no unfinished turn the server " +
        "heals from state.db, no retry span that holds the extra rows), so the " +
        "WebUI lost turns the agent still has, for example through a save " +
        "that shrank it or an old copy put back. It is not repaired " +
        "automatically: state.db rows lack what only the sidecar has " +
        "(attachments, tool call cards, recovered prompts, metadata), and " +
        "the sidecar may be right (a turn the server is streaming right " +
        "now is in state.db first). To review: compare `sqlite3 -readonly " +
        'state.db "SELECT role, substr(content, 1, 80), timestamp FROM ' +
        "messages WHERE session_id = '<sid>' ORDER BY timestamp, id\"` " +
        "with the sidecar's messages; if a .bak exists, see whether it has " +
        "the missing turns (shrunken_live restores it when it has more). If " +
        "state.db is right and the sidecar should be rebuilt from it, stop " +
        "the server, move <sid>.json (and any .bak) out of the session dir, " +
        "run `hermes-fsck repair` (materialize_from_state_db recreates the " +
        "sidecar), and copy back from the old file what state.db lacks.",
      resolutions: [{
        keep: "state-db",
        meaning:
          "Rebuild <sid>.json from its state.db rows (what only the sidecar has is lost from it); the old file goes to the run's quarantine.",
      }],
    },
    sidecar_behind_state_db_kept: {
      category: "info",
      severity: "info",
      summary:
        "state.db has more messages, but the user cleared the session on purpose.",
      explain:
        "The sidecar records a deliberate shrink (a clear_generation, since " +
        "v0.51.875, or an intentional_shrink_generation, since " +
        "exp-v0.52.216): the user cleared, truncated, retried or undid in " +
        "the WebUI, and the agent keeps its own rows of the old " +
        "conversation. The missing messages were removed on purpose, so " +
        "nothing is wrong and nothing is done.",
    },
    sidecar_behind_state_db_self_heals: {
      category: "info",
      severity: "info",
      summary:
        "state.db has more messages for an unfinished turn; the server heals the sidecar from it on load.",
      explain: "The sidecar still has a turn in flight (active_stream_id or " +
        "pending_user_message set) and state.db holds more messages: the " +
        "agent kept answering after the WebUI lost the stream. Today's " +
        "server (since v0.51.702) heals exactly this by itself the next " +
        "time it loads the session in full, once no live stream owns it " +
        "and 30 s have passed since pending_started_at: it merges " +
        "state.db's newer rows into messages and context_messages " +
        "(append-only, honouring the truncation watermark) and clears the " +
        "stream state; if nothing is new it finishes the pending turn as " +
        "usual. Nothing needs doing (unless the finding names a run journal, " +
        "below), and hermes-fsck leaves the stream " +
        "state alone (stale_stream_state is not reported for it), because " +
        "clearing it first would stop the server from taking the agent's " +
        "answer back. A server older than v0.51.702 does not heal it: " +
        "review it as sidecar_behind_state_db says. One thing that heal " +
        "loses: output of the turn that only its run journal " +
        "(`_run_journal/<sid>/<active_stream_id>.jsonl`, since v0.51.71) " +
        "holds, text the agent streamed but had not yet written to " +
        "state.db when the server died. The state.db heal closes the " +
        "stream without reading the journal, so the user never sees that " +
        "text, and the stream id, the only link to the file, is gone. " +
        "When the journal holds such output the finding says how many " +
        "text deltas and characters (evidence runJournal, textEvents, " +
        "textChars, toolCards). Where the stream is dead (--server-stopped, " +
        "past the grace, no compression parent) and hermes-fsck can " +
        "rebuild the heal, that is state_db_heal_drops_run_output, which " +
        "it repairs; otherwise this finding says why not, and hermes-fsck " +
        "leaves the stream set: to keep the text, copy that file aside " +
        "before starting the server and add its text to the session once " +
        "the server has healed it. A run journal whose output state.db " +
        "already holds is not named: the heal drops nothing then.",
    },
    state_db_heal_drops_run_output: {
      category: "repairable",
      severity: "warning",
      summary:
        "The server's state.db heal of a dead turn would drop output only its run journal holds.",
      explain: "As sidecar_behind_state_db_self_heals: the sidecar still " +
        "has a turn in flight and state.db holds more messages, so " +
        "today's server (since v0.51.702) heals the sidecar from state.db " +
        "on its next full load and closes the stream without reading the " +
        "run journal (_run_journal/<sid>/<active_stream_id>.jsonl, since " +
        "v0.51.71). That journal holds output of the turn that state.db " +
        "does not (the agent had not written it when the process died), " +
        "so the heal would lose it for good. --server-stopped says no " +
        "server owns the stream, the turn began more than 30 s ago, and it " +
        "is no compression parent. Repair: recover_stale_stream does the " +
        "heal itself (state.db's newer rows merged into messages and " +
        "context_messages append-only, honouring the truncation " +
        "watermark, as the server merges them), then recovers the " +
        "journal's output onto it as the server recovers a run journal " +
        "onto the agent's transcript: text state.db already holds is " +
        "matched, not added twice; the rest is added tagged " +
        "_recovered_from_run_journal and _recovered_stream_id, before " +
        "the interrupted marker, and the stream state is cleared. It is " +
        "only reported where hermes-fsck can rebuild the server's merge " +
        "exactly (plain messages: no message ids, provider api_content, " +
        "compacted context or rows the server would insert mid-transcript); " +
        "elsewhere the finding is sidecar_behind_state_db_self_heals with " +
        "the reason.",
    },
    state_db_keeps_removed_turn: {
      category: "info",
      severity: "info",
      summary:
        "state.db keeps the turn a retry, undo or edit removed before the user sent again.",
      explain: "The sidecar records a truncation (retry, undo or edit): " +
        "truncation_boundary is the time of the last message kept (since " +
        "v0.51.628), and truncation_watermark either still equals it (no " +
        "turn sent since) or moved past it when the user sent again. Every " +
        "message state.db has beyond the sidecar's lies after that boundary " +
        "and before the sidecar's first message after it (or, with none, " +
        "before its updated_at, the save that removed them), a span " +
        "the sidecar holds nothing of: the turn the user removed (state.db " +
        "keeps the agent's rows; the server hides rows in that span on " +
        "purpose). state.db's own copies of the kept messages, stamped a " +
        "little later by the agent, are not counted. The evidence names the " +
        "removed rows. Nothing is wrong and nothing is done. Today's server " +
        "also stamps intentional_shrink_generation (since exp-v0.52.216), " +
        "which sidecar_behind_state_db_kept reports first. " +
        "Where the extra rows lie elsewhere, or the sidecar has no " +
        "boundary (older than v0.51.628), a removed turn cannot be told " +
        "from a lost one, and the finding is sidecar_behind_state_db, " +
        "whose evidence names the state.db rows the sidecar lacks.",
    },
  },
  create(context) {
    return {
      // Each session's rows are its own profile's (core/state_db/profile_state_db.ts).
      async stateDbRow({ row, db, session: { store } }) {
        if (!db.canCountMessages) return;
        if (!isValidSessionId(row.id)) return; // session-ids reports these
        const session = store.sessions.get(row.id);
        const live = session?.live;
        if (!live?.read.ok || live.read.value.shape !== "object") return;
        const liveMessages = messageCountOf(live);
        if (liveMessages < 0 || row.messageCount <= liveMessages) return;
        const summary = live.read.value;
        const evidence: Evidence = {
          liveMessages,
          bakMessages: messageCountOf(session?.backup),
          stateDbMessages: row.messageCount,
        };
        const base = {
          sessionId: row.id,
          paths: [live.name, db.path],
        };
        const counts = `state.db has ${row.messageCount} messages for ` +
          `${row.id} but ${live.name} holds ${liveMessages}`;
        if (hasUnfinishedTurn(summary)) {
          const heals = `${counts}; its turn is unfinished, so the server ` +
            "merges state.db's newer rows into it on its next full load";
          // That heal closes the stream without reading the run journal, so
          // output only the journal holds is never shown (as of df65251d5).
          const run = activeRunVerdict(
            store.runJournals,
            row.id,
            summary.meta.active_stream_id,
          );
          if (run?.kind === "output") {
            const journal = run.file.name;
            const runEvidence = {
              ...evidence,
              runJournal: journal,
              textEvents: run.summary.textEvents,
              ...outputEvidence(run.summary),
            };
            const drops = `${heals}, and that heal drops the turn's ` +
              `partial output: ${run.summary.textEvents} journaled text ` +
              `deltas (${outputText(run.summary)}) in ${journal} the ` +
              "sidecar lacks";
            const verdict = await healVerdict(
              store,
              row.id,
              live.name,
              db,
              row,
              context.options.now,
            );
            if (verdict.kind !== "held") {
              const paths = [...base.paths, journal];
              const hold = verdict.kind === "proved"
                ? holdBack(store, row.id, summary.meta, context.options)
                : null;
              if (verdict.kind === "proved" && !hold) {
                context.report({
                  ...base,
                  paths,
                  kind: "state_db_heal_drops_run_output",
                  message: `${drops}; the turn is dead, so hermes-fsck ` +
                    "can do the heal itself and keep that output.",
                  evidence: runEvidence,
                });
                return;
              }
              context.report({
                ...base,
                paths,
                kind: "sidecar_behind_state_db_self_heals",
                message: hold
                  ? `${drops}. hermes-fsck keeps it by doing the heal ` +
                    `itself, but not now: ${hold}.`
                  : `${drops}. hermes-fsck leaves the stream set ` +
                    `(${(verdict as { why: string }).why}); to keep the ` +
                    `output, copy ${journal} aside before starting the ` +
                    "server and add its text to the session afterwards.",
                evidence: runEvidence,
              });
              return;
            }
          }
          context.report({
            ...base,
            kind: "sidecar_behind_state_db_self_heals",
            message: `${heals}.`,
            evidence,
          });
          return;
        }
        const deliberate = shrankOnPurpose(summary);
        if (deliberate) {
          context.report({
            ...base,
            kind: "sidecar_behind_state_db_kept",
            message: `${counts}; ${deliberate.phrase}, so it is kept.`,
            evidence: { ...evidence, guard: deliberate.guard },
          });
          return;
        }
        const rows = db.messagesFor(row);
        const sidecar = await readSidecar(store, live.name);
        const removed = sidecar ? removedTurnRows(sidecar, rows) : null;
        if (removed) {
          context.report({
            ...base,
            kind: "state_db_keeps_removed_turn",
            message:
              `${counts}; the ${removed.length} extra rows (${
                describeRows(removed)
              }) are the turn a retry, undo or edit removed before the user ` +
              "sent again, which the server hides on purpose.",
            evidence: { ...evidence, ...rowsEvidence("removed", removed) },
          });
          return;
        }
        const missing = sidecar ? rowsSidecarLacks(sidecar, rows) : [];
        context.report({
          ...base,
          kind: "sidecar_behind_state_db",
          message: `${counts}.` +
            (missing.length > 0
              ? ` state.db rows it lacks: ${describeRows(missing)}.`
              : ""),
          evidence: { ...evidence, ...rowsEvidence("missing", missing) },
        });
      },
    };
  },
});

/**
 * Whether hermes-fsck can do the server's state.db heal of this session
 * itself and keep the run journal's output: `proved` when it would add
 * output, `held` when state.db (or the sidecar) already holds all of it,
 * else why not.
 */
async function healVerdict(
  store: StoreSnapshot,
  id: string,
  liveName: string,
  db: StateDbReader,
  row: StateDbSessionRow,
  nowMs: number,
): Promise<
  { kind: "proved" } | { kind: "held" } | { kind: "unproved"; why: string }
> {
  const sidecar = await readSidecar(store, liveName);
  if (!sidecar) {
    return { kind: "unproved", why: `${liveName} no longer reads whole` };
  }
  const journal = await readStreamJournal(
    store.sessionDir,
    id,
    sidecar.meta.active_stream_id,
  );
  if ("skip" in journal) return { kind: "unproved", why: journal.skip };
  let closed;
  try {
    closed = closeHealedTurn(
      sidecar.meta,
      db.transcriptFor(row),
      journal.output,
      nowMs / 1000,
    );
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    return { kind: "unproved", why: "its messages nest too deep" };
  }
  if ("skip" in closed) {
    return {
      kind: "unproved",
      why: `it cannot rebuild the server's heal of it: ${closed.skip}`,
    };
  }
  return closed.outcome.recoveredOutput ? { kind: "proved" } : { kind: "held" };
}

/**
 * Why hermes-fsck may not close this stream now, as recover_stale_stream
 * decides: no --server-stopped, the 30 s grace, a compression parent, no
 * stream state to close; null when it may.
 */
function holdBack(
  store: StoreSnapshot,
  id: string,
  meta: Record<string, unknown>,
  options: CheckOptions,
): string | null {
  if (!options.serverStopped) {
    return "a server may still be streaming it; if none is running, run " +
      "`hermes-fsck repair --server-stopped`";
  }
  if (!hasStreamState(meta)) {
    return "active_stream_id and pending_user_message are not both set";
  }
  const age = pendingAgeSeconds(meta.pending_started_at, options.now);
  if (age < STALE_PENDING_GRACE_SECONDS) {
    return `the turn began within the ${STALE_PENDING_GRACE_SECONDS} s ` +
      "grace; run repair again after it";
  }
  const parent = compressionParentReason(meta, id, store);
  return parent ? `it is a compression parent (${parent})` : null;
}

/** A state.db row for evidence: its 1-based place in the session's order. */
interface ShownRow {
  position: number;
  role: string;
  timestamp: number | null;
  text: string;
}

function shownRow(message: StateDbMessage, position: number): ShownRow {
  return {
    position,
    role: shortText(String(message.role ?? ""), 20),
    timestamp: rowTime(message.timestamp),
    text: shortText(String(message.content ?? ""), 60),
  };
}

function describeRows(rows: ShownRow[]): string {
  const named = rows.slice(0, 3).map((row) =>
    `#${row.position} ${JSON.stringify(row.role)} ${
      JSON.stringify(row.text)
    } at ${row.timestamp ?? "no time"}`
  );
  const more = rows.length > 3 ? `, and ${rows.length - 3} more` : "";
  return named.join(", ") + more;
}

function rowsEvidence(
  what: "removed" | "missing",
  rows: ShownRow[],
): Record<string, JsonValue> {
  return {
    [`${what}RowCount`]: rows.length,
    [`${what}Rows`]: rows.slice(0, NAMED_ROWS).map((row) => ({ ...row })),
  };
}

/** A timestamp as the server's `float()` takes one, or null. */
function rowTime(raw: unknown): number | null {
  if (raw === null || raw === undefined || raw === "") return null;
  return toTimestamp(raw);
}

/**
 * The live sidecar read again for its messages (the scan keeps counts
 * only), or null when it no longer reads as a session.
 */
async function readSidecar(
  store: StoreSnapshot,
  name: string,
): Promise<{ meta: Record<string, unknown>; messages: unknown[] } | null> {
  const read = await readRegularFile(
    join(store.sessionDir, name),
    DEFAULT_MAX_FILE_BYTES,
  );
  const parsed = read.ok ? parseJsonBytes(read.value) : null;
  if (!parsed?.ok || !isPlainObject(parsed.value)) return null;
  const messages = parsed.value.messages;
  return Array.isArray(messages) ? { meta: parsed.value, messages } : null;
}

/**
 * The rows a retry, undo or edit removed, when they account for all of
 * state.db's surplus; else null. The span runs from the truncation boundary
 * (the last message kept) to the sidecar's earliest message after it, so
 * the sidecar holds nothing strictly inside it. With no message after the
 * boundary the span ends at the sidecar's `updated_at` (a removed row was
 * written before the save that removed it), and only while the watermark
 * still equals the boundary: no turn was sent since the truncation (the
 * server moves the watermark on with each user message it commits).
 */
function removedTurnRows(
  sidecar: { meta: Record<string, unknown>; messages: unknown[] },
  rows: StateDbMessage[],
): ShownRow[] | null {
  const boundary = rowTime(sidecar.meta.truncation_boundary);
  const watermark = rowTime(sidecar.meta.truncation_watermark);
  if (boundary === null || watermark === null || boundary > watermark) {
    return null;
  }
  let next: number | null = null;
  let untimed = false;
  // The messages the truncation kept; state.db's copy of one may carry a
  // slightly later time than the sidecar's (the agent stamps its own).
  const kept = new Map<string, number>();
  for (const message of sidecar.messages) {
    if (!isPlainObject(message)) continue;
    const time = rowTime(message.timestamp);
    if (time === null) untimed = true;
    else if (time <= boundary) {
      const key = matchKey(message.role, messageText(message.content));
      kept.set(key, (kept.get(key) ?? 0) + 1);
    } else if (next === null || time < next) next = time;
  }
  if (next === null) {
    if (boundary < watermark || untimed) return null;
    // A removed row was written before the save that removed it.
    next = rowTime(sidecar.meta.updated_at);
    if (next === null) return null;
  }
  const keyOf = (row: StateDbMessage) =>
    matchKey(row.role, String(row.content ?? ""));
  const timed = rows.map((row) => rowTime(row.timestamp));
  rows.forEach((row, i) => {
    const time = timed[i];
    if (time !== null && time <= boundary) take(kept, keyOf(row));
  });
  const inside: ShownRow[] = [];
  rows.forEach((row, i) => {
    const time = timed[i];
    if (time === null || time <= boundary || time >= next) return;
    if (!take(kept, keyOf(row))) inside.push(shownRow(row, i + 1));
  });
  if (inside.length === 0) return null;
  return rows.length - inside.length <= sidecar.messages.length ? inside : null;
}

/** Takes one of `key` from a multiset; false when there is none. */
function take(counts: Map<string, number>, key: string): boolean {
  const left = counts.get(key) ?? 0;
  if (left === 0) return false;
  counts.set(key, left - 1);
  return true;
}

/**
 * state.db rows the live sidecar has no message for, matched by role and
 * trimmed text, each sidecar message matching one row.
 */
function rowsSidecarLacks(
  sidecar: { messages: unknown[] },
  rows: StateDbMessage[],
): ShownRow[] {
  const have = new Map<string, number>();
  for (const message of sidecar.messages) {
    if (!isPlainObject(message)) continue;
    const key = matchKey(message.role, messageText(message.content));
    have.set(key, (have.get(key) ?? 0) + 1);
  }
  const lacking: ShownRow[] = [];
  rows.forEach((message, i) => {
    if (!take(have, matchKey(message.role, String(message.content ?? "")))) {
      lacking.push(shownRow(message, i + 1));
    }
  });
  return lacking;
}

function matchKey(role: unknown, text: string): string {
  return JSON.stringify([String(role ?? ""), pyStrip(text)]);
}

/** How the sidecar records a deliberate shrink, or null. */
function shrankOnPurpose(
  live: SidecarSummary,
): { guard: string; phrase: string } | null {
  const clear = live.meta.clear_generation;
  if (typeof clear === "string" && clear !== "") {
    return { guard: "clear_generation", phrase: "the user cleared it" };
  }
  const shrink = live.meta.intentional_shrink_generation;
  if (typeof shrink === "string" && UUID4_HEX.test(shrink)) {
    return {
      guard: "intentional_shrink_generation",
      phrase: "the user shrank it on purpose",
    };
  }
  return null;
}
