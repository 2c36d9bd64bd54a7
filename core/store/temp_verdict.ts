/**
 * What a leftover temp file is, decided in one place: by the `temp-files`
 * check on the scan, and again by the repairs on the files as they are when
 * they plan. A temp is young (maybe a save in progress), stale and
 * redundant, the newest save interrupted before its rename, or stale but
 * holding messages nothing else has.
 *
 * @example
 * ```ts
 * import { judgeTemp, tempFactsOf } from "./temp_verdict.ts";
 * import type { StoreSnapshot } from "../scan/store_snapshot.ts";
 * import type { CheckOptions } from "../plugins/check.ts";
 * declare const options: CheckOptions;
 * declare const store: StoreSnapshot;
 * for (const temp of store.temps) {
 *   const facts = tempFactsOf(store, temp);
 *   if (facts) console.log(temp.name, judgeTemp(facts, options).kind);
 * }
 * ```
 * @module
 */

import type { CheckOptions } from "../plugins/check.ts";
import type { Parsed } from "../io/file_read.ts";
import { intentionalShrinkGuard } from "./shrink_guards.ts";
import { type SidecarSummary, toTimestamp } from "./sidecar_summary.ts";
import type { ScannedFile, StoreSnapshot, TempFile } from "../scan/snapshot.ts";
import {
  deletion,
  messageCountOf,
  stateDbKnowsSession,
} from "../scan/store_facts.ts";
import type { TempOrigin } from "./layout.ts";
import { isParseProblem } from "../scan/parse_problem.ts";

/** Temps older than this are stale: the server's own cleanup age, one hour. */
export const STALE_TEMP_AGE_MS = 60 * 60 * 1000;

/** The live sidecar of a temp's session, as far as the verdict needs it. */
export type LiveState =
  | { state: "missing" }
  /** Exists but cannot be read (not a regular file, permissions, size). */
  | { state: "unreadable" }
  /** Read, but not JSON. */
  | { state: "unparsable" }
  | { state: "parsed"; summary: SidecarSummary; mtimeMs: number };

/** Everything the verdict on one temp depends on. */
export interface TempFacts {
  /** Name in the session dir. */
  name: string;
  origin: TempOrigin;
  sessionId?: string;
  /** Its mtime, in ms since the epoch. */
  mtimeMs: number;
  /** False for a symlink, dir or special file with a temp's name. */
  regularFile: boolean;
  /** Its content summarized like a sidecar; absent for temps not read. */
  content?: Parsed<SidecarSummary>;
  live: LiveState;
  /** Messages of the session's `.bak`, -1 when missing or unusable. */
  bakMessages: number;
  deletion: "deleted" | "not_deleted" | "unknown";
  /** Null when state.db exists but cannot be read (see store_facts.ts). */
  stateDbKnowsSession: boolean | null;
}

/** The kinds a temp can be reported as. */
export type TempKind =
  | "young_temp"
  | "stale_temp"
  | "interrupted_save"
  | "stale_temp_needs_review";

/** The verdict on one temp. */
export interface TempVerdict {
  kind: TempKind;
  /** Age in ms (negative for an mtime in the future). */
  ageMs: number;
  /** Messages of the session it names, -1 when it holds none of its own. */
  tempMessages: number;
  /** For `stale_temp_needs_review`: why it is neither promoted nor removed. */
  reason?: string;
  /** For `stale_temp` of a temp with more messages: the guard that holds. */
  guard?: string;
}

/**
 * Judges a temp. `options.now` gives its age; with `serverStopped` no save
 * can be in progress, so server temps of any age are judged as stale ones
 * (hermes-fsck's own temps still wait the hour: another repair run may be
 * writing them).
 *
 * @example
 * ```ts
 * import { type TempFacts, judgeTemp } from "./temp_verdict.ts";
 * declare const facts: TempFacts;
 * judgeTemp(facts, { now: Date.now(), serverStopped: false }).kind; // "young_temp"
 * ```
 */
export function judgeTemp(
  facts: TempFacts,
  options: CheckOptions,
): TempVerdict {
  const ageMs = options.now - facts.mtimeMs;
  const tempMessages = ownMessageCount(facts);
  const verdict = (kind: TempKind, extra: Partial<TempVerdict> = {}) => ({
    kind,
    ageMs,
    tempMessages,
    ...extra,
  });
  if (!facts.regularFile) {
    return verdict("stale_temp_needs_review", {
      reason: "it is not a regular file, so hermes-fsck does not remove it",
    });
  }
  const mayBeInFlight = !(options.serverStopped &&
    facts.origin !== "hermes_fsck");
  if (ageMs <= STALE_TEMP_AGE_MS && mayBeInFlight) {
    return verdict("young_temp");
  }
  if (facts.content && !facts.content.ok) {
    if (!isParseProblem(facts.content.problem)) {
      return verdict("stale_temp_needs_review", {
        reason: `it ${facts.content.problem.detail}`,
      });
    }
  }
  const liveMessages = facts.live.state === "parsed"
    ? facts.live.summary.messageCount
    : -1;
  if (tempMessages <= liveMessages) return verdict("stale_temp");
  // It holds more messages than the live file.
  const temp = (facts.content as { ok: true; value: SidecarSummary }).value;
  const guard = facts.live.state === "parsed"
    ? intentionalShrinkGuard(facts.live.summary, temp)
    : null;
  if (guard) return verdict("stale_temp", { guard });
  const blocker = facts.origin === "sidecar_save"
    ? promotionBlocker(facts, temp)
    : "only the temp of a sidecar save is ever promoted";
  if (!blocker) return verdict("interrupted_save");
  if (tempMessages <= facts.bakMessages) return verdict("stale_temp");
  return verdict("stale_temp_needs_review", { reason: blocker });
}

