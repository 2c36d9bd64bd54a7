/**
 * Tests of core/json/python_json.ts: byte equality with real Python
 * `json.dumps(value, sort_keys=True)` on the same values.
 */

import assert from "node:assert/strict";
import { pythonJsonDumps } from "../core/json/python_json.ts";

const SCRIPT =
  "import json,sys; print(json.dumps(json.load(sys.stdin), sort_keys=True))";

/** What Python prints for a value given as JSON text on stdin. */
async function pythonDumps(jsonText: string): Promise<string> {
  const child = new Deno.Command("python3", {
    args: ["-c", SCRIPT],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(jsonText));
  await writer.close();
  const output = await child.output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  const text = new TextDecoder().decode(output.stdout);
  assert.ok(text.endsWith("\n"));
  return text.slice(0, -1);
}

/** Asserts pythonJsonDumps(JSON.parse(text)) is byte-equal to Python's output. */
async function assertSameAsPython(jsonText: string): Promise<void> {
  const expected = await pythonDumps(jsonText);
  const actual = pythonJsonDumps(JSON.parse(jsonText));
  assert.equal(actual, expected, `for ${jsonText}`);
}

Deno.test("python_json: scalars, integers and negative numbers", async () => {
  await assertSameAsPython(
    "[0, 1, -1, 42, -42, 1778458282, 9007199254740991, -9007199254740991, " +
      'true, false, null, 1.5, -1.5, 1778458282.1, 0.25, ""]',
  );
});

Deno.test("python_json: unicode, including astral characters, is escaped as Python does", async () => {
  await assertSameAsPython(JSON.stringify([
    "é",
    "Café Ünïcödé",
    "中文",
    "😀",
    "a😀b𝄞c",
    "\u00a0\u2028\u2029\ufeff\uffff",
    "\u{10ffff}",
  ]));
});

Deno.test("python_json: control characters and escapes", async () => {
  let all = "";
  for (let c = 0; c < 0x20; c++) all += String.fromCharCode(c);
  await assertSameAsPython(JSON.stringify([
    all,
    '"quoted" \\ back\\slash / slash',
    "\b\f\n\r\t",
    "\u007f",
    " ~",
  ]));
});

Deno.test("python_json: lone surrogates are escaped like Python's", async () => {
  // JSON text with escaped lone surrogates, which both sides accept.
  await assertSameAsPython('["\\ud800", "x\\udfffy", "\\ud83d"]');
});

Deno.test("python_json: nested values and empty containers", async () => {
  await assertSameAsPython(JSON.stringify({
    status: "warn",
    summary: { ok: 3, repairable: 1, unsafe_to_repair: 0 },
    items: [
      {
        session_id: "abc",
        kind: "shrunken_live",
        category: "repairable",
        recommendation: "restore_from_bak",
        live_messages: 2,
        bak_messages: -1,
        details: { list: [[], {}, [[]], [{}], { a: [] }] },
      },
    ],
    empty_list: [],
    empty_object: {},
  }));
  await assertSameAsPython("[]");
  await assertSameAsPython("{}");
  await assertSameAsPython('"top-level string"');
});

Deno.test("python_json: keys are sorted as Python sorts them", async () => {
  await assertSameAsPython(JSON.stringify({
    b: 1,
    a: 2,
    B: 3,
    "": 4,
    "a b": 5,
    aa: 6,
    "10": 7,
    "9": 8,
    _x: 9,
    "é": 10,
  }));
});

Deno.test("python_json: keys beyond the BMP sort by code point, as Python sorts them", async () => {
  // Python compares code points; UTF-16 code units put U+1F600 (a surrogate
  // pair starting 0xD83D) before U+FF01, code points put it after.
  await assertSameAsPython(JSON.stringify({
    "\uff01": 1,
    "😀": 2,
    "\ue000": 3,
    "a": 4,
  }));
});

Deno.test("python_json: undefined object members are left out, as JSON drops them", () => {
  assert.equal(
    pythonJsonDumps({ b: undefined, a: 1 }),
    '{"a": 1}',
  );
  assert.equal(pythonJsonDumps([undefined]), "[null]");
});
