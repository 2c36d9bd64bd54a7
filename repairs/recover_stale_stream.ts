/**
 * `recover_stale_stream`: closes a turn a stopped server left streaming as
 * the server of the sidecar's era closes it on load (core/journal/stale_recovery.ts).
 * For today's sidecars that is `_repair_stale_pending`: a run whose own
 * journal says it completed is closed without a marker; otherwise the
 * pending prompt is kept (in `messages` and `context_messages`), the run
 * journal's output is recovered into the sidecar, and the `interrupted`
 * marker closes the turn, armed for the server's lazy retry when no output
 * was recovered, so `active_stream_id` (the only link to the run journal)
 * is never cleared while output could still be recovered. A sidecar only
 * the seed-era server (G0) wrote gets that server's marker. Only with
 * `--server-stopped`, past the 30-second grace, and never for a
 * compression parent. The sidecar is edited in place: every byte outside
 * the values it changes stays as the server wrote it.
 *
 * @example
 * ```ts
 * import { recoverStaleStream } from "./recover_stale_stream.ts";
 * import type { Finding } from "../core/report/finding.ts";
 * import type { RepairContext } from "../core/plugins/repair.ts";
 * declare const finding: Finding;
 * declare const context: RepairContext;
 * const plan = await recoverStaleStream.plan([finding], context);
 * ```
 * @module
 */

import { namedProfileHome, profileOf } from "../core/store/profile_home.ts";
import { join } from "../core/io/path.ts";
import {
  compressionParentReason,
  hasStreamState,
  pendingAgeSeconds,
  STALE_PENDING_GRACE_SECONDS,
} from "../core/journal/stream_state.ts";
import { parseJsonBytes, readRegularFile } from "../core/io/file_read.ts";
import { defineRepair, type PlanSkip } from "../core/plugins/repair.ts";
import { isValidSessionId } from "../core/store/session_id.ts";
import { isPlainObject } from "../core/store/sidecar_summary.ts";
import { DEFAULT_MAX_FILE_BYTES } from "../core/scan/snapshot.ts";
import { sidecarName } from "../core/store/layout.ts";
import { isSeedShaped } from "../core/store/sidecar_era.ts";
import {
  closeStaleTurn,
  type CoreTranscript,
  type StaleOutcome,
} from "../core/journal/stale_recovery.ts";
import { editSidecarText } from "../core/store/sidecar_edit.ts";
import { readStreamJournal } from "../core/journal/stream_journal.ts";
import { workingCopy } from "../core/journal/journal_output.ts";
import { closeHealedTurn } from "../core/state_db/state_db_heal.ts";
import { webuiRowFor } from "../core/state_db/profile_state_db.ts";

/** The `recover_stale_stream` repair. */
export const recoverStaleStream = defineRepair({
  id: "recover_stale_stream",
  title: "Finish a turn a stopped server left streaming",
  description:
    "Closes the turn as the server does on load: keeps the pending prompt, " +
    "recovers the run journal's output, adds the interrupted marker (none " +
    "for a run that completed), and clears the stream state; only with " +
    "--server-stopped.",
  fixes: [
    "stale_stream_state",
    "stale_stream_unrecovered_output",
    "stream_run_completed",
    "state_db_heal_drops_run_output",
  ],
  scope: "session",
  async plan(findings, context) {
    if (!context.options.serverStopped) {
      return {
        skip: "--server-stopped was not given, so a server may still own " +
          "the stream",
      };
    }
    const id = findings[0]?.sessionId;
    if (!id || findings.some((f) => f.sessionId !== id)) {
      return { skip: "the findings name no single session" };
    }
    if (!isValidSessionId(id)) return { skip: "the session id is not valid" };
    const name = sidecarName(id);
    const read = await context.read(name);
    if (!read.ok) return { skip: `${name} ${read.problem}` };
    if (!read.bytes) return { skip: `${name} is gone` };
    const parsed = parseJsonBytes(read.bytes);
    if (!parsed.ok || !isPlainObject(parsed.value)) {
      return { skip: `${name} no longer parses as a session` };
    }
    const doc = parsed.value;
    if (!hasStreamState(doc)) {
      return { skip: `${name} no longer has stream state` };
    }
    const nowMs = context.options.now;
    if (
      pendingAgeSeconds(doc.pending_started_at, nowMs) <
        STALE_PENDING_GRACE_SECONDS
    ) {
      return {
        skip: `the turn began less than ${STALE_PENDING_GRACE_SECONDS} s ago`,
      };
    }
    const parent = compressionParentReason(doc, id, context.store);
    if (parent) {
      return {
        skip: `${name} is a compression parent (${parent}); its ` +
          "continuation owns the turn",
      };
    }
    if (!Array.isArray(doc.messages)) {
      return { skip: `${name} has no messages list` };
    }
    const journal = await readStreamJournal(
      context.store.sessionDir,
      id,
      doc.active_stream_id,
    );
    if ("skip" in journal) return journal;
    // state.db ahead: the server's heal, plus the journal's output it drops.
    let rows: Record<string, unknown>[] | null = null;
    if (findings.some((f) => f.kind === "state_db_heal_drops_run_output")) {
      const found = webuiRowFor(context.store, id);
      if (!found?.db.canCountMessages) {
        return { skip: `state.db's rows of ${id} can no longer be read` };
      }
      rows = found.db.transcriptFor(found.row);
    }
    let core: CoreTranscript | null = null;
    if (doc.messages.length === 0 && rows === null) {
      const found = await findCoreTranscript(
        context.store.hermesHome,
        id,
        doc.profile,
        context.store.profileDbs?.base ?? null,
      );
      if (found && "skip" in found) return found;
      core = found;
    }
    const era = isSeedShaped(doc, id) && journal.output === null &&
        !journal.exists
      ? "g0"
      : "head";
    const nowSeconds = nowMs / 1000;
    const tooDeep = {
      skip: `${name} holds a pending message (or a transcript or run ` +
        "output) nested too deep to write back; finish the turn by hand",
    };
    let outcome: StaleOutcome;
    let text: string | null;
    let after: Record<string, unknown> = workingCopy(
      doc as typeof doc & { messages: unknown[] },
    );
    try {
      if (rows !== null) {
        const closed = closeHealedTurn(doc, rows, journal.output, nowSeconds);
        if ("skip" in closed) {
          return {
            skip: `the server's state.db heal of ${name} cannot be rebuilt ` +
              `here (${closed.skip}); start the server, which heals it`,
          };
        }
        if (!closed.outcome.recoveredOutput) {
          return {
            skip: "state.db now holds all of the run journal's output; " +
              "the server's own heal loses nothing",
          };
        }
        after = closed.after;
        outcome = closed.outcome;
      } else {
        outcome = closeStaleTurn(
          after as typeof after & { messages: unknown[] },
          {
            era,
            journal: journal.output,
            core,
            nowSeconds,
          },
        );
      }
      // As Session.save() after the server's repair: updated_at touched,
      // the persisted message_count kept equal to the messages. Keys the
      // file lacks stay absent (the server's defaults for them are the
      // cleared values), except context_messages, which the server's save
      // writes once it holds the recovered turn.
      for (
        const key of [
          "pending_attachments",
          "pending_started_at",
          "pending_user_source",
        ]
      ) {
        if (!(key in doc)) delete after[key];
      }
      if ("updated_at" in doc) after.updated_at = nowSeconds;
      if ("message_count" in doc) {
        after.message_count = (after.messages as unknown[]).length;
      }
      if (
        !("tool_calls" in doc) && Array.isArray(after.tool_calls) &&
        after.tool_calls.length === 0
      ) delete after.tool_calls;
      text = editSidecarText(new TextDecoder().decode(read.bytes), doc, after);
    } catch (error) {
      // Written indented, a value nested 100,000 deep overflows the stack.
      if (!(error instanceof RangeError)) throw error;
      return tooDeep;
    }
    if (text === null) return { skip: `${name} could not be edited safely` };
    return {
      repair: "recover_stale_stream",
      findingIds: findings.map((f) => f.id),
      sessionId: id,
      summary: `Recover ${name}: ${describe(outcome, core, journal.name)}.`,
      actions: [{
        op: "write",
        path: name,
        data: new TextEncoder().encode(text),
        expect: read.expect,
        note: `finish the stale stream of ${name}`,
        // Run output is as private as its journal (0600).
        ...(journal.name ? { sources: [journal.name] } : {}),
      }],
    };
  },
});

