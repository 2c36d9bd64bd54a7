/**
 * malformed-live (tests/malformed_live_test.ts goes deeper).
 * @module
 */
import { testCheck } from "../check_tester.ts";
import { concatBytes } from "../fixtures.ts";

testCheck("malformed-live", {
  valid: [{
    name: "a live sidecar that does not parse, with a backup to restore",
    nearMiss: "malformed_live",
    store: async (s) => {
      await s.writeRaw("abc.json", "{");
      await s.backup("abc", { messages: 2 });
    },
  }],
  invalid: [{
    name: "live sidecars that are empty, not JSON or not UTF-8",
    store: async (s) => {
      await s.writeRaw("abc.json", "");
      await s.writeRaw("def.json", '{"session_id": "def", ');
      await s.writeRaw("ghi.json", concatBytes('{"a": "', [0xff], '"}'));
    },
    findings: [
      {
        kind: "malformed_live",
        sessionId: "abc",
        category: "unsafe_to_repair",
      },
      { kind: "malformed_live", sessionId: "def" },
      { kind: "malformed_live", sessionId: "ghi" },
    ],
  }],
});
