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
  type OpenFile,
  type Parsed,
  parseJsonBytes,
  type ReadAt,
  readAtBytes,
  readOpenFile,
  type ReadResult,
  reusedBuffer,
  wholeFile,
} from "./file_read.ts";
import { parseJsonSpan } from "./json_scan.ts";
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
  return summarizeIndexWith(
    readAt,
    statSize,
    maxBytes,
    options,
    (listed, value, position) => addEntry(listed, value, position, pool),
  ).made;
}

/**
 * What {@linkcode summarizeIndexWith} does with each element of a list it
 * walks: `start` and `end` are where the element is in the file.
 */
type OnListElement = (
  listed: IndexSummary,
  value: unknown,
  position: number,
  start: number,
  end: number,
) => void;

/**
 * The index summarized: a small file, or anything that is not a valid
 * list, parsed whole (its entries kept); a big list walked, each element
 * handed to `onElement`. `walked` says which.
 */
function summarizeIndexWith(
  readAt: ReadAt,
  statSize: number,
  maxBytes: number,
  options: IndexReadOptions,
  onElement: OnListElement,
): {
  made: { value: Parsed<IndexSummary>; bytes: number } | null;
  walked: boolean;
} {
  const pool = options.pool ?? null;
  const parseWhole = () => ({
    made: wholeFile((bytes) => summarizeParsedIndex(bytes, pool))(
      readAt,
      statSize,
      maxBytes,
    ),
    walked: false,
  });
  if (statSize <= (options.parseWholeUpTo ?? PARSE_WHOLE_UP_TO_BYTES)) {
    return parseWhole();
  }
  const listed: IndexSummary = { shape: "list", entries: [], badEntries: [] };
  let position = 0;
  const walk = eachListElementRead(readAt, (b, start, end, offset) => {
    // One entry parsed whole is garbage of a kilobyte that dies young, and
    // JSON.parse is native: twice as fast as picking members out in
    // JavaScript.
    const value = parseJsonSpan(b, start, end);
    onElement(listed, value, position++, offset + start, offset + end);
  }, { windowBytes: INDEX_WINDOW_BYTES, maxBytes });
  if (walk === null) return { made: null, walked: false };
  if (!walk.isList) return parseWhole();
  return {
    made: { value: { ok: true, value: listed }, bytes: walk.bytes },
    walked: true,
  };
}

/**
 * `_index.json` read for an audit part by part: the summary, with no
 * entries when the file is a list, and then the entries of each part.
 *
 * @example
 * ```ts
 * const { read, parts } = summarizeIndexByParts(file, path, maxBytes, partOf);
 * const firstPartsEntries = parts?.take() ?? [];
 * ```
 */
export interface IndexByParts {
  /** The index as the checks see it, without the entries of a list. */
  read: ReadResult<IndexSummary>;
  /** Bytes read; null when the file was not read (it could not be opened). */
  bytes: number | null;
  /**
   * The list's entries, a part at a time; null when the file is not a
   * valid list (then `read` has whatever entries it has, and the file can
   * be closed).
   */
  parts: IndexParts | null;
}

/**
 * Summarizes an open `_index.json` for a store audited part by part
 * (core/part_scan.ts): the list is walked once, as
 * {@linkcode summarizeIndexFile} walks a big one, but of each entry only
 * where it is in the file is kept, filed under the part of its session
 * (`partOf`, from 0 in id order). Each part's entries are read again from
 * the file when that part is checked. So memory stays a few numbers an
 * entry, where the entries themselves are a third of a kilobyte each.
 * A small file, or anything that is not a valid list, is parsed whole, as
 * {@linkcode summarizeIndexFile} parses it, with its entries.
 *
 * @example
 * ```ts
 * const opened = await openRegularFile(path, maxBytes);
 * if (opened.ok) {
 *   const { read, parts } = summarizeIndexByParts(opened.file, path, maxBytes, partOf);
 *   if (!parts) opened.file.close(); // else parts.close() once done
 * }
 * ```
 */
