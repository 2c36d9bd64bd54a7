/**
 * Small structural readers for the example manifests in examples/container/,
 * written here because the project takes no third-party code: the YAML
 * subset those files use (block mappings and sequences, plain, quoted and
 * flow scalars, comments), systemd unit files, and Dockerfile
 * instructions. Each throws on anything it does not understand, so a
 * manifest that drifts outside the subset fails its test loudly.
 *
 * @example
 * ```ts
 * import { readYaml } from "./manifest_support.ts";
 * readYaml("a:\n  - b: 1\n"); // { a: [{ b: 1 }] }
 * ```
 * @module
 */

/** A YAML value of the subset. */
export type Yaml = string | number | boolean | null | Yaml[] | {
  [key: string]: Yaml;
};

interface Line {
  indent: number;
  text: string;
  number: number;
}

/**
 * Reads a YAML document of the subset the examples use.
 *
 * @example
 * ```ts
 * readYaml('x: [a, "b c"]\n'); // { x: ["a", "b c"] }
 * ```
 */
export function readYaml(source: string): Yaml {
  const lines: Line[] = [];
  source.split("\n").forEach((raw, i) => {
    const text = stripComment(raw).trimEnd();
    if (text.trim() === "") return;
    if (text.includes("\t")) throw new Error(`line ${i + 1}: a tab`);
    const indent = text.length - text.trimStart().length;
    lines.push({ indent, text: text.trimStart(), number: i + 1 });
  });
  let at = 0;
  const fail = (line: Line, why: string): never => {
    throw new Error(
      `line ${line.number}: ${why}: ${JSON.stringify(line.text)}`,
    );
  };
  const block = (indent: number): Yaml => {
    const first = lines[at];
    return first.text === "-" || first.text.startsWith("- ")
      ? sequence(indent)
      : mapping(indent);
  };
  const nested = (parent: number, sequenceAllowed: boolean): Yaml => {
    const next = lines[at];
    if (next && next.indent > parent) return block(next.indent);
    if (
      sequenceAllowed && next && next.indent === parent &&
      next.text.startsWith("- ")
    ) {
      return sequence(parent);
    }
    return null;
  };
  const mapping = (indent: number): Yaml => {
    const out: Record<string, Yaml> = {};
    while (at < lines.length && lines[at].indent === indent) {
      const line = lines[at];
      if (line.text.startsWith("- ")) break;
      const pair = keyValue(line.text);
      if (pair === null) fail(line, "not a key: value");
      const [key, rest] = pair!;
      if (key in out) fail(line, `key ${key} twice`);
      at++;
      out[key] = rest === "" ? nested(indent, true) : scalar(rest, line);
    }
    if (at < lines.length && lines[at].indent > indent) {
      fail(lines[at], "indented more than its mapping");
    }
    return out;
  };
  const sequence = (indent: number): Yaml => {
    const out: Yaml[] = [];
    while (at < lines.length && lines[at].indent === indent) {
      const line = lines[at];
      if (line.text !== "-" && !line.text.startsWith("- ")) break;
      const item = line.text.slice(1).trimStart();
      if (item === "") {
        at++;
        out.push(nested(indent, false));
      } else if (keyValue(item) !== null) {
        // "- key: value" opens a mapping indented to where the key starts.
        const inner = indent + line.text.length - item.length;
        lines[at] = { indent: inner, text: item, number: line.number };
        out.push(mapping(inner));
      } else {
        at++;
        out.push(scalar(item, line));
      }
    }
    return out;
  };
  if (lines.length === 0) return null;
  const value = block(lines[0].indent);
  if (at < lines.length) fail(lines[at], "left over");
  return value;
}

/** `key: rest` of a line, or null when it is not a mapping entry. */
function keyValue(text: string): [string, string] | null {
  const match =
    /^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s"'#\-[{][^:]*?|-[^\s:][^:]*?):(?:\s+(.*))?$/
      .exec(text);
  if (!match) return null;
  const key = match[1].startsWith('"') || match[1].startsWith("'")
    ? String(quoted(match[1]))
    : match[1];
  return [key, match[2] ?? ""];
}

