/**
 * Differential test: `hermes-fsck audit --format webui-json` must print
 * byte for byte what the server's own recovery audit prints
 * (`python3 -m api.session_recovery --audit`); the CLI runs as an operator
 * runs it (no `--check`, no `--server-stopped`), so the one render that
 * prints today's server's audit also prints the seed's on these stores.
 * The oracle is the seed-era server's
 * own module (`api/session_recovery.py` of f6ce79185c, 2026-05-11) in
 * `../shared/upstream/`, run as a real subprocess on the same real store
 * (real files, real SQLite); the test skips, saying so, when it or python3
 * is absent. These stores are the ones that version could read (G0: one
 * legacy journal per session, no delete tombstone, no shrink provenance).
 *
 * Out of scope, because hermes-fsck deliberately reports more than the
 * server there (STORE_FORMAT.md §3 "known defects" and §4): the delete
 * tombstone, invalid ids, FIFOs, symlinks and dirs named like store files,
 * an unreadable state.db, journal `created_at` values that are not finite
 * numbers, deeply nested JSON, and the intentional-shrink guards (which the
 * seed predates). Also left out: a user message whose content
 * is a list of parts matched against a journal string (hermes-fsck compares
 * the parts' text, the server compares Python's `str(list)`), and shapes
 * outside STORE_FORMAT.md §2 (non-string message contents, turn ids outside
 * the Basic Multilingual Plane, numeric state.db ids).
 *
 * @module
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import {
  FULL_SCHEMA,
  makeMessages,
  makeSidecar,
  type MessageRow,
  OLD_SCHEMA,
  runCli,
  type SessionRow,
  type StateDbSchema,
  storeArgs,
  TestStore,
} from "./fixtures.ts";
import { seededRandom } from "./safety_support.ts";
import { Dice, generatedStore } from "./store_generator.ts";
import { runServerRecovery, upstreamDir } from "./upstream_store_support.ts";

const SEED_VERSION = "hermes-webui-f6ce79185c";
const oracleDir = await upstreamDir(SEED_VERSION);
const skip = oracleDir.startsWith("skipped");
if (skip) console.warn(`webui-json seed parity ${oracleDir}`);

/** Runs the seed server's own audit on a store. */
function runOracle(store: TestStore, withStateDb: boolean): Promise<string> {
  return runServerRecovery(
    oracleDir,
    "--audit",
    store.sessionDir,
    withStateDb ? store.stateDbPath : null,
  );
}

/** Runs `hermes-fsck audit --format webui-json` on a store. */
async function runOurs(
  store: TestStore,
  withStateDb: boolean,
): Promise<string> {
  const { code, stdout, stderr } = await runCli([
    "audit",
    "--format",
    "webui-json",
    ...storeArgs(store, withStateDb),
  ]);
  assert.ok(
    code === 0 || code === 4,
    `hermes-fsck exited ${code}:\n${stderr}`,
  );
  return stdout.replace(/\n$/, "");
}

interface WebuiAudit {
  status: string;
  summary: { ok: number; repairable: number; unsafe_to_repair: number };
  items: { session_id: string; kind: string }[];
}

/**
 * Audits a store with both tools and asserts identical stdout. Returns the
 * parsed reference audit, so a scenario can check it exercised what it meant.
 */
async function assertParity(
  store: TestStore,
  withStateDb: boolean,
  label = "",
): Promise<WebuiAudit> {
  const [reference, ours] = await Promise.all([
    runOracle(store, withStateDb),
    runOurs(store, withStateDb),
  ]);
  assert.equal(
    ours,
    reference,
    `${label}hermes-fsck (actual) differs from the server's audit (expected)`,
  );
  return JSON.parse(reference);
}

/** The kinds of an audit, each once, sorted. */
function kindsOf(audit: WebuiAudit): string[] {
  return [...new Set(audit.items.map((i) => i.kind))].sort();
}

/** An index listing the given sidecars, as the server's compact entries. */
function indexOf(ids: string[]): Record<string, unknown>[] {
  return ids.map((id) => ({
    session_id: id,
    title: `Session ${id}`,
    message_count: 2,
    updated_at: 1778458000.5,
    last_message_at: 1778458001,
  }));
}

/** A state.db `messages` row of a session. */
function dbMessages(sessionId: string, count: number, first = 1): MessageRow[] {
  return Array.from({ length: count }, (_, i) => ({
    id: first + i,
    session_id: sessionId,
    role: i % 2 === 0 ? "user" : "assistant",
    content: `db message ${i}`,
    timestamp: 1778458000 + i,
  }));
}

