/**
 * `recover_pending_turn`: a submitted user turn that only the journal has
 * is appended to the sidecar (marked `_recovered`), followed by the
 * assistant marker "**Previous turn did not complete.**" (`_error`); then an
 * `interrupted` event for the turn is appended to the journal so a second
 * run finds nothing. It never invents an assistant answer. The sidecar is
 * edited in place, byte for byte, except where the messages go. Only with
 * `--server-stopped`: without it a pending turn may be one a server is
 * streaming right now. All pending turns of a session are one plan: one
 * write of the sidecar and one append to the journal (an append in place,
 * under the journal's lock, never a rename: the server may hold it open).
 *
 * @example
 * ```ts
 * import { recoverPendingTurn } from "./recover_pending_turn.ts";
 * const plan = await recoverPendingTurn.plan(findingsOfOneSession, context);
 * ```
 * @module
 */

import { eventText } from "../checks/turn_journal_pending.ts";
import { parseJsonBytes } from "../core/file_read.ts";
import { appendToTopLevelArray } from "../core/json_edit.ts";
import { defineRepair } from "../core/repair.ts";
import {
  isPlainObject,
  pyStrip,
  summarizeSidecar,
} from "../core/sidecar_summary.ts";
import { journalName, sidecarName } from "../core/store_layout.ts";
import { shortText } from "../checks/shown_value.ts";
import { MAX_WRITE_DEPTH, nestedDeeperThan } from "./nesting.ts";
import {
  isTerminalEvent,
  summarizeJournal,
  type TurnState,
} from "../core/turn_journal.ts";
import type { Finding } from "../core/finding.ts";

/** The text of the assistant marker after a recovered turn. */
export const INCOMPLETE_TURN_MARKER = "**Previous turn did not complete.**";

/** The `reason` of the `interrupted` event the repair appends. */
export const RECOVERY_REASON = "recovered_by_hermes_fsck";

/** The `recover_pending_turn` repair. */
export const recoverPendingTurn = defineRepair({
  id: "recover_pending_turn",
  title: "Recover a submitted turn from the journal",
  description:
    "Appends the journal's pending user message and an error marker to the " +
    "sidecar, then closes the turn in the journal.",
  fixes: ["turn_journal_pending_turn"],
  scope: "session",
  async plan(findings, context) {
    // Without --server-stopped the check reports no pending turn as
    // repairable; this guard keeps a live turn safe from a caller that
    // plans anyway (a library user, --also-repair).
    if (!context.options.serverStopped) {
      return {
        skip: "--server-stopped was not given, so a server may still be " +
          "streaming the turn",
      };
    }
    const id = findings[0]?.sessionId;
    if (!id || findings.some((f) => f.sessionId !== id)) {
      return { skip: "the findings name no single session" };
    }
    const live = sidecarName(id);
    const journal = journalName(id);
    const liveRead = await context.read(live);
    if (!liveRead.ok) return { skip: `${live} ${liveRead.problem}` };
    if (!liveRead.bytes) {
      return {
        skip: `${live} does not exist, so there is nothing to add the turn to`,
      };
    }
    const parsed = parseJsonBytes(liveRead.bytes);
    if (
      !parsed.ok || !isPlainObject(parsed.value) ||
      !Array.isArray(parsed.value.messages)
    ) {
      return { skip: `${live} is not a session with a messages list` };
    }
    const journalRead = await context.read(journal);
    if (!journalRead.ok || !journalRead.bytes) {
      return {
        skip: `${journal} ${journalRead.ok ? "is gone" : journalRead.problem}`,
      };
    }
    if (!journalRead.expect.exists) return { skip: `${journal} is gone` };
    const turns = summarizeJournal(journalRead.bytes).turns;
    const texts =
      summarizeSidecar(parsed.value, { collectUserTexts: true }).userTexts ??
        new Set<string>();
    const nowSeconds = context.options.now / 1000;
    const messages: Record<string, unknown>[] = [];
    const events: Record<string, unknown>[] = [];
    const recovered: Finding[] = [];
    const skips: string[] = [];
    for (const finding of findings) {
      const turnId = finding.evidence.turnId;
      const turn = typeof turnId === "string" ? turns.get(turnId) : undefined;
      const planned = turn
        ? planTurn(turn, texts, nowSeconds, id, journal, live)
        : { skip: "the finding names no turn of the journal" };
      if ("skip" in planned) {
        skips.push(planned.skip);
        continue;
      }
      messages.push(...planned.messages);
      events.push(planned.event);
      recovered.push(finding);
    }
    if (recovered.length === 0) return { skip: skips[0] ?? "nothing to do" };
    const text = new TextDecoder().decode(liveRead.bytes);
    let edited: string | null;
    try {
      edited = appendToTopLevelArray(text, "messages", messages);
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      return {
        skip: `a turn in ${journal} holds a value nested too deep to write ` +
          `into ${live}; copy its message into the session by hand`,
      };
    }
    if (edited === null) {
      return { skip: `${live} has no messages array to append to` };
    }
    const check = JSON.parse(edited);
    if (
      !Array.isArray(check.messages) ||
      check.messages.length !==
        parsed.value.messages.length + messages.length
    ) {
      return { skip: `${live} could not be edited safely` };
    }
    const journalBytes = journalRead.bytes;
    const separator =
      journalBytes.length > 0 && journalBytes[journalBytes.length - 1] !== 0x0a
        ? "\n"
        : "";
    const appended = new TextEncoder().encode(
      separator + events.map((e) => `${JSON.stringify(e)}\n`).join(""),
    );
    const what = recovered.length === 1
      ? `turn ${recovered[0].evidence.turnId}'s user message`
      : `the user messages of ${recovered.length} turns`;
    return {
      repair: "recover_pending_turn",
      findingIds: recovered.map((f) => f.id),
      sessionId: id,
      summary: `Append ${what} and error markers to ${live}, and close ` +
        `${recovered.length === 1 ? "the turn" : "them"} in ${journal}.`,
      actions: [
        {
          op: "write",
          path: live,
          data: new TextEncoder().encode(edited),
          expect: liveRead.expect,
          note: `append ${
            recovered.length === 1
              ? "the recovered user message and the error marker"
              : `${recovered.length} recovered user messages and error markers`
          } to ${live}`,
          sources: [journal],
        },
        {
          op: "append",
          path: journal,
          data: appended,
          expect: journalRead.expect,
          note: `append ${
            recovered.length === 1
              ? `an interrupted event for turn ${recovered[0].evidence.turnId}`
              : `${recovered.length} interrupted events`
          } to ${journal}, in place under its lock`,
        },
      ],
    };
  },
});

