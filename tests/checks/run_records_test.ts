/**
 * run-records (tests/run_records_test.ts plants every kind of bad record).
 * @module
 */
import { testCheck } from "../check_tester.ts";
import { cliOn } from "../check_tester.ts";

testCheck("run-records", {
  valid: [{
    name: "the records of a run hermes-fsck wrote",
    nearMiss: "run_record_invalid",
    store: async (s) => {
      await s.sidecar("abc", { messages: 2 });
      await s.backup("abc", { messages: 6 });
      const r = await cliOn(s, [
        "repair",
        "--session-dir",
        s.sessionDir,
        "--no-state-db",
        "--quiet",
      ]);
      if (r.code !== 1) throw new Error(`repair: ${r.code} ${r.stderr}`);
    },
  }],
  invalid: [{
    name: "a run.json that is not what hermes-fsck writes",
    store: async (s) => {
      await s.sidecar("abc", { messages: 2 });
      await s.writeRaw(
        "_hermes_fsck/runs/20260101T000000Z-0000000000000000/run.json",
        "not json",
      );
    },
    findings: [{ kind: "run_record_invalid", category: "unsafe_to_repair" }],
  }],
});
