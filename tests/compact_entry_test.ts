/**
 * Tests of core/store/compact_entry.ts against today's server's
 * `Session.compact()` and `_last_message_timestamp()` (exp-v0.52.262):
 * every expected value below is what that code computes for the same
 * sidecar (tests/index_upstream_test.ts compares with the server's own
 * code where ../shared/upstream is present).
 */

import assert from "node:assert/strict";
import {
  compactEntry,
  pyTruthy,
  sortIndexEntries,
} from "../core/store/compact_entry.ts";
import { summarizeSidecar } from "../core/store/sidecar_summary.ts";
import { makeSidecar, type Message } from "./fixtures.ts";

const NOW = 1779000000;

function entryOf(
  sidecar: Record<string, unknown>,
  fileId = "abc",
): Record<string, unknown> {
  return compactEntry(fileId, summarizeSidecar(sidecar), NOW);
}

function withMessages(
  messages: unknown[],
  fields: Record<string, unknown> = {},
): Record<string, unknown> {
  return makeSidecar("abc", { ...fields, messages: messages as Message[] });
}

/** The keys of `compact()` in its order, before the optional ones. */
const BASE_KEYS = [
  "session_id",
  "title",
  "workspace",
  "model",
  "model_provider",
  "message_count",
  "created_at",
  "updated_at",
  "last_message_at",
  "pinned",
  "archived",
  "project_id",
  "profile",
  "input_tokens",
  "output_tokens",
  "estimated_cost",
  "cache_read_tokens",
  "cache_write_tokens",
  "cache_hit_percent",
  "personality",
  "compression_anchor_visible_idx",
  "compression_anchor_message_key",
  "compression_anchor_summary",
  "pre_compression_snapshot",
  "context_engine",
  "compression_anchor_engine",
  "compression_anchor_mode",
  "compression_anchor_details",
  "context_engine_state",
  "context_length",
  "threshold_tokens",
  "last_prompt_tokens",
  "post_compression_context_tokens_estimate",
  "compression_recovery",
  "recommended_recovery_action",
  "gateway_routing",
  "gateway_routing_history",
  "manual_title",
];
const TAIL_KEYS = [
  "user_message_count",
  "active_stream_id",
  "pending_user_message",
  "has_pending_user_message",
  "is_cli_session",
  "source_tag",
  "raw_source",
  "session_source",
  "source_label",
  "read_only",
  "enabled_toolsets",
  "composer_draft",
  "process_wakeup_pause",
  "share_token",
  "share_created_at",
  "is_streaming",
];
const WORKTREE_KEYS = [
  "worktree_path",
  "worktree_branch",
  "worktree_repo_root",
  "worktree_created_at",
];

Deno.test("compact_entry: a plain sidecar gives the server's entry, in its key order", () => {
  const sidecar = makeSidecar("abc", { messages: 3 });
  const entry = entryOf(sidecar);
  assert.deepEqual(Object.keys(entry), [
    ...BASE_KEYS,
    "created_workspace",
    ...TAIL_KEYS,
  ]);
  assert.deepEqual(entry, {
    session_id: "abc",
    title: "Session abc",
    workspace: "/work/project",
    model: "test-model",
    model_provider: null,
    message_count: 3,
    created_at: 1778450000.5,
    updated_at: 1778458000.5,
    last_message_at: 1778458002,
    pinned: false,
    archived: false,
    project_id: null,
    profile: null,
    input_tokens: 0,
    output_tokens: 0,
    estimated_cost: null,
    cache_read_tokens: 0,
    cache_write_tokens: 0,
    cache_hit_percent: null,
    personality: null,
    compression_anchor_visible_idx: null,
    compression_anchor_message_key: null,
    compression_anchor_summary: null,
    pre_compression_snapshot: false,
    context_engine: null,
    compression_anchor_engine: null,
    compression_anchor_mode: null,
    compression_anchor_details: {},
    context_engine_state: {},
    context_length: null,
    threshold_tokens: null,
    last_prompt_tokens: null,
    post_compression_context_tokens_estimate: null,
    compression_recovery: {},
    recommended_recovery_action: null,
    gateway_routing: null,
    gateway_routing_history: [],
    manual_title: false,
    created_workspace: "/work/project",
    user_message_count: 2,
    active_stream_id: null,
    pending_user_message: null,
    has_pending_user_message: false,
    is_cli_session: false,
    source_tag: null,
    raw_source: null,
    session_source: null,
    source_label: null,
    read_only: false,
    enabled_toolsets: null,
    composer_draft: {},
    process_wakeup_pause: {},
    share_token: null,
    share_created_at: null,
    is_streaming: false,
  });
});

