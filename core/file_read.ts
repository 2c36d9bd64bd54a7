/**
 * Reading store files without trusting them: only regular files are read
 * (a FIFO named `x.json` is never waited on), never more than a size limit,
 * and every failure becomes a value that names the reason instead of an
 * exception.
 *
 * @example
 * ```ts
 * import { readJsonFile } from "./file_read.ts";
 * const result = await readJsonFile("/srv/sessions/abc.json", 64 << 20);
 * if (result.ok) console.log(result.value);
 * else console.log(result.problem.reason, result.problem.detail);
 * ```
 * @module
 */

import * as fs from "node:fs";

/** Why a file could not be read or parsed. */
export type ReadProblemReason =
  | "missing"
  | "not_regular_file"
  | "permission_denied"
  | "too_large"
  | "io_error"
  | "empty"
  | "invalid_utf8"
  | "invalid_json";

/** A file that could not be read or parsed, and why. */
export interface ReadProblem {
  reason: ReadProblemReason;
  /** One phrase a person can act on, e.g. "unexpected end of JSON input". */
  detail: string;
  /** Byte offset of a parse error, when known. */
  offset?: number;
}

/** Identity of a file as it was read, for later "has it changed" checks. */
export interface FileIdentity {
  size: number;
  mtimeMs: number;
  ino: number;
  dev: number;
}

/** The outcome of parsing bytes: a value, or why there is none. */
export type Parsed<T> =
  | { ok: true; value: T }
  | { ok: false; problem: ReadProblem };

/** The outcome of reading a file. */
export type ReadResult<T> =
  | { ok: true; value: T; identity: FileIdentity }
  | { ok: false; problem: ReadProblem; identity?: FileIdentity };

const OPEN_FLAGS = fs.constants.O_RDONLY | fs.constants.O_NONBLOCK |
  fs.constants.O_NOFOLLOW;
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Reads a regular file's bytes, refusing FIFOs, devices, sockets, dirs and
 * symlinks, and files over `maxBytes`.
 *
 * @example
 * ```ts
 * const r = await readRegularFile("/srv/sessions/abc.json", 1 << 20);
 * if (r.ok) console.log(r.value.length, "bytes");
 * ```
 */
export async function readRegularFile(
  path: string,
  maxBytes: number,
): Promise<ReadResult<Uint8Array>> {
  // Look before opening: under restricted permissions Deno resolves a path
  // before it opens it, so O_NOFOLLOW alone would not stop a symlink, and a
  // FIFO must never be opened at all.
  let linkStat: fs.Stats;
  try {
    linkStat = await fs.promises.lstat(path);
  } catch (error) {
    return { ok: false, problem: openProblem(error) };
  }
  if (!linkStat.isFile()) {
    return {
      ok: false,
      identity: identityOf(linkStat),
      problem: {
        reason: "not_regular_file",
        detail: linkStat.isSymbolicLink()
          ? "is a symbolic link, which hermes-fsck does not follow"
          : `is a ${fileTypeName(linkStat)}, not a regular file`,
      },
    };
  }
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(path, OPEN_FLAGS);
  } catch (error) {
    return { ok: false, problem: openProblem(error) };
  }
  try {
    const stat = await handle.stat();
    if (stat.ino !== linkStat.ino || stat.dev !== linkStat.dev) {
      return {
        ok: false,
        identity: identityOf(stat),
        problem: {
          reason: "not_regular_file",
          detail:
            "was replaced while being opened (by a symlink or another file)",
        },
      };
    }
    const identity = identityOf(stat);
    if (!stat.isFile()) {
      return {
        ok: false,
        identity,
        problem: {
          reason: "not_regular_file",
          detail: `is a ${fileTypeName(stat)}, not a regular file`,
        },
      };
    }
    if (stat.size > maxBytes) {
      return {
        ok: false,
        identity,
        problem: {
          reason: "too_large",
          detail: `is ${stat.size} bytes, over the limit of ${maxBytes} ` +
            `(raise it with --max-file-size)`,
        },
      };
    }
    const bytes = await readAll(handle, stat.size, maxBytes);
    if (bytes === null) {
      return {
        ok: false,
        identity,
        problem: {
          reason: "too_large",
          detail: `grew past the limit of ${maxBytes} bytes while being read`,
        },
      };
    }
    identity.size = bytes.length;
    return { ok: true, value: bytes, identity };
  } catch (error) {
    return { ok: false, problem: openProblem(error) };
  } finally {
    await handle.close().catch(() => {});
  }
}

