/**
 * The files the scan reads in this thread, not in a task: the index, the
 * tombstone and the pruned-orphans list. They are queued as the session dir
 * is listed and read while no worker runs (see core/scan/snapshot.ts).
 *
 * @example
 * ```ts
 * import { readIndex, readOwnFiles } from "./own_reads.ts";
 * import { ScanRun } from "./scan_run.ts";
 * const run = new ScanRun({ sessionDir: "/srv/sessions", stateDbPath: null });
 * readIndex(run, "_index.json");
 * await readOwnFiles(run);
 * run.store.index?.read.ok;
 * ```
 * @module
 */

import { join } from "../io/path.ts";
import {
  fileConsumer,
  type FileContents,
  openRegularFile,
  type Parsed,
  parseJsonBytes,
  wholeFile,
} from "../io/file_read.ts";
import { tombstoneSummary } from "../store/tombstone.ts";
import { parsePrunedOrphans } from "../store/pruned_orphans.ts";
import { summarizeIndexByParts, summarizeIndexFile } from "./index_scan.ts";
import type { ScannedFile, TombstoneSummary } from "./store_snapshot.ts";
import type { ScanRun } from "./scan_run.ts";

/**
 * Queues the read of the index. Checked in parts, a big index is walked
 * once for the part of each entry, and its entries are read again a part
 * at a time (see index_scan.ts).
 *
 * @example
 * ```ts
 * import { readIndex } from "./own_reads.ts";
 * import type { ScanRun } from "./scan_run.ts";
 * declare const run: ScanRun;
 * readIndex(run, "_index.json");
 * ```
 */
export function readIndex(run: ScanRun, name: string): void {
  if (run.lazy) {
    run.ownReads.push(() => readIndexByParts(run, name));
    return;
  }
  readHere(
    run,
    name,
    (readAt, statSize, maxBytes) =>
      summarizeIndexFile(readAt, statSize, maxBytes, { pool: run.pool }),
    (f) => run.store.index = f,
  );
}

/**
 * Queues the read of the delete tombstone.
 *
 * @example
 * ```ts
 * import { readTombstone } from "./own_reads.ts";
 * import { TOMBSTONE_FILE } from "../store/layout.ts";
 * import type { ScanRun } from "./scan_run.ts";
 * declare const run: ScanRun;
 * readTombstone(run, TOMBSTONE_FILE);
 * ```
 */
export function readTombstone(run: ScanRun, name: string): void {
  readHere(
    run,
    name,
    wholeFile(parseTombstone),
    (f) => run.store.tombstone = f,
  );
}

/**
 * Queues the read of the pruned-orphans list.
 *
 * @example
 * ```ts
 * import { readPrunedOrphans } from "./own_reads.ts";
 * import { PRUNED_ORPHANS_FILE } from "../store/layout.ts";
 * import type { ScanRun } from "./scan_run.ts";
 * declare const run: ScanRun;
 * readPrunedOrphans(run, PRUNED_ORPHANS_FILE);
 * ```
 */
export function readPrunedOrphans(run: ScanRun, name: string): void {
  readHere(
    run,
    name,
    wholeFile(parsePrunedOrphans),
    (f) => run.store.prunedOrphans = f,
  );
}

/**
 * Reads the queued files, one after the other, counting each as done.
 *
 * @example
 * ```ts
 * import { readOwnFiles } from "./own_reads.ts";
 * import type { ScanRun } from "./scan_run.ts";
 * declare const run: ScanRun;
 * await readOwnFiles(run);
 * ```
 */
export async function readOwnFiles(run: ScanRun): Promise<void> {
  for (const read of run.ownReads) {
    await read();
    run.report(1);
  }
}

function readHere<T>(
  run: ScanRun,
  name: string,
  contents: FileContents<T>,
  put: (file: ScannedFile<T>) => void,
): void {
  const path = join(run.options.sessionDir, name);
  run.ownReads.push(async () => {
    const read = await fileConsumer<T>((readAt, statSize, maxBytes) => {
      const made = contents(readAt, statSize, maxBytes);
      if (made) run.countRead(made.bytes);
      return made;
    });
    put({ name, path, read: read(path, run.maxBytes) });
  });
}

async function readIndexByParts(run: ScanRun, name: string): Promise<void> {
  const path = join(run.options.sessionDir, name);
  const opened = await openRegularFile(path, run.maxBytes);
  if (!opened.ok) {
    run.store.index = { name, path, read: opened };
    return;
  }
  const made = summarizeIndexByParts(
    opened.file,
    path,
    run.maxBytes,
    run.partOf,
  );
  if (made.bytes !== null) run.countRead(made.bytes);
  run.store.index = { name, path, read: made.read };
  if (made.parts) run.indexParts = run.parts!.sources.indexEntries = made.parts;
  else opened.file.close();
}

function parseTombstone(bytes: Uint8Array): Parsed<TombstoneSummary> {
  const parsed = parseJsonBytes(bytes);
  if (!parsed.ok) return parsed;
  return { ok: true, value: tombstoneSummary(parsed.value) };
}
