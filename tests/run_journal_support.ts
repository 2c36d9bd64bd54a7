/**
 * Run journal lines for tests, in the shape the server's `append_run_event`
 * writes (STORE_FORMAT.md §2): for fixtures that must not need python3.
 *
 * @example
 * ```ts
 * import { runEvent } from "./run_journal_support.ts";
 * const line = runEvent("abc", "r1", 1, "token", { text: "Hi" }) + "\n";
 * ```
 * @module
 */

/**
 * One run journal event as the server writes it; its terminal state is
 * the one the server gives the event's name (and `payload.type`).
 *
 * @example
 * ```ts
 * JSON.parse(runEvent("s", "r", 2, "done")).terminal_state; // "completed"
 * ```
 */
export function runEvent(
  sid: string,
  rid: string,
  seq: number,
  name: string,
  payload: Record<string, unknown> = {},
): string {
  const type = String(payload.type ?? "");
  const terminalState = name === "done" || name === "stream_end"
    ? "completed"
    : name === "cancel"
    ? "interrupted-by-user"
    : name === "apperror" || name === "error"
    ? (type === "interrupted" ? "interrupted-by-crash" : "errored")
    : null;
  return JSON.stringify({
    version: 1,
    event_id: `${rid}:${seq}`,
    seq,
    run_id: rid,
    session_id: sid,
    event: name,
    type: name,
    created_at: 1778458000 + seq,
    terminal: terminalState !== null,
    terminal_state: terminalState,
    payload,
  });
}
