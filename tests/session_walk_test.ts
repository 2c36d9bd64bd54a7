/**
 * Tests of the session walk (core/scan/session_walk.ts): ids that are prefixes
 * of others, temps, journal-only and temp-only sessions come out one
 * session at a time, in id order, with the files the scan reads.
 */

import assert from "node:assert/strict";
import { SessionWalk } from "../core/scan/session_walk.ts";
import {
  SUMMARIZED_TEMP_ORIGINS,
  type TempFile,
} from "../core/scan/snapshot.ts";
import { classifyName } from "../core/store/layout.ts";

Deno.test("session walk: each session once, in id order, journal first, even when one id is the start of another", () => {
  const names = [
    "a.json",
    "a.json.bak",
    "a.tmp.1.2",
    "a0.json",
    "a_b.json.bak.tmp.3.4",
    "a_b.json",
    "b.json.recover.tmp",
    "c.hermes-fsck.tmp.9.ff",
  ].sort();
  const temps: TempFile[] = names.flatMap((name) => {
    const kind = classifyName(name);
    return kind.type === "temp"
      ? [{
        name,
        path: name,
        origin: kind.origin,
        sessionId: kind.sessionId,
        identity: null,
      }]
      : [];
  });
  const journals = [
    { name: "_turn_journal/a.jsonl", sessionId: "a" },
    { name: "_turn_journal/a_a.jsonl", sessionId: "a_a" },
  ];
  const walk = new SessionWalk(
    names,
    journals,
    temps,
    (temp) => SUMMARIZED_TEMP_ORIGINS.has(temp.origin),
  );
  const seen: [string, string[], string[]][] = [];
  assert.equal(walk.peekId(), "a");
  for (let s = walk.next(); s; s = walk.next()) {
    seen.push([
      s.sessionId,
      s.files.map((f) => `${f.kind}:${f.name}`),
      s.temps.map((t) => t.name),
    ]);
  }
  assert.equal(walk.peekId(), null);
  assert.deepEqual(seen, [
    ["a", [
      "journal:_turn_journal/a.jsonl",
      "sidecar:a.json",
      "backup:a.json.bak",
      "temp:a.tmp.1.2",
    ], ["a.tmp.1.2"]],
    ["a0", ["sidecar:a0.json"], []],
    ["a_a", ["journal:_turn_journal/a_a.jsonl"], []],
    ["a_b", ["sidecar:a_b.json", "temp:a_b.json.bak.tmp.3.4"], [
      "a_b.json.bak.tmp.3.4",
    ]],
    ["b", ["temp:b.json.recover.tmp"], ["b.json.recover.tmp"]],
    // A temp of hermes-fsck's own is not read: the session has no file to read.
    ["c", [], ["c.hermes-fsck.tmp.9.ff"]],
  ]);
});
