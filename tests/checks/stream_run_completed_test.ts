/**
 * stream-run-completed, per kind (tests/run_journal_checks_test.ts goes
 * deeper).
 * @module
 */
import { testCheck } from "../check_tester.ts";
import { streamingSidecar, writeRun } from "./stream_support.ts";

const stopped = ["--server-stopped"];

testCheck("stream-run-completed", {
  valid: [{
    name: "a dead stream whose run never ended",
    nearMiss: "stream_run_completed",
    args: stopped,
    store: async (s) => {
      await streamingSidecar(s, "s1", "run1");
      await writeRun(s, "s1", "run1", [["metering", { tokens: 1 }]]);
    },
  }, {
    name: "a completed run of a sidecar that is not streaming",
    nearMiss: "stream_run_completed_unconfirmed",
    store: async (s) => {
      await s.sidecar("s1", { messages: 2 });
      await writeRun(s, "s1", "run1", [["done"]]);
    },
  }],
  invalid: [{
    name: "a completed run its sidecar still shows streaming",
    args: stopped,
    store: async (s) => {
      await streamingSidecar(s, "s1", "run1");
      await writeRun(s, "s1", "run1", [["done"]]);
    },
    findings: [{
      kind: "stream_run_completed",
      sessionId: "s1",
      category: "repairable",
    }],
  }, {
    name: "the same without --server-stopped",
    store: async (s) => {
      await streamingSidecar(s, "s1", "run1");
      await writeRun(s, "s1", "run1", [["done"]]);
    },
    findings: [{
      kind: "stream_run_completed_unconfirmed",
      sessionId: "s1",
      category: "info",
    }],
  }],
});
