/**
 * promote_temp: an interrupted newest save (a stale temp with more
 * messages than the live sidecar) becomes the live sidecar, byte for
 * byte; the old live file and the temp go to the run's quarantine.
 * @module
 */
import { indexOf, testRepair } from "../repair_tester.ts";
import { makeOld, STALE_AGE_MS } from "../check_support.ts";
import { makeSidecar, type TestStore } from "../fixtures.ts";

const newer = makeSidecar("abc", { messages: 4, updated_at: 1778460000 });
const save = JSON.stringify(newer, null, 2);

/** A save of `abc` left in a temp `ageMs` old, the live file older still. */
async function interrupted(s: TestStore, ageMs = STALE_AGE_MS): Promise<void> {
  await s.sidecar("abc", { messages: 2 });
  await makeOld(s, "abc.json", 2 * STALE_AGE_MS);
  await s.writeRaw("abc.tmp.11.22", save);
  await makeOld(s, "abc.tmp.11.22", ageMs);
}

testRepair("promote_temp", {
  leaveAlone: [{
    name: "a newer save less than an hour old, a server maybe saving it",
    store: (s) => interrupted(s, 5 * 60 * 1000),
  }, {
    name: "a deleted session's save (needs review)",
    store: async (s) => {
      await s.sidecar("kept", { messages: 2 });
      await s.tombstone(["abc"]);
      await s.writeRaw("abc.tmp.11.22", save);
      await makeOld(s, "abc.tmp.11.22", STALE_AGE_MS);
    },
  }, {
    name: "an older save the live file has outgrown (stale_temp's)",
    store: async (s) => {
      await s.sidecar("abc", { messages: 6, updated_at: 1778461000 });
      await s.writeRaw("abc.tmp.11.22", save);
      await makeOld(s, "abc.tmp.11.22", STALE_AGE_MS);
    },
  }],
  repaired: [{
    name: "a newer save with more messages, never renamed",
    store: (s) => interrupted(s),
    before: [{
      kind: "interrupted_save",
      sessionId: "abc",
      paths: ["abc.tmp.11.22", "abc.json"],
      category: "repairable",
    }],
    files: {
      "abc.json": save,
      "abc.tmp.11.22": null,
      "_index.json": indexOf([newer]),
    },
    followedBy: ["rebuild_index"],
  }, {
    name: "a young save once --server-stopped says no save is in progress",
    args: ["--server-stopped"],
    store: (s) => interrupted(s, 0),
    before: [{ kind: "interrupted_save", sessionId: "abc" }],
    files: {
      "abc.json": save,
      "abc.tmp.11.22": null,
      "_index.json": indexOf([newer]),
    },
    followedBy: ["rebuild_index"],
  }, {
    name: "a save whose live file is gone (no state.db says it was deleted)",
    store: async (s) => {
      await s.writeRaw("abc.tmp.11.22", save);
      await makeOld(s, "abc.tmp.11.22", STALE_AGE_MS);
    },
    before: [{ kind: "interrupted_save", sessionId: "abc" }],
    files: {
      "abc.json": save,
      "abc.tmp.11.22": null,
      "_index.json": indexOf([newer]),
    },
    followedBy: ["rebuild_index"],
  }],
});
