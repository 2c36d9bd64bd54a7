/**
 * WebUI sessions marked as CLI sessions: the `is_cli_session` flag and the
 * source fields that decide whether the session list shows a session under
 * the WebUI tab or the CLI tab. The server's discoverability audit
 * (`api/session_discoverability.py`) reports the same two cases.
 *
 * @example
 * ```ts
 * import { sourceFlags } from "./source_flags.ts";
 * import { runChecks } from "../core/plugins/pipeline.ts";
 * import type { StoreSnapshot } from "../core/scan/store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * const findings = await runChecks(store, [sourceFlags], { now: Date.now(), serverStopped: false });
 * ```
 * @module
 */

import { defineCheck } from "../core/plugins/check.ts";
import { INDEX_FILE } from "../core/store/layout.ts";
import { foreignSessionId, messageCountOf } from "../core/scan/store_facts.ts";
import {
  hasWebuiOrigin,
  knownMessageCount,
  listsAsCli,
  sidebarRowOf,
} from "../core/store/sidebar_view.ts";
import { pyTruthy } from "../core/store/sidecar_summary.ts";
import { boundedValue } from "../core/report/shown_value.ts";

const VERSIONS = "The flags and source fields are in sidecars and index " +
  "entries of every version (G0 to G4, May to August 2026); the server's " +
  "own discoverability audit, which reports this kind as a warning, " +
  "exists since v0.51.146 (G1).";

const NOT_HERE = "Index entries without a sidecar are index_missing_file " +
  "(a rebuild drops them, flag and all), so they are not reported here.";