/** A journal event of the server's turn journal. */
function journalEvent(
  turnId: string,
  event: string,
  createdAt: number,
  content = "",
): Record<string, unknown> {
  return {
    version: 1,
    event,
    turn_id: turnId,
    session_id: "ignored",
    stream_id: "stream-1",
    created_at: createdAt,
    role: "user",
    content,
    attachments: [],
    workspace: "/work/project",
    model: "test-model",
  };
}

/** Connections a scenario keeps open during the audit (a running agent). */
const openWriters: DatabaseSync[] = [];

interface Scenario {
  name: string;
  /** Whether the store has a state.db (else `--no-state-db` / no `--state-db`). */
  stateDb: boolean;
  build(store: TestStore): Promise<void> | void;
  /** Kinds the reference audit must report, so the scenario is not vacuous. */
  kinds: string[];
  status: WebuiAudit["status"];
}

const SCENARIOS: Scenario[] = [
  {
    name: "a clean store",
    stateDb: true,
    async build(store) {
      await store.sidecar("alpha", { messages: 4 });
      await store.sidecar("beta", { messages: 2 });
      await store.backup("beta", { messages: 2 }); // redundant, not shrunken
      await store.sidecar("gamma", { messages: 6 });
      await store.backup("gamma", { messages: 3 });
      await store.index(indexOf(["alpha", "beta", "gamma"]));
      await store.journal("alpha", [
        journalEvent("t1", "submitted", 10, "message 0"),
        journalEvent("t1", "completed", 11),
        journalEvent("t2", "submitted", 20, "  message 2 \n"), // in sidecar
      ]);
      store.stateDb({
        sessions: [
          { id: "alpha", source: "webui", started_at: 3 },
          { id: "beta", source: "webui", started_at: 2 },
          { id: "gamma", source: "webui", started_at: 1 },
          { id: "cli_only", source: "cli", started_at: 4 },
        ],
        messages: [
          ...dbMessages("alpha", 4, 1),
          ...dbMessages("cli_only", 2, 100),
        ],
      });
    },
    kinds: [],
    status: "ok",
  },
  {
    name: "an empty session dir without state.db",
    stateDb: false,
    build() {},
    kinds: [],
    status: "ok",
  },
  {
    name: "an empty session dir with an empty state.db",
    stateDb: true,
    build(store) {
      store.stateDb({});
    },
    kinds: [],
    status: "ok",
  },
  {
    name: "shrunken_live: fewer live messages than the backup",
    stateDb: false,
    async build(store) {
      await store.sidecar("a1", { messages: 2 });
      await store.backup("a1", { messages: 40 });
      await store.sidecar("a2", { messages: 0 });
      await store.backup("a2", { messages: 1 });
      await store.sidecar("a3", { messages: 5 });
      await store.backup("a3", { messages: 5 }); // equal: nothing to do
      await store.sidecar("a", { messages: 1 }); // "a" sorts before "a1"
      await store.backup("a", { messages: 3 });
      await store.index(indexOf(["a", "a1", "a2", "a3"]));
    },
    kinds: ["shrunken_live"],
    status: "warn",
  },
  {
    name: "shrunken_live: a live sidecar that does not parse",
    stateDb: false,
    async build(store) {
      const full = JSON.stringify(makeSidecar("trunc", { messages: 9 }));
      await store.writeRaw("trunc.json", full.slice(0, full.length / 2));
      await store.backup("trunc", { messages: 9 });
      await store.writeRaw("empty.json", "");
      await store.backup("empty", { messages: 1 });
      await store.writeRaw("garbage.json", "{not json at all");
      await store.backup("garbage", { messages: 0 });
      await store.writeRaw(
        "badutf8.json",
        new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
      );
      await store.backup("badutf8", { messages: 2 });
      // Both unreadable: -1 is not more than -1.
      await store.writeRaw("both.json", "{");
      await store.writeRaw("both.json.bak", "[");
      await store.index(
        indexOf(["trunc", "empty", "garbage", "badutf8", "both"]),
      );
    },
    kinds: ["shrunken_live"],
    status: "warn",
  },
  {
    name: "shrunken_live: a live sidecar that is a list or has no message list",
    stateDb: false,
    async build(store) {
      await store.writeRaw("listy.json", JSON.stringify([makeSidecar("x")]));
      await store.backup("listy", { messages: 3 });
      await store.writeRaw("scalar.json", "42");
      await store.backup("scalar", { messages: 1 });
      await store.writeRaw(
        "nomsgs.json",
        JSON.stringify({ session_id: "nomsgs", messages: { a: 1 } }),
      );
      await store.backup("nomsgs", { messages: 2 });
      await store.writeRaw("nullmsgs.json", '{"messages": null}');
      await store.backup("nullmsgs", { messages: 0 });
      // A list-shaped backup never outnumbers anything.
      await store.sidecar("listbak", { messages: 1 });
      await store.writeRaw("listbak.json.bak", "[1, 2, 3, 4]");
      await store.index(
        indexOf(["listy", "scalar", "nomsgs", "nullmsgs", "listbak"]),
      );
    },
    kinds: ["shrunken_live"],
    status: "warn",
  },
  {
    name: "orphan_backup without state.db",
    stateDb: false,
    async build(store) {
      await store.backup("lost", { messages: 7 });
      await store.backup("lost_empty", { messages: 0 });
      await store.sidecar("kept", { messages: 1 });
      await store.index(indexOf(["kept", "lost"]));
    },
    kinds: ["index_missing_file", "orphan_backup"],
    status: "warn",
  },
  {
    name: "orphan_backup with a state.db row (of any source)",
    stateDb: true,
    async build(store) {
      await store.backup("lost", { messages: 7 });
      await store.backup("from_cli", { messages: 2 });
      store.stateDb({
        sessions: [
          { id: "lost", source: "webui", started_at: 5 },
          { id: "from_cli", source: "cli", started_at: 6 },
        ],
        messages: dbMessages("lost", 3),
      });
    },
    kinds: ["orphan_backup", "state_db_missing_sidecar"],
    status: "warn",
  },
  {
    name: "orphan_backup with a state.db that has no sessions table",
    stateDb: true,
    async build(store) {
      await store.backup("lost", { messages: 3 });
      const db = new DatabaseSync(store.stateDbPath);
      db.exec("CREATE TABLE unrelated (x)");
      db.close();
    },
    kinds: ["orphan_backup"],
    status: "warn",
  },
  {
    name: "malformed_orphan_backup",
    stateDb: false,
    async build(store) {
      await store.writeRaw("cut.json.bak", '{"session_id": "cut", "messa');
      await store.writeRaw("empty.json.bak", "");
      await store.writeRaw("listy.json.bak", "[]");
      await store.writeRaw("nomsgs.json.bak", '{"messages": "none"}');
      await store.backup("fine", { messages: 2 });
    },
    kinds: ["malformed_orphan_backup", "orphan_backup"],
    status: "needs_manual_review",
  },
  {
    name: "orphan_backup_without_state_row",
    stateDb: true,
    async build(store) {
      await store.backup("deleted", { messages: 4 });
      await store.backup("known", { messages: 4 });
      await store.writeRaw("broken.json.bak", "{");
      store.stateDb({
        sessions: [{ id: "known", source: "webui", started_at: 1 }],
        messages: dbMessages("known", 2),
      });
    },
    kinds: [
      "malformed_orphan_backup",
      "orphan_backup",
      "orphan_backup_without_state_row",
      "state_db_missing_sidecar",
    ],
    status: "needs_manual_review",
  },
  {
    name: "index_missing_file and index_missing_entry",
    stateDb: false,
    async build(store) {
      await store.sidecar("listed", { messages: 2 });
      await store.sidecar("unlisted", { messages: 3 });
      await store.writeRaw("unlisted_bad.json", "{");
      await store.backup("only_bak", { messages: 1 });
      await store.index([
        ...indexOf(["listed", "gone_b", "gone_a", "only_bak"]),
        "not an entry",
        { session_id: 7 },
        { title: "no id" },
        ...indexOf(["gone_a"]), // a duplicate
      ]);
    },
    kinds: ["index_missing_entry", "index_missing_file", "orphan_backup"],
    status: "warn",
  },
  {
    name: "index_missing_entry: an _index.json that does not parse",
    stateDb: false,
    async build(store) {
      await store.sidecar("one", { messages: 1 });
      await store.sidecar("two", { messages: 0 });
      await store.writeRaw("_index.json", '[{"session_id": "one"');
    },
    kinds: ["index_missing_entry"],
    status: "warn",
  },
  {
    name: "index_missing_entry: an _index.json that is not a list",
    stateDb: false,
    async build(store) {
      await store.sidecar("one", { messages: 1 });
      await store.index({ one: { session_id: "one" } });
    },
    kinds: ["index_missing_entry"],
    status: "warn",
  },
  {
    name: "no _index.json at all: nothing about the index",
    stateDb: false,
    async build(store) {
      await store.sidecar("one", { messages: 1 });
      await store.sidecar("two", { messages: 5 });
    },
    kinds: [],
    status: "ok",
  },
  {
    name: "an empty index list",
    stateDb: false,
    async build(store) {
      await store.sidecar("one", { messages: 1 });
      await store.writeRaw("_index.json", "[]");
    },
    kinds: ["index_missing_entry"],
    status: "warn",
  },
  {
    name: "state_db_missing_sidecar and state_db_orphan_webui_row",
    stateDb: true,
    async build(store) {
      await store.sidecar("present", { messages: 2 });
      await store.writeRaw("present_bad.json", "{"); // exists: not missing
      await store.index(indexOf(["present", "present_bad"]));
      store.stateDb({
        sessions: [
          { id: "present", source: "webui", started_at: 50 },
          { id: "present_bad", source: "webui", started_at: 50 },
          { id: "old", source: "webui", started_at: 10 },
          { id: "new", source: "webui", started_at: 90 },
          { id: "empty_row", source: "webui", started_at: 70 },
          { id: "no_start", source: "webui", started_at: null },
          { id: "cli_row", source: "cli", started_at: 80 },
          { id: "telegram", source: "telegram", started_at: 60 },
        ],
        messages: [
          ...dbMessages("present", 2, 1),
          ...dbMessages("old", 3, 10),
          ...dbMessages("new", 1, 20),
          ...dbMessages("no_start", 2, 30),
          ...dbMessages("cli_row", 2, 40),
        ],
      });
    },
    kinds: ["state_db_missing_sidecar", "state_db_orphan_webui_row"],
    status: "needs_manual_review",
  },
  {
    name: "state.db rows with equal started_at keep SQLite's order",
    stateDb: true,
    build(store) {
      store.stateDb({
        sessions: ["zeta", "alpha", "mid", "beta"].map((id) => ({
          id,
          source: "webui",
          started_at: 100,
        })),
        messages: [...dbMessages("zeta", 1, 1), ...dbMessages("mid", 2, 5)],
      });
    },
    kinds: ["state_db_missing_sidecar", "state_db_orphan_webui_row"],
    status: "needs_manual_review",
  },
  {
    name: "an old state.db schema (no started_at, no message timestamps)",
    stateDb: true,
    async build(store) {
      await store.backup("gone", { messages: 2 });
      await store.backup("in_db", { messages: 2 });
      await store.sidecar("here", { messages: 1 });
      await store.index(indexOf(["here"]));
      store.stateDb({
        sessions: [
          { id: "zz_last", source: "webui", title: "z" },
          { id: "in_db", source: "webui", title: "i" },
          { id: "here", source: "webui", title: "h" },
          { id: "aa_first", source: "webui", title: "a" },
          { id: "cli", source: "cli", title: "c" },
        ],
        messages: [
          { session_id: "zz_last", role: "user", content: "hi" },
          { session_id: "here", role: "user", content: "x" },
          { session_id: "cli", role: "user", content: "y" },
        ],
      }, OLD_SCHEMA);
    },
    kinds: [
      "orphan_backup",
      "orphan_backup_without_state_row",
      "state_db_missing_sidecar",
      "state_db_orphan_webui_row",
    ],
    status: "needs_manual_review",
  },
  {
    name: "a state.db without a messages table",
    stateDb: true,
    build(store) {
      const schema: StateDbSchema = {
        sessions: FULL_SCHEMA.sessions,
        messages: null,
      };
      store.stateDb({
        sessions: [
          { id: "one", source: "webui", started_at: 1 },
          { id: "two", source: "webui", started_at: 2 },
        ],
      }, schema);
    },
    kinds: ["state_db_orphan_webui_row"],
    status: "needs_manual_review",
  },
  {
    name: "a state.db whose sessions table has no source column",
    stateDb: true,
    async build(store) {
      await store.backup("known", { messages: 1 });
      await store.backup("unknown", { messages: 1 });
      store.stateDb({
        sessions: [{ id: "known" }, { id: "other" }],
        messages: [{ session_id: "other", role: "user", content: "hi" }],
      }, {
        sessions: ["id", "title"],
        messages: ["session_id", "role", "content"],
      });
    },
    kinds: ["orphan_backup", "orphan_backup_without_state_row"],
    status: "needs_manual_review",
  },
  {
    name:
      "sidecars the server wrote with NaN and Infinity (json.dumps allows them)",
    stateDb: false,
    async build(store) {
      // The server saves with json.dumps(allow_nan=True, the default) and
      // reads back with json.loads, which accepts NaN, Infinity, -Infinity.
      const withNan = (id: string, messages: number, literal: string) =>
        JSON.stringify(
          makeSidecar(id, { messages, estimated_cost: 0.25 }),
          null,
          2,
        ).replace('"estimated_cost": 0.25', `"estimated_cost": ${literal}`);
      // Newer live (10) with an older, smaller backup (5): nothing to do.
      await store.writeRaw("newer.json", withNan("newer", 10, "NaN"));
      await store.backup("newer", { messages: 5 });
      // Really shrunken: 2 live against 6 in the backup.
      await store.writeRaw("shrunk.json", withNan("shrunk", 2, "Infinity"));
      await store.backup("shrunk", { messages: 6 });
      // An orphan backup that restores fine.
      await store.writeRaw("lost.json.bak", withNan("lost", 3, "-Infinity"));
      await store.index(indexOf(["newer", "shrunk"]));
    },
    kinds: ["orphan_backup", "shrunken_live"],
    status: "warn",
  },
  {
    name: "a WAL-mode state.db whose writer still holds rows in the -wal file",
    stateDb: true,
    async build(store) {
      await store.backup("in_wal", { messages: 2 });
      await store.backup("nowhere", { messages: 2 });
      store.stateDb({
        sessions: [{ id: "committed", source: "webui", started_at: 1 }],
        messages: dbMessages("committed", 1),
      });
      const writer = new DatabaseSync(store.stateDbPath);
      writer.exec("PRAGMA journal_mode = WAL");
      writer.exec("PRAGMA wal_autocheckpoint = 0");
      writer.exec(
        "INSERT INTO sessions (id, source, started_at) VALUES ('in_wal', 'webui', 2)",
      );
      writer.exec(
        "INSERT INTO messages (id, session_id, role, content, timestamp) VALUES (9, 'in_wal', 'user', 'hi', 5)",
      );
      openWriters.push(writer); // closed after the audit
    },
    kinds: [
      "orphan_backup",
      "orphan_backup_without_state_row",
      "state_db_missing_sidecar",
    ],
    status: "needs_manual_review",
  },
  {
    name:
      "journal contents that are whitespace to Python's str.strip but not to JS trim, and back",
    stateDb: false,
    async build(store) {
      await store.sidecar("ws", { messages: 2 });
      await store.journal("ws", [
        // str.strip() removes \x1c-\x1f and \x85; String.prototype.trim()
        // removes \ufeff. The server reports only the last turn.
        journalEvent("t1", "submitted", 1, "\x1f"),
        journalEvent("t2", "submitted", 2, "\x85"),
        journalEvent("t3", "submitted", 3, "\ufeff"),
        journalEvent("t4", "submitted", 4, "\u3000\u00a0"), // both strip these
      ]);
      await store.index(indexOf(["ws"]));
    },
    kinds: ["turn_journal_pending_turn"],
    status: "warn",
  },
  {
    name: "turn_journal_pending_turn",
    stateDb: false,
    async build(store) {
      await store.sidecar("chat", {
        messages: [
          ...makeMessages(3),
          { role: "user", content: "  already saved  ", timestamp: 1 },
          { role: "assistant", content: "not a user turn", timestamp: 2 },
        ],
      });
      await store.journal("chat", [
        journalEvent("t05", "submitted", 100, "lost prompt"),
        journalEvent("t05", "worker_started", 101, "lost prompt"),
        journalEvent("t01", "submitted", 90, "finished"),
        journalEvent("t01", "completed", 91, "finished"),
        journalEvent("t02", "submitted", 92, "stopped"),
        journalEvent("t02", "interrupted", 93, "stopped"),
        journalEvent("t03", "submitted", 94, "message 0"), // already saved
        journalEvent("t04", "submitted", 95, "already saved"), // trimmed match
        journalEvent("t06", "submitted", 96, ""), // nothing to recover
        journalEvent("t07", "submitted", 97, "   \n\t "),
        journalEvent("t08", "assistant_started", 98, "not a user turn"),
        "this line is not json",
        "[1, 2, 3]",
        '"a string"',
        '{"event": "submitted", "content": "no turn id", "created_at": 1}',
        journalEvent("t00", "submitted", 99, "z first by id"),
        '{"truncated": ',
      ]);
      await store.index(indexOf(["chat"]));
    },
    kinds: ["turn_journal_pending_turn"],
    status: "warn",
  },
  {
    name:
      "turn_journal_pending_turn: the latest event decides, ties go to the later line",
    stateDb: false,
    async build(store) {
      await store.sidecar("order", { messages: 2 });
      await store.journal("order", [
        // Completed, but the completion is logged before the submission.
        journalEvent("late", "completed", 200),
        journalEvent("late", "submitted", 100, "out of order"),
        // A newer submission after a terminal event reopens the turn.
        journalEvent("reopened", "submitted", 10, "first try"),
        journalEvent("reopened", "interrupted", 11, "first try"),
        journalEvent("reopened", "submitted", 12, "second try"),
        // Equal created_at: the later line wins.
        journalEvent("tie_open", "completed", 50),
        journalEvent("tie_open", "worker_started", 50, "tie open"),
        journalEvent("tie_done", "worker_started", 60, "tie done"),
        journalEvent("tie_done", "interrupted", 60),
        // The latest event carries no content: nothing to recover.
        journalEvent("silent", "submitted", 70, "said something"),
        journalEvent("silent", "worker_started", 71),
        // Float timestamps as the server writes them.
        journalEvent("float", "submitted", 1778458282.1, "float time"),
        journalEvent("float", "completed", 1778458282.05),
        // No event name at all.
        { turn_id: "nameless", created_at: 5, content: "nameless" },
      ]);
      await store.index(indexOf(["order"]));
    },
    kinds: ["turn_journal_pending_turn"],
    status: "warn",
  },
  {
    name:
      "turn_journal_pending_turn: journals of missing or unreadable sidecars",
    stateDb: false,
    async build(store) {
      await store.journal("no_sidecar", [
        journalEvent("t1", "submitted", 1, "orphan turn"),
      ]);
      await store.writeRaw("bad_live.json", "{");
      await store.journal("bad_live", [
        journalEvent("t1", "submitted", 1, "message 0"),
      ]);
      await store.writeRaw("list_live.json", '[{"role": "user"}]');
      await store.journal("list_live", [
        journalEvent("t1", "submitted", 1, "message 0"),
      ]);
      await store.sidecar("msgs_null", { messages: 0 });
      await store.journal("msgs_null", [
        journalEvent("t1", "worker_started", 1, "hello"),
      ]);
      await store.writeRaw("_turn_journal/empty.jsonl", "");
      await store.writeRaw(
        "_turn_journal/crlf.jsonl",
        JSON.stringify(journalEvent("t1", "submitted", 1, "crlf")) + "\r\n",
      );
      await store.writeRaw("_turn_journal/not_a_journal.txt", "x");
      await store.index(indexOf(["bad_live", "list_live", "msgs_null"]));
    },
    kinds: ["turn_journal_pending_turn"],
    status: "warn",
  },
  {
    name: "non-ASCII text in journal turn ids and contents",
    stateDb: false,
    async build(store) {
      await store.sidecar("uni", {
        messages: [{ role: "user", content: "café ☕", timestamp: 1 }],
      });
      await store.journal("uni", [
        journalEvent("tour-é", "submitted", 1, "naïve question"),
        journalEvent("tour-ascii", "submitted", 2, "café ☕"),
        journalEvent('quote"back\\slash', "submitted", 3, "escapes"),
      ]);
      await store.index(indexOf(["uni"]));
    },
    kinds: ["turn_journal_pending_turn"],
    status: "warn",
  },
  {
    name: "every kind at once, without state.db",
    stateDb: false,
    async build(store) {
      await store.sidecar("shrunk", { messages: 1 });
      await store.backup("shrunk", { messages: 8 });
      await store.backup("orphan", { messages: 3 });
      await store.writeRaw("malformed.json.bak", "nope");
      await store.sidecar("unindexed", { messages: 2 });
      await store.journal("unindexed", [
        journalEvent("t1", "submitted", 1, "pending"),
      ]);
      await store.index(indexOf(["shrunk", "ghost"]));
    },
    kinds: [
      "index_missing_entry",
      "index_missing_file",
      "malformed_orphan_backup",
      "orphan_backup",
      "shrunken_live",
      "turn_journal_pending_turn",
    ],
    status: "needs_manual_review",
  },
];

