/**
 * Orphan backups: a `.bak` whose live sidecar is gone. Restorable when the
 * backup parses, state.db still has the session (or there is no state.db),
 * and the durable tombstone does not list it; tombstoned ones are the
 * `deleted-tombstone` check's. A state.db that exists but cannot be read
 * makes every other orphan backup unsafe: only its rows tell a session
 * deleted before the tombstone existed from one lost in a crash. The index
 * cannot tell either: the server's delete removes the sidecar before it
 * prunes the index entry (and old servers removed the whole index first),
 * so an entry, and its absence, are both seen after a delete.
 *
 * @example
 * ```ts
 * import { orphanBackup } from "./orphan_backup.ts";
 * import { runChecks } from "../core/plugins/pipeline.ts";
 * import type { StoreSnapshot } from "../core/scan/store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * const findings = await runChecks(store, [orphanBackup], { now: Date.now(), serverStopped: false });
 * ```
 * @module
 */

import { defineCheck } from "../core/plugins/check.ts";
import type { Resolution } from "../core/report/finding.ts";
import {
  deletion,
  foreignSessionId,
  messageCountOf,
  stateDbKnowsSession,
} from "../core/scan/store_facts.ts";
import { stateDbOf } from "../core/state_db/profile_state_db.ts";

/** A backup whose session may or may not be lost: restore it, or not. */
const RESTORE_OR_DISCARD: Resolution[] = [
  {
    keep: "bak",
    meaning: "Recreate <sid>.json from the .bak's bytes (the .bak stays).",
  },
  {
    keep: "discard",
    meaning: "Move the .bak into the run's quarantine: the session stays gone.",
  },
];

/** The `orphan-backup` check. */
export const orphanBackup = defineCheck({
  id: "orphan-backup",
  title: "Backup without a live sidecar",
  description:
    "Reports .bak snapshots whose live sidecar is missing, and whether " +
    "restoring them is safe.",
  kinds: {
    orphan_backup: {
      category: "repairable",
      severity: "error",
      summary: "The live sidecar is missing but a parsable .bak remains.",
      explain:
        "The session's <sid>.json is gone while <sid>.json.bak parses, " +
        "state.db still has the session (or cannot say), and the delete " +
        "tombstone does not list it: a crash or a failed save lost the live " +
        "file, not a delete. Repair: restore_from_bak creates <sid>.json as a " +
        "byte copy of the backup (create-or-fail, so a file the server " +
        "writes meanwhile wins), then the index is rebuilt.",
    },
    malformed_orphan_backup: {
      category: "unsafe_to_repair",
      severity: "error",
      summary: "The live sidecar is missing and its .bak does not parse.",
      explain:
        "Nothing parsable is left to restore. The backup's bytes may still " +
        "hold most of the conversation: copy the file aside, repair the JSON " +
        "by hand (the evidence gives the byte offset of the error), and save " +
        "it as <sid>.json while the server is stopped.",
      resolutions: [{
        keep: "discard",
        meaning: "Move the .bak that does not parse into the run's quarantine.",
      }],
    },
    orphan_backup_state_db_unreadable: {
      category: "unsafe_to_repair",
      severity: "warning",
      summary:
        "The live sidecar is missing and state.db, which could tell a delete, cannot be read.",
      explain:
        "The session's <sid>.json is gone and its .bak parses, but state.db " +
        "exists and cannot be read (locked, unreadable, a hot journal, or a " +
        "WAL it cannot see), so hermes-fsck cannot tell a session the user " +
        "deleted (before the delete tombstone existed, or when the tombstone " +
        "write failed) from one a crash lost. The server restores such a " +
        "backup for availability; an fsck fails closed and leaves it. Make " +
        "state.db readable (the state-db-access finding and this message say " +
        "why it is not: stop the agent if it holds it locked, fix its " +
        "permissions, start the agent once to roll back a hot journal, or " +
        "pass the right --state-db) and run again: the backup is then " +
        "restored if state.db still has the session.",
      resolutions: RESTORE_OR_DISCARD,
    },
    orphan_backup_without_state_row: {
      category: "unsafe_to_repair",
      severity: "warning",
      summary:
        "The live sidecar is missing and state.db no longer has the session.",
      explain:
        "A readable state.db without the session's row means the session was " +
        "most likely deleted, and restoring the backup would resurrect it. " +
        "If the user did not delete it, rename <sid>.json.bak to <sid>.json " +
        "while the server is stopped; otherwise delete the backup.",
      resolutions: RESTORE_OR_DISCARD,
    },
  },
  create: (context) => {
    return {
      session({ files: session, store }) {
        const { live, backup, sessionId } = session;
        if (live || !backup) return;
        if (deletion(store, sessionId) === "deleted") return;
        // A backup of another session is never restored here; the
        // sidecar-identity check reports it for review.
        if (foreignSessionId(backup, sessionId)) return;
        const bakMessages = messageCountOf(backup);
        const paths = [backup.name];
        if (bakMessages < 0) {
          const problem = backup.read.ok
            ? {
              reason: "not_a_session",
              detail: "is not a session object with a messages list",
            }
            : backup.read.problem;
          context.report({
            kind: "malformed_orphan_backup",
            sessionId,
            paths,
            message:
              `${sessionId}.json is missing and ${backup.name} ${problem.detail}.`,
            evidence: {
              liveMessages: -1,
              bakMessages,
              problem: problem.reason,
              ...("offset" in problem && problem.offset !== undefined
                ? { offset: problem.offset }
                : {}),
            },
          });
          return;
        }
        const known = stateDbKnowsSession(store, sessionId);
        const db = stateDbOf(store, store.sessions.get(sessionId));
        if (known === null && db.status === "unreadable") {
          context.report({
            kind: "orphan_backup_state_db_unreadable",
            sessionId,
            paths,
            message: `${sessionId}.json is missing and ${backup.name} holds ` +
              `${bakMessages} messages, but state.db ${db.path} ` +
              `${db.detail}; until it can be read a deleted session ` +
              "cannot be told from a lost one, so the backup is not restored.",
            evidence: {
              liveMessages: -1,
              bakMessages,
              stateDbProblem: db.problem,
            },
          });
        } else if (known) {
          context.report({
            kind: "orphan_backup",
            sessionId,
            paths,
            message:
              `${sessionId}.json is missing; ${backup.name} holds ${bakMessages} messages.`,
            evidence: { liveMessages: -1, bakMessages },
          });
        } else {
          context.report({
            kind: "orphan_backup_without_state_row",
            sessionId,
            paths,
            message:
              `${sessionId}.json is missing and state.db has no row for it; ` +
              `${backup.name} holds ${bakMessages} messages.`,
            evidence: { liveMessages: -1, bakMessages },
          });
        }
      },
    };
  },
});
