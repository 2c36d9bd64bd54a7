/**
 * state.db ahead of a sidecar: a `webui` row with more messages than its
 * live sidecar holds. The agent writes every message to state.db as the
 * turn runs; a sidecar with fewer lost turns the agent still has (a save
 * that shrank it, a restore of an old copy). Which side is right needs a
 * person, unless the sidecar records that the user cleared it on purpose.
 *
 * @example
 * ```ts
 * import { stateDbSidecarDrift } from "./state_db_sidecar_drift.ts";
 * const drafts = await stateDbSidecarDrift.run(store, { now: Date.now(), serverStopped: false });
 * ```
 * @module
 */

import { defineCheck } from "../core/check.ts";
import type { FindingDraft } from "../core/finding.ts";
import { isValidSessionId } from "../core/session_id.ts";
import type { SidecarSummary } from "../core/sidecar_summary.ts";
import { messageCountOf } from "../core/store_facts.ts";
import { webuiRowsOf } from "../core/profile_state_db.ts";

const UUID4_HEX = /^[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}$/;

/** The `state-db-sidecar-drift` check. */
export const stateDbSidecarDrift = defineCheck({
  id: "state-db-sidecar-drift",
  title: "Sidecars with fewer messages than state.db",
  description:
    "Compares each webui row's message count in state.db with its live " +
    "sidecar and reports sidecars that hold fewer.",
  partwise: true,
  kinds: [
    {
      kind: "sidecar_behind_state_db",
      category: "unsafe_to_repair",
      severity: "error",
      summary: "state.db has more messages for a session than its sidecar.",
      explain:
        "The agent records every message of a WebUI session in state.db; " +
        "this sidecar holds fewer (the evidence gives both counts), so the " +
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
    },
    {
      kind: "sidecar_behind_state_db_kept",
      category: "info",
      severity: "info",
      summary:
        "state.db has more messages, but the user cleared the session on purpose.",
      explain:
        "The sidecar records a deliberate shrink (a clear_generation, or an " +
        "intentional_shrink_generation): the user cleared the conversation " +
        "in the WebUI, and the agent keeps its own rows of the old one. The " +
        "missing messages were removed on purpose, so nothing is wrong and " +
        "nothing is done.",
    },
  ],
  run(store) {
    const drafts: FindingDraft[] = [];
    // Each session's rows are its own profile's (core/profile_state_db.ts).
    for (const { row, db } of webuiRowsOf(store)) {
      if (!db.canCountMessages) continue;
      if (!isValidSessionId(row.id)) continue; // session-ids reports these
      const session = store.sessions.get(row.id);
      const live = session?.live;
      if (!live?.read.ok || live.read.value.shape !== "object") continue;
      const liveMessages = messageCountOf(live);
      if (liveMessages < 0 || row.messageCount <= liveMessages) continue;
      const deliberate = shrankOnPurpose(live.read.value);
      const evidence = {
        liveMessages,
        bakMessages: messageCountOf(session?.backup),
        stateDbMessages: row.messageCount,
      };
      drafts.push({
        kind: deliberate
          ? "sidecar_behind_state_db_kept"
          : "sidecar_behind_state_db",
        sessionId: row.id,
        paths: [live.name, db.path],
        message: `state.db has ${row.messageCount} messages for ${row.id} ` +
          `but ${live.name} holds ${liveMessages}` +
          (deliberate ? `; ${deliberate.phrase}, so it is kept.` : "."),
        evidence: deliberate
          ? { ...evidence, guard: deliberate.guard }
          : evidence,
        order: [row.position], // the rows' order, newest first
      });
    }
    return drafts;
  },
});

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
