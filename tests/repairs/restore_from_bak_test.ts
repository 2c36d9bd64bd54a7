/**
 * restore_from_bak: the live sidecar becomes a byte copy of its backup,
 * for a shrunken live sidecar and for an orphan backup.
 * @module
 */
import { indexOf, testRepair } from "../repair_tester.ts";
import { makeSidecar } from "../fixtures.ts";

const six = makeSidecar("abc", { messages: 6 });
const bak = JSON.stringify(six, null, 2);

testRepair("restore_from_bak", {
  leaveAlone: [{
    name: "a live sidecar with more messages than its backup",
    store: async (s) => {
      await s.sidecar("abc", { messages: 4 });
      await s.backup("abc", { messages: 2 });
    },
  }, {
    name: "a malformed orphan backup (unsafe)",
    store: (s) => s.writeRaw("abc.json.bak", "{"),
  }],
  repaired: [{
    name: "a shrunken live sidecar",
    store: async (s) => {
      await s.sidecar("abc", { messages: 2 });
      await s.backup("abc", { messages: 6 });
    },
    before: [{ kind: "shrunken_live", sessionId: "abc" }],
    files: { "abc.json": bak, "_index.json": indexOf([six]) },
    followedBy: ["rebuild_index"],
  }, {
    name: "an orphan backup",
    store: async (s) => {
      await s.sidecar("def", { messages: 2 });
      await s.backup("abc", { messages: 6 });
    },
    before: [{ kind: "orphan_backup", sessionId: "abc" }],
    files: {
      "abc.json": bak,
      "_index.json": indexOf([six, makeSidecar("def", { messages: 2 })]),
    },
    followedBy: ["rebuild_index"],
  }],
});
