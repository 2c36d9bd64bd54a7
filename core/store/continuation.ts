/**
 * Compression continuations, as today's server finds them before it closes
 * a stale turn (`_has_compression_continuation`, since v0.51.154): a
 * session is the archived parent of a compression (or a fork) when an
 * index row of another session names it as `parent_session_id`, or when
 * the first 4096 characters of another `*.json` in the session dir hold
 * `"parent_session_id": "<sid>"`. Such a parent keeps its stream state: the
 * child owns the turn. Read only when a stale turn is found, once per scan:
 * the index (bounded) and the first 16 KiB of each sidecar, each opened
 * no-follow and non-blocking and checked to be a regular file.
 *
 * @example
 * ```ts
 * import { continuationParents } from "./continuation.ts";
 * const parents = continuationParents("/srv/sessions", Date.now());
 * parents.has("abc"); // true when a child names abc as its parent
 * ```
 * @module
 */

import { overlaidFile, storeReadDirSync } from "../io/overlay.ts";
import { loadedNodeFs } from "../io/node_fs.ts";
import { join } from "../io/path.ts";
import { parseJsonBytes } from "../io/file_read.ts";
import { isPlainObject } from "./sidecar_summary.ts";
import { INDEX_FILE, SIDECAR_SUFFIX } from "./layout.ts";
import { DEFAULT_MAX_FILE_BYTES } from "../scan/snapshot.ts";

/** The server reads this many bytes of a sidecar, then 4096 characters. */
const HEAD_BYTES = 16384;
const HEAD_CHARS = 4096;

/** A continuation's key as the server's `json.dumps(indent=2)` spells it. */
const NEEDLE = /"parent_session_id": "([^"\\]*)"/g;
const NEEDLE_START = '"parent_session_id": "';

/**
 * Parent id to the ids naming it (file stems for sidecars, `session_id`
 * for index rows).
 *
 * @example
 * ```ts
 * import { type Continuations, continuationParents } from "./continuation.ts";
 * declare const now: number;
 * declare const dir: string;
 * const parents: Continuations = continuationParents(dir, now);
 * ```
 */
export type Continuations = ReadonlyMap<string, ReadonlySet<string>>;

let cached: { key: string; value: Continuations } | null = null;

/**
 * Every session a child names as its parent, mapped to the children's ids.
 * Cached for one scan (`scannedAt`) of one dir.
 *
 * @example
 * ```ts
 * import { continuationParents } from "./continuation.ts";
 * import type { StoreSnapshot } from "../scan/store_snapshot.ts";
 * declare const sessionDir: string;
 * declare const store: StoreSnapshot;
 * const parents = continuationParents(sessionDir, store.scannedAt);
 * ```
 */
export function continuationParents(
  sessionDir: string,
  scannedAt: number,
): Continuations {
  const key = `${sessionDir}\u0000${scannedAt}`;
  if (cached?.key !== key) cached = { key, value: collect(sessionDir) };
  return cached.value;
}

/**
 * True when another session names `sessionId` as its parent.
 *
 * @example
 * ```ts
 * import { hasContinuation, continuationParents } from "./continuation.ts";
 * declare const now: number;
 * declare const dir: string;
 * hasContinuation(continuationParents(dir, now), "abc");
 * ```
 */
export function hasContinuation(
  parents: Continuations,
  sessionId: string,
): boolean {
  for (const child of parents.get(sessionId) ?? []) {
    if (child !== sessionId) return true;
  }
  return false;
}

function collect(sessionDir: string): Continuations {
  const parents = new Map<string, Set<string>>();
  const add = (parent: string, child: string) => {
    let children = parents.get(parent);
    if (!children) parents.set(parent, children = new Set());
    children.add(child);
  };
  const index = readHead(
    join(sessionDir, INDEX_FILE),
    DEFAULT_MAX_FILE_BYTES,
    true,
  );
  if (index) {
    const parsed = parseJsonBytes(index);
    if (parsed.ok && Array.isArray(parsed.value)) {
      for (const row of parsed.value) {
        if (!isPlainObject(row)) continue;
        const child = row.session_id;
        const parent = row.parent_session_id;
        if (typeof parent !== "string" || !child) continue;
        // A child id that is not a string is still not the parent's.
        add(parent, typeof child === "string" ? child : "\u0000");
      }
    }
  }
  let names: string[] = [];
  try {
    for (const entry of storeReadDirSync(sessionDir)) {
      if (entry.name.endsWith(SIDECAR_SUFFIX) && !entry.name.startsWith("_")) {
        names.push(entry.name);
      }
    }
  } catch {
    names = [];
  }
  const decoder = new TextDecoder("utf-8", { fatal: false });
  // Most heads hold no string parent: a byte-wise look first (latin1
  // keeps every byte one character) spares decoding them.
  const bytewise = new TextDecoder("latin1");
  for (const name of names) {
    const head = readHead(join(sessionDir, name), HEAD_BYTES, false);
    if (!head || !bytewise.decode(head).includes(NEEDLE_START)) continue;
    // errors='ignore': invalid bytes drop out rather than becoming U+FFFD.
    const text = [...decoder.decode(head)].filter((c) => c !== "\ufffd")
      .slice(0, HEAD_CHARS).join("");
    const stem = name.slice(0, -SIDECAR_SUFFIX.length);
    for (const match of text.matchAll(NEEDLE)) add(match[1], stem);
  }
  return parents;
}

/**
 * Up to `limit` bytes of a regular file, opened no-follow and non-blocking
 * (a FIFO or a link swapped in is never read); with `whole`, null when the
 * file is larger than `limit`. Null when it cannot be read.
 */
function readHead(
  path: string,
  limit: number,
  whole: boolean,
): Uint8Array | null {
  // A dry run's later passes read the files it planned (overlay.ts).
  const planned = overlaidFile(path);
  if (planned === null) return null;
  if (planned) {
    if (whole && planned.data.length > limit) return null;
    return planned.data.subarray(0, limit);
  }
  // Loaded by the scan this runs after (node_fs.ts).
  const { closeSync, constants, fstatSync, lstatSync, openSync, readSync } =
    loadedNodeFs();
  let fd: number;
  try {
    if (!lstatSync(path).isFile()) return null;
    fd = openSync(
      path,
      constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW,
    );
  } catch {
    return null;
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile() || (whole && stat.size > limit)) return null;
    const buffer = new Uint8Array(Math.min(limit, whole ? stat.size : limit));
    let length = 0;
    while (length < buffer.length) {
      const n = readSync(fd, buffer, length, buffer.length - length, length);
      if (n === 0) break;
      length += n;
    }
    return buffer.subarray(0, length);
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}
