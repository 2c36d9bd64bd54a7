/**
 * turn-journal-pending, per kind (tests/turn_journal_test.ts and
 * tests/journal_append_test.ts go deeper).
 * @module
 */
import { testCheck } from "../check_tester.ts";
import { finishedTurn, submitted } from "./journal_support.ts";

const stopped = ["--server-stopped"];

testCheck("turn-journal-pending", {
  valid: [{
    name: "an unfinished turn whose message the sidecar has",
    nearMiss: "turn_journal_pending_turn",
    args: stopped,
    store: async (s) => {
      await s.sidecar("s1", { messages: 2 });
      await s.journal("s1", [submitted("s1", "t1", "message 0")]);
    },
  }, {
    name: "a finished turn",
    nearMiss: "turn_journal_pending_unconfirmed",
    store: async (s) => {
      await s.sidecar("s1", { messages: 2 });
      await s.journal("s1", finishedTurn("s1", "t1"));
    },
  }],
  invalid: [{
    name: "a turn only the journal holds, no server running",
    args: stopped,
    store: async (s) => {
      await s.sidecar("s1", { messages: 2 });
      await s.journal("s1", [submitted("s1", "t1", "only here")]);
    },
    findings: [{
      kind: "turn_journal_pending_turn",
      sessionId: "s1",
      category: "repairable",
    }],
  }, {
    name: "the same while a server may be answering it",
    store: async (s) => {
      await s.sidecar("s1", { messages: 2 });
      await s.journal("s1", [submitted("s1", "t1", "only here")]);
    },
    findings: [{
      kind: "turn_journal_pending_unconfirmed",
      sessionId: "s1",
      category: "info",
    }],
  }],
});
