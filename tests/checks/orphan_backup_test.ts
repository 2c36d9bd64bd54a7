/**
 * orphan-backup, per kind (tests/orphan_backup_state_db_test.ts goes
 * deeper into the state.db cases).
 * @module
 */
import { testCheck } from "../check_tester.ts";
import { webuiRows } from "./db_support.ts";

testCheck("orphan-backup", {
  valid: [{
    name: "a backup beside its live sidecar",
    nearMiss: "orphan_backup",
    store: async (s) => {
      await s.sidecar("abc", { messages: 4 });
      await s.backup("abc", { messages: 2 });
    },
  }, {
    name: "a malformed backup beside its live sidecar",
    nearMiss: "malformed_orphan_backup",
    store: async (s) => {
      await s.sidecar("abc", { messages: 4 });
      await s.writeRaw("abc.json.bak", "{");
    },
  }, {
    name: "a live sidecar and a state.db that is not a database",
    nearMiss: "orphan_backup_state_db_unreadable",
    store: async (s) => {
      await s.sidecar("abc", { messages: 4 });
      await s.backup("abc", { messages: 2 });
      await Deno.writeTextFile(s.stateDbPath, "not sqlite\n".repeat(50));
    },
  }, {
    name: "a backup beside its live sidecar, state.db without its row",
    nearMiss: "orphan_backup_without_state_row",
    store: async (s) => {
      await s.sidecar("abc", { messages: 4 });
      await s.backup("abc", { messages: 2 });
      s.stateDb(webuiRows({ other: 2 }));
    },
  }],
  invalid: [{
    name: "an orphan backup, no state.db",
    store: (s) => s.backup("abc", { messages: 2 }),
    findings: [{
      kind: "orphan_backup",
      sessionId: "abc",
      paths: ["abc.json.bak"],
      category: "repairable",
    }],
  }, {
    name: "an orphan backup whose row state.db still has",
    store: async (s) => {
      await s.backup("abc", { messages: 2 });
      s.stateDb(webuiRows({ abc: 2 }));
    },
    findings: [{ kind: "orphan_backup", sessionId: "abc" }],
  }, {
    name: "an orphan backup that does not parse",
    store: (s) => s.writeRaw("abc.json.bak", "{"),
    findings: [{ kind: "malformed_orphan_backup", sessionId: "abc" }],
  }, {
    name: "an orphan backup and a state.db that is not a database",
    store: async (s) => {
      await s.backup("abc", { messages: 2 });
      await Deno.writeTextFile(s.stateDbPath, "not sqlite\n".repeat(50));
    },
    findings: [{ kind: "orphan_backup_state_db_unreadable", sessionId: "abc" }],
  }, {
    name: "an orphan backup whose row state.db no longer has",
    store: async (s) => {
      await s.backup("abc", { messages: 2 });
      s.stateDb(webuiRows({ other: 2 }));
    },
    findings: [{
      kind: "orphan_backup_without_state_row",
      sessionId: "abc",
      category: "unsafe_to_repair",
    }],
  }],
});
