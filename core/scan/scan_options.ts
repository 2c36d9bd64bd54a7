/**
 * What a scan is asked to do ({@linkcode ScanOptions}), how far it is
 * ({@linkcode ScanProgress}), and the limits it keeps by default.
 *
 * @example
 * ```ts
 * import { DEFAULT_MAX_FILE_BYTES, type ScanOptions } from "./scan_options.ts";
 * const options: ScanOptions = {
 *   sessionDir: "/srv/sessions",
 *   stateDbPath: null,
 *   maxFileBytes: DEFAULT_MAX_FILE_BYTES,
 * };
 * ```
 * @module
 */

import type { TempOrigin } from "../store/layout.ts";
import type { ScanParts } from "./store_snapshot.ts";

/**
 * Default limit on the size of one file read by the scan: 256 MiB.
 *
 * @example
 * ```ts
 * import { scanStore } from "./snapshot.ts";
 * import { DEFAULT_MAX_FILE_BYTES } from "./scan_options.ts";
 * declare const sessionDir: string;
 * await scanStore({ sessionDir, stateDbPath: null, maxFileBytes: DEFAULT_MAX_FILE_BYTES * 2 });
 * ```
 */
export const DEFAULT_MAX_FILE_BYTES = 256 * 1024 * 1024;

/**
 * What to scan.
 *
 * @example
 * ```ts
 * import type { ScanOptions } from "./scan_options.ts";
 * const options: ScanOptions = { sessionDir: "/srv/sessions", stateDbPath: null, workers: 0 };
 * ```
 */
export interface ScanOptions {
  /** The WebUI session dir. */
  sessionDir: string;
  /** The agent's state.db, or null to scan without one. */
  stateDbPath: string | null;
  /** Files larger than this are reported, not read. */
  maxFileBytes?: number;
  /**
   * @deprecated Unused: files are read synchronously, and `workers` sets
   * how many threads read at once.
   */
  concurrency?: number;
  /**
   * Worker threads that read and parse files beside this one; 0 keeps the
   * scan in this thread (the least memory). By default one per extra core
   * (at most 3) for a store of about 64 MB or more (`MIN_BYTES_FOR_WORKERS`
   * in pool.ts), else none. The results are the same either way.
   */
  workers?: number;
  /**
   * Trim the heaps (this thread's, the workers') as the scan goes, where
   * V8 exposes `gc` (see heap_trim.ts). By default for a store of 256 MB or
   * more (`MIN_BYTES_FOR_HEAP_TRIM`), whose scan is long enough to need it.
   */
  trimHeap?: boolean;
  /** Called as files are scanned, for a progress line. */
  onProgress?: (progress: ScanProgress) => void;
  /**
   * Asked between sessions (and parts): once true (a signal), the scan
   * stops its workers and rejects with `Interrupted` (core/io/interrupt.ts).
   */
  interrupted?: () => boolean;
  /** The agent's home (for core transcripts), or null. */
  hermesHome?: string | null;
  /**
   * Compare each session with the state.db of its profile home (see
   * core/state_db/profile_state_db.ts): `base` holds `profiles/`, `defaultStateDb`
   * is the default home's. Absent (or null) when one state.db serves
   * every session (`--state-db`) or none is used.
   */
  profiles?: { base: string; defaultStateDb: string } | null;
  /**
   * Hand the sessions over a part at a time instead of keeping them all:
   * memory then stays flat however big the store is. The snapshot
   * returned has no sessions, and a big index's entries and state.db's
   * rows are only in the parts (they are read a part at a time).
   */
  parts?: ScanParts;
}

/**
 * How far a scan is.
 *
 * @example
 * ```ts
 * import type { ScanProgress } from "./scan_options.ts";
 * const onProgress = (p: ScanProgress) => console.error(`${p.filesDone}/${p.files}`);
 * ```
 */
export interface ScanProgress {
  /** Files read (or found unreadable) so far. */
  filesDone: number;
  /** Files the scan will read. */
  files: number;
  /** Bytes read so far. */
  bytesRead: number;
  /** Time since the reading started. */
  elapsedMs: number;
}

/**
 * Origins of temps whose content is a whole sidecar (a save, a backup, a
 * recovery write), which the scan reads and summarizes.
 *
 * @example
 * ```ts
 * import { SUMMARIZED_TEMP_ORIGINS } from "./scan_options.ts";
 * SUMMARIZED_TEMP_ORIGINS.has("sidecar_save"); // true
 * SUMMARIZED_TEMP_ORIGINS.has("index_save"); // false
 * ```
 */
export const SUMMARIZED_TEMP_ORIGINS: ReadonlySet<TempOrigin> = new Set([
  "sidecar_save",
  "backup_save",
  "recover",
  "reconcile",
]);
