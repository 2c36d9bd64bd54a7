/**
 * Differential: for each sidecar/`.bak` pair of tests/shrink_guard_cases.ts,
 * hermes-fsck's verdict (`shrunken_live`, or `intentional_shrink_kept` and
 * its guard) matches `inspect_session_recovery_status` of the server's own
 * code, run by python3 from ../shared/upstream: today's release for every
 * case, the seed (f6ce79185c, which has no guards) for the cases whose
 * sidecar carries no field newer than it. Skips with a message when
 * upstream or python3 is absent.
 *
 * @module
 */

import assert from "node:assert/strict";
import { TestStore } from "./fixtures.ts";
import { GUARD_CASES, type GuardVerdict } from "./shrink_guard_cases.ts";
import { auditGuardCases } from "./shrink_guard_support.ts";
import { UPSTREAM_VERSIONS, upstreamPython } from "./upstream_store_support.ts";

// Written by this project: asks the server's recovery module about each
// session. The marker check imports api.models lazily and skips itself if
// that fails, so the import is made here first, where a failure is loud.
const ORACLE = `
import json, os, sys
sys.path.insert(0, os.getcwd())
from pathlib import Path
root = Path(sys.argv[1])
os.environ["HERMES_WEBUI_STATE_DIR"] = str(root / "webui")
os.environ["HERMES_HOME"] = str(root / "hermes")
import api.models
from api.session_recovery import inspect_session_recovery_status
out = {}
for sid in sys.argv[2].split(","):
    out[sid] = inspect_session_recovery_status(root / "webui" / "sessions" / (sid + ".json"))
print(json.dumps(out))
`;

/** The server's status flags, as the guards hermes-fsck names. */
function serverVerdict(status: Record<string, unknown>): string {
  if (status.recommend === "restore") return "restore";
  if (status.intentional_clear_truncate) {
    return "clear_sentinel|post_clear_messages";
  }
  if (status.intentional_compress_shrink) return "manual_compression";
  if (status.intentional_message_shrink) return "shrink_generation";
  return String(status.recommend);
}

function sameVerdict(ours: GuardVerdict | "none", server: string): boolean {
  return server.split("|").includes(ours);
}

const [SEED, TODAY] = UPSTREAM_VERSIONS;

for (const version of [TODAY, SEED]) {
  Deno.test(`shrink guards agree with ${version}'s inspect_session_recovery_status`, async () => {
    const store = await TestStore.create();
    try {
      const { verdicts } = await auditGuardCases(store);
      const cases = GUARD_CASES.filter(({ oracle }) =>
        oracle === "both" ||
        (version === TODAY ? oracle === "today" : oracle === "seed")
      );
      const answer = await upstreamPython(version, ORACLE, [
        store.root,
        cases.map(({ id }) => id).join(","),
      ]);
      if (typeof answer === "string") {
        console.log(answer);
        return;
      }
      const statuses: Record<string, Record<string, unknown>> = JSON.parse(
        answer.stdout,
      );
      const wrong = cases.flatMap(({ id, expect }) => {
        const server = serverVerdict(statuses[id]);
        const ours = verdicts.get(id) ?? "none";
        return sameVerdict(ours, server) && sameVerdict(expect, server) ? [] : [
          `${id}: server ${server}, hermes-fsck ${ours}, case expects ${expect}`,
        ];
      });
      assert.deepEqual(wrong, []);
    } finally {
      await store.cleanup();
    }
  });
}
