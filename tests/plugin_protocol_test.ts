/**
 * The plugin protocol's finding lines: what a valid line is, and what each
 * invalid one is told.
 *
 * @module
 */

import assert from "node:assert/strict";
import { validateJson } from "../core/json/json_schema.ts";
import {
  parsePluginLine,
  PLUGIN_FINDING_SCHEMA,
} from "../core/plugins/plugin_protocol.ts";

function problems(line: string): string[] {
  const parsed = parsePluginLine(line);
  return parsed.ok ? [] : parsed.problems;
}

Deno.test("a finding line in the built-in shape is valid", () => {
  const line = {
    kind: "big_session",
    category: "info",
    severity: "warning",
    sessionId: "abc",
    paths: ["abc.json"],
    message: "abc.json holds 9000 messages.",
    evidence: { liveMessages: 9000, limit: 5000 },
    key: "k",
  };
  assert.deepEqual(parsePluginLine(JSON.stringify(line)), {
    ok: true,
    finding: line,
  });
  assert.ok(
    parsePluginLine('{"kind":"x","category":"unsafe_to_repair","message":"m"}')
      .ok,
    "kind, category and message are enough",
  );
});

Deno.test("invalid finding lines name what is wrong", () => {
  assert.match(problems("{oops")[0], /^not JSON/);
  assert.deepEqual(problems("[1]"), ["$: must be of type object"]);
  assert.deepEqual(problems('{"kind":"x","category":"info"}'), [
    '$: missing required property "message"',
  ]);
  assert.deepEqual(
    problems('{"kind":"Big Session","category":"info","message":"m"}'),
    ["$.kind: must match ^[a-z0-9]+(_[a-z0-9]+)*$"],
  );
  assert.deepEqual(
    problems('{"kind":"x","category":"info","message":""}'),
    ["$.message: must have at least 1 characters"],
  );
  assert.deepEqual(
    problems('{"kind":"x","category":"info","message":"m","id":"abc"}'),
    ["$.id: is not allowed"],
    "hermes-fsck makes the id",
  );
  assert.deepEqual(
    problems(
      '{"kind":"x","category":"info","message":"m","evidence":{"bakMessages":-2}}',
    ),
    ["$.evidence.bakMessages: -2 is below the minimum -1"],
    "evidence follows the report schema",
  );
  assert.deepEqual(
    problems('{"kind":"x","category":"repairable","message":"m"}'),
    [
      '$.category: must be one of "unsafe_to_repair", "info"',
      "plugins report and never repair: use category unsafe_to_repair or info, and no repair",
    ],
  );
});

Deno.test("the schema file is the validator's schema", () => {
  assert.deepEqual(validateJson(PLUGIN_FINDING_SCHEMA, {}), [
    '$: missing required property "kind"',
    '$: missing required property "category"',
    '$: missing required property "message"',
  ]);
});
