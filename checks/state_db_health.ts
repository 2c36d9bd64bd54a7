/**
 * state.db health once it could be read: `PRAGMA quick_check` problems, an
 * old schema that leaves some checks without the columns they need (named,
 * with the checks it cost), and a `-wal` a crash left without its `-shm`.
 * A state.db that cannot be opened at all (a hot `-journal` among other
 * reasons) is the state-db-access check's.
 *
 * @example
 * ```ts
 * import { stateDbHealth } from "./state_db_health.ts";
 * import { runChecks } from "../core/plugins/pipeline.ts";
 * import type { StoreSnapshot } from "../core/scan/store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * const findings = await runChecks(store, [stateDbHealth], { now: Date.now(), serverStopped: false });
 * ```
 * @module
 */

import { defineCheck } from "../core/plugins/check.ts";
import type { FindingDraft } from "../core/report/finding.ts";
import {
  SESSION_COLUMNS,
  type StateDb,
  type StateDbReader,
  type StateDbSideFile,
  type StateDbSideFiles,
} from "../core/state_db/state_db.ts";
import { stateDbsInUse } from "../core/state_db/state_dbs_in_use.ts";
import { deletedTombstone } from "./deleted_tombstone.ts";
import { orphanBackup } from "./orphan_backup.ts";
import { sessionIds } from "./session_ids.ts";
import { stateDbSidecarDrift } from "./state_db_sidecar_drift.ts";
import { stateDbSidecars } from "./state_db_sidecars.ts";
import { turnJournalHealth } from "./turn_journal_health.ts";

/** What the tool loses when a column is missing. */
interface ColumnNeed {
  /** `table.column` names; the need is unmet when any one is missing. */
  columns: string[];
  /** Checks that cannot run without them. */
  skipped: string[];
  /** What still runs, but with less to go on. */
  degraded: string;
}

// Every session column but `source`, whose absence costs whole checks.
const SESSION_OPTIONAL = SESSION_COLUMNS.filter((c) => c !== "source")
  .map((c) => `sessions.${c}`);

const NEEDS: ColumnNeed[] = [
  {
    columns: ["sessions.id"],
    skipped: [
      stateDbSidecars.id,
      stateDbSidecarDrift.id,
    ],
    degraded: `${orphanBackup.id} cannot tell a deleted session (restores ` +
      `stay allowed), ${turnJournalHealth.id} judges no journal an orphan, ` +
      `and ${deletedTombstone.id} and ${sessionIds.id} skip state.db rows`,
  },
  {
    columns: ["sessions.source"],
    skipped: [stateDbSidecars.id, stateDbSidecarDrift.id],
    degraded:
      `webui rows cannot be told from others, so ${deletedTombstone.id} ` +
      `and ${sessionIds.id} skip state.db rows`,
  },
  {
    columns: ["messages.session_id", "messages.role", "messages.content"],
    skipped: [stateDbSidecarDrift.id],
    degraded:
      `message counts are unknown, so ${stateDbSidecars.id} reports every ` +
      "webui row without a sidecar as having no messages, and " +
      "materialize_from_state_db has no messages to copy",
  },
  {
    columns: ["messages.timestamp", "messages.id"],
    skipped: [],
    degraded: "materialize_from_state_db orders messages by rowid",
  },
  {
    columns: SESSION_OPTIONAL,
    skipped: [],
    degraded:
      "materialize_from_state_db gives a rebuilt sidecar defaults for them",
  },
];

/** The `state-db-health` check. */
export const stateDbHealth = defineCheck({
  id: "state-db-health",
  title: "state.db is sound, current and closed cleanly",
  description:
    "Runs PRAGMA quick_check on state.db, names the columns an old schema " +
    "lacks and the checks that cost, and reports side files a crash left " +
    "beside it.",
  kinds: {
    state_db_quick_check_failed: {
      category: "unsafe_to_repair",
      severity: "error",
      summary: "state.db fails PRAGMA quick_check.",
      explain: "SQLite's own consistency check found damage in the agent's " +
        "database (the evidence quotes it). hermes-fsck read what it could, " +
        "but rows may be missing from what it saw, and decisions based on " +
        "them (is a session deleted, does state.db have messages a sidecar " +
        "lacks) may be wrong; the agent may fail on the same pages. A " +
        "person must act: stop the agent, copy state.db with its -wal and " +
        "-shm, and rebuild it with sqlite3's `.recover` (or restore a " +
        "backup), then run hermes-fsck again.",
    },
    state_db_old_schema: {
      category: "info",
      severity: "warning",
      summary: "state.db lacks columns some checks need.",
      explain:
        "state.db was made by an older agent (or is not a Hermes database): " +
        "tables or columns that hermes-fsck reads are missing. Nothing is " +
        "damaged and the agent works with it, so this is info; but the " +
        "checks named in the evidence (skippedChecks) did not run, and " +
        "others ran with less to go on (degraded). Upgrading the agent " +
        "migrates the schema.",
    },
    state_db_leftover_files: {
      category: "info",
      severity: "info",
      summary: "A crash left a side file beside state.db.",
      explain: "A -wal without its -shm means the last process that wrote " +
        "state.db did not close it (a live connection always has the " +
        "-shm); the -wal holds committed transactions not yet copied into " +
        "state.db, and the next open rebuilds the -shm from it, as " +
        "hermes-fsck's own read just did. SQLite finishes this on its own, " +
        "so it is info, but NEVER delete a -wal: the transactions in it " +
        "would be lost. Copy it together with state.db in backups. A side " +
        "file that is not a regular file, or one left beside a missing " +
        "state.db, needs a look. (A hot -journal, a write cut short, keeps " +
        "state.db from being read at all: state_db_needs_rollback.)",
    },
  },
  // The default home's db, then each named profile's its sessions use.
  create: (context) => stateDbsInUse(context, healthOf),
});

