/**
 * Headless Chromium for the review page's tests: where it is, how to run
 * it on a page (the DOM after layout, a screenshot), what text a person
 * sees (`innerText`, which leaves out what a closed `<details>` hides),
 * and how much of a screenshot is not blank (a PNG decoded with node:zlib).
 */

import { join } from "node:path";
import { inflateSync } from "node:zlib";

/** Chromium's path, or null when it is not installed. */
export const CHROMIUM: string | null = (() => {
  for (const name of ["chromium", "chromium-browser", "google-chrome"]) {
    try {
      const out = new Deno.Command("sh", {
        args: ["-c", `command -v ${name}`],
        stdout: "piped",
        stderr: "null",
      }).outputSync();
      if (out.success) return new TextDecoder().decode(out.stdout).trim();
    } catch { /* no sh: no chromium either */ }
  }
  return null;
})();

/** Where the screenshots are kept: `$HERMES_FSCK_TEST_ARTIFACTS`, else dist/test-artifacts/. */
export const ARTIFACT_DIR: string =
  Deno.env.get("HERMES_FSCK_TEST_ARTIFACTS") ||
  new URL("../dist/test-artifacts", import.meta.url).pathname;

/**
 * Runs headless Chromium on a file with `flags`; returns its stdout.
 * A profile dir of its own, no sandbox (root in a container), 90 s at most.
 */
export async function chromium(file: string, flags: string[]): Promise<string> {
  const profile = await Deno.makeTempDir({ prefix: "hermes-fsck-chromium-" });
  try {
    const out = await new Deno.Command(CHROMIUM!, {
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--hide-scrollbars",
        `--user-data-dir=${profile}`,
        ...flags,
        `file://${file}`,
      ],
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(90_000),
    }).output();
    if (!out.success) {
      throw new Error(
        `chromium exited ${out.code}: ${new TextDecoder().decode(out.stderr)}`,
      );
    }
    return new TextDecoder().decode(out.stdout);
  } finally {
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  }
}

/**
 * The text a person sees on a page: a copy of it, without its CSP, with a
 * script at the end that writes `document.body.innerText` into the DOM,
 * dumped by Chromium. Closed `<details>` and hidden elements are not in
 * it.
 */
export async function visibleText(page: string, dir: string): Promise<string> {
  const html = await Deno.readTextFile(page);
  const probe = join(dir, "probe.html");
  await Deno.writeTextFile(
    probe,
    html.replace(/<meta http-equiv="Content-Security-Policy"[^>]*>/, "")
      .replace(
        "</body>",
        `<script>const seen=document.createElement("textarea");seen.id="seen";` +
          `seen.textContent=document.body.innerText;document.body.appendChild(seen);</script></body>`,
      ),
  );
  const dom = await chromium(probe, ["--dump-dom"]);
  const seen = /<textarea id="seen">([\s\S]*?)<\/textarea>/.exec(dom);
  if (!seen) {
    throw new Error(`no visible text in the dumped DOM: ${dom.slice(0, 500)}`);
  }
  return seen[1].replaceAll("&lt;", "<").replaceAll("&gt;", ">")
    .replaceAll("&quot;", '"').replaceAll("&#39;", "'").replaceAll(
      "&amp;",
      "&",
    );
}

/**
 * The share of pixels of a PNG (8-bit RGB or RGBA, not interlaced) that
 * are not near white: 0 for a blank page.
 */
export function inkShare(png: Uint8Array): number {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let at = 8;
  let width = 0, height = 0, channels = 0;
  const data: Uint8Array[] = [];
  while (at < png.length) {
    const length = view.getUint32(at);
    const type = new TextDecoder().decode(png.subarray(at + 4, at + 8));
    const body = png.subarray(at + 8, at + 8 + length);
    if (type === "IHDR") {
      width = view.getUint32(at + 8);
      height = view.getUint32(at + 12);
      if (body[8] !== 8 || body[12] !== 0) throw new Error("not an 8-bit PNG");
      channels = body[9] === 6 ? 4 : body[9] === 2 ? 3 : 0;
      if (!channels) throw new Error(`PNG color type ${body[9]}`);
    } else if (type === "IDAT") data.push(body);
    at += 12 + length;
  }
  const raw = inflateSync(concat(data));
  const stride = width * channels;
  let prev = new Uint8Array(stride);
  let ink = 0;
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.slice(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? line[x - channels] : 0;
      const b = prev[x];
      const c = x >= channels ? prev[x - channels] : 0;
      const p = a + b - c;
      const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
      const predictor = filter === 1
        ? a
        : filter === 2
        ? b
        : filter === 3
        ? (a + b) >> 1
        : filter === 4
        ? (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)
        : 0;
      line[x] = (line[x] + predictor) & 0xff;
    }
    for (let x = 0; x < stride; x += channels) {
      if (line[x] < 200 || line[x + 1] < 200 || line[x + 2] < 200) ink++;
    }
    prev = line;
  }
  return ink / (width * height);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
