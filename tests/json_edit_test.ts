/**
 * Tests of core/json/json_edit.ts: byte-preserving edits of top-level values.
 * Where possible the expected text is what Python's `json.dumps(indent=2,
 * ensure_ascii=False)` (the server's writer) prints for the edited object.
 */

import assert from "node:assert/strict";
import {
  appendToTopLevelArray,
  replaceTopLevelValue,
  topLevelSpans,
} from "../core/json/json_edit.ts";

/** What the server writes for `source` parsed by Python, and after editing. */
interface PythonEdit {
  before: string;
  after: string;
}

/**
 * Runs Python on a JSON source text (so `0.0` and big integers keep their
 * Python spelling): prints it as the server would, then with `append` items
 * added to `messages` and `set` keys replaced.
 */
async function pythonEdit(
  source: string,
  edit: { append?: unknown[]; set?: Record<string, unknown> },
): Promise<PythonEdit> {
  const script = [
    "import json, sys",
    "d = json.load(sys.stdin)",
    "obj = json.loads(d['source'])",
    "dump = lambda o: json.dumps(o, ensure_ascii=False, indent=2)",
    "before = dump(obj)",
    "obj['messages'] = obj['messages'] + d['append']",
    "obj.update(d['set'])",
    "sys.stdout.write(json.dumps([before, dump(obj)]))",
  ].join("\n");
  const child = new Deno.Command("python3", {
    args: ["-c", script],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(
    new TextEncoder().encode(JSON.stringify({
      source,
      append: edit.append ?? [],
      set: edit.set ?? {},
    })),
  );
  await writer.close();
  const output = await child.output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  const [before, after] = JSON.parse(new TextDecoder().decode(output.stdout));
  return { before, after };
}

/** A sidecar as the server writes it, with values JSON.stringify would respell. */
const SIDECAR_SOURCE = `{
  "session_id": "abc",
  "title": "Caf\\u00e9 ]} [{ \\"quoted\\" \\\\",
  "workspace": "/work/projet-été",
  "created_at": 1778450000.0,
  "updated_at": 1778458282.1,
  "input_tokens": 12345678901234567890,
  "pending_user_message": null,
  "messages": [
    {"role": "user", "content": "hi [1, 2] {x}", "timestamp": 1778458000.0},
    {"role": "assistant", "content": [{"type": "text", "text": "😀 \\"ok\\""}], "timestamp": 1778458001.5}
  ],
  "tool_calls": [],
  "truncation_watermark": 0.0,
  "context_messages": [{"role": "user", "content": "messages"}]
}`;

const NEW_MESSAGES = [
  {
    role: "user",
    content: 'recovered ] } " \\ é 😀',
    timestamp: 1778458282.1,
    _recovered: true,
    attachments: [{ name: "a.txt", size: 3 }],
  },
  {
    role: "assistant",
    content: "**Previous turn did not complete.**",
    _error: true,
    attachments: [],
  },
];

Deno.test("json_edit: appending to messages of a Python indent=2 sidecar writes what Python would", async () => {
  const { before, after } = await pythonEdit(SIDECAR_SOURCE, {
    append: NEW_MESSAGES,
  });
  // The file spells 0.0, 1778450000.0 and a 20-digit integer as Python does.
  assert.ok(before.includes('"truncation_watermark": 0.0'));
  assert.ok(before.includes("12345678901234567890"));
  const result = appendToTopLevelArray(before, "messages", NEW_MESSAGES);
  assert.equal(result, after);
});

Deno.test("json_edit: appending keeps every other byte (prefix and suffix) identical", async () => {
  const { before } = await pythonEdit(SIDECAR_SOURCE, {});
  const result = appendToTopLevelArray(before, "messages", NEW_MESSAGES);
  assert.ok(result !== null);
  // The insertion point is right after the last element of messages.
  const span = topLevelSpans(before)!.get("messages")!;
  let insertAt = span.end - 1;
  while (/\s/.test(before[insertAt - 1])) insertAt--;
  const inserted = result.length - before.length;
  assert.ok(inserted > 0);
  assert.equal(result.slice(0, insertAt), before.slice(0, insertAt));
  assert.equal(result.slice(insertAt + inserted), before.slice(insertAt));
  const parsed = JSON.parse(result);
  const original = JSON.parse(before);
  assert.deepEqual(parsed.messages, [...original.messages, ...NEW_MESSAGES]);
  assert.deepEqual({ ...parsed, messages: null }, {
    ...original,
    messages: null,
  });
});

Deno.test("json_edit: appending to an empty messages array of an indent=2 file", async () => {
  const source = JSON.stringify({
    session_id: "abc",
    messages: [],
    tool_calls: [],
    clear_generation: "g1",
  });
  const { before, after } = await pythonEdit(source, { append: NEW_MESSAGES });
  assert.ok(before.includes('"messages": [],'));
  assert.equal(appendToTopLevelArray(before, "messages", NEW_MESSAGES), after);
  // Appending nothing changes nothing.
  assert.equal(appendToTopLevelArray(before, "messages", []), before);
});

Deno.test("json_edit: appending to messages when it is the last key", async () => {
  const source = '{"session_id": "abc", "messages": [{"role": "user"}]}';
  const { before, after } = await pythonEdit(source, { append: NEW_MESSAGES });
  assert.equal(appendToTopLevelArray(before, "messages", NEW_MESSAGES), after);
  const empty = await pythonEdit('{"session_id": "abc", "messages": []}', {
    append: NEW_MESSAGES,
  });
  assert.equal(
    appendToTopLevelArray(empty.before, "messages", NEW_MESSAGES),
    empty.after,
  );
});

Deno.test("json_edit: appending to a compact file keeps it on one line", () => {
  const text =
    '{"session_id":"abc","messages":[{"role":"user","content":"a]"}],"tool_calls":[]}';
  const result = appendToTopLevelArray(text, "messages", NEW_MESSAGES);
  assert.ok(result !== null);
  assert.ok(!result.includes("\n"));
  const at = text.indexOf('}],"tool_calls"') + 1;
  const inserted = result.length - text.length;
  assert.equal(result.slice(0, at), text.slice(0, at));
  assert.equal(result.slice(at + inserted), text.slice(at));
  assert.deepEqual(JSON.parse(result).messages, [
    { role: "user", content: "a]" },
    ...NEW_MESSAGES,
  ]);

  const empty = '{"messages": [], "b": 0.0}';
  const filled = appendToTopLevelArray(empty, "messages", [1, "x"]);
  assert.ok(filled !== null);
  assert.ok(filled.startsWith('{"messages": [1'));
  assert.ok(filled.endsWith('"x"], "b": 0.0}'));
  assert.deepEqual(JSON.parse(filled), { messages: [1, "x"], b: 0 });
});

Deno.test("json_edit: strings with brackets, quotes and escapes do not confuse the scanner", () => {
  const text = [
    "{",
    '  "title": "\\"messages\\": [ ] } {",',
    '  "trailing_backslash": "C:\\\\",',
    '  "unicode": "\\u005d\\u007d\\ud83d\\ude00",',
    '  "nested": {"messages": ["not this one"], "s": "]]]"},',
    '  "messages": [',
    '    "a \\" ] }",',
    '    ["[", "]"]',
    "  ],",
    '  "after": "{[\\"]}"',
    "}",
  ].join("\n");
  const original = JSON.parse(text);
  const result = appendToTopLevelArray(text, "messages", ['new ] " item']);
  assert.ok(result !== null);
  const parsed = JSON.parse(result);
  assert.deepEqual(parsed.messages, [
    ...original.messages,
    'new ] " item',
  ]);
  assert.deepEqual(parsed.nested, original.nested);
  assert.equal(parsed.title, original.title);
  assert.equal(parsed.trailing_backslash, "C:\\");
  assert.equal(parsed.after, original.after);
  const at = text.indexOf('["[", "]"]') + '["[", "]"]'.length;
  assert.equal(result.slice(0, at), text.slice(0, at));
  assert.equal(
    result.slice(result.length - (text.length - at)),
    text.slice(at),
  );
  assert.equal(
    result.slice(at, result.length - (text.length - at)),
    ',\n    "new ] \\" item"',
  );
});

Deno.test("json_edit: a key spelled with escapes is found by its decoded name", () => {
  const text = '{"m\\u0065ssages": [1], "x": 2}';
  const result = appendToTopLevelArray(text, "messages", [3]);
  assert.equal(result, '{"m\\u0065ssages": [1, 3], "x": 2}');
});

Deno.test("json_edit: with duplicate top-level keys the last one is edited, as JSON.parse keeps it", () => {
  const text = '{\n  "messages": [1],\n  "x": 0,\n  "messages": [2]\n}';
  assert.deepEqual(JSON.parse(text).messages, [2]);
  const result = appendToTopLevelArray(text, "messages", [3]);
  assert.equal(
    result,
    '{\n  "messages": [1],\n  "x": 0,\n  "messages": [2, 3]\n}',
  );
  assert.deepEqual(JSON.parse(result!).messages, [2, 3]);

  const replaced = replaceTopLevelValue(text, "messages", []);
  assert.equal(
    replaced,
    '{\n  "messages": [1],\n  "x": 0,\n  "messages": []\n}',
  );
  assert.deepEqual(topLevelSpans(text)!.get("messages"), {
    start: text.lastIndexOf("[2]"),
    end: text.lastIndexOf("[2]") + 3,
  });
});

Deno.test("json_edit: deep nesting before and inside messages does not overflow the stack", () => {
  const depth = 100_000;
  const deep = "[".repeat(depth) + "]".repeat(depth);
  const text =
    `{\n  "deep": ${deep},\n  "messages": [\n    ${deep}\n  ],\n  "z": 1\n}`;
  const result = appendToTopLevelArray(text, "messages", [{ role: "user" }]);
  assert.ok(result !== null);
  const parsed = JSON.parse(result);
  assert.equal(parsed.messages.length, 2);
  assert.deepEqual(parsed.messages[1], { role: "user" });
  assert.equal(parsed.z, 1);
  const replaced = replaceTopLevelValue(text, "z", 2);
  assert.equal(replaced, text.replace('"z": 1', '"z": 2'));
});

Deno.test("json_edit: no edit when the key is absent, not an array, or the text is not an object", () => {
  assert.equal(appendToTopLevelArray('{"a": [1]}', "messages", [1]), null);
  assert.equal(
    appendToTopLevelArray('{"messages": {}}', "messages", [1]),
    null,
  );
  assert.equal(
    appendToTopLevelArray('{"messages": "[]"}', "messages", [1]),
    null,
  );
  assert.equal(
    appendToTopLevelArray('[{"messages": []}]', "messages", [1]),
    null,
  );
  assert.equal(replaceTopLevelValue('{"a": 1}', "b", 2), null);
  assert.equal(replaceTopLevelValue("[1]", "a", 2), null);
  assert.equal(topLevelSpans('"x"'), null);
});

Deno.test("json_edit: replaceTopLevelValue keeps every other byte and indents like Python", async () => {
  const { before, after } = await pythonEdit(SIDECAR_SOURCE, {
    set: {
      pending_user_message: { text: "hi", parts: [1, [2]] },
      title: "New ] title",
    },
  });
  let text = replaceTopLevelValue(before, "pending_user_message", {
    text: "hi",
    parts: [1, [2]],
  });
  assert.ok(text !== null);
  text = replaceTopLevelValue(text, "title", "New ] title");
  assert.equal(text, after);

  // Only the value's bytes change.
  const span = topLevelSpans(before)!.get("truncation_watermark")!;
  const edited = replaceTopLevelValue(before, "truncation_watermark", null);
  assert.equal(
    edited,
    before.slice(0, span.start) + "null" + before.slice(span.end),
  );
  assert.equal(before.slice(span.start, span.end), "0.0");

  // Replacing a big value (messages) with a small one.
  const cleared = replaceTopLevelValue(before, "messages", []);
  assert.ok(cleared !== null);
  const parsed = JSON.parse(cleared);
  assert.deepEqual(parsed.messages, []);
  assert.deepEqual(parsed.context_messages, [
    { role: "user", content: "messages" },
  ]);
  assert.ok(cleared.includes('"input_tokens": 12345678901234567890'));

  assert.equal(
    replaceTopLevelValue('{"a": 1, "b": 2}', "a", null),
    '{"a": null, "b": 2}',
  );
});
