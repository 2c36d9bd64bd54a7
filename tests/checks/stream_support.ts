/**
 * Stream state for the per-check tests of the stale-stream checks: a
 * sidecar a server left streaming, and its run journal.
 *
 * @example
 * ```ts
 * import { TestStore } from "../fixtures.ts";
 * const store = await TestStore.create();
 * import { streamingSidecar, writeRun } from "./stream_support.ts";
 * await streamingSidecar(store, "s1", "run1");
 * await writeRun(store, "s1", "run1", [["token", { text: "Hi" }]]);
 * ```
 * @module
 */

import type { TestStore } from "../fixtures.ts";
import { runEvent } from "../run_journal_support.ts";

/**
 * An hour ago, in the server's seconds: past the 30-second grace.
 *
 * @example
 * ```ts
 * import { TestStore } from "../fixtures.ts";
 * const store = await TestStore.create();
 * await streamingSidecar(store, "s1", "run1", { pending_started_at: anHourAgo() });
 * ```
 */
export function anHourAgo(): number {
  return Math.round(Date.now() / 1000 - 3600) + 0.25;
}

/**
 * Writes a sidecar left streaming run `rid` with a pending prompt.
 *
 * @example
 * ```ts
 * import { TestStore } from "../fixtures.ts";
 * const store = await TestStore.create();
 * await streamingSidecar(store, "s1", "run1", { pre_compression_snapshot: true });
 * ```
 */
export async function streamingSidecar(
  store: TestStore,
  sid: string,
  rid: string,
  extra: Record<string, unknown> = {},
): Promise<void> {
  await store.sidecar(sid, {
    messages: 2,
    active_stream_id: rid,
    pending_user_message: "what is the answer?",
    pending_started_at: anHourAgo(),
    ...extra,
  });
}

/**
 * Writes `_run_journal/<sid>/<rid>.jsonl` with these events (and `tail`
 * raw after them); returns its path in the session dir.
 *
 * @example
 * ```ts
 * import { TestStore } from "../fixtures.ts";
 * const store = await TestStore.create();
 * await writeRun(store, "s1", "run1", [["done"]]);
 * ```
 */
export async function writeRun(
  store: TestStore,
  sid: string,
  rid: string,
  events: [string, Record<string, unknown>?][],
  tail = "",
): Promise<string> {
  const name = `_run_journal/${sid}/${rid}.jsonl`;
  const lines = events.map(([event, payload], i) =>
    runEvent(sid, rid, i + 1, event, payload) + "\n"
  );
  await store.writeRaw(name, lines.join("") + tail);
  return name;
}
