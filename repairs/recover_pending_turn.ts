/**
 * `recover_pending_turn`: a submitted user turn that only the journal has
 * is appended to the sidecar (marked `_recovered`), followed by the
 * assistant marker "**Previous turn did not complete.**" (`_error`); then an
 * `interrupted` event for the turn is appended to the journal so a second
 * run finds nothing. It never invents an assistant answer. The sidecar is
 * edited in place, byte for byte, except where the messages go.
 *
 * @example
 * ```ts
 * import { recoverPendingTurn } from "./recover_pending_turn.ts";
 * const plan = await recoverPendingTurn.plan([finding], context);
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
import { isTerminalEvent, summarizeJournal } from "../core/turn_journal.ts";

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
  scope: "finding",
  async plan([finding], context) {
    const id = finding.sessionId;
    const turnId = finding.evidence.turnId;
    if (!id || typeof turnId !== "string") {
      return { skip: "the finding names no turn" };
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
    const turn = summarizeJournal(journalRead.bytes).turns.get(turnId);
    if (!turn || isTerminalEvent(turn.latest)) {
      return { skip: `turn ${turnId} is no longer pending` };
    }
    const content = eventText(turn.latest.content);
    const texts =
      summarizeSidecar(parsed.value, { collectUserTexts: true }).userTexts;
    if (!pyStrip(content) || texts?.has(pyStrip(content))) {
      return { skip: `the turn's message is already in ${live}` };
    }
    const nowSeconds = context.options.now / 1000;
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
    const marker = {
      role: "assistant",
      content: INCOMPLETE_TURN_MARKER,
      timestamp: Math.trunc(nowSeconds),
      _error: true,
    };
    const text = new TextDecoder().decode(liveRead.bytes);
    // A value of the event nested too deep to write (the content or the
    // attachments of a hostile line): the turn stays in the journal.
    const tooDeep = {
      skip:
        `turn ${
          shortText(turnId)
        } in ${journal} holds a value nested too deep to write into ${live}; ` +
        `copy its message into the session by hand`,
    };
    if (nestedDeeperThan(userMessage, MAX_WRITE_DEPTH)) return tooDeep;
    let edited: string | null;
    try {
      edited = appendToTopLevelArray(text, "messages", [userMessage, marker]);
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      return tooDeep;
    }
    if (edited === null) {
      return { skip: `${live} has no messages array to append to` };
    }
    const check = JSON.parse(edited);
    if (
      !Array.isArray(check.messages) ||
      check.messages.length !== parsed.value.messages.length + 2
    ) {
      return { skip: `${live} could not be edited safely` };
    }
    // The closing event must sort after every event of the turn, even one
    // stamped in the future by a skewed clock.
    const closedAt = Math.max(nowSeconds, turn.maxCreatedAt ?? -Infinity);
    const event = {
      version: 1,
      event: "interrupted",
      turn_id: turnId,
      session_id: id,
      stream_id: turn.latest.stream_id ?? null,
      created_at: closedAt,
      reason: RECOVERY_REASON,
    };
    const journalBytes = journalRead.bytes;
    const separator =
      journalBytes.length > 0 && journalBytes[journalBytes.length - 1] !== 0x0a
        ? "\n"
        : "";
    const appended = new TextEncoder().encode(
      `${separator}${JSON.stringify(event)}\n`,
    );
    const newJournal = new Uint8Array(journalBytes.length + appended.length);
    newJournal.set(journalBytes);
    newJournal.set(appended, journalBytes.length);
    return {
      repair: "recover_pending_turn",
      findingIds: [finding.id],
      sessionId: id,
      summary:
        `Append turn ${turnId}'s user message and an error marker to ${live}, ` +
        `and close the turn in ${journal}.`,
      actions: [
        {
          op: "write",
          path: live,
          data: new TextEncoder().encode(edited),
          expect: liveRead.expect,
          note:
            `append the recovered user message and the error marker to ${live}`,
          sources: [journal],
        },
        {
          op: "write",
          path: journal,
          data: newJournal,
          expect: journalRead.expect,
          note: `append an interrupted event for turn ${turnId} to ${journal}`,
        },
      ],
    };
  },
});
