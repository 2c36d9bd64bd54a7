/**
 * Tests of core/scan/sidecar_scan.ts and core/json/json_scan.ts: the summary taken
 * from a sidecar's bytes without materialising it is exactly the summary of
 * the parsed file, and a file that does not parse gives exactly the problem
 * (reason, detail, offset) the plain parse gives, on hand-made edge cases
 * and on thousands of seeded mutations of real-looking sidecars.
 */

import assert from "node:assert/strict";
import { parseJsonBytes } from "../core/io/file_read.ts";
import { skipJsonValue } from "../core/json/json_scan.ts";
import { summarizeSidecarBytes } from "../core/scan/sidecar_scan.ts";
import {
  type SummarizeOptions,
  summarizeSidecar,
} from "../core/store/sidecar_summary.ts";
import { makeSidecar } from "./fixtures.ts";

const encoder = new TextEncoder();

/** What the scan gave before: parse whole, then summarize. */
function plain(bytes: Uint8Array, options: SummarizeOptions = {}) {
  const parsed = parseJsonBytes(bytes);
  return parsed.ok
    ? { ok: true as const, value: summarizeSidecar(parsed.value, options) }
    : parsed;
}

function same(bytes: Uint8Array, options: SummarizeOptions = {}): void {
  assert.deepEqual(
    summarizeSidecarBytes(bytes, options),
    plain(bytes, options),
  );
}

function sidecarText(fields: Record<string, unknown> = {}, indent = 2): string {
  return JSON.stringify(
    makeSidecar("abc", { messages: 6, ...fields }),
    null,
    indent,
  );
}

Deno.test("sidecar_scan: the summary of real-looking sidecars is the parsed one", () => {
  const tool = { role: "tool", content: "output", timestamp: 1778458999 };
  const cases: Record<string, unknown>[] = [
    {},
    { messages: 0 },
    { messages: [tool] },
    {
      messages: [{
        role: "user",
        content: [{ type: "text", text: "a" }, { type: "text", text: "b" }],
      }],
    },
    { messages: [{ role: " User ", content: "x", _ts: "1778458000.5" }, tool] },
    {
      messages: [
        { role: "user", _ts: 0, timestamp: 7 },
        "not a message",
        null,
        [1],
      ],
    },
    {
      messages: [{
        role: "assistant",
        content: 'é😀\u2028 \\ " done',
        timestamp: "soon",
      }],
    },
    {
      messages: [{
        role: "user",
        content: "x".repeat(300),
      }],
    },
    {
      messages: [{ content: "no role" }, { role: null }, { role: 7 }, {
        role: ["user"],
      }],
    },
    { title: "é".repeat(40), pending_user_message: "hi", __proto__x: 1 },
    { tool_calls: [{ id: "c1", function: { name: "f", arguments: "{}" } }] },
    { context_messages: [{ role: "user", content: "[Context compaction] x" }] },
    { intentional_shrink_generation: "0123456789ab4def8123456789abcdef" },
  ];
  for (const fields of cases) {
    for (const indent of [0, 2]) {
      same(encoder.encode(sidecarText(fields, indent)));
    }
  }
});

Deno.test("sidecar_scan: key order, repeated keys, escaped keys and __proto__ come out as JSON.parse makes them", () => {
  const texts = [
    '{"b": 1, "a": 2, "10": 3, "2": 4, "messages": []}',
    '{"messages": [{"role": "user"}], "title": "x", "messages": [1, 2, 3]}',
    '{"messages": 5, "messages": [{"role": "tool", "timestamp": 9}, {"role": "user", "timestamp": 4}]}',
    '{"\\u006dessages": [{"\\u0072ole": "user", "con\\u0074ent": "hi", "\\u005fts": 3}]}',
    '{"__proto__": {"polluted": true}, "messages": [{"role": "user", "role": "assistant"}]}',
    '{"messages": [{"role": "user", "content": "a", "content": "b", "timestamp": 1, "timestamp": 2}]}',
    '{"tool_calls": [1], "tool_calls": null, "messages": []}',
    "{}",
    ' \n{"messages": []} \r\n',
    '{"messages": [{}, {"role": "user", "_ts": [], "timestamp": {"a": 1}}]}',
    '{"messages": [{"role": "user", "_ts": 1e400, "timestamp": -0}]}',
  ];
  for (const text of texts) same(encoder.encode(text));
});

