/**
 * remove_stale_temp: a stale temp that holds nothing the store lacks goes
 * to the run's quarantine.
 * @module
 */
import { testRepair } from "../repair_tester.ts";
import { makeOld, STALE_AGE_MS } from "../check_support.ts";
import { makeSidecar } from "../fixtures.ts";

testRepair("remove_stale_temp", {
  leaveAlone: [{
    name: "a temp less than an hour old",
    store: async (s) => {
      await s.sidecar("abc", { messages: 3 });
      await s.writeRaw("abc.tmp.11.22", JSON.stringify(makeSidecar("abc")));
    },
  }],
  repaired: [{
    name: "a stale temp whose messages the live file has",
    store: async (s) => {
      await s.sidecar("abc", { messages: 3, updated_at: 1778460000 });
      await s.writeRaw(
        "abc.tmp.11.22",
        JSON.stringify(makeSidecar("abc", { messages: 2 }), null, 2),
      );
      await makeOld(s, "abc.tmp.11.22", STALE_AGE_MS);
    },
    before: [{ kind: "stale_temp", sessionId: "abc" }],
    files: { "abc.tmp.11.22": null },
  }],
});
