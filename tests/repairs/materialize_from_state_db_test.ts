/**
 * materialize_from_state_db: a webui session state.db holds with messages
 * but whose sidecar is gone is written again from its row and messages,
 * never over a file that is there.
 * @module
 */
import { testRepair } from "../repair_tester.ts";
import { webuiRows } from "../checks/db_support.ts";

type Row = Record<string, unknown>;

/** A sidecar rebuilt from `webuiRows({ [id]: count })`. */
function rebuilt(id: string, count: number): (text: string) => boolean {
  return (text) => {
    const doc = JSON.parse(text) as Row & { messages: Row[] };
    return doc.session_id === id && doc.title === `Session ${id}` &&
      JSON.stringify(doc.messages.map((m) => [m.role, m.content])) ===
        JSON.stringify(
          Array.from({ length: count }, (_, i) => [
            i % 2 === 0 ? "user" : "assistant",
            `message ${i}`,
          ]),
        );
  };
}

/** An index that lists exactly these sessions. */
function lists(...ids: string[]): (text: string) => boolean {
  return (text) =>
    JSON.stringify(
      (JSON.parse(text) as Row[]).map((e) => e.session_id).sort(),
    ) ===
      JSON.stringify(ids.sort());
}

testRepair("materialize_from_state_db", {
  leaveAlone: [{
    name: "a webui row whose sidecar is there",
    store: async (s) => {
      await s.sidecar("abc", { messages: 2 });
      s.stateDb(webuiRows({ abc: 2 }));
    },
  }, {
    name: "a webui row with no messages (nothing to rebuild)",
    store: (s) => s.stateDb(webuiRows({ abc: 0 })),
  }, {
    name: "a cli session's row with messages",
    store: (s) => s.stateDb(webuiRows({ abc: 3 }, "cli")),
  }, {
    name: "a row the tombstone says the user deleted",
    store: async (s) => {
      await s.tombstone(["abc"]);
      s.stateDb(webuiRows({ abc: 3 }));
    },
  }],
  repaired: [{
    name: "a webui row with messages and no sidecar",
    store: async (s) => {
      await s.sidecar("def", { messages: 2 });
      s.stateDb(webuiRows({ abc: 3, def: 2 }));
    },
    before: [{
      kind: "state_db_missing_sidecar",
      sessionId: "abc",
      category: "repairable",
    }],
    files: {
      "abc.json": rebuilt("abc", 3),
      "_index.json": lists("abc", "def"),
    },
    followedBy: ["rebuild_index"],
  }],
});
