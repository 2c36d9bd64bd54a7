/**
 * The review page (`hermes-fsck review --html FILE`, `audit --format
 * html`): one self-contained HTML file, no network and no script (its
 * Content-Security-Policy forbids both), with the run's summary, every
 * finding grouped by kind in collapsed `<details>`, and for each unsafe
 * finding the versions and message diff of `show` and the commands to
 * copy. Its size is bounded whatever the store: at most
 * {@linkcode MAX_FINDINGS_PER_KIND} findings of a kind and
 * {@linkcode MAX_FINDINGS_ON_PAGE} in all are listed, the evidence of at
 * most {@linkcode MAX_EVIDENCE_SESSIONS} sessions is shown, and every
 * piece of store text is cut and escaped (core/report/excerpt.ts).
 *
 * @example
 * ```ts
 * import { reviewEvidence, reviewHtmlPieces } from "./review_html.ts";
 * import type { Report } from "../report/report.ts";
 * import type { EvidenceReader } from "./evidence.ts";
 * import { kindsOf } from "../run/run.ts";
 * import type { CliIo } from "../../cli.ts";
 * declare const report: Report;
 * declare const reader: EvidenceReader;
 * declare const io: CliIo;
 * const evidence = await reviewEvidence(report, reader);
 * for (const piece of reviewHtmlPieces(report, evidence, kindsOf())) io.stdout(piece);
 * ```
 * @module
 */

import { cut, escapeHtml } from "../report/excerpt.ts";
import { dirname, relative } from "../io/path.ts";
import {
  type EvidenceOptions,
  EvidenceReader,
  type SessionEvidence,
} from "./evidence.ts";
import type { Category, Finding, KindInfo } from "../report/finding.ts";
import { inBatches } from "../json/json_pieces.ts";
import type { Report } from "../report/report.ts";
import { commandsFor } from "./review_commands.ts";
import { acknowledgedText, sessionOfFinding } from "./show.ts";

/** Most findings listed on a page; the rest are counted. */
export const MAX_FINDINGS_ON_PAGE = 5000;
/** Most findings of one kind listed; the rest are counted. */
export const MAX_FINDINGS_PER_KIND = 1000;
/** Most sessions whose evidence the page shows. */
export const MAX_EVIDENCE_SESSIONS = 100;
/** Unsafe findings shown open (the rest start collapsed). */
const OPEN_FINDINGS = 20;

const CATEGORY_ORDER: Category[] = ["unsafe_to_repair", "repairable", "info"];

/**
 * Reads the evidence of the sessions of the first unsafe findings, in
 * page order, at most {@linkcode MAX_EVIDENCE_SESSIONS}.
 *
 * @example
 * ```ts
 * import { reviewEvidence } from "./review_html.ts";
 * import type { Report } from "../report/report.ts";
 * import type { EvidenceReader } from "./evidence.ts";
 * declare const report: Report;
 * declare const reader: EvidenceReader;
 * const evidence = await reviewEvidence(report, reader);
 * evidence.get("abc")?.versions.length;
 * ```
 */
export async function reviewEvidence(
  report: Report,
  reader: EvidenceReader,
): Promise<Map<string, SessionEvidence>> {
  const evidence = new Map<string, SessionEvidence>();
  for (const finding of pageOrder(report.findings).flatMap((g) => g.listed)) {
    if (evidence.size >= MAX_EVIDENCE_SESSIONS) break;
    if (finding.category !== "unsafe_to_repair") continue;
    const sessionId = sessionOfFinding(finding);
    if (sessionId === null || evidence.has(sessionId)) continue;
    const found = await reader.session(sessionId);
    if (found) evidence.set(sessionId, found);
  }
  return evidence;
}

