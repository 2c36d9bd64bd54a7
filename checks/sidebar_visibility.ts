/**
 * Sessions with messages that the session list (the sidebar) does not
 * show: their sidecar cannot be loaded and no index entry stands in for
 * it, or they are background sessions the default list hides on purpose.
 * The server's discoverability audit (`api/session_discoverability.py`)
 * reports these as `api_missing_messageful` and
 * `lineage_missing_visible_representative`; the other causes it reports
 * under those names are other checks' findings (see the explain text).
 *
 * @example
 * ```ts
 * import { sidebarVisibility } from "./sidebar_visibility.ts";
 * import { runChecks } from "../core/plugins/pipeline.ts";
 * import type { StoreSnapshot } from "../core/scan/store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * const findings = await runChecks(store, [sidebarVisibility], { now: Date.now(), serverStopped: false });
 * ```
 * @module
 */

import { defineCheck } from "../core/plugins/check.ts";
import { pyTruthy } from "../core/store/sidecar_summary.ts";
import { foreignSessionId, messageCountOf } from "../core/scan/store_facts.ts";
import { knownMessageCount, sidebarRowOf } from "../core/store/sidebar_view.ts";
import { boundedValue } from "../core/report/shown_value.ts";

const VERSIONS = "The load rules hold for every version (G0 to G4, May to " +
  "August 2026; created_workspace exists since exp-v0.52.173, G4); the " +
  "server's discoverability audit, which reports this as a warning, " +
  "exists since v0.51.146 (G1).";

const MAPPED = "The server's audit also reports, under this name, causes " +
  "that hermes-fsck reports as their own kinds, once: a sidecar that " +
  "does not parse (malformed_live, shrunken_live, interrupted_save), an " +
  "index entry without a sidecar (index_missing_file), a file name with " +
  "an invalid id (invalid_session_id), a sidecar without session_id or " +
  "with another session's (sidecar_missing_keys, session_id_mismatch). " +
  "Its state_db_messageful_missing_sidecar is state_db_missing_sidecar " +
  "here (or state_db_deleted_webui_tombstone when the session was " +
  "deleted) for `webui` rows; rows of other sources (cli, telegram, ...) " +
  "are the agent's own sessions, listed from state.db and never given a " +
  "sidecar, so they are no finding. Unlike the server's audit, a " +
  "session whose lineage (parent or child) is listed is still reported: " +
  "its own messages are reachable only through its own file.";

const UNLOADABLE = "Its sidecar parses as a JSON object but the server " +
  "cannot load it: `workspace` is present but not a string, or " +
  "worktree_path, worktree_repo_root or created_workspace is set to " +
  "something other than a string (Session(**json) throws). The index has " +
  "no usable entry for it (an entry with last_message_at keeps it " +
  "listed), so the list, which then loads the sidecar, leaves it out and " +
  "its messages cannot be reached from the WebUI. Which value was meant " +
  "cannot be told from the file, so hermes-fsck does not rewrite it " +
  "(unsafe_to_repair). With the server stopped, fix the field the " +
  "evidence names (`loadProblem`) by hand: a workspace path as a string, " +
  "or remove the key.";

const BACKGROUND = new Set(["cron", "webhook", "kanban"]);

/** The `sidebar-visibility` check. */
export const sidebarVisibility = defineCheck({
  id: "sidebar-visibility",
  title: "Sessions with messages the session list does not show",
  description:
    "Reports sessions with messages that the server's session list leaves " +
    "out: sidecars it cannot load, and background sessions it hides.",
  kinds: {
    api_missing_messageful: {
      category: "unsafe_to_repair",
      severity: "error",
      webuiRecommendation: "investigate_sidebar_filters_or_api_merge",
      summary:
        "A session with messages is missing from the session list: its sidecar cannot be loaded.",
      explain: UNLOADABLE + " " + MAPPED + " " + VERSIONS,
    },
    lineage_missing_visible_representative: {
      category: "unsafe_to_repair",
      severity: "error",
      webuiRecommendation: "repair_lineage_or_expose_tip",
      summary:
        "A pre-compression snapshot with messages is missing from the session list: its sidecar cannot be loaded.",
      explain: "As api_missing_messageful, for a pre_compression_snapshot " +
        "(the older part of a compressed conversation, which the list " +
        "shows when no other session of its lineage stands for it). " +
        UNLOADABLE + " " + MAPPED + " " + VERSIONS,
    },
    background_session_hidden: {
      category: "info",
      severity: "info",
      summary:
        "A cron, webhook or kanban session with messages is hidden from the default session list.",
      explain: "The default session list leaves out background sessions " +
        "(a source of cron, webhook or kanban, or an id starting with " +
        "cron_) that have no project; they are listed with the matching " +
        "filter, and a project's chip lists them once they have a " +
        "project. That is the server's design, not damage: info, exit 0. " +
        "The server's discoverability audit reports such a session as a " +
        "warning, api_missing_messageful (or " +
        "lineage_missing_visible_representative for a pre-compression " +
        "snapshot). A `webui` state.db row makes the list treat the " +
        "session as a WebUI one, so it is listed. Nothing to do unless the " +
        "session was not meant to be a background one. " + VERSIONS,
    },
  },
  create: (context) => {
    return {
      session({ files: session, store }) {
        const { live, sessionId } = session;
        if (!live?.read.ok || live.read.value.shape !== "object") return;
        const meta = live.read.value.meta;
        // Without its own session_id the sidecar is sidecar-identity's.
        if (typeof meta.session_id !== "string" || meta.session_id === "") {
          return;
        }
        if (foreignSessionId(live, sessionId)) return;
        const row = sidebarRowOf(store, session);
        if (row.hidden === null) return;
        const messageCount = knownMessageCount(session, row);
        if (messageCount <= 0) return;
        const snapshot = pyTruthy(meta.pre_compression_snapshot) ||
          pyTruthy(row.entry?.entry.pre_compression_snapshot);
        const evidence = {
          liveMessages: messageCountOf(live),
          bakMessages: -1,
          messageCount,
          presentIn: {
            sidecar: true,
            index: row.entry !== null,
            stateDb: row.stateRow !== null,
          },
          preCompressionSnapshot: snapshot,
        };
        if (row.hidden === "background") {
          const source = [
            row.fields.source_tag,
            row.fields.source,
            row.fields.raw_source,
            row.fields.session_source,
          ].find(pyTruthy);
          context.report({
            kind: "background_session_hidden",
            sessionId,
            paths: [live.name],
            message: `Session ${sessionId} (${messageCount} messages) is a ` +
              `${
                typeof source === "string" && BACKGROUND.has(source)
                  ? source
                  : "cron"
              } session without a project, hidden from the default session list.`,
            evidence: { ...evidence, source: boundedValue(source ?? null) },
          });
          return;
        }
        context.report({
          kind: snapshot
            ? "lineage_missing_visible_representative"
            : "api_missing_messageful",
          sessionId,
          paths: [live.name],
          message: `${live.name} holds ${messageCount} messages but the ` +
            `server cannot load it (${row.loadProblem}), so the session ` +
            "list does not show it.",
          evidence: { ...evidence, loadProblem: row.loadProblem },
        });
      },
    };
  },
});
