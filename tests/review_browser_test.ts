/**
 * The review page in a real browser: headless Chromium (Debian's
 * `chromium`; .ci/run installs it) renders it, and the test checks what a
 * person sees: the findings, the versions' titles and the message diff are
 * on screen (in `innerText`, which leaves out collapsed groups), store
 * markup shows as text and runs nothing, and the screenshot is not blank.
 * The screenshots are kept in dist/test-artifacts/ (or
 * `$HERMES_FSCK_TEST_ARTIFACTS`): review_page.png and review_page_big.png.
 * Without Chromium the tests are skipped, and their names say why.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { runCli, storeArgs, TestStore } from "./fixtures.ts";
import {
  ARTIFACT_DIR,
  CHROMIUM,
  chromium,
  inkShare,
  visibleText,
} from "./browser_support.ts";
import {
  buildReviewStore,
  ONLY_IN_BAK,
  ONLY_IN_JOURNAL,
  REVIEW_KINDS,
} from "./review_support.ts";
import { kindsOf } from "../core/run/run.ts";
import type { Report } from "../core/report/report.ts";
import type { Finding } from "../core/report/finding.ts";
import type { SessionEvidence } from "../core/review/evidence.ts";
import { reviewHtmlPieces } from "../core/review/review_html.ts";

const SKIPPED = CHROMIUM
  ? ""
  : " [SKIPPED: chromium is not on PATH; install it (apt-get install chromium), as .ci/run does]";

Deno.test({
  name:
    "review page in headless Chromium: findings, titles and the diff are visible, store markup is text, the screenshot is not blank" +
    SKIPPED,
  ignore: !CHROMIUM,
  async fn() {
    const store = await TestStore.create();
    const out = await Deno.makeTempDir({ prefix: "hermes-fsck-browser-" });
    try {
      await buildReviewStore(store);
      const page = join(out, "review.html");
      const r = await runCli(["review", "--html", page, ...storeArgs(store)]);
      assert.equal(r.code, 4, r.stderr);
      await Deno.mkdir(ARTIFACT_DIR, { recursive: true });
      const shot = join(ARTIFACT_DIR, "review_page.png");
      await Deno.remove(shot).catch(() => {});
      await chromium(page, [`--screenshot=${shot}`, "--window-size=1280,2400"]);
      const ink = inkShare(await Deno.readFile(shot));
      assert.ok(ink > 0.01 && ink < 0.6, `ink share ${ink}: blank or broken`);

      const seen = await visibleText(page, out);
      for (const kind of REVIEW_KINDS) {
        assert.ok(
          seen.includes(`${kind}: 1 finding(s), unsafe to repair`),
          kind,
        );
      }
      // The versions' titles and the diff of the session of abc.
      assert.ok(seen.includes("Older title"), seen.slice(0, 3000));
      assert.ok(seen.includes("<script>alert('x')</script><img src=x"));
      assert.ok(seen.includes(ONLY_IN_BAK));
      assert.ok(seen.includes(ONLY_IN_JOURNAL));
      assert.ok(seen.includes("A deleted chat"));
      assert.match(
        seen,
        /hermes-fsck resolve [0-9a-f]{16} --keep bak --undelete/,
      );
      // A collapsed group shows its heading, not its findings.
      assert.ok(
        seen.includes("turn_journal_pending_unconfirmed: 1 finding(s), info"),
      );
      assert.ok(!seen.includes("a server may still be streaming it"));

      // The page as it is, its CSP on (no script may run, so what the
      // screenshot shows is what a browser with scripts off shows): the
      // markup in the store stayed text, no element was made of it.
      const dom = await chromium(page, ["--dump-dom"]);
      assert.doesNotMatch(dom, /<script|<img/i);
      assert.ok(dom.includes("Older title"));
    } finally {
      await store.cleanup();
      await Deno.remove(out, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "review page in headless Chromium: 20,000 sessions with 6,000 findings and the most evidence the page holds render, bounded" +
    SKIPPED,
  ignore: !CHROMIUM,
  async fn() {
    const out = await Deno.makeTempDir({ prefix: "hermes-fsck-browser-" });
    try {
      const { report, evidence } = bigReport();
      const page = join(out, "big.html");
      const html = [...reviewHtmlPieces(report, evidence, kindsOf())].join("");
      assert.ok(html.length < 4_000_000, `${html.length} chars`);
      await Deno.writeTextFile(page, html);
      await Deno.mkdir(ARTIFACT_DIR, { recursive: true });
      const shot = join(ARTIFACT_DIR, "review_page_big.png");
      await chromium(page, [`--screenshot=${shot}`, "--window-size=1280,2400"]);
      assert.ok(inkShare(await Deno.readFile(shot)) > 0.01);
      const seen = await visibleText(page, out);
      assert.ok(
        seen.includes("malformed_live: 5000 finding(s), unsafe to repair"),
      );
      assert.ok(seen.includes("4000 more of this kind"));
      assert.ok(seen.includes("title of s00000"));
      assert.ok(seen.includes("x".repeat(150)));
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});

/** A report of a 20,000-session store with 6,000 findings, and the evidence of 100 sessions at its bounds. */
function bigReport(): {
  report: Report;
  evidence: Map<string, SessionEvidence>;
} {
  const findings: Finding[] = [];
  for (let i = 0; i < 6000; i++) {
    const id = `s${String(i).padStart(5, "0")}`;
    const unsafe = i < 5000;
    findings.push({
      id: i.toString(16).padStart(16, "0"),
      check: unsafe ? "malformed-live" : "index",
      kind: unsafe ? "malformed_live" : "index_missing_entry",
      category: unsafe ? "unsafe_to_repair" : "repairable",
      severity: "error",
      sessionId: id,
      paths: [`${id}.json`],
      message: `${id}.json is not valid JSON <b>${"y".repeat(400)}</b>`,
      evidence: {},
    });
  }
  const evidence = new Map<string, SessionEvidence>();
  for (let i = 0; i < 100; i++) {
    const id = `s${String(i).padStart(5, "0")}`;
    const version = (source: "live" | "bak" | "state-db") => ({
      source,
      label: source,
      path: `${id}.json`,
      status: "ok" as const,
      problem: null,
      messageCount: 40,
      title: `title of ${id} ${"t".repeat(100)}`,
      createdAt: "2026-05-11T00:00:00.000Z",
      updatedAt: "2026-05-11T00:00:00.000Z",
      lastMessageAt: "2026-05-11T00:00:00.000Z",
      modifiedAt: "2026-05-11T00:00:00.000Z",
      size: 123456,
      sha256: "0".repeat(64),
      unique: 40,
      missing: 40,
    });
    evidence.set(id, {
      sessionId: id,
      profile: null,
      deleted: false,
      versions: [version("live"), version("bak"), version("state-db")],
      versionsOmitted: 0,
      stateDb: { path: "/h/state.db", status: "ok", detail: null },
      diff: {
        shared: 3,
        entries: Array.from({ length: 40 }, (_, j) => ({
          role: j % 2 ? "assistant" : "user",
          excerpt: `${j} ${"x".repeat(157)}…`,
          truncated: true,
          at: "2026-05-11T00:00:00.000Z",
          counts: [j % 2, 1 - (j % 2), 1],
        })),
        omitted: 100,
      },
      turns: [],
      turnsOmitted: 0,
      runJournals: [],
      runJournalsOmitted: 0,
    });
  }
  const report: Report = {
    schemaVersion: 1,
    tool: { name: "hermes-fsck", version: "test" },
    command: "audit",
    dryRun: false,
    sessionDir: "/srv/sessions",
    stateDb: { path: null, status: "absent" },
    startedAt: "2026-12-06T00:00:00.000Z",
    durationMs: 1,
    status: "needs_manual_review",
    summary: {
      sessions: 20_000,
      repairable: 1000,
      unsafe_to_repair: 5000,
      info: 0,
    },
    findings,
    stats: { filesRead: 20_000, bytesRead: 1 },
    interrupted: false,
    exitCode: 4,
  };
  return { report, evidence };
}