Deno.test("compact_entry: key order with parent_session_id and worktree_* present", () => {
  const entry = entryOf(makeSidecar("abc", {
    parent_session_id: "parent1",
    worktree_path: "/work/wt",
    worktree_branch: "feature",
    worktree_repo_root: "/work/repo",
    worktree_created_at: 1778450001,
  }));
  assert.deepEqual(Object.keys(entry), [
    ...BASE_KEYS,
    "parent_session_id",
    "created_workspace",
    ...WORKTREE_KEYS,
    ...TAIL_KEYS,
  ]);
  assert.equal(entry.parent_session_id, "parent1");
  assert.equal(entry.worktree_path, "/work/wt");
  assert.equal(entry.worktree_branch, "feature");
  assert.equal(entry.worktree_repo_root, "/work/repo");
  assert.equal(entry.worktree_created_at, 1778450001);
});

Deno.test("compact_entry: parent_session_id only when set", () => {
  for (const value of [null, "", undefined]) {
    const fields = value === undefined ? {} : { parent_session_id: value };
    const entry = entryOf(makeSidecar("abc", fields));
    assert.equal("parent_session_id" in entry, false, `for ${value}`);
  }
  assert.equal(
    entryOf(makeSidecar("abc", { parent_session_id: "p" })).parent_session_id,
    "p",
  );
});

Deno.test("compact_entry: worktree_* only when worktree_path is set", () => {
  for (const path of [null, ""]) {
    const entry = entryOf(makeSidecar("abc", {
      worktree_path: path,
      worktree_branch: "b",
      worktree_repo_root: "/r",
      worktree_created_at: 5,
    }));
    for (const key of WORKTREE_KEYS) {
      assert.equal(key in entry, false, `${key} with worktree_path ${path}`);
    }
  }
  // Set path, the others missing or falsy: all four keys, None for them.
  const entry = entryOf(makeSidecar("abc", {
    worktree_path: "/wt",
    worktree_branch: "",
  }));
  assert.deepEqual(
    WORKTREE_KEYS.map((k) => entry[k]),
    ["/wt", null, null, null],
  );
  // str(worktree_branch) of a non-string.
  assert.equal(
    entryOf(makeSidecar("abc", { worktree_path: "/wt", worktree_branch: 7 }))
      .worktree_branch,
    "7",
  );
});

Deno.test("compact_entry: message_count is len(messages), at least 1 with a pending message", () => {
  assert.equal(entryOf(withMessages([])).message_count, 0);
  assert.equal(
    entryOf(withMessages([], { pending_user_message: "hi" })).message_count,
    1,
  );
  const three = makeSidecar("abc", {
    messages: 3,
    pending_user_message: "hi",
  });
  assert.equal(entryOf(three).message_count, 3);
  // `messages or []`: null or a missing list is empty.
  assert.equal(entryOf({ session_id: "abc", messages: null }).message_count, 0);
  assert.equal(entryOf({ session_id: "abc" }).message_count, 0);
  // bool("") is False: an empty pending message is not pending.
  const empty = entryOf(withMessages([], { pending_user_message: "" }));
  assert.equal(empty.message_count, 0);
  assert.equal(empty.has_pending_user_message, false);
  const pending = entryOf(withMessages([], { pending_user_message: "hi" }));
  assert.equal(pending.has_pending_user_message, true);
  assert.equal(pending.pending_user_message, "hi");
});

