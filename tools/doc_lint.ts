/**
 * The documentation gate of the public entry points (mod.ts and cli.ts), as
 * `deno task test` runs it: `deno doc --lint` is clean (every exported
 * symbol and member documented, no public type that refers to a private
 * one), and every exported symbol's doc comment has an example.
 *
 * `PENDING` names files whose owner is documenting them in a change of
 * their own; their `missing-jsdoc` errors and missing examples are reported
 * as a note, not a failure. Any other problem fails, and so does a pending
 * file that has nothing left to do (so the list cannot go stale: remove it
 * then).
 *
 * @example
 * ```sh
 * deno run --allow-run --allow-read tools/doc_lint.ts
 * ```
 * @module
 */

import { fileURLToPath } from "node:url";

/** The modules a user imports: `.` and `./cli` of deno.json's exports. */
export const ENTRY_POINTS: readonly string[] = ["mod.ts", "cli.ts"];

/** Files whose undocumented members are being documented by their owner. */
export const PENDING: readonly string[] = [];

/** One diagnostic of `deno doc --lint`. */
export interface DocDiagnostic {
  /** The rule, for example `missing-jsdoc`. */
  rule: string;
  /** The file, relative to the repository root. */
  file: string;
  /** The whole diagnostic as printed. */
  text: string;
}

/**
 * Splits the output of `deno doc --lint` (with NO_COLOR) into diagnostics.
 *
 * @example
 * ```ts
 * import { parseDocLint } from "./doc_lint.ts";
 * parseDocLint("error[missing-jsdoc]: ...\n  --> /repo/core/x.ts:3:3\n", "/repo/");
 * // [{ rule: "missing-jsdoc", file: "core/x.ts", text: "..." }]
 * ```
 */
export function parseDocLint(output: string, root: string): DocDiagnostic[] {
  const diagnostics: DocDiagnostic[] = [];
  for (const block of output.split(/\n(?=error\[)/)) {
    const rule = /^error\[([\w-]+)\]/.exec(block)?.[1];
    const file = /-->\s+(\S+?):\d+:\d+/.exec(block)?.[1];
    if (!rule || !file) continue;
    diagnostics.push({
      rule,
      file: file.startsWith(root) ? file.slice(root.length) : file,
      text: block.trim(),
    });
  }
  return diagnostics;
}

/** A node of `deno doc --json`, as far as this gate reads it. */
interface DocNode {
  name: string;
  declarations?: {
    location?: { filename?: string };
    jsDoc?: { doc?: string; tags?: { kind: string }[] };
  }[];
}

/**
 * The exported symbols (with the file declaring them) whose doc comment has
 * no example, from the output of `deno doc --json`.
 *
 * @example
 * ```ts
 * import { symbolsWithoutExample } from "./doc_lint.ts";
 * symbolsWithoutExample({ nodes: { "file:///r/mod.ts": { symbols: [] } } }, "/r/"); // []
 * ```
 */
export function symbolsWithoutExample(
  json: { nodes: Record<string, { symbols?: DocNode[] }> },
  root: string,
): { name: string; file: string }[] {
  const missing: { name: string; file: string }[] = [];
  for (const module of Object.values(json.nodes)) {
    for (const symbol of module.symbols ?? []) {
      const declarations = symbol.declarations ?? [];
      const hasExample = declarations.some((d) =>
        d.jsDoc?.tags?.some((t) => t.kind === "example") ||
        (d.jsDoc?.doc ?? "").includes("```")
      );
      if (hasExample) continue;
      const url = declarations[0]?.location?.filename ?? "";
      const path = url.startsWith("file://") ? fileURLToPath(url) : url;
      missing.push({
        name: symbol.name,
        file: path.startsWith(root) ? path.slice(root.length) : path,
      });
    }
  }
  return missing;
}

async function deno(args: string[], cwd: string) {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code,
    stdout: decoder.decode(stdout),
    stderr: decoder.decode(stderr),
  };
}

if (import.meta.main) {
  const root = fileURLToPath(new URL("..", import.meta.url));
  const lint = await deno(["doc", "--lint", ...ENTRY_POINTS], root);
  const diagnostics = parseDocLint(lint.stdout + lint.stderr, root);
  if (lint.code !== 0 && diagnostics.length === 0) {
    console.error(lint.stdout + lint.stderr);
    Deno.exit(1);
  }
  const json = await deno(["doc", "--json", ...ENTRY_POINTS], root);
  if (json.code !== 0) {
    console.error(json.stderr);
    Deno.exit(1);
  }
  const noExample = symbolsWithoutExample(JSON.parse(json.stdout), root);
  const failing = [
    ...diagnostics.filter((d) =>
      !(d.rule === "missing-jsdoc" && PENDING.includes(d.file))
    ).map((d) => d.text),
    ...noExample.filter((s) => !PENDING.includes(s.file)).map((s) =>
      `error[missing-example]: ${s.name} (${s.file}) has no example in its doc comment`
    ),
  ];
  const stale = PENDING.filter((file) =>
    !diagnostics.some((d) => d.file === file) &&
    !noExample.some((s) => s.file === file)
  );
  for (const text of failing) console.error(text + "\n");
  for (const file of stale) {
    console.error(
      `tools/doc_lint.ts: ${file} is fully documented now; remove it from PENDING`,
    );
  }
  for (const file of PENDING.filter((f) => !stale.includes(f))) {
    const members = diagnostics.filter((d) => d.file === file).length;
    const symbols = noExample.filter((s) => s.file === file).length;
    console.error(
      `note: ${file} (pending with its owner): ${members} member(s) without a doc comment, ${symbols} export(s) without an example`,
    );
  }
  if (failing.length > 0 || stale.length > 0) Deno.exit(1);
  console.error(
    `docs of ${
      ENTRY_POINTS.join(" ")
    }: deno doc --lint clean, every export has an example`,
  );
}
