/**
 * Way 3 of extending hermes-fsck: a TypeScript module that exports a check,
 * loaded by `--plugin` when hermes-fsck runs under `deno run` (a compiled
 * binary cannot import TypeScript; use way 1 or 2 there). It reports
 * sessions that were created more than a day ago and hold no message.
 *
 * @example
 * ```sh
 * deno run --allow-read --allow-write --allow-env --allow-run cli.ts audit \
 *   --plugin examples/ts_module/empty_sessions.ts
 * ```
 * @module
 */

import { defineCheck } from "../../mod.ts";

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Every exported check of the module is loaded.
 *
 * @example
 * ```ts
 * emptySessions.kinds[0].kind; // "empty_session"
 * ```
 */
export const emptySessions = defineCheck({
  id: "empty-sessions",
  title: "Empty sessions",
  description:
    "Reports sessions created more than a day ago that hold no message.",
  kinds: {
    empty_session: {
      category: "info",
      severity: "info",
      summary: "A session older than a day has no message.",
      explain: "Nothing is lost: the session was opened and never used. " +
        "Delete it in the UI if it is clutter.",
    },
  },
  // One session at a time: the engine walks the store, in parts, so
  // memory stays flat.
  create: (context) => ({
    session({ sessionId, files: { live, backup } }) {
      if (!live?.read.ok || live.read.value.messageCount !== 0) return;
      // With a fuller backup this is a shrunken session, a built-in finding.
      if (backup) return;
      const now = context.options.now;
      const created = Number(live.read.value.meta.created_at) * 1000;
      if (!(now - created > DAY_MS)) return;
      context.report({
        kind: "empty_session",
        sessionId,
        paths: [live.name],
        message: `${live.name} was created ${
          Math.floor((now - created) / DAY_MS)
        } days ago and has no message.`,
      });
    },
  }),
});
