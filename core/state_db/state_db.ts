/**
 * The agent's `state.db`, read once through one read-only `node:sqlite`
 * connection. Every column but `sessions.id` is optional, so old schemas
 * work. A locked database is waited on briefly, then reported. Once read,
 * it gets a `PRAGMA quick_check`, and the `-wal`/`-shm`/`-journal` files
 * beside it are noted before it is opened. (SQLite, like the server's own
 * read-only reader, may create empty `-wal`/`-shm` files beside a WAL-mode
 * database.) A WAL-mode database whose dir cannot be written (a read-only
 * mount, another uid's dir) and that has no `-shm` cannot be opened in
 * place: SQLite's `immutable` URI flag would, but `node:sqlite` here takes
 * no URI, and it would skip the commits still in the `-wal`. So the
 * database and its `-wal` are copied into a private temp dir and read
 * there, nothing is written beside them, and a `-wal` that cannot be read
 * is reported rather than audited without.
 *
 * @example
 * ```ts
 * import { openStateDb } from "./state_db.ts";
 * const db = openStateDb("/root/.hermes/state.db");
 * if (db.status === "ok") console.log(db.webuiRows.length, "webui sessions");
 * db.close();
 * ```
 * @module
 */

import { join } from "../io/path.ts";
import { DatabaseSync } from "node:sqlite";

/** How long a locked database is waited on before it is reported. */
export const STATE_DB_BUSY_TIMEOUT_MS = 1500;

/**
 * Session columns the checks and repairs use, all optional but `id`.
 *
 * @example
 * ```ts
 * import { SESSION_COLUMNS } from "./state_db.ts";
 * SESSION_COLUMNS.includes("title"); // true
 * ```
 */
export const SESSION_COLUMNS = [
  "source",
  "title",
  "model",
  "started_at",
  "parent_session_id",
  "message_count",
  "workspace",
  "worktree_path",
  "worktree_branch",
  "worktree_repo_root",
  "worktree_created_at",
] as const;

/**
 * A value as SQLite returns it.
 *
 * @example
 * ```ts
 * import type { SqlValue } from "./state_db.ts";
 * const value: SqlValue = 42n;
 * ```
 */
export type SqlValue = string | number | bigint | Uint8Array | null;

/**
 * One row of `sessions` with `source = 'webui'`.
 *
 * @example
 * ```ts
 * import type { StateDbReader } from "./state_db.ts";
 * declare const reader: StateDbReader;
 * for (const row of reader.webuiRows) console.log(row.id, row.columns.title, row.messageCount);
 * ```
 */
export interface StateDbSessionRow {
  /** `str(id or '').strip()`, as the server derives it. */
  id: string;
  /** The id as stored, for messages about odd values. */
  rawId: SqlValue;
  /**
   * The optional columns; null when absent or NULL. In rows read by
   * {@linkcode openStateDb} they are read from the database when asked
   * for (only a repair that rebuilds a sidecar needs them), so the reader
   * must still be open; a big store's rows would otherwise hold megabytes.
   */
  readonly columns: Record<(typeof SESSION_COLUMNS)[number], SqlValue>;
  /** Rows of `messages` for this session (0 when the table cannot tell). */
  messageCount: number;
  /** Its place in `webuiRows`, 0-based. */
  position: number;
}

/**
 * One message row, ordered as the server orders them.
 *
 * @example
 * ```ts
 * import type { StateDbReader, StateDbSessionRow, StateDbMessage } from "./state_db.ts";
 * declare const reader: StateDbReader;
 * declare const row: StateDbSessionRow;
 * const messages: StateDbMessage[] = reader.messagesFor(row);
 * messages.map((m) => m.role);
 * ```
 */
export interface StateDbMessage {
  /** `role` as stored. */
  role: SqlValue;
  /** `content` as stored. */
  content: SqlValue;
  /** `timestamp` as stored (null when the column is missing). */
  timestamp: SqlValue;
}

/**
 * Why state.db could not be used.
 *
 * @example
 * ```ts
 * import type { StateDb } from "./state_db.ts";
 * declare const db: StateDb;
 * if (db.status === "unreadable" && db.problem === "locked") console.log("run again later");
 * ```
 */
export type StateDbProblem =
  | "not_a_database"
  | "locked"
  | "permission_denied"
  | "corrupt"
  | "not_regular_file"
  | "io_error"
  /**
   * A write was cut short and left a hot `-journal`: only a connection that
   * may write can roll it back, so a read-only one cannot open it.
   */
  | "hot_journal"
  /**
   * Its write-ahead log (`-wal`) holds data but cannot be read, so what
   * the database holds cannot be known.
   */
  | "wal_unreadable";

