/**
 * Tests of core/store/layout.ts and core/store/session_id.ts: every name of
 * STORE_FORMAT.md §1 is classified by its name alone, and an invalid id can
 * never become a path.
 */

import assert from "node:assert/strict";
import {
  backupName,
  classifyName,
  journalName,
  type NameClass,
  pathIn,
  sidecarName,
} from "../core/store/layout.ts";
import {
  describeInvalidId,
  isValidJournalName,
  isValidSessionId,
  MAX_SESSION_ID_LENGTH,
} from "../core/store/session_id.ts";

function classifies(name: string, expected: NameClass): void {
  assert.deepEqual(classifyName(name), expected, name);
}

Deno.test("store_layout: sidecars and backups", () => {
  classifies("abc.json", { type: "sidecar", sessionId: "abc" });
  classifies("20260511_ab12cd.json", {
    type: "sidecar",
    sessionId: "20260511_ab12cd",
  });
  classifies("0.json", { type: "sidecar", sessionId: "0" });
  classifies("abc.json.bak", { type: "backup", sessionId: "abc" });
  classifies("a_1.json.bak", { type: "backup", sessionId: "a_1" });
});

Deno.test("store_layout: system files", () => {
  classifies("_index.json", { type: "index" });
  classifies("_deleted_webui_sessions.json", { type: "tombstone" });
  classifies("_turn_journal", { type: "journal_dir" });
  // Any other name starting with "_" is a system file, never a session.
  classifies("_projects.json", { type: "system" });
  classifies("_abc.json", { type: "system" });
  classifies("_abc.json.bak", { type: "system" });
  classifies("_index.json.bak", { type: "system" });
  classifies("_", { type: "system" });
});

Deno.test("store_layout: temps of sidecar and backup saves", () => {
  // Session.save(): path.with_suffix('.tmp.<pid>.<tid>') turns abc.json
  // into abc.tmp.<pid>.<tid>.
  classifies("abc.tmp.1234.140234567890", {
    type: "temp",
    origin: "sidecar_save",
    sessionId: "abc",
  });
  // The .bak write: abc.json.bak -> abc.json.bak.tmp.<pid>.<tid>.
  classifies("abc.json.bak.tmp.1234.140234567890", {
    type: "temp",
    origin: "backup_save",
    sessionId: "abc",
  });
});

Deno.test("store_layout: temps of index writes", () => {
  classifies("_index.tmp.1234.5678", { type: "temp", origin: "index_save" });
  classifies("_index.tmp.recovery.1234.5678", {
    type: "temp",
    origin: "index_save",
  });
});

Deno.test("store_layout: temps of recovery writes", () => {
  classifies("abc.json.recover.tmp", {
    type: "temp",
    origin: "recover",
    sessionId: "abc",
  });
  classifies("abc.json.reconcile.tmp.1234.5678", {
    type: "temp",
    origin: "reconcile",
    sessionId: "abc",
  });
});

Deno.test("store_layout: temps of hermes-fsck's own writes", () => {
  classifies("abc.json.hermes-fsck.tmp.1234.0a1b2c3d", {
    type: "temp",
    origin: "hermes_fsck",
    sessionId: "abc",
  });
  classifies("abc.json.bak.hermes-fsck.tmp.1234.ff", {
    type: "temp",
    origin: "hermes_fsck",
    sessionId: "abc",
  });
});

Deno.test("store_layout: temps with an invalid id carry no session id", () => {
  classifies("A b.tmp.1.2", { type: "temp", origin: "sidecar_save" });
  classifies("a+b.json.bak.tmp.1.2", { type: "temp", origin: "backup_save" });
  classifies("A b.json.recover.tmp", { type: "temp", origin: "recover" });
});

Deno.test("store_layout: near-miss temp names are not temps", () => {
  for (
    const name of [
      "abc.tmp",
      "abc.tmp.1",
      "abc.tmp.x.2",
      "abc.json.recover.tmp.1",
      "abc.json.reconcile.tmp",
      "_index.tmp",
      "_index.tmp.recovery",
    ]
  ) {
    assert.notEqual(classifyName(name).type, "temp", name);
  }
});

