/**
 * index-shape, per kind (tests/index_shape_test.ts goes deeper).
 * @module
 */
import { testCheck } from "../check_tester.ts";

testCheck("index-shape", {
  valid: [{
    name: "an index that parses as a list of entries",
    nearMiss: "index_unparsable",
    store: (s) => s.sidecar("abc", { messages: 2 }),
  }, {
    name: "an empty list",
    nearMiss: "index_not_list",
    store: (s) => s.index([]),
  }, {
    name: "entries with a string session_id",
    nearMiss: "index_malformed_entry",
    store: (s) => s.index([{ session_id: "abc" }]),
  }],
  invalid: [{
    name: "an index that does not parse",
    store: (s) => s.writeRaw("_index.json", "[{"),
    findings: [{
      kind: "index_unparsable",
      paths: ["_index.json"],
      category: "repairable",
    }],
  }, {
    name: "an index that is an object",
    store: (s) => s.writeRaw("_index.json", '{"sessions": []}'),
    findings: [{ kind: "index_not_list" }],
  }, {
    name: "entries without a string session_id",
    store: (s) => s.index([{ session_id: 7 }, { title: "x" }]),
    findings: [{ kind: "index_malformed_entry" }],
  }],
});
