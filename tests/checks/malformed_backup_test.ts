import { testCheck } from "../check_tester.ts";

testCheck("malformed-backup", {
  valid: [{
    name: "a backup that parses beside its live sidecar",
    nearMiss: "malformed_backup",
    store: async (s) => {
      await s.sidecar("abc", { messages: 4 });
      await s.backup("abc", { messages: 2 });
    },
  }, {
    name: "a malformed backup without a live sidecar (orphan-backup's)",
    nearMiss: "malformed_backup",
    store: (s) => s.writeRaw("abc.json.bak", "{"),
  }],
  invalid: [{
    name: "a backup that does not parse",
    store: async (s) => {
      await s.sidecar("abc", { messages: 4 });
      await s.writeRaw("abc.json.bak", "{");
    },
    findings: [{
      kind: "malformed_backup",
      sessionId: "abc",
      category: "info",
    }],
  }, {
    name: "an empty backup and one that is not a session",
    store: async (s) => {
      await s.sidecar("abc", { messages: 4 });
      await s.writeRaw("abc.json.bak", "");
      await s.sidecar("def", { messages: 4 });
      await s.writeRaw("def.json.bak", "[1, 2]");
    },
    findings: [
      { kind: "malformed_backup", sessionId: "abc" },
      { kind: "malformed_backup", sessionId: "def" },
    ],
  }],
});
