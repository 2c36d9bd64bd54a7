/**
 * `recover_pending_turn`: a submitted user turn that only the journal has
 * is appended to the sidecar as the server recovers a prompt of a dead
 * stream: a `_recovered` user row (also in `context_messages`, which the
 * model's next turn reads), the output its run left in the run journal if
 * any, and today's `interrupted` marker (cause `process_restart`); a
 * sidecar only the seed-era server (G0) wrote gets that server's marker
 * "**Previous turn did not complete.**" instead. Then an `interrupted`
 * event for the turn is appended to the turn journal so a second run finds
 * nothing. It never invents an assistant answer. The sidecar is edited in
 * place, byte for byte, except where the values change. Only with
 * `--server-stopped`: without it a pending turn may be one a server is
 * streaming right now. All pending turns of a session are one plan: one
 * write of the sidecar and one append to the journal (an append in place,
 * under the journal's lock, never a rename: the server may hold it open).
 * The journal is read as the server reads it, every `<sid>~<pid>.jsonl`
 * shard and the legacy `<sid>.jsonl` merged; the append goes to the legacy
 * file when it exists (every version reads it, and reads it last), else to
 * the shard the server reads last, stamped after every event of the turn so
 * the server's merged view ends the turn whatever file it is in.
 *
 * @example
 * ```ts
 * import { recoverPendingTurn } from "./recover_pending_turn.ts";
 * import type { Finding } from "../core/report/finding.ts";
 * import type { RepairContext } from "../core/plugins/repair.ts";
 * declare const findingsOfOneSession: Finding[];
 * declare const context: RepairContext;
 * const plan = await recoverPendingTurn.plan(findingsOfOneSession, context);
 * ```
 * @module
 */

