/**
 * state-db-access, per kind (tests/state_db_access_test.ts goes deeper).
 * @module
 */
import assert from "node:assert/strict";
import { testCheck } from "../check_tester.ts";
import {
  healthySession,
  holdExclusiveLock,
  leaveHotJournal,
} from "../state_db_support.ts";

testCheck("state-db-access", {
  valid: [{
    name: "a readable state.db",
    nearMiss: "state_db_unreadable",
    store: healthySession,
  }, {
    name: "a state.db no one holds locked",
    nearMiss: "state_db_locked",
    store: healthySession,
  }, {
    name: "a state.db a writer closed cleanly",
    nearMiss: "state_db_needs_rollback",
    store: healthySession,
  }],
  invalid: [{
    name: "a file that is not a database",
    store: async (s) => {
      await s.sidecar("s1", { messages: 2 });
      await Deno.writeTextFile(s.stateDbPath, "not sqlite\n".repeat(50));
    },
    findings: [{ kind: "state_db_unreadable", category: "unsafe_to_repair" }],
    assert: (report, s) => {
      assert.deepEqual(report.findings[0].paths, [s.stateDbPath]);
    },
  }, {
    name: "a hot journal a killed writer left",
    store: async (s) => {
      await healthySession(s);
      await leaveHotJournal(s.stateDbPath);
    },
    findings: [{ kind: "state_db_needs_rollback" }],
  }, {
    name: "a lock another process holds past the wait",
    store: async (s) => {
      await healthySession(s);
      return holdExclusiveLock(s.stateDbPath);
    },
    findings: [{ kind: "state_db_locked", category: "unsafe_to_repair" }],
  }],
});
