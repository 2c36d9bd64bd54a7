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
} from "../io/file_read.ts";
import { parseJsonSpan } from "../json/json_scan.ts";
import { eachListElementRead } from "../json/json_list_stream.ts";
import { isPlainObject } from "../store/sidecar_summary.ts";
import type { IndexEntry, IndexSummary } from "./store_snapshot.ts";
import type { StringPool } from "./string_pool.ts";

/**
 * The fields of an index entry the checks compare with its sidecar; the
 * scan keeps no others.
 *
 * @example
 * ```ts
 * import { INDEX_ENTRY_FIELDS } from "./index_scan.ts";
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
 * Further fields of an entry the sidebar decides on (which tab a session is
 * in, whether the default list hides it), kept beside
 * {@linkcode INDEX_ENTRY_FIELDS} for the discoverability checks.
 *
 * @example
 * ```ts
 * import { INDEX_SIDEBAR_FIELDS } from "./index_scan.ts";
 * INDEX_SIDEBAR_FIELDS.includes("is_cli_session"); // true
 * ```
 */
export const INDEX_SIDEBAR_FIELDS = [
  "is_cli_session",
  "source_tag",
  "source",
  "raw_source",
  "session_source",
  "source_label",
  "project_id",
  "pre_compression_snapshot",
] as const;

/** Every field an entry keeps. */
const KEPT_FIELDS = [...INDEX_ENTRY_FIELDS, ...INDEX_SIDEBAR_FIELDS];

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
 * import type { IndexReadOptions } from "./index_scan.ts";
 * import { StringPool } from "./string_pool.ts";
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
 * of core/io/file_read.ts). A big list is read a window at a time; a small
 * file, or anything that is not a valid list, is parsed whole, the latter
 * for its exact shape or problem.
 *
 * @example
 * ```ts
 * import { summarizeIndexFile } from "./index_scan.ts";
 * import { readAtBytes } from "../io/file_read.ts";
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
  const walk = eachListElementRead(readAt, (value, start, end) => {
    onElement(listed, value, position++, start, end);
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
 * import { summarizeIndexByParts } from "./index_scan.ts";
 * import type { OpenFile } from "../io/file_read.ts";
 * declare const file: OpenFile;
 * declare const path: string;
 * declare const maxBytes: number;
 * declare const partOf: (sessionId: string) => number;
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
 * (core/scan/part_scan.ts): the list is walked once, as
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
 * import { summarizeIndexByParts } from "./index_scan.ts";
 * import { openRegularFile } from "../io/file_read.ts";
 * declare const path: string;
 * declare const maxBytes: number;
 * declare const partOf: (sessionId: string) => number;
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
  const spans: Spans[] = [];
  const newSpans = () => new Spans(maxBytes);
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
          (spans[partOf(value.session_id)] ??= newSpans()).push(
            position,
            start,
            end,
          );
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
 * import { IndexParts } from "./index_scan.ts";
 * import type { IndexEntry } from "./store_snapshot.ts";
 * declare const partCount: number;
 * declare function check(entries: IndexEntry[]): void;
 * declare const parts: IndexParts;
 * for (let k = 0; k < partCount; k++) check(parts.take());
 * parts.close();
 * ```
 */
export class IndexParts {
  #file: OpenFile;
  #path: string;
  /** Per part: position, start and end of each entry, in file order. */
  #spans: Spans[];
  #partOf: (sessionId: string) => number;
  #next = 0;
  #buffer = reusedBuffer();

