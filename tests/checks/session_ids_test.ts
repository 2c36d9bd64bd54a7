/**
 * session-ids (tests/session_ids_test.ts goes deeper).
 * @module
 */
import { testCheck } from "../check_tester.ts";
import { makeSidecar } from "../fixtures.ts";

testCheck("session-ids", {
  valid: [{
    name: "ids of the server's charset",
    nearMiss: "invalid_session_id",
    store: async (s) => {
      await s.sidecar("abc_DEF-123", { messages: 2 });
    },
  }],
  invalid: [{
    name: "a sidecar name outside [A-Za-z0-9_-]",
    store: (s) =>
      s.writeRaw("a b.json", JSON.stringify(makeSidecar("a b"), null, 2)),
    findings: [{ kind: "invalid_session_id", category: "unsafe_to_repair" }],
  }],
});
