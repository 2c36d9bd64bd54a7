/**
 * `hermes-fsck explain NAME`: what a kind means and what its repair does,
 * what a repair does, or what a check looks for and the kinds it reports:
 * any name `--check` and `--skip` take, and every repair id. As text for
 * people or as JSON for tools.
 *
 * @example
 * ```ts
 * import { explainName } from "./explain.ts";
 * import { builtinChecks } from "../../checks/builtin.ts";
 * import { builtinRepairs } from "../../repairs/builtin.ts";
 * console.log(explainName("shrunken_live", builtinChecks, builtinRepairs, "text"));
 * ```
 * @module
 */

import type { Check } from "../plugins/check.ts";
import type { KindInfo } from "../report/finding.ts";
import type { Repair } from "../plugins/repair.ts";
import { kindsOf } from "./run.ts";

/**
 * The explanation of a kind, repair or check id, or null when no kind,
 * repair or check has that name.
 *
 * @example
 * ```ts
 * import { explainName } from "./explain.ts";
 * import { builtinChecks } from "../../checks/builtin.ts";
 * import { builtinRepairs } from "../../repairs/builtin.ts";
 * explainName("index-coverage", builtinChecks, builtinRepairs, "json"); // '{"type": "check", ...}'
 * explainName("no_such_thing", builtinChecks, builtinRepairs, "text"); // null
 * ```
 */
export function explainName(
  name: string,
  checks: readonly Check[],
  repairs: readonly Repair[],
  format: "text" | "json",
): string | null {
  const json = (value: unknown) => JSON.stringify(value, null, 2) + "\n";
  const repair = repairs.find((r) => r.id === name);
  if (repair) {
    return format === "json"
      ? json({
        type: "repair",
        id: repair.id,
        title: repair.title,
        description: repair.description,
        fixes: repair.fixes,
      })
      : `${repair.id}: ${repair.title}\n\n${repair.description}\nFixes: ${
        repair.fixes.join(", ")
      }.\n`;
  }
  const kind = kindsOf(checks).get(name);
  if (kind) {
    const fix = kind.repair
      ? repairs.find((r) => r.id === kind.repair)
      : undefined;
    if (format === "json") {
      return json({
        type: "kind",
        ...kindFacts(kind),
        repair: fix?.id ?? null,
        check: kind.check,
        explain: kind.explain,
      });
    }
    return [
      `${kind.kind}: ${kind.summary}`,
      "",
      `Category: ${kind.category}    Severity: ${kind.severity}    Check: ${kind.check}`,
      `Repair: ${
        fix
          ? `${fix.id} (${fix.title.toLowerCase()})`
          : kind.category === "info"
          ? "none needed"
          : "none: manual review"
      }`,
      "",
      wrap(kind.explain, 76),
      "",
      ...resolutionLines(kind),
    ].join("\n");
  }
  const check = checks.find((c) => c.id === name);
  if (!check) return null;
  if (format === "json") {
    return json({
      type: "check",
      id: check.id,
      title: check.title,
      description: check.description,
      kinds: check.kinds.map(kindFacts),
    });
  }
  return [
    `${check.id}: ${check.title}`,
    "",
    wrap(check.description, 76),
    "",
    "Kinds it reports:",
    ...check.kinds.map((k) => `  - ${kindLine(k)}`),
    "",
    "Run 'hermes-fsck explain KIND' for what one of them means.",
    "",
  ].join("\n");
}

/**
 * A kind in one line: its name, category, what is done about it, summary.
 *
 * @example
 * ```ts
 * import { kindLine } from "./explain.ts";
 * import type { KindInfo } from "../report/finding.ts";
 * declare const kind: KindInfo;
 * kindLine(kind); // "shrunken_live (repairable; repair: restore_from_bak): ..."
 * ```
 */
export function kindLine(kind: KindInfo): string {
  const fix = kind.repair
    ? `repair: ${kind.repair}`
    : kind.category === "info"
    ? "no action"
    : "manual review";
  return `${kind.kind} (${kind.category}; ${fix}): ${kind.summary}`;
}

/** A kind's facts for JSON: every field but the long explanation. */
function kindFacts(kind: KindInfo) {
  return {
    kind: kind.kind,
    category: kind.category,
    severity: kind.severity,
    repair: kind.repair ?? null,
    summary: kind.summary,
    resolutions: kind.resolutions ?? [],
  };
}

/** What `resolve` may keep for a kind, for the text. */
function resolutionLines(kind: KindInfo): string[] {
  if (!kind.resolutions?.length) return [];
  return [
    "Resolutions ('hermes-fsck resolve ID --keep SOURCE', undoable):",
    ...kind.resolutions.map((r) =>
      `  ${r.keep.padEnd(9)}${
        r.undeletes
          ? r.meaning.replace(/\.$/, "") + " (needs --undelete)."
          : r.meaning
      }`
    ),
    "",
  ];
}

function wrap(text: string, width: number): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.join("\n");
}