function identityOf(stat: fs.Stats): FileIdentity {
  return {
    size: stat.size,
    mtimeMs: Math.trunc(stat.mtimeMs),
    ino: stat.ino,
    dev: stat.dev,
  };
}

async function readAll(
  handle: fs.promises.FileHandle,
  expected: number,
  maxBytes: number,
): Promise<Uint8Array | null> {
  // Read to EOF rather than trusting the size from stat: the file may still
  // be growing (a journal being appended to).
  let buffer = new Uint8Array(Math.max(expected, 4096));
  let length = 0;
  for (;;) {
    if (length === buffer.length) {
      if (buffer.length >= maxBytes) {
        const probe = new Uint8Array(1);
        const { bytesRead } = await handle.read(probe, 0, 1, length);
        return bytesRead === 0 ? buffer : null;
      }
      const bigger = new Uint8Array(Math.min(buffer.length * 2, maxBytes));
      bigger.set(buffer);
      buffer = bigger;
    }
    const { bytesRead } = await handle.read(
      buffer,
      length,
      buffer.length - length,
      length,
    );
    if (bytesRead === 0) break;
    length += bytesRead;
  }
  return buffer.subarray(0, length);
}

/**
 * Decodes bytes as strict UTF-8 and parses them as JSON. A byte order mark
 * is an error, as it is for the server's `json.loads`.
 *
 * @example
 * ```ts
 * parseJsonBytes(new TextEncoder().encode('{"a":1}')); // { ok: true, value: { a: 1 } }
 * ```
 */
export function parseJsonBytes(bytes: Uint8Array): Parsed<unknown> {
  if (bytes.length === 0) {
    return { ok: false, problem: { reason: "empty", detail: "is empty" } };
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    const offset = firstInvalidUtf8(bytes);
    return {
      ok: false,
      problem: {
        reason: "invalid_utf8",
        detail: `is not valid UTF-8 (at byte ${offset})`,
        offset,
      },
    };
  }
  return parseJsonText(text);
}

/**
 * Parses JSON text, describing a failure with its byte offset.
 *
 * @example
 * ```ts
 * parseJsonText("[1,"); // { ok: false, problem: { reason: "invalid_json", offset: 3, ... } }
 * ```
 */
export function parseJsonText(text: string): Parsed<unknown> {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    const python = parsePythonConstants(text);
    if (python !== undefined) return { ok: true, value: python };
    return { ok: false, problem: jsonProblem(text, error) };
  }
}

const PYTHON_CONSTANTS: Record<string, number> = {
  NaN: NaN,
  Infinity: Infinity,
  "-Infinity": -Infinity,
};
const CONSTANT_MARK = "\u0000hermes-fsck:";

/**
 * The server writes with Python's `json.dumps`, which spells non-finite
 * floats `NaN`, `Infinity` and `-Infinity`, and reads them back with
 * `json.loads`. A sidecar holding one is valid to the server, so it must
 * parse here too, or a newer live file would look broken next to an older
 * backup. Only tried after a plain parse failed.
 */
function parsePythonConstants(text: string): unknown {
  if (!/NaN|Infinity/.test(text)) return undefined;
  let out = "";
  let last = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === "\\") i++;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') {
      inString = true;
      continue;
    }
    for (const token of ["-Infinity", "Infinity", "NaN"]) {
      if (
        text.startsWith(token, i) && !/[\w.]/.test(text[i + token.length] ?? "")
      ) {
        out += text.slice(last, i) + JSON.stringify(CONSTANT_MARK + token);
        i += token.length - 1;
        last = i + 1;
        break;
      }
    }
  }
  if (last === 0) return undefined;
  try {
    return JSON.parse(
      out + text.slice(last),
      (_key, value) =>
        typeof value === "string" && value.startsWith(CONSTANT_MARK)
          ? PYTHON_CONSTANTS[value.slice(CONSTANT_MARK.length)]
          : value,
    );
  } catch {
    return undefined;
  }
}

