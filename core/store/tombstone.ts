/**
 * The durable delete tombstone (`_deleted_webui_sessions.json`) read as
 * today's server reads it: an object whose `version` is 1 after Python's
 * `int()` and whose `ids` is a list; each id is Python's `str(id).strip()`,
 * empty and false ones left out. Any other shape is not valid: the server
 * then reads no deleted session (and would resurrect them), hermes-fsck
 * reports the file and resurrects nothing.
 *
 * @example
 * ```ts
 * import { tombstoneSummary } from "./tombstone.ts";
 * tombstoneSummary({ version: "1", ids: [" abc ", 7, null] }).ids; // Set {"abc", "7"}
 * ```
 * @module
 */

import { isPlainObject, pyStrip, pyTruthy } from "./sidecar_summary.ts";
import type { TombstoneSummary } from "../scan/store_snapshot.ts";

const SHAPE = 'does not have the shape {"version": 1, "ids": [...]}';

/**
 * The deleted ids of a parsed tombstone, or why it is not valid.
 *
 * @example
 * ```ts
 * import { tombstoneSummary } from "./tombstone.ts";
 * tombstoneSummary({ version: 2, ids: ["a"] }).valid; // false
 * ```
 */
export function tombstoneSummary(value: unknown): TombstoneSummary {
  if (!isPlainObject(value)) {
    return { valid: false, ids: new Set(), detail: SHAPE };
  }
  const version = pyInt("version" in value ? value.version : 0);
  if (version !== 1 || !Array.isArray(value.ids)) {
    return {
      valid: false,
      ids: new Set(),
      detail: version !== 1 && version !== null
        ? `has version ${version}, not 1`
        : SHAPE,
    };
  }
  const ids = new Set<string>();
  for (const raw of value.ids) {
    if (!pyTruthy(raw)) continue;
    const id = pyStrip(pyScalarStr(raw));
    if (id) ids.add(id);
  }
  return { valid: true, ids };
}

/** Python's `int(x)` for a JSON value, or null where it raises. */
function pyInt(value: unknown): number | null {
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "number") {
    return Number.isFinite(value) ? Math.trunc(value) : null;
  }
  if (typeof value !== "string") return null;
  const digits = pyStrip(value);
  return /^[+-]?\d+(_\d+)*$/.test(digits)
    ? Number(digits.replaceAll("_", ""))
    : null;
}

/**
 * Python's `str()` of a JSON scalar; a list or object gives its JSON text,
 * which (with its brackets) is never a valid id either way.
 */
function pyScalarStr(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === true) return "True";
  return JSON.stringify(value) ?? "";
}