for (const scenario of SCENARIOS) {
  Deno.test({
    name: `webui-json seed parity: ${scenario.name}`,
    ignore: skip,
  }, async () => {
    const store = await TestStore.create();
    try {
      await scenario.build(store);
      const audit = await assertParity(store, scenario.stateDb);
      assert.deepEqual(kindsOf(audit), [...scenario.kinds].sort());
      assert.equal(audit.status, scenario.status);
    } finally {
      for (const writer of openWriters.splice(0)) writer.close();
      await store.cleanup();
    }
  });
}

// ---------------------------------------------------------------------------
// Seeded pseudo-random stores.

const SEED = 0x5eed_2026;
const RANDOM_STORES = 25;
const ID_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_";
const JOURNAL_EVENTS = [
  "submitted",
  "worker_started",
  "assistant_started",
  "completed",
  "interrupted",
] as const;

function randomId(dice: Dice, taken: Set<string>): string {
  for (;;) {
    const length = dice.int(1, 10);
    let id = "";
    for (let i = 0; i < length; i++) id += dice.pick([...ID_CHARS]);
    if (id.startsWith("_") || taken.has(id)) continue;
    taken.add(id);
    return id;
  }
}

/** What a generated sidecar or backup file holds. */
function randomSessionFile(
  dice: Dice,
  id: string,
): { text: string; messages: number } {
  const roll = dice.next();
  if (roll < 0.7) {
    const messages = dice.int(0, 12);
    const sidecar = makeSidecar(id, { messages });
    return {
      text: dice.chance(0.5)
        ? JSON.stringify(sidecar, null, 2)
        : JSON.stringify(sidecar),
      messages,
    };
  }
  if (roll < 0.8) {
    const full = JSON.stringify(makeSidecar(id, { messages: dice.int(1, 6) }));
    return { text: full.slice(0, dice.int(0, full.length - 1)), messages: -1 };
  }
  if (roll < 0.87) return { text: "[]", messages: -1 };
  if (roll < 0.93) {
    return { text: JSON.stringify({ session_id: id }), messages: -1 };
  }
  return { text: "", messages: -1 };
}