/**
 * A file SQLite keeps beside a database, as it was before the scan opened it.
 *
 * @example
 * ```ts
 * import type { StateDb, StateDbSideFile } from "./state_db.ts";
 * declare const db: StateDb;
 * const wal: StateDbSideFile | null | undefined = db.sideFiles?.wal;
 * console.log(wal?.path, wal?.size);
 * ```
 */
export interface StateDbSideFile {
  /** `-wal`, `-shm` or `-journal`. */
  suffix: "-wal" | "-shm" | "-journal";
  /** Absolute path. */
  path: string;
  /** Size in bytes. */
  size: number;
  /** False for a directory, FIFO, symlink or other non-regular file. */
  regular: boolean;
}

/**
 * The `-wal`, `-shm` and `-journal` files beside state.db, looked at before
 * it is opened (opening a WAL database makes SQLite create a missing `-shm`,
 * so afterwards a crash's leftovers could no longer be told apart).
 *
 * @example
 * ```ts
 * import type { StateDb, StateDbSideFiles } from "./state_db.ts";
 * declare const db: StateDb;
 * const side: StateDbSideFiles | undefined = db.sideFiles;
 * if (side?.journal?.hot) console.log("a write to state.db was cut short");
 * ```
 */
export interface StateDbSideFiles {
  /** The write-ahead log, if any. */
  wal: StateDbSideFile | null;
  /** The WAL index, if any. */
  shm: StateDbSideFile | null;
  /** `hot` when it holds a rollback journal header: a write was cut short. */
  journal: (StateDbSideFile & { hot: boolean }) | null;
}

/**
 * The state.db as the scan found it.
 *
 * @example
 * ```ts
 * import { type StateDb, openStateDb } from "./state_db.ts";
 * const db: StateDb = openStateDb("/srv/hermes/state.db");
 * console.log(db.status);
 * db.close();
 * ```
 */
export type StateDb =
  | {
    status: "absent";
    path: string | null;
    sideFiles?: StateDbSideFiles;
    close(): void;
  }
  | {
    status: "unreadable";
    path: string;
    problem: StateDbProblem;
    detail: string;
    sideFiles?: StateDbSideFiles;
    close(): void;
  }
  | StateDbReader;

/**
 * A readable state.db, with the rows the checks need already read.
 *
 * @example
 * ```ts
 * import { openStateDb } from "./state_db.ts";
 * const db = openStateDb("/srv/hermes/state.db");
 * if (db.status === "ok") console.log(db.webuiRows.length, db.sessionIds.size);
 * db.close();
 * ```
 */
export interface StateDbReader {
  /** It could be read. */
  status: "ok";
  /** Absolute path. */
  path: string;
  /** Columns of `sessions` (empty when the table is missing). */
  sessionColumns: Set<string>;
  /** Columns of `messages` (empty when the table is missing). */
  messageColumns: Set<string>;
  /** Every `sessions.id`, whatever its source, as the server derives it. */
  sessionIds: Set<string>;
  /** `webui` rows, ordered by `COALESCE(started_at, 0)` descending. */
  webuiRows: StateDbSessionRow[];
  /** True when `sessions` has the `id` and `source` columns. */
  canListWebuiRows: boolean;
  /**
   * True when `messages` has `session_id`, `role` and `content`, so
   * `messageCount` of a row is a real count rather than 0 for "cannot tell".
   */
  canCountMessages: boolean;
  /**
   * What `PRAGMA quick_check` reported when it did not say `ok` (at most 20
   * lines), or the error it failed with; empty for a healthy database.
   */
  integrityProblems: string[];
  /** The side files as they were before the database was opened. */
  sideFiles?: StateDbSideFiles;
  /**
   * The session rows a part of the store at a time, when opened with
   * `partOf` (see {@linkcode OpenStateDbOptions}); `webuiRows` and
   * `sessionIds` are empty then.
   */
  parts?: StateDbParts;
  /**
   * A session's rows looked up when asked for, when opened with `lookup`
   * (see {@linkcode OpenStateDbOptions}); `webuiRows` and `sessionIds` are
   * empty then.
   */
  lookup?: StateDbLookup;
  /**
   * The messages of one session row, through the same connection. Queried
   * by the id as stored (its `rawId`), the key its messages carry, so the
   * messages match the row's `messageCount` even for padded or numeric ids.
   */
  messagesFor(row: Pick<StateDbSessionRow, "rawId">): StateDbMessage[];
  /**
   * The messages of one session row as the server's
   * `get_state_db_session_messages` reads them: active rows only, in `id`
   * order (else `timestamp`), each `{role, content, timestamp}` plus the
   * optional columns that hold a value (JSON columns decoded), `name` from
   * `tool_name` on tool rows. Empty when `role`, `content` or `timestamp`
   * is missing, as the server reads nothing then.
   */
  transcriptFor(row: Pick<StateDbSessionRow, "rawId">): Record<
    string,
    unknown
  >[];
  /** Closes the connection. */
  close(): void;
}

