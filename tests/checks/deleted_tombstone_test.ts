/**
 * deleted-tombstone, per kind (tests/tombstone_test.ts goes deeper).
 * @module
 */
import { testCheck } from "../check_tester.ts";
import { webuiRows } from "./db_support.ts";

testCheck("deleted-tombstone", {
  valid: [{
    name: "a deleted session with nothing left",
    nearMiss: "state_db_deleted_webui_tombstone",
    store: async (s) => {
      await s.sidecar("kept", { messages: 2 });
      await s.tombstone(["gone"]);
    },
  }, {
    name: "a tombstone that parses",
    nearMiss: "tombstone_unreadable",
    store: (s) => s.tombstone([]),
  }],
  invalid: [{
    name: "a deleted session state.db still has",
    store: async (s) => {
      await s.tombstone(["gone"]);
      s.stateDb(webuiRows({ gone: 2 }));
    },
    findings: [{
      kind: "state_db_deleted_webui_tombstone",
      sessionId: "gone",
      category: "unsafe_to_repair",
    }],
  }, {
    name: "a tombstone that does not parse",
    store: (s) => s.writeRaw("_deleted_webui_sessions.json", "{"),
    findings: [{ kind: "tombstone_unreadable" }],
  }],
});
