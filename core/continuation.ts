/**
 * Compression continuations, as today's server finds them before it closes
 * a stale turn (`_has_compression_continuation`, since v0.51.154): a
 * session is the archived parent of a compression (or a fork) when an
 * index row of another session names it as `parent_session_id`, or when
 * the first 4096 characters of another `*.json` in the session dir hold
 * `"parent_session_id": "<sid>"`. Such a parent keeps its stream state: the
 * child owns the turn. Read only when a stale turn is found, once per scan:
 * the index (bounded) and the first 16 KiB of each sidecar, no-follow.
 *
 * @example
 * ```ts
 * import { continuationParents } from "./continuation.ts";
 * const parents = await continuationParents("/srv/sessions", Date.now());
 * parents.has("abc"); // true when a child names abc as its parent
 * ```
 * @module
 */

import { join } from "node:path";
import {
  openRegularFile,
  parseJsonBytes,
  readRegularFile,
} from "./file_read.ts";
import { isPlainObject } from "./sidecar_summary.ts";
import { INDEX_FILE, SIDECAR_SUFFIX } from "./store_layout.ts";
import { DEFAULT_MAX_FILE_BYTES } from "./snapshot.ts";

/** The server reads this many bytes of a sidecar, then 4096 characters. */
const HEAD_BYTES = 16384;
const HEAD_CHARS = 4096;

/** A continuation's key as the server's `json.dumps(indent=2)` spells it. */
const NEEDLE = /"parent_session_id": "([^"\\]*)"/g;

/** Parent id to the names of the files (or index rows) naming it. */
export type Continuations = ReadonlyMap<string, ReadonlySet<string>>;

let cached: { key: string; value: Promise<Continuations> } | null = null;

/**
 * Every session a child names as its parent, mapped to the children's ids
 * (file stems for sidecars, `session_id` for index rows). Cached for one
 * scan (`scannedAt`) of one dir.
 *
 * @example
 * ```ts
 * const parents = await continuationParents(sessionDir, store.scannedAt);
 * ```
 */
export function continuationParents(
  sessionDir: string,
  scannedAt: number,
): Promise<Continuations> {
  const key = `${sessionDir}\u0000${scannedAt}`;
  if (cached?.key !== key) cached = { key, value: collect(sessionDir) };
  return cached.value;
}

/**
 * True when another session names `sessionId` as its parent.
 *
 * @example
 * ```ts
 * hasContinuation(await continuationParents(dir, now), "abc");
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

async function collect(sessionDir: string): Promise<Continuations> {
  const parents = new Map<string, Set<string>>();
  const add = (parent: string, child: string) => {
    let children = parents.get(parent);
    if (!children) parents.set(parent, children = new Set());
    children.add(child);
  };
  const index = await readRegularFile(
    join(sessionDir, INDEX_FILE),
    DEFAULT_MAX_FILE_BYTES,
  );
  if (index.ok) {
    const parsed = parseJsonBytes(index.value);
    if (parsed.ok && Array.isArray(parsed.value)) {
      for (const row of parsed.value) {
        if (!isPlainObject(row)) continue;
        const child = row.session_id;
        const parent = row.parent_session_id;
        if (typeof parent !== "string" || !child) continue;
        if (typeof child === "string") add(parent, child);
        else add(parent, "\u0000not-a-string");
      }
    }
  }
  let names: string[] = [];
  try {
    for await (const entry of Deno.readDir(sessionDir)) {
      if (entry.name.endsWith(SIDECAR_SUFFIX) && !entry.name.startsWith("_")) {
        names.push(entry.name);
      }
    }
  } catch {
    names = [];
  }
  const head = new Uint8Array(HEAD_BYTES);
  const decoder = new TextDecoder("utf-8", { fatal: false });
  for (const name of names) {
    const opened = await openRegularFile(
      join(sessionDir, name),
      Number.MAX_SAFE_INTEGER,
    );
    if (!opened.ok) continue;
    let length = 0;
    try {
      length = opened.file.readAt(head, 0);
    } catch {
      continue;
    } finally {
      opened.file.close();
    }
    // errors='ignore': invalid bytes drop out rather than becoming U+FFFD.
    const text = [...decoder.decode(head.subarray(0, length))]
      .filter((c) => c !== "\ufffd").slice(0, HEAD_CHARS).join("");
    const stem = name.slice(0, -SIDECAR_SUFFIX.length);
    for (const match of text.matchAll(NEEDLE)) add(match[1], stem);
  }
  return parents;
}
