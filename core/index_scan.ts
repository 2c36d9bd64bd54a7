/**
 * `_index.json` summarized from its bytes: the list is walked one entry at
 * a time and, of each entry, only `session_id` and the fields the checks
 * compare ({@linkcode INDEX_ENTRY_FIELDS}) are parsed. A big store's index
 * is tens of MB of entries of some forty fields each; parsing each whole
 * made as much garbage again as the file at the start of every scan.
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

import { type Parsed, parseJsonBytes } from "./file_read.ts";
import {
  bytesEqual,
  eachListElement,
  eachObjectMember,
  parseJsonSpan,
} from "./json_scan.ts";
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
 * Summarizes the bytes of `_index.json`. With a `pool`, short strings and
 * small values go through it, so an entry's id and title share the copies
 * of the sidecar's and the state.db row's.
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
  const listed: IndexSummary = { shape: "list", entries: [], badEntries: [] };
  let position = 0;
  const isList = eachListElement(bytes, (start) => {
    const entry = entryAt(bytes, start, pool);
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
  });
  if (isList) return { ok: true, value: listed };
  return summarizeParsedIndex(bytes);
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