/**
 * Reads the evidence the page shows from the store, and returns the page
 * in pieces ({@linkcode reviewHtmlPieces}).
 *
 * @example
 * ```ts
 * import { reviewPagePieces } from "./review_html.ts";
 * import type { Report } from "../report/report.ts";
 * import { kindsOf } from "../run/run.ts";
 * import type { CliIo } from "../../cli.ts";
 * declare const report: Report;
 * declare const io: CliIo;
 * declare const sessionDir: string;
 * for (const piece of await reviewPagePieces(report, { sessionDir, stateDbPath: null, profiles: null }, kindsOf())) io.stdout(piece);
 * ```
 */
export async function reviewPagePieces(
  report: Report,
  options: EvidenceOptions,
  kinds: ReadonlyMap<string, KindInfo>,
  flags: readonly string[] = [],
): Promise<Iterable<string>> {
  const reader = await EvidenceReader.open(options);
  try {
    return reviewHtmlPieces(
      report,
      await reviewEvidence(report, reader),
      kinds,
      flags,
    );
  } finally {
    reader.close();
  }
}

/**
 * Writes the page to `path`: a new temp beside it (created exclusively,
 * so no planted link is followed), then renamed over it. Refuses a path
 * in the session dir, which a review never changes.
 *
 * @example
 * ```ts
 * import { writeReviewPage } from "./review_html.ts";
 * declare const pieces: Iterable<string>;
 * await writeReviewPage("/root/review.html", "/srv/sessions", pieces);
 * ```
 */
export async function writeReviewPage(
  path: string,
  sessionDir: string,
  pieces: Iterable<string>,
): Promise<void> {
  const dir = await Deno.realPath(dirname(path)).catch(() => {
    throw new Error(
      `cannot write the review page ${path}: its dir does not exist; name a file in an existing dir`,
    );
  });
  const store = await Deno.realPath(sessionDir);
  const inside = relative(store, dir);
  if (inside === "" || !inside.startsWith("..")) {
    throw new Error(
      `refusing to write the review page ${path} inside the session dir ${sessionDir}, which a review never changes; name a file outside it`,
    );
  }
  const temp = `${path}.tmp.${Deno.pid}`;
  const encoder = new TextEncoder();
  let file: Deno.FsFile;
  try {
    file = await Deno.open(temp, { write: true, createNew: true, mode: 0o644 });
  } catch (error) {
    throw new Error(
      `cannot write the review page ${path} (${
        (error as Error).message
      }); name a file this user can write (as root on another user's store, hermes-fsck runs as that user), or use 'hermes-fsck audit --format html > FILE'`,
    );
  }
  try {
    for (const piece of pieces) {
      const bytes = encoder.encode(piece);
      for (let at = 0; at < bytes.length;) {
        at += await file.write(bytes.subarray(at));
      }
    }
    await file.sync();
  } catch (error) {
    file.close();
    await Deno.remove(temp).catch(() => {});
    throw new Error(
      `cannot write the review page ${path} (${
        (error as Error).message
      }); free some space or name another file`,
    );
  }
  file.close();
  await Deno.rename(temp, path);
}

/**
 * The page, in pieces of about 64 KiB.
 *
 * @example
 * ```ts
 * import type { Report } from "../report/report.ts";
 * import type { SessionEvidence } from "./evidence.ts";
 * import { kindsOf } from "../run/run.ts";
 * declare const report: Report;
 * declare const evidence: Map<string, SessionEvidence>;
 * const html = [...reviewHtmlPieces(report, evidence, kindsOf())].join("");
 * ```
 */
export function* reviewHtmlPieces(
  report: Report,
  evidence: ReadonlyMap<string, SessionEvidence>,
  kinds: ReadonlyMap<string, KindInfo>,
  flags: readonly string[] = [],
): Generator<string> {
  yield* inBatches(pageParts(report, evidence, kinds, flags));
}

interface Group {
  kind: string;
  category: Category;
  listed: Finding[];
  total: number;
}