function describe(
  outcome: StaleOutcome,
  core: CoreTranscript | null,
  journalName: string | null,
): string {
  const marker = {
    g0: 'add the marker "Previous turn did not complete."',
    recovered: "add the interrupted marker (partial output recovered)",
    retry: "add the interrupted marker armed for the server's retry of the " +
      "run journal",
    none: "add the interrupted marker",
  };
  return [
    outcome.fromStateDb
      ? "merge state.db's newer rows as the server's heal does"
      : "",
    outcome.fromCore && core
      ? `take ${core.messages.length} messages from the core transcript ${core.path}`
      : "",
    outcome.completed ? `close the run ${journalName} completed` : "",
    outcome.promptAdded ? "append the pending prompt" : "",
    outcome.recoveredOutput
      ? `recover the run's output from ${journalName}`
      : "",
    outcome.gatewayError
      ? `recover the run's gateway error from ${journalName}`
      : "",
    outcome.marker ? marker[outcome.marker] : "",
    "clear the stream state",
  ].filter(Boolean).join(", ");
}

/**
 * The agent's core transcript of a session, when one with messages exists:
 * `$HERMES_HOME/sessions/session_<sid>.json`, or the named profile's home
 * below `profiles/` first. Read directly and read-only: it lies outside the
 * session dir and is never written. One that exists but cannot be read is
 * a skip, since the session's conversation may be in it.
 */
async function findCoreTranscript(
  hermesHome: string | null,
  id: string,
  profile: unknown,
  profilesBase: string | null,
): Promise<CoreTranscript | PlanSkip | null> {
  if (hermesHome === null) {
    return {
      skip: "the session has no messages and the agent's home is not " +
        "known, so its core transcript cannot be consulted",
    };
  }
  const file = `session_${id}.json`;
  const paths = [join(hermesHome, "sessions", file)];
  // Only a name that passes the server's profile rule becomes a path.
  const named = profileOf(profile);
  if (named !== null) {
    paths.unshift(
      join(
        namedProfileHome(profilesBase ?? hermesHome, named),
        "sessions",
        file,
      ),
    );
  }
  for (const path of paths) {
    const read = await readRegularFile(path, DEFAULT_MAX_FILE_BYTES);
    if (!read.ok) {
      if (read.problem.reason === "missing") continue;
      return {
        skip: `the core transcript ${path} ${read.problem.detail}, and the ` +
          "session's messages may be in it",
      };
    }
    const parsed = parseJsonBytes(read.value);
    if (!parsed.ok || !isPlainObject(parsed.value)) {
      return {
        skip: `the core transcript ${path} ${
          parsed.ok ? "is not a JSON object" : parsed.problem.detail
        }, and the session's messages may be in it`,
      };
    }
    const messages = parsed.value.messages;
    if (Array.isArray(messages) && messages.length > 0) {
      return { path, doc: parsed.value, messages };
    }
  }
  return null;
}
