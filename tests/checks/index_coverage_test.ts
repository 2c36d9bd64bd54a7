/**
 * index-coverage, per kind (tests/index_today_test.ts and
 * tests/index_scan_test.ts go deeper).
 * @module
 */
import { testCheck } from "../check_tester.ts";
import { serverIndex } from "../check_support.ts";
import { makeSidecar } from "../fixtures.ts";

testCheck("index-coverage", {
  valid: [{
    name: "an index that lists every sidecar",
    nearMiss: "index_missing_entry",
    store: async (s) => {
      await s.sidecar("abc", { messages: 2 });
      await s.sidecar("def", { messages: 4 });
    },
  }, {
    name: "an empty session dir without an index",
    nearMiss: "index_absent",
    store: () => {},
  }, {
    name: "an index entry whose sidecar is there",
    nearMiss: "index_missing_file",
    store: (s) => s.sidecar("abc", { messages: 2 }),
  }, {
    name: "an unsaved chat the index does not list",
    nearMiss: "index_unsaved_chat",
    store: (s) => s.sidecar("abc", { messages: 2 }),
  }, {
    name: "a sidecar that parses, listed",
    nearMiss: "index_left_out",
    store: (s) => s.sidecar("abc", { messages: 2 }),
  }, {
    name: "a pruned session listed in the index with messages",
    nearMiss: "index_pruned_orphan",
    store: async (s) => {
      await s.sidecar("abc", { messages: 2 });
      await s.writeRaw(
        "_pruned_webui_orphans.json",
        JSON.stringify({ version: 1, ids: ["abc"] }),
      );
    },
  }],
  invalid: [{
    name: "sidecars without _index.json",
    store: async (s) => {
      await s.writeRaw("abc.json", JSON.stringify(makeSidecar("abc")));
    },
    findings: [{ kind: "index_absent", category: "repairable" }],
  }, {
    name: "an entry without a sidecar and a sidecar without an entry",
    store: async (s) => {
      const abc = makeSidecar("abc", { messages: 2 });
      await s.writeRaw("def.json", JSON.stringify(makeSidecar("def")));
      await s.index(serverIndex([abc]));
    },
    findings: [
      { kind: "index_missing_file", sessionId: "abc" },
      { kind: "index_missing_entry", sessionId: "def" },
    ],
  }, {
    name: "an entry of a chat without messages that was never saved",
    store: async (s) => {
      await s.sidecar("def", { messages: 2 });
      await s.index(
        serverIndex([
          makeSidecar("abc", { messages: 0 }),
          makeSidecar("def", { messages: 2 }),
        ]),
      );
    },
    findings: [{ kind: "index_unsaved_chat", sessionId: "abc" }],
  }, {
    name: "a sidecar holding another session is left out of the index",
    store: async (s) => {
      await s.sidecar("def", { messages: 2 });
      await s.writeRaw(
        "abc.json",
        JSON.stringify(makeSidecar("xyz", { messages: 2 }), null, 2),
      );
    },
    findings: [{ kind: "index_left_out", sessionId: "abc" }],
  }, {
    name: "a session without messages the server pruned from the index",
    store: async (s) => {
      const def = await s.sidecar("def", { messages: 2 });
      await s.sidecar("abc", { messages: 0, message_count: 0 });
      await s.index(serverIndex([def]));
      await s.writeRaw(
        "_pruned_webui_orphans.json",
        JSON.stringify({ version: 1, ids: ["abc"] }),
      );
    },
    findings: [{
      kind: "index_pruned_orphan",
      sessionId: "abc",
      paths: ["abc.json", "_pruned_webui_orphans.json"],
    }],
  }],
});
