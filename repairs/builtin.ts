/**
 * The built-in repairs, in the order a pass applies them: sidecars first,
 * then what is derived from them (the index) last.
 *
 * @example
 * ```ts
 * import { builtinRepairs } from "./builtin.ts";
 * builtinRepairs.map((r) => r.id); // ["restore_from_bak", ...]
 * ```
 * @module
 */

import type { Repair } from "../core/plugins/repair.ts";
import { materializeFromStateDb } from "./materialize_from_state_db.ts";
import { promoteTemp } from "./promote_temp.ts";
import { rebuildIndex } from "./rebuild_index.ts";
import { recoverPendingTurn } from "./recover_pending_turn.ts";
import { removeStaleTemp } from "./remove_stale_temp.ts";
import { restoreFromBak } from "./restore_from_bak.ts";
import { recoverStaleStream } from "./recover_stale_stream.ts";
import { removeRedundantBackup } from "./remove_redundant_backup.ts";

/**
 * Every built-in repair, in application order.
 *
 * @example
 * ```ts
 * import type { Repair } from "../core/plugins/repair.ts";
 * declare const myRepair: Repair;
 * const repairs = [...builtinRepairs, myRepair];
 * ```
 */
export const builtinRepairs: readonly Repair[] = [
  restoreFromBak,
  materializeFromStateDb,
  recoverPendingTurn,
  promoteTemp,
  removeStaleTemp,
  recoverStaleStream,
  removeRedundantBackup,
  rebuildIndex,
];
