/**
 * shrunken-live, per kind (tests/shrink_guards_test.ts covers every form of
 * the intentional-shrink guards).
 * @module
 */
import { testCheck } from "../check_tester.ts";
import { makeMessages } from "../fixtures.ts";

const GEN = "3f2b8c1d9e0a4b7c8d1e2f3a4b5c6d7e";

testCheck("shrunken-live", {
  valid: [{
    name: "a backup with fewer messages than the live file",
    nearMiss: "shrunken_live",
    store: async (s) => {
      await s.sidecar("abc", { messages: 6 });
      await s.backup("abc", { messages: 2 });
    },
  }, {
    name: "a shrink the backup has the same generation of (no guard)",
    nearMiss: "intentional_shrink_kept",
    store: async (s) => {
      await s.sidecar("abc", { messages: 6 });
      await s.backup("abc", {
        messages: 6,
        intentional_shrink_generation: GEN,
      });
    },
  }],
  invalid: [{
    name: "a live sidecar with fewer messages than its backup",
    store: async (s) => {
      await s.sidecar("abc", { messages: 2 });
      await s.backup("abc", { messages: 6 });
      await s.sidecar("def", { messages: 4 });
    },
    findings: [{
      kind: "shrunken_live",
      sessionId: "abc",
      category: "repairable",
    }],
  }, {
    name: "a shrink the user made on purpose (shrink generation)",
    store: async (s) => {
      await s.sidecar("abc", {
        messages: makeMessages(2),
        intentional_shrink_generation: GEN,
      });
      await s.backup("abc", { messages: 6 });
    },
    findings: [{
      kind: "intentional_shrink_kept",
      sessionId: "abc",
      category: "info",
    }],
  }],
});
