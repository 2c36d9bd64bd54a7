/**
 * stale-stream-output, per kind (tests/run_journal_checks_test.ts goes
 * deeper).
 * @module
 */
import { testCheck } from "../check_tester.ts";
import { streamingSidecar, writeRun } from "./stream_support.ts";

const stopped = ["--server-stopped"];

testCheck("stale-stream-output", {
  valid: [{
    name: "a dead stream whose run journal has no output",
    nearMiss: "stale_stream_unrecovered_output",
    args: stopped,
    store: async (s) => {
      await streamingSidecar(s, "s1", "run1");
      await writeRun(s, "s1", "run1", [["metering", { tokens: 1 }]]);
    },
  }, {
    name: "a run journal with output beside a sidecar that is not streaming",
    nearMiss: "stream_output_unconfirmed",
    store: async (s) => {
      await s.sidecar("s1", { messages: 2 });
      await writeRun(s, "s1", "run1", [["token", { text: "Hi" }]]);
    },
  }, {
    name: "a dead stream whose run journal reads whole",
    nearMiss: "stream_run_journal_unread",
    args: stopped,
    store: async (s) => {
      await streamingSidecar(s, "s1", "run1");
      await writeRun(s, "s1", "run1", [["metering", { tokens: 1 }]]);
    },
  }],
  invalid: [{
    name: "a dead stream whose run journal holds output",
    args: stopped,
    store: async (s) => {
      await streamingSidecar(s, "s1", "run1");
      await writeRun(s, "s1", "run1", [["token", { text: "The answer" }]]);
    },
    findings: [{
      kind: "stale_stream_unrecovered_output",
      sessionId: "s1",
      paths: ["s1.json", "_run_journal/s1/run1.jsonl"],
      category: "repairable",
    }],
  }, {
    name: "the same without --server-stopped",
    store: async (s) => {
      await streamingSidecar(s, "s1", "run1");
      await writeRun(s, "s1", "run1", [["token", { text: "The answer" }]]);
    },
    findings: [{
      kind: "stream_output_unconfirmed",
      sessionId: "s1",
      category: "info",
    }],
  }, {
    name:
      "a dead stream whose run journal is cut by --max-file-size before any output",
    args: [...stopped, "--max-file-size", "16K"],
    store: async (s) => {
      await streamingSidecar(s, "s1", "run1");
      // Cut by the bound before any output: what it holds is unknown.
      await writeRun(s, "s1", "run1", [], "x".repeat(64 * 1024) + "\n");
    },
    findings: [{ kind: "stream_run_journal_unread", sessionId: "s1" }],
  }],
});
