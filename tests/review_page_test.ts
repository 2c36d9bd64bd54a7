/**
 * The review page: `review --html FILE` and `audit --format html` write one
 * self-contained page (no script, nothing fetched) with every unsafe
 * finding's evidence and the commands to copy, store text escaped; the
 * store stays byte-identical; FILE is never in the session dir and a link
 * planted at FILE is replaced, not followed; a store of 20,000 sessions
 * with thousands of findings gives a page of bounded size.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { runCli, storeArgs, TestStore } from "./fixtures.ts";
import { treeBytes, treeDiff } from "./safety_support.ts";
import {
  buildBigReviewStore,
  buildReviewStore,
  ONLY_IN_BAK,
  REVIEW_KINDS,
} from "./review_support.ts";
import type { Report } from "../core/report/report.ts";
import { escapeHtml } from "../core/report/excerpt.ts";

async function withPage(
  fn: (store: TestStore, report: Report, out: string) => Promise<void>,
): Promise<void> {
  const store = await TestStore.create();
  const out = await Deno.makeTempDir({ prefix: "hermes-fsck-page-" });
  try {
    await buildReviewStore(store);
    const audit = await runCli([
      "audit",
      ...storeArgs(store),
      "--format",
      "json",
    ]);
    const before = await treeBytes(store.root);
    await fn(store, JSON.parse(audit.stdout) as Report, out);
    assert.deepEqual(
      treeDiff(before, await treeBytes(store.root)),
      [],
      "the review must not change a byte of the store",
    );
  } finally {
    await store.cleanup();
    await Deno.remove(out, { recursive: true });
  }
}

/** What a page must (not) hold to be self-contained and safe. */
function assertSafePage(html: string): void {
  assert.match(html, /^<!DOCTYPE html>/);
  assert.ok(
    html.includes(
      `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    ),
  );
  // No element that runs or fetches anything, no attribute that does;
  // store text holding such markup is escaped, so never matches.
  assert.doesNotMatch(html, /<(script|img|link|iframe|object|embed|base)\b/i);
  assert.doesNotMatch(html, /<[^>]*\s(src|href|on\w+)=/i);
  assert.doesNotMatch(/<style>[^<]*<\/style>/.exec(html)![0], /url\(|@import/);
  // deno-lint-ignore no-control-regex -- no raw control character reaches the page
  assert.doesNotMatch(html, /[\u0000-\u0008\u000b-\u001f\u007f\u202e]/);
}

Deno.test("review --html FILE: one page with every unsafe finding's evidence and commands, store text escaped, store unchanged", async () => {
  await withPage(async (store, report, out) => {
    const file = join(out, "review.html");
    const r = await runCli(["review", "--html", file, ...storeArgs(store)]);
    assert.equal(r.code, 4, r.stderr);
    assert.match(
      r.stdout,
      /^hermes-fsck: wrote the review page .*review\.html \(9 finding\(s\), 5 unsafe to repair\)\n$/,
    );
    const html = await Deno.readTextFile(file);
    assertSafePage(html);
    for (const kind of REVIEW_KINDS) {
      const f = report.findings.find((x) => x.kind === kind)!;
      assert.ok(
        html.includes(
          `<details class="kind unsafe_to_repair" open><summary>${kind}:`,
        ),
        kind,
      );
      assert.ok(html.includes(`hermes-fsck resolve ${f.id} --keep `), kind);
      assert.ok(
        html.includes(
          `hermes-fsck acknowledge ${f.id} --session-dir ${store.sessionDir}`,
        ),
        kind,
      );
    }
    // The hostile title and message are text, escaped, not markup.
    assert.ok(
      html.includes(
        "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;\\u001b[2J",
      ),
    );
    assert.ok(html.includes(escapeHtml(ONLY_IN_BAK)));
    assert.ok(html.includes("Older title"));
    assert.ok(html.length < 100_000, `${html.length} chars`);
    // Repairable and info groups start collapsed.
    assert.match(
      html,
      /<details class="kind info"><summary>turn_journal_pending_unconfirmed:/,
    );
  });
});

Deno.test("audit --format html prints the page to stdout with the audit's exit code", async () => {
  await withPage(async (store, report) => {
    const r = await runCli(["audit", ...storeArgs(store), "--format", "html"]);
    assert.equal(r.code, 4, r.stderr);
    assertSafePage(r.stdout);
    for (const f of report.findings) assert.ok(r.stdout.includes(f.id), f.kind);
    const repair = await runCli([
      "repair",
      ...storeArgs(store),
      "--format",
      "html",
      "--dry-run",
    ]);
    assert.equal(repair.code, 16, repair.stderr);
  });
});

Deno.test("review: FILE in the session dir is refused; a link planted at FILE is replaced, never followed; usage errors are 16", async () => {
  await withPage(async (store, _report, out) => {
    const inside = await runCli([
      "review",
      "--html",
      store.path("review.html"),
      ...storeArgs(store),
    ]);
    assert.equal(inside.code, 8, inside.stderr);
    assert.match(
      inside.stderr,
      /refusing to write the review page .* inside the session dir/,
    );
    const victim = join(out, "victim.txt");
    await Deno.writeTextFile(victim, "keep me");
    const file = join(out, "page.html");
    await Deno.symlink(victim, file);
    const r = await runCli(["review", "--html", file, ...storeArgs(store)]);
    assert.equal(r.code, 4, r.stderr);
    assert.equal(await Deno.readTextFile(victim), "keep me");
    assert.ok((await Deno.lstat(file)).isFile);
    const noFile = await runCli(["review", ...storeArgs(store)]);
    assert.equal(noFile.code, 16, noFile.stderr);
    assert.match(noFile.stderr, /review needs --html FILE/);
    const format = await runCli([
      "review",
      "--html",
      file,
      "--format",
      "json",
      ...storeArgs(store),
    ]);
    assert.equal(format.code, 16, format.stderr);
    const htmlOnShow = await runCli([
      "show",
      "abc",
      "--html",
      file,
      ...storeArgs(store),
    ]);
    assert.equal(htmlOnShow.code, 16, htmlOnShow.stderr);
  });
});

Deno.test("review: a store of 20,000 sessions with thousands of findings gives a page of bounded size", async () => {
  const big = await buildBigReviewStore();
  try {
    const file = join(big.root, "big.html");
    const r = await runCli([
      "review",
      "--html",
      file,
      "--session-dir",
      big.sessionDir,
      "--no-state-db",
    ]);
    assert.equal(r.code, 4, r.stderr);
    const html = await Deno.readTextFile(file);
    assertSafePage(html);
    const findings = Number(/\((\d+) finding\(s\)/.exec(r.stdout)![1]);
    assert.ok(findings >= 2800, r.stdout);
    // At most 1,000 of a kind, the evidence of 100 sessions, and a note.
    assert.ok(
      html.includes(
        "more of this kind; <code>hermes-fsck audit --format json --check malformed_live</code>",
      ),
    );
    assert.equal(
      html.match(/<details class="finding unsafe_to_repair"/g)?.length,
      1000,
    );
    assert.ok(html.length < 4_000_000, `${html.length} chars`);
  } finally {
    await big.cleanup();
  }
});
