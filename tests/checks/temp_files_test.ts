/**
 * temp-files, per kind (tests/temp_files_test.ts covers every temp name).
 * @module
 */
import { testCheck } from "../check_tester.ts";
import { makeOld, STALE_AGE_MS } from "../check_support.ts";
import {
  makeSidecar,
  type SidecarFields,
  type TestStore,
} from "../fixtures.ts";

async function temp(
  s: TestStore,
  name: string,
  id: string,
  fields: SidecarFields,
  ageMs = STALE_AGE_MS,
): Promise<void> {
  await s.writeRaw(name, JSON.stringify(makeSidecar(id, fields), null, 2));
  await makeOld(s, name, ageMs);
}

testCheck("temp-files", {
  valid: [{
    name: "no temp at all",
    nearMiss: "young_temp",
    store: (s) => s.sidecar("abc", { messages: 3 }),
  }, {
    name: "a session without leftovers",
    nearMiss: "stale_temp",
    store: (s) => s.sidecar("abc", { messages: 3 }),
  }, {
    name: "a live sidecar newer than any save",
    nearMiss: "interrupted_save",
    store: (s) => s.sidecar("abc", { messages: 4 }),
  }, {
    name: "every message also in the live file",
    nearMiss: "stale_temp_needs_review",
    store: (s) => s.sidecar("abc", { messages: 4 }),
  }],
  invalid: [{
    name: "a temp less than an hour old",
    store: async (s) => {
      await s.sidecar("abc", { messages: 2 });
      await temp(s, "abc.tmp.11.22", "abc", { messages: 9 }, 5 * 60 * 1000);
    },
    findings: [{ kind: "young_temp", sessionId: "abc", category: "info" }],
  }, {
    name: "a stale temp whose messages the live file has",
    store: async (s) => {
      await s.sidecar("abc", { messages: 3, updated_at: 1778460000 });
      await temp(s, "abc.tmp.11.22", "abc", {
        messages: 2,
        updated_at: 1778450000,
      });
    },
    findings: [{
      kind: "stale_temp",
      sessionId: "abc",
      paths: ["abc.tmp.11.22"],
      category: "repairable",
    }],
  }, {
    name: "a newer save with more messages, never renamed",
    store: async (s) => {
      await s.sidecar("abc", { messages: 2 });
      await makeOld(s, "abc.json", 2 * STALE_AGE_MS);
      await temp(s, "abc.tmp.11.22", "abc", {
        messages: 4,
        updated_at: 1778460000,
      });
    },
    findings: [{ kind: "interrupted_save", sessionId: "abc" }],
  }, {
    name: "a deleted session's save holding messages nothing else has",
    store: async (s) => {
      await s.sidecar("kept", { messages: 2 });
      await s.tombstone(["abc"]);
      await temp(s, "abc.tmp.11.22", "abc", { messages: 4 });
    },
    findings: [{ kind: "stale_temp_needs_review", sessionId: "abc" }],
  }],
});
