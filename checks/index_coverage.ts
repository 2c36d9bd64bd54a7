/**
 * Index coverage: `_index.json` must list exactly the sessions that have a
 * sidecar. Compared by id only, as the server's own audit does; an index
 * that does not parse or is not a list lists nothing. A missing index is
 * one finding for the store. Entries without a sidecar are swept by the
 * server itself, invalid ids too: rebuilt, never unsafe. Sessions the
 * server keeps out of the index on purpose (`_pruned_webui_orphans.json`)
 * are info.
 *
 * @example
 * ```ts
 * import { indexCoverage } from "./index_coverage.ts";
 * import { runChecks } from "../core/plugins/pipeline.ts";
 * import type { StoreSnapshot } from "../core/scan/store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * const findings = await runChecks(store, [indexCoverage], { now: Date.now(), serverStopped: false });
 * ```
 * @module
 */

import { defineCheck } from "../core/plugins/check.ts";
import type { FindingDraft } from "../core/report/finding.ts";
import type { ScannedFile } from "../core/scan/snapshot.ts";
import type { SidecarSummary } from "../core/store/sidecar_summary.ts";
import { deletion, messageCountOf } from "../core/scan/store_facts.ts";
import { INDEX_FILE, PRUNED_ORPHANS_FILE } from "../core/store/layout.ts";
import { indexable } from "../core/store/compact_entry.ts";
import { isValidSessionId } from "../core/store/session_id.ts";
import {
  EVIDENCE_CHARS,
  shortText,
  showJson,
} from "../core/report/shown_value.ts";
import { EXAMPLES_SHOWN, MAX_LISTED } from "../core/report/listed_cap.ts";

const MANY = `More than ${MAX_LISTED} such ids are one finding with ` +
  `their count and the first ${EXAMPLES_SHOWN} of them by id.`;

const REBUILD = "Repair: rebuild_index rewrites _index.json from the " +
  "sidecars of this session dir, as today's server's full rebuild writes " +
  "it. No conversation data is involved.";