  /**
   * Takes over `file`: {@linkcode IndexParts.close} closes it.
   *
   * @example
   * ```ts
   * import { Spans, IndexParts } from "./index_scan.ts";
   * import type { OpenFile } from "../io/file_read.ts";
   * declare const file: OpenFile;
   * declare const spans: Spans;
   * declare const path: string;
   * declare const partOf: (sessionId: string) => number;
   * const parts = new IndexParts(file, path, [spans], partOf);
   * ```
   */
  constructor(
    file: OpenFile,
    path: string,
    spans: Spans[],
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
   * import { IndexParts } from "./index_scan.ts";
   * import type { IndexEntry } from "./store_snapshot.ts";
   * declare const parts: IndexParts;
   * const entries: IndexEntry[] = parts.take();
   * ```
   */
  take(): IndexEntry[] {
    const part = this.#next++;
    const spans = this.#spans[part];
    delete this.#spans[part];
    if (!spans) return [];
    if (this.#file.changed()) throw this.#changed();
    const entries: IndexEntry[] = [];
    for (let i = 0; i < spans.count; i++) {
      const value = this.#read(spans.start(i), spans.end(i));
      if (!isListedSession(value) || this.#partOf(value.session_id) !== part) {
        throw this.#changed();
      }
      // A part's entries with their fields are a few hundred KB: kept
      // while the part is checked, not the whole index's at once.
      entries.push(indexEntry(value, spans.position(i), null));
    }
    return entries;
  }

  /** The JSON at `start`..`end` of the file, or null if it is not JSON. */
  #read(start: number, end: number): unknown {
    const length = end - start;
    const bytes = this.#buffer(length).subarray(0, length);
    // Anything but the entry walked there means the file changed.
    try {
      if (this.#file.readAt(bytes, start) === length) {
        return parseJsonSpan(bytes, 0, length);
      }
    } catch { /* not JSON any more */ }
    return null;
  }

  /**
   * Closes the file.
   *
   * @example
   * ```ts
   * import { IndexParts } from "./index_scan.ts";
   * declare const parts: IndexParts;
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
 * Where the entries of one part are in the file: position, start and end
 * of each, in typed arrays (a JavaScript array of numbers takes 8 bytes a
 * number, and an index may have millions of entries).
 *
 * @example
 * ```ts
 * import { Spans } from "./index_scan.ts";
 * const spans = new Spans(1 << 20);
 * spans.push(0, 1, 20);
 * spans.end(0); // 20
 * ```
 */
export class Spans {
  /** How many entries. */
  count = 0;
  #data: Uint32Array | Float64Array;

  /**
   * Spans in a file of at most `maxBytes`.
   *
   * @example
   * ```ts
   * import { Spans } from "./index_scan.ts";
   * new Spans(256 << 20);
   * ```
   */
  constructor(maxBytes: number) {
    // Offsets and positions are below the size limit.
    this.#data = maxBytes < 2 ** 32
      ? new Uint32Array(48)
      : new Float64Array(48);
  }

  /**
   * Adds an entry.
   *
   * @example
   * ```ts
   * import { Spans } from "./index_scan.ts";
   * declare const spans: Spans;
   * declare const position: number;
   * declare const start: number;
   * declare const end: number;
   * spans.push(position, start, end);
   * ```
   */
  push(position: number, start: number, end: number): void {
    let data = this.#data;
    if (this.count * 3 + 3 > data.length) {
      const bigger = new (data.constructor as Uint32ArrayConstructor)(
        data.length * 2,
      );
      bigger.set(data);
      this.#data = data = bigger;
    }
    const at = this.count++ * 3;
    data[at] = position;
    data[at + 1] = start;
    data[at + 2] = end;
  }

  /**
   * The `i`-th entry's position in the list.
   *
   * @example
   * ```ts
   * import { Spans } from "./index_scan.ts";
   * declare const spans: Spans;
   * spans.position(0);
   * ```
   */
  position(i: number): number {
    return this.#data[i * 3];
  }

  /**
   * Where the `i`-th entry starts in the file.
   *
   * @example
   * ```ts
   * import { Spans } from "./index_scan.ts";
   * declare const spans: Spans;
   * spans.start(0);
   * ```
   */
  start(i: number): number {
    return this.#data[i * 3 + 1];
  }

  /**
   * Where the `i`-th entry ends in the file.
   *
   * @example
   * ```ts
   * import { Spans } from "./index_scan.ts";
   * declare const spans: Spans;
   * spans.end(0);
   * ```
   */
  end(i: number): number {
    return this.#data[i * 3 + 2];
  }
}

/**
 * {@linkcode summarizeIndexFile} of bytes already in memory.
 *
 * @example
 * ```ts
 * import { summarizeIndexBytes } from "./index_scan.ts";
 * import type { StringPool } from "./string_pool.ts";
 * declare const pool: StringPool;
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

/** The kept fields in their order, as JSON.parse would not. */
function orderedFields(
  entry: Record<string, unknown>,
): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const field of KEPT_FIELDS) {
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
