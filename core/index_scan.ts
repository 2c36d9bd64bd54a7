/**
 * `_index.json` summarized as it is read: the list is walked one entry at
 * a time, through a window of the file, and of each entry only `session_id`
 * and the fields the checks compare ({@linkcode INDEX_ENTRY_FIELDS}) are
 * parsed. A big store's index is tens of MB of entries of some forty
 * fields each; parsing each whole made as much garbage again as the file,
 * and holding the file whole was the audit's peak of memory.
 * Anything that is not a valid list is parsed whole, so its problem is
 * reported with its exact reason and offset.
 *
 * @example
 * ```ts
 * import { summarizeIndexBytes } from "./index_scan.ts";
 * import { StringPool } from "./string_pool.ts";
 * const read = summarizeIndexBytes(
 *   new TextEncoder().encode('[{"session_id": "a", "title": "T", "model": "m"}]'),
 *   new StringPool(),
 * );
 * if (read.ok) read.value.entries[0].entry; // { title: "T" }
 * ```
 * @module
 */

import {
  type Parsed,
  parseJsonBytes,
  readAllBytes,
  type ReadAt,
  readAtBytes,
} from "./file_read.ts";
import { bytesEqual, eachObjectMember, parseJsonSpan } from "./json_scan.ts";
import { eachListElementRead } from "./json_list_stream.ts";
import { isPlainObject } from "./sidecar_summary.ts";
import type { IndexEntry, IndexSummary } from "./snapshot.ts";
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

/** The names of the members an entry is read for, with their quotes. */
const WANTED = ["session_id", ...INDEX_ENTRY_FIELDS].map((name) => ({
  name,
  quoted: JSON.stringify(name),
}));

/**
 * The window `_index.json` is read through: an entry is about 1 KB, and
 * 64 KiB stays under glibc's threshold for a buffer of its own mapping.
 */
const INDEX_WINDOW_BYTES = 64 << 10;

/**
 * Summarizes `_index.json` from an open file (the {@linkcode FileContents}
 * of core/file_read.ts), reading a list a window at a time; anything that
 * is not a valid list is read again whole, for its exact shape or problem.
 * With a `pool`, short strings and small values go through it, so an
 * entry's id and title share the copies of the sidecar's and the state.db
 * row's.
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
  pool: StringPool | null = null,
): { value: Parsed<IndexSummary>; bytes: number } | null {
  const listed: IndexSummary = { shape: "list", entries: [], badEntries: [] };
  let position = 0;
  const walk = eachListElementRead(readAt, (b, start) => {
    const entry = entryAt(b, start, pool);
    // Written out, not spread: a spread object is twice the size, kept
    // once per session.
    if (entry) {
      listed.entries.push({
        sessionId: entry.sessionId,
        entry: entry.entry,
        position,
      });
    } else listed.badEntries.push(position);
    position++;
  }, { windowBytes: INDEX_WINDOW_BYTES, maxBytes });
  if (walk === null) return null;
  if (walk.isList) {
    return { value: { ok: true, value: listed }, bytes: walk.bytes };
  }
  const bytes = readAllBytes(readAt, statSize, maxBytes);
  if (bytes === null) return null;
  return { value: summarizeParsedIndex(bytes), bytes: bytes.length };
}

/**
 * {@linkcode summarizeIndexFile} of bytes already in memory.
 *
 * @example
 * ```ts
 * summarizeIndexBytes(new TextEncoder().encode("{}"), pool); // shape "object"
 * ```
 */
export function summarizeIndexBytes(
  bytes: Uint8Array,
  pool: StringPool | null = null,
): Parsed<IndexSummary> {
  return summarizeIndexFile(
    readAtBytes(bytes),
    bytes.length,
    Infinity,
    pool,
  )!.value;
}

/**
 * The id and compared fields of the entry at `start` (already validated by
 * the list walk), or null when it is not an object with a string
 * `session_id`. A repeated member counts once, its last value winning, as
 * in JSON.parse.
 */
function entryAt(
  b: Uint8Array,
  start: number,
  pool: StringPool | null,
): Omit<IndexEntry, "position"> | null {
  let sessionId: unknown = undefined;
  const entry: Record<string, unknown> = {};
  const isObject = eachObjectMember(b, start, (ns, ne, vs, ve) => {
    const name = memberName(b, ns, ne);
    if (name === null) return;
    const value = parseJsonSpan(b, vs, ve);
    if (name === "session_id") sessionId = value;
    else entry[name] = pool ? pool.value(value) : value;
  });
  if (!isObject || typeof sessionId !== "string") return null;
  return {
    sessionId: pool ? pool.string(sessionId) : sessionId,
    entry: orderedFields(entry),
  };
}

/** The name of a wanted member, or null; compared as bytes unless escaped. */
function memberName(b: Uint8Array, start: number, end: number): string | null {
  for (const { name, quoted } of WANTED) {
    if (bytesEqual(b, start, end, quoted)) return name;
  }
  for (let k = start; k < end; k++) {
    if (b[k] !== 0x5c) continue;
    // A name spelled with escapes ("\u0074itle") is still that name.
    const name = parseJsonSpan(b, start, end) as string;
    return WANTED.some((w) => w.name === name) ? name : null;
  }
  return null;
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
function summarizeParsedIndex(bytes: Uint8Array): Parsed<IndexSummary> {
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
    value.forEach((entry, position) => {
      if (isPlainObject(entry) && typeof entry.session_id === "string") {
        summary.entries.push({
          sessionId: entry.session_id,
          entry: orderedFields(entry),
          position,
        });
      } else {
        summary.badEntries.push(position);
      }
    });
  }
  return { ok: true, value: summary };
}
