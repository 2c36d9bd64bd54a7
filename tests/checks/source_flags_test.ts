/**
 * source-flags, per kind (tests/discoverability_test.ts goes deeper).
 * @module
 */
import { testCheck } from "../check_tester.ts";
import { serverIndex } from "../check_support.ts";
import { webuiRows } from "./db_support.ts";

testCheck("source-flags", {
  valid: [{
    name: "a WebUI session without the CLI flag",
    nearMiss: "persisted_source_flag_stale",
    store: async (s) => {
      await s.sidecar("fine", { source_tag: "webui" });
      s.stateDb(webuiRows({ fine: 2 }));
    },
  }, {
    name: "an index entry that agrees with its sidecar",
    nearMiss: "index_source_flag_stale",
    store: (s) => s.sidecar("fine"),
  }, {
    name: "a CLI session filed under CLI",
    nearMiss: "source_misclassified",
    store: (s) =>
      s.sidecar("cli1", { source_tag: "cli", is_cli_session: true }),
  }],
  invalid: [{
    name: "a WebUI sidecar that says is_cli_session",
    store: async (s) => {
      await s.sidecar("flagged", { source_tag: "webui", is_cli_session: true });
      s.stateDb(webuiRows({ flagged: 2 }));
    },
    findings: [{
      kind: "persisted_source_flag_stale",
      sessionId: "flagged",
      category: "info",
    }],
  }, {
    name: "an index entry that says is_cli_session, its sidecar does not",
    store: async (s) => {
      const fine = await s.sidecar("indexonly");
      await s.index(
        serverIndex([fine]).map((e) => ({
          ...e,
          is_cli_session: true,
          session_source: "webui",
        })),
      );
    },
    findings: [{
      kind: "index_source_flag_stale",
      sessionId: "indexonly",
      paths: ["indexonly.json", "_index.json"],
    }],
  }, {
    name: "a WebUI session the list files under CLI",
    store: (s) =>
      s.sidecar("misfiled", {
        source: "webui",
        source_tag: "cli",
        is_cli_session: true,
      }),
    findings: [{ kind: "source_misclassified", sessionId: "misfiled" }],
  }],
});
