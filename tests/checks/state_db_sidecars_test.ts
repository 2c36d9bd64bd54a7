/**
 * state-db-sidecars, per kind (tests/webui_parity_test.ts and
 * tests/reference_scenarios_test.ts compare with the server).
 * @module
 */
import { testCheck } from "../check_tester.ts";
import { webuiRows } from "./db_support.ts";

testCheck("state-db-sidecars", {
  valid: [{
    name: "a webui row whose sidecar is there",
    nearMiss: "state_db_missing_sidecar",
    store: async (s) => {
      await s.sidecar("abc", { messages: 2 });
      s.stateDb(webuiRows({ abc: 2 }));
    },
  }, {
    name: "a cli row with no messages and no sidecar",
    nearMiss: "state_db_orphan_webui_row",
    store: (s) => s.stateDb(webuiRows({ abc: 0 }, "cli")),
  }],
  invalid: [{
    name: "a webui row with messages and no sidecar",
    store: (s) => s.stateDb(webuiRows({ abc: 3 })),
    findings: [{
      kind: "state_db_missing_sidecar",
      sessionId: "abc",
      category: "repairable",
    }],
  }, {
    name: "a webui row with no messages and no sidecar",
    store: (s) => s.stateDb(webuiRows({ abc: 0 })),
    findings: [{ kind: "state_db_orphan_webui_row", sessionId: "abc" }],
  }],
});