/** The `source-flags` check. */
export const sourceFlags = defineCheck({
  id: "source-flags",
  title: "WebUI sessions flagged as CLI sessions",
  description: "Reports WebUI sessions whose sidecar or index entry says " +
    "is_cli_session: true, and those the session list files under CLI.",
  kinds: {
    persisted_source_flag_stale: {
      category: "info",
      severity: "warning",
      webuiRecommendation:
        "rewrite_persisted_sidebar_source_flags_or_ignore_route_normalizes",
      summary:
        "A WebUI session's sidecar or index entry says is_cli_session: true.",
      explain: "The session was made by the WebUI (a source, source_tag or " +
        "session_source of `webui` in its sidecar or index entry, or a " +
        "`webui` row in state.db), yet a stored is_cli_session flag says " +
        "it is a CLI session: left by an import or an older version. The " +
        "session list works its tab out from the source fields and a " +
        "state.db `webui` row, so the session is still listed under WebUI " +
        "and nothing is hidden or lost: info, exit 0. (When the list " +
        "itself would file it under CLI the kind is source_misclassified; " +
        "when only the index entry carries the flag, " +
        "index_source_flag_stale.) " +
        "hermes-fsck does not rewrite the flag: it is the sidecar's own " +
        "data, which no server rebuilds from anything else, and the list " +
        "already ignores it. To clear it anyway, set is_cli_session to " +
        "false in <sid>.json (and in its _index.json entry) with the " +
        "server stopped; the server's own `python3 -m " +
        "api.session_discoverability --repair-safe --apply --backup-dir " +
        "DIR` does the same with a copy of each file. The evidence says " +
        "which file carries the flag and where the WebUI origin is seen. " +
        NOT_HERE + " " + VERSIONS,
    },
    index_source_flag_stale: {
      category: "info",
      severity: "warning",
      webuiRecommendation:
        "rewrite_persisted_sidebar_source_flags_or_ignore_route_normalizes",
      summary:
        "A WebUI session's index entry says is_cli_session: true and its sidecar does not.",
      explain: "The server's discoverability audit reports this as " +
        "persisted_source_flag_stale (a warning) too; hermes-fsck tells it " +
        "apart because here only _index.json carries the flag: the entry " +
        "is stale, derived data that the server rewrites from the sidecar " +
        "on the session's next save and on every full index rebuild. As " +
        "with persisted_source_flag_stale, the session list still shows " +
        "the session under WebUI (info, exit 0). Rebuilt on request, " +
        "which is provably safe because the index holds no data of its " +
        "own: `hermes-fsck repair --also-repair index_source_flag_stale` " +
        "runs rebuild_index, which writes every entry from its sidecar " +
        "(this one then without the flag); the old index is kept in the " +
        "run's quarantine for `undo`. " + VERSIONS,
    },
    source_misclassified: {
      category: "info",
      severity: "warning",
      webuiRecommendation: "normalize_api_source_flags",
      summary: "The session list files a WebUI session under CLI.",
      explain: "The session was made by the WebUI (a `webui` source in its " +
        "sidecar or index entry), but the row the session list shows for " +
        "it has is_cli_session: true and source fields that the server's " +
        "classifier reads as CLI (a `cli`, `tui` or `acp` source tag, or " +
        "no source and a default CLI title), and state.db has no `webui` " +
        "row to correct it. So the conversation is listed in the CLI tab, " +
        "not the WebUI tab: still there, nothing lost, hence info. Which " +
        "source is right cannot be told from the files (an imported CLI " +
        "session may carry a WebUI field), so hermes-fsck changes " +
        "nothing; the server's audit has no repair for it either. If it is " +
        "a WebUI conversation, set is_cli_session to false and source_tag " +
        "to `webui` in <sid>.json with the server stopped, then let the " +
        "index be rebuilt. " + NOT_HERE + " " + VERSIONS,
    },
  },
  create: (context) => {
    return {
      session({ files: session, store }) {
        const { live, sessionId } = session;
        if (!live?.read.ok || live.read.value.shape !== "object") return;
        // Another id inside is sidecar-identity's finding.
        if (foreignSessionId(live, sessionId)) return;
        const meta = live.read.value.meta;
        const row = sidebarRowOf(store, session);
        const entry = row.entry?.entry ?? {};
        const listed = row.hidden === null ? row.fields : {};
        const origins: string[] = [];
        if (hasWebuiOrigin(meta)) origins.push("sidecar");
        if (hasWebuiOrigin(entry)) origins.push("index");
        if (row.stateRow) origins.push("state_db");
        if (origins.length === 0) return;
        // The server loads the flag as bool(value).
        const sidecarIsCli = pyTruthy(meta.is_cli_session);
        const indexIsCli = entry.is_cli_session === true;
        const listedIsCli = listed.is_cli_session === true;
        const misfiled = listedIsCli && listsAsCli(listed);
        if (!misfiled && !sidecarIsCli && !indexIsCli) return;
        const paths = indexIsCli ? [live.name, INDEX_FILE] : [live.name];
        const evidence = {
          liveMessages: messageCountOf(live),
          bakMessages: -1,
          messageCount: knownMessageCount(session, row),
          webuiOriginIn: origins,
          sidecarIsCliSession: sidecarIsCli,
          indexIsCliSession: row.entry
            ? boundedValue(entry.is_cli_session ?? null)
            : null,
          listedIsCliSession: listedIsCli,
          listedFrom: row.hidden === null ? row.from : null,
        };
        if (misfiled) {
          context.report({
            kind: "source_misclassified",
            sessionId,
            paths,
            message: `The session list files WebUI session ${sessionId} ` +
              `under CLI: the row it shows (from ${
                row.from === "index" ? INDEX_FILE : live.name
              }) says is_cli_session true and its source fields read as CLI.`,
            evidence,
          });
          return;
        }
        if (!sidecarIsCli) {
          context.report({
            kind: "index_source_flag_stale",
            sessionId,
            paths,
            message: `${INDEX_FILE} marks WebUI session ${sessionId} as a ` +
              `CLI session (is_cli_session: true) but ${live.name} does ` +
              "not: the entry is stale; the session list still shows it " +
              "under WebUI.",
            evidence,
          });
          return;
        }
        const carriers = [live.name, ...(indexIsCli ? [INDEX_FILE] : [])];
        context.report({
          kind: "persisted_source_flag_stale",
          sessionId,
          paths,
          message:
            `${carriers.join(" and ")} mark${
              carriers.length === 1 ? "s" : ""
            } WebUI session ${sessionId} as a CLI session (is_cli_session: ` +
            "true); the session list still shows it under WebUI.",
          evidence,
        });
      },
    };
  },
});