/** Findings by kind, unsafe kinds first, each kind's list bounded. */
function pageOrder(findings: readonly Finding[]): Group[] {
  const byKind = new Map<string, Group>();
  for (const f of findings) {
    let group = byKind.get(f.kind);
    if (!group) {
      group = { kind: f.kind, category: f.category, listed: [], total: 0 };
      byKind.set(f.kind, group);
    }
    group.total++;
    if (group.listed.length < MAX_FINDINGS_PER_KIND) group.listed.push(f);
  }
  const groups = [...byKind.values()].sort((a, b) =>
    CATEGORY_ORDER.indexOf(a.category) - CATEGORY_ORDER.indexOf(b.category) ||
    (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0)
  );
  let room = MAX_FINDINGS_ON_PAGE;
  for (const group of groups) {
    group.listed = group.listed.slice(0, room);
    room -= group.listed.length;
  }
  return groups;
}

const h = (text: string, max = 300) => escapeHtml(cut(text, max));

const STYLE = `
body{font:15px/1.45 system-ui,sans-serif;margin:1.5em auto;max-width:72em;padding:0 1em;color:#111;background:#fff}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.5em}
code,pre,.x{font-family:ui-monospace,monospace;font-size:.92em}
pre{background:#f4f4f4;padding:.5em;white-space:pre-wrap;overflow-wrap:anywhere;margin:.2em 0}
table{border-collapse:collapse;margin:.4em 0}td,th{border:1px solid #ccc;padding:.2em .45em;text-align:left;vertical-align:top}
th{background:#eee}details{margin:.35em 0}summary{cursor:pointer}
details.kind{border:1px solid #bbb;border-radius:4px;padding:.3em .6em}
details.kind>summary{font-weight:600}
details.finding{border-left:3px solid #999;padding-left:.6em}
.unsafe_to_repair{border-color:#b00020}.repairable{border-color:#b26a00}.info{border-color:#2a6}
.plus{background:#dff5e1}.minus{background:#fde2e2}.na{color:#888}
.x{overflow-wrap:anywhere}.note{color:#444}td.file{min-width:10em;max-width:18em}td.title{max-width:22em;overflow-wrap:anywhere}summary{overflow-wrap:anywhere}td.t{white-space:nowrap}
`;

function* pageParts(
  report: Report,
  evidence: ReadonlyMap<string, SessionEvidence>,
  kinds: ReadonlyMap<string, KindInfo>,
  flags: readonly string[],
): Generator<string> {
  const groups = pageOrder(report.findings);
  const listed = groups.reduce((n, g) => n + g.listed.length, 0);
  const s = report.summary;
  yield `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width">
<title>hermes-fsck review of ${h(report.sessionDir)}</title>
<style>${STYLE}</style></head><body>
<h1>hermes-fsck review of <code>${h(report.sessionDir)}</code></h1>
<table><tr><th>status</th><td>${h(report.status)}</td></tr>
<tr><th>unsafe to repair</th><td>${s.unsafe_to_repair}</td></tr>
<tr><th>repairable</th><td>${s.repairable}</td></tr>
<tr><th>info</th><td>${s.info}</td></tr>
<tr><th>sessions</th><td>${s.sessions}</td></tr>
<tr><th>state.db</th><td class="x">${
    h(`${report.stateDb.path ?? "none"} (${report.stateDb.status})`)
  }</td></tr>
<tr><th>audited</th><td>${h(report.startedAt)} by hermes-fsck ${
    h(report.tool.version)
  } (exit code ${report.exitCode})</td></tr></table>
<p class="note">Nothing here changes the store. Each unsafe finding below shows every version of its session
and the messages not every version holds; copy a command to resolve it (quarantined and undoable with
<code>hermes-fsck undo RUN_ID</code>) or to acknowledge it. <code>hermes-fsck show ID</code> prints the same evidence.</p>
`;
  if (listed < report.findings.length) {
    yield `<p class="note">${listed} of ${report.findings.length} findings are listed; <code>hermes-fsck audit --format json</code> lists them all.</p>\n`;
  }
  if (report.findings.length === 0) {
    yield "<p>No findings: the store is clean.</p>\n";
  }
  let opened = 0;
  for (const group of groups) {
    const info = kinds.get(group.kind);
    yield `<details class="kind ${group.category}"${
      group.category === "unsafe_to_repair" ? " open" : ""
    }><summary>${h(group.kind, 80)}: ${group.total} finding(s), ${
      group.category.replaceAll("_", " ")
    }</summary>\n`;
    if (info) yield `<p>${h(info.summary, 400)}</p>\n`;
    for (const finding of group.listed) {
      const open = finding.category === "unsafe_to_repair" &&
        opened < OPEN_FINDINGS;
      if (open) opened++;
      yield findingHtml(
        finding,
        info,
        report.sessionDir,
        evidence,
        open,
        flags,
      );
    }
    if (group.listed.length < group.total) {
      yield `<p class="note">${
        group.total - group.listed.length
      } more of this kind; <code>hermes-fsck audit --format json --check ${
        h(group.kind, 80)
      }</code> lists them.</p>\n`;
    }
    yield "</details>\n";
  }
  yield "</body></html>\n";
}

