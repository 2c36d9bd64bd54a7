/**
 * Tests of core/json/json_list_stream.ts: a list walked through a window of any
 * size, down to one byte, gives exactly the elements and the verdict of
 * the whole file parsed at once, and reads each byte once through a window
 * that does not grow past the biggest element.
 */

import assert from "node:assert/strict";
import { type ReadAt, readAtBytes } from "../core/io/file_read.ts";
import { eachListElementRead } from "../core/json/json_list_stream.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The elements and the walk's verdict, through a window of `windowBytes`;
 * each element is checked to be what the file's bytes at its span parse to.
 */
function walk(bytes: Uint8Array, windowBytes: number, maxBytes = Infinity) {
  const elements: unknown[] = [];
  const result = eachListElementRead(
    readAtBytes(bytes),
    (value, start, end) => {
      const text = decoder.decode(bytes.subarray(start, end));
      assert.deepEqual(JSON.parse(text), value, text);
      elements.push(value);
    },
    { windowBytes, maxBytes },
  );
  return { result, elements };
}

/** What parsing the whole file says: its elements, or that it is no list. */
function parsedWhole(bytes: Uint8Array): unknown[] | null {
  try {
    const value = JSON.parse(
      new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes),
    );
    return Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}

function sameAtEveryWindow(bytes: Uint8Array, label: string): void {
  const whole = parsedWhole(bytes);
  for (let windowBytes = 1; windowBytes <= bytes.length + 2; windowBytes++) {
    const { result, elements } = walk(bytes, windowBytes);
    assert.ok(result, label);
    assert.equal(result.isList, whole !== null, `${label} @${windowBytes}`);
    if (whole === null) continue;
    assert.equal(result.bytes, bytes.length, `${label} @${windowBytes}`);
    assert.deepEqual(elements, whole, label);
  }
}

Deno.test("json_list_stream: every window size gives the whole file's elements", () => {
  const texts = [
    "[]",
    " [ ] \n",
    "[1]",
    '[1, {"a": [2]}, "x"]',
    "[12345, -0.5e10, true, false, null]",
    '[{"session_id": "é😀", "title": "数据 \\n \\" \\u00e9 ok"}, []]',
    '\t[ {"a": {"b": {"c": [1, [2, [3]]]}}} ,\n 7 ]\r\n',
    // Brackets, commas and quotes inside strings are text.
    '[{"a": "]", "b": "},{"}, "[", "\\\\", "\\"]"]',
  ];
  for (const text of texts) sameAtEveryWindow(encoder.encode(text), text);
});

Deno.test("json_list_stream: anything but one valid list is no list, at every window size", () => {
  const texts = [
    "",
    "   ",
    "{}",
    "7",
    "[1,]",
    "[,1]",
    "[1 2]",
    "[1] 2",
    "[1] ]",
    "[1",
    '[{"a": 1}',
    "[tru]",
    "[1.]",
    '["a\nb"]',
    "[01]",
    // Brackets that balance in number but not in kind, and elements run
    // together: found by brackets and quotes, refused by the parse.
    '[{"a": 1]}',
    "[{]}",
    "[1}",
    "[}]",
    "[:]",
    '[1"a"]',
    '["a" "b"]',
    '["a"1]',
    "[nul]",
    '["\\"]',
  ];
  for (const text of texts) sameAtEveryWindow(encoder.encode(text), text);
  // Invalid UTF-8 inside a string, and a sequence cut in the middle.
  sameAtEveryWindow(new Uint8Array([0x5b, 0x22, 0xff, 0x22, 0x5d]), "0xff");
  sameAtEveryWindow(
    new Uint8Array([0x5b, 0x22, 0xe6, 0x95, 0x22, 0x5d]),
    "cut",
  );
});

