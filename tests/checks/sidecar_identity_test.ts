/**
 * sidecar-identity (tests/sidecar_identity_test.ts goes deeper).
 * @module
 */
import { testCheck } from "../check_tester.ts";
import { makeSidecar } from "../fixtures.ts";

testCheck("sidecar-identity", {
  valid: [{
    name: "a sidecar whose session_id is its name",
    nearMiss: "session_id_mismatch",
    store: (s) => s.sidecar("abc", { messages: 2 }),
  }, {
    name: "a sidecar with its session_id and messages",
    nearMiss: "sidecar_missing_keys",
    store: (s) => s.sidecar("abc", { messages: 2 }),
  }],
  invalid: [{
    name: "a sidecar holding another session",
    store: (s) =>
      s.writeRaw("abc.json", JSON.stringify(makeSidecar("def"), null, 2)),
    findings: [{
      kind: "session_id_mismatch",
      sessionId: "abc",
      category: "unsafe_to_repair",
    }],
  }, {
    name: "a sidecar that is a list, and one without session_id",
    store: async (s) => {
      await s.writeRaw("abc.json", "[]");
      const { session_id: _, ...rest } = makeSidecar("def");
      await s.writeRaw("def.json", JSON.stringify(rest, null, 2));
    },
    findings: [
      { kind: "sidecar_missing_keys", sessionId: "abc" },
      { kind: "sidecar_missing_keys", sessionId: "def" },
    ],
  }],
});
