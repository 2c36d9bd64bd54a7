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

import type * as NodeFs from "node:fs";
import { type Fs, loadNodeFs } from "./node_fs.ts";
import { utf8SequenceLength } from "../json/json_scan.ts";
import { overlaidFile } from "./overlay.ts";

/**
 * Why a file could not be read or parsed.
 *
 * @example
 * ```ts
 * import type { ReadProblemReason } from "./file_read.ts";
 * const unreadable: ReadProblemReason[] = ["missing", "permission_denied", "io_error"];
 * ```
 */
export type ReadProblemReason =
  | "missing"
  | "not_regular_file"
  | "permission_denied"
  | "too_large"
  | "io_error"
  | "empty"
  | "invalid_utf8"
  | "invalid_json";

/**
 * A file that could not be read or parsed, and why.
 *
 * @example
 * ```ts
 * import { readJsonFile } from "./file_read.ts";
 * const r = await readJsonFile("/srv/sessions/abc.json", 1 << 20);
 * if (!r.ok) console.log(r.problem.reason, r.problem.offset, r.problem.detail);
 * ```
 */
export interface ReadProblem {
  /** The kind of problem, for programs. */
  reason: ReadProblemReason;
  /** One phrase a person can act on, e.g. "unexpected end of JSON input". */
  detail: string;
  /** Byte offset of a parse error, when known. */
  offset?: number;
}

/**
 * Identity of a file as it was read, for later "has it changed" checks.
 *
 * @example
 * ```ts
 * import type { FileIdentity } from "./file_read.ts";
 * const same = (a: FileIdentity, b: FileIdentity) =>
 *   a.ino === b.ino && a.dev === b.dev && a.size === b.size && a.mtimeMs === b.mtimeMs;
 * ```
 */
export interface FileIdentity {
  /** Size in bytes (of what was read, for a file that was read). */
  size: number;
  /** Modification time, whole milliseconds since the epoch. */
  mtimeMs: number;
  /** Inode number. */
  ino: number;
  /** Device number. */
  dev: number;
}

/**
 * The outcome of parsing bytes: a value, or why there is none.
 *
 * @example
 * ```ts
 * import { type Parsed, parseJsonBytes } from "./file_read.ts";
 * declare const bytes: Uint8Array;
 * const parsed: Parsed<unknown> = parseJsonBytes(bytes);
 * ```
 */
export type Parsed<T> =
  | { ok: true; value: T }
  | { ok: false; problem: ReadProblem };

/**
 * The outcome of reading a file.
 *
 * @example
 * ```ts
 * import { type ReadResult, readJsonFile } from "./file_read.ts";
 * const r: ReadResult<unknown> = await readJsonFile("/srv/sessions/abc.json", 1 << 20);
 * if (r.ok) console.log(r.identity.size);
 * ```
 */
export type ReadResult<T> =
  | { ok: true; value: T; identity: FileIdentity }
  | { ok: false; problem: ReadProblem; identity?: FileIdentity };

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Reads a regular file's bytes, refusing FIFOs, devices, sockets, dirs and
 * symlinks, and files over `maxBytes`.
 *
 * @example
 * ```ts
 * import { readRegularFile } from "./file_read.ts";
 * const r = await readRegularFile("/srv/sessions/abc.json", 1 << 20);
 * if (r.ok) console.log(r.value.length, "bytes");
 * ```
 */
export async function readRegularFile(
  path: string,
  maxBytes: number,
): Promise<ReadResult<Uint8Array>> {
  return (await fileReader())(path, maxBytes);
}

/**
 * A synchronous {@linkcode readRegularFile}, from {@linkcode fileReader}.
 *
 * @example
 * ```ts
 * import { type FileReader, fileReader } from "./file_read.ts";
 * const read: FileReader = await fileReader();
 * read("/srv/sessions/abc.json", 1 << 20);
 * ```
 */
