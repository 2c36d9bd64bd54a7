/**
 * sidebar-visibility, per kind (tests/discoverability_test.ts goes deeper).
 * @module
 */
import { testCheck } from "../check_tester.ts";
import { serverIndex } from "../check_support.ts";

testCheck("sidebar-visibility", {
  valid: [{
    name: "a sidecar the server cannot load, but without messages",
    nearMiss: "api_missing_messageful",
    store: (s) => s.sidecar("empty", { workspace: 1, messages: 0 }),
  }, {
    name: "a snapshot the server can load",
    nearMiss: "lineage_missing_visible_representative",
    store: (s) => s.sidecar("snap", { pre_compression_snapshot: true }),
  }, {
    name: "a cron session with a project",
    nearMiss: "background_session_hidden",
    store: (s) =>
      s.sidecar("projected", { source_tag: "cron", project_id: "p1" }),
  }],
  invalid: [{
    name: "a sidecar with messages the server cannot load, not in the index",
    store: async (s) => {
      const ok = await s.sidecar("ok");
      await s.sidecar("badws", { workspace: 5 });
      await s.index(serverIndex([ok]));
    },
    findings: [{
      kind: "api_missing_messageful",
      sessionId: "badws",
      category: "unsafe_to_repair",
    }],
  }, {
    name: "a snapshot with messages the server cannot load",
    store: async (s) => {
      const ok = await s.sidecar("ok");
      await s.sidecar("badtree", {
        worktree_path: ["x"],
        pre_compression_snapshot: true,
      });
      await s.index(serverIndex([ok]));
    },
    findings: [{
      kind: "lineage_missing_visible_representative",
      sessionId: "badtree",
    }],
  }, {
    name: "a cron session without a project",
    store: (s) => s.sidecar("nightly", { source_tag: "cron" }),
    findings: [{
      kind: "background_session_hidden",
      sessionId: "nightly",
      category: "info",
    }],
  }],
});