/** The `index-coverage` check. */
export const indexCoverage = defineCheck({
  id: "index-coverage",
  title: "Index entries and sidecars match",
  description:
    "Reports index entries without a sidecar and sidecars without an index " +
    "entry.",
  kinds: {
    index_absent: {
      category: "repairable",
      severity: "warning",
      summary:
        "_index.json is missing while the session dir has sidecars to list.",
      explain: "All versions: the sidebar reads _index.json; without it the " +
        "server lists sessions by loading every sidecar. Since v0.51.97 " +
        "the server rebuilds a missing index at startup (and since " +
        "v0.51.136 on the first sidebar poll), from the sidecars alone, " +
        "so rebuilding it now is what the server would do. One finding " +
        "for the store. " + REBUILD,
    },
    index_missing_file: {
      category: "repairable",
      severity: "warning",
      summary: "The index lists a session that has no sidecar.",
      explain:
        "_index.json is derived from the sidecars and only speeds up the " +
        "session list. All versions: the server keeps an entry only while " +
        "<id>.json exists or the session is open in memory; every sidebar " +
        "poll leaves the others out and its next index write drops them " +
        "(since v0.51.794 POST /api/sessions/cleanup does too). So such an " +
        "entry is harmless, and an id that fails the charset is swept the " +
        "same way and never used as a path: repairable, never unsafe. " +
        "Entries of sessions in the delete tombstone are not reported. " +
        REBUILD + " " + MANY,
    },
    index_unsaved_chat: {
      category: "info",
      severity: "info",
      summary: "The index lists a chat without messages that was never saved.",
      explain: "All versions: New Conversation makes a chat in the " +
        "server's memory only; it is saved with its first message. A full " +
        "index write meanwhile (at startup, or when _index.json was " +
        "missing or unreadable) lists it with message_count 0, and the " +
        "server keeps such an entry while the chat is open. After a " +
        "restart the entry has no sidecar: what the server writes in " +
        "normal use, with nothing lost, so info (exit 0), not " +
        "index_missing_file. The server drops the entry on its next full " +
        "index write; to drop it now: " +
        "`hermes-fsck repair --also-repair index_unsaved_chat`. An entry " +
        "of an id listed with messages elsewhere in the index is " +
        "index_missing_file. " + REBUILD + " " + MANY,
    },
    index_missing_entry: {
      category: "repairable",
      severity: "warning",
      summary: "A sidecar is missing from the index.",
      explain: "The session exists on disk but the sidebar, which reads " +
        "_index.json, does not show it. Sessions the server keeps out on " +
        "purpose are index_pruned_orphan instead. A sidecar a rebuild " +
        "leaves out is not reported here but by its own kind, unsafe: one " +
        "whose session_id is not its file name's (session_id_mismatch), " +
        "one that is not a JSON object or lacks its session_id " +
        "(sidecar_missing_keys), one the server cannot load " +
        "(api_missing_messageful). " +
        REBUILD,
    },
    index_left_out: {
      category: "info",
      severity: "info",
      summary:
        "A sidecar the index cannot list until its own problem is fixed.",
      explain: "All versions: the server's index lists a sidecar only " +
        "when it loads as a session under its own file name. This one " +
        "does not (its own finding says why: session_id_mismatch, " +
        "sidecar_missing_keys or api_missing_messageful, which need a " +
        "person), so rebuild_index cannot list it and it is no repairable " +
        "index finding. Once the sidecar is fixed, the index is rebuilt. " +
        "The server's own audit names it index_missing_entry, and so does " +
        "--format webui-json.",
    },
    index_pruned_orphan: {
      category: "info",
      severity: "info",
      summary:
        "A session without messages is kept out of the index on purpose.",
      explain: "Since v0.51.785 the server prunes a WebUI session without " +
        "messages (in its sidecar and in state.db) from _index.json and " +
        `lists its id in ${PRUNED_ORPHANS_FILE} (version 1), keeping the ` +
        "sidecar, so the sidebar stops showing an empty conversation. Such " +
        "a sidecar is not missing from the index: info, nothing to repair. " +
        "A listed session that has messages is reported as " +
        "index_missing_entry (the server takes it back into the index). " +
        `A ${PRUNED_ORPHANS_FILE} that is not JSON, not version 1 or has ` +
        "no ids list keeps nothing out, as the server reads it as empty. A " +
        "rebuild lists these sessions, as the server's own full rebuild " +
        "does; the server prunes them again on its next poll.",
    },
  },
  create(context) {
    // Ids listed without a sidecar, each once, as they come (in id order):
    // an index may list millions, so only the first are kept.
    const missing = new ListedIds();
    const unsaved = new ListedIds();
    let listable = false;
    return {
      session({ sessionId: id, files: session, indexEntries, store }) {
        const read = session.live?.read;
        if (read?.ok && read.value.shape === "object") listable = true;
        if (!context.store.index) return;
        let listed = false;
        let withMessages = false;
        let unsavedChat = false;
        if (context.store.index.read.ok) {
          for (const { entry } of indexEntries) {
            if (session.live) listed = true;
            else if (!isValidSessionId(id)) withMessages = true;
            else if (deletion(store, id) === "deleted") continue;
            else if (entry.message_count === 0) unsavedChat = true;
            else withMessages = true;
          }
        }
        // An id listed with and without messages is one that had some.
        if (withMessages) missing.add(id);
        else if (unsavedChat) unsaved.add(id);
        if (session.live && !listed) {
          const pruned = context.store.prunedOrphans?.read.ok
            ? context.store.prunedOrphans.read.value
            : null;
          context.report(unlisted(id, session.live, pruned));
        }
      },
      end() {
        if (!context.store.index) {
          if (listable) {
            context.report({
              kind: "index_absent",
              paths: [INDEX_FILE],
              message: `${INDEX_FILE} does not exist while the session dir ` +
                "has sidecars; the server rebuilds it at its next start.",
              evidence: {},
            });
          }
          return;
        }
        for (const draft of missing.drafts("index_missing_file")) {
          context.report(draft);
        }
        for (const draft of unsaved.drafts("index_unsaved_chat")) {
          context.report(draft);
        }
      },
    };
  },
});