/** What a state.db's side files, quick_check and schema show. */
function healthOf(db: StateDb): FindingDraft[] {
  const drafts: FindingDraft[] = [];
  if (db.sideFiles && db.path !== null) {
    drafts.push(...leftovers(db.sideFiles, db.status === "absent"));
  }
  if (db.status !== "ok") return drafts;
  if (db.integrityProblems.length > 0) {
    drafts.push({
      kind: "state_db_quick_check_failed",
      paths: [db.path],
      message: `state.db ${db.path} fails PRAGMA quick_check: ` +
        `${db.integrityProblems[0]}` +
        (db.integrityProblems.length > 1
          ? ` (and ${db.integrityProblems.length - 1} more)`
          : "") +
        ".",
      evidence: { problems: db.integrityProblems },
    });
  }
  const schema = oldSchema(db);
  if (schema) drafts.push(schema);
  return drafts;
}

function oldSchema(db: StateDbReader): FindingDraft | null {
  const has = (name: string) => {
    const [table, column] = name.split(".");
    return (table === "sessions" ? db.sessionColumns : db.messageColumns)
      .has(column);
  };
  const unmet = NEEDS.filter((need) => need.columns.some((c) => !has(c)));
  if (unmet.length === 0) return null;
  const missing = NEEDS.flatMap((need) => need.columns.filter((c) => !has(c)));
  const missingTables = (["sessions", "messages"] as const).filter((t) =>
    (t === "sessions" ? db.sessionColumns : db.messageColumns).size === 0
  );
  const skipped = [...new Set(unmet.flatMap((need) => need.skipped))];
  const degraded = unmet.map((need) => need.degraded);
  const lacks = [
    ...missingTables.map((t) => `the ${t} table`),
    ...missing.filter((c) => !missingTables.some((t) => c.startsWith(t + "."))),
  ];
  return {
    kind: "state_db_old_schema",
    paths: [db.path],
    message: `state.db ${db.path} lacks ${lacks.join(", ")}; ` +
      (skipped.length > 0
        ? `skipped: ${skipped.join(", ")}; `
        : "no check was skipped; ") +
      `${degraded.join("; ")}.`,
    evidence: {
      missingTables: [...missingTables],
      missingColumns: missing,
      skippedChecks: skipped,
      degraded,
    },
  };
}

function leftovers(
  side: StateDbSideFiles,
  dbMissing: boolean,
): FindingDraft[] {
  const drafts: FindingDraft[] = [];
  const report = (file: StateDbSideFile, problem: string, what: string) =>
    drafts.push({
      kind: "state_db_leftover_files",
      paths: [file.path],
      message: `${file.path} ${what}.`,
      evidence: { suffix: file.suffix, size: file.size, problem },
      key: file.suffix,
    });
  for (const file of [side.wal, side.shm, side.journal]) {
    if (!file) continue;
    if (!file.regular) {
      report(file, "not_regular_file", "is not a regular file");
    } else if (dbMissing) {
      report(file, "database_missing", "remains but state.db is missing");
    } else if (file === side.wal && !side.shm) {
      report(
        file,
        "wal_without_shm",
        `(${file.size} bytes) has no -shm beside it: state.db was not ` +
          "closed cleanly; keep the -wal, it holds committed transactions",
      );
    }
    // A -journal with a header beside a readable state.db belongs to a
    // writer in the middle of a transaction; one SQLite calls hot stops the
    // read and is state-db-access's. Neither is a leftover to report here.
  }
  return drafts;
}
