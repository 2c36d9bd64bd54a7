/**
 * Store text made safe to show: a title, a message or a file name from the
 * store is written by the server's user and may hold anything (terminal
 * escape sequences, bidi overrides, lone surrogates, megabytes). An
 * excerpt is one line, its control and format characters spelled as
 * escapes, cut to a bound; `escapeHtml` makes it safe inside HTML text
 * and attribute values.
 *
 * @example
 * ```ts
 * import { excerpt, escapeHtml } from "./excerpt.ts";
 * excerpt("a\u001b[31mred", 40).text; // "a\\u001b[31mred"
 * escapeHtml("<script>"); // "&lt;script&gt;"
 * ```
 * @module
 */

/**
 * A bounded, one-line, escaped piece of store text.
 *
 * @example
 * ```ts
 * import { type Excerpt, excerpt } from "./excerpt.ts";
 * const cut: Excerpt = excerpt("x".repeat(1000), 10); // { text: "xxxxxxxxxx…", truncated: true, length: 1000 }
 * ```
 */
export interface Excerpt {
  /** The text, at most the bound in code points plus an ellipsis. */
  text: string;
  /** True when the text was longer than the bound. */
  truncated: boolean;
  /** Length of the whole text, in UTF-16 code units. */
  length: number;
}

// C0 and C1 controls, DEL, and the format characters that reorder or hide
// text on a terminal or page (bidi embeddings, overrides and isolates,
// zero-width joiners, line and paragraph separators, the BOM).
const UNSAFE =
  // deno-lint-ignore no-control-regex -- these are the characters it escapes
  /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;
const SPACE_RUN = /[\t\n\r ]+/g;

/**
 * Cuts `text` to at most `max` code points (whitespace runs become one
 * space first), spells unsafe characters as `\uXXXX` and lone surrogates
 * as U+FFFD; never looks at more than a bounded prefix of a huge text.
 *
 * @example
 * ```ts
 * import { excerpt } from "./excerpt.ts";
 * excerpt("hello\n\nworld", 80).text; // "hello world"
 * ```
 */
export function excerpt(text: string, max: number): Excerpt {
  // A prefix long enough for the bound even when every character expands:
  // a megabyte message costs what a short one does.
  const prefix = text.length > max * 4 + 16
    ? text.slice(0, max * 4 + 16)
    : text;
  const flat = prefix.replace(SPACE_RUN, " ").trim();
  const points = Array.from(flat.toWellFormed());
  const truncated = points.length > max || prefix.length < text.length;
  const kept = points.slice(0, max).join("").replace(
    UNSAFE,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  return {
    text: truncated ? `${kept}…` : kept,
    truncated,
    length: text.length,
  };
}

/**
 * {@linkcode excerpt}'s text alone.
 *
 * @example
 * ```ts
 * import { cut } from "./excerpt.ts";
 * cut("\u202eevil", 10); // "\\u202eevil"
 * ```
 */
export function cut(text: string, max: number): string {
  return excerpt(text, max).text;
}

/**
 * Escapes text for HTML element content and quoted attribute values.
 *
 * @example
 * ```ts
 * import { escapeHtml } from "./excerpt.ts";
 * escapeHtml(`"'&<>`); // "&quot;&#39;&amp;&lt;&gt;"
 * ```
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ENTITIES[c]);
}

const HTML_ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/**
 * Quotes one word for a POSIX shell, so a command built from a path or id
 * can be copied and run as it is.
 *
 * @example
 * ```ts
 * import { shellQuote } from "./excerpt.ts";
 * shellQuote("/srv/my sessions"); // "'/srv/my sessions'"
 * shellQuote("abc_1"); // "abc_1"
 * ```
 */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}