Deno.test("store_layout: invalid ids are reported, never used", () => {
  classifies("A+c.json", { type: "invalid_id", as: "sidecar", id: "A+c" });
  classifies("a~b.json", { type: "invalid_id", as: "sidecar", id: "a~b" });
  classifies("a.b.json", { type: "invalid_id", as: "sidecar", id: "a.b" });
  classifies("a b.json", { type: "invalid_id", as: "sidecar", id: "a b" });
  classifies("é.json", { type: "invalid_id", as: "sidecar", id: "é" });
  classifies(".json", { type: "invalid_id", as: "sidecar", id: "" });
  classifies("../x.json", { type: "invalid_id", as: "sidecar", id: "../x" });
  classifies("A+c.json.bak", { type: "invalid_id", as: "backup", id: "A+c" });
  classifies("a~b.json.bak", { type: "invalid_id", as: "backup", id: "a~b" });
  const long = "a".repeat(MAX_SESSION_ID_LENGTH + 1);
  classifies(`${long}.json`, { type: "invalid_id", as: "sidecar", id: long });
});

Deno.test("store_layout: other names", () => {
  for (
    const name of ["../x", "README", "abc.JSON", "abc.json.old", "abc.jsonl"]
  ) {
    classifies(name, { type: "other" });
  }
});

Deno.test("session_id: the sidecar charset ^[A-Za-z0-9_-]+$, no leading _", () => {
  for (
    const id of ["abc", "a_1", "0", "20260511t001122z_abcdef", "Abc", "a-b"]
  ) {
    assert.equal(isValidSessionId(id), true, id);
  }
  const invalid: unknown[] = [
    "",
    "A+c",
    "a~b",
    "../x",
    "..",
    "a/b",
    "a\\b",
    "a.b",
    " abc",
    "abc\n",
    "é",
    "_index",
    "a".repeat(MAX_SESSION_ID_LENGTH + 1),
    null,
    42,
  ];
  for (const id of invalid) {
    assert.equal(isValidSessionId(id), false, JSON.stringify(id));
  }
  assert.equal(isValidSessionId("a".repeat(MAX_SESSION_ID_LENGTH)), true);
  assert.equal(describeInvalidId(""), "is empty");
  assert.match(describeInvalidId("_x"), /'_'/);
  assert.match(describeInvalidId(5), /number/);
});

Deno.test("session_id: journal names allow ^[A-Za-z0-9_.-]+$ but never . or ..", () => {
  for (const name of ["abc", "Abc-1.2", "a_b"]) {
    assert.equal(isValidJournalName(name), true, name);
  }
  for (const name of [".", "..", "", "a/b", "a b", "é"]) {
    assert.equal(isValidJournalName(name), false, name);
  }
});

Deno.test("store_layout: sidecarName, backupName and journalName build names of valid ids", () => {
  assert.equal(sidecarName("abc"), "abc.json");
  assert.equal(backupName("abc"), "abc.json.bak");
  assert.equal(journalName("abc"), "_turn_journal/abc.jsonl");
});

Deno.test("store_layout: sidecarName, backupName and journalName throw on invalid ids", () => {
  for (
    const id of ["../x", "../../x", "A+c", "a~b", "", "a/b", "_index", "."]
  ) {
    assert.throws(() => sidecarName(id), Error, id);
    assert.throws(() => backupName(id), Error, id);
    assert.throws(() => journalName(id), Error, id);
  }
});

Deno.test("store_layout: pathIn joins a dir and a name with one slash", () => {
  assert.equal(pathIn("/srv/sessions", "abc.json"), "/srv/sessions/abc.json");
  assert.equal(pathIn("/srv/sessions/", "abc.json"), "/srv/sessions/abc.json");
  assert.equal(
    pathIn("/srv/sessions", "_turn_journal/abc.jsonl"),
    "/srv/sessions/_turn_journal/abc.jsonl",
  );
});
