/**
 * Tests of core/scan/index_scan.ts: the index summarized an entry at a time is
 * exactly what parsing each entry whole gives, on hand-made edge cases and
 * on seeded random indexes; an index that is not a valid list keeps its
 * exact problem.
 */

import assert from "node:assert/strict";
import { fileConsumer } from "../core/io/file_read.ts";
import {
  INDEX_ENTRY_FIELDS,
  summarizeIndexBytes,
  summarizeIndexFile,
} from "../core/scan/index_scan.ts";
import { StringPool } from "../core/scan/string_pool.ts";

const encoder = new TextEncoder();

/** Parse whole, keep the entries' ids and compared fields. */
function plain(text: string) {
  const value = JSON.parse(text) as unknown[];
  const entries: unknown[] = [];
  const badEntries: number[] = [];
  value.forEach((entry, position) => {
    const object = entry as Record<string, unknown>;
    if (
      typeof entry === "object" && entry !== null && !Array.isArray(entry) &&
      typeof object.session_id === "string"
    ) {
      const kept: Record<string, unknown> = {};
      for (const field of INDEX_ENTRY_FIELDS) {
        if (Object.hasOwn(object, field)) kept[field] = object[field];
      }
      entries.push({ sessionId: object.session_id, entry: kept, position });
    } else badEntries.push(position);
  });
  return { ok: true, value: { shape: "list", entries, badEntries } };
}

/** The index read both ways, walked a window at a time and parsed whole. */
const WAYS = [{ parseWholeUpTo: 0 }, { parseWholeUpTo: Infinity }];

function same(text: string): void {
  for (const way of WAYS) {
    assert.deepEqual(
      summarizeIndexBytes(encoder.encode(text), {
        pool: new StringPool(),
        ...way,
      }),
      plain(text),
      `${text} ${JSON.stringify(way)}`,
    );
  }
}

Deno.test("index_scan: entries read one at a time equal entries parsed whole", () => {
  const texts = [
    "[]",
    " [ ] \n",
    '[{"session_id": "a", "title": "T", "model": "m", "message_count": 3}]',
    '[{"session_id": "a", "updated_at": 1.5, "last_message_at": null}]',
    '[{"title": "x", "session_id": "a", "title": "y"}]',
    '[{"session_id": "a", "session_id": 5}, {"session_id": 5, "session_id": "b"}]',
    '[{"\\u0074itle": "esc", "session_\\u0069d": "c", "message\\u005fcount": 2}]',
    '[{"__proto__": {"title": "p"}, "session_id": "d"}]',
    '[1, "x", null, [], {}, {"session_id": null}, {"session_id": ["a"]}]',
    '[{"session_id": "é😀", "title": "数据 \\n \\" ok", "extra": {"deep": [1, 2]}}]',
    '[{"session_id": "e", "title": {"nested": ["t"]}, "updated_at": "1778458000.5"}]',
    '[{"session_id": "f", "message_count": -0, "updated_at": 1e400}]',
  ];
  for (const text of texts) same(text);
});

Deno.test("index_scan: seeded random indexes", () => {
  let seed = 11;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const values = [null, true, 0, -1.5, "", "t", "é", [], {}, [1, "a"], {
    a: null,
  }];
  const pick = () => values[Math.floor(random() * values.length)];
  for (let n = 0; n < 200; n++) {
    const entries = [];
    for (let i = 0; i < 1 + Math.floor(random() * 6); i++) {
      const entry: Record<string, unknown> = {};
      if (random() < 0.9) entry.session_id = random() < 0.9 ? `s${i}` : pick();
      for (const field of [...INDEX_ENTRY_FIELDS, "model", "pinned"]) {
        if (random() < 0.6) entry[field] = pick();
      }
      entries.push(random() < 0.95 ? entry : pick());
    }
    same(JSON.stringify(entries, null, random() < 0.5 ? 0 : 2));
  }
});

Deno.test("index_scan: an index that is not a valid list is parsed whole, for its exact shape or problem", () => {
  const pool = new StringPool();
  // Walked: a small file would be parsed whole anyway.
  const read = (text: string) =>
    summarizeIndexBytes(encoder.encode(text), { pool, parseWholeUpTo: 0 });
  const object = read('{"session_id": "a"}');
  assert.ok(object.ok && object.value.shape === "object");
  const scalar = read("7");
  assert.ok(scalar.ok && scalar.value.shape === "scalar");
  // NaN is Python's json.dumps spelling: the whole-file parse accepts it.
  const nan = read('[{"session_id": "a", "updated_at": NaN}]');
  assert.ok(nan.ok && Number.isNaN(nan.value.entries[0].entry.updated_at));
  const torn = read('[{"session_id": "a"}, {"sess');
  assert.ok(!torn.ok);
  assert.equal(torn.problem.reason, "invalid_json");
  assert.equal(torn.problem.offset, 28); // the end, where the string is cut
  const empty = read("");
  assert.ok(!empty.ok && empty.problem.reason === "empty");
});

Deno.test("index_scan: a big index file read a window at a time equals it read whole", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const entries = Array.from({ length: 12_000 }, (_, i) => ({
      session_id: `s${i}`,
      title: `Chat ${i} — é😀`,
      message_count: i,
      updated_at: 1778458000 + i / 4,
      workspace: "/home/u/project",
      model: "m",
    }));
    const text = JSON.stringify(entries, null, 2);
    const path = `${dir}/_index.json`;
    await Deno.writeTextFile(path, text);
    let largestRead = 0;
    const readIndex = await fileConsumer((readAt, statSize, maxBytes) =>
      summarizeIndexFile(
        (into, position) => {
          largestRead = Math.max(largestRead, into.length);
          return readAt(into, position);
        },
        statSize,
        maxBytes,
        { pool: new StringPool() },
      )
    );
    const read = readIndex(path, 64 << 20);
    assert.ok(read.ok);
    // Over the size parsed whole: walked through a 64 KiB window.
    assert.ok(read.identity.size > 2 << 20, `${read.identity.size}`);
    assert.equal(largestRead, 64 << 10);
    assert.equal(read.identity.size, encoder.encode(text).length);
    assert.deepEqual({ ok: true, value: read.value }, plain(text));

    // Cut short near its end: walked to the cut, then read again whole,
    // for the problem at the exact byte.
    largestRead = 0;
    const torn = text.slice(0, text.length - 1_000);
    await Deno.writeTextFile(path, torn);
    const broken = readIndex(path, 64 << 20);
    assert.ok(!broken.ok);
    const whole = summarizeIndexBytes(encoder.encode(torn));
    assert.ok(!whole.ok);
    assert.deepEqual(broken.problem, whole.problem);
    assert.equal(broken.problem.offset, encoder.encode(torn).length);
    assert.equal(broken.identity?.size, encoder.encode(torn).length);
    assert.ok(largestRead > 64 << 10);

    // Over the limit: refused before a byte is read.
    const tooLarge = readIndex(path, 1024);
    assert.ok(!tooLarge.ok && tooLarge.problem.reason === "too_large");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