export type FileReader = (
  path: string,
  maxBytes: number,
) => ReadResult<Uint8Array>;

/**
 * The synchronous reader behind {@linkcode readRegularFile}, for loops that
 * read many files (the scan and its workers). It is synchronous because
 * node:fs's promise API costs about ten times more per small file here, and
 * the files are regular (never a FIFO), so a read never waits on anyone.
 * node:fs is imported on first use: the import costs about 25 ms, which an
 * audit that reads nothing (an empty store) should not pay.
 *
 * With `reuseBuffer`, every read returns a view of one buffer that the
 * next read overwrites: for a loop that summarizes each file before it
 * reads the next, so thousands of dead buffers do not pile up between two
 * garbage collections. The buffer grows to the largest file read.
 *
 * @example
 * ```ts
 * import { fileReader } from "./file_read.ts";
 * const read = await fileReader();
 * const r = read("/srv/sessions/abc.json", 1 << 20);
 * ```
 */
export function fileReader(
  options: { reuseBuffer?: boolean } = {},
): Promise<FileReader> {
  const buffer = options.reuseBuffer
    ? reusedBuffer()
    : (size: number) => new Uint8Array(size);
  return fileConsumer(wholeFileWith(buffer, (bytes) => ({
    ok: true,
    value: bytes,
  })));
}

/**
 * The {@linkcode FileContents} of a file read whole, into a buffer of its
 * own, and then parsed.
 *
 * @example
 * ```ts
 * import { fileConsumer, wholeFile, parseJsonBytes } from "./file_read.ts";
 * const readJson = await fileConsumer(wholeFile(parseJsonBytes));
 * readJson("/srv/sessions/_deleted.json", 1 << 20);
 * ```
 */
export function wholeFile<T>(
  parse: (bytes: Uint8Array) => Parsed<T>,
): FileContents<T> {
  return wholeFileWith((size) => new Uint8Array(size), parse);
}

function wholeFileWith<T>(
  buffer: BufferSource,
  parse: (bytes: Uint8Array) => Parsed<T>,
): FileContents<T> {
  return (readAt, statSize, maxBytes) => {
    const bytes = readAll(readAt, buffer, statSize, maxBytes);
    return bytes && { value: parse(bytes), bytes: bytes.length };
  };
}

/**
 * Reads the open file from byte `position` into `into`, as much as fits;
 * returns how many bytes were read, fewer than asked for only at its end.
 *
 * @example
 * ```ts
 * import type { ReadAt } from "./file_read.ts";
 * const readAt: ReadAt = (into, position) => into.length;
 * ```
 */
export type ReadAt = (into: Uint8Array, position: number) => number;

/**
 * What is made of an open regular file, from a way to read it and its size
 * by fstat (it may still be growing): a value, or why there is none, and
 * how many bytes it was made of. Null when the file grew past `maxBytes`
 * while it was being read.
 *
 * @example
 * ```ts
 * import type { FileContents } from "./file_read.ts";
 * const firstByte: FileContents<number> = (readAt) => {
 *   const one = new Uint8Array(1);
 *   return { value: { ok: true, value: readAt(one, 0) }, bytes: 1 };
 * };
 * ```
 */
export type FileContents<T> = (
  readAt: ReadAt,
  statSize: number,
  maxBytes: number,
) => { value: Parsed<T>; bytes: number } | null;

/**
 * A synchronous reader that opens a file as {@linkcode readRegularFile}
 * does (regular files only, never over the limit) and hands it to
 * `contents` instead of reading it whole: for a file too big to hold at
 * once, like a big store's `_index.json`, read a window at a time.
 *
 * @example
 * ```ts
 * import { fileConsumer } from "./file_read.ts";
 * const size = await fileConsumer((_readAt, statSize) => ({
 *   value: { ok: true, value: statSize },
 *   bytes: 0,
 * }));
 * const r = size("/srv/sessions/_index.json", 64 << 20);
 * ```
 */