function findingHtml(
  f: Finding,
  kind: KindInfo | undefined,
  sessionDir: string,
  evidence: ReadonlyMap<string, SessionEvidence>,
  open: boolean,
  flags: readonly string[],
): string {
  const sessionId = sessionOfFinding(f);
  const parts = [
    `<details class="finding ${f.category}"${
      open ? " open" : ""
    }><summary><code>${h(f.id, 40)}</code> ${
      sessionId ? `<b>${h(sessionId, 80)}</b> ` : ""
    }${f.acknowledged ? "[acknowledged] " : ""}${
      h(f.message, 240)
    }</summary>\n`,
  ];
  if (f.acknowledged) {
    parts.push(`<p><b>${h(acknowledgedText(f.acknowledged), 400)}</b></p>\n`);
  }
  if (f.paths.length > 0) {
    parts.push(
      `<p class="x">Files: ${
        f.paths.slice(0, 10).map((p) => `<code>${h(p, 200)}</code>`).join(", ")
      }${f.paths.length > 10 ? ` and ${f.paths.length - 10} more` : ""}</p>\n`,
    );
  }
  if (f.category === "unsafe_to_repair") {
    const found = sessionId === null ? undefined : evidence.get(sessionId);
    if (found) parts.push(evidenceHtml(found));
    else if (sessionId !== null) {
      parts.push(
        `<p class="note">Evidence not included here (the page shows ${MAX_EVIDENCE_SESSIONS} sessions at most): run <code>hermes-fsck show ${
          h(f.id, 40)
        }</code>.</p>\n`,
      );
    }
  }
  parts.push("<pre>");
  for (const c of commandsFor(f, kind, sessionDir, flags)) {
    parts.push(`${h(c.command, 600)}\n    # ${h(c.meaning, 300)}\n`);
  }
  parts.push("</pre></details>\n");
  return parts.join("");
}

