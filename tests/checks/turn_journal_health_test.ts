/**
 * turn-journal-health, per kind (tests/turn_journal_health_test.ts goes
 * deeper).
 * @module
 */
import { testCheck } from "../check_tester.ts";
import { finishedTurn, submitted, turnEvent } from "./journal_support.ts";

testCheck("turn-journal-health", {
  valid: [{
    name: "a healthy journal of a live session",
    nearMiss: "turn_journal_malformed_lines",
    store: async (s) => {
      await s.sidecar("s1", { messages: 2 });
      await s.journal("s1", [
        ...finishedTurn("s1", "t1"),
        ...finishedTurn("s1", "t2", 200),
      ]);
    },
  }, {
    name: "two turns that each end once",
    nearMiss: "turn_journal_collision",
    store: async (s) => {
      await s.sidecar("s1", { messages: 2 });
      await s.journal("s1", [
        submitted("s1", "t1", "message 0"),
        turnEvent("s1", "interrupted", "t1", 101),
        ...finishedTurn("s1", "t2", 200),
      ]);
    },
  }, {
    name: "a journal of a session only a backup holds",
    nearMiss: "turn_journal_orphan",
    store: async (s) => {
      await s.backup("s1", { messages: 2 });
      await s.journal("s1", finishedTurn("s1", "t1"));
    },
  }],
  invalid: [{
    name: "a line that is not JSON",
    store: async (s) => {
      await s.sidecar("s1", { messages: 2 });
      await s.journal("s1", [...finishedTurn("s1", "t1"), "not json at all"]);
    },
    findings: [{
      kind: "turn_journal_malformed_lines",
      sessionId: "s1",
      paths: ["_turn_journal/s1.jsonl"],
      category: "info",
    }],
  }, {
    name: "a turn that ended twice",
    store: async (s) => {
      await s.sidecar("s1", { messages: 2 });
      await s.journal("s1", [
        submitted("s1", "t1", "message 0"),
        turnEvent("s1", "interrupted", "t1", 101, { reason: "recovered" }),
        turnEvent("s1", "completed", "t1", 102),
      ]);
    },
    findings: [{ kind: "turn_journal_collision", sessionId: "s1" }],
  }, {
    name: "a journal of a session that has nothing else",
    store: (s) => s.journal("ghost", finishedTurn("ghost", "t1")),
    findings: [{ kind: "turn_journal_orphan", sessionId: "ghost" }],
  }],
});
