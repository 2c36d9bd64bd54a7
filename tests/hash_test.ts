/**
 * The hashes without node:crypto (core/io/hash.ts for finding ids,
 * core/io/hash.ts for file contents) give exactly node:crypto's SHA-256, so
 * finding ids and the quarantine manifest are what they always were.
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { sha256HexOfText } from "../core/io/hash.ts";
import { randomHex, sha256Hex } from "../core/io/hash.ts";
import { findingId } from "../core/plugins/pipeline.ts";

function reference(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

Deno.test("sha256: texts of every padding length and beyond, ASCII and not", () => {
  let seed = 9;
  const random = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  for (let length = 0; length < 300; length++) {
    let text = "";
    for (let i = 0; i < length; i++) {
      text += random() < 0.9
        ? String.fromCharCode(32 + Math.floor(random() * 90))
        : String.fromCodePoint(0xe9 + Math.floor(random() * 0x1f000));
    }
    assert.equal(sha256HexOfText(text), reference(text), `length ${length}`);
  }
  assert.equal(
    sha256HexOfText("abc"),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
});

Deno.test("sha256: finding ids are the first 16 hex digits of the SHA-256 of their material", () => {
  const draft = {
    kind: "shrunken_live",
    sessionId: "abc",
    paths: ["abc.json", "abc.json.bak"],
    message: "",
    key: "k",
  };
  const material = JSON.stringify([
    draft.kind,
    draft.sessionId,
    draft.paths,
    draft.key,
  ]);
  assert.equal(findingId(draft), reference(material).slice(0, 16));
});

Deno.test("hash: file contents hash natively to the same SHA-256; random names are hex", async () => {
  const bytes = new TextEncoder().encode("x".repeat(100_000) + "é");
  assert.equal(await sha256Hex(bytes), reference(bytes));
  assert.equal(await sha256Hex(new Uint8Array()), reference(""));
  assert.match(randomHex(4), /^[0-9a-f]{8}$/);
  assert.notEqual(randomHex(8), randomHex(8));
});