async function buildRandomStore(
  dice: Dice,
  store: TestStore,
): Promise<{ withStateDb: boolean }> {
  const taken = new Set<string>();
  const ids = Array.from(
    { length: dice.int(0, 9) },
    () => randomId(dice, taken),
  );
  const extraIndexIds = Array.from(
    { length: dice.chance(0.3) ? dice.int(1, 3) : 0 },
    () => randomId(dice, taken),
  );
  const dbOnlyIds = Array.from(
    { length: dice.chance(0.5) ? dice.int(1, 4) : 0 },
    () => randomId(dice, taken),
  );
  const schemaRoll = dice.next();
  const schema = schemaRoll < 0.3
    ? null
    : schemaRoll < 0.8
    ? FULL_SCHEMA
    : OLD_SCHEMA;
  const sessions: SessionRow[] = [];
  const messages: MessageRow[] = [];
  let messageId = 1;
  const addRow = (id: string) => {
    const source = dice.pick(["webui", "webui", "webui", "cli", "telegram"]);
    sessions.push({
      id,
      source,
      title: `Row ${id}`,
      started_at: dice.chance(0.15) ? null : dice.int(1, 6) * 100,
    });
    if (dice.chance(0.65)) {
      const count = dice.int(1, 4);
      for (let i = 0; i < count; i++) {
        messages.push({
          id: messageId++,
          session_id: id,
          role: i % 2 ? "assistant" : "user",
          content: `db ${id} ${i}`,
          timestamp: dice.int(1, 50),
        });
      }
    }
  };

  const indexed: string[] = [];
  for (const id of ids) {
    const hasLive = dice.chance(0.75);
    let liveMessages = -1;
    if (hasLive) {
      const live = randomSessionFile(dice, id);
      liveMessages = live.messages;
      await store.writeRaw(`${id}.json`, live.text);
    }
    if (dice.chance(0.45)) {
      const bak = randomSessionFile(dice, id);
      await store.writeRaw(`${id}.json.bak`, bak.text);
    }
    if (dice.chance(hasLive ? 0.8 : 0.3)) indexed.push(id);
    if (schema && dice.chance(0.6)) addRow(id);
    if (dice.chance(0.35)) {
      await store.journal(id, randomJournal(dice, Math.max(liveMessages, 0)));
    }
  }
  for (const id of dbOnlyIds) if (schema) addRow(id);
  if (dice.chance(0.8)) {
    const roll = dice.next();
    if (roll < 0.1) await store.writeRaw("_index.json", "[{");
    else if (roll < 0.15) await store.index({ not: "a list" });
    else {
      const entries = indexOf([...indexed, ...extraIndexIds]);
      for (let i = entries.length - 1; i > 0; i--) {
        const j = dice.int(0, i);
        [entries[i], entries[j]] = [entries[j], entries[i]];
      }
      await store.index(entries);
    }
  }
  if (schema) store.stateDb({ sessions, messages }, schema);
  return { withStateDb: schema !== null };
}

