/**
 * The delete tombstone is read as today's server reads it
 * (STORE_FORMAT.md "Tombstones"): version 1 after Python's `int()`, a list
 * of ids each `str(id).strip()`; another shape is not valid.
 *
 * @module
 */

import assert from "node:assert/strict";
import { tombstoneSummary } from "../core/store/tombstone.ts";

Deno.test("tombstone: ids as the server reads them, numbers and padding included", () => {
  const read = tombstoneSummary({
    version: 1,
    ids: [" abc ", 123, true, "", 0, null, false, "x-Y_9"],
  });
  assert.equal(read.valid, true);
  assert.deepEqual([...read.ids].sort(), ["123", "True", "abc", "x-Y_9"]);
});

Deno.test("tombstone: version 1 after int(): '1', 1.5 and true count, 2, '1.0' and none do not", () => {
  for (const version of [1, "1", " 1 ", 1.5, true, "+1"]) {
    assert.equal(tombstoneSummary({ version, ids: ["a"] }).valid, true);
  }
  for (const version of [2, 0, "1.0", "one", null, [1]]) {
    const read = tombstoneSummary({ version, ids: ["a"] });
    assert.equal(read.valid, false, `version ${JSON.stringify(version)}`);
    assert.equal(read.ids.size, 0);
  }
  assert.equal(tombstoneSummary({ ids: ["a"] }).valid, false);
  assert.match(tombstoneSummary({ version: 2, ids: [] }).detail!, /version 2/);
});

Deno.test("tombstone: a bare list or non-list ids is not the server's shape", () => {
  assert.equal(tombstoneSummary(["a"]).valid, false);
  assert.equal(tombstoneSummary({ version: 1, ids: "a" }).valid, false);
});
