/**
 * No false alarm on stores written by the server's own code (both versions
 * in ../shared/upstream): the audit exits 0 with no `repairable` or
 * `unsafe_to_repair` finding. Skips with a message when upstream or python3
 * is absent.
 *
 * @module
 */

import assert from "node:assert/strict";
import { runCli } from "./fixtures.ts";
import { UPSTREAM_VERSIONS, upstreamStore } from "./upstream_store_support.ts";

const CASES: {
  version: string;
  ids: string[];
  aspect: string;
  unsavedNewChat?: boolean;
}[] = [
  ...UPSTREAM_VERSIONS.map((version) => ({
    version,
    ids: ["abc123", "chat_7"],
    aspect: "lower-case ids, journal, index, tombstone where present",
  })),
  {
    version: UPSTREAM_VERSIONS[1],
    ids: ["api-Chat_7", "Web-UI-2"],
    aspect: "ids with '-' and upper case",
  },
  ...UPSTREAM_VERSIONS.map((version) => ({
    version,
    ids: ["abc123"],
    aspect: "a new chat, unsaved, listed by an index rebuild",
    unsavedNewChat: true,
  })),
];

for (const { version, ids, aspect, unsavedNewChat } of CASES) {
  Deno.test(`healthy store written by ${version}'s own code audits clean: ${aspect}`, async () => {
    const built = await upstreamStore(version, ids, { unsavedNewChat });
    if (typeof built === "string") {
      console.log(built);
      return;
    }
    try {
      const result = await runCli([
        "audit",
        "--session-dir",
        built.sessionDir,
        "--state-db",
        built.stateDb,
        "--format",
        "json",
      ]);
      const findings: { kind: string; category: string }[] =
        JSON.parse(result.stdout).findings;
      const problems = findings.filter((f) => f.category !== "info");
      assert.deepEqual(
        { code: result.code, problems },
        { code: 0, problems: [] },
        `not clean: ${
          problems.map((f) => `${f.kind} (${f.category})`).join(", ")
        }\n${JSON.stringify(findings, null, 2)}\n${result.stderr}`,
      );
    } finally {
      await Deno.remove(built.root, { recursive: true });
    }
  });
}
