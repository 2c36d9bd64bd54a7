/**
 * `_index.json` summarized as it is read: the list is walked one entry at
 * a time, through a window of the file, and of each entry only `session_id`
 * and the fields the checks compare ({@linkcode INDEX_ENTRY_FIELDS}) are
 * kept. A big store's index is tens of MB of entries of some forty fields
 * each: parsed all at once it made as much garbage again as the file, and
 * holding the file whole was the audit's peak of memory. A small index is
 * parsed whole, which is faster.
 * Anything that is not a valid list is parsed whole, so its problem is
 * reported with its exact reason and offset.
 *
 * @example
 * ```ts
 * import { summarizeIndexBytes } from "./index_scan.ts";
 * import { StringPool } from "./string_pool.ts";
 * const read = summarizeIndexBytes(
 *   new TextEncoder().encode('[{"session_id": "a", "title": "T", "model": "m"}]'),
 *   { pool: new StringPool() },
 * );
 * if (read.ok) read.value.entries[0].entry; // { title: "T" }
 * ```
 * @module
 */

import {
  type Parsed,
  parseJsonBytes,
  type ReadAt,
  readAtBytes,
  wholeFile,
} from "./file_read.ts";
import { parseJsonSpan } from "./json_scan.ts";
import { eachListElementRead } from "./json_list_stream.ts";
import { isPlainObject } from "./sidecar_summary.ts";
import type { IndexSummary } from "./snapshot.ts";
import type { StringPool } from "./string_pool.ts";

/**
 * The fields of an index entry the checks compare with its sidecar; the
 * scan keeps no others.
 *
 * @example
 * ```ts
 * INDEX_ENTRY_FIELDS.includes("title"); // true
 * ```
 */
export const INDEX_ENTRY_FIELDS = [
  "message_count",
  "title",
  "updated_at",
  "last_message_at",
] as const;

/**
 * The window `_index.json` is read through: an entry is about 1 KB, and
 * 64 KiB stays under glibc's threshold for a buffer of its own mapping.
 */
const INDEX_WINDOW_BYTES = 64 << 10;

/**
 * An index up to this size is parsed whole: JSON.parse is native, so it is
 * fast from the first byte, where the walk runs cold for a small file
 * (about 30 ms at 1,000 sessions, 1.2 MB), and the garbage of a few MB
 * does not matter in a small store.
 */
const PARSE_WHOLE_UP_TO_BYTES = 2 << 20;

/**
 * How {@linkcode summarizeIndexFile} reads.
 *
 * @example
 * ```ts
 * const options: IndexReadOptions = { pool: new StringPool() };
 * ```
 */
export interface IndexReadOptions {
  /**
   * Short strings and small values go through it, so an entry's id and
   * title share the copies of the sidecar's and the state.db row's.
   */
  pool?: StringPool | null;
  /** Parse a file up to this size whole; bigger ones are walked (2 MiB). */
  parseWholeUpTo?: number;
}

/**
 * Summarizes `_index.json` from an open file (the {@linkcode FileContents}
 * of core/file_read.ts). A big list is read a window at a time; a small
 * file, or anything that is not a valid list, is parsed whole, the latter
 * for its exact shape or problem.
 *
 * @example
 * ```ts
 * import { readAtBytes } from "./file_read.ts";
 * const bytes = new TextEncoder().encode('[{"session_id": "a"}]');
 * summarizeIndexFile(readAtBytes(bytes), bytes.length, 1 << 20)?.value;
 * // { ok: true, value: { shape: "list", entries: [...], badEntries: [] } }
 * ```
 */
export function summarizeIndexFile(
  readAt: ReadAt,
  statSize: number,
  maxBytes: number,
  options: IndexReadOptions = {},
): { value: Parsed<IndexSummary>; bytes: number } | null {
  const pool = options.pool ?? null;
  const parseWhole = () =>
    wholeFile((bytes) => summarizeParsedIndex(bytes, pool))(
      readAt,
      statSize,
      maxBytes,
    );
  if (statSize <= (options.parseWholeUpTo ?? PARSE_WHOLE_UP_TO_BYTES)) {
    return parseWhole();
  }
  const listed: IndexSummary = { shape: "list", entries: [], badEntries: [] };
  let position = 0;
  const walk = eachListElementRead(readAt, (b, start, end) => {
    // One entry parsed whole is garbage of a kilobyte that dies young, and
    // JSON.parse is native: twice as fast as picking members out in
    // JavaScript.
    addEntry(listed, parseJsonSpan(b, start, end), position++, pool);
  }, { windowBytes: INDEX_WINDOW_BYTES, maxBytes });
  if (walk === null) return null;
  if (walk.isList) {
    return { value: { ok: true, value: listed }, bytes: walk.bytes };
  }
  return parseWhole();
}

/**
 * {@linkcode summarizeIndexFile} of bytes already in memory.
 *
 * @example
 * ```ts
 * summarizeIndexBytes(new TextEncoder().encode("{}"), { pool }); // shape "object"
 * ```
 */
export function summarizeIndexBytes(
  bytes: Uint8Array,
  options: IndexReadOptions = {},
): Parsed<IndexSummary> {
  return summarizeIndexFile(
    readAtBytes(bytes),
    bytes.length,
    Infinity,
    options,
  )!.value;
}

/**
 * Adds the list element at `position` to the summary: its id and compared
 * fields when it is an object with a string `session_id`, else its
 * position as a bad entry.
 */
function addEntry(
  summary: IndexSummary,
  value: unknown,
  position: number,
  pool: StringPool | null,
): void {
  if (!isPlainObject(value) || typeof value.session_id !== "string") {
    summary.badEntries.push(position);
    return;
  }
  const entry = orderedFields(value);
  if (pool) {
    for (const field in entry) entry[field] = pool.value(entry[field]);
  }
  // Written out, not spread: a spread object is twice the size, kept once
  // per session.
  summary.entries.push({
    sessionId: pool ? pool.string(value.session_id) : value.session_id,
    entry,
    position,
  });
}

/** The fields in the order of INDEX_ENTRY_FIELDS, as JSON.parse would not. */
function orderedFields(
  entry: Record<string, unknown>,
): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const field of INDEX_ENTRY_FIELDS) {
    if (Object.hasOwn(entry, field)) kept[field] = entry[field];
  }
  return kept;
}

/** An index that is not a valid list: parsed whole, for its exact shape or problem. */
function summarizeParsedIndex(
  bytes: Uint8Array,
  pool: StringPool | null,
): Parsed<IndexSummary> {
  const parsed = parseJsonBytes(bytes);
  if (!parsed.ok) return parsed;
  const value = parsed.value;
  const summary: IndexSummary = {
    shape: Array.isArray(value)
      ? "list"
      : isPlainObject(value)
      ? "object"
      : "scalar",
    entries: [],
    badEntries: [],
  };
  if (Array.isArray(value)) {
    value.forEach((entry, position) =>
      addEntry(summary, entry, position, pool)
    );
  }
  return { ok: true, value: summary };
}