/** A journal whose contents sometimes repeat the sidecar's user messages. */
function randomJournal(
  dice: Dice,
  liveMessages: number,
): (Record<string, unknown> | string)[] {
  const lines: (Record<string, unknown> | string)[] = [];
  const turns = dice.int(1, 4);
  for (let t = 0; t < turns; t++) {
    const turnId = `2026051${dice.int(0, 9)}T0011${dice.int(10, 99)}Z-${t}`;
    const contentRoll = dice.next();
    const content = contentRoll < 0.3 && liveMessages > 0
      ? ` message ${2 * dice.int(0, Math.floor((liveMessages - 1) / 2))} `
      : contentRoll < 0.4
      ? ""
      : `prompt ${t} of ${turnId}`;
    const events = dice.int(1, 4);
    for (let e = 0; e < events; e++) {
      const event = e === 0 ? "submitted" : dice.pick(JOURNAL_EVENTS);
      const createdAt = dice.chance(0.3)
        ? dice.int(1, 5) + 0.5
        : dice.int(1, 5);
      lines.push(
        journalEvent(turnId, event, createdAt, dice.chance(0.8) ? content : ""),
      );
    }
    if (dice.chance(0.15)) lines.push("{broken line");
  }
  // Shuffle a little: journals are append-only, but clocks are not monotonic.
  for (let i = lines.length - 1; i > 0; i--) {
    if (dice.chance(0.3)) {
      const j = dice.int(0, i);
      [lines[i], lines[j]] = [lines[j], lines[i]];
    }
  }
  return lines;
}

