/**
 * The store as a dry run's first pass would leave its sidecars: the
 * snapshot with each planned sidecar write summarized from its planned
 * bytes and each planned removal gone. A real run defers the repairs that
 * follow the sidecars (the index rebuild) to its next pass; a dry run plans
 * them on this store, so its plan shows the `_index.json` the real run
 * writes.
 *
 * @example
 * ```ts
 * import { plannedStore } from "./planned_store.ts";
 * import type { StoreSnapshot } from "./store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * declare const bytes: Uint8Array;
 * const next = plannedStore(store, new Map([["abc.json", bytes]]));
 * next?.sessions.get("abc")?.live?.read.ok; // true
 * ```
 * @module
 */

import { join } from "node:path";
import type { FileIdentity } from "../io/file_read.ts";
import { summarizeSidecarBytes } from "./sidecar_scan.ts";
import type { SessionFiles, StoreSnapshot } from "./snapshot.ts";
import { classifyName } from "../store/layout.ts";

/** The identity a planned file is given: no file has it yet. */
const PLANNED: FileIdentity = { size: 0, mtimeMs: 0, ino: 0, dev: 0 };

/**
 * The snapshot with `writes` (sidecar path to its planned bytes, or null
 * for a removal) applied to its sessions; null when a planned sidecar does
 * not summarize (then no later pass can be planned on it).
 *
 * @example
 * ```ts
 * import { plannedStore } from "./planned_store.ts";
 * import type { StoreSnapshot } from "./store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * plannedStore(store, new Map([["old.json", null]]))?.sessions.get("old")?.live; // undefined
 * ```
 */
export function plannedStore(
  store: StoreSnapshot,
  writes: ReadonlyMap<string, Uint8Array | null>,
): StoreSnapshot | null {
  const sessions = new Map(store.sessions);
  for (const [path, data] of writes) {
    const name = classifyName(path);
    if (name.type !== "sidecar") continue;
    const before: SessionFiles = sessions.get(name.sessionId) ??
      { sessionId: name.sessionId, temps: [] };
    const after: SessionFiles = { ...before };
    if (data === null) delete after.live;
    else {
      const summary = summarizeSidecarBytes(data);
      if (!summary.ok) return null;
      after.live = {
        name: path,
        path: join(store.sessionDir, path),
        read: {
          ok: true,
          value: summary.value,
          identity: { ...PLANNED, size: data.length },
        },
      };
    }
    sessions.set(name.sessionId, after);
  }
  return { ...store, sessions };
}