/**
 * Opens and reads a state.db. Never throws: problems come back as an
 * `unreadable` value naming the reason.
 *
 * @example
 * ```ts
 * import { openStateDb } from "./state_db.ts";
 * const db = openStateDb(null); // { status: "absent", path: null, ... }
 * ```
 */
export function openStateDb(
  path: string | null,
  options: OpenStateDbOptions = {},
): StateDb {
  if (path === null) return { status: "absent", path, close: () => {} };
  const sideFiles = readSideFiles(path);
  const db = openAndRead(path, options);
  db.sideFiles = sideFiles;
  if (
    db.status === "unreadable" && sideFiles.journal?.hot &&
    /readonly|read-only/i.test(db.detail)
  ) {
    db.problem = "hot_journal";
    db.detail = "has a hot rollback journal (state.db-journal) from a write " +
      "that was cut short, which only a writer can roll back; start the " +
      "agent once";
  }
  return db;
}

function openAndRead(path: string, options: OpenStateDbOptions): StateDb {
  const none = () => {};
  let stat: Deno.FileInfo;
  try {
    stat = Deno.statSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      return { status: "absent", path, close: none };
    }
    return unreadable(path, error);
  }
  if (!stat.isFile) {
    return {
      status: "unreadable",
      path,
      problem: "not_regular_file",
      detail: "is not a regular file; pass the right --state-db",
      close: none,
    };
  }
  try {
    // SQLite says only "unable to open database file" when it may not read.
    Deno.openSync(path, { read: true }).close();
  } catch (error) {
    return unreadable(path, error);
  }
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(path, { readOnly: true });
    db.exec(`PRAGMA busy_timeout = ${STATE_DB_BUSY_TIMEOUT_MS}`);
    return readAll(db, path, options);
  } catch (error) {
    try {
      db?.close();
    } catch { /* already closed */ }
    if (cannotOpen(error) && isWalMode(path)) return readCopy(path, options);
    return unreadable(path, error);
  }
}

/** SQLite's SQLITE_CANTOPEN: here, a `-shm` it may not create. */
function cannotOpen(error: unknown): boolean {
  const code = (error as { errcode?: number }).errcode;
  return code === 14 ||
    /unable to open database file/i.test(
      error instanceof Error ? error.message : String(error),
    );
}

/** Bytes 18 and 19 of the header are 2 in a WAL-mode database. */
function isWalMode(path: string): boolean {
  const head = headOf(path, 20);
  return head !== null && head[18] === 2 && head[19] === 2;
}

/** The first `length` bytes of a file; null when shorter or unreadable. */
function headOf(path: string, length: number): Uint8Array | null {
  let file: Deno.FsFile | undefined;
  try {
    file = Deno.openSync(path, { read: true });
    const head = new Uint8Array(length);
    let got = 0;
    while (got < head.length) {
      const n = file.readSync(head.subarray(got));
      if (n === null || n === 0) break;
      got += n;
    }
    return got === head.length ? head : null;
  } catch {
    return null;
  } finally {
    file?.close();
  }
}

/**
 * Reads a WAL-mode database that cannot be opened in place from a copy of
 * it and its `-wal` in a private temp dir (mode 0700), removed on close.
 */
function readCopy(path: string, options: OpenStateDbOptions): StateDb {
  const none = () => {};
  let dir: string;
  try {
    dir = Deno.makeTempDirSync({ prefix: "hermes-fsck-state-db-" });
  } catch (error) {
    return {
      status: "unreadable",
      path,
      problem: "io_error",
      detail: "is in WAL mode and its dir cannot be written, and no temp " +
        `dir could be made to read a copy (${messageOf(error)}); set ` +
        "TMPDIR to a writable dir",
      close: none,
    };
  }
  const remove = () => {
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch { /* already gone */ }
  };
  const copy = join(dir, "state.db");
  let db: DatabaseSync | undefined;
  try {
    Deno.copyFileSync(path, copy);
    const walProblem = copyWal(path + "-wal", copy + "-wal");
    if (walProblem) {
      remove();
      return {
        status: "unreadable",
        path,
        problem: "wal_unreadable",
        detail: walProblem,
        close: none,
      };
    }
    db = new DatabaseSync(copy, { readOnly: true });
    const reader = readAll(db, path, options);
    const close = reader.close;
    reader.close = () => {
      close();
      remove();
    };
    return reader;
  } catch (error) {
    try {
      db?.close();
    } catch { /* already closed */ }
    remove();
    return unreadable(path, error);
  }
}