Deno.test(
  {
    name:
      `webui-json seed parity: ${RANDOM_STORES} seeded pseudo-random stores`,
    ignore: skip,
  },
  async () => {
    const dice = new Dice(seededRandom(SEED));
    const seen = new Set<string>();
    for (let n = 0; n < RANDOM_STORES; n++) {
      const store = await TestStore.create();
      try {
        const { withStateDb } = await buildRandomStore(dice, store);
        const audit = await assertParity(
          store,
          withStateDb,
          `random store #${n} (seed ${SEED}): `,
        );
        for (const kind of kindsOf(audit)) seen.add(kind);
      } finally {
        await store.cleanup();
      }
    }
    // The generator must reach every kind the reference knows.
    assert.deepEqual([...seen].sort(), [
      "index_missing_entry",
      "index_missing_file",
      "malformed_orphan_backup",
      "orphan_backup",
      "orphan_backup_without_state_row",
      "shrunken_live",
      "state_db_missing_sidecar",
      "state_db_orphan_webui_row",
      "turn_journal_pending_turn",
    ]);
  },
);

// The G0 stores of the generator that tests today's server
// (tests/webui_parity_test.ts): the same render prints what the seed
// prints on them, so webui-json needs no version option.
Deno.test({
  name: "webui-json seed parity: 14 generated G0 stores",
  ignore: skip,
}, async () => {
  const dice = new Dice(seededRandom(SEED + 1));
  for (let n = 0; n < 14; n++) {
    const store = await TestStore.create();
    try {
      const { withStateDb } = await generatedStore(dice, store, 0, {
        healthy: n < 3,
      });
      await assertParity(store, withStateDb, `G0 store #${n}: `);
    } finally {
      await store.cleanup();
    }
  }
});