Deno.test("compact_entry: last_message_at skips tool messages", () => {
  const entry = entryOf(withMessages([
    { role: "user", content: "a", timestamp: 100 },
    { role: "assistant", content: "b", timestamp: 200 },
    { role: "tool", content: "c", timestamp: 300 },
    { role: "tool", content: "d", timestamp: 400 },
  ]));
  assert.equal(entry.last_message_at, 200);
  // Only exactly "tool" is skipped (the server compares with ==).
  const upper = entryOf(withMessages([
    { role: "user", content: "a", timestamp: 100 },
    { role: "Tool", content: "c", timestamp: 300 },
  ]));
  assert.equal(upper.last_message_at, 300);
});

Deno.test("compact_entry: last_message_at prefers _ts to timestamp", () => {
  const entry = entryOf(withMessages([
    { role: "user", content: "a", timestamp: 100 },
    { role: "assistant", content: "b", _ts: 250, timestamp: 200 },
  ]));
  assert.equal(entry.last_message_at, 250);
  // `_ts or timestamp`: a zero _ts falls through to timestamp.
  const zero = entryOf(withMessages([
    { role: "assistant", content: "b", _ts: 0, timestamp: 200 },
  ]));
  assert.equal(zero.last_message_at, 200);
  // A truthy but unparsable _ts does not fall through: the message is skipped.
  const bad = entryOf(withMessages([
    { role: "user", content: "a", timestamp: 100 },
    { role: "assistant", content: "b", _ts: "soon", timestamp: 200 },
  ]));
  assert.equal(bad.last_message_at, 100);
});

Deno.test("compact_entry: Python-falsy _ts values ([], {}) fall through to timestamp", () => {
  // `message.get('_ts') or message.get('timestamp')`: [] and {} are falsy
  // in Python, so the server reads the timestamp (200), not the older 100.
  for (const ts of [[], {}]) {
    const entry = entryOf(withMessages([
      { role: "user", content: "a", timestamp: 100 },
      { role: "assistant", content: "b", _ts: ts, timestamp: 200 },
    ]));
    assert.equal(entry.last_message_at, 200, `with _ts ${JSON.stringify(ts)}`);
  }
});

Deno.test("compact_entry: last_message_at reads numeric strings as float() does", () => {
  assert.equal(
    entryOf(withMessages([{ role: "user", timestamp: "1778458282.1" }]))
      .last_message_at,
    1778458282.1,
  );
  assert.equal(
    entryOf(withMessages([{ role: "user", timestamp: " 12.5 " }]))
      .last_message_at,
    12.5,
  );
  assert.equal(
    entryOf(withMessages([{ role: "user", timestamp: "1e3" }])).last_message_at,
    1000,
  );
  // float("0") is 0.0, which is falsy: the message before is used.
  assert.equal(
    entryOf(withMessages([
      { role: "user", timestamp: 7 },
      { role: "assistant", timestamp: "0" },
    ])).last_message_at,
    7,
  );
  // Non-dict messages are skipped.
  assert.equal(
    entryOf(withMessages([{ role: "user", timestamp: 7 }, "junk", 5, null]))
      .last_message_at,
    7,
  );
});

Deno.test("compact_entry: last_message_at falls back to updated_at, then now", () => {
  const entry = entryOf(withMessages([
    { role: "user", content: "no time" },
    { role: "tool", timestamp: 999 },
  ], { updated_at: 1778458555.5 }));
  assert.equal(entry.last_message_at, 1778458555.5);
  const none = entryOf({ session_id: "abc", messages: [] });
  assert.equal(none.updated_at, NOW);
  assert.equal(none.created_at, NOW);
  assert.equal(none.last_message_at, NOW);
  // `updated_at or time.time()`: 0 is replaced.
  const zero = entryOf(withMessages([], { updated_at: 0, created_at: 0 }));
  assert.equal(zero.updated_at, NOW);
  assert.equal(zero.created_at, NOW);
});

Deno.test("compact_entry: last_message_at is pending_started_at while a message is pending", () => {
  const messages = [{ role: "user", content: "a", timestamp: 100 }];
  const pending = entryOf(withMessages(messages, {
    pending_user_message: "next",
    pending_started_at: 1778459000,
  }));
  assert.equal(pending.last_message_at, 1778459000);
  // Not pending: pending_started_at is ignored.
  const stale = entryOf(withMessages(messages, {
    pending_user_message: null,
    pending_started_at: 1778459000,
  }));
  assert.equal(stale.last_message_at, 100);
  // Pending without a start time: the messages decide.
  const noStart = entryOf(withMessages(messages, {
    pending_user_message: "next",
    pending_started_at: null,
  }));
  assert.equal(noStart.last_message_at, 100);
});