function evidenceHtml(s: SessionEvidence): string {
  const deleted = s.deleted === null
    ? "unknown (the tombstone cannot be read)"
    : s.deleted
    ? "<b>yes</b>: the tombstone lists it"
    : "no";
  const parts = [
    `<p>Session <b>${h(s.sessionId, 200)}</b>, profile ${
      h(s.profile ?? "default", 80)
    }, deleted: ${deleted}</p>\n<table><tr><th>#</th><th>version</th><th>messages</th><th>title</th><th>created</th><th>updated</th><th>last message</th><th>file</th><th>only here</th><th>lacks</th></tr>\n`,
  ];
  for (const [i, v] of s.versions.entries()) {
    const count = v.status === "ok"
      ? `${v.messageCount}${v.source === "journal" ? " prompt(s)" : ""}`
      : `<i>cannot be used: ${h(v.problem ?? "unreadable")}</i>`;
    parts.push(
      `<tr><td>${i + 1}</td><td>${
        h(v.label, 100)
      }</td><td>${count}</td><td class="title">${
        v.title === null ? "" : h(v.title, 200)
      }</td><td class="t">${when(v.createdAt)}</td><td class="t">${
        when(v.updatedAt)
      }</td><td class="t">${when(v.lastMessageAt)}</td><td class="x file">${
        h(v.path)
      }${v.size === null ? "" : `, ${v.size} bytes`}${
        v.modifiedAt ? `, modified ${when(v.modifiedAt)}` : ""
      }</td><td>${v.unique}</td><td>${v.missing}</td></tr>\n`,
    );
  }
  parts.push("</table>\n");
  if (s.versionsOmitted > 0) {
    parts.push(
      `<p class="note">${s.versionsOmitted} more temps not read.</p>\n`,
    );
  }
  const d = s.diff;
  if (d.entries.length === 0) {
    parts.push(
      `<p>${
        d.shared > 0
          ? `Every readable version holds the same ${d.shared} message(s).`
          : "No messages to compare."
      }</p>\n`,
    );
  } else {
    parts.push(
      `<p>Messages not every version holds (${d.shared} others are in all; + holds it, − lacks it):</p>\n<table><tr>${
        s.versions.map((v, i) => `<th title="${h(v.label, 100)}">${i + 1}</th>`)
          .join("")
      }<th>role</th><th>time</th><th>message</th></tr>\n`,
    );
    for (const e of d.entries) {
      const cells = e.counts.map((c) =>
        c === null
          ? `<td class="na">·</td>`
          : c === 0
          ? `<td class="minus">−</td>`
          : `<td class="plus">${c === 1 ? "+" : c}</td>`
      ).join("");
      parts.push(
        `<tr>${cells}<td>${h(e.role, 40)}</td><td class="t">${
          when(e.at)
        }</td><td class="x">${h(e.excerpt, 200)}</td></tr>\n`,
      );
    }
    parts.push("</table>\n");
    if (d.omitted > 0) {
      parts.push(`<p class="note">${d.omitted} more not listed.</p>\n`);
    }
  }
  if (s.turns.length > 0) {
    parts.push(
      "<p>Turn journal:</p>\n<table><tr><th>turn</th><th>state</th><th>submitted</th><th>prompt</th></tr>\n",
    );
    for (const t of s.turns) {
      parts.push(
        `<tr><td class="x">${h(t.turnId, 80)}</td><td>${
          h(t.state, 60)
        }</td><td class="t">${when(t.at)}</td><td class="x">${
          h(t.excerpt, 200)
        }</td></tr>\n`,
      );
    }
    parts.push("</table>\n");
    if (s.turnsOmitted > 0) {
      parts.push(`<p class="note">${s.turnsOmitted} more turns.</p>\n`);
    }
  }
  if (s.runJournals.length > 0) {
    parts.push(
      "<p>Run journals (what each run streamed):</p>\n<table><tr><th>file</th><th>ended</th><th>text</th><th>tool cards</th><th>reasoning</th><th>start of its text</th></tr>\n",
    );
    for (const r of s.runJournals) {
      parts.push(
        `<tr><td class="x">${h(r.file, 200)}</td><td>${
          r.ended ? h(r.ended, 40) : "never"
        }${
          r.problem ? ` (${h(r.problem, 300)})` : ""
        }</td><td>${r.textEvents}</td><td>${r.toolCards}${
          r.tools.length ? ` (${h(r.tools.join(", "), 320)})` : ""
        }</td><td>${r.reasoningEvents}</td><td class="x">${
          h(r.excerpt, 200)
        }</td></tr>\n`,
      );
    }
    parts.push("</table>\n");
    if (s.runJournalsOmitted > 0) {
      parts.push(
        `<p class="note">${s.runJournalsOmitted} more run journals.</p>\n`,
      );
    }
  }
  return parts.join("");
}

/** An ISO time, shorter: to the second, with a space. */
function when(iso: string | null): string {
  return iso === null ? "" : h(iso.replace("T", " ").replace(/\.\d+Z$/, "Z"));
}
