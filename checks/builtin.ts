/**
 * The built-in checks, in the order they run and report, registered with
 * the built-in repairs (each kind's repair is the one whose `fixes` names
 * it; see core/plugins/registry.ts). Add a check by adding it here (or pass your
 * own list to the pipeline).
 *
 * @example
 * ```ts
 * import { builtinChecks } from "./builtin.ts";
 * builtinChecks.map((c) => c.id); // ["shrunken-live", "orphan-backup", ...]
 * ```
 * @module
 */

import type { Check } from "../core/plugins/check.ts";
import { registerChecks } from "../core/plugins/registry.ts";
import { builtinRepairs } from "../repairs/builtin.ts";
import { deletedTombstone } from "./deleted_tombstone.ts";
import { indexCoverage } from "./index_coverage.ts";
import { indexDrift } from "./index_drift.ts";
import { indexShape } from "./index_shape.ts";
import { malformedBackup } from "./malformed_backup.ts";
import { malformedLive } from "./malformed_live.ts";
import { orphanBackup } from "./orphan_backup.ts";
import { sessionIds } from "./session_ids.ts";
import { shrunkenLive } from "./shrunken_live.ts";
import { sidecarIdentity } from "./sidecar_identity.ts";
import { stateDbAccess } from "./state_db_access.ts";
import { stateDbSidecars } from "./state_db_sidecars.ts";
import { tempFiles } from "./temp_files.ts";
import { turnJournalPending } from "./turn_journal_pending.ts";
import { unreadableFiles } from "./unreadable_files.ts";
import { redundantBackup } from "./redundant_backup.ts";
import { staleStreamState } from "./stale_stream_state.ts";
import { staleStreamOutput } from "./stale_stream_output.ts";
import { streamRunCompleted } from "./stream_run_completed.ts";
import { runJournalLines } from "./run_journal_lines.ts";
import { runJournalOrphan } from "./run_journal_orphan.ts";
import { runJournalPaths } from "./run_journal_paths.ts";
import { turnJournalHealth } from "./turn_journal_health.ts";
import { stateDbHealth } from "./state_db_health.ts";
import { stateDbSidecarDrift } from "./state_db_sidecar_drift.ts";
import { runRecords } from "./run_records.ts";
import { sourceFlags } from "./source_flags.ts";
import { sidebarVisibility } from "./sidebar_visibility.ts";

/**
 * Every built-in check. The first six report the server's own audit kinds, in its order.
 *
 * @example
 * ```ts
 * import type { Check } from "../core/plugins/check.ts";
 * declare const myCheck: Check;
 * const checks = [...builtinChecks, myCheck];
 * ```
 */
export const builtinChecks: readonly Check[] = registerChecks([
  shrunkenLive,
  orphanBackup,
  indexCoverage,
  stateDbSidecars,
  turnJournalPending,
  deletedTombstone,
  sessionIds,
  unreadableFiles,
  stateDbAccess,
  malformedLive,
  malformedBackup,
  sidecarIdentity,
  indexShape,
  indexDrift,
  tempFiles,
  redundantBackup,
  staleStreamState,
  staleStreamOutput,
  streamRunCompleted,
  turnJournalHealth,
  runJournalLines,
  runJournalOrphan,
  runJournalPaths,
  stateDbHealth,
  stateDbSidecarDrift,
  runRecords,
  sidebarVisibility,
  sourceFlags,
], builtinRepairs);
