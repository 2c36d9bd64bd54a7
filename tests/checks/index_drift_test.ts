/**
 * index-drift, per kind (tests/index_drift_test.ts goes deeper).
 * @module
 */
import { testCheck } from "../check_tester.ts";
import { serverIndex } from "../check_support.ts";
import { makeSidecar } from "../fixtures.ts";

const abc = makeSidecar("abc", { messages: 4 });

testCheck("index-drift", {
  valid: [{
    name: "an entry the server would write",
    nearMiss: "index_entry_drift",
    store: (s) => s.sidecar("abc", { messages: 4 }),
  }, {
    name: "a sidecar with message_count its entry agrees with",
    nearMiss: "index_count_at_load",
    store: (s) => s.sidecar("abc", { messages: 4, message_count: 4 }),
  }, {
    name: "an entry with last_message_at",
    nearMiss: "index_missing_last_message_at",
    store: (s) => s.sidecar("abc", { messages: 4 }),
  }],
  invalid: [{
    name: "an entry whose message_count and title disagree",
    store: async (s) => {
      await s.sidecar("abc", { messages: 4 });
      const [entry] = serverIndex([abc]);
      await s.index([{ ...entry, message_count: 2, title: "Old" }]);
    },
    findings: [{
      kind: "index_entry_drift",
      sessionId: "abc",
      category: "repairable",
    }],
  }, {
    name: "an entry without last_message_at",
    store: async (s) => {
      await s.sidecar("abc", { messages: 4 });
      const [entry] = serverIndex([abc]);
      delete entry.last_message_at;
      await s.index([entry]);
    },
    findings: [{ kind: "index_missing_last_message_at", sessionId: "abc" }],
  }, {
    name: "an entry that keeps the count its session had at load",
    store: async (s) => {
      const a = await s.sidecar("abc", { messages: 4, message_count: 4 });
      await s.index([{ ...serverIndex([a])[0], message_count: 2 }]);
    },
    findings: [{
      kind: "index_count_at_load",
      sessionId: "abc",
      category: "info",
    }],
  }],
});
