/**
 * run-journal-orphan (tests/run_journal_checks_test.ts goes deeper).
 * @module
 */
import { testCheck } from "../check_tester.ts";
import { writeRun } from "./stream_support.ts";

testCheck("run-journal-orphan", {
  valid: [{
    name: "run journals of a session whose backup remains",
    nearMiss: "run_journal_orphan",
    store: async (s) => {
      await s.backup("s1", { messages: 2 });
      await writeRun(s, "s1", "run1", [["done"]]);
    },
  }],
  invalid: [{
    name: "run journals of a session that is gone",
    store: async (s) => {
      await s.sidecar("kept", { messages: 2 });
      await writeRun(s, "gone", "run1", [["done"]]);
    },
    findings: [{
      kind: "run_journal_orphan",
      sessionId: "gone",
      paths: ["_run_journal/gone"],
      category: "info",
    }],
  }],
});