import { eventText } from "../core/journal/turn_journal.ts";
import { parseJsonBytes } from "../core/io/file_read.ts";
import { defineRepair, type PlanRead } from "../core/plugins/repair.ts";
import {
  isPlainObject,
  pyStrip,
  summarizeSidecar,
} from "../core/store/sidecar_summary.ts";
import {
  g0Marker,
  interruptedMarker,
  type MarkerOutcome,
} from "../core/journal/interrupted_marker.ts";
import {
  appendRecoveredToContext,
  normalizedText,
  type RecoverySession,
} from "../core/journal/recovered_context.ts";
import { hasStreamState } from "../core/journal/stream_state.ts";
import {
  recoverJournaled,
  workingCopy,
} from "../core/journal/journal_output.ts";
import { isSeedShaped } from "../core/store/sidecar_era.ts";
import { editSidecarText } from "../core/store/sidecar_edit.ts";
import {
  readStreamJournal,
  type StreamJournal,
} from "../core/journal/stream_journal.ts";
import { sidecarName } from "../core/store/layout.ts";
import { journalFilesOf } from "../core/journal/turn_journal_files.ts";
import { isValidSessionId } from "../core/store/session_id.ts";
import type { Expectation } from "../core/plugins/action.ts";
import { shortText } from "../core/report/shown_value.ts";
import { MAX_WRITE_DEPTH, nestedDeeperThan } from "../core/json/nesting.ts";
import {
  createdAtKey,
  isTerminalEvent,
  summarizeJournal,
  type TurnState,
} from "../core/journal/turn_journal.ts";
import type { Finding } from "../core/report/finding.ts";

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
    // A journal id may hold '.'; only one that passes the sidecar rule is
    // written into a path, and only such a session has a sidecar.
    if (!isValidSessionId(id)) {
      return {
        skip: `the journal id ${
          shortText(id)
        } is no sidecar id, so no session can take the turn`,
      };
    }
    const live = sidecarName(id);
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
    // The journal as the server reads it now: every shard, then the legacy
    // file, each read once more and merged in that order.
    const names = journalFilesOf(context.store.sessionDir, id);
    if (names.length === 0) return { skip: `the journal of ${id} is gone` };
    const turns = new Map<string, TurnState>();
    const reads: Extract<PlanRead, { ok: true }>[] = [];
    for (const [file, name] of names.entries()) {
      const read = await context.read(name);
      if (!read.ok) return { skip: `${name} ${read.problem}` };
      if (!read.bytes || !read.expect.exists) {
        return { skip: `${name} is gone` };
      }
      summarizeJournal(read.bytes, { file, turns });
      reads.push(read);
    }
    // The legacy file when there is one, which every version reads and
    // which the server reads last; else the shard it reads last. Appended
    // in place, under the lock the server's appends take.
    const journal = names[names.length - 1];
    const journalRead = reads[reads.length - 1];
    const texts =
      summarizeSidecar(parsed.value, { collectUserTexts: true }).userTexts ??
        new Set<string>();
    const nowSeconds = context.options.now / 1000;
    const doc = parsed.value as RecoverySession;
    const seedEra = isSeedShaped(doc, id);
    const after = workingCopy(doc);
    const events: Record<string, unknown>[] = [];
    const recovered: Finding[] = [];
    const skips: string[] = [];
    const journals: string[] = [];
    for (const finding of findings) {
      const turnId = finding.evidence.turnId;
      const turn = typeof turnId === "string" ? turns.get(turnId) : undefined;
      // The turn the sidecar still streams is the stale stream's: that
      // repair closes it as the server does (run output, marker), once.
      const streamed = turn && hasStreamState(doc) &&
        normalizedText(eventText(turn.latest.content)) ===
          normalizedText(doc.pending_user_message);
      const planned = !turn
        ? { skip: "the finding names no turn of the journal" }
        : streamed
        ? {
          skip: `${live} still streams this turn; recover_stale_stream ` +
            "closes it",
        }
        : planTurn(turn, texts, nowSeconds, id, journal, live);
      if ("skip" in planned) {
        skips.push(planned.skip);
        continue;
      }
      // The output the turn's run journaled, as a dead stream's is
      // recovered (only where a later server than the seed's wrote the
      // sidecar: the seed had no run journal).
      let run: StreamJournal = { output: null, exists: false, name: null };
      const streamId = turn!.latest.stream_id;
      if (!seedEra && typeof streamId === "string") {
        const read = await readStreamJournal(
          context.store.sessionDir,
          id,
          streamId,
        );
        if ("skip" in read) {
          skips.push(read.skip);
          continue;
        }
        run = read;
      }
      after.messages.push(planned.message);
      if (seedEra) {
        after.messages.push(g0Marker(nowSeconds));
      } else {
        appendRecoveredToContext(after, planned.message);
        const stream = typeof streamId === "string" ? streamId : null;
        const [output, error] = recoverJournaled(
          after,
          run.output,
          stream,
          null,
          { dedupeExisting: false, nowSeconds },
        );
        if (run.name && (output || error)) journals.push(run.name);
        const outcome: MarkerOutcome = output ? "recovered" : "none";
        after.messages.push(interruptedMarker({
          outcome,
          cause: "process_restart",
          nowSeconds,
          streamId: stream,
        }));
      }
      events.push(planned.event);
      recovered.push(finding);
    }
    if (recovered.length === 0) return { skip: skips[0] ?? "nothing to do" };
    if ("message_count" in doc) after.message_count = after.messages.length;
    const text = new TextDecoder().decode(liveRead.bytes);
    let edited: string | null;
    try {
      edited = editSidecarText(text, doc, after);
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      return {
        skip: `a turn in ${journal} holds a value nested too deep to write ` +
          `into ${live}; copy its message into the session by hand`,
      };
    }
    if (edited === null) {
      return { skip: `${live} could not be edited safely` };
    }
    const journalBytes = journalRead.bytes!;
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
          sources: [...names, ...journals],
        },
        {
          op: "append",
          path: journal,
          data: appended,
          expect: journalRead.expect as Expectation & { exists: true },
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
  | { message: Record<string, unknown>; event: Record<string, unknown> }
  | { skip: string } {
  const turnId = turn.turnId;
  if (isTerminalEvent(turn.latest)) {
    return { skip: `turn ${turnId} is no longer pending` };
  }
  const content = eventText(turn.latest.content);
  if (!pyStrip(content) || texts.has(pyStrip(content))) {
    return { skip: `the turn's message is already in ${live}` };
  }
  const stamped = createdAtKey(turn.latest.created_at);
  const createdAt = stamped.readable && turn.latest.created_at !== null &&
      Number.isFinite(stamped.key)
    ? stamped.key
    : nowSeconds;
  const userMessage: Record<string, unknown> = {
    role: "user",
    content: turn.latest.content,
    // As the server stamps a recovered prompt: int() of its start time.
    timestamp: Math.trunc(createdAt),
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
  // The closing event must sort after every event of the turn, even one
  // stamped in the future by a skewed clock, and strictly: then it decides
  // the turn whichever file it is in and however the shards are listed.
  const closedAt = turn.maxCreatedAt < nowSeconds
    ? nowSeconds
    : nextAfter(turn.maxCreatedAt);
  if (!Number.isFinite(closedAt)) {
    return {
      skip: `turn ${
        shortText(turnId)
      } in ${journal} is stamped at the end of time, so no event can close it`,
    };
  }
  return {
    message: userMessage,
    event: {
      version: 1,
      event: "interrupted",
      turn_id: turnId,
      session_id: id,
      stream_id: turn.latest.stream_id ?? null,
      created_at: closedAt,
      reason: RECOVERY_REASON,
      // As the server marks its terminal events since v0.51.255 (older
      // servers ignore the key).
      terminal: true,
    },
  };
}

/** The least double above `x` (for x finite and not negative zero). */
function nextAfter(x: number): number {
  if (!Number.isFinite(x)) return x;
  if (x === 0) return Number.MIN_VALUE;
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  view.setBigUint64(0, x > 0 ? bits + 1n : bits - 1n);
  return view.getFloat64(0);
}
