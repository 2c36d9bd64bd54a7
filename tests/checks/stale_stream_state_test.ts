/**
 * stale-stream-state, per kind (tests/stale_stream_state_test.ts and
 * tests/stale_stream_recovery_test.ts go deeper).
 * @module
 */
import { testCheck } from "../check_tester.ts";
import { streamingSidecar, writeRun } from "./stream_support.ts";

const stopped = ["--server-stopped"];

testCheck("stale-stream-state", {
  valid: [{
    name: "a stream without a pending prompt",
    nearMiss: "stale_stream_state",
    args: stopped,
    store: (s) =>
      streamingSidecar(s, "s1", "run1", { pending_user_message: null }),
  }, {
    name: "no stream at all, without --server-stopped",
    nearMiss: "stream_state_unconfirmed",
    store: (s) => s.sidecar("s1", { messages: 2 }),
  }, {
    name:
      "a dead stream whose run journal holds output (stale-stream-output's)",
    nearMiss: "stream_state_in_grace",
    args: stopped,
    store: async (s) => {
      await streamingSidecar(s, "s1", "run1");
      await writeRun(s, "s1", "run1", [["token", { text: "The answer" }]]);
    },
  }, {
    name: "a child of a compression parent that is not streaming",
    nearMiss: "stream_state_compression_parent",
    args: stopped,
    store: async (s) => {
      await s.sidecar("parent", { messages: 2 });
      await s.sidecar("kid", { messages: 2, parent_session_id: "parent" });
    },
  }],
  invalid: [{
    name: "a turn a stopped server left streaming",
    args: stopped,
    store: (s) => streamingSidecar(s, "s1", "run1"),
    findings: [{
      kind: "stale_stream_state",
      sessionId: "s1",
      category: "repairable",
    }],
  }, {
    name: "the same without --server-stopped",
    store: (s) => streamingSidecar(s, "s1", "run1"),
    findings: [{
      kind: "stream_state_unconfirmed",
      sessionId: "s1",
      category: "info",
    }],
  }, {
    name: "a turn that began seconds ago",
    args: stopped,
    store: (s) =>
      streamingSidecar(s, "s1", "run1", {
        pending_started_at: Date.now() / 1000 - 5,
      }),
    findings: [{ kind: "stream_state_in_grace", sessionId: "s1" }],
  }, {
    name: "a pre-compression snapshot left streaming",
    args: stopped,
    store: (s) =>
      streamingSidecar(s, "snap", "run1", { pre_compression_snapshot: true }),
    findings: [{ kind: "stream_state_compression_parent", sessionId: "snap" }],
  }],
});