export function summarizeIndexByParts(
  file: OpenFile,
  path: string,
  maxBytes: number,
  partOf: (sessionId: string) => number,
  options: Pick<IndexReadOptions, "parseWholeUpTo"> = {},
): IndexByParts {
  // Per part: the position, start and end of each entry, in file order.
  const spans: number[][] = [];
  let walked = false;
  let bytes: number | null = null;
  const read = readOpenFile(file, (readAt, statSize, maxBytes) => {
    const summary = summarizeIndexWith(
      readAt,
      statSize,
      maxBytes,
      options,
      (listed, value, position, start, end) => {
        if (isListedSession(value)) {
          (spans[partOf(value.session_id)] ??= []).push(position, start, end);
        } else listed.badEntries.push(position);
      },
    );
    walked = summary.walked;
    bytes = summary.made?.bytes ?? null;
    return summary.made;
  }, maxBytes);
  return {
    read,
    bytes,
    parts: read.ok && walked ? new IndexParts(file, path, spans, partOf) : null,
  };
}

/**
 * The entries of an index list, read from the open file one part at a time
 * (see {@linkcode summarizeIndexByParts}). If the file was written to in
 * place since the walk, `take` throws rather than give entries that are
 * not the ones walked. A file renamed over the index meanwhile does not
 * matter: the open file is still the one walked.
 *
 * @example
 * ```ts
 * for (let k = 0; k < partCount; k++) check(parts.take());
 * parts.close();
 * ```
 */
export class IndexParts {
  #file: OpenFile;
  #path: string;
  /** Per part: position, start and end of each entry, in file order. */
  #spans: number[][];
  #partOf: (sessionId: string) => number;
  #next = 0;
  #buffer = reusedBuffer();

  /**
   * Takes over `file`: {@linkcode IndexParts.close} closes it.
   *
   * @example
   * ```ts
   * const parts = new IndexParts(file, path, spans, partOf);
   * ```
   */
  constructor(
    file: OpenFile,
    path: string,
    spans: number[][],
    partOf: (sessionId: string) => number,
  ) {
    this.#file = file;
    this.#path = path;
    this.#spans = spans;
    this.#partOf = partOf;
  }

  /**
   * The entries of the next part (parts 0, 1, 2, ... in turn), in list
   * order.
   *
   * @example
   * ```ts
   * const entries: IndexEntry[] = parts.take();
   * ```
   */
  take(): IndexEntry[] {
    const part = this.#next++;
    const spans = this.#spans[part] ?? [];
    this.#spans[part] = [];
    if (spans.length > 0 && this.#file.changed()) throw this.#changed();
    const entries: IndexEntry[] = [];
    for (let i = 0; i < spans.length; i += 3) {
      const length = spans[i + 2] - spans[i + 1];
      const bytes = this.#buffer(length).subarray(0, length);
      // Anything but the entry walked there means the file changed.
      let value: unknown = null;
      try {
        if (this.#file.readAt(bytes, spans[i + 1]) === length) {
          value = parseJsonSpan(bytes, 0, length);
        }
      } catch { /* not JSON any more: value stays null */ }
      if (!isListedSession(value) || this.#partOf(value.session_id) !== part) {
        throw this.#changed();
      }
      entries.push(indexEntry(value, spans[i], null));
    }
    return entries;
  }

  /**
   * Closes the file.
   *
   * @example
   * ```ts
   * parts.close();
   * ```
   */
  close(): void {
    this.#file.close();
  }

  #changed(): Error {
    return new Error(
      `${this.#path} was written to while hermes-fsck read it; run the ` +
        "audit again (with the server stopped, if it keeps happening)",
    );
  }
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
  if (isListedSession(value)) {
    summary.entries.push(indexEntry(value, position, pool));
  } else summary.badEntries.push(position);
}

/** An entry the checks can use: an object with a string `session_id`. */
function isListedSession(
  value: unknown,
): value is Record<string, unknown> & { session_id: string } {
  return isPlainObject(value) && typeof value.session_id === "string";
}

/** What is kept of a listed session's entry. */
function indexEntry(
  value: Record<string, unknown> & { session_id: string },
  position: number,
  pool: StringPool | null,
): IndexEntry {
  const entry = orderedFields(value);
  if (pool) {
    for (const field in entry) entry[field] = pool.value(entry[field]);
  }
  // Written out, not spread: a spread object is twice the size, kept once
  // per session.
  return {
    sessionId: pool ? pool.string(value.session_id) : value.session_id,
    entry,
    position,
  };
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
