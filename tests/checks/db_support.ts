/**
 * state.db rows for the state.db tests: a webui session row with `count`
 * messages, and a retried session as state.db and its sidecar hold it.
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

/**
 * A retried session (a retry, undo or edit of turn 2, then the user sent
 * again): the sidecar holds the better answer only, state.db keeps the
 * first, poorer one too, as session `retried`.
 *
 * @example
 * ```ts
 * import { TestStore } from "../fixtures.ts";
 * const store = await TestStore.create();
 * const { sidecar, state } = retriedSession();
 * await store.sidecar("retried", { messages: sidecar });
 * store.stateDb({ sessions: [{ id: "retried", source: "webui", title: "t" }], messages: state });
 * ```
 */
export function retriedSession(): {
  sidecar: Record<string, unknown>[];
  state: MessageRow[];
} {
  const m = (role: string, content: string, timestamp: number) => ({
    role,
    content,
    timestamp,
  });
  const sidecar = [
    m("user", "first question", 1778458000),
    m("assistant", "first answer", 1778458001),
    m("user", "second question", 1778458010),
    m("assistant", "a better second answer", 1778458011),
  ];
  const state = [
    m("user", "first question", 1778458000.2),
    m("assistant", "first answer", 1778458001),
    m("user", "second question", 1778458002.5),
    m("assistant", "a poor second answer", 1778458003),
    m("user", "second question", 1778458010.3),
    m("assistant", "a better second answer", 1778458011),
  ].map((row, i) => ({ id: i + 1, session_id: "retried", ...row }));
  return { sidecar, state };
}
