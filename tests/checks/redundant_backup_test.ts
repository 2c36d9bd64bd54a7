/**
 * redundant-backup (tests/redundant_backup_test.ts goes deeper).
 * @module
 */
import { testCheck } from "../check_tester.ts";

testCheck("redundant-backup", {
  valid: [{
    name: "a backup with more messages than the live file",
    nearMiss: "redundant_backup",
    store: async (s) => {
      await s.sidecar("abc", { messages: 2 });
      await s.backup("abc", { messages: 6 });
    },
  }],
  invalid: [{
    name: "a backup the live file has outgrown",
    store: async (s) => {
      await s.sidecar("abc", { messages: 6 });
      await s.backup("abc", { messages: 4 });
    },
    findings: [{
      kind: "redundant_backup",
      sessionId: "abc",
      paths: ["abc.json.bak", "abc.json"],
      category: "info",
    }],
  }],
});
