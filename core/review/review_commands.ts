/**
 * The commands a person can copy to act on a finding: one `resolve` per
 * resolution its kind declares (KindInfo.resolutions), `acknowledge` to
 * leave it as it is, `repair --dry-run` for a repairable one, and
 * `explain` for what it means. `show` and the review page print the same
 * list, built here once, every word shell-quoted.
 *
 * @example
 * ```ts
 * import { commandsFor } from "./review_commands.ts";
 * import type { Finding, KindInfo } from "../report/finding.ts";
 * declare const finding: Finding;
 * declare const kind: KindInfo;
 * for (const c of commandsFor(finding, kind, "/srv/sessions")) console.log(c.command, "#", c.meaning);
 * ```
 * @module
 */

import { shellQuote } from "../report/excerpt.ts";
import type { Finding, KindInfo } from "../report/finding.ts";

/**
 * A command to copy, and what running it does.
 *
 * @example
 * ```ts
 * import type { SuggestedCommand } from "./review_commands.ts";
 * const c: SuggestedCommand = { command: "hermes-fsck explain malformed_live", meaning: "What it means." };
 * ```
 */
export interface SuggestedCommand {
  /** The command line, ready to paste into a POSIX shell. */
  command: string;
  /** One line: what it does. */
  meaning: string;
}

/**
 * The commands for one finding, most specific first; `flags` are the store
 * flags the run was given (`--state-db F`, `--no-state-db`,
 * `--max-file-size N`), which each command repeats.
 *
 * @example
 * ```ts
 * import { commandsFor } from "./review_commands.ts";
 * import type { Finding } from "../report/finding.ts";
 * import { kindsOf } from "../run/run.ts";
 * import type { Report } from "../report/report.ts";
 * declare const finding: Finding;
 * declare const report: Report;
 * commandsFor(finding, kindsOf().get(finding.kind), report.sessionDir, ["--no-state-db"]);
 * ```
 */
export function commandsFor(
  finding: Pick<Finding, "id" | "kind" | "category" | "acknowledged">,
  kind: KindInfo | undefined,
  sessionDir: string,
  flags: readonly string[] = [],
): SuggestedCommand[] {
  // The store flags of the run that found it, so the command finds it too.
  const dir = [`--session-dir`, sessionDir, ...flags].map(shellQuote).join(" ");
  const commands: SuggestedCommand[] = [];
  if (finding.category === "unsafe_to_repair") {
    for (const resolution of kind?.resolutions ?? []) {
      commands.push({
        command: `hermes-fsck resolve ${finding.id} --keep ${
          shellQuote(resolution.keep)
        }${resolution.undeletes ? " --undelete" : ""} ${dir}`,
        meaning: resolution.meaning +
          " Quarantined and recorded: 'hermes-fsck undo RUN_ID' puts it back.",
      });
    }
    commands.push(
      finding.acknowledged
        ? {
          command: `hermes-fsck acknowledge --remove ${finding.id} ${dir}`,
          meaning: "Take back the acknowledgement: it sets exit bit 4 again.",
        }
        : {
          command: `hermes-fsck acknowledge ${finding.id} ${dir}`,
          meaning: "Leave it as it is: it is reported as acknowledged and " +
            "no longer sets exit bit 4, until a file it names changes.",
        },
    );
  }
  if (finding.category === "repairable") {
    commands.push({
      command: `hermes-fsck repair --dry-run ${dir}`,
      meaning: "Print the repair's exact plan; run it without --dry-run " +
        "(server stopped) to apply it.",
    });
  }
  commands.push({
    command: `hermes-fsck explain ${shellQuote(finding.kind)}`,
    meaning:
      kind?.resolutions?.length || finding.category !== "unsafe_to_repair"
        ? "What this kind means."
        : "What this kind means and what a person can do about it by hand.",
  });
  return commands;
}
