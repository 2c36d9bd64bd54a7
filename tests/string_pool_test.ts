/**
 * Tests of core/scan/string_pool.ts: equal short values share one copy, and
 * nothing is pooled that could change what a check sees.
 */

import assert from "node:assert/strict";
import { POOLED_LENGTH_LIMIT, StringPool } from "../core/scan/string_pool.ts";

Deno.test("string_pool: equal short strings and small lists share one copy", () => {
  const pool = new StringPool();
  // Parsed separately, as two sidecars would be: equal but not one object.
  const a = JSON.parse('{"model": "test-model", "tools": ["files", "web"]}');
  const b = JSON.parse('{"model": "test-model", "tools": ["files", "web"]}');
  assert.notEqual(a.tools, b.tools);
  pool.record(a);
  pool.record(b);
  assert.equal(a.tools, b.tools);
  assert.deepEqual(b, { model: "test-model", tools: ["files", "web"] });
  assert.equal(pool.value({}), pool.value({}));
  assert.equal(pool.string("abc"), "abc");
});

Deno.test("string_pool: long values, numbers and lists that JSON cannot tell apart stay as they are", () => {
  const pool = new StringPool();
  const long = ["x".repeat(POOLED_LENGTH_LIMIT + 1)];
  assert.notEqual(pool.value(long), pool.value([...long]));
  // JSON writes NaN and -0 as null and 0: never shared with those.
  const withNaN = [NaN];
  const withNull = [null];
  assert.equal(pool.value(withNull), withNull);
  assert.equal(pool.value(withNaN), withNaN);
  assert.notEqual(pool.value([null]), withNaN);
  assert.equal(pool.value([-0]).length, 1);
  assert.ok(Object.is(pool.value(-0), -0));
  const nested = [{ a: 1 }];
  assert.equal(pool.value(nested), nested);
  assert.notEqual(pool.value([{ a: 1 }]), nested);
});

Deno.test("string_pool: a record's own __proto__ key is left alone", () => {
  const pool = new StringPool();
  const record = JSON.parse('{"__proto__": {"polluted": true}, "title": "t"}');
  pool.record(record);
  assert.ok(Object.hasOwn(record, "__proto__"));
  assert.equal(Object.getPrototypeOf(record), Object.prototype);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(record.title, "t");
});