export async function fileConsumer<T>(
  contents: FileContents<T>,
): Promise<(path: string, maxBytes: number) => ReadResult<T>> {
  const fs = await loadNodeFs();
  return (path, maxBytes) => readRegularFileWith(fs, contents, path, maxBytes);
}

/**
 * A {@linkcode ReadAt} of bytes already in memory, for code written for
 * files to run on them.
 *
 * @example
 * ```ts
 * import { readAtBytes } from "./file_read.ts";
 * const into = new Uint8Array(2);
 * readAtBytes(new Uint8Array([1, 2, 3]))(into, 1); // 2: into is [2, 3]
 * ```
 */
export function readAtBytes(bytes: Uint8Array): ReadAt {
  return (into, position) => {
    const part = bytes.subarray(position, position + into.length);
    into.set(part);
    return part.length;
  };
}

/** A buffer of at least `size` bytes to read into. */
type BufferSource = (size: number) => Uint8Array;

/**
 * One buffer handed out again and again, grown (doubled at least) when a
 * bigger one is asked for: each call's bytes last until the next call.
 *
 * @example
 * ```ts
 * import { reusedBuffer } from "./file_read.ts";
 * const buffer = reusedBuffer();
 * const bytes = buffer(1024).subarray(0, 1024);
 * ```
 */
export function reusedBuffer(): (size: number) => Uint8Array {
  let scratch = new Uint8Array(0);
  return (size) => {
    if (scratch.length < size) {
      scratch = new Uint8Array(Math.max(size, scratch.length * 2));
    }
    return scratch;
  };
}

function readRegularFileWith<T>(
  fs: Fs,
  contents: FileContents<T>,
  path: string,
  maxBytes: number,
): ReadResult<T> {
  const opened = openRegularFileWith(fs, path, maxBytes);
  if (!opened.ok) return opened;
  try {
    return readOpenFile(opened.file, contents, maxBytes);
  } finally {
    opened.file.close();
  }
}

/**
 * A regular file opened as {@linkcode readRegularFile} opens one, and kept
 * open to be read at any offset: what it reads stays the file that was
 * opened, even when another one is renamed over its name meanwhile.
 *
 * @example
 * ```ts
 * import { openRegularFile } from "./file_read.ts";
 * const opened = await openRegularFile("/srv/sessions/_index.json", 64 << 20);
 * if (opened.ok) {
 *   const head = new Uint8Array(16);
 *   opened.file.readAt(head, 0);
 *   opened.file.close();
 * }
 * ```
 */
export interface OpenFile {
  /** Reads from an offset (see {@linkcode ReadAt}). */
  readAt: ReadAt;
  /** Its size, mtime, inode and device when it was opened. */
  identity: FileIdentity;
  /**
   * True when its size or mtime is no longer what it was when opened: it
   * was written to in place.
   */
  changed(): boolean;
  /** Closes it; later calls do nothing. */
  close(): void;
}

/**
 * Opens a regular file to read it at offsets, refusing what
 * {@linkcode readRegularFile} refuses (FIFOs, devices, symlinks, files over
 * `maxBytes`). The caller closes it.
 *
 * @example
 * ```ts
 * import { openRegularFile } from "./file_read.ts";
 * const opened = await openRegularFile("/srv/sessions/_index.json", 64 << 20);
 * if (!opened.ok) console.log(opened.problem.detail);
 * ```
 */
export async function openRegularFile(
  path: string,
  maxBytes: number,
): Promise<{ ok: true; file: OpenFile } | ReadFailure> {
  const fs = await loadNodeFs();
  return openRegularFileWith(fs, path, maxBytes);
}