Deno.test("compact_entry: pinned, archived, is_cli_session and read_only use Python truthiness", () => {
  const cases: [unknown, boolean][] = [
    [true, true],
    [false, false],
    [1, true],
    [0, false],
    ["false", true],
    ["", false],
    [[], false],
    [[0], true],
    [{}, false],
    [{ a: 1 }, true],
    [null, false],
    [0.0, false],
    [-1, true],
  ];
  for (const [value, expected] of cases) {
    const entry = entryOf(makeSidecar("abc", {
      pinned: value,
      archived: value,
      is_cli_session: value,
      read_only: value,
    }));
    for (const key of ["pinned", "archived", "is_cli_session", "read_only"]) {
      assert.equal(entry[key], expected, `${key} = ${JSON.stringify(value)}`);
    }
    assert.equal(pyTruthy(value), expected);
  }
  const missing = entryOf({ session_id: "abc", messages: [] });
  assert.equal(missing.pinned, false);
  assert.equal(missing.read_only, false);
});

Deno.test("compact_entry: model_provider is stripped and lower-cased, None when falsy", () => {
  const provider = (value: unknown) =>
    entryOf(makeSidecar("abc", { model_provider: value })).model_provider;
  assert.equal(provider("  OpenRouter \n"), "openrouter");
  assert.equal(provider("ANTHROPIC"), "anthropic");
  assert.equal(provider(""), null);
  assert.equal(provider(null), null);
  assert.equal(provider(0), null);
  assert.equal(provider(42), "42");
});

Deno.test("compact_entry: user_message_count counts role exactly user, as today's server", () => {
  const entry = entryOf(withMessages([
    { role: "user" },
    { role: " USER " },
    { role: "User" },
    { role: "assistant" },
    { role: "tool" },
    { content: "no role" },
    "user",
    null,
  ]));
  assert.equal(entry.user_message_count, 1);
  assert.equal(entry.message_count, 8);
});

Deno.test("compact_entry: is_streaming is false on disk even while a stream id is set", () => {
  const entry = entryOf(makeSidecar("abc", { active_stream_id: "stream-1" }));
  assert.equal(entry.is_streaming, false);
  assert.equal(entry.active_stream_id, "stream-1");
});

Deno.test("compact_entry: defaults and type guards of the Session constructor", () => {
  const entry = entryOf({
    session_id: "abc",
    messages: [],
    project_id: "",
    input_tokens: null,
    output_tokens: 0,
    gateway_routing: ["not", "a", "dict"],
    gateway_routing_history: { not: "a list" },
    composer_draft: ["x"],
    enabled_toolsets: ["web"],
  });
  assert.equal(entry.title, "Untitled");
  assert.equal(entry.project_id, null);
  assert.equal(entry.input_tokens, 0);
  assert.equal(entry.output_tokens, 0);
  assert.equal(entry.gateway_routing, null);
  assert.deepEqual(entry.gateway_routing_history, []);
  assert.deepEqual(entry.composer_draft, {});
  assert.deepEqual(entry.enabled_toolsets, ["web"]);
  // A title present as null stays None (the default applies only when absent).
  assert.equal(
    entryOf({ session_id: "abc", title: null, messages: [] }).title,
    null,
  );
  const kept = entryOf(makeSidecar("abc", {
    gateway_routing: { route: "x" },
    gateway_routing_history: [{ route: "y" }],
    composer_draft: { text: "draft" },
    input_tokens: 12,
  }));
  assert.deepEqual(kept.gateway_routing, { route: "x" });
  assert.deepEqual(kept.gateway_routing_history, [{ route: "y" }]);
  assert.deepEqual(kept.composer_draft, { text: "draft" });
  assert.equal(kept.input_tokens, 12);
  // session_id from the file's content; the file name when it has none.
  assert.equal(entryOf({ messages: [] }, "fromname").session_id, "fromname");
  assert.equal(
    entryOf({ session_id: "inner", messages: [] }, "outer").session_id,
    "inner",
  );
});

