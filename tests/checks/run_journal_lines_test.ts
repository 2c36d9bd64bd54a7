/**
 * run-journal-lines, per kind (tests/run_journal_checks_test.ts goes
 * deeper).
 * @module
 */
import { testCheck } from "../check_tester.ts";
import { writeRun } from "./stream_support.ts";

const journal = ["_run_journal/s1/run1.jsonl"];

testCheck("run-journal-lines", {
  valid: [{
    name: "a run journal of whole lines",
    nearMiss: "run_journal_torn_line",
    store: async (s) => {
      await s.sidecar("s1", { messages: 2 });
      await writeRun(s, "s1", "run1", [["token", { text: "Hi" }], ["done"]]);
    },
  }, {
    name: "a run journal of JSON objects",
    nearMiss: "run_journal_malformed_lines",
    store: async (s) => {
      await s.sidecar("s1", { messages: 2 });
      await writeRun(s, "s1", "run1", [["token", { text: "Hi" }]]);
    },
  }, {
    name: "a run journal under --max-file-size",
    nearMiss: "run_journal_read_cut",
    args: ["--max-file-size", "16K"],
    store: async (s) => {
      await s.sidecar("s1", { messages: 2 });
      await writeRun(s, "s1", "run1", [["token", { text: "Hi" }]]);
    },
  }],
  invalid: [{
    name: "a last line cut short",
    store: async (s) => {
      await s.sidecar("s1", { messages: 2 });
      await writeRun(s, "s1", "run1", [["token", { text: "Hi" }]], '{"seq": 2');
    },
    findings: [{
      kind: "run_journal_torn_line",
      sessionId: "s1",
      paths: journal,
      category: "info",
    }],
  }, {
    name: "a line that is not a JSON object",
    store: async (s) => {
      await s.sidecar("s1", { messages: 2 });
      await writeRun(s, "s1", "run1", [["token", { text: "Hi" }]], "[1]\n");
    },
    findings: [{ kind: "run_journal_malformed_lines", sessionId: "s1" }],
  }, {
    name: "a run journal past --max-file-size",
    args: ["--max-file-size", "16K"],
    store: async (s) => {
      await s.sidecar("s1", { messages: 2 });
      await writeRun(s, "s1", "run1", [], "x".repeat(64 * 1024) + "\n");
    },
    findings: [{ kind: "run_journal_read_cut", sessionId: "s1" }],
  }],
});
