/**
 * state.db rows for the per-check tests: a webui session row with `count`
 * messages.
 *
 * @example
 * ```ts
 * import { TestStore } from "../fixtures.ts";
 * const store = await TestStore.create();
 * import { webuiRows } from "./db_support.ts";
 * store.stateDb(webuiRows({ abc: 4 }));
 * ```
 * @module
 */

import type { MessageRow, SessionRow } from "../fixtures.ts";

/**
 * Session and message rows: a `webui` session per id with that many
 * messages, alternating user and assistant.
 *
 * @example
 * ```ts
 * import { TestStore } from "../fixtures.ts";
 * const store = await TestStore.create();
 * store.stateDb(webuiRows({ abc: 4, def: 0 }));
 * ```
 */
export function webuiRows(
  counts: Record<string, number>,
  source = "webui",
): { sessions: SessionRow[]; messages: MessageRow[] } {
  const sessions: SessionRow[] = [];
  const messages: MessageRow[] = [];
  let next = 1;
  for (const [id, count] of Object.entries(counts)) {
    sessions.push({ id, source, title: `Session ${id}` });
    for (let i = 0; i < count; i++) {
      messages.push({
        id: next++,
        session_id: id,
        role: i % 2 === 0 ? "user" : "assistant",
        content: `message ${i}`,
        timestamp: 1778458000 + i,
      });
    }
  }
  return { sessions, messages };
}