Deno.test("compact_entry: sortIndexEntries orders by updated_at, newest first, stable among equals", () => {
  const entries = [
    { session_id: "a", updated_at: 10 },
    { session_id: "b", updated_at: 30 },
    { session_id: "c", updated_at: 10 },
    { session_id: "d", updated_at: 20 },
    { session_id: "e", updated_at: 30 },
    { session_id: "f" },
    { session_id: "g", updated_at: 10 },
  ];
  const sorted = sortIndexEntries(entries);
  assert.deepEqual(sorted.map((e) => e.session_id), [
    "b",
    "e",
    "d",
    "a",
    "c",
    "g",
    "f",
  ]);
  // The input is not reordered.
  assert.equal(entries[0].session_id, "a");
  // Equal keys keep their given order whichever way they come in.
  const reversed = sortIndexEntries([...entries].reverse());
  assert.deepEqual(reversed.map((e) => e.session_id), [
    "e",
    "b",
    "d",
    "g",
    "c",
    "a",
    "f",
  ]);
  // Floats that differ in the last places still order.
  const close = sortIndexEntries([
    { session_id: "x", updated_at: 1778458282.1 },
    { session_id: "y", updated_at: 1778458282.2 },
  ]);
  assert.deepEqual(close.map((e) => e.session_id), ["y", "x"]);
});

Deno.test("compact_entry: the persisted message_count wins over len(messages), as int() reads it", () => {
  const count = (value: unknown) =>
    entryOf(withMessages([{ role: "user" }, { role: "assistant" }], {
      message_count: value,
    })).message_count;
  assert.equal(count(7), 7);
  assert.equal(count(0), 0);
  assert.equal(count("5"), 5);
  assert.equal(count(" 5 "), 5);
  assert.equal(count(3.9), 3);
  assert.equal(count(true), 1);
  // int() raises or gives a negative number: len(messages).
  for (const value of [null, -1, "3.5", "x", [], {}]) {
    assert.equal(count(value), 2, `for ${JSON.stringify(value)}`);
  }
  assert.equal(
    entryOf(withMessages([], { message_count: 0, pending_user_message: "p" }))
      .message_count,
    1,
  );
});

Deno.test("compact_entry: last_message_at passes over an assistant _partial marker without text", () => {
  const at = (last: Record<string, unknown>) =>
    entryOf(withMessages([
      { role: "user", content: "q", timestamp: 10 },
      { role: "assistant", _partial: true, timestamp: 20, ...last },
    ])).last_message_at;
  assert.equal(at({ content: "" }), 10);
  assert.equal(at({ content: "  \n" }), 10);
  assert.equal(at({ content: [{ type: "tool_use" }] }), 10);
  assert.equal(at({ content: [{ type: "text", text: " " }] }), 10);
  assert.equal(at({ content: null }), 10);
  assert.equal(at({ content: "partial answer" }), 20);
  assert.equal(at({ content: [{ type: "text", content: "x" }] }), 20);
  assert.equal(at({ content: ["x"] }), 20);
  assert.equal(at({ content: "", _partial: false }), 20);
});

Deno.test("compact_entry: cache_hit_percent, recovery keys and share_token as today's server", () => {
  const entry = entryOf(makeSidecar("abc", {
    input_tokens: 200,
    cache_read_tokens: 5,
    compression_recovery_action: "  retry ",
    share_token: " tok ",
    post_compression_context_tokens_estimate: "0",
    compression_anchor_details: ["not a dict"],
  }));
  assert.equal(entry.cache_hit_percent, 2); // round(2.5) is 2 in Python
  assert.equal(entry.compression_recovery_source_session_id, null);
  assert.equal(entry.compression_recovery_action, "retry");
  assert.equal(entry.share_token, "tok");
  assert.equal(entry.post_compression_context_tokens_estimate, null);
  assert.deepEqual(entry.compression_anchor_details, {});
  const none = entryOf(makeSidecar("abc", {
    compression_recovery_action: " ",
  }));
  assert.equal("compression_recovery_action" in none, false);
  assert.equal(
    entryOf(makeSidecar("abc", { input_tokens: 1, cache_read_tokens: 9 }))
      .cache_hit_percent,
    100,
  );
});