function stripComment(line: string): string {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === "\\" && quote === '"') i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "#" && (i === 0 || /\s/.test(line[i - 1]))) {
      return line.slice(0, i);
    }
  }
  return line;
}

function quoted(text: string): string {
  if (text.startsWith('"')) return JSON.parse(text);
  return text.slice(1, -1).replaceAll("''", "'");
}

function scalar(text: string, line: Line): Yaml {
  if (text.startsWith('"') || text.startsWith("'")) {
    if (!/^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*')$/.test(text)) {
      throw new Error(`line ${line.number}: a bad quoted string ${text}`);
    }
    return quoted(text);
  }
  if (text.startsWith("[")) {
    if (!text.endsWith("]")) {
      throw new Error(`line ${line.number}: a flow sequence over lines`);
    }
    const inner = text.slice(1, -1).trim();
    if (inner === "") return [];
    return splitFlow(inner).map((item) => scalar(item.trim(), line));
  }
  if (text.startsWith("{") || text.startsWith("&") || text.startsWith("*")) {
    throw new Error(`line ${line.number}: outside the subset: ${text}`);
  }
  if (text === "true") return true;
  if (text === "false") return false;
  if (text === "null" || text === "~") return null;
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  if (/^(yes|no|on|off|y|n)$/i.test(text)) {
    // YAML 1.1 readers take these for booleans: the examples quote them.
    throw new Error(`line ${line.number}: quote ${text}`);
  }
  return text;
}

function splitFlow(text: string): string[] {
  const out: string[] = [];
  let quote: string | null = null;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === "\\" && quote === '"') i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === ",") {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out;
}

/**
 * A systemd unit file: each section's settings, in order, a setting given
 * more than once kept as many times.
 *
 * @example
 * ```ts
 * readUnit("[Service]\nExecStart=/bin/true\n").Service; // [["ExecStart", "/bin/true"]]
 * ```
 */
export function readUnit(source: string): Record<string, [string, string][]> {
  const out: Record<string, [string, string][]> = {};
  let section: string | null = null;
  source.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) return;
    const header = /^\[(\w+)\]$/.exec(line);
    if (header) {
      section = header[1];
      out[section] ??= [];
      return;
    }
    const setting = /^(\w+)=(.*)$/.exec(line);
    if (!setting || section === null || line.endsWith("\\")) {
      throw new Error(`unit line ${i + 1} is not a setting: ${raw}`);
    }
    out[section].push([setting[1], setting[2]]);
  });
  return out;
}

/**
 * A Dockerfile's instructions, continuation lines joined and comments left
 * out: `[INSTRUCTION, arguments]`.
 *
 * @example
 * ```ts
 * readDockerfile("FROM x AS y\nRUN a \\\n  b\n"); // [["FROM", "x AS y"], ["RUN", "a b"]]
 * ```
 */
export function readDockerfile(source: string): [string, string][] {
  const out: [string, string][] = [];
  let pending = "";
  for (const raw of source.split("\n")) {
    const line = raw.trim();
    if (pending === "" && (line === "" || line.startsWith("#"))) continue;
    if (line.endsWith("\\")) {
      pending += line.slice(0, -1).trim() + " ";
      continue;
    }
    const whole = (pending + line).trim();
    pending = "";
    const match = /^([A-Z]+)\s+(.*)$/.exec(whole);
    if (!match) throw new Error(`not a Dockerfile instruction: ${whole}`);
    out.push([match[1], match[2]]);
  }
  return out;
}

/**
 * The words of a shell-free command line as systemd and exec-form commands
 * take them: split on spaces, double quotes kept together.
 *
 * @example
 * ```ts
 * words('hermes-fsck preen --session-dir "/srv/my sessions"'); // ["hermes-fsck", "preen", "--session-dir", "/srv/my sessions"]
 * ```
 */
export function words(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]);
}