/**
 * The finding for a sidecar the index does not list: kept out on purpose
 * (pruned), left out until its own problem is fixed, or missing.
 */
function unlisted(
  id: string,
  live: ScannedFile<SidecarSummary>,
  pruned: ReadonlySet<string> | null,
): FindingDraft {
  const messages = messageCountOf(live);
  const evidence = { liveMessages: messages, bakMessages: -1 };
  // The server prunes only a session whose sidecar has no message (one
  // it cannot load counts as none).
  if (pruned?.has(id) && messages <= 0) {
    return {
      kind: "index_pruned_orphan",
      sessionId: id,
      paths: [live.name, PRUNED_ORPHANS_FILE],
      message: `${live.name} is kept out of ${INDEX_FILE} on purpose: it ` +
        `has no messages and ${PRUNED_ORPHANS_FILE} lists it.`,
      evidence,
    };
  }
  // A rebuild leaves it out (session_id_mismatch, sidecar_missing_keys
  // or api_missing_messageful asks a person): nothing to rebuild for it.
  if (live.read.ok && !indexable(id, live.read.value)) {
    return {
      kind: "index_left_out",
      sessionId: id,
      paths: [live.name, INDEX_FILE],
      message: `${live.name} is not listed in ${INDEX_FILE}, ` +
        "and no rebuild would list it until its own problem is fixed.",
      evidence,
    };
  }
  return {
    kind: "index_missing_entry",
    sessionId: id,
    paths: [live.name, INDEX_FILE],
    message: `${live.name} is not listed in ${INDEX_FILE}.`,
    evidence,
  };
}

/**
 * Ids the index lists without a sidecar, added in id order: how many, and
 * the first of them (enough to list each, or to show examples of many).
 */
class ListedIds {
  count = 0;
  first: string[] = [];

  add(id: string): void {
    this.count++;
    if (this.first.length <= MAX_LISTED) this.first.push(id);
  }

  /** One finding per id, or one with the count and the first ids. */
  drafts(kind: "index_missing_file" | "index_unsaved_chat"): FindingDraft[] {
    if (this.count > MAX_LISTED) {
      const shown = this.first.slice(0, EXAMPLES_SHOWN);
      return [{
        kind,
        paths: [INDEX_FILE],
        message: `${INDEX_FILE} lists ${this.count} sessions ${
          kind === "index_unsaved_chat"
            ? "without messages that have"
            : "that have"
        } no sidecar, among them ${
          shown.slice(0, 3).map((id) => showJson(id)).join(", ")
        }.`,
        evidence: {
          liveMessages: -1,
          bakMessages: -1,
          count: this.count,
          sessionIds: shown.map((id) => shortText(id, EVIDENCE_CHARS)),
        },
        key: `count:${shortText(shown[0], EVIDENCE_CHARS)}`,
      }];
    }
    return this.first.map((id) => ({
      kind,
      // An invalid id may be megabytes long: the report shows an excerpt.
      sessionId: shortText(id, EVIDENCE_CHARS),
      paths: [INDEX_FILE],
      message: !isValidSessionId(id)
        ? `${INDEX_FILE} lists the invalid id ${showJson(id)}.`
        : kind === "index_unsaved_chat"
        ? `${INDEX_FILE} lists ${id}, a chat without messages, but ${id}.json does not exist.`
        : `${INDEX_FILE} lists ${id} but ${id}.json does not exist.`,
      evidence: { liveMessages: -1, bakMessages: -1 },
    }));
  }
}
