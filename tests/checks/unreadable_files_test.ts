/**
 * unreadable-files (tests/hostile_files_test.ts and tests/hostile_fs_test.ts
 * go deeper, with permissions and special files).
 * @module
 */
import { testCheck } from "../check_tester.ts";

testCheck("unreadable-files", {
  valid: [{
    name: "regular files",
    nearMiss: "unreadable_file",
    store: async (s) => {
      await s.sidecar("abc", { messages: 2 });
      await s.backup("abc", { messages: 1 });
    },
  }],
  invalid: [{
    name: "a sidecar that is a directory",
    store: async (s) => {
      await s.sidecar("abc", { messages: 2 });
      await Deno.mkdir(s.path("def.json"));
    },
    findings: [{
      kind: "unreadable_file",
      sessionId: "def",
      paths: ["def.json"],
      category: "unsafe_to_repair",
    }],
  }],
});