Deno.test("json_list_stream: seeded random lists and their truncations", () => {
  let seed = 5;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const values = [null, true, 0, -12.75, 1e21, "", "t", "é😀", '\n\\"', [], {}];
  const valueOf = (depth: number): unknown => {
    if (depth > 2 || random() < 0.5) {
      return values[Math.floor(random() * values.length)];
    }
    return random() < 0.5
      ? [valueOf(depth + 1), valueOf(depth + 1)]
      : { session_id: `s${depth}`, v: valueOf(depth + 1) };
  };
  for (let n = 0; n < 150; n++) {
    const list = Array.from(
      { length: Math.floor(random() * 6) },
      () => valueOf(0),
    );
    const text = JSON.stringify(list, null, random() < 0.5 ? 0 : 2);
    const bytes = encoder.encode(text);
    const windowBytes = 1 + Math.floor(random() * 40);
    const { result, elements } = walk(bytes, windowBytes);
    assert.deepEqual(result, { isList: true, bytes: bytes.length }, text);
    assert.deepEqual(elements, list, text);
    // Cut anywhere before the closing bracket, it is no list any more.
    const cut = bytes.subarray(0, Math.floor(random() * (bytes.length - 1)));
    assert.equal(walk(cut, windowBytes).result?.isList, false, text);
  }
});

Deno.test("json_list_stream: seeded lists with a byte changed give the whole file's verdict", () => {
  let seed = 11;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const base = encoder.encode(JSON.stringify([
    { session_id: "a", title: 'x "q" [1] {2}', n: [1, 2.5, -3], ok: true },
    ["é", null, { b: {} }],
    "\\",
    false,
  ]));
  const swaps = encoder.encode('[]{}",:\\ 0e-.tn\x01');
  for (let n = 0; n < 400; n++) {
    const bytes = base.slice();
    const changes = 1 + Math.floor(random() * 2);
    for (let k = 0; k < changes; k++) {
      bytes[Math.floor(random() * bytes.length)] =
        swaps[Math.floor(random() * swaps.length)];
    }
    const whole = parsedWhole(bytes);
    const { result, elements } = walk(bytes, 1 + Math.floor(random() * 48));
    const label = decoder.decode(bytes);
    assert.equal(result?.isList, whole !== null, label);
    if (whole !== null) assert.deepEqual(elements, whole, label);
  }
});

Deno.test("json_list_stream: each byte is read once, through a window that grows only for a bigger element", () => {
  const entries = Array.from(
    { length: 2_000 },
    (_, i) => ({ session_id: `s${i}`, n: i }),
  );
  const small = encoder.encode(JSON.stringify(entries));
  const big = encoder.encode(
    JSON.stringify([...entries, { text: "x".repeat(5_000) }, ...entries]),
  );
  for (const bytes of [small, big]) {
    let largestAsk = 0;
    let bytesRead = 0;
    const readFrom = readAtBytes(bytes);
    const readAt: ReadAt = (into, position) => {
      largestAsk = Math.max(largestAsk, into.length);
      const read = readFrom(into, position);
      bytesRead += read;
      return read;
    };
    const seen: number[] = [];
    const result = eachListElementRead(readAt, (_value, start, end) => {
      seen.push(end - start);
    }, { windowBytes: 256, maxBytes: Infinity });
    assert.deepEqual(result, { isList: true, bytes: bytes.length });
    assert.equal(bytesRead, bytes.length);
    assert.equal(seen.length, bytes === small ? 2_000 : 4_001);
    // The window: 256 bytes for entries of about 25; doubled up to the
    // 5,000-byte element (and the bytes before it in the window), no more.
    if (bytes === small) assert.ok(largestAsk <= 256, `${largestAsk}`);
    else assert.ok(largestAsk > 5_000 && largestAsk <= 16_384, `${largestAsk}`);
  }
});

Deno.test("json_list_stream: a file longer than the limit is null, one exactly at it is read", () => {
  const bytes = encoder.encode('[1, 2, "three"]');
  for (const windowBytes of [1, 4, 64]) {
    assert.equal(walk(bytes, windowBytes, bytes.length - 1).result, null);
    assert.deepEqual(walk(bytes, windowBytes, bytes.length).result, {
      isList: true,
      bytes: bytes.length,
    });
  }
  // Over the limit even when what is past it is only whitespace.
  const padded = encoder.encode("[1]   ");
  assert.equal(walk(padded, 2, 4).result, null);
});
