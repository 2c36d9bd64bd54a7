/**
 * Writes a changed session document back into its sidecar's text in
 * place: only the top-level values that changed are rewritten, a list that
 * only grew is appended to, a key the file lacks is inserted where the
 * server's save puts it, and every other byte stays as the server wrote it
 * (core/json/json_edit.ts). The result is parsed and compared with the document
 * it should hold, so a text edit gone wrong is a skip, never a damaged
 * sidecar.
 *
 * @example
 * ```ts
 * import { editSidecarText } from "./sidecar_edit.ts";
 * const text = '{"a": 1, "messages": []}';
 * editSidecarText(text, { a: 1, messages: [] }, { a: 2, messages: [{ role: "user" }] });
 * ```
 * @module
 */

import {
  appendToTopLevelArray,
  replaceTopLevelValue,
  topLevelSpans,
} from "../json/json_edit.ts";
import { parseJsonText } from "../io/file_read.ts";
import { sameJson } from "../json/same_json.ts";
import { MAX_WRITE_DEPTH, nestedDeeperThan } from "../json/nesting.ts";

function tooDeep(key: string): RangeError {
  return new RangeError(`the new ${key} nests too deep to write`);
}

/** Keys the server's save writes after `messages` (the rest go before). */
const AFTER_MESSAGES = new Set([
  "tool_calls",
  "anchor_activity_scenes",
  "context_messages",
]);

/**
 * The sidecar text holding `after`, edited from `text` (which holds
 * `before`); null when the edit cannot be made safely. Keys of `before`
 * missing from `after` are not removed: the callers only change and add.
 * Throws RangeError when what it would write nests deeper than the
 * server's JSON reads back (core/json/nesting.ts); values it keeps may.
 *
 * @example
 * ```ts
 * import { editSidecarText } from "./sidecar_edit.ts";
 * editSidecarText('{"messages": [1]}', { messages: [1] }, { messages: [1, 2] }); // '{"messages": [1, 2]}'
 * ```
 */
export function editSidecarText(
  text: string,
  before: Record<string, unknown>,
  after: Record<string, unknown>,
): string | null {
  let edited: string | null = text;
  for (const key of Object.keys(after)) {
    if (edited === null) return null;
    const old = before[key];
    const value = after[key];
    if (key in before && sameJson(old, value)) continue;
    if (
      Array.isArray(old) && Array.isArray(value) &&
      value.length >= old.length &&
      old.every((item, i) => item === value[i] || sameJson(item, value[i]))
    ) {
      const added = value.slice(old.length);
      if (nestedDeeperThan(added, MAX_WRITE_DEPTH)) throw tooDeep(key);
      edited = appendToTopLevelArray(edited, key, added);
    } else {
      if (nestedDeeperThan(value, MAX_WRITE_DEPTH)) throw tooDeep(key);
      edited = setTopLevelValue(edited, key, value);
    }
  }
  if (edited === null) return null;
  const parsed = parseJsonText(edited);
  const expected = { ...before, ...after };
  return parsed.ok && sameJson(parsed.value, expected) ? edited : null;
}

/**
 * Sets a top-level value, keeping every other byte: replaces it when the
 * key exists, else inserts it where the server's save would write it
 * (metadata before `messages`; `tool_calls`, `anchor_activity_scenes` and
 * `context_messages` after the last of `messages` and those), in the
 * file's style. Null when neither is possible.
 */
function setTopLevelValue(
  text: string,
  key: string,
  value: unknown,
): string | null {
  const replaced = replaceTopLevelValue(text, key, value);
  if (replaced !== null) return replaced;
  const spans = topLevelSpans(text);
  const messages = spans?.get("messages");
  if (!spans || !messages) return null;
  const after = AFTER_MESSAGES.has(key);
  let anchor = messages;
  let anchorKey = "messages";
  if (after) {
    for (const name of ["messages", ...AFTER_MESSAGES]) {
      const span = spans.get(name);
      if (span && span.end > anchor.end) {
        anchor = span;
        anchorKey = name;
      }
    }
  }
  const pretty = text.slice(0, anchor.start).includes("\n");
  const lineStart = text.lastIndexOf("\n", anchor.start - 1) + 1;
  const indent = pretty ? /^[ \t]*/.exec(text.slice(lineStart))![0] : "";
  const rendered = pretty
    ? JSON.stringify(value, null, 2).replaceAll("\n", "\n" + indent)
    : JSON.stringify(value);
  const entry = `${JSON.stringify(key)}: ${rendered}`;
  const separator = pretty ? `,\n${indent}` : ", ";
  if (after) {
    return text.slice(0, anchor.end) + separator + entry +
      text.slice(anchor.end);
  }
  const keyStart = text.lastIndexOf(JSON.stringify(anchorKey), anchor.start);
  if (keyStart < 0 || lineStart > keyStart && pretty) return null;
  return text.slice(0, keyStart) + entry + separator + text.slice(keyStart);
}