function jsonProblem(text: string, error: unknown): ReadProblem {
  const message = error instanceof Error ? error.message : String(error);
  if (text.charCodeAt(0) === 0xfeff) {
    return {
      reason: "invalid_json",
      detail: "starts with a byte order mark, which JSON does not allow",
      offset: 0,
    };
  }
  let index: number | undefined;
  const position = /at position (\d+)/.exec(message);
  if (position) index = Number(position[1]);
  else if (/end of JSON input/i.test(message)) index = text.length;
  const offset = index === undefined
    ? undefined
    : new TextEncoder().encode(text.slice(0, index)).length;
  const reason = message.replace(/ in JSON at position.*$/, "")
    .replace(/, ".*" is not valid JSON$/s, "");
  return {
    reason: "invalid_json",
    detail: offset === undefined
      ? `is not valid JSON (${reason})`
      : `is not valid JSON at byte ${offset} (${reason})`,
    offset,
  };
}

function firstInvalidUtf8(bytes: Uint8Array): number {
  // Only runs on files that already failed to decode; follows the table of
  // well-formed sequences (Unicode 15, table 3-7) so overlong forms,
  // surrogates and values past U+10FFFF are caught at their first byte.
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i];
    if (lead < 0x80) {
      i++;
      continue;
    }
    let extra: number;
    let low = 0x80;
    let high = 0xbf;
    if (lead >= 0xc2 && lead <= 0xdf) extra = 1;
    else if (lead >= 0xe0 && lead <= 0xef) {
      extra = 2;
      if (lead === 0xe0) low = 0xa0;
      if (lead === 0xed) high = 0x9f;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      extra = 3;
      if (lead === 0xf0) low = 0x90;
      if (lead === 0xf4) high = 0x8f;
    } else return i;
    if (i + extra >= bytes.length) return i;
    if (bytes[i + 1] < low || bytes[i + 1] > high) return i;
    for (let k = 2; k <= extra; k++) {
      if ((bytes[i + k] & 0xc0) !== 0x80) return i;
    }
    i += extra + 1;
  }
  return i;
}

function fileTypeName(stat: fs.Stats): string {
  if (stat.isDirectory()) return "directory";
  if (stat.isFIFO()) return "FIFO";
  if (stat.isSocket()) return "socket";
  if (stat.isCharacterDevice()) return "character device";
  if (stat.isBlockDevice()) return "block device";
  if (stat.isSymbolicLink()) return "symbolic link";
  return "special file";
}

function openProblem(error: unknown): ReadProblem {
  const code = (error as { code?: string })?.code;
  const message = error instanceof Error ? error.message : String(error);
  switch (code) {
    case "ENOENT":
      return { reason: "missing", detail: "does not exist" };
    case "EACCES":
    case "EPERM":
      return {
        reason: "permission_denied",
        detail: "cannot be read: permission denied",
      };
    case "ELOOP":
      return {
        reason: "not_regular_file",
        detail: "is a symbolic link, which hermes-fsck does not follow",
      };
    case "EISDIR":
      return {
        reason: "not_regular_file",
        detail: "is a directory, not a regular file",
      };
    default:
      return { reason: "io_error", detail: `cannot be read: ${message}` };
  }
}

/**
 * Reads and parses a JSON file in one step.
 *
 * @example
 * ```ts
 * const r = await readJsonFile("/srv/sessions/_index.json", 64 << 20);
 * ```
 */
export async function readJsonFile(
  path: string,
  maxBytes: number,
): Promise<ReadResult<unknown>> {
  const read = await readRegularFile(path, maxBytes);
  if (!read.ok) return read;
  const parsed = parseJsonBytes(read.value);
  return parsed.ok
    ? { ok: true, value: parsed.value, identity: read.identity }
    : { ok: false, problem: parsed.problem, identity: read.identity };
}
