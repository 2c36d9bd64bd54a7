/**
 * state-db-health, per kind (tests/state_db_health_test.ts goes deeper).
 * @module
 */
import { testCheck } from "../check_tester.ts";
import { OLD_SCHEMA } from "../fixtures.ts";
import {
  corruptUnusedIndex,
  crashWhileWriting,
  healthySession,
} from "../state_db_support.ts";

testCheck("state-db-health", {
  valid: [{
    name: "a healthy state.db",
    nearMiss: "state_db_quick_check_failed",
    store: healthySession,
  }, {
    name: "the full schema",
    nearMiss: "state_db_old_schema",
    store: healthySession,
  }, {
    name: "a WAL state.db a writer closed",
    nearMiss: "state_db_leftover_files",
    store: healthySession,
  }],
  invalid: [{
    name: "a state.db that fails PRAGMA quick_check",
    store: async (s) => {
      await healthySession(s);
      corruptUnusedIndex(s.stateDbPath);
    },
    findings: [{
      kind: "state_db_quick_check_failed",
      category: "unsafe_to_repair",
    }],
  }, {
    name: "an old schema",
    store: async (s) => {
      await s.sidecar("s1", { messages: 2 });
      s.stateDb({
        sessions: [{ id: "s1", source: "webui", title: "One" }],
        messages: [{ session_id: "s1", role: "user", content: "q" }],
      }, OLD_SCHEMA);
    },
    findings: [{ kind: "state_db_old_schema", category: "info" }],
  }, {
    name: "a -wal a killed writer left without its -shm",
    store: async (s) => {
      await healthySession(s);
      await crashWhileWriting(
        s.stateDbPath,
        `db.exec("PRAGMA journal_mode=WAL");
db.exec("INSERT INTO sessions (id, source, title) VALUES ('late', 'cli', 'x')");`,
      );
      await Deno.remove(s.stateDbPath + "-shm");
    },
    findings: [{ kind: "state_db_leftover_files", category: "info" }],
  }],
});
