import assert from "node:assert/strict";
import * as nodePath from "node:path";
import * as nodeUrl from "node:url";
import * as path from "../core/io/path.ts";

/** Paths made of the pieces that matter: slashes, dots, names. */
function randomPaths(count: number, seed: number): string[] {
  let state = seed;
  const next = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const pieces = [
    "/",
    "//",
    ".",
    "..",
    "a",
    "b.json",
    ".x",
    "a.",
    "...",
    "%",
    " ",
  ];
  const out = ["", "/", "//", "///", ".", "..", "./", "../", "a//", "//a"];
  while (out.length < count) {
    let p = "";
    const n = Math.floor(next() * 7);
    for (let i = 0; i < n; i++) p += pieces[Math.floor(next() * pieces.length)];
    out.push(p);
  }
  return out;
}

Deno.test("path: every function agrees with node:path on 3,000 paths", () => {
  const paths = randomPaths(3000, 7);
  for (const p of paths) {
    assert.equal(path.normalize(p), nodePath.normalize(p), `normalize ${p}`);
    assert.equal(path.dirname(p), nodePath.dirname(p), `dirname ${p}`);
    assert.equal(path.basename(p), nodePath.basename(p), `basename ${p}`);
    assert.equal(path.extname(p), nodePath.extname(p), `extname ${p}`);
    assert.equal(path.isAbsolute(p), nodePath.isAbsolute(p), `isAbsolute ${p}`);
    assert.equal(path.resolve(p), nodePath.resolve(p), `resolve ${p}`);
  }
  for (let i = 0; i + 2 < paths.length; i += 3) {
    const [a, b, c] = paths.slice(i, i + 3);
    assert.equal(
      path.join(a, b, c),
      nodePath.join(a, b, c),
      `join ${a} ${b} ${c}`,
    );
    assert.equal(
      path.resolve(a, b, c),
      nodePath.resolve(a, b, c),
      `resolve ${a} ${b} ${c}`,
    );
    assert.equal(
      path.relative(a, b),
      nodePath.relative(a, b),
      `relative ${a} ${b}`,
    );
  }
  assert.equal(path.join(), nodePath.join());
});

Deno.test("path: file URLs agree with node:url, both ways, for awkward names", () => {
  const names = [
    "/srv/plain.ts",
    "/srv/my plugin.ts",
    "/srv/100%/a#b?c.ts",
    "/srv/ünï/😀.ts",
    "/srv/back\\slash\ttab\nline.ts",
    "/srv/semi;colon&amp=.ts",
  ];
  for (const name of names) {
    const href = path.fileUrlOf(name).href;
    assert.equal(href, nodeUrl.pathToFileURL(name).href, name);
    assert.equal(path.pathOfFileUrl(href), nodeUrl.fileURLToPath(href), href);
    assert.equal(path.pathOfFileUrl(href), name);
  }
  assert.throws(
    () => path.pathOfFileUrl("https://example.com/a.ts"),
    TypeError,
  );
  assert.throws(() => path.pathOfFileUrl("file://host/a.ts"), TypeError);
  assert.throws(() => path.pathOfFileUrl("file:///a%2Fb.ts"), TypeError);
});