/**
 * Makes `contents` of an open file, as {@linkcode fileConsumer}'s reader
 * does; the file stays open.
 *
 * @example
 * ```ts
 * import { type OpenFile, readOpenFile, wholeFile, parseJsonBytes } from "./file_read.ts";
 * declare const opened: { ok: true; file: OpenFile };
 * const read = readOpenFile(opened.file, wholeFile(parseJsonBytes), 64 << 20);
 * ```
 */
export function readOpenFile<T>(
  file: OpenFile,
  contents: FileContents<T>,
  maxBytes: number,
): ReadResult<T> {
  const identity = { ...file.identity };
  try {
    const read = contents(file.readAt, identity.size, maxBytes);
    if (read === null) {
      return {
        ok: false,
        identity,
        problem: {
          reason: "too_large",
          detail: `grew past the limit of ${maxBytes} bytes while being read`,
        },
      };
    }
    identity.size = read.bytes;
    return { ...read.value, identity };
  } catch (error) {
    return { ok: false, problem: openProblem(error) };
  }
}

/** A {@linkcode ReadResult} that failed. */
type ReadFailure = Extract<ReadResult<never>, { ok: false }>;

function openRegularFileWith(
  fs: Fs,
  path: string,
  maxBytes: number,
): { ok: true; file: OpenFile } | ReadFailure {
  // A dry run's later passes read the files it planned (overlay.ts).
  const planned = overlaidFile(path);
  if (planned === null) {
    return {
      ok: false,
      problem: { reason: "missing", detail: "does not exist" },
    };
  }
  if (planned) return plannedFile(planned.data, planned.identity, maxBytes);
  // Look before opening: under restricted permissions Deno resolves a path
  // before it opens it, so O_NOFOLLOW alone would not stop a symlink, and a
  // FIFO must never be opened at all.
  let linkStat: NodeFs.Stats;
  try {
    linkStat = fs.lstatSync(path);
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
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO swapped in after the lstat is not waited on.
    fd = fs.openSync(
      path,
      fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW,
    );
  } catch (error) {
    return { ok: false, problem: openProblem(error) };
  }
  let open = true;
  const close = () => {
    if (!open) return;
    open = false;
    try {
      fs.closeSync(fd);
    } catch { /* nothing to do: the bytes are read */ }
  };
  const refuse = (failure: ReadFailure): ReadFailure => {
    close();
    return failure;
  };
  try {
    const stat = fs.fstatSync(fd);
    if (stat.ino !== linkStat.ino || stat.dev !== linkStat.dev) {
      return refuse({
        ok: false,
        identity: identityOf(stat),
        problem: {
          reason: "not_regular_file",
          detail:
            "was replaced while being opened (by a symlink or another file)",
        },
      });
    }
    const identity = identityOf(stat);
    if (!stat.isFile()) {
      return refuse({
        ok: false,
        identity,
        problem: {
          reason: "not_regular_file",
          detail: `is a ${fileTypeName(stat)}, not a regular file`,
        },
      });
    }
    if (stat.size > maxBytes) {
      return refuse({
        ok: false,
        identity,
        problem: {
          reason: "too_large",
          detail: `is ${stat.size} bytes, over the limit of ${maxBytes} ` +
            `(raise it with --max-file-size)`,
        },
      });
    }
    const file: OpenFile = {
      readAt: (into, position) =>
        fs.readSync(fd, into, 0, into.length, position),
      identity,
      changed() {
        const now = identityOf(fs.fstatSync(fd));
        return now.size !== identity.size || now.mtimeMs !== identity.mtimeMs;
      },
      close,
    };
    return { ok: true, file };
  } catch (error) {
    return refuse({ ok: false, problem: openProblem(error) });
  }
}

/** A dry run's planned file, opened as a file on disk would be. */
function plannedFile(
  data: Uint8Array,
  identity: FileIdentity,
  maxBytes: number,
): { ok: true; file: OpenFile } | ReadFailure {
  if (data.length > maxBytes) {
    return {
      ok: false,
      identity: { ...identity },
      problem: {
        reason: "too_large",
        detail: `is ${data.length} bytes, over the limit of ${maxBytes} ` +
          `(raise it with --max-file-size)`,
      },
    };
  }
  return {
    ok: true,
    file: {
      readAt: readAtBytes(data),
      identity: { ...identity },
      changed: () => false,
      close() {},
    },
  };
}