/** What wrote each kind of temp, for messages. */
export const ORIGIN_NAMES: Record<TempOrigin, string> = {
  sidecar_save: "sidecar save",
  backup_save: "backup write",
  index_save: "index write",
  recover: "recovery",
  reconcile: "reconcile",
  hermes_fsck: "hermes-fsck",
};

/** Messages the temp holds for the session its name gives, else -1. */
function ownMessageCount(facts: TempFacts): number {
  const content = facts.content;
  if (!content?.ok || content.value.shape !== "object") return -1;
  if (content.value.meta.session_id !== facts.sessionId) return -1;
  return content.value.messageCount;
}

/**
 * Why an interrupted save must not be promoted, or null when it may: it
 * must not resurrect a deleted session, replace a file it cannot read, or
 * roll back a live file saved after it.
 */
function promotionBlocker(
  facts: TempFacts,
  temp: SidecarSummary,
): string | null {
  const live = facts.live;
  if (live.state === "unreadable") {
    return "the live file cannot be read, so it is never replaced";
  }
  if (facts.deletion === "deleted") {
    return "the session is in the delete tombstone";
  }
  if (facts.deletion === "unknown") {
    return "the delete tombstone cannot be read, so the session may have been deleted";
  }
  if (live.state === "missing" && facts.stateDbKnowsSession === null) {
    return "the live file is missing and state.db cannot be read, so the session may have been deleted";
  }
  if (live.state === "missing" && !facts.stateDbKnowsSession) {
    return "the live file is missing and state.db no longer has the session (likely deleted)";
  }
  if (live.state === "parsed" && savedBefore(facts, temp, live)) {
    return "the live file was saved after it";
  }
  return null;
}

/**
 * True when the live file is newer than the temp: by `updated_at`, which a
 * byte copy keeps, else by mtime.
 */
function savedBefore(
  facts: TempFacts,
  temp: SidecarSummary,
  live: { summary: SidecarSummary; mtimeMs: number },
): boolean {
  const tempAt = toTimestamp(temp.meta.updated_at);
  const liveAt = toTimestamp(live.summary.meta.updated_at);
  if (tempAt !== null && liveAt !== null) return tempAt < liveAt;
  return facts.mtimeMs < live.mtimeMs;
}

/**
 * The facts of a temp as the scan saw it; null when it vanished between the
 * listing and its read (a save that finished).
 *
 * @example
 * ```ts
 * import { tempFactsOf } from "./temp_verdict.ts";
 * import type { StoreSnapshot } from "../scan/store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * const facts = tempFactsOf(store, store.temps[0]);
 * ```
 */
export function tempFactsOf(
  store: StoreSnapshot,
  temp: TempFile,
): TempFacts | null {
  if (!temp.identity) return null;
  if (temp.read && !temp.read.ok && temp.read.problem.reason === "missing") {
    return null;
  }
  const id = temp.sessionId;
  const session = id === undefined ? undefined : store.sessions.get(id);
  const facts: TempFacts = {
    name: temp.name,
    origin: temp.origin,
    mtimeMs: temp.identity.mtimeMs,
    regularFile: (temp.fileType ?? "file") === "file",
    live: liveStateOf(session?.live),
    bakMessages: messageCountOf(session?.backup),
    deletion: id === undefined ? "not_deleted" : deletion(store, id),
    stateDbKnowsSession: id === undefined || stateDbKnowsSession(store, id),
  };
  if (id !== undefined) facts.sessionId = id;
  if (temp.read) {
    facts.content = temp.read.ok
      ? { ok: true, value: temp.read.value }
      : { ok: false, problem: temp.read.problem };
  }
  return facts;
}

function liveStateOf(live: ScannedFile<SidecarSummary> | undefined): LiveState {
  if (!live) return { state: "missing" };
  const read = live.read;
  if (read.ok) {
    return {
      state: "parsed",
      summary: read.value,
      mtimeMs: read.identity.mtimeMs,
    };
  }
  if (read.problem.reason === "missing") return { state: "missing" };
  return isParseProblem(read.problem)
    ? { state: "unparsable" }
    : { state: "unreadable" };
}

/**
 * The temp of a session that a repair will promote over its live file, if
 * there is one.
 *
 * @example
 * ```ts
 * import { interruptedSaveOf } from "./temp_verdict.ts";
 * import type { StoreSnapshot, SessionFiles } from "../scan/store_snapshot.ts";
 * import type { CheckOptions } from "../plugins/check.ts";
 * declare const session: SessionFiles;
 * declare const options: CheckOptions;
 * declare const store: StoreSnapshot;
 * interruptedSaveOf(store, session.temps, options)?.name; // "abc.tmp.12.34"
 * ```
 */
export function interruptedSaveOf(
  store: StoreSnapshot,
  temps: readonly TempFile[],
  options: CheckOptions,
): TempFile | null {
  for (const temp of temps) {
    const facts = tempFactsOf(store, temp);
    if (facts && judgeTemp(facts, options).kind === "interrupted_save") {
      return temp;
    }
  }
  return null;
}