/** Copies a `-wal` that holds data; says why not when it cannot. */
function copyWal(from: string, to: string): string | null {
  let size: number;
  try {
    const info = Deno.lstatSync(from);
    if (!info.isFile) {
      return `has a write-ahead log ${from} that is not a regular file; ` +
        "remove what is in its place while the agent is stopped";
    }
    size = info.size;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    size = -1;
  }
  if (size === 0) return null;
  try {
    Deno.copyFileSync(from, to);
    return null;
  } catch (error) {
    return `has a write-ahead log ${from}${
      size > 0 ? ` of ${size} bytes` : ""
    } that cannot be read (${messageOf(error)}), and committed data may ` +
      "still be in it, so state.db is not read without it; make it " +
      "readable to the user running hermes-fsck";
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function readAll(
  db: DatabaseSync,
  path: string,
  options: OpenStateDbOptions,
): StateDbReader {
  const partOf = options.partOf ?? null;
  const lookup = options.lookup === true;
  const tables = new Set(
    db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all()
      .map((row) => String(row.name)),
  );
  const columnsOf = (table: string) =>
    tables.has(table)
      ? new Set(
        db.prepare(`PRAGMA table_info(${table})`).all().map((row) =>
          String(row.name)
        ),
      )
      : new Set<string>();
  const sessionColumns = columnsOf("sessions");
  const messageColumns = columnsOf("messages");
  const canListWebuiRows = sessionColumns.has("id") &&
    sessionColumns.has("source");
  const canReadMessages = ["session_id", "role", "content"].every((c) =>
    messageColumns.has(c)
  );
  const rowid = sessionColumns.has("id") && hasRowid(db, "sessions");
  // A table without rowids (no server makes one) is read whole.
  const byParts = partOf !== null && rowid;
  const sessionIds = new Set<string>();
  if (sessionColumns.has("id") && !byParts && !lookup) {
    // Row by row: a big store's rows at once are tens of MB of garbage.
    for (const row of db.prepare("SELECT id FROM sessions").iterate()) {
      sessionIds.add(normalizeId(row.id as SqlValue));
    }
  }
  const webuiRows: StateDbSessionRow[] = [];
  const webui = canListWebuiRows
    ? webuiRowQueries(db, sessionColumns, rowid, canReadMessages)
    : null;
  if (webui && !byParts && !lookup) {
    const counts = webui.messageCounts();
    for (const row of db.prepare(webui.listSql).iterate()) {
      const rawId = row.id as SqlValue;
      const counted = counts.get(rawKey(rawId)) ?? 0;
      webuiRows.push(
        webui.columnsOf
          ? new LazyRow(
            normalizeId(rawId),
            rawId,
            counted,
            webuiRows.length,
            row.rowid,
            webui.columnsOf,
          )
          : {
            id: normalizeId(rawId),
            rawId,
            columns: columnsFrom(row),
            messageCount: counted,
            position: webuiRows.length,
          },
      );
    }
  }
  const integrityProblems = quickCheck(db);
  // Without timestamp and id, messages come in table order: by rowid, or
  // as stored in a table without one.
  const order = messageColumns.has("timestamp") && messageColumns.has("id")
    ? " ORDER BY timestamp, id"
    : hasRowid(db, "messages")
    ? " ORDER BY rowid"
    : "";
  const timestamp = messageColumns.has("timestamp")
    ? "timestamp"
    : "NULL AS timestamp";
  const messagesQuery = canReadMessages
    ? db.prepare(
      `SELECT role, content, ${timestamp} FROM messages WHERE session_id = ?${order}`,
    )
    : null;
  const reader: StateDbReader = {
    status: "ok",
    path,
    sessionColumns,
    messageColumns,
    sessionIds,
    webuiRows,
    canListWebuiRows,
    canCountMessages: canListWebuiRows && canReadMessages,
    integrityProblems,
    messagesFor(session): StateDbMessage[] {
      if (!messagesQuery || session.rawId instanceof Uint8Array) return [];
      return messagesQuery.all(session.rawId).map((row) => ({
        role: row.role as SqlValue,
        content: row.content as SqlValue,
        timestamp: row.timestamp as SqlValue,
      }));
    },
    transcriptFor(session) {
      if (session.rawId instanceof Uint8Array) return [];
      return transcriptRows(db, messageColumns, session.rawId);
    },
    close() {
      try {
        db.close();
      } catch { /* already closed */ }
    },
  };
  if (byParts) reader.parts = readRowsByParts(db, path, webui, partOf!);
  if (lookup) {
    reader.lookup = lookupRows(db, sessionColumns.has("id"), webui, rowid);
  }
  return reader;
}

/**
 * Options of {@linkcode openStateDb}.
 *
 * @example
 * ```ts
 * import { openStateDb } from "./state_db.ts";
 * declare const path: string;
 * const db = openStateDb(path, { partOf: (id) => (id < "m" ? 0 : 1) });
 * ```
 */
export interface OpenStateDbOptions {
  /**
   * Read the session rows a part of the store at a time, for a scan by
   * parts: `partOf` says which part (from 0, in id order) an id falls in.
   * Then `parts` of the reader has the rows, and its `webuiRows` and
   * `sessionIds` stay empty (a `sessions` table without rowids, which no
   * server makes, is read whole all the same).
   */
  partOf?: (id: string) => number;
  /**
   * Read no session rows up front: `lookup` of the reader finds a session's
   * row when asked (by the primary key, so memory stays flat however many
   * rows the database has). For a database only some sessions are compared
   * with, as a named profile's is; `webuiRows` and `sessionIds` stay empty.
   */
  lookup?: boolean;
}

/**
 * The rows of one session, looked up when asked for (a reader opened with
 * `lookup`). Ids are matched exactly, as the server's own per-session
 * queries match them.
 *
 * @example
 * ```ts
 * import type { StateDbReader } from "./state_db.ts";
 * declare const reader: StateDbReader;
 * const row = reader.lookup?.webuiRow("abc");
 * console.log(row?.messageCount, reader.lookup?.has("abc"));
 * ```
 */
export interface StateDbLookup {
  /** The `webui` row of this id, or null when there is none. */
  webuiRow(id: string): StateDbSessionRow | null;
  /**
   * Whether `sessions` has a row of this id, whatever its source; true
   * when the table has no `id` column (the server fails open there).
   */
  has(id: string): boolean;
}

/**
 * Where a row looked up by id stands among the webui rows: after every row
 * of a database read whole, so the findings of rows looked up come last.
 */
const LOOKED_UP_POSITION = 2 ** 40;

function lookupRows(
  db: DatabaseSync,
  hasId: boolean,
  webui: WebuiRowQueries | null,
  rowid: boolean,
): StateDbLookup {
  const exists = hasId
    ? db.prepare("SELECT 1 AS one FROM sessions WHERE id = ? LIMIT 1")
    : null;
  const find = webui
    ? db.prepare(
      rowid
        ? `SELECT id, rowid AS "rowid" FROM sessions WHERE source = 'webui' AND id = ? LIMIT 1`
        : `SELECT * FROM sessions WHERE source = 'webui' AND id = ? LIMIT 1`,
    )
    : null;
  const count = webui?.canCount
    ? db.prepare("SELECT COUNT(*) AS n FROM messages WHERE session_id = ?")
    : null;
  return {
    has: (id) => exists === null || exists.get(id) !== undefined,
    webuiRow(id) {
      const row = find?.get(id);
      if (!row) return null;
      const rawId = row.id as SqlValue;
      const messageCount = Number(count?.get(rawId)?.n ?? 0);
      const position = LOOKED_UP_POSITION + Number(row.rowid ?? 0);
      return webui!.columnsOf
        ? new LazyRow(
          normalizeId(rawId),
          rawId,
          messageCount,
          position,
          row.rowid,
          webui!.columnsOf,
        )
        : {
          id: normalizeId(rawId),
          rawId,
          columns: columnsFrom(row),
          messageCount,
          position,
        };
    },
  };
}

/** The queries of `webui` rows, for a `sessions` table with `id` and `source`. */
interface WebuiRowQueries {
  /** Lists `id` (and `rowid`, or the columns without one) in server order. */
  listSql: string;
  /** A row's columns by its rowid; null for a table without rowids. */
  columnsOf: ColumnsOf | null;
  /** Rows of `messages` of each webui session, by its id as stored. */
  messageCounts(): Map<string, number>;
  /** `messages` can be counted. */
  canCount: boolean;
}

function webuiRowQueries(
  db: DatabaseSync,
  sessionColumns: Set<string>,
  rowid: boolean,
  canReadMessages: boolean,
): WebuiRowQueries {
  const select = SESSION_COLUMNS.map((c) =>
    sessionColumns.has(c) ? `"${c}"` : `NULL AS "${c}"`
  ).join(", ");
  const where = `FROM sessions WHERE source = 'webui'`;
  const columnsOf = rowid ? lazyColumns(db, `SELECT ${select} ${where}`) : null;
  // Without started_at, rows come in table order.
  const order = sessionColumns.has("started_at")
    ? " ORDER BY COALESCE(started_at, 0) DESC"
    : rowid
    ? " ORDER BY rowid"
    : "";
  return {
    // The rowid names the row for its columns; a table without one (no
    // server makes such a table) has its columns read now.
    listSql: columnsOf
      ? `SELECT id, rowid AS "rowid" ${where}${order}`
      : `SELECT id, ${select} ${where}${order}`,
    columnsOf,
    canCount: canReadMessages,
    messageCounts() {
      const counts = new Map<string, number>();
      if (!canReadMessages) return counts;
      const sql = `SELECT m.session_id AS sid, COUNT(*) AS n FROM messages m
        WHERE m.session_id IN (SELECT id FROM sessions WHERE source = 'webui')
        GROUP BY m.session_id`;
      for (const row of db.prepare(sql).iterate()) {
        counts.set(rawKey(row.sid as SqlValue), Number(row.n));
      }
      return counts;
    },
  };
}

/**
 * The session rows of a state.db, a part of the store at a time: what
 * `webuiRows` and `sessionIds` hold for the sessions of each part.
 *
 * @example
 * ```ts
 * import type { StateDbReader } from "./state_db.ts";
 * declare const reader: StateDbReader;
 * const { webuiRows, sessionIds } = reader.parts!;
 * const firstPartsRows = webuiRows.take(), firstPartsIds = sessionIds.take();
 * ```
 */
export interface StateDbParts {
  /** Each part's `webuiRows`, in the server's order, with their positions. */
  webuiRows: { take(): StateDbSessionRow[] };
  /** Each part's `sessionIds`. */
  sessionIds: { take(): string[] };
}

/**
 * Files the session rows under the part of the store their id falls in
 * (`partOf`), in one pass over `sessions` that keeps only each row's rowid
 * (and a webui row's place and message count). Each part's rows are read
 * again, with one query, when it is taken, so memory stays a few numbers a
 * row where the rows themselves are a tenth of a kilobyte or more each. A
 * row deleted since, or whose id or source changed, is left out.
 */
function readRowsByParts(
  db: DatabaseSync,
  path: string,
  webui: WebuiRowQueries | null,
  partOf: (id: string) => number,
): StateDbParts {
  // Per part: the rowid of each session; the position, rowid and message
  // count of each webui row, in the server's order.
  const sessionsOf: number[][] = [];
  const webuiOf: number[][] = [];
  const rowidOf = (row: Record<string, unknown>) => row.rowid as number;
  for (
    const row of db.prepare(`SELECT id, rowid AS "rowid" FROM sessions`)
      .iterate()
  ) {
    (sessionsOf[partOf(normalizeId(row.id as SqlValue))] ??= []).push(
      rowidOf(row),
    );
  }
  if (webui) {
    const counts = webui.messageCounts();
    let position = 0;
    for (const row of db.prepare(webui.listSql).iterate()) {
      const rawId = row.id as SqlValue;
      (webuiOf[partOf(normalizeId(rawId))] ??= []).push(
        position++,
        rowidOf(row),
        counts.get(rawKey(rawId)) ?? 0,
      );
    }
  }
  // One query a part: the ids of a list of rowids.
  const idsOf = (where: string) => {
    const query = db.prepare(
      `SELECT id, rowid AS "rowid" FROM sessions WHERE ${where}rowid IN ` +
        `(SELECT value FROM json_each(?))`,
    );
    return (rowids: number[]) => {
      const ids = new Map<number, SqlValue>();
      try {
        for (const row of query.iterate(JSON.stringify(rowids))) {
          ids.set(rowidOf(row), row.id as SqlValue);
        }
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        throw new Error(
          `${path} could not be read again (${message}); run the audit ` +
            "again when the agent is idle",
        );
      }
      return ids;
    };
  };
  const sessionIdsOf = idsOf("");
  const webuiIdsOf = webui ? idsOf(`source = 'webui' AND `) : null;
  // The columns of a webui row, read when asked for (a table with rowids).
  const columnsOf = webui?.columnsOf!;
  let sessionsPart = 0;
  let webuiPart = 0;
  return {
    sessionIds: {
      take() {
        const part = sessionsPart++;
        const rowids = sessionsOf[part] ?? [];
        sessionsOf[part] = [];
        const ids: string[] = [];
        for (const rawId of sessionIdsOf(rowids).values()) {
          const id = normalizeId(rawId);
          if (partOf(id) === part) ids.push(id);
        }
        return ids;
      },
    },
    webuiRows: {
      take() {
        const part = webuiPart++;
        const rows = webuiOf[part] ?? [];
        webuiOf[part] = [];
        if (!webuiIdsOf || rows.length === 0) return [];
        const rowids: number[] = [];
        for (let i = 1; i < rows.length; i += 3) rowids.push(rows[i]);
        const ids = webuiIdsOf(rowids);
        const taken: StateDbSessionRow[] = [];
        for (let i = 0; i < rows.length; i += 3) {
          const rowid = rows[i + 1];
          const rawId = ids.get(rowid);
          if (rawId === undefined) continue;
          const id = normalizeId(rawId);
          if (partOf(id) !== part) continue;
          taken.push(
            new LazyRow(id, rawId, rows[i + 2], rows[i], rowid, columnsOf),
          );
        }
        return taken;
      },
    },
  };
}

type ColumnsOf = (rowid: unknown) => StateDbSessionRow["columns"];

function columnsFrom(
  row: Record<string, unknown> | undefined,
): StateDbSessionRow["columns"] {
  const columns = {} as StateDbSessionRow["columns"];
  for (const c of SESSION_COLUMNS) columns[c] = (row?.[c] ?? null) as SqlValue;
  return columns;
}

/** Reads one row's columns by its rowid. */
function lazyColumns(db: DatabaseSync, select: string): ColumnsOf {
  const statement = db.prepare(`${select} AND rowid = ?`);
  return (rowid) => columnsFrom(statement.get(rowid as SqlValue));
}

/** False for a table made `WITHOUT ROWID` (no server makes one). */
function hasRowid(db: DatabaseSync, table: string): boolean {
  try {
    db.prepare(`SELECT rowid FROM ${table} LIMIT 1`).all();
    return true;
  } catch {
    return false;
  }
}

/** A webui row whose columns are read when asked for. */
class LazyRow implements StateDbSessionRow {
  id: string;
  rawId: SqlValue;
  messageCount: number;
  position: number;
  #rowid: unknown;
  #columnsOf: ColumnsOf;

  constructor(
    id: string,
    rawId: SqlValue,
    messageCount: number,
    position: number,
    rowid: unknown,
    columnsOf: ColumnsOf,
  ) {
    this.id = id;
    this.rawId = rawId;
    this.messageCount = messageCount;
    this.position = position;
    this.#rowid = rowid;
    this.#columnsOf = columnsOf;
  }

  get columns(): StateDbSessionRow["columns"] {
    return this.#columnsOf(this.#rowid);
  }
}

/** Lines of `PRAGMA quick_check` kept in a report. */
const QUICK_CHECK_LINES = 20;

function quickCheck(db: DatabaseSync): string[] {
  try {
    const lines = db.prepare(`PRAGMA quick_check(${QUICK_CHECK_LINES})`).all()
      .flatMap((row) => String(Object.values(row)[0] ?? "").split("\n"))
      .filter((line) => line !== "" && line !== "ok");
    // SQLite names the schema first ("*** in database main ***"): noise here.
    return lines.filter((line) =>
      !/^\*\*\* in database \w+ \*\*\*$/.test(line)
    );
  } catch (error) {
    return [error instanceof Error ? error.message : String(error)];
  }
}

/** The first bytes of a rollback journal that holds pages to roll back. */
const JOURNAL_MAGIC = [0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7];

function readSideFiles(path: string): StateDbSideFiles {
  const side = (suffix: StateDbSideFile["suffix"]): StateDbSideFile | null => {
    try {
      const info = Deno.lstatSync(path + suffix);
      return {
        suffix,
        path: path + suffix,
        size: info.size,
        regular: info.isFile && !info.isSymlink,
      };
    } catch {
      return null;
    }
  };
  const journal = side("-journal");
  return {
    wal: side("-wal"),
    shm: side("-shm"),
    journal: journal && { ...journal, hot: journal.regular && isHot(journal) },
  };
}

function isHot(journal: StateDbSideFile): boolean {
  if (journal.size < JOURNAL_MAGIC.length) return false;
  const head = headOf(journal.path, JOURNAL_MAGIC.length);
  return head !== null && JOURNAL_MAGIC.every((b, i) => head[i] === b);
}

/**
 * The session id the server derives from a `sessions.id` value:
 * `str(id or '').strip()`.
 *
 * @example
 * ```ts
 * import { normalizeId } from "./state_db.ts";
 * normalizeId(" abc "); // "abc"
 * normalizeId(null); // ""
 * ```
 */
export function normalizeId(raw: SqlValue): string {
  if (raw === null || raw === "" || raw === 0 || raw === 0n) return "";
  if (raw instanceof Uint8Array) return "";
  return String(raw).trim();
}

function unreadable(path: string, error: unknown): StateDb {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { errcode?: number }).errcode;
  let problem: StateDbProblem = "io_error";
  // Each detail ends with what the operator can do.
  let detail = `cannot be read (${message}); check the --state-db path`;
  if (code === 26 || /not a database/i.test(message)) {
    problem = "not_a_database";
    detail = "is not a SQLite database; check the --state-db path";
  } else if (code === 5 || code === 6 || /locked|busy/i.test(message)) {
    problem = "locked";
    detail =
      `is locked by another process (waited ${STATE_DB_BUSY_TIMEOUT_MS} ms); ` +
      "run again when the agent is idle, or stop the agent first";
  } else if (code === 11 || /malformed|corrupt/i.test(message)) {
    problem = "corrupt";
    detail = `is corrupt (${message}); restore it from a backup, or ` +
      "recover it with sqlite3's .recover while the agent is stopped";
  } else if (
    error instanceof Deno.errors.PermissionDenied ||
    /permission denied|access/i.test(message)
  ) {
    problem = "permission_denied";
    detail = "cannot be read: permission denied; fix its permissions: " +
      "make it readable to the user running hermes-fsck";
  }
  return { status: "unreadable", path, problem, detail, close: () => {} };
}

/** Messages belong to a row by its id as stored, not as normalized. */
function rawKey(raw: SqlValue): string {
  return raw instanceof Uint8Array ? "" : String(raw);
}

/** The optional message columns the server reads, in its order. */
const TRANSCRIPT_COLUMNS = [
  "tool_call_id",
  "tool_calls",
  "tool_name",
  "reasoning",
  "reasoning_details",
  "codex_reasoning_items",
  "reasoning_content",
  "codex_message_items",
  "api_content",
] as const;

/** Columns the server decodes as JSON when they hold a string. */
const JSON_COLUMNS = new Set([
  "tool_calls",
  "reasoning_details",
  "codex_reasoning_items",
  "codex_message_items",
]);

function transcriptRows(
  db: DatabaseSync,
  columns: Set<string>,
  rawId: SqlValue,
): Record<string, unknown>[] {
  if (
    !["role", "content", "timestamp", "session_id"].every((c) => columns.has(c))
  ) {
    return [];
  }
  const optional = TRANSCRIPT_COLUMNS.filter((c) => columns.has(c));
  const id = columns.has("id") ? ["id"] : [];
  const active = columns.has("active")
    ? " AND (active IS NULL OR active != 0)"
    : "";
  const order = columns.has("id") ? "id" : "timestamp";
  const select = [...id, "role", "content", "timestamp", ...optional]
    .map((c) => `"${c}"`).join(", ");
  const rows = db.prepare(
    `SELECT ${select} FROM messages WHERE session_id = ?${active} ORDER BY ${order} ASC`,
  ).all(rawId);
  return rows.map((row) => {
    const message: Record<string, unknown> = {
      role: row.role,
      content: row.content,
      timestamp: row.timestamp,
    };
    for (const column of optional) {
      let value: unknown = row[column];
      if (value === null || value === "") continue;
      if (JSON_COLUMNS.has(column)) value = jsonIfString(value);
      message[column] = value;
    }
    if (
      row.id !== null && row.id !== undefined &&
      typeof message.api_content === "string" && message.api_content
    ) message._state_db_row_id = row.id;
    if (message.role === "tool" && message.tool_name && !message.name) {
      message.name = message.tool_name;
    }
    return message;
  });
}

/** The server's `_json_loads_if_string`. */
function jsonIfString(value: unknown): unknown {
  if (typeof value !== "string") return value;
  const text = value.trim();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return value;
  }
}