function identityOf(stat: NodeFs.Stats): FileIdentity {
  return {
    size: stat.size,
    mtimeMs: Math.trunc(stat.mtimeMs),
    ino: stat.ino,
    dev: stat.dev,
  };
}

function readAll(
  readAt: ReadAt,
  buffer: BufferSource,
  expected: number,
  maxBytes: number,
): Uint8Array | null {
  // Read to EOF rather than trusting the size from stat: the file may still
  // be growing (a journal being appended to). One byte more than expected is
  // asked for, so a file that did not grow is read in one short call.
  let size = Math.min(Math.max(expected + 1, 4096), maxBytes);
  let view = buffer(size).subarray(0, size);
  let length = 0;
  for (;;) {
    if (length === view.length) {
      if (view.length >= maxBytes) {
        const probe = new Uint8Array(1);
        return readAt(probe, length) === 0 ? view : null;
      }
      size = Math.min(view.length * 2, maxBytes);
      const bigger = buffer(size);
      if (bigger.buffer !== view.buffer) bigger.set(view);
      view = bigger.subarray(0, size);
    }
    const wanted = view.length - length;
    const bytesRead = readAt(view.subarray(length), length);
    length += bytesRead;
    // A short read of a regular file is its end: no second call to see it.
    if (bytesRead < wanted) break;
  }
  return view.subarray(0, length);
}

/**
 * Decodes bytes as strict UTF-8 and parses them as JSON. A byte order mark
 * is an error, as it is for the server's `json.loads`.
 *
 * @example
 * ```ts
 * import { parseJsonBytes } from "./file_read.ts";
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
 * import { parseJsonText } from "./file_read.ts";
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

// deno-lint-ignore no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/g;

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
  // V8 quotes the text around an unexpected token (`..."ab\0cd"...`): the
  // file's content has no place in a report, nor do its control characters.
  const reason = message.replace(/ in JSON at position.*$/, "")
    .replace(/, (?:\.\.\.)?".*"(?:\.\.\.)? is not valid JSON$/s, "")
    .replace(
      CONTROL_CHARACTERS,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
    );
  return {
    reason: "invalid_json",
    detail: offset === undefined
      ? `is not valid JSON (${reason})`
      : `is not valid JSON at byte ${offset} (${reason})`,
    offset,
  };
}

function firstInvalidUtf8(bytes: Uint8Array): number {
  // Only runs on files that already failed to decode; the table of
  // well-formed sequences catches overlong forms, surrogates and values
  // past U+10FFFF at their first byte.
  let i = 0;
  while (i < bytes.length) {
    if (bytes[i] < 0x80) {
      i++;
      continue;
    }
    const length = utf8SequenceLength(bytes, i);
    if (length === 0) return i;
    i += length;
  }
  return i;
}

function fileTypeName(stat: NodeFs.Stats): string {
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
 * import { readJsonFile } from "./file_read.ts";
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

/**
 * A file of the store with the outcome of reading it.
 *
 * @example
 * ```ts
 * import type { ScannedFile } from "./file_read.ts";
 * import type { SidecarSummary } from "../store/sidecar_summary.ts";
 * import type { StoreSnapshot } from "../scan/store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * const live: ScannedFile<SidecarSummary> | undefined = store.sessions.get("abc")?.live;
 * if (live && !live.read.ok) console.log(live.name, live.read.problem.detail);
 * ```
 */
export interface ScannedFile<T> {
  /** Path relative to the session dir. */
  name: string;
  /** Absolute path. */
  path: string;
  /** The parsed summary, or why there is none. */
  read: ReadResult<T>;
}
