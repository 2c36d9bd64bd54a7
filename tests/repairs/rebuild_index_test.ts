/**
 * rebuild_index: `_index.json` rewritten from the sidecars on disk.
 * @module
 */
import { indexOf, testRepair } from "../repair_tester.ts";
import { makeSidecar } from "../fixtures.ts";

const abc = makeSidecar("abc", { messages: 2 });
const def = makeSidecar("def", { messages: 4 });

testRepair("rebuild_index", {
  leaveAlone: [{
    name: "an index the server would write",
    store: async (s) => {
      await s.sidecar("abc", { messages: 2 });
      await s.sidecar("def", { messages: 4 });
    },
  }],
  repaired: [{
    name: "an index that does not parse",
    store: async (s) => {
      await s.sidecar("abc", { messages: 2 });
      await s.sidecar("def", { messages: 4 });
      await s.writeRaw("_index.json", "[{");
    },
    // Nothing lists the sidecars, so each is missing from the index too.
    before: [
      { kind: "index_unparsable" },
      { kind: "index_missing_entry", sessionId: "abc" },
      { kind: "index_missing_entry", sessionId: "def" },
    ],
    files: { "_index.json": indexOf([abc, def]) },
  }, {
    name: "a missing index",
    store: async (s) => {
      await s.writeRaw("abc.json", JSON.stringify(abc, null, 2));
      await s.writeRaw("def.json", JSON.stringify(def, null, 2));
    },
    before: [{ kind: "index_absent" }],
    files: { "_index.json": indexOf([abc, def]) },
  }],
});
