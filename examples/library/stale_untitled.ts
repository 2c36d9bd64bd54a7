/**
 * A check of your own, written against the library: sessions nobody has
 * touched for more than N days that still have no title. They are clutter,
 * not damage, so the kind is `info` and has no repair.
 *
 * @example
 * ```ts
 * import { builtinChecks, runPipeline } from "../../mod.ts";
 * import { staleUntitledCheck } from "./stale_untitled.ts";
 * const report = await runPipeline({
 *   command: "audit",
 *   sessionDir: "/srv/hermes/webui/sessions",
 *   stateDbPath: null,
 *   checks: [...builtinChecks, staleUntitledCheck(30)],
 * });
 * ```
 * @module
 */

import { type Check, defineCheck } from "../../mod.ts";

const DAY_SECONDS = 24 * 60 * 60;

/**
 * The check, for sessions idle for more than `days` days.
 *
 * @example
 * ```ts
 * const check = staleUntitledCheck(30);
 * check.kinds[0].kind; // "stale_untitled_session"
 * ```
 */
export function staleUntitledCheck(days: number): Check {
  if (!(days >= 0)) throw new RangeError(`days must be 0 or more, not ${days}`);
  return defineCheck({
    id: "stale-untitled",
    title: "Old sessions without a title",
    description:
      `Reports sessions untouched for more than ${days} days that have no title.`,
    kinds: {
      stale_untitled_session: {
        category: "info",
        severity: "info",
        summary: `A session untouched for more than ${days} days has no title.`,
        explain: "The session is intact; it is only hard to find in the UI. " +
          "Give it a title, or delete it if it is no longer needed.",
      },
    },
    // One session at a time: the engine walks the store, in parts.
    create: (context) => ({
      session({ sessionId, files: { live } }) {
        // Checks read the scan, never the disk: the live file is summarized.
        if (!live?.read.ok) return;
        const meta = live.read.value.meta;
        const title = typeof meta.title === "string" ? meta.title.trim() : "";
        if (title !== "" && title.toLowerCase() !== "untitled") return;
        // Timestamps are Python floats, in seconds.
        const touched = Number(meta.updated_at ?? meta.created_at);
        if (!Number.isFinite(touched)) return;
        const now = context.options.now;
        const idleDays = Math.floor((now / 1000 - touched) / DAY_SECONDS);
        if (idleDays <= days) return;
        context.report({
          kind: "stale_untitled_session",
          sessionId,
          paths: [live.name],
          message:
            `${live.name} has no title and was last touched ${idleDays} days ago.`,
          evidence: { idleDays },
        });
      },
    }),
  });
}