Deno.test("sidecar_scan: files that do not parse give the plain parse's exact problem", () => {
  const texts = [
    "",
    " ",
    "\ufeff{}",
    '{"messages": [}',
    '{"messages": [{"role": "user",}]}',
    '{"a": 01}',
    '{"a": 1.}',
    '{"a": .5}',
    '{"a": 1e}',
    '{"a": -}',
    '{"a": "\\x"}',
    '{"a": "\\u12G4"}',
    '{"a": "tab\there"}',
    '{"a": tru}',
    '{"a": NaN}',
    '{"a": Infinity, "messages": []}',
    '{"a": 1} x',
    '{"a": 1}}',
    "[1, 2,]",
    '{"messages": [{"role": "user"}]',
    '{"messages": [{"role" "user"}]}',
    "[" + '"x",'.repeat(10) + "]",
  ];
  for (const text of texts) same(encoder.encode(text));
  // Invalid UTF-8 inside and outside strings, overlong forms, surrogates.
  const prefix = encoder.encode('{"messages": [{"role": "user", "content": "');
  const suffix = encoder.encode('"}]}');
  for (
    const bad of [
      [0xff],
      [0xc0, 0x80],
      [0xe0, 0x80, 0x80],
      [0xed, 0xa0, 0x80],
      [
        0xf4,
        0x90,
        0x80,
        0x80,
      ],
      [0xc3],
      [0xe2, 0x82],
    ]
  ) {
    same(Uint8Array.from([...prefix, ...bad, ...suffix]));
  }
  same(Uint8Array.from([...encoder.encode('{"a": 1}'), 0xff]));
});

Deno.test("sidecar_scan: wanting user texts, or context messages, takes the plain path with the same result", () => {
  const bytes = encoder.encode(sidecarText({
    context_messages: [{ role: "user", content: "[context compaction]" }],
  }));
  same(bytes);
  same(bytes, { collectUserTexts: true });
  same(encoder.encode(sidecarText()), {
    userTextsAmong: new Set(["message 0"]),
  });
  same(encoder.encode(sidecarText()), { userTextsAmong: new Set() });
});

Deno.test("sidecar_scan: seeded mutations of sidecars agree with the plain parse", () => {
  let seed = 42;
  const random = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const bases = [
    sidecarText(),
    sidecarText({ messages: 3 }, 0),
    sidecarText({ title: 'é😀 \\ "q"', pending_user_message: "x" }),
  ].map((t) => encoder.encode(t));
  const bytes = [
    0x22,
    0x5c,
    0x2c,
    0x3a,
    0x7b,
    0x7d,
    0x5b,
    0x5d,
    0x20,
    0x0a,
    0x30,
    0x31,
    0x2d,
    0x2e,
    0x65,
    0x2b,
    0x74,
    0x6e,
    0x75,
    0x00,
    0x1f,
    0x80,
    0xc3,
    0xa9,
    0xed,
    0xa0,
    0xf0,
    0x9f,
    0xef,
    0xbb,
    0xbf,
    0x4e,
  ];
  let stillValid = 0;
  for (let round = 0; round < 3000; round++) {
    const base = bases[round % bases.length];
    const at = Math.floor(random() * base.length);
    const byte = bytes[Math.floor(random() * bytes.length)];
    let mutated: Uint8Array;
    switch (round % 4) {
      case 0:
        mutated = base.slice(0, at);
        break;
      case 1:
        mutated = base.slice();
        mutated[at] = byte;
        break;
      case 2:
        mutated = Uint8Array.from([
          ...base.subarray(0, at),
          byte,
          ...base.subarray(at),
        ]);
        break;
      default:
        mutated = Uint8Array.from([
          ...base.subarray(0, at),
          ...base.subarray(at + 1),
        ]);
    }
    const expected = plain(mutated);
    if (expected.ok) stillValid++;
    assert.deepEqual(
      summarizeSidecarBytes(mutated),
      expected,
      `round ${round}`,
    );
  }
  assert.ok(stillValid > 100, "the mutations should leave some files valid");
});

Deno.test("json_scan: a value is valid exactly when JSON.parse accepts it", () => {
  const texts = [
    "0",
    "-0",
    "1.5e-3",
    "1E+2",
    "01",
    "1.",
    ".1",
    "-",
    "+1",
    "1e",
    "true",
    "tru",
    "null",
    "nul",
    '"a"',
    '"\\/"',
    '"\\u00e9"',
    '"\\u00g9"',
    '"a',
    "[]",
    "[1,]",
    "[,1]",
    "{}",
    '{"a":1,}',
    '{"a" 1}',
    "{1: 2}",
    '{"a": [{"b": [null]}]}',
    "[[[[]]]]",
    "[[[[]]]",
    '"\u0001"',
    '"\u007f"',
  ];
  for (const text of texts) {
    let valid = true;
    try {
      JSON.parse(text);
    } catch {
      valid = false;
    }
    const end = skipJsonValue(encoder.encode(text), 0);
    assert.equal(end === text.length, valid, text);
  }
  const deep = encoder.encode("[".repeat(100_000) + "]".repeat(100_000));
  assert.equal(skipJsonValue(deep, 0), deep.length);
});