/**
 * One pending turn: the user message and marker for the sidecar and the
 * event that closes it, or why it is left alone. Adds its text to `texts`,
 * so a second turn with the same message is not added twice.
 */
function planTurn(
  turn: TurnState,
  texts: Set<string>,
  nowSeconds: number,
  id: string,
  journal: string,
  live: string,
):
  | { messages: Record<string, unknown>[]; event: Record<string, unknown> }
  | { skip: string } {
  const turnId = turn.turnId;
  if (isTerminalEvent(turn.latest)) {
    return { skip: `turn ${turnId} is no longer pending` };
  }
  const content = eventText(turn.latest.content);
  if (!pyStrip(content) || texts.has(pyStrip(content))) {
    return { skip: `the turn's message is already in ${live}` };
  }
  const createdAt = typeof turn.latest.created_at === "number" &&
      Number.isFinite(turn.latest.created_at)
    ? turn.latest.created_at
    : nowSeconds;
  const userMessage: Record<string, unknown> = {
    role: "user",
    content: turn.latest.content,
    timestamp: createdAt,
    _recovered: true,
  };
  const attachments = turn.latest.attachments;
  if (Array.isArray(attachments) && attachments.length > 0) {
    userMessage.attachments = attachments;
  }
  // A value of the event nested too deep to write (the content or the
  // attachments of a hostile line): the turn stays in the journal.
  if (nestedDeeperThan(userMessage, MAX_WRITE_DEPTH)) {
    return {
      skip:
        `turn ${
          shortText(turnId)
        } in ${journal} holds a value nested too deep to write into ${live}; ` +
        `copy its message into the session by hand`,
    };
  }
  texts.add(pyStrip(content));
  const marker = {
    role: "assistant",
    content: INCOMPLETE_TURN_MARKER,
    timestamp: Math.trunc(nowSeconds),
    _error: true,
  };
  // The closing event must sort after every event of the turn, even one
  // stamped in the future by a skewed clock.
  const closedAt = Math.max(nowSeconds, turn.maxCreatedAt ?? -Infinity);
  return {
    messages: [userMessage, marker],
    event: {
      version: 1,
      event: "interrupted",
      turn_id: turnId,
      session_id: id,
      stream_id: turn.latest.stream_id ?? null,
      created_at: closedAt,
      reason: RECOVERY_REASON,
    },
  };
}
