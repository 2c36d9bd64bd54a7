/**
 * Deleted sessions that something would bring back: a tombstoned session
 * with an orphan `.bak` or a state.db row but no sidecar. They are never
 * resurrected. Also reports a tombstone that cannot be read, since then no
 * deleted session can be told apart.
 *
 * @example
 * ```ts
 * import { deletedTombstone } from "./deleted_tombstone.ts";
 * import { runChecks } from "../core/plugins/pipeline.ts";
 * import type { StoreSnapshot } from "../core/scan/store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * const findings = await runChecks(store, [deletedTombstone], { now: Date.now(), serverStopped: false });
 * ```
 * @module
 */

import { defineCheck } from "../core/plugins/check.ts";
import { deletion } from "../core/scan/store_facts.ts";
import { TOMBSTONE_FILE } from "../core/store/layout.ts";
import { messageCountOf } from "../core/scan/store_facts.ts";
import { stateDbOf } from "../core/state_db/profile_state_db.ts";

/** The `deleted-tombstone` check. */
export const deletedTombstone = defineCheck({
  id: "deleted-tombstone",
  title: "Deleted sessions that could be resurrected",
  description:
    "Reports sessions listed in the durable delete tombstone that still " +
    "have an orphan backup or a state.db row, and an unreadable tombstone.",
  kinds: {
    state_db_deleted_webui_tombstone: {
      category: "unsafe_to_repair",
      severity: "warning",
      webuiRecommendation: "deleted_session_skipped",
      summary: "A deleted session still has a backup or a state.db row.",
      explain: "The user deleted this session (it is in " + TOMBSTONE_FILE +
        ", written since v0.51.850: G3 and G4 stores), " +
        "yet a .bak or a state.db row could bring it back. hermes-fsck never " +
        "resurrects a deleted session on its own. If the delete was a " +
        "mistake, `hermes-fsck resolve ID --keep bak --undelete` (or " +
        "`--keep state-db`) brings it back and takes the id out of the " +
        "tombstone, undoably; otherwise `--keep discard` sets the leftover " +
        "backup aside.",
      resolutions: [
        {
          keep: "discard",
          meaning:
            "Move the leftover .bak into the run's quarantine: the session stays deleted.",
        },
        {
          keep: "bak",
          meaning:
            "Undelete: recreate <sid>.json from the .bak and drop the id from the tombstone.",
          undeletes: true,
        },
        {
          keep: "state-db",
          meaning:
            "Undelete: rebuild <sid>.json from its state.db rows and drop the id from the tombstone.",
          undeletes: true,
        },
      ],
    },
    tombstone_unreadable: {
      category: "unsafe_to_repair",
      severity: "error",
      summary: "The delete tombstone cannot be read.",
      explain: "Without a readable " + TOMBSTONE_FILE +
        " hermes-fsck cannot tell a " +
        "deleted session from a lost one, so it restores no orphan backup " +
        "and materializes nothing from state.db (a shrunken live sidecar " +
        "is still restored: a live file beats its tombstone entry). The " +
        'file must be an object whose version is 1 (1, 1.0 or "1", as ' +
        "Python's int() reads it) and whose ids are a list; the server " +
        "(v0.51.850 on, G3 and G4) reads any other shape as no deleted " +
        "session at all and would bring them back. Fix the file to the " +
        'shape {"version": 1, "ids": [...]} (the evidence says what is wrong).',
    },
  },
  create(context) {
    return {
      session({ sessionId: id, files: session, stateDbRows, store }) {
        if (session.live || deletion(store, id) !== "deleted") return;
        const backup = session.backup;
        // In the db of the session's profile (core/state_db/profile_state_db.ts); a
        // row listed twice is its last.
        const db = stateDbOf(store, session);
        const row = db === store.stateDb
          ? stateDbRows.at(-1)
          : db.status === "ok" && db.lookup?.webuiRow(id);
        if (!backup && !row) return;
        const what = [
          backup ? `${backup.name} remains` : "",
          row ? "state.db still has its row" : "",
        ].filter(Boolean).join(" and ");
        context.report({
          kind: "state_db_deleted_webui_tombstone",
          sessionId: id,
          paths: [...(backup ? [backup.name] : []), TOMBSTONE_FILE],
          message: `Session ${id} was deleted but ${what}; it is left deleted.`,
          evidence: {
            liveMessages: -1,
            bakMessages: backup ? messageCountOf(backup) : -1,
            hasBackup: Boolean(backup),
            hasStateDbRow: Boolean(row),
            ...(row ? { stateDbRow: row.position } : {}),
          },
        });
      },
      end() {
        const tombstone = context.store.tombstone;
        if (!tombstone) return;
        const read = tombstone.read;
        if (read.ok && read.value.valid) return;
        const detail = read.ok
          ? read.value.detail ?? "has the wrong shape"
          : read.problem.detail;
        context.report({
          kind: "tombstone_unreadable",
          paths: [tombstone.name],
          message: `${tombstone.name} ${detail}.`,
          evidence: { problem: read.ok ? "wrong_shape" : read.problem.reason },
        });
      },
    };
  },
});
