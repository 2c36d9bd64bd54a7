/**
 * Turn journal events for the per-check tests, as the server appends them.
 *
 * @example
 * ```ts
 * import { TestStore } from "../fixtures.ts";
 * const store = await TestStore.create();
 * import { finishedTurn } from "./journal_support.ts";
 * await store.journal("s1", finishedTurn("s1", "t1"));
 * ```
 * @module
 */

/**
 * One turn journal event.
 *
 * @example
 * ```ts
 * turnEvent("s1", "completed", "t1", 101);
 * ```
 */
export function turnEvent(
  sid: string,
  event: string,
  turnId: string,
  createdAt = 100,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    version: 1,
    event,
    turn_id: turnId,
    session_id: sid,
    created_at: createdAt,
    ...extra,
  };
}

/**
 * A turn submitted with `content` that never ended.
 *
 * @example
 * ```ts
 * import { TestStore } from "../fixtures.ts";
 * const store = await TestStore.create();
 * await store.journal("s1", [submitted("s1", "t1", "hello?")]);
 * ```
 */
export function submitted(
  sid: string,
  turnId: string,
  content: string,
  createdAt = 100,
): Record<string, unknown> {
  return turnEvent(sid, "submitted", turnId, createdAt, {
    role: "user",
    content,
    attachments: [],
  });
}

/**
 * A finished turn: submitted (with the sidecar's first message), then
 * completed.
 *
 * @example
 * ```ts
 * import { TestStore } from "../fixtures.ts";
 * const store = await TestStore.create();
 * await store.journal("s1", finishedTurn("s1", "t1"));
 * ```
 */
export function finishedTurn(
  sid: string,
  turnId: string,
  at = 100,
): Record<string, unknown>[] {
  return [
    submitted(sid, turnId, "message 0", at),
    turnEvent(sid, "completed", turnId, at + 1),
  ];
}
