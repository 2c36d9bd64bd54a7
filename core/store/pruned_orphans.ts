/**
 * `_pruned_webui_orphans.json` (since v0.51.785), read as today's server
 * reads it: `{"version": 1, "ids": [...]}`, the version compared after
 * Python's `int()`, each id Python's `str(id).strip()` with empty ones left
 * out. The server prunes a WebUI session from `_index.json` when its
 * sidecar and its state.db row hold no message, and lists it here so the
 * sidebar keeps it hidden; the sidecar stays. Anything else (not JSON, not
 * an object, another version, `ids` not a list) reads as no id, as the
 * server reads it: then no session is kept out on purpose.
 *
 * @example
 * ```ts
 * import { prunedOrphanIds } from "./pruned_orphans.ts";
 * prunedOrphanIds({ version: 1, ids: [" abc ", ""] }); // Set { "abc" }
 * prunedOrphanIds({ version: 2, ids: ["abc"] }); // Set {}
 * ```
 * @module
 */

import { type Parsed, parseJsonBytes } from "../io/file_read.ts";
import { isPlainObject, pyInt, pyStrip, pyTruthy } from "./sidecar_summary.ts";

/**
 * The ids of a parsed `_pruned_webui_orphans.json`; empty for any shape the
 * server reads as empty.
 *
 * @example
 * ```ts
 * import { prunedOrphanIds } from "./pruned_orphans.ts";
 * prunedOrphanIds({ version: "1", ids: ["a", 7] }); // Set { "a", "7" }
 * ```
 */
export function prunedOrphanIds(value: unknown): Set<string> {
  const ids = new Set<string>();
  if (!isPlainObject(value)) return ids;
  if (pyInt("version" in value ? value.version : 0) !== 1) return ids;
  const list = "ids" in value ? value.ids : [];
  if (!Array.isArray(list)) return ids;
  for (const raw of list) {
    if (!pyTruthy(raw)) continue;
    const id = pyStrip(pyScalarStr(raw));
    if (id) ids.add(id);
  }
  return ids;
}

/**
 * {@linkcode prunedOrphanIds} of the file's bytes: bytes that do not parse
 * read as no id, as the server reads them.
 *
 * @example
 * ```ts
 * import { parsePrunedOrphans } from "./pruned_orphans.ts";
 * parsePrunedOrphans(new TextEncoder().encode("{")); // { ok: true, value: Set {} }
 * ```
 */
export function parsePrunedOrphans(
  bytes: Uint8Array,
): Parsed<ReadonlySet<string>> {
  const parsed = parseJsonBytes(bytes);
  return {
    ok: true,
    value: parsed.ok ? prunedOrphanIds(parsed.value) : new Set(),
  };
}

/**
 * Python's `str()` of a JSON scalar; a list or object gives its JSON text,
 * which (brackets and all) is never a valid session id either way.
 */
function pyScalarStr(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === true) return "True";
  return JSON.stringify(value) ?? "";
}
