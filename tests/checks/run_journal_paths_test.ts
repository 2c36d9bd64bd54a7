/**
 * run-journal-paths (tests/run_journal_checks_test.ts goes deeper).
 * @module
 */
import { testCheck } from "../check_tester.ts";
import { writeRun } from "./stream_support.ts";

testCheck("run-journal-paths", {
  valid: [{
    name: "run journals under valid ids",
    nearMiss: "run_journal_refused_path",
    store: async (s) => {
      await s.sidecar("s1", { messages: 2 });
      await writeRun(s, "s1", "run1", [["done"]]);
    },
  }],
  invalid: [{
    name: "a session dir name outside the id charset, and a symlink",
    store: async (s) => {
      await s.sidecar("s1", { messages: 2 });
      await writeRun(s, "s1", "run1", [["done"]]);
      await s.writeRaw("_run_journal/s1.x/run1.jsonl", "{}\n");
      await Deno.symlink("/etc/hostname", s.path("_run_journal/s1/link.jsonl"));
    },
    findings: [
      { kind: "run_journal_refused_path", paths: ["_run_journal/s1.x"] },
      {
        kind: "run_journal_refused_path",
        paths: ["_run_journal/s1/link.jsonl"],
        category: "unsafe_to_repair",
      },
    ],
  }],
});
