/**
 * remove_redundant_backup: a backup the live sidecar has outgrown goes to
 * the run's quarantine, only when asked (`--also-repair redundant_backup`)
 * and only when every message of it is in the live file.
 * @module
 */
import { testRepair } from "../repair_tester.ts";
import { makeMessages } from "../fixtures.ts";

const asked = ["--also-repair", "redundant_backup"];

testRepair("remove_redundant_backup", {
  leaveAlone: [{
    name: "an outgrown backup, not asked for",
    store: async (s) => {
      await s.sidecar("abc", { messages: 6 });
      await s.backup("abc", { messages: 4 });
    },
  }, {
    name: "an outgrown backup whose messages differ from the live file's",
    repairArgs: asked,
    store: async (s) => {
      await s.sidecar("abc", { messages: 6 });
      await s.backup("abc", { messages: makeMessages(4, "other") });
    },
  }, {
    name: "a backup with more messages than the live file",
    repairArgs: asked,
    store: async (s) => {
      await s.sidecar("abc", { messages: 2 });
      await s.backup("abc", { messages: 6 });
    },
  }],
  repaired: [{
    name: "a backup the live file has outgrown",
    repairArgs: asked,
    store: async (s) => {
      await s.sidecar("abc", { messages: 6 });
      await s.backup("abc", { messages: 4 });
      await s.sidecar("def", { messages: 2 });
      await s.backup("def", { messages: 2 });
    },
    before: [
      { kind: "redundant_backup", sessionId: "abc", category: "info" },
      { kind: "redundant_backup", sessionId: "def", category: "info" },
    ],
    files: { "abc.json.bak": null, "def.json.bak": null },
  }],
});
