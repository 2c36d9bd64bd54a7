/**
 * state-db-sidecar-drift, per kind (tests/state_db_sidecar_drift_test.ts
 * goes deeper).
 * @module
 */
import { testCheck } from "../check_tester.ts";
import { retriedSession, webuiRows } from "./db_support.ts";
import { crashWithStateDbAhead } from "../state_db_heal_support.ts";

testCheck("state-db-sidecar-drift", {
  valid: [{
    name: "equal counts, and a sidecar with more",
    nearMiss: "sidecar_behind_state_db",
    store: async (s) => {
      await s.sidecar("same", { messages: 4 });
      await s.sidecar("ahead", { messages: 6 });
      s.stateDb(webuiRows({ same: 4, ahead: 4 }));
    },
  }, {
    name: "a cleared sidecar state.db has no more messages of",
    nearMiss: "sidecar_behind_state_db_kept",
    store: async (s) => {
      await s.sidecar("cleared", { messages: 0, clear_generation: "c0ffee" });
      s.stateDb(webuiRows({ cleared: 0 }));
    },
  }, {
    name: "an unfinished turn state.db is not ahead of",
    nearMiss: "sidecar_behind_state_db_self_heals",
    store: async (s) => {
      await s.sidecar("lost_stream", {
        messages: 2,
        active_stream_id: "stream-1",
        pending_user_message: "and then?",
        pending_started_at: 1778458002,
      });
      s.stateDb(webuiRows({ lost_stream: 2 }));
    },
  }, {
    name: "a dead turn whose run journal holds text, state.db not ahead",
    nearMiss: "state_db_heal_drops_run_output",
    args: ["--server-stopped"],
    store: async (s) => {
      await crashWithStateDbAhead(s);
      await Deno.remove(s.stateDbPath);
      s.stateDb(webuiRows({ s1: 2 }));
    },
  }, {
    name: "a retried session whose state.db has only the kept turns",
    nearMiss: "state_db_keeps_removed_turn",
    store: async (s) => {
      const { sidecar } = retriedSession();
      await s.sidecar("retried", {
        messages: sidecar,
        truncation_watermark: 1778458010,
        truncation_boundary: 1778458001,
      });
      s.stateDb(webuiRows({ retried: 4 }));
    },
  }],
  invalid: [{
    name: "state.db with more messages than the sidecar",
    store: async (s) => {
      await s.sidecar("behind", { messages: 2 });
      s.stateDb(webuiRows({ behind: 5 }));
    },
    findings: [{
      kind: "sidecar_behind_state_db",
      sessionId: "behind",
      category: "unsafe_to_repair",
    }],
    assert: (report, s) => {
      const [f] = report.findings;
      if (f.paths.join() !== ["behind.json", s.stateDbPath].join()) {
        throw new Error(`paths ${f.paths}`);
      }
    },
  }, {
    name: "a sidecar the user cleared",
    store: async (s) => {
      await s.sidecar("cleared", { messages: 0, clear_generation: "c0ffee" });
      s.stateDb(webuiRows({ cleared: 8 }));
    },
    findings: [{
      kind: "sidecar_behind_state_db_kept",
      sessionId: "cleared",
      category: "info",
    }],
  }, {
    name: "an unfinished turn state.db is ahead of",
    args: ["--server-stopped"],
    store: async (s) => {
      await s.sidecar("lost_stream", {
        messages: 2,
        active_stream_id: "stream-1",
        pending_user_message: "and then?",
        pending_started_at: 1778458002,
      });
      s.stateDb(webuiRows({ lost_stream: 4 }));
    },
    findings: [{
      kind: "sidecar_behind_state_db_self_heals",
      sessionId: "lost_stream",
    }],
  }, {
    name: "state.db keeping the turn a retry removed",
    store: async (s) => {
      const { sidecar, state } = retriedSession();
      await s.sidecar("retried", {
        messages: sidecar,
        truncation_watermark: 1778458010,
        truncation_boundary: 1778458001,
      });
      s.stateDb({
        sessions: [{ id: "retried", source: "webui", title: "t" }],
        messages: state,
      });
    },
    findings: [{ kind: "state_db_keeps_removed_turn", sessionId: "retried" }],
  }, {
    name: "state.db ahead of a dead turn whose run journal holds text it lacks",
    args: ["--server-stopped"],
    store: (s) => crashWithStateDbAhead(s),
    findings: [{
      kind: "state_db_heal_drops_run_output",
      sessionId: "s1",
      category: "repairable",
    }],
  }],
});
